#include "plumbline/kube_config.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "plumbline/path.h"
#include "plumbline/yaml.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;

// --- OpenSSL and file handles -------------------------------------------------------------

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct EncodeCtxFree {
  void operator()(EVP_ENCODE_CTX* ctx) const { EVP_ENCODE_CTX_free(ctx); }
};
struct FileClose {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memory_bio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Never prompt on the terminal for a passphrase (OpenSSL's default callback would).
int no_passphrase(char*, int, int, void*) { return 0; }

// Standard base64 as kubeconfig *-data fields hold it (padding required, line breaks allowed).
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX) - 80) return std::nullopt;
  // OpenSSL stops at '-' as if the data ended (PEM armour); Go's decoder rejects it, and so do
  // we, so raw PEM pasted into a *-data field is reported as what it is.
  if (text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= "
                             "\t\r\n") != std::string_view::npos) {
    return std::nullopt;
  }
  std::unique_ptr<EVP_ENCODE_CTX, EncodeCtxFree> ctx(EVP_ENCODE_CTX_new());
  if (!ctx) return std::nullopt;
  EVP_DecodeInit(ctx.get());
  std::string out(text.size() + 80, '\0');  // decoded data is never longer than its text
  auto* buffer = reinterpret_cast<unsigned char*>(out.data());
  int written = 0;
  if (EVP_DecodeUpdate(ctx.get(), buffer, &written,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       static_cast<int>(text.size())) < 0) {
    return std::nullopt;
  }
  int last = 0;
  if (EVP_DecodeFinal(ctx.get(), buffer + written, &last) < 0) return std::nullopt;
  out.resize(static_cast<size_t>(written + last));
  return out;
}

// Why a PEM certificate bundle does not load, or nullopt when it holds at least one
// certificate and nothing broken.
std::optional<std::string> certificate_problem(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio = memory_bio(pem);
  if (!bio) return "cannot be read";
  int count = 0;
  while (X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr))) ++count;
  unsigned long error = ERR_peek_last_error();
  bool clean_end =
      ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (count == 0 && clean_end) return "contains no PEM certificate";
  if (!clean_end)
    return "has an invalid PEM certificate (number " + std::to_string(count + 1) + ")";
  return std::nullopt;
}

X509Ptr first_certificate(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  return cert;
}

PkeyPtr private_key(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  return key;
}

// The whole file, or nullopt with errno in *error_number.
std::optional<std::string> read_file_text(const std::string& file, int* error_number) {
  errno = 0;
  std::unique_ptr<std::FILE, FileClose> handle(std::fopen(file.c_str(), "rb"));
  if (!handle) {
    *error_number = errno;
    return std::nullopt;
  }
  std::string text;
  char buffer[8192];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, handle.get())) > 0) text.append(buffer, n);
  if (std::ferror(handle.get())) {  // e.g. EISDIR: fopen succeeds on a directory
    *error_number = errno != 0 ? errno : EIO;
    return std::nullopt;
  }
  return text;
}

ErrorCode code_for_errno(int error_number) {
  if (error_number == ENOENT || error_number == ENOTDIR) return ErrorCode::kNotFound;
  if (error_number == EACCES || error_number == EPERM) return ErrorCode::kPermissionDenied;
  return ErrorCode::kInvalidInput;
}

