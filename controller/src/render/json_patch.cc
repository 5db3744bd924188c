// RFC 6902 JSON patch over nlohmann::json with our own RFC 6901 pointer walk, so that no
// nlohmann exception (out_of_range, type_error) can escape.
#include <string>
#include <vector>

#include "render/patch.h"

namespace plumbline::renderer {
namespace {

Result<std::vector<std::string>> parse_pointer(const json& value, const char* field) {
  if (!value.is_string()) return invalid_input(std::string("'") + field + "' must be a string");
  const std::string& text = value.get_ref<const std::string&>();
  std::vector<std::string> tokens;
  if (text.empty()) return tokens;
  if (text.front() != '/') return invalid_input("JSON pointer '" + text + "' must start with '/'");
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (text[i] == '~') {
      if (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1')) {
        return invalid_input("JSON pointer '" + text + "' has a bad '~' escape");
      }
      token += text[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      token += text[i];
    }
  }
  return tokens;
}

// Array index per RFC 6901: digits without leading zeros; `limit` is the largest allowed.
Result<size_t> parse_index(const std::string& token, size_t limit) {
  if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) {
    return invalid_input("bad array index '" + token + "'");
  }
  size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return invalid_input("bad array index '" + token + "'");
    index = index * 10 + static_cast<size_t>(c - '0');
  }
  if (index > limit) return invalid_input("array index " + token + " is out of range");
  return index;
}

std::string joined(const std::vector<std::string>& tokens, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < tokens.size(); ++i) out += "/" + tokens[i];
  return out;
}

// The node at tokens[0..count), or an error naming the missing prefix.
Result<json*> walk(json& root, const std::vector<std::string>& tokens, size_t count) {
  json* node = &root;
  for (size_t i = 0; i < count; ++i) {
    const std::string& token = tokens[i];
    if (node->is_object()) {
      auto it = node->find(token);
      if (it == node->end()) return not_found("no such path '" + joined(tokens, i + 1) + "'");
      node = &*it;
    } else if (node->is_array()) {
      if (node->empty()) return not_found("no such path '" + joined(tokens, i + 1) + "'");
      PL_ASSIGN_OR_RETURN(size_t index, parse_index(token, node->size() - 1));
      node = &(*node)[index];
    } else {
      return not_found("no such path '" + joined(tokens, i + 1) + "'");
    }
  }
  return node;
}

Status add_at(json& root, const std::vector<std::string>& tokens, json value) {
  if (tokens.empty()) {
    root = std::move(value);
    return {};
  }
  PL_ASSIGN_OR_RETURN(json * parent, walk(root, tokens, tokens.size() - 1));
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
  } else if (parent->is_array()) {
    if (last == "-") {
      parent->push_back(std::move(value));
    } else {
      PL_ASSIGN_OR_RETURN(size_t index, parse_index(last, parent->size()));
      parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
    }
  } else {
    return not_found("no such path '" + joined(tokens, tokens.size() - 1) + "'");
  }
  return {};
}

Result<json> remove_at(json& root, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return invalid_input("cannot remove the whole document");
  PL_ASSIGN_OR_RETURN(json * parent, walk(root, tokens, tokens.size() - 1));
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    auto it = parent->find(last);
    if (it == parent->end())
      return not_found("no such path '" + joined(tokens, tokens.size()) + "'");
    json old = std::move(*it);
    parent->erase(it);
    return old;
  }
  if (parent->is_array() && !parent->empty()) {
    PL_ASSIGN_OR_RETURN(size_t index, parse_index(last, parent->size() - 1));
    json old = std::move((*parent)[index]);
    parent->erase(parent->begin() + static_cast<std::ptrdiff_t>(index));
    return old;
  }
  return not_found("no such path '" + joined(tokens, tokens.size()) + "'");
}

Status apply_one(json& document, const json& operation) {
  if (!operation.is_object()) return invalid_input("an operation must be a mapping");
  auto op_it = operation.find("op");
  if (op_it == operation.end() || !op_it->is_string()) {
    return invalid_input("an operation needs 'op'");
  }
  const std::string& op = op_it->get_ref<const std::string&>();
  auto path_it = operation.find("path");
  if (path_it == operation.end()) return invalid_input("operation '" + op + "' needs 'path'");
  PL_ASSIGN_OR_RETURN(auto path, parse_pointer(*path_it, "path"));
  auto value_it = operation.find("value");
  auto from_it = operation.find("from");
  if (op == "add" || op == "replace" || op == "test") {
    if (value_it == operation.end()) return invalid_input("operation '" + op + "' needs 'value'");
  }
  if ((op == "move" || op == "copy") && from_it == operation.end()) {
    return invalid_input("operation '" + op + "' needs 'from'");
  }
  if (op == "add") return add_at(document, path, *value_it);
  if (op == "remove") {
    PL_ASSIGN_OR_RETURN(json removed, remove_at(document, path));
    (void)removed;
    return {};
  }
  if (op == "replace") {
    PL_ASSIGN_OR_RETURN(json * target, walk(document, path, path.size()));
    *target = *value_it;
    return {};
  }
  if (op == "test") {
    PL_ASSIGN_OR_RETURN(json * target, walk(document, path, path.size()));
    if (*target != *value_it)
      return invalid_input("test failed at '" + joined(path, path.size()) + "'");
    return {};
  }
  if (op == "move" || op == "copy") {
    PL_ASSIGN_OR_RETURN(auto from, parse_pointer(*from_it, "from"));
    if (op == "move") {
      // Moving a node into its own subtree would orphan it (RFC 6902 section 4.4).
      bool inside = path.size() > from.size();
      for (size_t i = 0; inside && i < from.size(); ++i) inside = path[i] == from[i];
      if (inside) return invalid_input("cannot move a value into itself");
      PL_ASSIGN_OR_RETURN(json value, remove_at(document, from));
      return add_at(document, path, std::move(value));
    }
    PL_ASSIGN_OR_RETURN(json * source, walk(document, from, from.size()));
    json value = *source;
    return add_at(document, path, std::move(value));
  }
  return invalid_input("unknown operation '" + op + "'");
}

}  // namespace

Result<json> apply_json_patch(const json& document, const json& operations) {
  if (!operations.is_array()) return invalid_input("a JSON patch must be a list of operations");
  json out = document;
  for (size_t i = 0; i < operations.size(); ++i) {
    Status status = apply_one(out, operations[i]);
    if (!status.ok()) {
      Error error = std::move(status).error();
      return Error(error.code(), "[" + std::to_string(i) + "]: " + error.message());
    }
  }
  return out;
}

}  // namespace plumbline::renderer
