// Field paths of kustomize replacements: reading a source field and finding (or creating) the
// target fields, with the semantics of kustomize's path getter and path matcher.
#include "render/replacement_paths.h"

#include <re2/re2.h>

#include <charconv>
#include <optional>

#include "plumbline/core/yaml.h"

namespace plumbline::renderer {
namespace {

constexpr size_t kMaxParts = 64;

bool is_list_index(std::string_view part) {
  return part.size() >= 2 && part.front() == '[' && part.back() == ']';
}

std::optional<size_t> as_index(std::string_view part) {
  size_t value = 0;
  auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
  if (ec != std::errc() || end != part.data() + part.size() || part.empty()) return std::nullopt;
  return value;
}

// "[name=app]" -> {"name", "app"}; "[=x]" -> {"", "x"}.
Result<std::pair<std::string, std::string>> split_selector(std::string_view part) {
  std::string_view inner = part.substr(1, part.size() - 2);
  size_t eq = inner.find('=');
  if (eq == std::string_view::npos) {
    return invalid_input("list path element '" + std::string(part) +
                         "' must contain fieldName=fieldValue");
  }
  return std::pair<std::string, std::string>(inner.substr(0, eq), inner.substr(eq + 1));
}

// What a field created on the way holds: a list before an index or [..], else a mapping; the
// last part holds the value's kind.
json fresh_node(const std::vector<std::string>& parts, size_t next, CreateKind leaf) {
  if (next < parts.size()) {
    const std::string& part = parts[next];
    return is_list_index(part) || as_index(part) ? json::array() : json::object();
  }
  switch (leaf) {
    case CreateKind::kMapping:
      return json::object();
    case CreateKind::kSequence:
      return json::array();
    default:
      return nullptr;
  }
}

class Matcher {
 public:
  Matcher(const std::vector<std::string>& parts, CreateKind create, std::vector<FieldMatch>& out)
      : parts_(parts), create_(create), out_(out) {}

  Status walk(json& node, const json::json_pointer& at, size_t i, bool created) {
    if (i == parts_.size()) {
      out_.push_back({at, created});
      return {};
    }
    const std::string& part = parts_[i];
    bool create = create_ != CreateKind::kNone;
    if (auto index = as_index(part)) {
      if (!node.is_array()) return invalid_input("'" + part + "' indexes something not a list");
      bool appended = false;
      if (*index == node.size() && create) {
        node.push_back(fresh_node(parts_, i + 1, create_));
        appended = true;
      }
      if (*index >= node.size()) {
        return invalid_input("index " + part + " specified but only " +
                             std::to_string(node.size()) + " elements found");
      }
      return walk(node[*index], at / *index, i + 1, appended);
    }
    if (part == "*") {
      if (!node.is_array()) return invalid_input("'*' applied to something not a list");
      for (size_t j = 0; j < node.size(); ++j)
        PL_RETURN_IF_ERROR(walk(node[j], at / j, i + 1, false));
      return {};
    }
    if (is_list_index(part)) return elements(node, at, i, create);
    if (!node.is_object()) {
      if (!create) return {};
      return invalid_input("cannot create field '" + part + "' in something not a mapping");
    }
    bool made = false;
    auto it = node.find(part);
    if (it == node.end()) {
      if (!create) return {};
      node[part] = fresh_node(parts_, i + 1, create_);
      made = true;
    }
    json& field = node[part];
    if (!field.is_structured() && i + 1 < parts_.size() && !made) {
      // kustomize would parse the scalar as embedded YAML or JSON; plumbline does not.
      return invalid_input("field '" + part + "' is a scalar; a path into text is not supported");
    }
    return walk(field, at / part, i + 1, made);
  }

