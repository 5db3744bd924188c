// Strategic merge patch as kustomize applies it: maps merge, keyed lists merge by their
// Kubernetes merge key, other lists are replaced, null deletes a key, `$patch:
// delete|replace|merge` directives. kustomize knows no other directive: `$setElementOrder/…`,
// `$retainKeys` and `$deleteFromPrimitiveList/…` are copied into the object like any field
// (what `kubectl kustomize` prints, and what a GitOps tool using kustomize would apply).
#include <string>
#include <string_view>
#include <vector>

#include "render/patch.h"

namespace plumbline::renderer {
namespace {

// Nesting bound: patches come from users (and fuzzers); recursion must not exhaust the stack.
constexpr int kMaxDepth = 256;

// The merge key of a list, by field name. Kubernetes declares these per type; the renderer
// only needs the pod-spec lists environment overlays touch. `ports` is keyed by containerPort
// in containers and by port in a Service, so the elements decide.
std::string merge_key_for(std::string_view field, const json& base, const json& patch) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets" ||
      field == "volumeClaimTemplates" || field == "hostAliases") {
    return field == "hostAliases" ? "ip" : "name";
  }
  if (field == "volumeMounts" || field == "volumeDevices") {
    return field == "volumeMounts" ? "mountPath" : "devicePath";
  }
  if (field == "topologySpreadConstraints") return "topologyKey";
  if (field == "ports") {
    for (const json* list : {&base, &patch}) {
      for (const auto& item : *list) {
        if (item.is_object() && item.contains("containerPort")) return "containerPort";
      }
    }
    return "port";
  }
  return {};
}

bool is_directive_key(const std::string& key) { return key == "$patch"; }

std::string directive_of(const json& value) {
  if (!value.is_object()) return {};
  auto it = value.find("$patch");
  return it != value.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

Result<json> merge_value(const json& base, const json& patch, std::string_view field, int depth);

// A copy of a patch value with its directives and null deletions resolved against nothing,
// for elements and keys the base does not have.
Result<json> fresh(const json& patch, int depth) {
  if (patch.is_object()) return merge_value(json::object(), patch, "", depth + 1);
  return patch;
}

Result<json> merge_object(const json& base, const json& patch, int depth) {
  if (depth > kMaxDepth) return invalid_input("patch nests deeper than 256 levels");
  std::string directive = directive_of(patch);
  if (directive == "replace") {
    json out = json::object();
    for (const auto& [key, value] : patch.items()) {
      if (!is_directive_key(key)) out[key] = value;
    }
    return out;
  }
  if (!directive.empty() && directive != "merge" && directive != "delete") {
    return invalid_input("unknown $patch directive '" + directive + "'");
  }
  json out = base.is_object() ? base : json::object();
  for (const auto& [key, value] : patch.items()) {
    if (is_directive_key(key)) continue;
    if (value.is_null()) {
      out.erase(key);
      continue;
    }
    auto it = out.find(key);
    if (it == out.end()) {
      if (directive_of(value) == "delete") continue;
      PL_ASSIGN_OR_RETURN(json added, fresh(value, depth));
      if (value.is_array()) {
        PL_ASSIGN_OR_RETURN(added, merge_value(json::array(), value, key, depth + 1));
      }
      out[key] = std::move(added);
      continue;
    }
    if (directive_of(value) == "delete") {
      out.erase(it);
      continue;
    }
    PL_ASSIGN_OR_RETURN(json merged, merge_value(*it, value, key, depth + 1));
    out[key] = std::move(merged);
  }
  return out;
}

Result<json> merge_list(const json& base, const json& patch, std::string_view field, int depth) {
  if (depth > kMaxDepth) return invalid_input("patch nests deeper than 256 levels");
  // `- $patch: replace` in a patch list replaces the whole list with the other elements.
  bool replace = false;
  for (const auto& item : patch) replace = replace || directive_of(item) == "replace";
  std::string key = merge_key_for(field, base, patch);
  if (replace || key.empty() || !base.is_array()) {
    json out = json::array();
    for (const auto& item : patch) {
      std::string directive = directive_of(item);
      if (directive == "replace" && item.size() == 1) continue;
      if (directive == "delete") continue;
      PL_ASSIGN_OR_RETURN(json value, fresh(item, depth));
      out.push_back(std::move(value));
    }
    return out;
  }
  // kubectl orders the result like the patch: patched and new elements in patch order,
  // then the base elements the patch does not mention, in base order.
  json out = json::array();
  std::vector<bool> mentioned(base.size(), false);
  for (const auto& item : patch) {
    auto id = item.is_object() ? item.find(key) : item.end();
    if (!item.is_object() || id == item.end()) {
      // An element without its merge key cannot be matched; kubectl rejects it too.
      return invalid_input("element of '" + std::string(field) + "' has no merge key '" + key +
                           "'");
    }
    bool deleting = directive_of(item) == "delete";
    const json* existing = nullptr;
    for (size_t i = 0; i < base.size(); ++i) {
      if (!base[i].is_object()) continue;
      auto existing_id = base[i].find(key);
      if (existing_id == base[i].end() || *existing_id != *id) continue;
      mentioned[i] = true;
      if (!existing) existing = &base[i];
    }
    if (deleting) continue;
    if (existing) {
      PL_ASSIGN_OR_RETURN(json merged, merge_object(*existing, item, depth + 1));
      out.push_back(std::move(merged));
    } else {
      PL_ASSIGN_OR_RETURN(json value, fresh(item, depth));
      out.push_back(std::move(value));
    }
  }
  for (size_t i = 0; i < base.size(); ++i) {
    if (!mentioned[i]) out.push_back(base[i]);
  }
  return out;
}

Result<json> merge_value(const json& base, const json& patch, std::string_view field, int depth) {
  if (depth > kMaxDepth) return invalid_input("patch nests deeper than 256 levels");
  if (patch.is_object()) return merge_object(base, patch, depth);
  if (patch.is_array()) return merge_list(base, patch, field, depth);
  return patch;
}

}  // namespace

Result<json> apply_strategic_merge(const json& base, const json& patch) {
  if (!patch.is_object()) return invalid_input("a strategic merge patch must be a mapping");
  if (directive_of(patch) == "delete") return json(nullptr);
  return merge_value(base, patch, "", 0);
}

}  // namespace plumbline::renderer
