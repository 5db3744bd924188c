// Loading and validating kustomization files, walking resources, and running one layer's
// steps in kustomize's order. Any error stops the build: no partial output.
#include <exception>
#include <map>
#include <set>
#include <string>

#include "plumbline/core/yaml.h"
#include "plumbline/render/render.h"
#include "render/budget.h"
#include "render/kustomize.h"
#include "render/remote_mounts.h"

namespace plumbline::renderer {
namespace {

constexpr int kMaxLayers = 32;

// Fields we implement; kustomize fields we do not are rejected by name so that a user never
// gets output that silently ignores part of their kustomization.
const std::set<std::string, std::less<>> kSupported = {"apiVersion",
                                                       "kind",
                                                       "metadata",
                                                       "resources",
                                                       "bases",
                                                       "namespace",
                                                       "namePrefix",
                                                       "nameSuffix",
                                                       "labels",
                                                       "commonLabels",
                                                       "commonAnnotations",
                                                       "images",
                                                       "replicas",
                                                       "patches",
                                                       "patchesStrategicMerge",
                                                       "patchesJson6902",
                                                       "configMapGenerator",
                                                       "secretGenerator",
                                                       "generatorOptions",
                                                       "buildMetadata",
                                                       "sortOptions",
                                                       "components",
                                                       "replacements",
                                                       "helmCharts",
                                                       "helmGlobals"};
const std::set<std::string, std::less<>> kUnsupported = {
    "vars",       "crds",       "openapi",        "transformers",
    "generators", "validators", "configurations", "images.yaml"};

Status validate(const Layer& layer) {
  if (!layer.spec.is_object())
    return invalid_input("a kustomization must be a mapping", layer.file);
  for (const auto& [key, value] : layer.spec.items()) {
    if (kUnsupported.count(key)) {
      return invalid_input(
          "field '" + key +
              "' is not supported by plumbline's kustomize; use render type 'command' "
              "(e.g. kustomize build)",
          layer.file);
    }
    if (!kSupported.count(key)) return invalid_input("unknown field '" + key + "'", layer.file);
  }
  for (const char* key : {"resources", "bases", "patchesStrategicMerge", "patchesJson6902",
                          "patches", "images", "replicas", "configMapGenerator", "secretGenerator",
                          "labels", "components", "replacements", "helmCharts"}) {
    auto it = layer.spec.find(key);
    if (it != layer.spec.end() && !it->is_null() && !it->is_array()) {
      return invalid_input(std::string(key) + ": must be a list", layer.file);
    }
  }
  if (auto kind = layer.spec.find("kind"); kind != layer.spec.end() && !kind->is_null() &&
                                           *kind != "Kustomization" && *kind != "Component") {
    return invalid_input("kind: must be Kustomization or Component", layer.file);
  }
  for (const char* key : {"namespace", "namePrefix", "nameSuffix"}) {
    auto it = layer.spec.find(key);
    if (it != layer.spec.end() && !it->is_null() && !it->is_string()) {
      return invalid_input(std::string(key) + ": must be a string", layer.file);
    }
  }
  for (const char* key : {"commonLabels", "commonAnnotations", "generatorOptions"}) {
    auto it = layer.spec.find(key);
    if (it != layer.spec.end() && !it->is_null() && !it->is_object()) {
      return invalid_input(std::string(key) + ": must be a mapping", layer.file);
    }
  }
  return {};
}

// `context`: the layer whose render-wide parts (budgets, external, remote bases) the new one
// shares; `remote_depth`: the new one's.
Result<Layer> load_layer(const FileTree& tree, const std::string& dir, const Layer& context,
                         size_t remote_depth);
Status accumulate(const FileTree& tree, const Layer& layer, Resources& resources,
                  std::vector<std::string>& stack);

bool is_component(const Layer& layer) {
  auto kind = layer.spec.find("kind");
  return kind != layer.spec.end() && *kind == "Component";
}

// A nested kustomization or component directory: its layer, after checking for a cycle
// through the layers still open (by real path, so a symlink `x -> .` is a cycle too).
Result<Layer> open_directory(const FileTree& tree, const Layer& layer, const std::string& at,
                             const std::string& name, const std::string& path,
                             const std::vector<std::string>& stack, size_t remote_depth) {
  PL_ASSIGN_OR_RETURN(auto nested, find_kustomization(tree, path));
  if (!nested) {
    return invalid_input(at + ": directory '" + name + "' has no kustomization.yaml", layer.file);
  }
  PL_ASSIGN_OR_RETURN(std::string real, tree.real_path(path));
  for (const auto& open : stack) {
    if (open == real) return invalid_input(at + ": cycle through '" + name + "'", layer.file);
  }
  if (stack.size() >= kMaxLayers) return invalid_input("kustomizations nest too deep", path);
  return load_layer(tree, path, layer, remote_depth);
}

// An entry of `resources` or `components`: a string naming a path inside the repository that
// exists, or a remote base (a directory of another repository, mounted in `tree`). `missing`
// names what a missing one should have been ("file").
struct ListedEntry {
  std::string name;
  std::string path;
  EntryType type;
  const FileTree* tree;  // where `path` is read
  size_t remote_depth;   // of a layer at `path`
};

Result<ListedEntry> resolve_remote(const Layer& layer, const std::string& at,
                                   const std::string& name) {
  Result<RemoteBase> base = parse_remote_base(name);
  if (!base.ok()) {
    return invalid_input(at + ": malformed remote base URL: " + base.error().to_string(),
                         layer.file);
  }
  if (layer.remote == nullptr) {
    return Error(ErrorCode::kInternal, at + ": no remote base mounts", layer.file);
  }
  PL_ASSIGN_OR_RETURN(const BudgetedTree* mounted,
                      layer.remote->open(*base, layer.remote_depth, layer.file + ": " + at));
  std::string path = base->path.empty() ? mounted->mount() : mounted->mount() + "/" + base->path;
  auto type = mounted->stat(path);
  if (!type) {
    std::string why = type.error().code() == ErrorCode::kNotFound
                          ? "no directory '" + base->path + "' in the repository"
                          : type.error().message();
    return Error(type.error().code(), at + ": remote base " + base->display() + ": " + why,
                 layer.file);
  }
  if (*type != EntryType::kDirectory) {
    return invalid_input(
        at + ": remote base " + base->display() + " is a file; a remote base names a directory",
        layer.file);
  }
  return ListedEntry{name, std::move(path), *type, mounted, layer.remote_depth + 1};
}

Result<ListedEntry> resolve_entry(const FileTree& tree, const Layer& layer, const std::string& at,
                                  const json& entry, const char* missing) {
  if (!entry.is_string()) return invalid_input(at + ": must be a string", layer.file);
  const std::string& name = entry.get_ref<const std::string&>();
  if (is_remote_base(name)) return resolve_remote(layer, at, name);
  auto path = join_tree_path(layer.dir, name);
  if (!path) {
    return Error(path.error().code(), at + ": path '" + name + "' leaves the repository root",
                 layer.file);
  }
  auto type = tree.stat(*path);
  if (!type) {
    if (type.error().code() == ErrorCode::kNotFound) {
      return not_found(at + ": no such " + missing + " '" + name + "'", layer.file);
    }
    return Error(type.error().code(), at + ": " + type.error().to_string(), layer.file);
  }
  return ListedEntry{name, std::move(*path), *type, &tree, layer.remote_depth};
}

Status add_resources(const FileTree& tree, const Layer& layer, const char* field,
                     Resources& resources, std::vector<std::string>& stack) {
  auto list = layer.spec.find(field);
  if (list == layer.spec.end() || list->is_null()) return {};
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    PL_ASSIGN_OR_RETURN(ListedEntry listed, resolve_entry(tree, layer, at, (*list)[i], "file"));
    const std::string& name = listed.name;
    if (listed.type == EntryType::kFile) {
      ManifestSet manifests;
      // Every tree of a render is a BudgetedTree (the repository's, or a mounted remote base).
      if (const auto* budgeted = dynamic_cast<const BudgetedTree*>(listed.tree)) {
        PL_RETURN_IF_ERROR(append_file(*budgeted, listed.path, layer.parse_cache, manifests));
      } else {
        PL_ASSIGN_OR_RETURN(std::string text, listed.tree->read_file(listed.path));
        PL_RETURN_IF_ERROR(append_documents(text, listed.path, manifests));
      }
      for (auto& manifest : manifests) {
        Resource resource{std::move(manifest), {}, false};
        resource.manifest.base_name = name_of(resource.manifest.object);
        remember_id(resource);
        resources.push_back(std::move(resource));
      }
      continue;
    }
    PL_ASSIGN_OR_RETURN(Layer nested, open_directory(*listed.tree, layer, at, name, listed.path,
                                                     stack, listed.remote_depth));
    if (is_component(nested)) {
      return invalid_input(at + ": '" + name + "' is a kind: Component; list it under components",
                           layer.file);
    }
    Resources built;
    PL_RETURN_IF_ERROR(accumulate(*listed.tree, nested, built, stack));
    for (auto& resource : built) resources.push_back(std::move(resource));
  }
  return {};
}

Status check_unique(const Layer& layer, const Resources& resources) {
  std::map<std::string, const Manifest*> seen;
  for (const auto& resource : resources) {
    const json& object = resource.manifest.object;
    auto [it, inserted] = seen.emplace(object_id(object), &resource.manifest);
    if (!inserted) {
      return invalid_input(
          "may not add resource with an already registered id: " + kind_of(object) + " " +
              name_of(object) + " (from " + resource.manifest.origin.to_string() + " and " +
              it->second->origin.to_string() + ")",
          layer.file);
    }
  }
  return {};
}

// Components share the accumulated resources of the kustomization that lists them: their
// resources and generators add to it, their transformers apply to all of it, before the
// including layer's own transformers run (kustomize's order).
Status add_components(const FileTree& tree, const Layer& layer, Resources& resources,
                      std::vector<std::string>& stack) {
  auto list = layer.spec.find("components");
  if (list == layer.spec.end() || list->is_null()) return {};
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = "components[" + std::to_string(i) + "]";
    PL_ASSIGN_OR_RETURN(ListedEntry listed,
                        resolve_entry(tree, layer, at, (*list)[i], "directory"));
    const std::string& name = listed.name;
    if (listed.type != EntryType::kDirectory) {
      return invalid_input(at + ": '" + name + "' is not a directory", layer.file);
    }
    PL_ASSIGN_OR_RETURN(Layer component, open_directory(*listed.tree, layer, at, name, listed.path,
                                                        stack, listed.remote_depth));
    if (!is_component(component)) {
      return invalid_input(at + ": '" + name + "' is not a kind: Component", layer.file);
    }
    PL_RETURN_IF_ERROR(accumulate(*listed.tree, component, resources, stack));
  }
  return {};
}

