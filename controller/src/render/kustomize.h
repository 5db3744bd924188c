// render/kustomize.h — internal pieces of the native kustomize renderer.
//
// A kustomization is built bottom-up: resources (files and nested kustomizations), then
// generators, patches and transformers in kustomize's builtin order; hash suffixes, name
// references and the output order are settled once, at the top.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plumbline/core/file_tree.h"
#include "plumbline/core/object.h"
#include "plumbline/render/render.h"
#include "render/budget.h"

namespace plumbline::renderer {

class RemoteMounts;

struct Resource {
  Manifest manifest;  // manifest.base_name: the name the object was declared or generated with
  // Every name the object had (declared, prefixed per layer, ...): references to any of them
  // follow the object to its final name, as kustomize's name reference transformer does.
  std::vector<std::string> names;
  bool hash_suffix = false;  // generated and the hash suffix is not disabled
  // The namespace the object had while it had names[i] (same length as names, once set by
  // remember_id): kustomize selects replacement sources and targets by the (name, namespace)
  // pairs an object had, so an object renamed and then moved is not found by its old name in
  // its new namespace.
  std::vector<std::string> namespaces;
};
using Resources = std::vector<Resource>;

// What replacements may write in one render, in bytes (see Layer::replacement_budget).
inline constexpr size_t kMaxReplacementBytes = size_t{64} << 20;

// What a kustomization layer is: its file (for messages), directory and parsed content.
struct Layer {
  std::string file;
  std::string dir;
  json spec;
  std::shared_ptr<const FieldOrigins> fields;  // lines of the kustomization's own fields
  // Bytes replacements may still write in this render, shared by all its layers: a
  // replacement copies a value into every target, so a few of them could otherwise grow
  // objects without bound (each doubling the last).
  std::shared_ptr<size_t> replacement_budget;
  // Runs helm for helmCharts (the render's RenderOptions::external; may be null).
  const ExternalRenderer* external = nullptr;
  // The render's remote bases, and how many of them the layer is below (0: the repository of
  // the render itself).
  RemoteMounts* remote = nullptr;
  size_t remote_depth = 0;
  // Parses of earlier renders (RenderOptions::parse_cache; may be null), for resource files.
  ParseCache* parse_cache = nullptr;

  // The line of a kustomization field ("replicas[0].count"; nearest declared ancestor).
  SourceLocation at(std::string_view path) const;
};

// "dir/kustomization.yaml" (or .yml, Kustomization) if the directory holds one.
Result<std::optional<std::string>> find_kustomization(const FileTree& tree, const std::string& dir);

// Parses YAML documents into manifests (empty documents skipped, `kind: List` expanded).
Status append_documents(std::string_view text, const std::string& file, ManifestSet& out);
// The manifests of one file of the tree: from `cache` (may be null) when it holds the file's
// content, else read, parsed and offered to the cache.
Status append_file(const BudgetedTree& tree, const std::string& file, ParseCache* cache,
                   ManifestSet& out);

// configMapGenerator / secretGenerator, with behavior create|merge|replace.
Status run_generators(const FileTree& tree, const Layer& layer, Resources& resources);

// helmCharts (with helmGlobals): charts of the repository inflated by helm (helm_charts.cc).
Status inflate_helm_charts(const FileTree& tree, const Layer& layer, Resources& resources);

// patchesStrategicMerge and patches (strategic merge and JSON 6902 with targets).
Status apply_patches(const FileTree& tree, const Layer& layer, Resources& resources);
// patchesJson6902 (applied after labels and annotations, as kustomize orders it).
Status apply_legacy_json_patches(const FileTree& tree, const Layer& layer, Resources& resources);

// namespace, namePrefix/nameSuffix, labels/commonLabels, commonAnnotations.
Status apply_metadata_transformers(const Layer& layer, Resources& resources);
// replicas and images.
Status apply_replicas_and_images(const Layer& layer, Resources& resources);

// replacements (inline and `path:` files), after every other transformer of the layer.
Status apply_replacements(const FileTree& tree, const Layer& layer, Resources& resources);

// kustomize's generator hash of a ConfigMap or Secret ("5gch97b56c").
std::string generator_hash(const json& object);

// Top level only: hash suffixes, reference updates, kustomize's legacy output order.
void finalize(Resources& resources);

// Renames a resource, remembering the old name for reference updates.
void rename(Resource& resource, const std::string& name);
// Records the object's current (name, namespace) among the ids it had.
void remember_id(Resource& resource);
std::string name_of(const json& object);
std::string namespace_of(const json& object);
std::string kind_of(const json& object);

}  // namespace plumbline::renderer
