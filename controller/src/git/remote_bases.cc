// kustomize remote bases through GitSource, with the credentials bound to their host.
#include "plumbline/git/remote_bases.h"

#include <algorithm>

#include "git/credentials.h"
#include "plumbline/core/mask.h"
#include "plumbline/git/repo_location.h"

namespace plumbline {
namespace {

// The credentials a fetch of `host` may carry: all of them on their own host; elsewhere only
// what is bound to a host by its nature (a netrc entry) and what verifies servers.
GitAuth auth_for(const GitAuth& auth, const std::string& bound_host, const std::string& host) {
  if (!bound_host.empty() && git::same_host(host, bound_host)) {
    GitAuth same = auth;
    same.host = bound_host;
    return same;
  }
  GitAuth other;
  other.netrc_file = auth.netrc_file;
  other.known_hosts_file = auth.known_hosts_file;
  other.known_hosts = auth.known_hosts;
  other.origin = auth.origin;
  other.allow_cleartext_http = auth.allow_cleartext_http;
  return other;
}

}  // namespace

Result<FetchedRepository> GitRemoteBases::fetch(const RemoteBase& base) {
  PL_ASSIGN_OR_RETURN(git::RepoLocation location, git::classify_repo(base.repo));
  const bool local =
      location.kind == git::RepoKind::kLocalPath || location.kind == git::RepoKind::kFile;
  if (local && !options_.allow_local) {
    return Error(ErrorCode::kPermissionDenied,
                 "file:// remote bases are refused here (they read this machine's own files; "
                 "the installer can allow them with --allow-local-sources)",
                 location.display);
  }
  GitSourceOptions git = options_.defaults;
  git.repo = base.repo;
  git.ref = base.ref;
  git.extra_refs.clear();
  const std::string& bound =
      options_.defaults.auth.host.empty() ? options_.credentials_host : options_.defaults.auth.host;
  git.auth = auth_for(options_.defaults.auth, bound, location.host);
  if (options_.deadline != std::chrono::steady_clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(options_.deadline -
                                                                 std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error(ErrorCode::kTimeout, "the render ran past its deadline before this fetch",
                   location.display);
    }
    git.timeout = std::min(git.timeout, left);
  }
  // One fetch per repository and render: a second ref of it reads what the first fetched.
  git.fetch = !fetched_.count(base.repo);
  if (options_.on_fetch && git.fetch) options_.on_fetch(location.display);
  PL_ASSIGN_OR_RETURN(GitSnapshot snapshot, git_.open(git));
  fetched_.insert(base.repo);
  return FetchedRepository{std::shared_ptr<const FileTree>(std::move(snapshot.tree)),
                           std::move(snapshot.revision), std::move(snapshot.ref)};
}

}  // namespace plumbline
