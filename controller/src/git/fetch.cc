// The fetch into a bare cache repository (libgit2), with the callbacks that check host keys,
// bind credentials to their host and stop the transfer at the deadline or past the size limit.
// It runs in the fetch child (fetch_child.cc).
#include "git/fetch.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "git/credentials.h"
#include "git/libgit2.h"

namespace plumbline::git {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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
// State shared with libgit2's callbacks. A callback that refuses records the precise Error
// here and returns GIT_EUSER; the caller prefers this Error over libgit2's generic message.
struct FetchState {
  const GitSourceOptions* options;
  const RepoLocation* loc;
  Clock::time_point deadline;
  std::uint64_t max_bytes;
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
    if (host != nullptr && !state.loc->host.empty() && !same_host(host, state.loc->host)) {
      return state.fail(Error(ErrorCode::kPermissionDenied,
                              std::string("redirected to another host (") + host + "), refused",
                              state.loc->display));
    }
    return GIT_PASSTHROUGH;
  }

  // SSH: libgit2 1.5 does not consult known_hosts itself, so this callback is the only check
  // and must fail closed on anything but a listed, matching key.
  const auto* hostkey = reinterpret_cast<const git_cert_hostkey*>(cert);
  PresentedKey key;
  if ((hostkey->type & GIT_CERT_SSH_RAW) != 0 && hostkey->hostkey != nullptr) {
    key.raw.assign(hostkey->hostkey, hostkey->hostkey_len);
    key.key_type = raw_key_type(hostkey->raw_type);
  }
  if ((hostkey->type & GIT_CERT_SSH_SHA256) != 0) {
    key.sha256.assign(reinterpret_cast<const char*>(hostkey->hash_sha256),
                      sizeof(hostkey->hash_sha256));
  }
  const fs::path& file = state.options->auth.known_hosts_file;
  std::string name = known_hosts_name(host != nullptr ? host : state.loc->host, state.loc->port);
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
  switch (check_host_key(parse_known_hosts(*text), name, key)) {
    case HostKeyVerdict::kMatch:
      return 0;
    case HostKeyVerdict::kUnknownHost:
      return state.fail(Error(ErrorCode::kPermissionDenied,
                              "host key for " + name + " is not in " + where, state.loc->display));
    case HostKeyVerdict::kMismatch:
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
  auto refusal =
      credential_refusal(url != nullptr ? url : state.loc->url, bound, auth.allow_cleartext_http);
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
        if (auto entry = netrc_lookup(parse_netrc(*text), bound)) {
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
  if (stats->received_bytes > state.max_bytes) {
    return state.fail(Error(ErrorCode::kInvalidInput,
                            "the repository is larger than the Git cache limit (" +
                                std::to_string(state.options->max_cache_bytes) +
                                " bytes, --git-cache-max-bytes); fetch stopped after " +
                                std::to_string(stats->received_bytes) + " bytes",
                            state.loc->display));
  }
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
  return from_git(rc, what, state.loc->display, ErrorCode::kUnavailable);
}

// Opens (or creates) the bare cache repository.
Result<RepositoryPtr> open_cache_repo(const fs::path& path, bool& existed,
                                      const std::string& where) {
  git_repository* raw = nullptr;
  std::error_code ec;
  existed = fs::exists(path / "HEAD", ec) && git_repository_open_bare(&raw, path.c_str()) == 0;
  RepositoryPtr repo(raw);
  if (existed) return repo;
  // A half-created or corrupt entry (killed during the first clone) is rebuilt from scratch.
  fs::remove_all(path, ec);
  raw = nullptr;
  int rc = git_repository_init(&raw, path.c_str(), /*is_bare=*/1);
  repo.reset(raw);
  if (rc < 0) return from_git(rc, "creating cache repository " + path.string(), where);
  return repo;
}

// Fetches branches and tags into the cache and records the remote's default branch as
// refs/remotes/origin/HEAD. The URL is used through an anonymous remote so that it (and any
// password in it) is never written into the cache's config.
Status fetch_into(git_repository* repo, const GitSourceOptions& options, const RepoLocation& loc,
                  Clock::time_point deadline, bool cloning, std::uint64_t max_bytes) {
  FetchState state{&options, &loc, deadline, max_bytes};
  if (options.progress) options.progress((cloning ? "cloning " : "fetching ") + loc.display);

  git_remote* raw = nullptr;
  int rc = git_remote_create_anonymous(&raw, repo, loc.url.c_str());
  RemotePtr remote(raw);
  if (rc < 0) return from_git(rc, "invalid remote URL", loc.display, ErrorCode::kInvalidInput);

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
    Buf head;
    // Fails only for a remote without HEAD (empty repo); then a ref must be given.
    if (git_remote_default_branch(&head.buf, remote.get()) == 0) default_branch = head.str();
  }

  std::vector<std::string> specs_text = {"+refs/heads/*:refs/remotes/origin/*",
                                         "+refs/tags/*:refs/tags/*"};
  for (const std::string& ref : options.extra_refs) {
    if (!valid_extra_ref(ref))
      return invalid_input("not a ref plumbline fetches: " + ref, loc.display);
    specs_text.push_back("+" + ref + ":" + ref);
  }
  std::vector<char*> specs;
  for (std::string& spec : specs_text) specs.push_back(spec.data());
  git_strarray refspecs{specs.data(), specs.size()};
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
    ReferencePtr owned(ref);
    if (rc < 0) return from_git(rc, "recording the remote HEAD", loc.display);
  }
  return {};
}

}  // namespace

Status fetch_into_cache(const fs::path& repo_path, const GitSourceOptions& options,
                        const RepoLocation& loc, Clock::time_point deadline,
                        std::uint64_t max_bytes) {
  PL_RETURN_IF_ERROR(ensure_libgit2());
  bool existed = false;
  PL_ASSIGN_OR_RETURN(RepositoryPtr repo, open_cache_repo(repo_path, existed, loc.display));
  return fetch_into(repo.get(), options, loc, deadline, !existed, max_bytes);
}

}  // namespace plumbline::git
