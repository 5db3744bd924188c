// git/repo_location.h — internal, pure: what kind of thing `GitSourceOptions::repo` names, the
// host/port to check, and where its bare cache lives. No I/O except reading the environment
// for the default cache directory, so the rules are unit-tested directly.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "plumbline/core/error.h"

namespace plumbline::git {

enum class RepoKind { kLocalPath, kFile, kHttp, kHttps, kGit, kSsh };

struct RepoLocation {
  RepoKind kind = RepoKind::kLocalPath;
  std::string url;      // what libgit2 is given (unchanged input)
  std::string display;  // redact_url(url): no userinfo, no query values; for messages and logs
  std::string host;     // empty for local paths and file://
  int port = 0;         // the scheme's default when the URL has none
  std::string user;     // from the URL ("git" in git@host:path), may be empty
};

// Classifies like git does: "scheme://…" is a URL; "[user@]host:path" with no '/' before the
// first ':' is scp-like SSH; everything else is a local path. Unknown schemes are
// kInvalidInput.
Result<RepoLocation> classify_repo(std::string_view repo);

// A directory name for the cache of `display_url`: readable prefix plus a hash, so that two
// URLs never share an entry and the name is a safe single path component
// ("github.com-org-ops.git-3f2a…").
std::string cache_entry_name(std::string_view display_url);

// $XDG_CACHE_HOME/plumbline/git, else $HOME/.cache/plumbline/git, else a temp dir.
std::filesystem::path default_cache_dir();

}  // namespace plumbline::git

namespace plumbline::git {

// What identifies a remote repository whatever form its URL takes: the host (lower case) and
// the path without slashes around it or a trailing ".git", lower case
// ("https://u:p@GitHub.com/Org/Ops.git" and "git@github.com:org/ops" are both
// "github.com/org/ops"). Scheme, port and credentials are left out, so a push announced for
// the https:// URL finds an Environment that fetches over SSH. "" for local paths, file://
// and URLs that do not classify.
std::string repository_identity(std::string_view url);

}  // namespace plumbline::git
