// GitSource: opens a local repository directly, or keeps a bare cache of a remote one
// (cloned once, fetched on later runs) and reads a commit's tree from it.

#include "plumbline/git_source.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "git/credentials.h"
#include "git/git_tree.h"
#include "git/libgit2.h"
#include "git/repo_location.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using git::RepoKind;
using git::RepoLocation;

// Tracking refs live under this prefix in the cache, as in a normal clone.
constexpr std::string_view kRemotePrefix = "refs/remotes/origin/";
constexpr std::string_view kRemoteHead = "refs/remotes/origin/HEAD";

std::optional<std::string> read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

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
// State shared with libgit2's callbacks. A callback that refuses records the precise Error
// here and returns GIT_EUSER; the caller prefers this Error over libgit2's generic message.
struct FetchState {
  const GitSourceOptions* options;
  const RepoLocation* loc;
  Clock::time_point deadline;
  std::optional<Error> failure;
  int userpass_attempts = 0;
  int ssh_attempts = 0;
  Clock::time_point last_progress{};

  int fail(Error error) {
    if (!failure) failure = std::move(error);
    return GIT_EUSER;
  }
  bool past_deadline() {
    if (options->cancelled && options->cancelled()) {
      fail(Error(ErrorCode::kCancelled, "fetch cancelled", loc->display));
      return true;
    }
    if (Clock::now() < deadline) return false;
    fail(Error(ErrorCode::kTimeout,
               "fetch did not finish within " + std::to_string(options->timeout.count()) + "s",
               loc->display));
    return true;
  }
};

std::string raw_key_type(git_cert_ssh_raw_type_t type) {
  switch (type) {
    case GIT_CERT_SSH_RAW_TYPE_RSA:
      return "ssh-rsa";
    case GIT_CERT_SSH_RAW_TYPE_DSS:
      return "ssh-dss";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
      return "ecdsa-sha2-nistp256";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
      return "ecdsa-sha2-nistp384";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
      return "ecdsa-sha2-nistp521";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
      return "ssh-ed25519";
    default:
      return "";
  }
}

int on_certificate(git_cert* cert, int /*valid*/, const char* host, void* payload) {
  auto& state = *static_cast<FetchState*>(payload);
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
    // TLS to another host than the repository's is an off-site redirect: refused whether or
    // not credentials would follow. The chain itself libgit2 has verified; keep its verdict.
    if (host != nullptr && !state.loc->host.empty() && !git::same_host(host, state.loc->host)) {
      return state.fail(Error(ErrorCode::kPermissionDenied,
                              std::string("redirected to another host (") + host + "), refused",
                              state.loc->display));
    }
    return GIT_PASSTHROUGH;
  }

  // SSH: libgit2 1.5 does not consult known_hosts itself, so this callback is the only check
  // and must fail closed on anything but a listed, matching key.
  const auto* hostkey = reinterpret_cast<const git_cert_hostkey*>(cert);
  git::PresentedKey key;
  if ((hostkey->type & GIT_CERT_SSH_RAW) != 0 && hostkey->hostkey != nullptr) {
    key.raw.assign(hostkey->hostkey, hostkey->hostkey_len);
    key.key_type = raw_key_type(hostkey->raw_type);
  }
  if ((hostkey->type & GIT_CERT_SSH_SHA256) != 0) {
    key.sha256.assign(reinterpret_cast<const char*>(hostkey->hash_sha256),
                      sizeof(hostkey->hash_sha256));
  }
  const fs::path& file = state.options->auth.known_hosts_file;
  std::string name =
      git::known_hosts_name(host != nullptr ? host : state.loc->host, state.loc->port);
  if (key.raw.empty() && key.sha256.empty()) {
    return state.fail(Error(ErrorCode::kPermissionDenied,
                            "host key for " + name + " cannot be verified (no key data)",
                            state.loc->display));
  }
  const GitAuth& auth = state.options->auth;
  // The known_hosts a Secret carries, else the file.
  std::string where =
      !auth.known_hosts.empty() ? "the known_hosts of " + auth.origin : file.string();
  auto text = !auth.known_hosts.empty() ? std::optional<std::string>(auth.known_hosts)
              : file.empty()            ? std::nullopt
                                        : read_text_file(file);
  if (!text) {
    return state.fail(Error(ErrorCode::kPermissionDenied,
                            "host key for " + name + " cannot be verified: cannot read " +
                                (file.empty() ? std::string("known_hosts") : file.string()),
                            state.loc->display));
  }
  switch (git::check_host_key(git::parse_known_hosts(*text), name, key)) {
    case git::HostKeyVerdict::kMatch:
      return 0;
    case git::HostKeyVerdict::kUnknownHost:
      return state.fail(Error(ErrorCode::kPermissionDenied,
                              "host key for " + name + " is not in " + where, state.loc->display));
    case git::HostKeyVerdict::kMismatch:
      break;
  }
  return state.fail(Error(ErrorCode::kPermissionDenied,
                          "host key for " + name + " does not match " + where, state.loc->display));
}