std::string trim(std::string_view text) {
  const char* space = " \t\r\n\f\v";
  size_t begin = text.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(space);
  return std::string(text.substr(begin, end - begin + 1));
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// A value counts as set unless it is null or an empty string/list/mapping (Go's zero values).
bool is_set(const json& value) {
  if (value.is_null()) return false;
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  if (value.is_structured()) return !value.empty();
  return true;
}

// --- kubeconfig files ---------------------------------------------------------------------

const json& empty_object() {
  static const json kEmpty = json::object();
  return kEmpty;
}

struct ConfigFile {
  std::string file;
  fs::path dir;  // relative paths inside the file are relative to this
  json doc;
  std::shared_ptr<const FieldOrigins> fields;

  // "file:line" of the node at `pointer` (or its nearest located ancestor), else the file.
  std::string where(json::json_pointer pointer) const {
    if (fields) {
      while (!pointer.empty()) {
        auto it = fields->find(path::from_pointer(doc, pointer));
        if (it != fields->end()) return it->second.to_string();
        pointer = pointer.parent_pointer();
      }
    }
    return file;
  }

  std::string resolve_path(const std::string& value) const {
    fs::path p(value);
    if (p.is_absolute() || dir.empty()) return value;
    return (dir / p).lexically_normal().string();
  }
};

// One named cluster, user or context: its file, "/clusters/3", and the "cluster" mapping.
struct Entry {
  const ConfigFile* file = nullptr;
  json::json_pointer pointer;
  std::string kind;  // "cluster", "user", "context"
  std::string name;

  const json& body() const {
    const json& element = file->doc.at(pointer);
    auto it = element.find(kind);
    return it == element.end() || it->is_null() ? empty_object() : *it;
  }
  json::json_pointer body_pointer() const { return pointer / kind; }
  std::string owner() const { return kind + " " + in_quotes(name); }
  // Where a field of the body is declared (the entry itself when the field is absent).
  std::string where(std::string_view field) const {
    if (body().contains(field)) return file->where(body_pointer() / std::string(field));
    return file->where(pointer);
  }
  const json* field(std::string_view name_of_field) const {
    auto it = body().find(name_of_field);
    return it == body().end() || it->is_null() ? nullptr : &*it;
  }

  Result<std::string> string_field(std::string_view name_of_field) const {
    const json* value = field(name_of_field);
    if (value == nullptr) return std::string();
    if (!value->is_string()) {
      return invalid_input(std::string(name_of_field) + " of " + owner() + " must be a string",
                           where(name_of_field));
    }
    return value->get<std::string>();
  }

  Result<bool> bool_field(std::string_view name_of_field) const {
    const json* value = field(name_of_field);
    if (value == nullptr) return false;
    if (!value->is_boolean()) {
      return invalid_input(std::string(name_of_field) + " of " + owner() + " must be true or false",
                           where(name_of_field));
    }
    return value->get<bool>();
  }
};

using EntryMap = std::map<std::string, Entry>;  // sorted: error messages list names in order

struct MergedConfig {
  std::vector<std::unique_ptr<ConfigFile>> files;  // stable addresses for Entry::file
  EntryMap clusters, users, contexts;
  std::string current_context;
  std::string current_context_where;
  std::string source;
};

Result<std::unique_ptr<ConfigFile>> read_config_file(const std::string& file_path) {
  int error_number = 0;
  std::optional<std::string> text = read_file_text(file_path, &error_number);
  if (!text) {
    return Error(code_for_errno(error_number),
                 "cannot read kubeconfig " + file_path + ": " + std::strerror(error_number));
  }
  YamlOptions options;
  options.field_origins = true;
  PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(*text, file_path, options));
  auto config = std::make_unique<ConfigFile>();
  config->file = file_path;
  config->dir = fs::path(file_path).parent_path();
  config->doc = json::object();
  bool seen = false;
  for (auto& doc : docs) {
    if (doc.value.is_null()) continue;
    if (seen) {
      return invalid_input("a kubeconfig must be a single YAML document", doc.location.to_string());
    }
    seen = true;
    if (!doc.value.is_object()) {
      return invalid_input("a kubeconfig must be a mapping (apiVersion, kind, clusters, ...)",
                           doc.location.to_string());
    }
    config->doc = std::move(doc.value);
    config->fields = std::move(doc.fields);
  }
  return config;
}

