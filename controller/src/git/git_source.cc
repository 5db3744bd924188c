// GitSource: opens a local repository directly, or keeps a bare cache of a remote one
// (cloned once, fetched on later runs) and reads a commit's tree from it.

#include "plumbline/git/git_source.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "git/fetch.h"
#include "git/git_tree.h"
#include "git/libgit2.h"
#include "plumbline/git/repo_location.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using git::RepoKind;
using git::RepoLocation;

// Tracking refs live under this prefix in the cache, as in a normal clone.
constexpr std::string_view kRemotePrefix = "refs/remotes/origin/";
constexpr std::string_view kRemoteHead = "refs/remotes/origin/HEAD";

// ---------------------------------------------------------------------------------------------
// Pre-flight connect. libgit2 1.5 has no connect timeout (GIT_OPT_SET_SERVER_CONNECT_TIMEOUT
// arrived in 1.7), so an unreachable host would block in connect() for minutes. A non-blocking
// probe with our deadline turns "down" into a prompt kUnavailable / kTimeout; once the probe
// succeeds the server is up and libgit2's own connect returns quickly.
Status probe_connect(const RepoLocation& loc, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  std::string port = std::to_string(loc.port);
  int rc = getaddrinfo(loc.host.c_str(), port.c_str(), &hints, &raw);
  if (rc != 0) {
    return Error(ErrorCode::kUnavailable,
                 "cannot resolve host '" + loc.host + "': " + gai_strerror(rc), loc.display);
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(raw, &freeaddrinfo);
  std::string last_error = "no addresses";
  bool timed_out = false;
  for (addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    struct Closer {
      int fd;
      ~Closer() { close(fd); }
    } closer{fd};
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return {};
    if (errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      continue;
    }
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd pfd{fd, POLLOUT, 0};
    int ready = remaining.count() > 0 ? poll(&pfd, 1, static_cast<int>(remaining.count())) : 0;
    if (ready == 0) {
      timed_out = true;
      break;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error == 0) return {};
    last_error = std::strerror(so_error);
  }
  if (timed_out) {
    return Error(ErrorCode::kTimeout,
                 "no answer from " + loc.host + ":" + port + " before the deadline", loc.display);
  }
  return Error(ErrorCode::kUnavailable,
               "cannot connect to " + loc.host + ":" + port + ": " + last_error, loc.display);
}

// ---------------------------------------------------------------------------------------------
// An exclusive flock on <entry>/lock, held while the cache is fetched and its refs are read,
// so that two plumbline processes never write the same bare repository at once.
class CacheLock {
 public:
  static Result<CacheLock> acquire(const fs::path& file, Clock::time_point deadline,
                                   const std::string& where) {
    int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Error(ErrorCode::kPermissionDenied,
                   "cannot open cache lock " + file.string() + ": " + std::strerror(errno), where);
    }
    CacheLock lock(fd);
    // Poll instead of a blocking flock so that the deadline also bounds waiting for another
    // process's fetch.
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return Error(ErrorCode::kInternal, "flock " + file.string() + ": " + std::strerror(errno),
                     where);
      }
      if (Clock::now() >= deadline) {
        return Error(ErrorCode::kTimeout,
                     "timed out waiting for the cache lock " + file.string() +
                         " (another plumbline is fetching)",
                     where);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return lock;
  }
  CacheLock(CacheLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  CacheLock& operator=(CacheLock&&) = delete;
  ~CacheLock() {
    if (fd_ >= 0) close(fd_);  // closing releases the flock
  }

 private:
  explicit CacheLock(int fd) : fd_(fd) {}
  int fd_;
};

// ---------------------------------------------------------------------------------------------
// Ref resolution.

struct ResolvedRef {
  git_oid commit;
  std::string name;
};

bool is_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// The commit `id` names, through annotated tags; every object on the way is checked against
// its id (libgit2.h).
Result<git_oid> peel_to_commit(git_repository* repo, const git_oid& id, const std::string& ref,
                               const std::string& where) {
  constexpr int kMaxTags = 16;  // a tag of a tag of ...: bounded, a cycle cannot hang
  git_oid current = id;
  for (int depth = 0; depth <= kMaxTags; ++depth) {
    PL_RETURN_IF_ERROR(git::check_object(repo, current, where));
    git_object* raw = nullptr;
    int rc = git_object_lookup(&raw, repo, &current, GIT_OBJECT_ANY);
    git::ObjectPtr object(raw);
    if (rc < 0) return git::from_git(rc, "reading '" + ref + "'", where);
    git_object_t type = git_object_type(object.get());
    if (type == GIT_OBJECT_COMMIT) return current;
    if (type != GIT_OBJECT_TAG) break;
    // A git_object of type tag is a git_tag (libgit2's object model).
    current = *git_tag_target_id(reinterpret_cast<const git_tag*>(object.get()));
  }
  return Error(ErrorCode::kInvalidInput, "ref '" + ref + "' does not point to a commit", where);
}

// "main, release-1, release-2 and 4 more" — a hint for a mistyped ref.
std::string list_branches(git_repository* repo, std::string_view prefix) {
  std::vector<std::string> names;
  git_reference_iterator* raw = nullptr;
  std::string glob = std::string(prefix) + "*";
  if (git_reference_iterator_glob_new(&raw, repo, glob.c_str()) == 0) {
    git::ReferenceIteratorPtr it(raw);
    const char* name = nullptr;
    while (git_reference_next_name(&name, it.get()) == 0) {
      std::string_view short_name = std::string_view(name).substr(prefix.size());
      if (short_name != "HEAD") names.emplace_back(short_name);
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) return "none";
  constexpr size_t kShown = 5;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

// `branch_prefix` is refs/heads/ in a local repository and refs/remotes/origin/ in a cache;
// `head` is the ref the empty ref means (HEAD or refs/remotes/origin/HEAD).
Result<ResolvedRef> resolve_ref(git_repository* repo, const std::string& ref,
                                std::string_view branch_prefix, std::string_view head,
                                const std::string& where) {
  if (ref.empty()) {
    git_reference* raw = nullptr;
    int rc = git_reference_lookup(&raw, repo, std::string(head).c_str());
    git::ReferencePtr symbolic(raw);
    git_reference* resolved_raw = nullptr;
    if (rc == 0) rc = git_reference_resolve(&resolved_raw, symbolic.get());
    git::ReferencePtr resolved(resolved_raw);
    if (rc < 0) {
      return Error(ErrorCode::kNotFound,
                   "the repository has no default branch (HEAD); give a ref (branches: " +
                       list_branches(repo, branch_prefix) + ")",
                   where);
    }
    std::string name = git_reference_name(resolved.get());
    if (name.starts_with(branch_prefix)) name = name.substr(branch_prefix.size());
    PL_ASSIGN_OR_RETURN(git_oid commit,
                        peel_to_commit(repo, *git_reference_target(resolved.get()), name, where));
    return ResolvedRef{commit, name};
  }

  std::vector<std::pair<std::string, std::string>> candidates = {
      {std::string(branch_prefix) + ref, ref},
      {"refs/tags/" + ref, "refs/tags/" + ref},
  };
  if (ref.starts_with("refs/")) candidates.insert(candidates.begin(), {ref, ref});
  for (const auto& [full, shown] : candidates) {
    git_oid id;
    if (git_reference_name_to_id(&id, repo, full.c_str()) == 0) {
      PL_ASSIGN_OR_RETURN(git_oid commit, peel_to_commit(repo, id, ref, where));
      return ResolvedRef{commit, shown};
    }
  }
  if (is_hex(ref) && ref.size() >= 4 && ref.size() <= GIT_OID_HEXSZ) {
    git_oid prefix;
    if (git_oid_fromstrn(&prefix, ref.data(), ref.size()) == 0) {
      git_object* raw = nullptr;
      int rc = git_object_lookup_prefix(&raw, repo, &prefix, ref.size(), GIT_OBJECT_ANY);
      git::ObjectPtr object(raw);
      if (rc == GIT_EAMBIGUOUS) {
        return invalid_input("commit prefix '" + ref + "' is ambiguous; give more digits", where);
      }
      if (rc == 0) {
        PL_ASSIGN_OR_RETURN(git_oid commit,
                            peel_to_commit(repo, *git_object_id(object.get()), ref, where));
        return ResolvedRef{commit, git::oid_hex(commit)};
      }
    }
  }
  return Error(ErrorCode::kNotFound,
               "ref '" + ref + "' not found (branches: " + list_branches(repo, branch_prefix) + ")",
               where);
}

Result<GitSnapshot> make_snapshot(git::RepositoryPtr repo, const ResolvedRef& resolved,
                                  const std::string& label) {
  GitSnapshot snapshot;
  snapshot.revision = git::oid_hex(resolved.commit);
  snapshot.ref = resolved.name;
  git::Buf signature, signed_data;
  int rc = git_commit_extract_signature(&signature.buf, &signed_data.buf, repo.get(),
                                        const_cast<git_oid*>(&resolved.commit), nullptr);
  if (rc == 0) {
    snapshot.signature = {.signature = signature.str(), .signed_data = signed_data.str()};
  } else if (rc != GIT_ENOTFOUND) {
    return git::from_git(rc, "reading the signature of commit " + snapshot.revision, label);
  }
  PL_ASSIGN_OR_RETURN(snapshot.tree, git::make_git_tree(std::move(repo), resolved.commit, label));
  return snapshot;
}

Result<GitSnapshot> open_local(const GitSourceOptions& options, const RepoLocation& loc) {
  git_repository* raw = nullptr;
  // NO_SEARCH: the path given is the repository; never silently use a parent's .git.
  int rc = git_repository_open_ext(&raw, loc.url.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  git::RepositoryPtr repo(raw);
  if (rc < 0) {
    if (rc == GIT_ENOTFOUND) return not_found("not a Git repository", loc.display);
    return git::from_git(rc, "opening repository", loc.display);
  }
  PL_ASSIGN_OR_RETURN(ResolvedRef resolved,
                      resolve_ref(repo.get(), options.ref, "refs/heads/", "HEAD", loc.display));
  return make_snapshot(std::move(repo), resolved, loc.display);
}

Result<GitSnapshot> open_remote(const GitSourceOptions& options, const RepoLocation& loc) {
  auto deadline = Clock::now() + options.timeout;
  if (loc.kind == RepoKind::kSsh && (git_libgit2_features() & GIT_FEATURE_SSH) == 0) {
    return invalid_input(
        "SSH URLs are not supported: this libgit2 was built without SSH (libssh2); use https://",
        loc.display);
  }
  if (!loc.host.empty()) PL_RETURN_IF_ERROR(probe_connect(loc, deadline));

  fs::path cache_dir = options.cache_dir.empty() ? git::default_cache_dir() : options.cache_dir;
  fs::path entry = cache_dir / git::cache_entry_name(loc.display);
  std::error_code ec;
  fs::create_directories(entry, ec);
  if (ec) {
    return Error(ErrorCode::kPermissionDenied,
                 "cannot create cache directory " + entry.string() + ": " + ec.message(),
                 loc.display);
  }
  PL_ASSIGN_OR_RETURN(CacheLock lock, CacheLock::acquire(entry / "lock", deadline, loc.display));
  fs::path repo_path = entry / "repo.git";
  std::error_code exists_ec;
  bool existed = fs::exists(repo_path / "HEAD", exists_ec);
  if (options.fetch || !existed) {
    PL_RETURN_IF_ERROR(git::fetch_in_child(repo_path, options, loc, deadline));
  }
  git_repository* raw = nullptr;
  int rc = git_repository_open_bare(&raw, repo_path.c_str());
  git::RepositoryPtr repo(raw);
  if (rc < 0) return git::from_git(rc, "opening the cache " + repo_path.string(), loc.display);
  PL_ASSIGN_OR_RETURN(ResolvedRef resolved, resolve_ref(repo.get(), options.ref, kRemotePrefix,
                                                        kRemoteHead, loc.display));
  PL_ASSIGN_OR_RETURN(GitSnapshot snapshot, make_snapshot(std::move(repo), resolved, loc.display));
  snapshot.cache_path = repo_path;
  snapshot.reused_cache = existed;
  return snapshot;
}

}  // namespace

bool valid_extra_ref(std::string_view ref) {
  if (!ref.starts_with("refs/") || ref.size() > 255) return false;
  std::string_view rest = ref.substr(5);
  while (true) {
    std::string_view part = rest.substr(0, rest.find('/'));
    if (part.empty() || part.front() == '.' || part.front() == '-' || part.ends_with(".lock") ||
        part.find("..") != std::string_view::npos) {
      return false;
    }
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    if (part.size() == rest.size()) return true;
    rest.remove_prefix(part.size() + 1);
  }
}

Result<GitSnapshot> open_git_snapshot(const GitSourceOptions& options) {
  PL_RETURN_IF_ERROR(git::ensure_libgit2());
  PL_ASSIGN_OR_RETURN(RepoLocation loc, git::classify_repo(options.repo));
  return loc.kind == RepoKind::kLocalPath ? open_local(options, loc) : open_remote(options, loc);
}

namespace {

class LibGit2Source final : public GitSource {
 public:
  Result<GitSnapshot> open(const GitSourceOptions& options) override {
    return open_git_snapshot(options);
  }
};

}  // namespace

std::unique_ptr<GitSource> make_git_source() { return std::make_unique<LibGit2Source>(); }

}  // namespace plumbline