int on_credentials(git_credential** out, const char* url, const char* username_from_url,
                   unsigned int allowed, void* payload) {
  auto& state = *static_cast<FetchState*>(payload);
  if (state.past_deadline()) return GIT_EUSER;
  const GitAuth& auth = state.options->auth;
  // Bound to one host, and never in cleartext: checked against the URL libgit2 asks for,
  // which after a redirect is not the one configured.
  std::string bound = auth.host.empty() ? state.loc->host : auth.host;
  auto refusal = git::credential_refusal(url != nullptr ? url : state.loc->url, bound,
                                         auth.allow_cleartext_http);
  auto refuse = [&] {
    return state.fail(Error(ErrorCode::kPermissionDenied, *refusal, state.loc->display));
  };
  std::string url_user = username_from_url != nullptr ? username_from_url : state.loc->user;

  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0) {
    std::string user = url_user.empty() ? "git" : url_user;
    // libgit2 asks again after a rejected key; a second call means the server said no.
    if (++state.ssh_attempts > 1) {
      return state.fail(Error(ErrorCode::kUnauthenticated,
                              "SSH authentication as '" + user + "' was rejected",
                              state.loc->display));
    }
    if (refusal) return refuse();
    if (!auth.ssh_key.empty()) {
      return git_credential_ssh_key_memory_new(
          out, user.c_str(), auth.ssh_public_key.empty() ? nullptr : auth.ssh_public_key.c_str(),
          auth.ssh_key.c_str(),
          auth.ssh_key_passphrase.empty() ? nullptr : auth.ssh_key_passphrase.c_str());
    }
    if (auth.ssh_key_file.empty()) {
      if (std::getenv("SSH_AUTH_SOCK") != nullptr) {
        return git_credential_ssh_key_from_agent(out, user.c_str());
      }
      return state.fail(Error(ErrorCode::kUnauthenticated,
                              "the server requires an SSH key and none is configured (" +
                                  (auth.origin.empty() ? std::string("PLUMBLINE_GIT_SSH_KEY")
                                                       : "no identity in " + auth.origin) +
                                  ")",
                              state.loc->display));
    }
    fs::path pub = auth.ssh_public_key_file;
    std::error_code ec;
    if (pub.empty() && fs::exists(auth.ssh_key_file.string() + ".pub", ec)) {
      pub = auth.ssh_key_file.string() + ".pub";
    }
    return git_credential_ssh_key_new(
        out, user.c_str(), pub.empty() ? nullptr : pub.c_str(), auth.ssh_key_file.c_str(),
        auth.ssh_key_passphrase.empty() ? nullptr : auth.ssh_key_passphrase.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERNAME) != 0) {
    return git_credential_username_new(out, url_user.empty() ? "git" : url_user.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0) {
    std::string user = auth.username.empty() ? url_user : auth.username;
    std::string password = auth.password;
    if (password.empty() && !auth.netrc_file.empty()) {
      if (auto text = read_text_file(auth.netrc_file)) {
        if (auto entry = git::netrc_lookup(git::parse_netrc(*text), bound)) {
          user = entry->login;
          password = entry->password;
        }
      }
    }
    if (password.empty()) {
      return state.fail(
          Error(ErrorCode::kUnauthenticated,
                "the server requires authentication and no credentials are configured (" +
                    (auth.origin.empty() ? "PLUMBLINE_GIT_TOKEN, PLUMBLINE_GIT_USERNAME/"
                                           "PLUMBLINE_GIT_PASSWORD or a netrc entry for " +
                                               state.loc->host
                                         : "no username/password or token in " + auth.origin) +
                    ")",
                state.loc->display));
    }
    if (refusal) return refuse();
    // HTTP retries the callback after a 401; the second call means the server refused them.
    if (++state.userpass_attempts > 1) {
      return state.fail(Error(ErrorCode::kUnauthenticated,
                              "the server rejected the credentials for user '" + user + "'",
                              state.loc->display));
    }
    return git_credential_userpass_plaintext_new(out, user.c_str(), password.c_str());
  }
  return state.fail(Error(ErrorCode::kUnauthenticated,
                          "the server asks for an unsupported kind of credentials",
                          state.loc->display));
}

