// The kubeconfig loader's shared pieces (private to kube/): kubeconfig files and their named
// entries (kubeconfig_files.cc), PEM checks (pem.cc), resolving a context into a KubeConfig
// (kubeconfig_resolve.cc); kube_config.cc searches for the files, in_cluster.cc reads the
// service account.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"
#include "plumbline/core/path.h"
#include "plumbline/core/yaml.h"
#include "plumbline/kube/kube_config.h"

namespace plumbline::kubeconfig {

namespace fs = std::filesystem;

// --- files and values (kubeconfig_files.cc) -------------------------------------------------

// The whole file, or nullopt with errno in *error_number.
std::optional<std::string> read_file_text(const std::string& file, int* error_number);
ErrorCode code_for_errno(int error_number);
inline std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }
// A value counts as set unless it is null or an empty string/list/mapping (Go's zero values).
bool is_set(const json& value);
// An environment variable that is set and not empty.
std::optional<std::string> non_empty(const EnvLookup& env, std::string_view name);

// --- PEM (pem.cc) ---------------------------------------------------------------------------

// Why a PEM certificate bundle does not load, or nullopt when it holds at least one
// certificate and nothing broken.
std::optional<std::string> certificate_problem(std::string_view pem);
// The text holds an unencrypted PEM private key.
bool is_private_key(std::string_view pem);
// The key is the private key of the bundle's first certificate.
bool key_matches_certificate(std::string_view certificate_pem, std::string_view key_pem);

// --- kubeconfig files (kubeconfig_files.cc) -------------------------------------------------

const json& empty_object();

struct ConfigFile {
  std::string file;
  fs::path dir;  // relative paths inside the file are relative to this
  json doc;
  std::shared_ptr<const FieldOrigins> fields;

  // "file:line" of the node at `pointer` (or its nearest located ancestor), else the file.
  std::string where(json::json_pointer pointer) const {
    if (fields) {
      while (!pointer.empty()) {
        if (auto found = fields->find(path::from_pointer(doc, pointer))) return found->to_string();
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

// Reads and merges the files in order (the first definition of a name wins).
Result<MergedConfig> read_merged(const std::vector<std::string>& paths);
// "contexts: a, b" or "no contexts are defined", for error messages.
std::string names_of(const EntryMap& entries, std::string_view plural);

// --- resolution (kubeconfig_resolve.cc) -----------------------------------------------------

// The KubeConfig of `requested_context` (or the current-context): its cluster and user.
Result<KubeConfig> resolve(const MergedConfig& merged, const std::string& requested_context);

}  // namespace plumbline::kubeconfig
