// plumbline/core/object.h — Kubernetes objects as plumbline sees them.
//
// nlohmann::json is the one in-memory object model. A Manifest is one desired object with
// where it came from in Git (for error messages and SARIF locations).
//
//   ObjectRef ref = ObjectRef::of(manifest.object);   // apps/v1 Deployment shop-prod/checkout
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
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
//
// Kept for every node of every manifest read from Git, so it is compact: entries sorted by
// path, each path stored as the length it shares with the previous one plus the rest (a full
// path every 16 entries, for binary search), line and column as varints, each file name
// stored once: ~16 bytes per field instead of a map node, a path string and a file string.
// Nothing is allocated per field; a SourceLocation is built only when one is looked up.
// Changes (set, erase_below) re-encode the table: they come from kustomize steps, per object.
//
// An object streamed from plain YAML keeps its origins in a second, smaller form (by_node):
// one line per node, as a varint delta from its parent's line, in the order of the object's
// compact encoding, which it shares with the CompactManifest. Paths are not stored at all:
// find() walks the encoding down the one branch that leads to the path, for_each() builds
// the table. ~1 byte per field instead of ~16, and no path string made while parsing.
// A change turns it into the table first.
//
//   FieldOrigins::Builder builder;                  // any order; the first of a path wins
//   builder.add("spec.replicas", "base/deploy.yaml", 12);
//   FieldOrigins origins = std::move(builder).build();
//   origins.find("spec.replicas")->to_string();     // "base/deploy.yaml:12"
class FieldOrigins {
 public:
  class Builder;
  using Visitor = std::function<void(std::string_view path, const SourceLocation& at)>;

  // The origin recorded for exactly `path`.
  std::optional<SourceLocation> find(std::string_view path) const;
  bool contains(std::string_view path) const { return find(path).has_value(); }

  // Origins in node order (see above): `encoding` is the object's compact encoding
  // (plumbline/core/compact_encoding.h), `lines` a zigzag varint per node below the root, in the
  // encoding's order, each its line minus its parent's; the root is at `line` of `file`.
  static FieldOrigins by_node(std::shared_ptr<const std::string> encoding, std::string lines,
                              std::string file, int line);
  // Sets (or replaces) the origin of `path`.
  void set(std::string_view path, const SourceLocation& at);
  // Removes every entry strictly below `path` ("a.b.c" and "a.b[k=v]" are below "a.b").
  void erase_below(std::string_view path);

  // Many changes in one re-encoding; the same as calling, in order, for each write
  // erase_below(path) then set(path, at) (replace_subtrees), or set(path, at) (set_all).
  using Writes = std::vector<std::pair<std::string, SourceLocation>>;
  void replace_subtrees(Writes writes);
  void set_all(Writes writes);

  size_t size() const;  // the entries (of the table for_each visits)
  bool empty() const { return by_node_ ? by_node_->lines.empty() : size_ == 0; }
  size_t memory_bytes() const;  // heap bytes held (encoded entries, restart points, file names)

  // Calls visit(path, location) for every entry, in path order.
  void for_each(const Visitor& visit) const;

  // The node form's own parts, nullopt for a table: what a parse cache keeps on disk and
  // gives back to by_node() with the object's encoding (render/parse_cache_file.cc).
  struct NodeForm {
    std::string_view encoding;  // the object's, which the lines follow
    std::string_view lines;
    std::string_view file;
    int line = 0;
  };
  std::optional<NodeForm> node_form() const;

  // The file names entries may name (each once).
  const std::vector<std::string>& files() const { return files_; }
  // Renames every file: a mounted remote base's path becomes the repository's name.
  void rename_files(const std::function<std::string(const std::string&)>& rename);

 private:
  friend class Builder;
  struct Cursor;
  // Merges `writes` (sorted by path, one per path) in; drops the old entries they replace
  // and, with `drop_below`, the old entries below them.
  void merge(const Writes& writes, bool drop_below);
  // The table form of origins kept by node (field_origins_by_node.cc).
  struct ByNode {
    std::shared_ptr<const std::string> encoding;
    std::string lines;
    int line = 0;
  };
  FieldOrigins table() const;
  std::optional<SourceLocation> find_by_node(std::string_view path) const;
  std::shared_ptr<const ByNode> by_node_;  // set: the node form (files_ names its one file)
  std::string data_;                       // the encoded entries, in path order
  std::vector<uint32_t> restarts_;         // offsets in data_ of every 16th entry (a full path)
  size_t size_ = 0;
  std::vector<std::string> files_;
};

class FieldOrigins::Builder {
 public:
  void reserve(size_t entries, size_t path_bytes);
  // Records `path`; of several entries for one path the first added is kept.
  void add(std::string_view path, std::string_view file, int line, int column = 0);
  FieldOrigins build() &&;

 private:
  struct Pending {
    uint32_t path_offset, path_size, line, column, file;
  };
  std::string paths_;
  std::vector<Pending> pending_;
  std::vector<std::string> files_;
};

// The entry of the field or of its nearest ancestor that has one; nullopt when none has.
std::optional<SourceLocation> nearest_origin(const FieldOrigins& origins, std::string_view path);

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