 private:
  Status elements(json& node, const json::json_pointer& at, size_t i, bool create) {
    PL_ASSIGN_OR_RETURN(auto selector, split_selector(parts_[i]));
    const auto& [field, pattern] = selector;
    if (!node.is_array())
      return invalid_input("'" + parts_[i] + "' applied to something not a list");
    RE2::Options options;
    options.set_log_errors(false);
    options.set_never_capture(true);
    RE2 re(pattern, options);
    if (!re.ok())
      return invalid_input("'" + parts_[i] + "': bad regular expression: " + re.error());
    size_t before = out_.size();
    for (size_t j = 0; j < node.size(); ++j) {
      const json& element = node[j];
      const json* value = &element;
      if (!field.empty()) {
        if (!element.is_object()) continue;
        auto it = element.find(field);
        if (it == element.end() || it->is_null()) continue;
        value = &*it;
      }
      if (value->is_structured() || !RE2::PartialMatch(scalar_text(*value), re)) continue;
      PL_RETURN_IF_ERROR(walk(node[j], at / j, i + 1, false));
    }
    if (out_.size() > before || !create) return {};
    // Nothing matched: add the element the selector describes and walk into it.
    json element =
        field.empty() ? plain_scalar(pattern) : json::object({{field, plain_scalar(pattern)}});
    node.push_back(std::move(element));
    return walk(node.back(), at / (node.size() - 1), i + 1, false);
  }

  const std::vector<std::string>& parts_;
  CreateKind create_;
  std::vector<FieldMatch>& out_;
};

}  // namespace

std::vector<std::string> split_field_path(std::string_view path) {
  // Split on '.', joining a piece that ends in '\' with the next one (an escaped dot).
  std::vector<std::string> pieces;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string piece(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (!pieces.empty() && !pieces.back().empty() && pieces.back().back() == '\\') {
      pieces.back().back() = '.';
      pieces.back() += piece;
    } else {
      pieces.push_back(std::move(piece));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (pieces.size() > 1 && pieces.front().empty()) pieces.erase(pieces.begin());
  // Rejoin bracketed parts: "[name=a.b]" stays whole; "[a.b]" (no '=') is the key "a.b".
  std::vector<std::string> out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string part = pieces[i];
    if (!part.empty() && part.front() == '[' && part.back() != ']') {
      while (i + 1 < pieces.size()) {
        part += "." + pieces[++i];
        if (!pieces[i].empty() && pieces[i].back() == ']') break;
      }
      if (part.find('=') == std::string::npos) {
        part.erase(0, part.find_first_not_of('['));
        part.erase(part.find_last_not_of(']') + 1);
      }
    }
    // Surrounding spaces and empty parts are dropped, as kustomize cleans its paths.
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) out.push_back(std::move(part));
  }
  return out;
}

Result<const json*> lookup_field(const json& object, const std::vector<std::string>& parts) {
  if (parts.size() > kMaxParts) return invalid_input("field path has more than 64 parts");
  const json* node = &object;
  for (const std::string& part : parts) {
    if (part == "*") return invalid_input("a wildcard is not supported in a source field path");
    if (auto index = as_index(part)) {
      if (!node->is_array() || *index >= node->size()) return nullptr;
      node = &(*node)[*index];
    } else if (part == "-") {
      if (!node->is_array() || node->empty()) return nullptr;
      node = &node->back();
    } else if (is_list_index(part)) {
      PL_ASSIGN_OR_RETURN(auto selector, split_selector(part));
      const auto& [field, value] = selector;
      if (!node->is_array()) return nullptr;
      const json* found = nullptr;
      for (const auto& element : *node) {
        const json* key = &element;
        if (!field.empty()) {
          if (!element.is_object() || !element.contains(field)) continue;
          key = &element[field];
        }
        if (!key->is_structured() && scalar_text(*key) == value) {
          found = &element;
          break;
        }
      }
      if (!found) return nullptr;
      node = found;
    } else {
      if (!node->is_object()) return nullptr;
      auto it = node->find(part);
      if (it == node->end()) return nullptr;
      node = &*it;
    }
  }
  return node;
}

Status match_fields(json& object, const std::vector<std::string>& parts, CreateKind create,
                    std::vector<FieldMatch>& out) {
  if (parts.size() > kMaxParts) return invalid_input("field path has more than 64 parts");
  return Matcher(parts, create, out).walk(object, json::json_pointer(), 0, false);
}

json plain_scalar(const std::string& text) {
  if (text.empty() || text[0] == '#') return text;
  auto value = parse_yaml(text, "field path");
  if (value.ok() && !value->is_structured() && !value->is_string()) return *value;
  return text;
}

std::string scalar_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

}  // namespace plumbline::renderer
