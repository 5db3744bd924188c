// plumbline/kube/kube_config.h — where and how to reach the Kubernetes API server.
//
// Reads kubeconfig files with kubectl's rules (--kubeconfig, else $KUBECONFIG merged, else
// ~/.kube/config, else the in-cluster service account) and checks everything it can up front:
// certificates and keys are parsed when the configuration loads, so a bad CA is a config error
// that names the file and line, not a confusing TLS failure later. Token, tokenFile,
// client-certificate and exec credential plugin (client.authentication.k8s.io/v1 and v1beta1
// ExecCredential, bearer tokens) authentication are supported; auth providers, basic auth,
// impersonation and proxies are refused with an error that says so.
//
//   PL_ASSIGN_OR_RETURN(KubeConfig config, load_kube_config(options, process_environment()));
//   PL_ASSIGN_OR_RETURN(std::string token, current_bearer_token(config));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plumbline/core/error.h"

namespace plumbline {

// users[].user.exec of a kubeconfig: a program that prints an ExecCredential with a token.
struct ExecPlugin {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // a name looked up on PATH, or a path (relative: to the kubeconfig)
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to plumbline's environment
  std::string interactive_mode;  // Never | IfAvailable (plumbline never gives it a terminal)
  bool provide_cluster_info = false;
  std::string install_hint;
  std::string owner;    // `user "eks"`, for messages
  std::string cluster;  // spec.cluster of KUBERNETES_EXEC_INFO (JSON) when provide_cluster_info
  std::chrono::seconds timeout{60};
};

// Runs the plugin when no unexpired token is cached: the token is kept until the
// ExecCredential's status.expirationTimestamp (for good when it has none), as client-go does.
// Shared by copies of a KubeConfig; safe to call from several threads.
class ExecCredentialSource {
 public:
  using Clock = std::chrono::system_clock;
  explicit ExecCredentialSource(ExecPlugin plugin,
                                std::function<Clock::time_point()> now = Clock::now);
  Result<std::string> token();
  const ExecPlugin& plugin() const { return plugin_; }
  int runs() const;  // how often the plugin ran

 private:
  ExecPlugin plugin_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  std::string token_;
  std::optional<Clock::time_point> expiry_;
  int runs_ = 0;
};

// Runs `plugin` once and returns its ExecCredential's token and expiry (nullopt: none).
Result<std::pair<std::string, std::optional<std::chrono::system_clock::time_point>>>
run_exec_plugin(const ExecPlugin& plugin);

struct KubeConfig {
  std::string server;  // https://host:port[/path] (no trailing slash)
  std::string ca_pem;  // PEM bundle to trust ("" = system trust store)
  std::string client_cert_pem, client_key_pem;
  std::string token;       // bearer token (static)
  std::string token_file;  // bearer token re-read from this file (in-cluster; kubeconfig tokenFile)
  std::shared_ptr<ExecCredentialSource> exec;  // bearer tokens from an exec credential plugin
  bool insecure_skip_tls_verify = false;       // only when the kubeconfig says so
  std::string tls_server_name;                 // cluster.tls-server-name
  std::string context;                         // context name used ("in-cluster" for in-cluster)
  std::string namespace_;  // context namespace ("default" if unset); in-cluster: the SA namespace
  std::string source;      // kubeconfig path(s) joined with ':', or "in-cluster"
};

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct KubeConfigOptions {
  // --kubeconfig (must exist). Empty: $KUBECONFIG (colon-separated list of files, missing ones
  // skipped, merged: the first file that defines a cluster/user/context name wins, and
  // current-context comes from the first file that sets it), else ~/.kube/config ($HOME), else
  // the in-cluster service account.
  std::string kubeconfig;
  std::string context;  // --context; empty: current-context
  // Where the in-cluster fallback reads token, ca.crt and namespace (tests point it elsewhere).
  std::string service_account_dir = kServiceAccountDir;
};

// Environment lookup, injected so tests are hermetic: nullopt when the variable is unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// getenv-backed lookup.
EnvLookup process_environment();

Result<KubeConfig> load_kube_config(const KubeConfigOptions& options, const EnvLookup& env);

// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host is
// bracketed), the service account's token (as token_file), ca.crt (required, validated) and
// namespace (missing: "default") under sa_dir.
Result<KubeConfig> load_in_cluster_config(const EnvLookup& env,
                                          const std::string& sa_dir = kServiceAccountDir);

// The bearer token to send now: the exec plugin's (cached until it expires), else token_file
// re-read on every call (so rotated service-account tokens are picked up; surrounding
// whitespace trimmed), else token. "" means no token.
Result<std::string> current_bearer_token(const KubeConfig& config);

}  // namespace plumbline
