#include "plumbline/core/yaml.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <streambuf>

#include "core/yaml_events.h"
#include "core/yaml_guards.h"
#include "core/yaml_scalar.h"
#include "plumbline/core/path.h"

namespace plumbline {
namespace {

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (s == o) return true;
  }
  return false;
}

}  // namespace

json resolve_plain_scalar(const std::string& s) {
  if (s.empty() || is_one_of(s, {"~", "null", "Null", "NULL"})) return nullptr;
  if (is_one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return true;
  if (is_one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}))
    return false;
  const char c0 = s[0];
  if (!(std::isdigit(static_cast<unsigned char>(c0)) || c0 == '-' || c0 == '+' || c0 == '.')) {
    return s;
  }
  if (is_one_of(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return s;  // not JSON
  // Integers: decimal, 0x hex, 0o octal, and YAML 1.1 leading-zero octal.
  std::string body = s;
  bool negative = false;
  if (body[0] == '-' || body[0] == '+') {
    negative = body[0] == '-';
    body.erase(0, 1);
  }
  auto all = [&](size_t from, auto pred) {
    if (from >= body.size()) return false;
    for (size_t i = from; i < body.size(); ++i) {
      if (!pred(static_cast<unsigned char>(body[i]))) return false;
    }
    return true;
  };
  int base = 0;
  size_t start = 0;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') &&
      all(2, [](unsigned char ch) { return std::isxdigit(ch) != 0; })) {
    base = 16, start = 2;
  } else if (body.size() > 2 && body[0] == '0' && body[1] == 'o' &&
             all(2, [](unsigned char ch) { return ch >= '0' && ch <= '7'; })) {
    base = 8, start = 2;
  } else if (body.size() > 1 && body[0] == '0' &&
             all(1, [](unsigned char ch) { return ch >= '0' && ch <= '7'; })) {
    base = 8, start = 1;
  } else if (all(0, [](unsigned char ch) { return std::isdigit(ch) != 0; })) {
    base = 10;
  }
  if (base != 0) {
    errno = 0;
    char* end = nullptr;
    unsigned long long magnitude = std::strtoull(body.c_str() + start, &end, base);
    if (errno == 0 && *end == '\0' && magnitude <= 9223372036854775807ULL) {
      auto v = static_cast<long long>(magnitude);
      return negative ? -v : v;
    }
    return s;  // out of range: keep the text rather than lose precision
  }
  // Floats: digits with '.' and/or an exponent, nothing else.
  bool digit = false, dot = false, exp = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char ch = body[i];
    if (std::isdigit(static_cast<unsigned char>(ch)))
      digit = true;
    else if (ch == '.' && !dot && !exp)
      dot = true;
    else if ((ch == 'e' || ch == 'E') && digit && !exp && i + 1 < body.size()) {
      exp = true;
      if (body[i + 1] == '+' || body[i + 1] == '-') ++i;
    } else {
      return s;
    }
  }
  if (!digit || (!dot && !exp)) return s;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !std::isfinite(d)) return s;
  return d;
}

namespace {

std::string where(std::string_view file, const YAML::Mark& mark) {
  std::string out(file);
  if (mark.line >= 0)
    out += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return out;
}

// Thrown inside the event handler to stop yaml-cpp's parser; caught in parse_yaml_documents.
struct StopParse {
  Error error;
};

// Builds JSON documents straight from yaml-cpp's parse events. Event-driven rather than
// YAML::LoadAll because it lets us bound the work: yaml-cpp 0.7 loops forever, emitting
// events, on some inputs (a document starting with ',', found by fuzzing).
class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(std::string_view file, const YamlOptions& options, size_t input_size)
      : file_(file),
        options_(options),
        max_events_(3 * input_size + 64),
        max_cost_(options.max_memory + kFileCostFactor * input_size) {}

  std::vector<YamlDocument> take_documents() { return std::move(docs_); }

  void OnDocumentStart(const YAML::Mark& mark) override {
    count_event(mark);
    doc_ = YamlDocument{};
    doc_.location = {std::string(file_), mark.line >= 0 ? mark.line + 1 : 0, 0};
    lines_.clear();
    pointers_.clear();
    pointers_.push_back({});  // the root
    anchors_.clear();         // anchors are per document; the memory budget is per file
  }

