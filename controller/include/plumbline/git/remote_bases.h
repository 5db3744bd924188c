// plumbline/git/remote_bases.h — kustomize remote bases fetched with a GitSource: the same
// cache, deadline, size limits, known_hosts and credentials as the environment's own
// repository, and never a shell `git`.
//
// Credentials go to one host: the one they are bound to (GitAuth::host), else the host of the
// environment's repository (`credentials_host`). A remote base on another host is fetched
// with none of them (only a netrc entry for its own host, and known_hosts), so a public base
// works and a private one fails with the server's "authentication required".
//
//   GitRemoteBases bases(*git, {.defaults = options_with_cache_and_auth,
//                               .credentials_host = "git.example"});
//   render(tree, "envs/prod", {.remote_bases = &bases, .warnings = &warnings});
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "plumbline/git/git_source.h"
#include "plumbline/render/remote_base.h"

namespace plumbline {

struct RemoteBaseSourceOptions {
  // Cache directory, credentials, timeout, size and memory limits, cancellation and progress
  // for every fetch (repo and ref are each remote base's own).
  GitSourceOptions defaults;
  // The host defaults.auth belongs to when its `host` is empty: the environment's repository
  // host. Empty (a local repository): the credentials go to no remote base.
  std::string credentials_host;
  // false: file:// remote bases are refused (they read the fetching machine's own files; the
  // controller allows them only with --allow-local-sources).
  bool allow_local = true;
  // Fetches end by this time as well as by defaults.timeout (the render's deadline).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Told before each fetch ("https://git.example/org/bases.git"), e.g. for a progress line.
  std::function<void(const std::string&)> on_fetch;
};

class GitRemoteBases final : public RemoteBaseFetcher {
 public:
  GitRemoteBases(GitSource& git, RemoteBaseSourceOptions options)
      : git_(git), options_(std::move(options)) {}
  Result<FetchedRepository> fetch(const RemoteBase& base) override;

 private:
  GitSource& git_;
  RemoteBaseSourceOptions options_;
  std::set<std::string> fetched_;  // repositories fetched once already: later refs read the cache
};

}  // namespace plumbline
