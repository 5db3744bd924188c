// Scalar normalization and canonical path segments for the walker (walker.cc).
#include "diff/walker.h"
#include "plumbline/core/quantity.h"

namespace plumbline::diff {
namespace {

bool is_true(const json& v) { return v.is_boolean() && v.get<bool>(); }

bool needs_quotes(std::string_view name) {
  return name.empty() || name.find_first_of(".[]'\\") != std::string_view::npos;
}

void append_escaped(std::string& path, std::string_view text) {
  for (char c : text) {
    if (c == ']' || c == '\\') path += '\\';
    path += c;
  }
}

}  // namespace

// Live values looser than the API default that Git never asked for (DESIGN.md "Closed world
// for security fields"). Capabilities added by hand are caught by the set rule instead.
bool closed_world(std::string_view parent, std::string_view name, const json& v) {
  if (name == "privileged" || name == "allowPrivilegeEscalation" || name == "hostNetwork" ||
      name == "hostPID" || name == "hostIPC") {
    return is_true(v);
  }
  if (name == "runAsUser") return (v.is_number() && v == 0) || (v.is_string() && v == "0");
  if (name == "procMount") return !(v.is_string() && v == "Default");
  if (name == "type" && parent == "seccompProfile") return v.is_string() && v == "Unconfined";
  if (name == "type" && parent == "seLinuxOptions") return !(v.is_string() && v == "");
  return false;
}

void append_field(std::string& path, std::string_view name) {
  if (needs_quotes(name)) {
    path += "['";
    for (char c : name) {
      if (c == '\'' || c == '\\') path += '\\';
      path += c;
    }
    path += "']";
    return;
  }
  if (!path.empty()) path += '.';
  path += name;
}

void append_keyed(std::string& path, std::string_view key, std::string_view value) {
  path += '[';
  path += key;
  path += '=';
  append_escaped(path, value);
  path += ']';
}

void append_element(std::string& path, std::string_view value) {
  path += '[';
  append_escaped(path, value);
  path += ']';
}

bool values_equal(Category category, const json& left, const json& right) {
  if (left == right) return true;
  if (category == Category::kResources && quantities_equal(left, right)) return true;
  // The API coerces int-or-string fields; "1000" and 1000 are the same declaration.
  if (left.is_string() && (right.is_number() || right.is_boolean())) {
    return left.get_ref<const std::string&>() == right.dump();
  }
  if (right.is_string() && (left.is_number() || left.is_boolean())) {
    return right.get_ref<const std::string&>() == left.dump();
  }
  return false;
}

}  // namespace plumbline::diff
