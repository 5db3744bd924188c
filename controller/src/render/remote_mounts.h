// render/remote_mounts.h — internal: the remote bases of one kustomize render, each repository
// fetched once per ref and mounted under a token directory of a BudgetedTree (budget.h), and
// the labels that replace the tokens in the result, its errors and warnings.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"
#include "plumbline/render/remote_base.h"
#include "render/budget.h"

namespace plumbline::renderer {

class RemoteMounts {
 public:
  RemoteMounts(RemoteBaseFetcher* fetcher, const BudgetedTree& root, const RenderLimits& limits)
      : fetcher_(fetcher), root_(root), limits_(limits) {}

  // The tree `base`'s repository is mounted in, listed by `at` (file and field, for errors and
  // warnings) in a layer `depth` remote bases deep. Counts one more remote base; an unpinned
  // ref adds a warning (once per entry).
  Result<const BudgetedTree*> open(const RemoteBase& base, size_t depth, const std::string& at);

  // `text` with every mount token replaced by its repository's label
  // ("\x1e0/base/x.yaml" -> "https://github.com/org/repo@v1//base/x.yaml").
  std::string relabel(std::string_view text) const;
  Error relabel(const Error& error) const;
  void relabel(ManifestSet& objects) const;

  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Mount {
    RemoteBase base;  // repo and ref; the path is the listing's
    FetchedRepository fetched;
    std::unique_ptr<BudgetedTree> tree;
    std::string label;  // "<repo without credentials>@<ref or commit>/"
  };
  RemoteBaseFetcher* fetcher_;
  const BudgetedTree& root_;
  const RenderLimits& limits_;
  std::vector<std::unique_ptr<Mount>> mounts_;
  size_t listed_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace plumbline::renderer
