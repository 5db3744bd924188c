// Manifests streamed from libyaml's events into the compact encoding (see yaml_compact.h).
#include "plumbline/core/yaml_compact.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "core/yaml_events.h"
#include "core/yaml_guards.h"
#include "core/yaml_scalar.h"
#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/path.h"

namespace plumbline {
namespace {

using compact_encoding::encode_value;
using compact_encoding::put_bytes;
using compact_encoding::put_varint;

// Thrown by the stream builder for input it leaves to the tree path.
struct TreePathNeeded {};

// The lists whose shape StreamedManifest::suspect_shape reports: containers by a string name;
// env entries by a string name and a string (or null) value. Any such field, at any depth.
enum class Checked { kNone, kContainers, kEnv };
Checked checked_list(std::string_view field) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers") {
    return Checked::kContainers;
  }
  return field == "env" ? Checked::kEnv : Checked::kNone;
}

class StreamBuilder : public YAML::EventHandler {
 public:
  struct Document {
    std::shared_ptr<const std::string> encoded;
    int line = 0;
    std::shared_ptr<const FieldOrigins> fields;
    bool needs_check = false;  // StreamedManifest::suspect_shape
  };

  // `lines_before`: the lines of the file before `text` (a part of it, split_yaml_stream).
  StreamBuilder(const std::string& file, int lines_before)
      : file_(file), lines_before_(lines_before) {}
  std::vector<Document>& documents() { return docs_; }

  void OnDocumentStart(const YAML::Mark&) override {
    depth_ = 0;
    has_root_ = false;
    needs_check_ = false;
    root_.clear();
    root_lines_.clear();
  }

