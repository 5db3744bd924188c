// patches, patchesStrategicMerge and patchesJson6902: loading patch text (inline or from a
// file), choosing targets (selectors or the patch's own identity) and applying them.
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plumbline/core/yaml.h"
#include "render/kustomize.h"
#include "render/origins.h"
#include "render/patch.h"
#include "render/patch_lines.h"
#include "render/selectors.h"

namespace plumbline::renderer {
namespace {

Result<std::vector<Resource*>> select(const json& target, const std::string& at, const Layer& layer,
                                      Resources& resources) {
  PL_ASSIGN_OR_RETURN(ResourceSelector selector, ResourceSelector::compile(target, at, layer.file));
  std::vector<Resource*> out;
  for (auto& resource : resources) {
    if (selector.matches(resource)) out.push_back(&resource);
  }
  return out;
}

// The patch's own identity picks its target: kind, name (any name the object had), namespace.
std::vector<Resource*> select_by_identity(const json& patch, Resources& resources) {
  std::vector<Resource*> out;
  std::string kind = kind_of(patch), name = name_of(patch), ns = namespace_of(patch);
  std::string group = api_group(patch.value("apiVersion", json("")).is_string()
                                    ? patch.value("apiVersion", std::string{})
                                    : std::string{});
  for (auto& resource : resources) {
    const json& object = resource.manifest.object;
    if (kind_of(object) != kind) continue;
    if (api_group(ObjectRef::of(object).api_version) != group) continue;
    if (!ns.empty() && namespace_of(object) != ns) continue;
    bool named = false;
    for (const auto& seen : resource.names) named = named || seen == name;
    if (named) out.push_back(&resource);
  }
  return out;
}

Status apply_smp(Resource& resource, const PatchDocument& document, const std::string& at,
                 const Layer& layer) {
  const json& patch = document.value;
  const json before = resource.manifest.object;
  json identity = {{"apiVersion", resource.manifest.object["apiVersion"]},
                   {"kind", resource.manifest.object["kind"]},
                   {"name", name_of(resource.manifest.object)},
                   {"namespace", namespace_of(resource.manifest.object)}};
  auto merged = apply_strategic_merge(resource.manifest.object, patch);
  if (!merged) return invalid_input(at + ": " + merged.error().message(), layer.file);
  if (merged->is_null()) {
    resource.manifest.object = nullptr;  // `$patch: delete`: dropped by the caller
    return {};
  }
  // A patch never renames or moves its target.
  if (!merged->is_object() || !(*merged)["metadata"].is_object()) {
    return invalid_input(at + ": the patch removes the object's metadata", layer.file);
  }
  (*merged)["apiVersion"] = identity["apiVersion"];
  (*merged)["kind"] = identity["kind"];
  (*merged)["metadata"]["name"] = identity["name"];
  if (identity["namespace"] == "") {
    (*merged)["metadata"].erase("namespace");
  } else {
    (*merged)["metadata"]["namespace"] = identity["namespace"];
  }
  Status valid = validate_identity(*merged, resource.manifest.origin);
  if (!valid.ok()) return invalid_input(at + ": " + valid.error().message(), layer.file);
  resource.manifest.object = std::move(*merged);
  record_writes(resource.manifest, before, document.location, document.fields.get(), &patch);
  return {};
}

Status apply_json6902(Resource& resource, const PatchDocument& document, const std::string& at,
                      const Layer& layer) {
  const json& operations = document.value;
  auto patched = apply_json_patch(resource.manifest.object, operations);
  if (!patched) {
    return invalid_input(
        at + ": " + name_of(resource.manifest.object) + ": " + patched.error().message(),
        layer.file);
  }
  // Later steps rely on a well-formed identity; a patch that breaks it is the user's error.
  Status valid = validate_identity(*patched, resource.manifest.origin);
  if (!valid.ok()) return invalid_input(at + ": " + valid.error().message(), layer.file);
  // Operation by operation (each applies to the result of the one before), so every field
  // is attributed to the operation that wrote it last.
  for (size_t i = 0; i < operations.size(); ++i) {
    json before = resource.manifest.object;
    auto step = apply_json_patch(before, json::array({operations[i]}));
    if (!step) break;  // cannot happen: the whole list applied
    resource.manifest.object = std::move(*step);
    record_writes(resource.manifest, before,
                  i < document.operations.size() ? document.operations[i] : document.location);
  }
  resource.manifest.object = std::move(*patched);
  return {};
}

void drop_deleted(Resources& resources) {
  std::erase_if(resources, [](const Resource& r) { return r.manifest.object.is_null(); });
}

Result<std::vector<PatchDocument>> load_patch(const FileTree& tree, const Layer& layer,
                                              const json& entry, const std::string& at) {
  std::string text, file = layer.file;
  int line_offset = 0;  // an inline patch: its lines are lines of the kustomization
  if (entry.is_string()) {
    // patchesStrategicMerge entries are file paths or inline YAML.
    const std::string& value = entry.get_ref<const std::string&>();
    if (value.find('\n') != std::string::npos || value.find(':') != std::string::npos) {
      text = value;
      line_offset = layer.at(at).line;
    } else {
      auto path = join_tree_path(layer.dir, value);
      if (!path) {
        return Error(path.error().code(), at + ": path '" + value + "' leaves the repository root",
                     layer.file);
      }
      auto read = tree.read_file(*path);
      if (!read) return not_found(at + ": no such file '" + value + "'", layer.file);
      text = std::move(*read);
      file = *path;
    }
  } else if (entry.is_object() && entry.contains("patch") && entry["patch"].is_string()) {
    text = entry["patch"].get<std::string>();
    line_offset = layer.at(at + ".patch").line;
  } else if (entry.is_object() && entry.contains("path") && entry["path"].is_string()) {
    std::string value = entry["path"].get<std::string>();
    auto path = join_tree_path(layer.dir, value);
    if (!path) {
      return Error(path.error().code(), at + ".path: '" + value + "' leaves the repository root",
                   layer.file);
    }
    auto read = tree.read_file(*path);
    if (!read) return not_found(at + ".path: no such file '" + value + "'", layer.file);
    text = std::move(*read);
    file = *path;
  } else {
    return invalid_input(at + ": needs 'patch' or 'path'", layer.file);
  }
  auto documents = parse_yaml_documents(text, file, {.field_origins = true});
  if (!documents) return invalid_input(at + ": " + documents.error().to_string(), layer.file);
  std::vector<PatchDocument> out;
  for (auto& document : *documents) {
    if (document.value.is_null()) continue;
    out.push_back(located_patch(std::move(document), text, line_offset));
  }
  if (out.empty()) return invalid_input(at + ": empty patch", layer.file);
  return out;
}

Status apply_entry(const FileTree& tree, const Layer& layer, const json& entry,
                   const std::string& at, Resources& resources, bool json6902) {
  PL_ASSIGN_OR_RETURN(std::vector<PatchDocument> documents, load_patch(tree, layer, entry, at));
  const json* target = entry.is_object() && entry.contains("target") ? &entry["target"] : nullptr;
  for (const auto& document : documents) {
    const json& patch = document.value;
    bool is_json6902 = json6902 || patch.is_array();
    if (is_json6902) {
      if (!target) return invalid_input(at + ": a JSON 6902 patch needs a target", layer.file);
      PL_ASSIGN_OR_RETURN(auto selected, select(*target, at + ".target", layer, resources));
      for (Resource* resource : selected)
        PL_RETURN_IF_ERROR(apply_json6902(*resource, document, at, layer));
      continue;
    }
    if (!patch.is_object())
      return invalid_input(at + ": a patch must be a mapping or a list", layer.file);
    std::vector<Resource*> selected;
    if (target) {
      PL_ASSIGN_OR_RETURN(selected, select(*target, at + ".target", layer, resources));
    } else {
      selected = select_by_identity(patch, resources);
      if (selected.empty()) {
        return not_found(
            at + ": no resource matches " + kind_of(patch) + " '" + name_of(patch) + "'",
            layer.file);
      }
    }
    for (Resource* resource : selected)
      PL_RETURN_IF_ERROR(apply_smp(*resource, document, at, layer));
    drop_deleted(resources);
  }
  return {};
}

}  // namespace

Status apply_patches(const FileTree& tree, const Layer& layer, Resources& resources) {
  if (auto list = layer.spec.find("patchesStrategicMerge");
      list != layer.spec.end() && list->is_array()) {
    for (size_t i = 0; i < list->size(); ++i) {
      std::string at = "patchesStrategicMerge[" + std::to_string(i) + "]";
      if (!(*list)[i].is_string()) return invalid_input(at + ": must be a string", layer.file);
      PL_RETURN_IF_ERROR(apply_entry(tree, layer, (*list)[i], at, resources, false));
    }
  }
  if (auto list = layer.spec.find("patches"); list != layer.spec.end() && list->is_array()) {
    for (size_t i = 0; i < list->size(); ++i) {
      std::string at = "patches[" + std::to_string(i) + "]";
      if (!(*list)[i].is_object()) return invalid_input(at + ": must be a mapping", layer.file);
      for (const auto& [key, value] : (*list)[i].items()) {
        if (key != "patch" && key != "path" && key != "target" && key != "options") {
          return invalid_input(at + ": unknown field '" + key + "'", layer.file);
        }
      }
      PL_RETURN_IF_ERROR(apply_entry(tree, layer, (*list)[i], at, resources, false));
    }
  }
  return {};
}

Status apply_legacy_json_patches(const FileTree& tree, const Layer& layer, Resources& resources) {
  auto list = layer.spec.find("patchesJson6902");
  if (list == layer.spec.end() || !list->is_array()) return {};
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = "patchesJson6902[" + std::to_string(i) + "]";
    if (!(*list)[i].is_object()) return invalid_input(at + ": must be a mapping", layer.file);
    PL_RETURN_IF_ERROR(apply_entry(tree, layer, (*list)[i], at, resources, true));
  }
  return {};
}

}  // namespace plumbline::renderer
