// render/budget.h — internal: the caps of one render (plumbline::RenderLimits) and the checks
// every renderer runs on its result.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/core/object.h"
#include "plumbline/render/render.h"

namespace plumbline::renderer {

// A FileTree that counts what is read through it and fails a read past the limits.
// Not thread-safe: one render, one thread.
//
// A remote base's repository is mounted under a token directory (kMountMark + a number) of
// a BudgetedTree that shares the render's counters: its paths ("\x1e0/base/x.yaml") never
// meet the repository's own, a relative path that leaves the mount is refused, and the
// renderer replaces the token by the repository's label once the render is done.
inline constexpr char kMountMark = '\x1e';

class BudgetedTree : public FileTree {
 public:
  BudgetedTree(const FileTree& inner, const RenderLimits& limits)
      : inner_(inner), limits_(limits), counts_(std::make_shared<Counts>()) {}
  // `inner` under the directory `mount`, counted with `budget`'s reads.
  BudgetedTree(const FileTree& inner, const BudgetedTree& budget, std::string mount)
      : inner_(inner), limits_(budget.limits_), counts_(budget.counts_), mount_(std::move(mount)) {}

  Result<std::string> read_file(std::string_view path) const override;
  Result<std::vector<TreeEntry>> list_directory(std::string_view path) const override;
  Result<EntryType> stat(std::string_view path) const override;
  std::string describe() const override { return inner_.describe(); }
  Result<std::string> real_path(std::string_view path) const override;
  std::optional<std::string> content_id(std::string_view path) const override;
  const std::string& mount() const { return mount_; }
  // Counts a file of `bytes` as read without reading it (a parse reused from a ParseCache):
  // the same deadline, file and byte checks as read_file.
  Status charge(std::string_view path, size_t bytes) const;

 private:
  struct Counts {
    size_t files = 0;
    size_t bytes = 0;
  };
  Status count_file(std::string_view path) const;
  Status count_bytes(std::string_view path, size_t bytes) const;
  // The path in `inner_`; std::nullopt for the mount's own parent (the root, which holds only
  // the mount). A path outside the mount is kPermissionDenied.
  Result<std::optional<std::string>> inner_path(std::string_view path) const;

  const FileTree& inner_;
  const RenderLimits& limits_;
  std::shared_ptr<Counts> counts_;
  std::string mount_;  // "" for the repository of the render itself
};

// The object cap and unique ids (API group, kind, namespace, name): a second object with an
// id already seen is an error naming both declaration sites.
Status check_rendered(const ManifestSet& objects, const RenderLimits& limits);
Status check_rendered(const CompactManifestSet& objects, const RenderLimits& limits);

// "apps|Deployment|shop|api": the key two objects may not share.
std::string object_id(const json& object);
std::string object_id(const ObjectRef& ref);

}  // namespace plumbline::renderer