Result<Layer> load_layer(const FileTree& tree, const std::string& dir, const Layer& context,
                         size_t remote_depth) {
  PL_ASSIGN_OR_RETURN(auto file, find_kustomization(tree, dir));
  if (!file) return not_found("no kustomization.yaml in '" + dir + "'", dir);
  PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(*file));
  Layer layer;
  layer.file = *file;
  layer.dir = dir;
  layer.spec = json::object();
  layer.replacement_budget = context.replacement_budget;
  layer.external = context.external;
  layer.remote = context.remote;
  layer.remote_depth = remote_depth;
  layer.parse_cache = context.parse_cache;
  PL_ASSIGN_OR_RETURN(auto documents, parse_yaml_documents(text, *file, {.field_origins = true}));
  if (documents.size() > 1) return invalid_input("a kustomization must be one document", *file);
  if (!documents.empty() && !documents[0].value.is_null()) {
    layer.spec = std::move(documents[0].value);
    layer.fields = std::move(documents[0].fields);
  }
  PL_RETURN_IF_ERROR(validate(layer));
  return layer;
}

// One layer's steps in kustomize's order, adding to `resources` (empty for a kustomization,
// the including layer's for a component).
Status accumulate(const FileTree& tree, const Layer& layer, Resources& resources,
                  std::vector<std::string>& stack) {
  PL_ASSIGN_OR_RETURN(std::string real, tree.real_path(layer.dir));
  stack.push_back(std::move(real));
  PL_RETURN_IF_ERROR(add_resources(tree, layer, "resources", resources, stack));
  PL_RETURN_IF_ERROR(add_resources(tree, layer, "bases", resources, stack));
  PL_RETURN_IF_ERROR(run_generators(tree, layer, resources));
  PL_RETURN_IF_ERROR(inflate_helm_charts(tree, layer, resources));
  PL_RETURN_IF_ERROR(check_unique(layer, resources));
  PL_RETURN_IF_ERROR(add_components(tree, layer, resources, stack));
  stack.pop_back();
  PL_RETURN_IF_ERROR(apply_patches(tree, layer, resources));
  PL_RETURN_IF_ERROR(apply_metadata_transformers(layer, resources));
  PL_RETURN_IF_ERROR(apply_legacy_json_patches(tree, layer, resources));
  PL_RETURN_IF_ERROR(apply_replicas_and_images(layer, resources));
  return apply_replacements(tree, layer, resources);
}

