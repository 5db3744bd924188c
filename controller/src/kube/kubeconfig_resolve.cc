// Resolving a context of the merged kubeconfig: its cluster (server, TLS), its user
// (token, token file, client certificate, exec plugin), and the refusals of what plumbline
// does not support, each naming the file and line.
#include <cerrno>
#include <cstring>

#include "kube/kubeconfig_internal.h"
#include "plumbline/core/base64.h"
#include "plumbline/core/strings.h"

namespace plumbline::kubeconfig {
namespace {

// The PEM text of a "<field>" (file) / "<field>-data" (base64) pair; "" when neither is set.
// `certificate` decides whether it must hold certificates or a private key.
Result<std::string> load_pem(const Entry& entry, const std::string& field, bool certificate) {
  std::string data_field = field + "-data";
  PL_ASSIGN_OR_RETURN(std::string data, entry.string_field(data_field));
  PL_ASSIGN_OR_RETURN(std::string file_value, entry.string_field(field));
  if (!data.empty() && !file_value.empty()) {
    return invalid_input(
        entry.owner() + " sets both " + field + " and " + data_field + "; set only one",
        entry.where(data_field));
  }
  std::string pem, label, where;
  if (!data.empty()) {
    std::optional<std::string> decoded =
        base64_decode(data, {.padding = Base64Padding::kRequired, .allow_whitespace = true});
    if (!decoded) {
      return invalid_input(data_field + " of " + entry.owner() + " is not valid base64",
                           entry.where(data_field));
    }
    pem = std::move(*decoded);
    label = data_field;
    where = entry.where(data_field);
  } else if (!file_value.empty()) {
    std::string resolved = entry.file->resolve_path(file_value);
    int error_number = 0;
    std::optional<std::string> text = read_file_text(resolved, &error_number);
    if (!text) {
      return Error(code_for_errno(error_number),
                   "cannot read " + field + " " + resolved + " of " + entry.owner() + ": " +
                       std::strerror(error_number),
                   entry.where(field));
    }
    pem = std::move(*text);
    label = field + " " + resolved;
    where = entry.where(field);
  } else {
    return std::string();
  }
  if (certificate) {
    if (auto problem = certificate_problem(pem)) {
      return invalid_input(label + " of " + entry.owner() + " " + *problem, where);
    }
  } else if (!is_private_key(pem)) {
    return invalid_input(label + " of " + entry.owner() +
                             " is not a PEM private key (encrypted keys are not supported)",
                         where);
  }
  return pem;
}

Status refuse_unsupported_auth(const Entry& user) {
  auto refuse = [&](std::string_view field, const std::string& what) -> Status {
    return invalid_input(user.owner() + " uses " + what +
                             ", which plumbline does not support; plumbline supports token, "
                             "tokenFile, client certificates (client-certificate/client-key) "
                             "and exec credential plugins",
                         user.where(field));
  };
  if (const json* provider = user.field("auth-provider");
      provider != nullptr && is_set(*provider)) {
    std::string name;
    if (provider->is_object() && provider->contains("name") && (*provider)["name"].is_string()) {
      name = " " + in_quotes((*provider)["name"].get<std::string>());
    }
    return refuse("auth-provider", "the auth-provider" + name);
  }
  for (const char* field : {"username", "password"}) {
    if (const json* value = user.field(field); value != nullptr && is_set(*value)) {
      return refuse(field, "basic authentication (username/password)");
    }
  }
  for (const char* field : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (const json* value = user.field(field); value != nullptr && is_set(*value)) {
      return refuse(field, std::string("impersonation (") + field + ")");
    }
  }
  return {};
}

Status apply_cluster(const Entry& cluster, KubeConfig& config) {
  if (const json* proxy = cluster.field("proxy-url"); proxy != nullptr && is_set(*proxy)) {
    return invalid_input(cluster.owner() +
                             " sets proxy-url, which plumbline does not support; the API "
                             "server must be reachable directly",
                         cluster.where("proxy-url"));
  }
  PL_ASSIGN_OR_RETURN(std::string server, cluster.string_field("server"));
  if (server.empty())
    return invalid_input(cluster.owner() + " has no server", cluster.where("server"));
  bool https = server.starts_with("https://");
  if (!https && !server.starts_with("http://")) {
    return invalid_input("server " + in_quotes(server) + " of " + cluster.owner() +
                             " must be an https:// (or http://) URL",
                         cluster.where("server"));
  }
  size_t scheme_length = https ? 8 : 7;
  while (server.size() > scheme_length && server.ends_with('/')) server.pop_back();
  std::string_view host = std::string_view(server).substr(scheme_length);
  if (host.empty() || host.front() == '/') {
    return invalid_input("server " + in_quotes(server) + " of " + cluster.owner() + " has no host",
                         cluster.where("server"));
  }
  config.server = std::move(server);
  PL_ASSIGN_OR_RETURN(config.insecure_skip_tls_verify,
                      cluster.bool_field("insecure-skip-tls-verify"));
  PL_ASSIGN_OR_RETURN(config.ca_pem, load_pem(cluster, "certificate-authority", true));
  if (config.insecure_skip_tls_verify && !config.ca_pem.empty()) {
    return invalid_input(cluster.owner() +
                             " sets both insecure-skip-tls-verify and a certificate authority; "
                             "set only one",
                         cluster.where("insecure-skip-tls-verify"));
  }
  PL_ASSIGN_OR_RETURN(config.tls_server_name, cluster.string_field("tls-server-name"));
  return {};
}

// users[].user.exec (client-go's ExecConfig); the cluster is already in `config`.
Result<ExecPlugin> exec_plugin(const Entry& user, const json& exec, const KubeConfig& config) {
  const std::string where = user.where("exec");
  auto bad = [&](const std::string& message) -> Error {
    return invalid_input("exec of " + user.owner() + " " + message, where);
  };
  if (!exec.is_object()) return bad("must be a mapping");
  ExecPlugin plugin;
  plugin.owner = user.owner();
  plugin.api_version =
      exec.value("apiVersion", json()).is_string() ? exec["apiVersion"].get<std::string>() : "";
  if (plugin.api_version != "client.authentication.k8s.io/v1" &&
      plugin.api_version != "client.authentication.k8s.io/v1beta1") {
    return bad("has apiVersion " + in_quotes(plugin.api_version) +
               "; plumbline supports client.authentication.k8s.io/v1 and v1beta1");
  }
  if (!exec.contains("command") || !exec["command"].is_string() ||
      exec["command"].get<std::string>().empty())
    return bad("has no command");
  plugin.command = exec["command"].get<std::string>();
  // As client-go: a command with a path separator is relative to the kubeconfig's directory.
  if (plugin.command.find('/') != std::string::npos)
    plugin.command = user.file->resolve_path(plugin.command);
  if (exec.contains("args") && !exec["args"].is_null()) {
    if (!exec["args"].is_array()) return bad("args must be a list of strings");
    for (const json& arg : exec["args"]) {
      if (!arg.is_string()) return bad("args must be a list of strings");
      plugin.args.push_back(arg.get<std::string>());
    }
  }
  if (exec.contains("env") && !exec["env"].is_null()) {
    if (!exec["env"].is_array()) return bad("env must be a list of {name, value}");
    for (const json& var : exec["env"]) {
      if (!var.is_object() || !var.value("name", json()).is_string() ||
          !var.value("value", json()).is_string())
        return bad("env must be a list of {name, value}");
      plugin.env.emplace_back(var["name"].get<std::string>(), var["value"].get<std::string>());
    }
  }
  bool v1 = plugin.api_version.ends_with("/v1");
  plugin.interactive_mode = exec.value("interactiveMode", json()).is_string()
                                ? exec["interactiveMode"].get<std::string>()
                                : (v1 ? "" : "IfAvailable");
  if (plugin.interactive_mode.empty())
    return bad("has no interactiveMode (required by client.authentication.k8s.io/v1)");
  if (plugin.interactive_mode == "Always") {
    return bad(
        "has interactiveMode Always: it needs a terminal, and plumbline runs plugins without one");
  }
  if (plugin.interactive_mode != "Never" && plugin.interactive_mode != "IfAvailable")
    return bad("has interactiveMode " + in_quotes(plugin.interactive_mode) +
               " (Never, IfAvailable or Always)");
  if (exec.contains("provideClusterInfo") && !exec["provideClusterInfo"].is_null()) {
    if (!exec["provideClusterInfo"].is_boolean())
      return bad("provideClusterInfo must be true or false");
    plugin.provide_cluster_info = exec["provideClusterInfo"].get<bool>();
  }
  if (exec.value("installHint", json()).is_string())
    plugin.install_hint = exec["installHint"].get<std::string>();
  if (plugin.provide_cluster_info) {
    json cluster = {{"server", config.server}};
    if (!config.ca_pem.empty())
      cluster["certificate-authority-data"] = base64_encode(config.ca_pem);
    if (config.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.tls_server_name.empty()) cluster["tls-server-name"] = config.tls_server_name;
    plugin.cluster = cluster.dump();
  }
  return plugin;
}

Status apply_user(const Entry& user, KubeConfig& config) {
  PL_RETURN_IF_ERROR(refuse_unsupported_auth(user));
  PL_ASSIGN_OR_RETURN(config.token, user.string_field("token"));
  PL_ASSIGN_OR_RETURN(std::string token_file, user.string_field("tokenFile"));
  if (!token_file.empty()) {
    config.token_file = user.file->resolve_path(token_file);
    int error_number = 0;
    std::optional<std::string> token = read_file_text(config.token_file, &error_number);
    if (!token) {
      return Error(code_for_errno(error_number),
                   "cannot read tokenFile " + config.token_file + " of " + user.owner() + ": " +
                       std::strerror(error_number),
                   user.where("tokenFile"));
    }
    if (trim(*token).empty()) {
      return invalid_input("tokenFile " + config.token_file + " of " + user.owner() + " is empty",
                           user.where("tokenFile"));
    }
  }
  if (const json* exec = user.field("exec"); exec != nullptr && is_set(*exec)) {
    if (!config.token.empty() || !config.token_file.empty()) {
      return invalid_input(user.owner() + " sets both a token and an exec plugin; set only one",
                           user.where("exec"));
    }
    PL_ASSIGN_OR_RETURN(ExecPlugin plugin, exec_plugin(user, *exec, config));
    config.exec = std::make_shared<ExecCredentialSource>(std::move(plugin));
  }
  PL_ASSIGN_OR_RETURN(config.client_cert_pem, load_pem(user, "client-certificate", true));
  PL_ASSIGN_OR_RETURN(config.client_key_pem, load_pem(user, "client-key", false));
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    bool has_cert = !config.client_cert_pem.empty();
    return invalid_input(user.owner() + " has " +
                             (has_cert ? "client-certificate but no client-key"
                                       : "client-key but no client-certificate"),
                         user.where(has_cert ? "client-key" : "client-certificate"));
  }
  if (!config.client_cert_pem.empty()) {
    if (!key_matches_certificate(config.client_cert_pem, config.client_key_pem)) {
      return invalid_input(
          "client-key of " + user.owner() + " does not match its client-certificate",
          user.where(user.field("client-key-data") != nullptr ? "client-key-data" : "client-key"));
    }
  }
  return {};
}

}  // namespace

