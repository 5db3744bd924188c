#include "render/budget.h"

#include <unordered_map>

namespace plumbline::renderer {

Result<std::string> BudgetedTree::read_file(std::string_view path) const {
  if (limits_.out_of_time && limits_.out_of_time()) {
    return Error(ErrorCode::kTimeout, "the render ran past its deadline", std::string(path));
  }
  if (++files_ > limits_.max_files) {
    return invalid_input("the render reads more than " + std::to_string(limits_.max_files) +
                             " files (a symlink loop or a runaway kustomization?)",
                         std::string(path));
  }
  PL_ASSIGN_OR_RETURN(std::string text, inner_.read_file(path));
  bytes_ += text.size();
  if (bytes_ > limits_.max_bytes) {
    return invalid_input(
        "the render reads more than " + std::to_string(limits_.max_bytes) + " bytes of files",
        std::string(path));
  }
  return text;
}

std::string object_id(const json& object) {
  ObjectRef ref = ObjectRef::of(object);
  return api_group(ref.api_version) + "|" + ref.kind + "|" + ref.ns + "|" + ref.name;
}

Status check_rendered(const ManifestSet& objects, const RenderLimits& limits) {
  if (objects.size() > limits.max_objects) {
    return invalid_input("the render has " + std::to_string(objects.size()) +
                         " objects, more than the limit of " + std::to_string(limits.max_objects));
  }
  std::unordered_map<std::string, const Manifest*> seen;
  seen.reserve(objects.size());
  for (const auto& manifest : objects) {
    auto [it, inserted] = seen.emplace(object_id(manifest.object), &manifest);
    if (inserted) continue;
    return invalid_input("duplicate object " + manifest.ref().to_string() +
                             ", already declared in " + it->second->origin.to_string(),
                         manifest.origin.to_string());
  }
  return {};
}

}  // namespace plumbline::renderer