Result<Resources> build(const FileTree& tree, const std::string& dir, const RenderOptions& options,
                        RemoteMounts& remote) {
  Layer context;
  context.replacement_budget = std::make_shared<size_t>(kMaxReplacementBytes);
  context.external = options.external;
  context.remote = &remote;
  context.parse_cache = options.parse_cache;
  PL_ASSIGN_OR_RETURN(Layer layer, load_layer(tree, dir, context, 0));
  std::vector<std::string> stack;
  Resources resources;
  PL_RETURN_IF_ERROR(accumulate(tree, layer, resources, stack));
  return resources;
}

}  // namespace

Result<std::optional<std::string>> find_kustomization(const FileTree& tree,
                                                      const std::string& dir) {
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    std::string path = dir.empty() ? name : dir + "/" + name;
    auto type = tree.stat(path);
    if (type && *type == EntryType::kFile) return std::optional<std::string>(path);
    if (!type && type.error().code() != ErrorCode::kNotFound) return std::move(type).error();
  }
  return std::optional<std::string>();
}

std::string name_of(const json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get<std::string>() : std::string{};
}

std::string namespace_of(const json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  auto ns = meta->find("namespace");
  return ns != meta->end() && ns->is_string() ? ns->get<std::string>() : std::string{};
}

std::string kind_of(const json& object) {
  auto kind = object.find("kind");
  return kind != object.end() && kind->is_string() ? kind->get<std::string>() : std::string{};
}

