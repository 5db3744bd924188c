// FieldOrigins kept by node (see object.h): the paths are read from the object's encoding.
#include <optional>
#include <string>

#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/object.h"
#include "plumbline/core/path.h"

namespace plumbline {
namespace {

using compact_encoding::read_varint;

// What a walk does with a node it reached.
enum class Step { kDescend, kSkip, kStop };

bool is_collection(const char* at) {
  return *at == compact_encoding::kObject || *at == compact_encoding::kArray;
}

// What names a list element, read as path::element_identity reads the decoded element.
std::optional<json> identity_of(const path::ListRule& rule, const char* element) {
  const bool keyed = rule.kind == path::ListKind::kKeyed && *element == compact_encoding::kObject;
  const bool set_value = rule.kind == path::ListKind::kSet && !is_collection(element);
  if (!keyed && !set_value) return std::nullopt;  // atomic lists name elements by index alone
  std::string_view bytes(element, static_cast<size_t>(compact_encoding::skip(element) - element));
  if (set_value) return compact_encoding::decode_value(bytes);
  std::optional<std::string_view> key = compact_encoding::member(bytes, rule.key);
  if (!key) return std::nullopt;
  return compact_encoding::decode_value(*key);
}

// The encoding and the line of each node, read side by side in the encoding's order.
struct Cursor {
  const char* at;
  const char* lines;
};

// Walks the children of the collection at `c.at`, whose path is `base` and line `line`, and
// whose fields are named as the stream builder (and path::from_pointer) name them: a list's
// rule is read from its field and its parent's field. `on_node(path, line)` says whether to
// go below a child. False when a node stopped the walk.
template <class OnNode>
bool walk(Cursor& c, const std::string& base, int line, std::string_view parent_field,
          std::string_view last_field, OnNode& on_node) {
  auto child = [&](const std::string& path, std::string_view parent, std::string_view last) {
    int child_line = line + static_cast<int>(compact_encoding::read_zigzag(c.lines));
    Step step = on_node(path, child_line);
    if (step == Step::kStop) return false;
    if (step == Step::kDescend && is_collection(c.at)) {
      return walk(c, path, child_line, parent, last, on_node);
    }
    size_t nodes = 0;
    c.at = compact_encoding::skip(c.at, &nodes);
    for (size_t below = 1; below < nodes; ++below) read_varint(c.lines);
    return true;
  };
  const char tag = *c.at++;
  const std::uint64_t count = read_varint(c.at);
  if (tag == compact_encoding::kObject) {
    for (std::uint64_t i = 0; i < count; ++i) {
      auto size = static_cast<size_t>(read_varint(c.at));
      std::string_view key(c.at, size);
      c.at += size;
      if (!child(path::field(base, key), last_field, key)) return false;
    }
    return true;
  }
  const path::ListRule rule = path::list_rule(parent_field, last_field);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::optional<json> identity = identity_of(rule, c.at);
    std::string element = path::list_element(base, rule, identity ? &*identity : nullptr, i);
    if (!child(element, parent_field, last_field)) return false;
  }
  return true;
}

template <class OnNode>
void walk_object(const std::string& encoding, const std::string& lines, int line, OnNode& on_node) {
  if (encoding.empty() || !is_collection(encoding.data())) return;
  Cursor c{encoding.data(), lines.data()};
  walk(c, std::string(), line, {}, {}, on_node);
}

}  // namespace

FieldOrigins FieldOrigins::by_node(std::shared_ptr<const std::string> encoding, std::string lines,
                                   std::string file, int line) {
  FieldOrigins out;
  lines.shrink_to_fit();
  out.files_.push_back(std::move(file));
  out.by_node_ =
      std::make_shared<const ByNode>(ByNode{std::move(encoding), std::move(lines), line});
  return out;
}

std::optional<FieldOrigins::NodeForm> FieldOrigins::node_form() const {
  if (!by_node_) return std::nullopt;
  return NodeForm{*by_node_->encoding, by_node_->lines, files_.front(), by_node_->line};
}

FieldOrigins FieldOrigins::table() const {
  Builder out;
  const std::string& file = files_.front();
  auto record = [&](const std::string& path, int line) {
    out.add(path, file, line);
    return Step::kDescend;
  };
  walk_object(*by_node_->encoding, by_node_->lines, by_node_->line, record);
  return std::move(out).build();
}

std::optional<SourceLocation> FieldOrigins::find_by_node(std::string_view path) const {
  // Only the branch whose paths lead to `path` is walked: a node's path starts with each of
  // its ancestors' followed by '.' or '['.
  std::optional<SourceLocation> found;
  auto probe = [&](const std::string& at, int line) {
    if (at == path) {
      found = SourceLocation{files_.front(), line, 0};
      return Step::kStop;
    }
    bool leads = at.size() < path.size() && path.compare(0, at.size(), at) == 0 &&
                 (path[at.size()] == '.' || path[at.size()] == '[');
    return leads ? Step::kDescend : Step::kSkip;
  };
  walk_object(*by_node_->encoding, by_node_->lines, by_node_->line, probe);
  return found;
}

}  // namespace plumbline
