// plumbline/render/remote_base.h — kustomize remote bases: a `resources:` or `components:`
// entry that names a directory of another Git repository, in kustomize's URL forms:
//
//   github.com/org/repo//deploy/base?ref=v1.2.0        (https://github.com/org/repo)
//   https://git.example/org/repo.git//base?version=v1   (also http://, git::https://…)
//   ssh://git@git.example/org/repo.git//base?ref=v1     git@git.example:org/repo.git//base?ref=v1
//   file:///srv/git/repo.git//base?ref=v1               (a repository on this machine)
//
// The repository ends at `//`, at `.git`, one segment after `_git/`, else after two path
// segments (org/repo); what follows is the kustomization's directory in it. `?ref=` (or
// `?version=`) names a branch, tag or commit; `timeout=` and `submodules=` are accepted and
// not used (plumbline has its own fetch deadline and reads no submodules).
//
// The renderer only parses; it fetches through the RemoteBaseFetcher the caller passes
// (plumbline/git/remote_bases.h fetches with GitSource; tests pass MemoryRemoteBases).
//
//   PL_ASSIGN_OR_RETURN(RemoteBase base, parse_remote_base("github.com/org/repo//base?ref=v1"));
//   // base.repo == "https://github.com/org/repo", base.path == "base", base.ref == "v1"
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "plumbline/core/error.h"
#include "plumbline/core/file_tree.h"

namespace plumbline {

struct RemoteBase {
  std::string repo;  // what Git fetches: "https://github.com/org/repo", "git@host:org/repo.git"
  std::string path;  // the directory in the repository, normalized ("" = its root)
  std::string ref;   // ?ref= (else ?version=); "" = the repository's default branch
  // For messages: "https://github.com/org/repo//base (ref v1)", without credentials.
  std::string display() const;
};

// Whether kustomize reads `entry` as a Git URL rather than a path in the repository: a URL
// scheme (`https://`, …), `git::`, `github.com/…`, or `user@host:…` that parses as one.
bool is_remote_base(std::string_view entry);

// The parts of a remote base URL; a malformed one is kInvalidInput naming what is wrong
// ("no repository path after the host", "unsupported scheme 'ftp'", …).
Result<RemoteBase> parse_remote_base(std::string_view entry);

// One repository fetched at one ref.
struct FetchedRepository {
  std::shared_ptr<const FileTree> tree;  // the commit's tree
  std::string revision;                  // full commit id
  // What the ref resolved to (GitSnapshot::ref): a branch name ("main"), "refs/tags/v1", or
  // the commit id when the ref named a commit. Decides whether the base is pinned.
  std::string resolved_ref;
};

// Pinned: the ref names a tag or a commit. No ref, or a branch, moves under the environment.
bool is_pinned(const RemoteBase& base, const FetchedRepository& fetched);

// The edge that fetches remote bases for a render. Errors name the URL without credentials.
class RemoteBaseFetcher {
 public:
  virtual ~RemoteBaseFetcher() = default;
  virtual Result<FetchedRepository> fetch(const RemoteBase& base) = 0;
};

// A fake for tests: repositories in memory, by (repo, ref).
class MemoryRemoteBases : public RemoteBaseFetcher {
 public:
  void add(const std::string& repo, const std::string& ref,
           std::map<std::string, std::string> files, std::string resolved_ref,
           std::string revision = std::string(40, 'b')) {
    repositories_[{repo, ref}] = {std::make_shared<MemoryTree>(std::move(files)),
                                  std::move(revision), std::move(resolved_ref)};
  }
  Result<FetchedRepository> fetch(const RemoteBase& base) override;
  int fetches = 0;

 private:
  std::map<std::pair<std::string, std::string>, FetchedRepository> repositories_;
};

}  // namespace plumbline
