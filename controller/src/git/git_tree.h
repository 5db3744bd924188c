// git/git_tree.h — internal: a FileTree over one commit's tree, read straight from the object
// database (no checkout).
#pragma once

#include <string>

#include "git/libgit2.h"
#include "plumbline/core/file_tree.h"

namespace plumbline::git {

// Takes ownership of the repository; `commit` must be in it. `label` is the repo as shown
// to users (URL without password, or local path).
Result<FileTreePtr> make_git_tree(RepositoryPtr repo, const git_oid& commit, std::string label);

}  // namespace plumbline::git
