// kubeconfig files: reading one (YAML with line numbers for errors), its named clusters,
// users and contexts, and merging several as client-go does ($KUBECONFIG: first name wins).
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kube/kubeconfig_internal.h"
#include "plumbline/core/strings.h"

namespace plumbline::kubeconfig {
namespace {

struct FileClose {
  void operator()(std::FILE* file) const { std::fclose(file); }
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

}  // namespace

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

bool is_set(const json& value) {
  if (value.is_null()) return false;
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  if (value.is_structured()) return !value.empty();
  return true;
}

std::optional<std::string> non_empty(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

const json& empty_object() {
  static const json kEmpty = json::object();
  return kEmpty;
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

}  // namespace plumbline::kubeconfig