Result<KubeConfig> resolve(const MergedConfig& merged, const std::string& requested_context) {
  KubeConfig config;
  config.source = merged.source;
  std::string name = requested_context.empty() ? merged.current_context : requested_context;
  if (name.empty()) {
    return invalid_input("no current-context is set and no --context was given (" +
                             names_of(merged.contexts, "contexts") + ")",
                         merged.source);
  }
  auto context_it = merged.contexts.find(name);
  if (context_it == merged.contexts.end()) {
    if (!requested_context.empty()) {
      return not_found("context " + in_quotes(name) + " given by --context is not defined (" +
                           names_of(merged.contexts, "contexts") + ")",
                       merged.source);
    }
    return not_found("current-context " + in_quotes(name) + " is not defined (" +
                         names_of(merged.contexts, "contexts") + ")",
                     merged.current_context_where);
  }
  const Entry& context = context_it->second;
  config.context = name;
  PL_ASSIGN_OR_RETURN(config.namespace_, context.string_field("namespace"));
  if (config.namespace_.empty()) config.namespace_ = "default";

  PL_ASSIGN_OR_RETURN(std::string cluster_name, context.string_field("cluster"));
  if (cluster_name.empty()) {
    return invalid_input(context.owner() + " names no cluster", context.where("cluster"));
  }
  auto cluster_it = merged.clusters.find(cluster_name);
  if (cluster_it == merged.clusters.end()) {
    return not_found(context.owner() + " uses cluster " + in_quotes(cluster_name) +
                         ", which is not defined (" + names_of(merged.clusters, "clusters") + ")",
                     context.where("cluster"));
  }
  PL_RETURN_IF_ERROR(apply_cluster(cluster_it->second, config));

  PL_ASSIGN_OR_RETURN(std::string user_name, context.string_field("user"));
  if (!user_name.empty()) {  // no user: anonymous requests
    auto user_it = merged.users.find(user_name);
    if (user_it == merged.users.end()) {
      return not_found(context.owner() + " uses user " + in_quotes(user_name) +
                           ", which is not defined (" + names_of(merged.users, "users") + ")",
                       context.where("user"));
    }
    PL_RETURN_IF_ERROR(apply_user(user_it->second, config));
  }
  return config;
}

}  // namespace plumbline::kubeconfig
