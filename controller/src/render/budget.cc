#include "render/budget.h"

#include <unordered_map>

namespace plumbline::renderer {

Result<std::optional<std::string>> BudgetedTree::inner_path(std::string_view path) const {
  if (mount_.empty()) {
    if (!path.empty() && path.front() == kMountMark) {
      return Error(ErrorCode::kPermissionDenied, "a path may not start with a control character",
                   std::string(path));
    }
    return std::optional<std::string>(path);
  }
  if (path.empty()) return std::optional<std::string>();
  if (path == mount_) return std::optional<std::string>("");
  if (path.size() > mount_.size() && path.starts_with(mount_) && path[mount_.size()] == '/') {
    return std::optional<std::string>(path.substr(mount_.size() + 1));
  }
  return Error(ErrorCode::kPermissionDenied, "path leaves the remote base's repository",
               std::string(path));
}

Status BudgetedTree::count_file(std::string_view path) const {
  if (limits_.out_of_time && limits_.out_of_time()) {
    return Error(ErrorCode::kTimeout, "the render ran past its deadline", std::string(path));
  }
  if (++counts_->files > limits_.max_files) {
    return invalid_input("the render reads more than " + std::to_string(limits_.max_files) +
                             " files (a symlink loop or a runaway kustomization? "
                             "--max-render-files raises the limit)",
                         std::string(path));
  }
  return {};
}

Status BudgetedTree::count_bytes(std::string_view path, size_t bytes) const {
  counts_->bytes += bytes;
  if (counts_->bytes > limits_.max_bytes) {
    return invalid_input("the render reads more than " + std::to_string(limits_.max_bytes) +
                             " bytes of files (--max-render-bytes raises the limit)",
                         std::string(path));
  }
  return {};
}

Status BudgetedTree::charge(std::string_view path, size_t bytes) const {
  PL_RETURN_IF_ERROR(count_file(path));
  return count_bytes(path, bytes);
}

Result<std::string> BudgetedTree::read_file(std::string_view path) const {
  PL_RETURN_IF_ERROR(count_file(path));
  PL_ASSIGN_OR_RETURN(std::optional<std::string> inner, inner_path(path));
  if (!inner) return invalid_input("is a directory", std::string(path));
  PL_ASSIGN_OR_RETURN(std::string text, inner_.read_file(*inner));
  PL_RETURN_IF_ERROR(count_bytes(path, text.size()));
  return text;
}

std::optional<std::string> BudgetedTree::content_id(std::string_view path) const {
  Result<std::optional<std::string>> inner = inner_path(path);
  if (!inner.ok() || !*inner) return std::nullopt;
  return inner_.content_id(**inner);
}

Result<std::vector<TreeEntry>> BudgetedTree::list_directory(std::string_view path) const {
  PL_ASSIGN_OR_RETURN(std::optional<std::string> inner, inner_path(path));
  if (!inner) return std::vector<TreeEntry>{{mount_, EntryType::kDirectory}};
  return inner_.list_directory(*inner);
}

Result<EntryType> BudgetedTree::stat(std::string_view path) const {
  PL_ASSIGN_OR_RETURN(std::optional<std::string> inner, inner_path(path));
  if (!inner) return EntryType::kDirectory;
  return inner_.stat(*inner);
}

Result<std::string> BudgetedTree::real_path(std::string_view path) const {
  PL_ASSIGN_OR_RETURN(std::optional<std::string> inner, inner_path(path));
  if (!inner) return std::string();
  PL_ASSIGN_OR_RETURN(std::string real, inner_.real_path(*inner));
  if (mount_.empty()) return real;
  return real.empty() ? mount_ : mount_ + "/" + real;
}

std::string object_id(const json& object) { return object_id(ObjectRef::of(object)); }

std::string object_id(const ObjectRef& ref) {
  return api_group(ref.api_version) + "|" + ref.kind + "|" + ref.ns + "|" + ref.name;
}

namespace {

// The cap and unique ids over any set: ref_at(i) and origin_at(i) read its i-th object.
template <typename RefAt, typename OriginAt>
Status check_ids(size_t count, const RenderLimits& limits, RefAt ref_at, OriginAt origin_at) {
  if (count > limits.max_objects) {
    return invalid_input("the render has " + std::to_string(count) +
                         " objects, more than the limit of " + std::to_string(limits.max_objects) +
                         " (--max-render-objects raises it)");
  }
  std::unordered_map<std::string, size_t> seen;
  seen.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const ObjectRef& ref = ref_at(i);
    auto [it, inserted] = seen.emplace(object_id(ref), i);
    if (inserted) continue;
    return invalid_input("duplicate object " + ref.to_string() + ", already declared in " +
                             origin_at(it->second).to_string(),
                         origin_at(i).to_string());
  }
  return {};
}

}  // namespace

Status check_rendered(const ManifestSet& objects, const RenderLimits& limits) {
  std::vector<ObjectRef> refs;
  refs.reserve(objects.size());
  for (const Manifest& m : objects) refs.push_back(m.ref());
  return check_ids(
      objects.size(), limits, [&](size_t i) -> const ObjectRef& { return refs[i]; },
      [&](size_t i) -> const SourceLocation& { return objects[i].origin; });
}

Status check_rendered(const CompactManifestSet& objects, const RenderLimits& limits) {
  return check_ids(
      objects.size(), limits, [&](size_t i) -> const ObjectRef& { return objects[i].ref(); },
      [&](size_t i) -> const SourceLocation& { return objects[i].origin(); });
}

}  // namespace plumbline::renderer