  void OnDocumentEnd() override {
    count_event(YAML::Mark::null_mark());
    if (options_.field_origins && doc_.value.is_structured()) {
      std::vector<Resolved> resolved(pointers_.size());
      resolved[0].node = &doc_.value;
      size_t path_bytes = 0;
      for (size_t i = 1; i < pointers_.size(); ++i) {
        resolve(resolved, i);
        path_bytes += resolved[i].path.size();
      }
      FieldOrigins::Builder fields;
      fields.reserve(lines_.size(), path_bytes);
      for (const auto& [pointer, line] : lines_) {
        // A pointer seen twice (a "<<" merge records its mapping's) adds nothing the second
        // time: the builder keeps the first entry.
        if (pointer == 0) continue;
        fields.add(resolved[pointer].path, file_, line);
      }
      doc_.fields = std::make_shared<const FieldOrigins>(std::move(fields).build());
    }
    docs_.push_back(std::move(doc_));
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count_event(mark);
    add_value(mark, json(nullptr), anchor, kNodeCost);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count_event(mark);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail("unknown alias", mark);
    add_value(mark, it->second.value, 0, it->second.cost);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count_event(mark);
    if (!stack_.empty() && stack_.back().is_map && !stack_.back().key) {
      // A mapping key: held until its value arrives.
      if (anchor != 0) anchors_[anchor] = {json(value), string_cost(value)};
      stack_.back().key = value;
      stack_.back().key_is_merge = value == "<<" && tag == "?";
      stack_.back().key_mark = mark;
      return;
    }
    add_value(mark, scalar(mark, tag, value), anchor, string_cost(value));
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, json::array(), anchor, false);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, json::object(), anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  // Estimated bytes per node: nlohmann's 16-byte value plus its slot in the parent (a map
  // node with its key, or a vector element) and allocator overhead; measured against RSS on
  // alias bombs (about 110 bytes per node), so the estimate does not undercount.
  static constexpr size_t kNodeCost = 128;
  // The file's own size times this is allowed beyond max_memory: a large file without aliases
  // is never refused for its own size (the renderer caps bytes read).
  static constexpr size_t kFileCostFactor = 64;
  static size_t string_cost(const std::string& text) {
    return kNodeCost + (text.size() > 15 ? text.size() : 0);  // short strings are inline
  }

  struct Frame {
    json value;
    bool is_map = false;
    YAML::anchor_t anchor = 0;
    size_t pointer = 0;              // in pointers_
    size_t cost = kNodeCost;         // the estimated memory of the node and everything below it
    std::optional<std::string> key;  // a map's pending key
    bool key_is_merge = false;
    YAML::Mark key_mark;
    std::vector<std::string> merged;  // keys copied by "<<": explicit keys may override them
  };
  struct Anchored {
    json value;
    size_t cost = kNodeCost;
  };
  struct Resolved {
    std::string path;
    std::string_view parent_field, last_field;
    const json* node = nullptr;
    bool broken = false;
  };

  [[noreturn]] void fail(const std::string& message, const YAML::Mark& mark) {
    throw StopParse{invalid_input(message, where(file_, mark))};
  }

  void count_event(const YAML::Mark& mark) {
    if (++events_ > max_events_) fail("invalid YAML: the parser made no progress", mark);
  }

