// The in-cluster configuration: the API server from KUBERNETES_SERVICE_HOST/PORT, the
// service account's token, CA and namespace from its mounted directory.
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kube/kubeconfig_internal.h"
#include "plumbline/core/strings.h"

namespace plumbline {

using kubeconfig::certificate_problem;
using kubeconfig::code_for_errno;
using kubeconfig::in_quotes;
using kubeconfig::non_empty;
using kubeconfig::read_file_text;
namespace fs = std::filesystem;

Result<KubeConfig> load_in_cluster_config(const EnvLookup& env, const std::string& sa_dir) {
  const std::string kWhere = "in-cluster";
  std::optional<std::string> host = non_empty(env, "KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = non_empty(env, "KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    return not_found(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must "
        "both be set",
        kWhere);
  }
  bool numeric = port->size() <= 5 && port->find_first_not_of("0123456789") == std::string::npos;
  if (!numeric || std::stoi(*port) < 1 || std::stoi(*port) > 65535) {
    return invalid_input("KUBERNETES_SERVICE_PORT " + in_quotes(*port) + " is not a port number",
                         kWhere);
  }
  KubeConfig config;
  std::string bracketed =
      host->find(':') != std::string::npos && host->front() != '[' ? "[" + *host + "]" : *host;
  config.server = "https://" + bracketed + ":" + *port;
  config.context = "in-cluster";
  config.source = "in-cluster";

  fs::path dir(sa_dir);
  config.token_file = (dir / "token").string();
  PL_RETURN_IF_ERROR(current_bearer_token(config));  // fail now, not on the first request

  std::string ca_file = (dir / "ca.crt").string();
  int error_number = 0;
  std::optional<std::string> ca = read_file_text(ca_file, &error_number);
  if (!ca) {
    return Error(
        code_for_errno(error_number),
        "cannot read the service account CA " + ca_file + ": " + std::strerror(error_number),
        kWhere);
  }
  if (auto problem = certificate_problem(*ca)) {
    return invalid_input("the service account CA " + ca_file + " " + *problem, kWhere);
  }
  config.ca_pem = std::move(*ca);

  std::string namespace_file = (dir / "namespace").string();
  std::optional<std::string> ns = read_file_text(namespace_file, &error_number);
  if (!ns && error_number != ENOENT) {
    return Error(code_for_errno(error_number),
                 "cannot read the service account namespace " + namespace_file + ": " +
                     std::strerror(error_number),
                 kWhere);
  }
  config.namespace_ = ns ? std::string(trim(*ns)) : std::string();
  if (config.namespace_.empty()) config.namespace_ = "default";
  return config;
}

}  // namespace plumbline
