// git/fetch.h — internal: the fetch into a bare cache repository, and the child process it
// runs in. Only controller/src/git includes this.
//
// libgit2 1.5 has no socket timeout, so a server that accepts and then says nothing would
// block a fetch (and the thread, and shutdown) for ever. The fetch therefore runs in a child
// process (`plumbline __git-fetch`, run_process) that is killed with its process group at the
// deadline; the request, credentials included, goes over the child's stdin.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "plumbline/git/git_source.h"
#include "plumbline/git/repo_location.h"

namespace plumbline::git {

// In this process: opens (or creates) the bare repository at `repo_path` and fetches branches
// and tags into it. The transfer stops at `deadline` (checked in libgit2's progress callbacks,
// which a silent server never calls) and past `max_bytes` received.
Status fetch_into_cache(const std::filesystem::path& repo_path, const GitSourceOptions& options,
                        const RepoLocation& loc, std::chrono::steady_clock::time_point deadline,
                        std::uint64_t max_bytes);

// The same in a child process, bounded by `deadline` for certain; the cache lock must be held.
// Files a killed fetch left behind (ref locks, temporary packs) are removed first, so a
// killed fetch never breaks the next; a repository past options.max_cache_bytes afterwards is
// removed and the fetch fails.
Status fetch_in_child(const std::filesystem::path& repo_path, const GitSourceOptions& options,
                      const RepoLocation& loc, std::chrono::steady_clock::time_point deadline);

}  // namespace plumbline::git