  void OnDocumentEnd() override {
    if (!has_root_) return;  // an empty document
    std::string_view object = root_;
    auto text = [](std::string_view in, std::string_view key) {
      auto found = compact_encoding::string_member(in, key);
      return found && !found->empty();
    };
    // A List is expanded, and a broken identity named, by the tree path.
    auto kind = compact_encoding::string_member(object, "kind");
    auto meta = compact_encoding::member(object, "metadata");
    if (!text(object, "apiVersion") || !kind || kind->empty() || *kind == "List" || !meta ||
        !text(*meta, "name")) {
      throw TreePathNeeded{};
    }
    root_.shrink_to_fit();
    auto encoded = std::make_shared<const std::string>(std::move(root_));
    auto fields = std::make_shared<const FieldOrigins>(
        FieldOrigins::by_node(encoded, std::move(root_lines_), file_, line_));
    docs_.push_back({std::move(encoded), line_, std::move(fields), needs_check_});
    root_ = std::string();
    root_lines_ = std::string();
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor != 0 || key_expected()) throw TreePathNeeded{};
    add_scalar(mark, json(nullptr));
  }

  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { throw TreePathNeeded{}; }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (anchor != 0) throw TreePathNeeded{};
    if (key_expected()) {
      if (tag == "?" && value == "<<") throw TreePathNeeded{};  // a merge key
      Frame& top = frames_[depth_ - 1];
      top.key = value;
      top.has_key = true;
      return;
    }
    if (tag == "!") {
      add_scalar(mark, json(value));
    } else if (tag == "?") {
      add_scalar(mark, resolve_plain_scalar(value));
    } else {
      throw TreePathNeeded{};  // an explicit tag
    }
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Member {
    std::string key;
    size_t begin = 0, end = 0;              // its value's bytes in the frame's buffer
    size_t lines_begin = 0, lines_end = 0;  // its nodes' lines in the frame's lines
  };
  // An open collection. Frames are kept by depth and reused, so their buffers are allocated
  // once per file, not per node.
  struct Frame {
    bool is_map = false;
    std::string buffer;           // children encoded (a map's values; keys are in members)
    std::vector<Member> members;  // a map's
    size_t count = 0;             // a list's elements
    bool has_key = false;         // a map's pending key
    std::string key;
    // Field origins (FieldOrigins::by_node): the collection's line, and its children's lines
    // in the order of their encoding (a map's kept per member, ordered as its keys are).
    int line = 0;
    std::string lines;
    std::string_view element_key;           // a keyed list's element: the list's key field
    std::string parent_field, last_field;   // what path::list_rule reads, as from_pointer walks
    path::ListRule rule;                    // a list's
    Checked checked = Checked::kNone;       // a checked list, or an element of one
    bool elements_ok = true;                // a checked list: every element has the shape
    bool named = false, value_bad = false;  // an element: a string name; a non-string value
  };
  int line_of(const YAML::Mark& mark) const { return lines_before_ + mark.line + 1; }

  bool key_expected() const {
    return depth_ > 0 && frames_[depth_ - 1].is_map && !frames_[depth_ - 1].has_key;
  }

  // The key of the member being added to the map `top`, as a keyed element's key field.
  static bool is_element_key(const Frame& top) {
    return !top.element_key.empty() && top.key == top.element_key;
  }

  // A node's line, as its difference from its parent's (the collection `top`).
  static void put_line(const Frame& top, int line, std::string& lines) {
    compact_encoding::put_zigzag(lines, line - top.line);
  }

  void add_scalar(const YAML::Mark& mark, const json& value) {
    if (depth_ == 0) {
      if (!value.is_null()) throw TreePathNeeded{};  // a document that is one scalar
      return;                                        // an empty document
    }
    Frame& top = frames_[depth_ - 1];
    size_t lines_begin = top.lines.size();
    put_line(top, line_of(mark), top.lines);
    if (!top.is_map) {
      if (top.checked != Checked::kNone) top.elements_ok = false;
      encode_value(value, top.buffer);
      ++top.count;
      return;
    }
    if (top.checked != Checked::kNone) {
      if (top.key == "name") top.named = value.is_string();
      if (top.checked == Checked::kEnv && top.key == "value" && !value.is_string() &&
          !value.is_null()) {
        top.value_bad = true;
      }
    }
    if (checked_list(top.key) != Checked::kNone && !value.is_null()) needs_check_ = true;
    size_t begin = top.buffer.size();
    encode_value(value, top.buffer);
    top.members.push_back(
        {std::move(top.key), begin, top.buffer.size(), lines_begin, top.lines.size()});
    top.has_key = false;
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    if (anchor != 0 || key_expected()) throw TreePathNeeded{};
    if (depth_ == 0) {
      if (!is_map) throw TreePathNeeded{};  // a document that is a list
      has_root_ = true;
      line_ = line_of(mark);
    }
    if (depth_ == frames_.size()) frames_.emplace_back();
    Frame& frame = frames_[depth_];
    const Frame* top = depth_ > 0 ? &frames_[depth_ - 1] : nullptr;
    frame.is_map = is_map;
    frame.buffer.clear();
    frame.members.clear();
    frame.count = 0;
    frame.has_key = false;
    frame.line = line_of(mark);
    frame.lines.clear();
    frame.element_key = {};
    frame.checked = Checked::kNone;
    frame.elements_ok = true;
    frame.named = false;
    frame.value_bad = false;
    if (top == nullptr) {
      frame.parent_field.clear();
      frame.last_field.clear();
    } else if (top->is_map) {
      if (is_element_key(*top)) throw TreePathNeeded{};  // a key field that is a collection
      frame.parent_field = top->last_field;
      frame.last_field = top->key;
      Checked list = checked_list(top->key);
      if (list != Checked::kNone && is_map) needs_check_ = true;  // a map where a list goes
      if (!is_map) frame.checked = list;
    } else {
      frame.parent_field = top->parent_field;
      frame.last_field = top->last_field;
      if (top->checked != Checked::kNone && is_map) frame.checked = top->checked;
      if (is_map && top->rule.kind == path::ListKind::kKeyed) frame.element_key = top->rule.key;
    }
    frame.rule = is_map ? path::ListRule{} : path::list_rule(frame.parent_field, frame.last_field);
    ++depth_;
  }

  void close() {
    Frame& frame = frames_[--depth_];
    std::string& out = depth_ == 0 ? root_ : frames_[depth_ - 1].buffer;
    size_t begin = out.size();
    // The root's own line is the document's; every other node's is its parent's plus a delta.
    std::string& lines = depth_ == 0 ? root_lines_ : frames_[depth_ - 1].lines;
    size_t lines_begin = lines.size();
    if (depth_ > 0) put_line(frames_[depth_ - 1], frame.line, lines);
    if (frame.is_map) {
      if (frame.has_key) throw TreePathNeeded{};  // a key without a value
      std::sort(frame.members.begin(), frame.members.end(),
                [](const Member& a, const Member& b) { return a.key < b.key; });
      out.push_back(compact_encoding::kObject);
      put_varint(out, frame.members.size());
      for (size_t i = 0; i < frame.members.size(); ++i) {
        const Member& m = frame.members[i];
        if (i > 0 && m.key == frame.members[i - 1].key) throw TreePathNeeded{};  // duplicate
        put_bytes(out, m.key);
        out.append(frame.buffer, m.begin, m.end - m.begin);
        lines.append(frame.lines, m.lines_begin, m.lines_end - m.lines_begin);
      }
    } else {
      if (frame.checked != Checked::kNone && !frame.elements_ok) needs_check_ = true;
      out.push_back(compact_encoding::kArray);
      put_varint(out, frame.count);
      out.append(frame.buffer);
      lines.append(frame.lines);
    }
    if (depth_ == 0) return;
    Frame& top = frames_[depth_ - 1];
    if (!top.is_map) {
      ++top.count;
      if (top.checked != Checked::kNone && (!frame.is_map || !frame.named || frame.value_bad)) {
        top.elements_ok = false;
      }
      return;
    }
    if (top.checked == Checked::kEnv && top.key == "value") top.value_bad = true;
    if (top.checked != Checked::kNone && top.key == "name") top.named = false;
    top.members.push_back({std::move(top.key), begin, out.size(), lines_begin, lines.size()});
    top.has_key = false;
  }

  const std::string& file_;
  int lines_before_ = 0;
  std::vector<Frame> frames_;
  size_t depth_ = 0;
  bool has_root_ = false;
  bool needs_check_ = false;
  int line_ = 0;
  std::string root_;
  std::string root_lines_;  // the root's children's lines (FieldOrigins::by_node)
  std::vector<Document> docs_;
};

