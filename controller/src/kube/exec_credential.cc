// Exec credential plugins (kubeconfig users[].user.exec), as client-go runs them: the command
// with its args, plumbline's environment plus the plugin's env and KUBERNETES_EXEC_INFO, no
// terminal; stdout is an ExecCredential whose status.token is the bearer token until
// status.expirationTimestamp.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "plumbline/core/object.h"
#include "plumbline/core/rfc3339.h"
#include "plumbline/kube/kube_config.h"
#include "plumbline/process/subprocess.h"

extern char** environ;

namespace plumbline {
namespace {

using Clock = std::chrono::system_clock;

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

std::string what(const ExecPlugin& plugin) {
  return "the exec credential plugin " + quoted(plugin.command) + " of " + plugin.owner;
}

// KUBERNETES_EXEC_INFO: never interactive (plumbline gives plugins no terminal).
std::string exec_info(const ExecPlugin& plugin) {
  json spec = {{"interactive", false}};
  if (plugin.provide_cluster_info && !plugin.cluster.empty()) {
    spec["cluster"] = json::parse(plugin.cluster);
  }
  return json{{"apiVersion", plugin.api_version}, {"kind", "ExecCredential"}, {"spec", spec}}
      .dump();
}

std::vector<std::string> plugin_environment(const ExecPlugin& plugin) {
  std::vector<std::pair<std::string, std::string>> added = plugin.env;
  added.emplace_back("KUBERNETES_EXEC_INFO", exec_info(plugin));
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view line(*entry);
    std::string_view name = line.substr(0, line.find('='));
    bool overridden = false;
    for (const auto& [key, value] : added) overridden = overridden || key == name;
    if (!overridden) out.emplace_back(line);
  }
  for (const auto& [key, value] : added) out.push_back(key + "=" + value);
  return out;
}

struct Output {
  int exit_status = 0;
  std::string stdout_text;
};

Result<Output> run(const ExecPlugin& plugin) {
  std::vector<std::string> argv = {plugin.command};
  argv.insert(argv.end(), plugin.args.begin(), plugin.args.end());
  // stderr stays plumbline's (client-go passes it through): a plugin explains itself there.
  Result<ProcessResult> done =
      run_process({.argv = std::move(argv),
                   .search_path = true,
                   .env = plugin_environment(plugin),
                   .display = what(plugin),
                   .timeout = plugin.timeout,
                   .max_stdout_bytes = 1u << 20,  // no credential is that long
                   .inherit_stderr = true});
  if (!done.ok()) {
    if (done.error().code() != ErrorCode::kNotFound) return std::move(done).error();
    std::string message = done.error().message();
    if (!plugin.install_hint.empty()) message += "\n" + plugin.install_hint;
    return Error(ErrorCode::kUnauthenticated, message);
  }
  return Output{done->exit_code, std::move(done->stdout_text)};
}

}  // namespace

Result<std::pair<std::string, std::optional<Clock::time_point>>> run_exec_plugin(
    const ExecPlugin& plugin) {
  PL_ASSIGN_OR_RETURN(Output output, run(plugin));
  if (output.exit_status != 0) {
    return Error(ErrorCode::kUnauthenticated,
                 what(plugin) + " failed with exit status " + std::to_string(output.exit_status));
  }
  json credential = json::parse(output.stdout_text, nullptr, false);
  if (!credential.is_object()) {
    return Error(ErrorCode::kUnauthenticated, what(plugin) + " printed no ExecCredential JSON");
  }
  if (credential.value("kind", "") != "ExecCredential" ||
      credential.value("apiVersion", "") != plugin.api_version) {
    return Error(ErrorCode::kUnauthenticated,
                 what(plugin) + " printed " + quoted(credential.value("apiVersion", "")) + " " +
                     quoted(credential.value("kind", "")) + ", not an ExecCredential of " +
                     plugin.api_version);
  }
  const json status = credential.value("status", json::object());
  if (!status.is_object()) {
    return Error(ErrorCode::kUnauthenticated,
                 what(plugin) + " printed an ExecCredential without status");
  }
  std::string token =
      status.value("token", json()).is_string() ? status["token"].get<std::string>() : "";
  if (token.empty()) {
    bool certificate = status.contains("clientCertificateData") || status.contains("clientKeyData");
    return Error(ErrorCode::kUnauthenticated,
                 what(plugin) + (certificate ? " returned a client certificate, which plumbline "
                                               "does not support from exec plugins (only tokens)"
                                             : " returned no status.token"));
  }
  std::optional<Clock::time_point> expiry;
  if (status.contains("expirationTimestamp") && !status["expirationTimestamp"].is_null()) {
    const json& stamp = status["expirationTimestamp"];
    expiry = stamp.is_string() ? parse_rfc3339(stamp.get<std::string>()) : std::nullopt;
    if (!expiry) {
      return Error(ErrorCode::kUnauthenticated, what(plugin) + " returned an expirationTimestamp " +
                                                    stamp.dump() + " that is not RFC 3339");
    }
  }
  return std::make_pair(std::move(token), expiry);
}

ExecCredentialSource::ExecCredentialSource(ExecPlugin plugin,
                                           std::function<Clock::time_point()> now)
    : plugin_(std::move(plugin)), now_(std::move(now)) {}

Result<std::string> ExecCredentialSource::token() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!token_.empty() && (!expiry_ || now_() < *expiry_)) return token_;
  ++runs_;
  PL_ASSIGN_OR_RETURN(auto credential, run_exec_plugin(plugin_));
  token_ = std::move(credential.first);
  expiry_ = credential.second;
  return token_;
}

int ExecCredentialSource::runs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return runs_;
}

}  // namespace plumbline