int on_transfer(const git_indexer_progress* stats, void* payload) {
  auto& state = *static_cast<FetchState*>(payload);
  if (state.past_deadline()) return GIT_EUSER;
  const auto& progress = state.options->progress;
  if (!progress) return 0;
  auto now = Clock::now();
  bool done = stats->received_objects == stats->total_objects;
  if (!done && now - state.last_progress < std::chrono::milliseconds(250)) return 0;
  state.last_progress = now;
  progress("fetching " + state.loc->display + " (" + std::to_string(stats->received_objects) + "/" +
           std::to_string(stats->total_objects) + " objects)");
  return 0;
}

int on_sideband(const char* /*text*/, int /*length*/, void* payload) {
  auto& state = *static_cast<FetchState*>(payload);
  return state.past_deadline() ? GIT_EUSER : 0;
}

Error fetch_error(const FetchState& state, int rc, std::string_view what) {
  if (state.failure) return *state.failure;
  return git::from_git(rc, what, state.loc->display, ErrorCode::kUnavailable);
}

// Opens (or creates) the bare cache repository.
Result<git::RepositoryPtr> open_cache_repo(const fs::path& path, bool& existed,
                                           const std::string& where) {
  git_repository* raw = nullptr;
  std::error_code ec;
  existed = fs::exists(path / "HEAD", ec) && git_repository_open_bare(&raw, path.c_str()) == 0;
  git::RepositoryPtr repo(raw);
  if (existed) return repo;
  // A half-created or corrupt entry (killed during the first clone) is rebuilt from scratch.
  fs::remove_all(path, ec);
  raw = nullptr;
  int rc = git_repository_init(&raw, path.c_str(), /*is_bare=*/1);
  repo.reset(raw);
  if (rc < 0) return git::from_git(rc, "creating cache repository " + path.string(), where);
  return repo;
}