  json scalar(const YAML::Mark& mark, const std::string& tag, const std::string& text) {
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return json(text);
    if (tag == "?" || tag.empty()) return resolve_plain_scalar(text);
    if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
        tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
      json v = resolve_plain_scalar(text);
      // Not echoed: the value may be a secret.
      if (v.is_string()) fail("the value does not match its tag " + tag, mark);
      return v;
    }
    return json(text);  // unknown tags (e.g. !!binary) keep their text
  }

  // The pointer of the next child of the innermost collection (an index in pointers_).
  size_t child_pointer() {
    if (stack_.empty()) return 0;
    const Frame& top = stack_.back();
    if (top.is_map) {
      if (top.key_is_merge) return top.pointer;
      pointers_.push_back({top.pointer, *top.key, 0});
    } else {
      pointers_.push_back({top.pointer, {}, top.value.size()});
    }
    return pointers_.size() - 1;
  }

  // The canonical path of a pointer, as path::from_pointer finds it in the finished document,
  // from its parent's (pointers are numbered parents first): each node is walked to once.
  void resolve(std::vector<Resolved>& resolved, size_t i) const {
    const Pointer& p = pointers_[i];
    Resolved& out = resolved[i];
    const Resolved& parent = resolved[p.parent];
    out.path = parent.path;
    out.parent_field = parent.parent_field;
    out.last_field = parent.last_field;
    out.broken = parent.broken || parent.node == nullptr;
    if (out.broken) return;
    const json& node = *parent.node;
    if (node.is_object()) {
      auto it = node.find(p.key);
      if (it == node.end()) {
        out.broken = true;
        return;
      }
      out.path = path::field(out.path, p.key);
      out.parent_field = out.last_field;
      out.last_field = p.key;
      out.node = &*it;
    } else if (node.is_array() && p.index < node.size()) {
      const json& el = node[p.index];
      path::ListRule rule = path::list_rule(out.parent_field, out.last_field);
      out.path = path::list_element(out.path, rule, path::element_identity(rule, el), p.index);
      out.node = &el;
    } else {
      out.broken = true;
    }
  }

  // A document's location is its root node (not the "---" line before it).
  void note_root(const YAML::Mark& mark) {
    if (stack_.empty() && mark.line >= 0) doc_.location.line = mark.line + 1;
  }

  void open(const YAML::Mark& mark, json value, YAML::anchor_t anchor, bool is_map) {
    count_event(mark);
    note_root(mark);
    if (!stack_.empty() && stack_.back().is_map && !stack_.back().key) {
      fail("mapping keys must be scalars", mark);
    }
    Frame frame{std::move(value), is_map, anchor, 0, kNodeCost, std::nullopt, false, {}, {}};
    if (options_.field_origins) {
      frame.pointer = child_pointer();
      if (mark.line >= 0) lines_.emplace_back(frame.pointer, mark.line + 1);
    }
    budget(mark, kNodeCost);
    stack_.push_back(std::move(frame));
  }

  void close() {
    count_event(YAML::Mark::null_mark());
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.is_map && frame.key)
      fail("mapping key '" + *frame.key + "' has no value", frame.key_mark);
    if (frame.anchor != 0) anchors_[frame.anchor] = {frame.value, frame.cost};
    attach(frame.key_mark, std::move(frame.value), frame.cost);
  }

  void budget(const YAML::Mark& mark, size_t cost) {
    cost_ += cost;
    if (cost_ > max_cost_) {
      fail("YAML file expands to more than " + std::to_string(max_cost_ >> 20) +
               " MiB in memory (an alias bomb?)",
           mark);
    }
  }

  void add_value(const YAML::Mark& mark, json value, YAML::anchor_t anchor, size_t cost) {
    if (!stack_.empty() && stack_.back().is_map && !stack_.back().key) {
      // A null or alias used as a mapping key.
      if (!value.is_string() && !value.is_null()) fail("mapping keys must be scalars", mark);
      stack_.back().key = value.is_null() ? "" : value.get<std::string>();
      stack_.back().key_is_merge = false;
      stack_.back().key_mark = mark;
      return;
    }
    budget(mark, cost);
    note_root(mark);
    if (options_.field_origins && mark.line >= 0)
      lines_.emplace_back(child_pointer(), mark.line + 1);
    if (anchor != 0) anchors_[anchor] = {value, cost};
    attach(mark, std::move(value), cost);
  }

  // Puts a finished node into its parent (or makes it the document's root).
  void attach(const YAML::Mark& mark, json value, size_t cost) {
    if (stack_.empty()) {
      doc_.value = std::move(value);
      return;
    }
    Frame& top = stack_.back();
    top.cost += cost;
    if (!top.is_map) {
      top.value.push_back(std::move(value));
      return;
    }
    std::string key = std::move(*top.key);
    top.key.reset();
    if (key.size() > 15) {  // a long key is a heap string in the map's node
      budget(mark, key.size());
      top.cost += key.size();
    }
    if (top.key_is_merge) {  // "<<: *base" copies the keys the mapping does not set itself
      top.key_is_merge = false;
      std::vector<json> sources;
      if (value.is_object())
        sources.push_back(std::move(value));
      else if (value.is_array())
        sources.assign(value.begin(), value.end());
      for (auto& source : sources) {
        if (!source.is_object()) fail("'<<' merge value must be a mapping", mark);
        for (auto& [k, v] : source.items()) {
          if (top.value.contains(k)) continue;
          top.value[k] = v;
          top.merged.push_back(k);
        }
      }
      return;
    }
    if (top.value.contains(key)) {
      auto merged = std::find(top.merged.begin(), top.merged.end(), key);
      if (merged == top.merged.end()) fail("duplicate key '" + key + "'", top.key_mark);
      top.merged.erase(merged);  // an explicit key overrides a merged one, once
    }
    top.value[key] = std::move(value);
  }

  std::string_view file_;
  const YamlOptions& options_;
  size_t max_events_;
  size_t events_ = 0;
  size_t max_cost_;
  size_t cost_ = 0;  // of every document of the file so far
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  // Field origins: the pointers of the nodes, recorded as (parent, key or index) while
  // parsing, and resolved to canonical paths once the document is complete.
  struct Pointer {
    size_t parent = 0;
    std::string key;
    size_t index = 0;
  };
  std::vector<Pointer> pointers_;
  std::vector<std::pair<size_t, int>> lines_;
  YamlDocument doc_;
  std::vector<YamlDocument> docs_;
};

