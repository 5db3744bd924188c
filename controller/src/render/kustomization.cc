// Loading and validating kustomization files, walking resources, and running one layer's
// steps in kustomize's order. Any error stops the build: no partial output.
#include <exception>
#include <map>
#include <set>
#include <string>

#include "plumbline/render.h"
#include "plumbline/yaml.h"
#include "render/budget.h"
#include "render/kustomize.h"

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
                                                       "sortOptions"};
const std::set<std::string, std::less<>> kUnsupported = {
    "components",  "replacements", "vars",       "crds",       "openapi",        "helmCharts",
    "helmGlobals", "transformers", "generators", "validators", "configurations", "images.yaml"};

Status validate(const Layer& layer) {
  if (!layer.spec.is_object())
    return invalid_input("a kustomization must be a mapping", layer.file);
  for (const auto& [key, value] : layer.spec.items()) {
    if (kUnsupported.count(key)) {
      return invalid_input(
          "field '" + key +
              "' is not supported by plumbline's kustomize; use render type 'command'",
          layer.file);
    }
    if (!kSupported.count(key)) return invalid_input("unknown field '" + key + "'", layer.file);
  }
  for (const char* key :
       {"resources", "bases", "patchesStrategicMerge", "patchesJson6902", "patches", "images",
        "replicas", "configMapGenerator", "secretGenerator", "labels"}) {
    auto it = layer.spec.find(key);
    if (it != layer.spec.end() && !it->is_null() && !it->is_array()) {
      return invalid_input(std::string(key) + ": must be a list", layer.file);
    }
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

Result<Resources> build(const FileTree& tree, const std::string& dir,
                        std::vector<std::string>& stack);

Status add_resources(const FileTree& tree, const Layer& layer, const char* field,
                     Resources& resources, std::vector<std::string>& stack) {
  auto list = layer.spec.find(field);
  if (list == layer.spec.end() || list->is_null()) return {};
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    const json& entry = (*list)[i];
    if (!entry.is_string()) return invalid_input(at + ": must be a string", layer.file);
    const std::string& name = entry.get_ref<const std::string&>();
    if (name.find("://") != std::string::npos || name.rfind("github.com/", 0) == 0) {
      return invalid_input(at + ": remote resource '" + name + "' is not supported", layer.file);
    }
    auto path = join_tree_path(layer.dir, name);
    if (!path) {
      return Error(path.error().code(), at + ": path '" + name + "' leaves the repository root",
                   layer.file);
    }
    auto type = tree.stat(*path);
    if (!type) {
      if (type.error().code() == ErrorCode::kNotFound) {
        return not_found(at + ": no such file '" + name + "'", layer.file);
      }
      return Error(type.error().code(), at + ": " + type.error().to_string(), layer.file);
    }
    if (*type == EntryType::kFile) {
      PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(*path));
      ManifestSet manifests;
      PL_RETURN_IF_ERROR(append_documents(text, *path, manifests));
      for (auto& manifest : manifests) {
        Resource resource{std::move(manifest), {}, false};
        resource.manifest.base_name = name_of(resource.manifest.object);
        resource.names.push_back(resource.manifest.base_name);
        resources.push_back(std::move(resource));
      }
      continue;
    }
    PL_ASSIGN_OR_RETURN(auto nested, find_kustomization(tree, *path));
    if (!nested) {
      return invalid_input(at + ": directory '" + name + "' has no kustomization.yaml", layer.file);
    }
    // By real path, so a symlink back to an open layer (`x -> .`) is a cycle too.
    PL_ASSIGN_OR_RETURN(std::string real, tree.real_path(*path));
    for (const auto& open : stack) {
      if (open == real) return invalid_input(at + ": cycle through '" + name + "'", layer.file);
    }
    PL_ASSIGN_OR_RETURN(Resources built, build(tree, *path, stack));
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

Result<Resources> build(const FileTree& tree, const std::string& dir,
                        std::vector<std::string>& stack) {
  if (stack.size() >= kMaxLayers) return invalid_input("kustomizations nest too deep", dir);
  PL_ASSIGN_OR_RETURN(auto file, find_kustomization(tree, dir));
  if (!file) return not_found("no kustomization.yaml in '" + dir + "'", dir);
  PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(*file));
  Layer layer{*file, dir, json::object(), nullptr};
  PL_ASSIGN_OR_RETURN(auto documents, parse_yaml_documents(text, *file, {.field_origins = true}));
  if (documents.size() > 1) return invalid_input("a kustomization must be one document", *file);
  if (!documents.empty() && !documents[0].value.is_null()) {
    layer.spec = std::move(documents[0].value);
    layer.fields = std::move(documents[0].fields);
  }
  PL_RETURN_IF_ERROR(validate(layer));

  PL_ASSIGN_OR_RETURN(std::string real, tree.real_path(dir));
  stack.push_back(std::move(real));
  Resources resources;
  PL_RETURN_IF_ERROR(add_resources(tree, layer, "resources", resources, stack));
  PL_RETURN_IF_ERROR(add_resources(tree, layer, "bases", resources, stack));
  stack.pop_back();
  PL_RETURN_IF_ERROR(run_generators(tree, layer, resources));
  PL_RETURN_IF_ERROR(check_unique(layer, resources));
  PL_RETURN_IF_ERROR(apply_patches(tree, layer, resources));
  PL_RETURN_IF_ERROR(apply_metadata_transformers(layer, resources));
  PL_RETURN_IF_ERROR(apply_legacy_json_patches(tree, layer, resources));
  PL_RETURN_IF_ERROR(apply_replicas_and_images(layer, resources));
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
  const SourceLocation* found = fields ? nearest_origin(*fields, path) : nullptr;
  return found != nullptr ? *found : SourceLocation{file, 0, 0};
}

void rename(Resource& resource, const std::string& name) {
  resource.manifest.object["metadata"]["name"] = name;
  resource.names.push_back(name);
}

}  // namespace plumbline::renderer

namespace plumbline {

namespace {

Result<ManifestSet> render_kustomize_unguarded(const FileTree& files, std::string_view path,
                                               const RenderLimits& limits) {
  renderer::BudgetedTree tree(files, limits);
  PL_ASSIGN_OR_RETURN(std::string dir, join_tree_path("", path));
  std::vector<std::string> stack;
  PL_ASSIGN_OR_RETURN(renderer::Resources resources, renderer::build(tree, dir, stack));
  renderer::finalize(resources);
  ManifestSet out;
  out.reserve(resources.size());
  for (auto& resource : resources) out.push_back(std::move(resource.manifest));
  PL_RETURN_IF_ERROR(renderer::check_rendered(out, limits));
  return out;
}

}  // namespace

Result<ManifestSet> render_kustomize(const FileTree& tree, std::string_view path,
                                     const RenderLimits& limits) {
  // The module boundary: the code above checks types before it reads, so an exception here
  // is a bug in plumbline (kInternal; the fuzzer treats it as a crash), never a partial set.
  try {
    return render_kustomize_unguarded(tree, path, limits);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("kustomize renderer bug: ") + e.what(),
                 std::string(path));
  }
}

}  // namespace plumbline
