// The fetch child: the parent (fetch_in_child) runs `<program> __git-fetch` with run_process
// and a deadline; the child (run_git_fetch_command) fetches with libgit2 and reports on stdout.
// Request and credentials travel over stdin, never argv or the environment; progress lines
// come back on stderr ("progress <text>").
#include <signal.h>

#include <cstdlib>
#include <istream>
#include <ostream>

#include "git/fetch.h"
#include "plumbline/core/object.h"
#include "plumbline/core/sanitizers.h"
#include "plumbline/process/subprocess.h"

namespace plumbline {
namespace git {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestBytes = 1u << 20;
constexpr std::string_view kProgressPrefix = "progress ";

json auth_to_json(const GitAuth& a) {
  return {{"username", a.username},
          {"password", a.password},
          {"netrc_file", a.netrc_file.string()},
          {"ssh_key_file", a.ssh_key_file.string()},
          {"ssh_public_key_file", a.ssh_public_key_file.string()},
          {"ssh_key_passphrase", a.ssh_key_passphrase},
          {"known_hosts_file", a.known_hosts_file.string()},
          {"ssh_key", a.ssh_key},
          {"ssh_public_key", a.ssh_public_key},
          {"known_hosts", a.known_hosts},
          {"origin", a.origin},
          {"host", a.host},
          {"allow_cleartext_http", a.allow_cleartext_http}};
}

GitAuth auth_from_json(const json& j) {
  auto text = [&j](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  GitAuth a;
  a.username = text("username");
  a.password = text("password");
  a.netrc_file = text("netrc_file");
  a.ssh_key_file = text("ssh_key_file");
  a.ssh_public_key_file = text("ssh_public_key_file");
  a.ssh_key_passphrase = text("ssh_key_passphrase");
  a.known_hosts_file = text("known_hosts_file");
  a.ssh_key = text("ssh_key");
  a.ssh_public_key = text("ssh_public_key");
  a.known_hosts = text("known_hosts");
  a.origin = text("origin");
  a.host = text("host");
  a.allow_cleartext_http = j.value("allow_cleartext_http", false);
  return a;
}

ErrorCode code_from_string(std::string_view name) {
  for (ErrorCode code :
       {ErrorCode::kInvalidInput, ErrorCode::kNotFound, ErrorCode::kPermissionDenied,
        ErrorCode::kUnauthenticated, ErrorCode::kUnavailable, ErrorCode::kConflict,
        ErrorCode::kGone, ErrorCode::kTimeout, ErrorCode::kCancelled, ErrorCode::kInternal}) {
    if (to_string(code) == name) return code;
  }
  return ErrorCode::kInternal;
}

std::uint64_t directory_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      std::uintmax_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

// What a fetch killed half-way leaves: lock files of refs and config (libgit2 would refuse to
// update those refs for ever) and temporary packs. Only under the cache lock.
void remove_leftovers(const fs::path& repo) {
  std::vector<fs::path> doomed;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(repo, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    if (name.ends_with(".lock") || name.starts_with("tmp_")) doomed.push_back(it->path());
  }
  for (const fs::path& path : doomed) fs::remove(path, ec);
}

// The variables a fetch may need from plumbline's environment; none holds a secret. (HOME:
// Debian's libgit2 1.5 reads ~/.ssh/known_hosts before it asks plumbline's host key check,
// and fails an SSH connect without a home.)
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (const char* name : {"HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "SSH_AUTH_SOCK"}) {
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

Error too_large(const GitSourceOptions& options, const RepoLocation& loc, std::string what) {
  return Error(ErrorCode::kInvalidInput,
               what + ", more than the Git cache limit (" +
                   std::to_string(options.max_cache_bytes) + " bytes, --git-cache-max-bytes)",
               loc.display);
}

}  // namespace

Status fetch_in_child(const fs::path& repo_path, const GitSourceOptions& options,
                      const RepoLocation& loc, Clock::time_point deadline) {
  remove_leftovers(repo_path);
  std::uint64_t used = directory_bytes(repo_path);
  if (used >= options.max_cache_bytes) {
    std::error_code ec;
    fs::remove_all(repo_path, ec);  // fetched again from scratch next time (a smaller repo?)
    return too_large(
        options, loc,
        "the cache of this repository holds " + std::to_string(used) + " bytes; it was removed");
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) {
    return Error(ErrorCode::kTimeout,
                 "fetch did not finish within " + std::to_string(options.timeout.count()) + "s",
                 loc.display);
  }
  // The child stops itself a little earlier when data still flows (a precise error); the
  // kill at `left` is for a server that sends nothing at all.
  auto child_left = left - std::min<std::chrono::milliseconds>(std::chrono::seconds(1), left / 10);
  json request = {{"repo", options.repo},
                  {"repo_path", repo_path.string()},
                  {"timeout_seconds", options.timeout.count()},
                  {"deadline_ms", child_left.count()},
                  {"max_bytes", options.max_cache_bytes - used},
                  {"max_cache_bytes", options.max_cache_bytes},
                  {"extra_refs", options.extra_refs},
                  {"auth", auth_to_json(options.auth)}};
  fs::path program =
      options.fetch_program.empty() ? fs::path("/proc/self/exe") : options.fetch_program;
  ProcessSpec spec{
      .argv = {program.string(), std::string(kGitFetchCommand)},
      .env = child_environment(),
      .stdin_data = request.dump(),
      .display = "the Git fetch of " + loc.display,
      .timeout = left,
      .max_stdout_bytes = 1u << 20,
      // ASan's shadow memory needs terabytes of address space: no limit under it.
      .max_memory_bytes = kAddressSanitizer ? 0 : options.fetch_memory_bytes,
      // A backstop behind the byte count in the progress callback: no single file (a pack)
      // may grow far past the limit, the kernel stops the writer (SIGXFSZ).
      .max_file_bytes = options.max_cache_bytes + options.max_cache_bytes / 4 + (1u << 20),
      .cancelled = options.cancelled,
      .on_stderr_line =
          [&options](std::string_view line) {
            if (options.progress && line.starts_with(kProgressPrefix)) {
              options.progress(line.substr(kProgressPrefix.size()));
            }
          },
  };
  Result<ProcessResult> done = run_process(spec);
  if (!done.ok()) {
    remove_leftovers(repo_path);
    switch (done.error().code()) {
      case ErrorCode::kTimeout:
        return Error(ErrorCode::kTimeout,
                     "fetch did not finish within " + std::to_string(options.timeout.count()) +
                         "s (no answer from the server); the fetch process was killed",
                     loc.display);
      case ErrorCode::kCancelled:
        return Error(ErrorCode::kCancelled, "fetch cancelled", loc.display);
      default:
        return Error(done.error().code(), done.error().message(), loc.display);
    }
  }
  json reply = json::parse(done->stdout_text, nullptr, false);
  if (!reply.is_object()) {
    remove_leftovers(repo_path);
    if (done->signal == SIGXFSZ) return too_large(options, loc, "the fetch wrote a larger file");
    return Error(ErrorCode::kUnavailable, "the fetch process " + describe_exit(*done), loc.display);
  }
  if (reply.contains("error") && reply["error"].is_object()) {
    remove_leftovers(repo_path);
    const json& e = reply["error"];
    return Error(code_from_string(e.value("code", "")), e.value("message", ""),
                 e.value("where", loc.display));
  }
  std::uint64_t after = directory_bytes(repo_path);
  if (after > options.max_cache_bytes) {
    std::error_code ec;
    fs::remove_all(repo_path, ec);
    return too_large(options, loc,
                     "after this fetch the cache of this repository held " + std::to_string(after) +
                         " bytes; it was removed");
  }
  return {};
}

}  // namespace git

int run_git_fetch_command(std::istream& in, std::ostream& out, std::ostream& err) {
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > git::kMaxRequestBytes) break;
  }
  auto reply = [&out](const Status& status) {
    json j = status.ok() ? json{{"ok", true}}
                         : json{{"error",
                                 {{"code", std::string(to_string(status.error().code()))},
                                  {"message", status.error().message()},
                                  {"where", status.error().where()}}}};
    out << j.dump() << std::flush;
    return status.ok() ? 0 : 1;
  };
  json request = text.size() > git::kMaxRequestBytes ? json() : json::parse(text, nullptr, false);
  if (!request.is_object() || !request.contains("repo") || !request["repo"].is_string()) {
    return reply(Error(ErrorCode::kInternal,
                       std::string(kGitFetchCommand) + ": the request on stdin is not valid"));
  }
  GitSourceOptions options;
  options.repo = request["repo"].get<std::string>();
  options.timeout = std::chrono::seconds(request.value("timeout_seconds", 120L));
  options.max_cache_bytes = request.value("max_cache_bytes", std::uint64_t{0});
  options.auth = git::auth_from_json(request.value("auth", json::object()));
  if (auto refs = request.find("extra_refs"); refs != request.end() && refs->is_array()) {
    for (const json& ref : *refs) {
      if (!ref.is_string() || !valid_extra_ref(ref.get<std::string>())) {
        return reply(Error(ErrorCode::kInternal,
                           std::string(kGitFetchCommand) + ": an extra ref is not valid"));
      }
      options.extra_refs.push_back(ref.get<std::string>());
    }
  }
  options.progress = [&err](std::string_view line) {
    err << git::kProgressPrefix << line << '\n' << std::flush;
  };
  Result<git::RepoLocation> loc = git::classify_repo(options.repo);
  if (!loc.ok()) return reply(std::move(loc).error());
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(request.value("deadline_ms", 0L));
  return reply(git::fetch_into_cache(request.value("repo_path", ""), options, *loc, deadline,
                                     request.value("max_bytes", std::uint64_t{0})));
}

}  // namespace plumbline