// A read-only stream buffer over text that outlives it.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // never written: no put area, no putback
    setg(begin, begin, begin + text.size());
  }

 protected:
  int_type pbackfail(int_type) override { return traits_type::eof(); }
};

bool is_blank_document(std::string_view text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Does a plain scalar of this text read back as the same string?
bool needs_quoting(const std::string& s) {
  if (!resolve_plain_scalar(s).is_string()) return true;
  if (s.empty()) return true;
  return false;
}

void emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key;
        if (needs_quoting(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : value) emit(out, v);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      // A literal block keeps a final newline ("|"); yaml-cpp cannot write "|-", so text
      // with inner newlines but none at the end is double-quoted instead.
      if (needs_quoting(s))
        out << YAML::DoubleQuoted;
      else if (s.find('\n') != std::string::npos)
        out << (s.back() == '\n' ? YAML::Literal : YAML::DoubleQuoted);
      out << s;
      break;
    }
    case json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << value.dump();
      break;  // numbers: JSON spelling is valid YAML
  }
}

}  // namespace

Result<std::vector<YamlDocument>> parse_yaml_documents(std::string_view text, std::string_view file,
                                                       const YamlOptions& options) {
  PL_RETURN_IF_ERROR(yaml_guards::check_no_nul(text, file));
  PL_RETURN_IF_ERROR(yaml_guards::check_utf8(text, file));
  PL_RETURN_IF_ERROR(yaml_guards::check_flow_depth(text, file));
  // libyaml first (about 3x faster); anything it refuses, or that the builder stops, is read
  // again by yaml-cpp, so errors and their messages are yaml-cpp's as they always were.
  try {
    JsonBuilder fast(file, options, text.size());
    if (yaml_events::parse(text, fast)) return fast.take_documents();
  } catch (...) {  // NOLINT: any failure falls back to the reference parser below
  }
  JsonBuilder builder(file, options, text.size());
  try {
    ViewBuffer buffer(text);  // read in place: a large file is not copied
    std::istream stream(&buffer);
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (StopParse& stop) {
    return std::move(stop.error);
  } catch (const YAML::Exception& e) {
    return invalid_input("invalid YAML: " + e.msg, where(file, e.mark));
  } catch (const std::exception& e) {
    return invalid_input(std::string("invalid YAML: ") + e.what(), std::string(file));
  }
  return builder.take_documents();
}

Result<json> parse_yaml(std::string_view text, std::string_view file) {
  if (is_blank_document(text)) return invalid_input("file is empty", std::string(file));
  PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(text, file));
  if (docs.size() != 1) {
    return invalid_input("expected one YAML document, found " + std::to_string(docs.size()),
                         std::string(file));
  }
  return std::move(docs.front().value);
}

std::string to_yaml(const json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

std::string to_yaml_stream(const std::vector<json>& documents) {
  std::string out;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) out += "---\n";
    out += to_yaml(documents[i]);
  }
  return out;
}

}  // namespace plumbline
