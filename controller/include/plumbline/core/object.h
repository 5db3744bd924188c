// plumbline/core/object.h — Kubernetes objects as plumbline sees them.
//
// nlohmann::json is the one in-memory object model. A Manifest is one desired object with
// where it came from in Git (for error messages and SARIF locations).
//
//   ObjectRef ref = ObjectRef::of(manifest.object);   // apps/v1 Deployment shop-prod/checkout
#pragma once

#include <compare>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plumbline/core/error.h"

namespace plumbline {

using json = nlohmann::json;

// apiVersion, kind, namespace, name: the identity of an object.
struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;  // empty for cluster-scoped objects
  std::string name;

  // Reads identity fields; missing fields stay empty.
  static ObjectRef of(const json& object);
  // "Deployment shop-prod/checkout" (or "Namespace shop-prod" when cluster-scoped).
  std::string to_string() const;
  json to_json() const;  // {"apiVersion","kind","namespace","name"} (namespace omitted if empty)

  auto operator<=>(const ObjectRef&) const = default;
  bool operator==(const ObjectRef&) const = default;
};

// The member `key` of `node` when node is an object that has it, else nullptr: for reading
// hostile JSON without throwing.
const json* member_of(const json* node, std::string_view key);

// metadata.resourceVersion of an object ("" when it has none).
std::string resource_version(const json& object);

// Group of an apiVersion: "apps/v1" -> "apps", "v1" -> "".
std::string api_group(std::string_view api_version);

// A place in a file; line and column are 1-based, 0 = unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  // "base/deploy.yaml:12:5", "base/deploy.yaml", ""
  bool known() const { return !file.empty(); }
};

// Where each field of an object was declared, keyed by canonical path (see path.h).
using FieldOrigins = std::unordered_map<std::string, SourceLocation>;

// The entry of the field or of its nearest ancestor that has one; nullptr when none has.
const SourceLocation* nearest_origin(const FieldOrigins& origins, std::string_view path);

// One desired object from Git.
struct Manifest {
  json object;
  SourceLocation origin;  // the document that declared it
  // Per-field declaration sites when known (shared: copies of a Manifest are cheap).
  std::shared_ptr<const FieldOrigins> fields;
  // The name before the environment's namePrefix/nameSuffix (kustomize knows it); used to
  // match objects across environments. Empty means "same as metadata.name".
  std::string base_name;

  ObjectRef ref() const { return ObjectRef::of(object); }
  const std::string& match_name() const;
  // The declaration site of a field (nearest declared ancestor), else the object's origin.
  SourceLocation locate(std::string_view canonical_path) const;
};

using ManifestSet = std::vector<Manifest>;

// Checks apiVersion/kind/metadata.name are non-empty strings; names the object and file.
Status validate_identity(const json& object, const SourceLocation& where);

}  // namespace plumbline
