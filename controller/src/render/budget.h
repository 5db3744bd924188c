// render/budget.h — internal: the caps of one render (plumbline::RenderLimits) and the checks
// every renderer runs on its result.
#pragma once

#include <string>

#include "plumbline/core/file_tree.h"
#include "plumbline/core/object.h"
#include "plumbline/render/render.h"

namespace plumbline::renderer {

// A FileTree that counts what is read through it and fails a read past the limits.
// Not thread-safe: one render, one thread.
class BudgetedTree : public FileTree {
 public:
  BudgetedTree(const FileTree& inner, const RenderLimits& limits)
      : inner_(inner), limits_(limits) {}

  Result<std::string> read_file(std::string_view path) const override;
  Result<std::vector<TreeEntry>> list_directory(std::string_view path) const override {
    return inner_.list_directory(path);
  }
  Result<EntryType> stat(std::string_view path) const override { return inner_.stat(path); }
  std::string describe() const override { return inner_.describe(); }
  Result<std::string> real_path(std::string_view path) const override {
    return inner_.real_path(path);
  }

 private:
  const FileTree& inner_;
  const RenderLimits& limits_;
  mutable size_t files_ = 0;
  mutable size_t bytes_ = 0;
};

// The object cap and unique ids (API group, kind, namespace, name): a second object with an
// id already seen is an error naming both declaration sites.
Status check_rendered(const ManifestSet& objects, const RenderLimits& limits);

// "apps|Deployment|shop|api": the key two objects may not share.
std::string object_id(const json& object);

}  // namespace plumbline::renderer