bool passes_guards(std::string_view text, const std::string& file) {
  return yaml_guards::check_no_nul(text, file).ok() && yaml_guards::check_utf8(text, file).ok() &&
         yaml_guards::check_flow_depth(text, file).ok();
}

// Parts read on their own give what the whole gives only where a cut cannot change how the
// text reads: a directive ("%YAML", "%TAG") belongs to the document after it, and line numbers
// are counted by '\n' here but libyaml also breaks lines at a lone '\r', NEL, LS and PS.
bool may_split(std::string_view text) {
  // A directive starts a line. Looked for by its '%' (rare in manifests), not by every line
  // break: a search for "\n%" stops at each of a large file's millions of lines.
  for (size_t at = text.find('%'); at != std::string_view::npos; at = text.find('%', at + 1)) {
    if (at == 0 || text[at - 1] == '\n') return false;
  }
  for (size_t at = text.find('\r'); at != std::string_view::npos; at = text.find('\r', at + 1)) {
    if (at + 1 == text.size() || text[at + 1] != '\n') return false;
  }
  // NEL (U+0085), LS (U+2028), PS (U+2029).
  return text.find("\xC2\x85") == std::string_view::npos &&
         text.find("\xE2\x80\xA8") == std::string_view::npos &&
         text.find("\xE2\x80\xA9") == std::string_view::npos;
}

// The start of the first document marker ("---" at the start of a line, then a blank or the
// end) at or after `from`, or npos.
size_t next_document_marker(std::string_view text, size_t from) {
  for (size_t at = text.find("\n---", from > 0 ? from - 1 : 0); at != std::string_view::npos;
       at = text.find("\n---", at + 1)) {
    size_t after = at + 4;
    if (after == text.size() || text[after] == ' ' || text[after] == '\t' || text[after] == '\n' ||
        text[after] == '\r') {
      return at + 1;
    }
  }
  return std::string_view::npos;
}

std::optional<std::vector<StreamedManifest>> stream_part(const YamlStreamPart& part,
                                                         const std::string& file) {
  StreamBuilder builder(file, part.lines_before);
  try {
    if (!yaml_events::parse(part.text, builder)) return std::nullopt;
  } catch (const TreePathNeeded&) {
    return std::nullopt;
  }
  std::vector<StreamedManifest> out;
  out.reserve(builder.documents().size());
  for (StreamBuilder::Document& doc : builder.documents()) {
    out.push_back({compact_encoding::manifest_from_encoding(
                       doc.encoded, SourceLocation{file, doc.line, 0}, std::move(doc.fields)),
                   doc.needs_check});
  }
  return out;
}

}  // namespace

std::vector<YamlStreamPart> split_yaml_stream(std::string_view text, size_t parts,
                                              size_t min_part_bytes) {
  std::vector<YamlStreamPart> out;
  parts = std::min(parts, text.size() / std::max<size_t>(min_part_bytes, 1));
  if (parts < 2 || !may_split(text)) return {{text, 0}};
  size_t begin = 0;
  int lines_before = 0;
  for (size_t k = 1; k < parts; ++k) {
    size_t cut = next_document_marker(text, std::max(begin + 1, text.size() / parts * k));
    if (cut == std::string_view::npos) break;
    out.push_back({text.substr(begin, cut - begin), lines_before});
    lines_before += static_cast<int>(std::count(text.begin() + static_cast<ptrdiff_t>(begin),
                                                text.begin() + static_cast<ptrdiff_t>(cut), '\n'));
    begin = cut;
  }
  out.push_back({text.substr(begin), lines_before});
  return out;
}

std::optional<std::vector<StreamedManifest>> stream_yaml_manifests(std::string_view text,
                                                                   const std::string& file,
                                                                   TaskRunner* tasks,
                                                                   size_t min_part_bytes) {
  if (!passes_guards(text, file)) return std::nullopt;
  // A few parts per thread, so that a thread that finishes first takes another.
  size_t concurrency = tasks != nullptr ? tasks->concurrency() : 1;
  std::vector<YamlStreamPart> parts =
      split_yaml_stream(text, concurrency > 1 ? concurrency * 4 : 1, min_part_bytes);
  if (parts.size() == 1) return stream_part(parts.front(), file);
  std::vector<std::optional<std::vector<StreamedManifest>>> read(parts.size());
  std::vector<std::function<void()>> work;
  for (size_t i = 0; i < parts.size(); ++i) {
    work.emplace_back([&, i] { read[i] = stream_part(parts[i], file); });
  }
  tasks->run(work);
  std::vector<StreamedManifest> out;
  for (auto& part : read) {
    if (!part) return std::nullopt;  // the whole text goes to the tree path
    std::move(part->begin(), part->end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace plumbline
