// Environment custom resources: parsing and validation of the spec.
#include "plumbline/reconcile/environment.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "plumbline/core/base64.h"

namespace plumbline {
namespace {

// A JSON value's string at `key`, or an error naming the field; absent: `fallback`.
Result<std::string> string_field(const json& parent, const char* key, const std::string& field,
                                 const std::string& where, std::string fallback = {}) {
  if (!parent.is_object() || !parent.contains(key) || parent[key].is_null()) return fallback;
  if (!parent[key].is_string()) return invalid_input(field + " must be a string", where);
  return parent[key].get<std::string>();
}

Result<int> int_field(const json& parent, const char* key, const std::string& field,
                      const std::string& where, int fallback, int minimum) {
  if (!parent.is_object() || !parent.contains(key) || parent[key].is_null()) return fallback;
  if (!parent[key].is_number_integer()) return invalid_input(field + " must be an integer", where);
  long value = parent[key].get<long>();
  if (value < minimum || value > 1000000) {
    return invalid_input(
        field + " must be at least " + std::to_string(minimum) + ", got " + std::to_string(value),
        where);
  }
  return static_cast<int>(value);
}

// A DNS subdomain (RFC 1123), as ServiceAccount names are.
bool valid_object_name(const std::string& name) {
  static const std::regex kName(
      R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  return name.size() <= 253 && std::regex_match(name, kName);
}

Result<std::vector<std::string>> string_list(const json& parent, const char* key,
                                             const std::string& field, const std::string& where) {
  std::vector<std::string> out;
  if (!parent.contains(key) || parent[key].is_null()) return out;
  if (!parent[key].is_array()) return invalid_input(field + " must be a list of strings", where);
  for (const json& item : parent[key]) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      return invalid_input(field + " must be a list of non-empty strings", where);
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// spec.render: type, the helm fields (type helm or auto), command and timeout (type command).
Status parse_render(const json& render, const std::string& where, EnvironmentSpec& env) {
  if (render.is_null()) return {};
  if (!render.is_object()) return invalid_input("spec.render must be a mapping", where);
  PL_ASSIGN_OR_RETURN(env.render, string_field(render, "type", "spec.render.type", where, "auto"));
  if (!parse_render_mode(env.render)) {
    return invalid_input("spec.render.type '" + env.render +
                             "' is not supported by this controller (auto, plain, kustomize, "
                             "helm, command)",
                         where);
  }
  for (const auto& [key, value] : render.items()) {
    static const std::set<std::string> kKnown = {
        "type", "valuesFiles", "values", "releaseName", "namespace", "command", "timeout"};
    if (!kKnown.count(key)) return invalid_input("spec.render: unknown field '" + key + "'", where);
  }
  bool helm_fields = false;
  for (const char* key : {"valuesFiles", "values", "releaseName", "namespace"}) {
    helm_fields = helm_fields || (render.contains(key) && !render[key].is_null());
  }
  if (helm_fields && env.render != "helm" && env.render != "auto") {
    return invalid_input(
        "spec.render.valuesFiles, values, releaseName and namespace are only "
        "used with type helm (or auto)",
        where);
  }
  PL_ASSIGN_OR_RETURN(env.helm.values_files,
                      string_list(render, "valuesFiles", "spec.render.valuesFiles", where));
  if (render.contains("values") && !render["values"].is_null()) {
    if (!render["values"].is_object())
      return invalid_input("spec.render.values must be a mapping", where);
    env.helm.values = render["values"];
  }
  PL_ASSIGN_OR_RETURN(env.helm.release_name,
                      string_field(render, "releaseName", "spec.render.releaseName", where));
  PL_ASSIGN_OR_RETURN(env.helm.namespace_name,
                      string_field(render, "namespace", "spec.render.namespace", where));
  PL_ASSIGN_OR_RETURN(env.render_command,
                      string_list(render, "command", "spec.render.command", where));
  if ((env.render == "command") != !env.render_command.empty()) {
    return invalid_input(env.render_command.empty()
                             ? "spec.render.type command needs spec.render.command"
                             : "spec.render.command is only used with type command",
                         where);
  }
  PL_ASSIGN_OR_RETURN(std::string timeout,
                      string_field(render, "timeout", "spec.render.timeout", where));
  if (!timeout.empty()) {
    auto parsed = parse_duration(timeout);
    if (!parsed.ok() || parsed->count() <= 0) {
      return invalid_input("spec.render.timeout must be a duration like 30s, got '" + timeout + "'",
                           where);
    }
    env.render_timeout = *parsed;
  }
  return {};
}

}  // namespace

bool allows_environment(const json& object, std::string_view environment) {
  if (!object.is_object() || !object.contains("metadata")) return false;
  const json& metadata = object["metadata"];
  if (!metadata.is_object() || !metadata.contains("annotations")) return false;
  const json& annotations = metadata["annotations"];
  if (!annotations.is_object()) return false;
  auto it = annotations.find(std::string(kAllowedEnvironmentsAnnotation));
  if (it == annotations.end() || !it->is_string()) return false;
  const std::string& list = it->get_ref<const std::string&>();
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = std::min(list.find(',', start), list.size());
    std::string_view item(list.data() + start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty() && item == environment) return true;
    start = comma + 1;
  }
  return false;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  static const std::regex kPart(R"(([0-9]+(?:\.[0-9]+)?)(ms|s|m|h))");
  std::string s(text);
  if (s.empty()) return invalid_input("empty duration");
  double total_ms = 0;
  auto begin = std::sregex_iterator(s.begin(), s.end(), kPart);
  size_t consumed = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    if (static_cast<size_t>(it->position()) != consumed) break;
    consumed += it->length();
    double n = std::stod((*it)[1]);
    std::string unit = (*it)[2];
    total_ms += n * (unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : 3600000);
  }
  if (consumed != s.size()) {
    return invalid_input("duration '" + s + "' must look like 30s, 1m, 1h30m or 250ms");
  }
  return std::chrono::milliseconds(static_cast<long>(std::llround(total_ms)));
}

namespace {

// The shortest form parse_duration reads back: 1m, 90s, 250ms.
std::string format_duration(std::chrono::milliseconds d) {
  long ms = static_cast<long>(d.count());
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

Result<EnvironmentSpec> parse_environment(const json& object,
                                          std::chrono::milliseconds min_validation_interval) {
  EnvironmentSpec env;
  const json& metadata = object.contains("metadata") ? object["metadata"] : json::object();
  env.name = metadata.value("name", std::string());
  if (env.name.empty()) return invalid_input("Environment without metadata.name");
  if (metadata.contains("generation") && metadata["generation"].is_number_integer()) {
    env.generation = metadata["generation"].get<long>();
  }
  const std::string where = "Environment " + env.name;
  env.labels = labels_of(metadata);
  if (!object.contains("spec") || !object["spec"].is_object()) {
    return invalid_input("spec is required", where);
  }
  const json& spec = object["spec"];

  const json& source = spec.contains("source") ? spec["source"] : json();
  if (!source.is_object()) return invalid_input("spec.source is required", where);
  PL_ASSIGN_OR_RETURN(env.source.url, string_field(source, "url", "spec.source.url", where));
  PL_ASSIGN_OR_RETURN(env.source.ref, string_field(source, "ref", "spec.source.ref", where));
  PL_ASSIGN_OR_RETURN(env.source.path, string_field(source, "path", "spec.source.path", where));
  if (env.source.url.empty()) return invalid_input("spec.source.url is required", where);
  if (env.source.path.empty()) return invalid_input("spec.source.path is required", where);
  // Signed commits: the format and the Secret holding the trusted keys (fail closed: a verify
  // block that does not parse is an error, never an unverified sync).
  if (source.contains("verify") && !source["verify"].is_null()) {
    const json& verify = source["verify"];
    if (!verify.is_object()) return invalid_input("spec.source.verify must be an object", where);
    PL_ASSIGN_OR_RETURN(std::string provider,
                        string_field(verify, "provider", "spec.source.verify.provider", where));
    Result<SignatureFormat> format = parse_signature_format(provider);
    if (!format.ok()) {
      return invalid_input(
          "spec.source.verify.provider must be ssh or openpgp, got '" + provider + "'", where);
    }
    env.source.verify = *format;
    if (verify.contains("keysSecretRef")) {
      PL_ASSIGN_OR_RETURN(env.source.verify_secret,
                          string_field(verify["keysSecretRef"], "name",
                                       "spec.source.verify.keysSecretRef.name", where));
    }
    if (env.source.verify_secret.empty()) {
      return invalid_input("spec.source.verify.keysSecretRef.name is required", where);
    }
  }
  if (source.contains("secretRef")) {
    PL_ASSIGN_OR_RETURN(env.source.secret_name, string_field(source["secretRef"], "name",
                                                             "spec.source.secretRef.name", where));
  }

  PL_ASSIGN_OR_RETURN(env.service_account,
                      string_field(spec, "serviceAccountName", "spec.serviceAccountName", where));
  if (!env.service_account.empty() && !valid_object_name(env.service_account)) {
    return invalid_input(
        "spec.serviceAccountName '" + env.service_account +
            "' is not a ServiceAccount name (lower-case letters, digits, '-', '.')",
        where);
  }

  if (spec.contains("render")) {
    PL_RETURN_IF_ERROR(parse_render(spec["render"], where, env));
  }

  if (!spec.contains("namespaces") || !spec["namespaces"].is_array() ||
      spec["namespaces"].empty()) {
    return invalid_input("spec.namespaces must list at least one namespace", where);
  }
  for (const json& ns : spec["namespaces"]) {
    if (!ns.is_string() || ns.get<std::string>().empty()) {
      return invalid_input("spec.namespaces must be namespace names", where);
    }
    env.namespaces.push_back(ns.get<std::string>());
  }

  PL_ASSIGN_OR_RETURN(std::string interval,
                      string_field(spec, "interval", "spec.interval", where, "1m"));
  Result<std::chrono::milliseconds> parsed = parse_duration(interval);
  if (!parsed.ok()) return invalid_input("spec.interval: " + parsed.error().message(), where);
  if (*parsed < std::chrono::seconds(1)) {
    return invalid_input("spec.interval must be at least 1s, got " + interval, where);
  }
  env.interval = *parsed;

  PL_ASSIGN_OR_RETURN(std::string validation, string_field(spec, "validationInterval",
                                                           "spec.validationInterval", where, "1h"));
  parsed = parse_duration(validation);
  if (!parsed.ok())
    return invalid_input("spec.validationInterval: " + parsed.error().message(), where);
  if (*parsed < min_validation_interval) {
    return invalid_input("spec.validationInterval must be at least " +
                             format_duration(min_validation_interval) + ", got " + validation,
                         where);
  }
  env.validation_interval = *parsed;

  if (spec.contains("policies") && !spec["policies"].is_null()) {
    PL_ASSIGN_OR_RETURN(env.policies_path,
                        string_field(spec["policies"], "path", "spec.policies.path", where));
    if (env.policies_path.empty()) return invalid_input("spec.policies.path is required", where);
  }

  PL_ASSIGN_OR_RETURN(std::string mode, string_field(spec, "mode", "spec.mode", where, "report"));
  if (mode == "report") {
    env.mode = EnvironmentMode::kReport;
  } else if (mode == "enforce") {
    env.mode = EnvironmentMode::kEnforce;
  } else {
    return invalid_input("spec.mode must be report or enforce, got '" + mode + "'", where);
  }

  if (spec.contains("suspend")) {
    if (!spec["suspend"].is_boolean())
      return invalid_input("spec.suspend must be a boolean", where);
    env.suspend = spec["suspend"].get<bool>();
  }
  if (metadata.contains("annotations") && metadata["annotations"].is_object()) {
    const json& annotations = metadata["annotations"];
    auto request = annotations.find(std::string(kReconcileRequestAnnotation));
    if (request != annotations.end() && request->is_string()) {
      env.reconcile_requested = request->get<std::string>();
    }
  }

  if (spec.contains("correction")) {
    const json& c = spec["correction"];
    PL_ASSIGN_OR_RETURN(env.correction.max_per_minute,
                        int_field(c, "maxPerMinute", "spec.correction.maxPerMinute", where, 10, 0));
    PL_ASSIGN_OR_RETURN(env.correction.max_rounds,
                        int_field(c, "maxRounds", "spec.correction.maxRounds", where, 3, 1));
  }
  return env;
}

namespace {

std::string secret_where(const json& secret) {
  const json& metadata = secret.contains("metadata") ? secret["metadata"] : json::object();
  return "Secret " + metadata.value("namespace", "") + "/" + metadata.value("name", "");
}

}  // namespace

Status secret_usable_by(const json& secret, std::string_view environment, std::string_view what) {
  const std::string where = secret_where(secret);
  auto type = secret.find("type");
  if (type != secret.end() && *type == "kubernetes.io/service-account-token") {
    return Error(ErrorCode::kPermissionDenied,
                 "is a ServiceAccount token (type kubernetes.io/service-account-token), not " +
                     std::string(what) + ": refused",
                 where);
  }
  if (!allows_environment(secret, environment)) {
    return Error(ErrorCode::kPermissionDenied,
                 "is not meant for Environment " + std::string(environment) + ": its " +
                     std::string(kAllowedEnvironmentsAnnotation) +
                     " annotation must list it (comma-separated names)",
                 where);
  }
  return {};
}

Result<std::map<std::string, std::string>> secret_data(const json& secret) {
  const std::string where = secret_where(secret);
  std::map<std::string, std::string> data;
  if (secret.contains("data") && !secret["data"].is_null()) {
    if (!secret["data"].is_object()) return invalid_input("data must be an object", where);
    for (const auto& [key, value] : secret["data"].items()) {
      if (!value.is_string()) return invalid_input("data." + key + " must be a string", where);
      std::optional<std::string> decoded = base64_decode(value.get<std::string>());
      if (!decoded) return invalid_input("data." + key + " is not valid base64", where);
      data[key] = std::move(*decoded);
    }
  }
  return data;
}

Result<TrustedKeys> trusted_keys_from_secret(const json& secret, SignatureFormat format) {
  const std::string where = secret_where(secret);
  PL_ASSIGN_OR_RETURN(auto data, secret_data(secret));
  TrustedKeys keys{.format = format, .keys = {}, .origin = where};
  if (format == SignatureFormat::kSsh) {
    auto it = data.find("allowed_signers");
    if (it == data.end() || it->second.empty()) {
      return invalid_input("holds no allowed_signers (the SSH keys trusted to sign commits)",
                           where);
    }
    keys.keys = it->second;
  } else {
    for (const auto& [key, value] : data) keys.keys += value + "\n";
    if (data.empty()) return invalid_input("holds no OpenPGP public keys", where);
  }
  return keys;
}

Result<GitAuth> git_auth_from_secret(const json& secret, const GitAuth& defaults) {
  const std::string where = secret_where(secret);
  PL_ASSIGN_OR_RETURN(auto data, secret_data(secret));
  auto take = [&](const char* key) {
    auto it = data.find(key);
    return it == data.end() ? std::string() : it->second;
  };
  GitAuth auth;
  auth.origin = where;
  auth.known_hosts_file = defaults.known_hosts_file;
  auth.known_hosts = take("known_hosts");
  std::string username = take("username"), password = take("password"), token = take("token");
  std::string identity = take("identity");
  if (!token.empty() && !password.empty()) {
    return invalid_input("holds both token and password; keep one", where);
  }
  if (!token.empty()) {
    auth.username = username.empty() ? "x-access-token" : username;
    auth.password = token;
  } else if (!username.empty() || !password.empty()) {
    if (username.empty() || password.empty()) {
      return invalid_input(std::string("holds ") + (username.empty() ? "password" : "username") +
                               " without " + (username.empty() ? "username" : "password"),
                           where);
    }
    auth.username = username;
    auth.password = password;
  }
  if (!identity.empty()) {
    if (identity.find("-----BEGIN ") == std::string::npos) {
      return invalid_input("identity is not a PEM private key (-----BEGIN … PRIVATE KEY-----)",
                           where);
    }
    auth.ssh_key = identity;
    auth.ssh_public_key = take("identity.pub");
    auth.ssh_key_passphrase = take("passphrase");
  }
  if (auth.password.empty() && auth.ssh_key.empty()) {
    return invalid_input(
        "holds no Git credentials (keys: username and password, token, or identity)", where);
  }
  return auth;
}

}  // namespace plumbline