SourceLocation Layer::at(std::string_view path) const {
  auto found = fields ? nearest_origin(*fields, path) : std::nullopt;
  return found ? *std::move(found) : SourceLocation{file, 0, 0};
}

void rename(Resource& resource, const std::string& name) {
  resource.manifest.object["metadata"]["name"] = name;
  remember_id(resource);
}

void remember_id(Resource& resource) {
  resource.names.push_back(name_of(resource.manifest.object));
  resource.namespaces.resize(resource.names.size() - 1);  // generators start with names only
  resource.namespaces.push_back(namespace_of(resource.manifest.object));
}

}  // namespace plumbline::renderer

namespace plumbline {

namespace {

Result<ManifestSet> render_kustomize_unguarded(const FileTree& files, std::string_view path,
                                               const RenderOptions& options) {
  const RenderLimits& limits = options.limits;
  renderer::BudgetedTree tree(files, limits);
  renderer::RemoteMounts remote(options.remote_bases, tree, limits);
  PL_ASSIGN_OR_RETURN(std::string dir, join_tree_path("", path));
  // Paths in remote bases' repositories name them by label in what leaves the renderer.
  Result<renderer::Resources> built = renderer::build(tree, dir, options, remote);
  if (!built.ok()) return remote.relabel(built.error());
  renderer::Resources& resources = *built;
  renderer::finalize(resources);
  ManifestSet out;
  out.reserve(resources.size());
  for (auto& resource : resources) out.push_back(std::move(resource.manifest));
  remote.relabel(out);
  if (Status checked = renderer::check_rendered(out, limits); !checked.ok()) {
    return remote.relabel(checked.error());
  }
  if (options.warnings != nullptr) {
    for (const std::string& warning : remote.warnings()) {
      options.warnings->push_back(remote.relabel(warning));
    }
  }
  return out;
}

}  // namespace

Result<ManifestSet> render_kustomize(const FileTree& tree, std::string_view path,
                                     const RenderLimits& limits, const ExternalRenderer* external) {
  return render_kustomize(tree, path, RenderOptions{.limits = limits, .external = external});
}

Result<ManifestSet> render_kustomize(const FileTree& tree, std::string_view path,
                                     const RenderOptions& options) {
  // The module boundary: the code above checks types before it reads, so an exception here
  // is a bug in plumbline (kInternal; the fuzzer treats it as a crash), never a partial set.
  try {
    return render_kustomize_unguarded(tree, path, options);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("kustomize renderer bug: ") + e.what(),
                 std::string(path));
  }
}

}  // namespace plumbline
