// Finding the Kubernetes configuration as kubectl does: --kubeconfig, $KUBECONFIG (merged),
// ~/.kube/config, then the in-cluster service account; and the bearer token of a loaded one.
#include "plumbline/kube/kube_config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "kube/kubeconfig_internal.h"
#include "plumbline/core/strings.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using kubeconfig::code_for_errno;
using kubeconfig::MergedConfig;
using kubeconfig::non_empty;
using kubeconfig::read_file_text;

Result<KubeConfig> load_files(const std::vector<std::string>& paths,
                              const KubeConfigOptions& options) {
  PL_ASSIGN_OR_RETURN(MergedConfig merged, kubeconfig::read_merged(paths));
  return kubeconfig::resolve(merged, options.context);
}

bool file_exists(const std::string& file) {
  std::error_code error;
  return fs::exists(file, error);
}

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<KubeConfig> load_kube_config(const KubeConfigOptions& options, const EnvLookup& env) {
  if (!options.kubeconfig.empty()) {
    if (!file_exists(options.kubeconfig)) {
      return not_found("kubeconfig " + options.kubeconfig + " (from --kubeconfig) does not exist");
    }
    return load_files({options.kubeconfig}, options);
  }

  std::vector<std::string> looked_at;
  if (std::optional<std::string> list = non_empty(env, "KUBECONFIG")) {
    std::vector<std::string> paths, listed;
    size_t start = 0;
    while (start <= list->size()) {
      size_t colon = list->find(':', start);
      if (colon == std::string::npos) colon = list->size();
      std::string item = list->substr(start, colon - start);
      start = colon + 1;
      if (item.empty() || std::find(listed.begin(), listed.end(), item) != listed.end()) continue;
      listed.push_back(item);
      if (file_exists(item)) paths.push_back(item);
    }
    if (!paths.empty()) return load_files(paths, options);
    looked_at.push_back("$KUBECONFIG (none of its files exist: " + join(listed, ", ") + ")");
  } else {
    looked_at.push_back("$KUBECONFIG (not set)");
  }

  if (std::optional<std::string> home = non_empty(env, "HOME")) {
    std::string default_file = (fs::path(*home) / ".kube" / "config").string();
    if (file_exists(default_file)) return load_files({default_file}, options);
    looked_at.push_back(default_file + " (does not exist)");
  } else {
    looked_at.push_back("~/.kube/config ($HOME is not set)");
  }

  if (!options.context.empty()) {
    looked_at.push_back("the in-cluster service account (not used with --context)");
  } else if (non_empty(env, "KUBERNETES_SERVICE_HOST")) {
    return load_in_cluster_config(env, options.service_account_dir);
  } else {
    looked_at.push_back("the in-cluster service account (KUBERNETES_SERVICE_HOST is not set)");
  }
  return not_found("no Kubernetes configuration found; looked at " + join(looked_at, ", ") +
                   ". Pass --kubeconfig, set KUBECONFIG, or run in a cluster");
}

Result<std::string> current_bearer_token(const KubeConfig& config) {
  if (config.exec) return config.exec->token();
  if (config.token_file.empty()) return config.token;
  int error_number = 0;
  std::optional<std::string> text = read_file_text(config.token_file, &error_number);
  if (!text) {
    return Error(
        code_for_errno(error_number),
        "cannot read bearer token file " + config.token_file + ": " + std::strerror(error_number),
        config.source);
  }
  std::string token(trim(*text));
  if (token.empty()) {
    return Error(ErrorCode::kUnauthenticated,
                 "bearer token file " + config.token_file + " is empty", config.source);
  }
  return token;
}

}  // namespace plumbline