// Adds the file's clusters/users/contexts whose names are not defined yet (first file wins).
Status merge_entries(const ConfigFile& file, const std::string& list, const std::string& kind,
                     EntryMap& into) {
  auto it = file.doc.find(list);
  if (it == file.doc.end() || it->is_null()) return {};
  json::json_pointer list_pointer = json::json_pointer() / list;
  if (!it->is_array()) {
    return invalid_input(list + " must be a list of {name, " + kind + "}",
                         file.where(list_pointer));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& element = (*it)[i];
    json::json_pointer pointer = list_pointer / i;
    std::string label = list + "[" + std::to_string(i) + "]";
    if (!element.is_object()) {
      return invalid_input(label + " must be a mapping with name and " + kind, file.where(pointer));
    }
    auto name = element.find("name");
    if (name == element.end() || !name->is_string() ||
        name->get_ref<const std::string&>().empty()) {
      return invalid_input(label + " has no name", file.where(pointer));
    }
    auto body = element.find(kind);
    if (body != element.end() && !body->is_null() && !body->is_object()) {
      return invalid_input(
          kind + " of " + kind + " " + in_quotes(name->get<std::string>()) + " must be a mapping",
          file.where(pointer / kind));
    }
    into.emplace(name->get<std::string>(), Entry{&file, pointer, kind, name->get<std::string>()});
  }
  return {};
}

Result<MergedConfig> read_merged(const std::vector<std::string>& paths) {
  MergedConfig merged;
  merged.source = join(paths, ":");
  for (const auto& file_path : paths) {
    PL_ASSIGN_OR_RETURN(auto file, read_config_file(file_path));
    merged.files.push_back(std::move(file));
    const ConfigFile& config = *merged.files.back();
    PL_RETURN_IF_ERROR(merge_entries(config, "clusters", "cluster", merged.clusters));
    PL_RETURN_IF_ERROR(merge_entries(config, "users", "user", merged.users));
    PL_RETURN_IF_ERROR(merge_entries(config, "contexts", "context", merged.contexts));
    auto current = config.doc.find("current-context");
    if (current == config.doc.end() || current->is_null()) continue;
    json::json_pointer pointer = json::json_pointer() / "current-context";
    if (!current->is_string()) {
      return invalid_input("current-context must be a string", config.where(pointer));
    }
    if (merged.current_context.empty() && !current->get_ref<const std::string&>().empty()) {
      merged.current_context = current->get<std::string>();
      merged.current_context_where = config.where(pointer);
    }
  }
  return merged;
}

std::string names_of(const EntryMap& entries, std::string_view plural) {
  if (entries.empty()) return "no " + std::string(plural) + " are defined";
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries) names.push_back(name);
  return std::string(plural) + ": " + join(names, ", ");
}

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
    std::optional<std::string> decoded = decode_base64(data);
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
  } else if (!private_key(pem)) {
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

std::string encode_base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
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
      cluster["certificate-authority-data"] = encode_base64(config.ca_pem);
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
    X509Ptr cert = first_certificate(config.client_cert_pem);
    PkeyPtr key = private_key(config.client_key_pem);
    bool matches = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
    ERR_clear_error();
    if (!matches) {
      return invalid_input(
          "client-key of " + user.owner() + " does not match its client-certificate",
          user.where(user.field("client-key-data") != nullptr ? "client-key-data" : "client-key"));
    }
  }
  return {};
}

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

Result<KubeConfig> load_files(const std::vector<std::string>& paths,
                              const KubeConfigOptions& options) {
  PL_ASSIGN_OR_RETURN(MergedConfig merged, read_merged(paths));
  return resolve(merged, options.context);
}

bool file_exists(const std::string& file) {
  std::error_code error;
  return fs::exists(file, error);
}

std::optional<std::string> non_empty(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
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
  config.namespace_ = ns ? trim(*ns) : std::string();
  if (config.namespace_.empty()) config.namespace_ = "default";
  return config;
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
  std::string token = trim(*text);
  if (token.empty()) {
    return Error(ErrorCode::kUnauthenticated,
                 "bearer token file " + config.token_file + " is empty", config.source);
  }
  return token;
}

}  // namespace plumbline
