// plumbline/core/path.h — canonical field paths.
//
// A canonical path names one field of an object independently of list order:
//   spec.template.spec.containers[name=app].resources.limits.memory      (keyed list element)
//   spec.template.spec.containers[name=app].securityContext.capabilities.add[SYS_ADMIN]  (set)
//   metadata.labels['app.kubernetes.io/name']     (a map key that contains . [ ] or ')
// Inside [...] a ']' or '\' is escaped with '\'. Patterns (policy ignore) may use '*', which
// matches any run of characters inside one segment; a pattern also matches everything below it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline::path {

// How the elements of a list field are identified.
enum class ListKind {
  kKeyed,   // elements are objects identified by one field (containers by name)
  kSet,     // elements are scalars compared as a set (capabilities.add)
  kAtomic,  // compared as a whole value (args, command, anything unknown)
};
struct ListRule {
  ListKind kind = ListKind::kAtomic;
  std::string_view key;  // for kKeyed
};

// The rule for a list field by its field name (and parent field name, for add/drop):
// containers/initContainers/ephemeralContainers/env/sysctls/volumes/imagePullSecrets by name,
// ports by containerPort, volumeMounts by mountPath, volumeDevices by devicePath,
// capabilities add/drop and supplementalGroups as sets.
ListRule list_rule(std::string_view parent_field, std::string_view field);

// How the API itself (server-side apply and strategic merge) treats an in-scope list, which is
// not always the diff's rule: sysctls are compared by name, but the API keeps them as one
// atomic value. A merge list is owned and merged element by element (by `key`); an atomic list
// is one value, owned and replaced whole. Used by the corrector (what a request can express)
// and by the tests' fake API server.
struct ApiList {
  bool merge = false;
  std::string_view key;  // for merge lists
};
ApiList api_list(std::string_view field);

std::string field(std::string_view base, std::string_view name);  // "a" + "b" -> "a.b"
std::string keyed(std::string_view base, std::string_view key, std::string_view value);
std::string element(std::string_view base, std::string_view value);  // "add" -> "add[X]"
std::string index(std::string_view base, size_t i);                  // "args[0]"

// A list element's key value as text (numbers without quotes: ports[containerPort=8080]).
std::string key_text(const json& value);

// What names an element of a list under `rule`: its key field's value (a keyed list, an
// element that has the field) or the element itself (a set, a scalar element); nullptr when
// the element is named by its index.
const json* element_identity(const ListRule& rule, const json& element);
// The canonical path of element `i` of the list at `base`, named by `identity` (as
// element_identity gives it) or, when it is nullptr, by `i`.
std::string list_element(std::string_view base, const ListRule& rule, const json* identity,
                         size_t i);

struct Segment {
  enum class Kind { kField, kKeyed, kElement };
  Kind kind = Kind::kField;
  std::string name;   // kField: the field name
  std::string key;    // kKeyed: the key field ("name")
  std::string value;  // kKeyed: the key value; kElement: the element value (or an index)
  bool operator==(const Segment&) const = default;
};

// Parses a canonical path (or a pattern) into segments; invalid syntax is an error.
Result<std::vector<Segment>> parse(std::string_view path);

// True when `pattern` (with '*' wildcards) matches `path` or one of its ancestors.
bool matches(std::string_view pattern, std::string_view path);

// The node a canonical path names inside `object` (following keyed/set elements by value),
// as a JSON pointer; nullopt when it does not exist.
std::optional<json::json_pointer> resolve(const json& object, std::string_view path);

// The canonical path of a JSON pointer into `object` (inverse of resolve for existing nodes).
std::string from_pointer(const json& object, const json::json_pointer& pointer);

}  // namespace plumbline::path
