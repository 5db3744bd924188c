// plumbline/git/git_source.h — GitSource: a commit's tree from a Git repository (libgit2).
//
// `repo` is a local path or a URL (file://, https://, ssh://, git@host:path). Remote repos are
// cloned once into a bare cache (cache_dir) and fetched on later runs. Files are read straight
// from the commit's tree; no work tree is checked out.
//
//   GitSourceOptions options{.repo = "https://git.example/ops.git", .ref = "main"};
//   PL_ASSIGN_OR_RETURN(GitSnapshot snap, open_git_snapshot(options));
//   render(*snap.tree, "envs/prod", {});  // snap.revision is the commit SHA for the report
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/file_tree.h"
#include "plumbline/git/commit_signature.h"

namespace plumbline {

// Credentials. HTTPS: token or user/password (from env vars or a netrc-style file).
// SSH: a private key file and a known_hosts file; an unknown or changed host key fails.
struct GitAuth {
  std::string username;
  std::string password;  // or token
  std::filesystem::path netrc_file;
  std::filesystem::path ssh_key_file;
  std::filesystem::path ssh_public_key_file;  // default: key file + ".pub"
  std::string ssh_key_passphrase;
  std::filesystem::path known_hosts_file;  // default ~/.ssh/known_hosts
  // In-memory alternatives (from a Kubernetes Secret; never written to disk). When set they
  // take the place of the files above.
  std::string ssh_key;         // PEM private key
  std::string ssh_public_key;  // OpenSSH public key line (optional)
  std::string known_hosts;     // known_hosts text
  std::string origin;          // where these came from, for errors ("Secret ns/name")
  // The host these credentials belong to: they are sent to no other (an Environment naming
  // another host, an off-site redirect). Empty: the host of the repository being fetched.
  std::string host;
  // Passwords and tokens go over https:// only; this explicit allowance lets them go over
  // http:// (a test server on 127.0.0.1). Never set from the environment.
  bool allow_cleartext_http = false;

  // PLUMBLINE_GIT_TOKEN (user "x-access-token" unless PLUMBLINE_GIT_USERNAME is set) /
  // PLUMBLINE_GIT_USERNAME / PLUMBLINE_GIT_PASSWORD, PLUMBLINE_GIT_NETRC (default ~/.netrc),
  // PLUMBLINE_GIT_SSH_KEY, PLUMBLINE_GIT_SSH_PASSPHRASE, PLUMBLINE_GIT_KNOWN_HOSTS, and
  // PLUMBLINE_GIT_HOST (the host they belong to).
  static GitAuth from_environment();
};

struct GitSourceOptions {
  std::string repo;                 // local path or URL
  std::string ref;                  // branch, tag or commit; empty = the remote HEAD
  std::filesystem::path cache_dir;  // empty = $XDG_CACHE_HOME/plumbline/git (or ~/.cache/…)
  GitAuth auth;
  // Bounds connecting, locking the cache and fetching. libgit2 1.5 has no socket timeouts, so
  // the fetch runs in a child process that is killed with its process group at this deadline
  // (a server that accepts and then goes silent fails with kTimeout, not a hang).
  std::chrono::seconds timeout{120};
  // The most one repository's cache may hold: a fetch stops once it has received this much,
  // and a cache found larger afterwards is removed (kInvalidInput either way).
  std::uint64_t max_cache_bytes = std::uint64_t{512} << 20;
  // Address-space limit of the fetch process (0: none).
  std::uint64_t fetch_memory_bytes = std::uint64_t{1} << 30;
  // The program the fetch runs in: it must handle kGitFetchCommand (run_git_fetch_command).
  // Empty: this program itself (/proc/self/exe).
  std::filesystem::path fetch_program;
  // Optional: true once the caller no longer wants the result (shutdown); asked every 50 ms,
  // and the fetch process is then killed (kCancelled).
  std::function<bool()> cancelled;
  // Optional: human-readable progress ("fetching https://… (120/300 objects)"), rate-limited.
  std::function<void(std::string_view)> progress;
  // Refs fetched besides branches and tags, kept under their own name, e.g. a pull request's
  // refs/pull/4/head (GitHub, Gitea) or refs/merge-requests/4/head (GitLab), whose head may
  // live in a fork. Each must be refs/<...> without wildcards; one the remote lacks is not
  // fetched (opening it is then kNotFound).
  std::vector<std::string> extra_refs;
  // false: read the cache as it is, without fetching (a ref fetched a moment ago); a cache
  // that does not exist yet is fetched anyway.
  bool fetch = true;
};

// Whether `ref` may be one of GitSourceOptions::extra_refs: refs/ followed by path
// components of [A-Za-z0-9._-] (no "..", wildcards, ':' or a leading '-').
bool valid_extra_ref(std::string_view ref);

struct GitSnapshot {
  FileTreePtr tree;      // the commit's tree
  std::string revision;  // full commit SHA
  std::string ref;       // what was resolved ("main", "refs/tags/v1", a SHA)
  // The commit's signature and signed payload (verify_commit checks them); unsigned: empty.
  CommitSignature signature;
  // The bare cache repository of a remote (empty for a local path), and whether it already
  // existed, i.e. this run fetched into it instead of cloning.
  std::filesystem::path cache_path;
  bool reused_cache = false;
};

Result<GitSnapshot> open_git_snapshot(const GitSourceOptions& options);

// The Git edge as an interface, so the controller can be tested without a Git server (tests
// put a MemoryTree behind it). make_git_source() is libgit2's: open_git_snapshot.
class GitSource {
 public:
  virtual ~GitSource() = default;
  virtual Result<GitSnapshot> open(const GitSourceOptions& options) = 0;
};
std::unique_ptr<GitSource> make_git_source();

// The hidden command the fetch of a remote runs in (`plumbline __git-fetch`): it reads the
// request (credentials included) from stdin and writes the outcome to stdout. A program that
// opens remotes with open_git_snapshot runs it when its argv is {program, kGitFetchCommand}:
//
//   if (argc == 2 && argv[1] == plumbline::kGitFetchCommand)
//     return plumbline::run_git_fetch_command(std::cin, std::cout, std::cerr);
inline constexpr std::string_view kGitFetchCommand = "__git-fetch";
int run_git_fetch_command(std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace plumbline