// Fetches branches and tags into the cache and records the remote's default branch as
// refs/remotes/origin/HEAD. The URL is used through an anonymous remote so that it (and any
// password in it) is never written into the cache's config.
Status fetch_into(git_repository* repo, const GitSourceOptions& options, const RepoLocation& loc,
                  Clock::time_point deadline, bool cloning) {
  FetchState state{&options, &loc, deadline};
  if (options.progress) options.progress((cloning ? "cloning " : "fetching ") + loc.display);

  git_remote* raw = nullptr;
  int rc = git_remote_create_anonymous(&raw, repo, loc.url.c_str());
  git::RemotePtr remote(raw);
  if (rc < 0) return git::from_git(rc, "invalid remote URL", loc.display, ErrorCode::kInvalidInput);

  git_fetch_options fetch_opts;
  git_fetch_options_init(&fetch_opts, GIT_FETCH_OPTIONS_VERSION);
  fetch_opts.callbacks.credentials = on_credentials;
  fetch_opts.callbacks.certificate_check = on_certificate;
  fetch_opts.callbacks.transfer_progress = on_transfer;
  fetch_opts.callbacks.sideband_progress = on_sideband;
  fetch_opts.callbacks.payload = &state;
  // Tags come from the explicit refspec; auto-following would only add noise.
  fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;

  rc = git_remote_connect(remote.get(), GIT_DIRECTION_FETCH, &fetch_opts.callbacks,
                          &fetch_opts.proxy_opts, nullptr);
  if (rc < 0) return fetch_error(state, rc, "connecting");

  std::optional<std::string> default_branch;
  {
    git::Buf head;
    // Fails only for a remote without HEAD (empty repo); then a ref must be given.
    if (git_remote_default_branch(&head.buf, remote.get()) == 0) default_branch = head.str();
  }

  char heads[] = "+refs/heads/*:refs/remotes/origin/*";
  char tags[] = "+refs/tags/*:refs/tags/*";
  char* specs[] = {heads, tags};
  git_strarray refspecs{specs, 2};
  rc = git_remote_download(remote.get(), &refspecs, &fetch_opts);
  if (rc < 0) return fetch_error(state, rc, "fetching");
  rc = git_remote_update_tips(remote.get(), &fetch_opts.callbacks, /*update_fetchhead=*/0,
                              GIT_REMOTE_DOWNLOAD_TAGS_NONE, "plumbline: fetch");
  if (rc < 0) return fetch_error(state, rc, "updating refs after fetch");
  // Branches deleted upstream must stop resolving; prune against the advertised refs.
  rc = git_remote_prune(remote.get(), &fetch_opts.callbacks);
  if (rc < 0) return fetch_error(state, rc, "pruning deleted branches");
  git_remote_disconnect(remote.get());

  if (default_branch && default_branch->starts_with("refs/heads/")) {
    std::string target =
        std::string(kRemotePrefix) + default_branch->substr(std::string_view("refs/heads/").size());
    git_reference* ref = nullptr;
    rc = git_reference_symbolic_create(&ref, repo, std::string(kRemoteHead).c_str(), target.c_str(),
                                       /*force=*/1, "plumbline: remote HEAD");
    git::ReferencePtr owned(ref);
    if (rc < 0) return git::from_git(rc, "recording the remote HEAD", loc.display);
  }
  return {};
}

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

Result<git_oid> peel_to_commit(git_repository* repo, const git_oid& id, const std::string& ref,
                               const std::string& where) {
  git_object* raw = nullptr;
  int rc = git_object_lookup(&raw, repo, &id, GIT_OBJECT_ANY);
  git::ObjectPtr object(raw);
  if (rc < 0) return git::from_git(rc, "reading '" + ref + "'", where);
  git_object* peeled_raw = nullptr;
  rc = git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT);
  git::ObjectPtr peeled(peeled_raw);
  if (rc < 0) {
    return Error(ErrorCode::kInvalidInput, "ref '" + ref + "' does not point to a commit", where);
  }
  return *git_object_id(peeled.get());
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
  bool existed = false;
  PL_ASSIGN_OR_RETURN(git::RepositoryPtr repo, open_cache_repo(repo_path, existed, loc.display));
  PL_RETURN_IF_ERROR(fetch_into(repo.get(), options, loc, deadline, !existed));
  PL_ASSIGN_OR_RETURN(ResolvedRef resolved, resolve_ref(repo.get(), options.ref, kRemotePrefix,
                                                        kRemoteHead, loc.display));
  PL_ASSIGN_OR_RETURN(GitSnapshot snapshot, make_snapshot(std::move(repo), resolved, loc.display));
  snapshot.cache_path = repo_path;
  snapshot.reused_cache = existed;
  return snapshot;
}

}  // namespace

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
