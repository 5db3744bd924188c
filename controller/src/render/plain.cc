// Plain rendering: every YAML/JSON file below a path, in sorted path order.
#include <set>
#include <string>
#include <vector>

#include "plumbline/core/yaml.h"
#include "plumbline/render/parse_cache.h"
#include "plumbline/render/render.h"
#include "render/budget.h"
#include "render/compact_documents.h"
#include "render/kustomize.h"
#include "render/validate.h"

namespace plumbline {
namespace {

bool is_manifest_file(std::string_view name) {
  for (std::string_view ext : {".yaml", ".yml", ".json"}) {
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
  }
  return false;
}

// Depth-first in name order, so the output order is stable across trees and platforms. Each
// directory is read once, by its real path: a symlink to a directory already read (`x -> .`)
// adds nothing, so links can neither multiply objects nor make the walk exponential.
Status collect_files(const FileTree& tree, const std::string& dir, std::vector<std::string>& out,
                     std::set<std::string>& visited, int depth) {
  if (depth > 64) return invalid_input("directories nest deeper than 64 levels", dir);
  PL_ASSIGN_OR_RETURN(std::string real, tree.real_path(dir));
  if (!visited.insert(std::move(real)).second) return {};
  PL_ASSIGN_OR_RETURN(auto entries, tree.list_directory(dir));
  for (const auto& entry : entries) {
    std::string child = dir.empty() ? entry.name : dir + "/" + entry.name;
    if (entry.type == EntryType::kDirectory) {
      PL_RETURN_IF_ERROR(collect_files(tree, child, out, visited, depth + 1));
    } else if (is_manifest_file(entry.name)) {
      out.push_back(std::move(child));
    }
  }
  return {};
}

}  // namespace

namespace renderer {

Status append_documents(std::string_view text, const std::string& file, ManifestSet& out) {
  YamlOptions options;
  options.field_origins = true;
  PL_ASSIGN_OR_RETURN(auto documents, parse_yaml_documents(text, file, options));
  for (auto& document : documents) {
    if (document.value.is_null()) continue;
    auto kind = document.value.is_object() ? document.value.find("kind") : document.value.end();
    if (document.value.is_object() && kind != document.value.end() && *kind == "List") {
      auto items = document.value.find("items");
      if (items == document.value.end() || items->is_null()) continue;
      if (!items->is_array()) {
        return invalid_input("'items' of a List must be a list", document.location.to_string());
      }
      for (auto& item : *items) {
        PL_RETURN_IF_ERROR(validate_identity(item, document.location));
        out.push_back(Manifest{std::move(item), document.location, nullptr, {}});
      }
      continue;
    }
    PL_RETURN_IF_ERROR(validate_identity(document.value, document.location));
    out.push_back(Manifest{std::move(document.value), document.location, document.fields, {}});
  }
  return {};
}

Status append_file(const BudgetedTree& tree, const std::string& file, ParseCache* cache,
                   ManifestSet& out) {
  std::optional<std::string> id = cache != nullptr ? tree.content_id(file) : std::nullopt;
  if (!id) {
    PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(file));
    return append_documents(text, file, out);
  }
  if (ParsedFilePtr parsed = cache->find(*id, file)) {
    PL_RETURN_IF_ERROR(tree.charge(file, parsed->bytes));
    for (const CompactManifest& m : parsed->manifests) out.push_back(m.materialize());
    return {};
  }
  PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(file));
  size_t first = out.size();
  PL_RETURN_IF_ERROR(append_documents(text, file, out));
  auto fresh = std::make_shared<ParsedFile>();
  fresh->bytes = text.size();
  for (size_t i = first; i < out.size(); ++i) fresh->manifests.emplace_back(out[i]);
  cache->insert(*id, file, std::move(fresh));
  return {};
}

}  // namespace renderer

namespace {

// The manifest files of a plain render, in order.
Result<std::vector<std::string>> plain_files(const renderer::BudgetedTree& tree,
                                             std::string_view path) {
  PL_ASSIGN_OR_RETURN(std::string root, join_tree_path("", path));
  PL_ASSIGN_OR_RETURN(EntryType type, tree.stat(root));
  std::vector<std::string> files;
  if (type == EntryType::kFile) {
    files.push_back(root);
  } else {
    std::set<std::string> visited;
    PL_RETURN_IF_ERROR(collect_files(tree, root, files, visited, 0));
  }
  return files;
}

// One file's objects, compact: shared from the cache when it holds the file, else read
// straight into compact form and offered to it.
Status append_compact_file(const renderer::BudgetedTree& tree, const std::string& file,
                           ParseCache* cache, CompactManifestSet& out) {
  std::optional<std::string> id = cache != nullptr ? tree.content_id(file) : std::nullopt;
  if (id) {
    if (ParsedFilePtr parsed = cache->find(*id, file)) {
      PL_RETURN_IF_ERROR(tree.charge(file, parsed->bytes));
      // A kustomize resource file is held as parsed, before its patches: checked here.
      if (!parsed->validated)
        PL_RETURN_IF_ERROR(renderer::validate_desired(materialize(parsed->manifests)));
      out.insert(out.end(), parsed->manifests.begin(), parsed->manifests.end());
      return {};
    }
  }
  PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(file));
  PL_ASSIGN_OR_RETURN(CompactManifestSet parsed, renderer::parse_manifest_file(text, file));
  out.insert(out.end(), parsed.begin(), parsed.end());
  if (id) {
    cache->insert(*id, file,
                  std::make_shared<const ParsedFile>(ParsedFile{
                      .manifests = std::move(parsed), .bytes = text.size(), .validated = true}));
  }
  return {};
}

}  // namespace

Result<ManifestSet> render_plain(const FileTree& files_in, std::string_view path,
                                 const RenderLimits& limits, ParseCache* cache) {
  PL_ASSIGN_OR_RETURN(CompactManifestSet objects,
                      render_plain_compact(files_in, path, limits, cache));
  return materialize(objects);
}

Result<CompactManifestSet> render_plain_compact(const FileTree& files_in, std::string_view path,
                                                const RenderLimits& limits, ParseCache* cache) {
  renderer::BudgetedTree tree(files_in, limits);
  PL_ASSIGN_OR_RETURN(std::vector<std::string> files, plain_files(tree, path));
  CompactManifestSet out;
  for (const auto& file : files) {
    PL_RETURN_IF_ERROR(append_compact_file(tree, file, cache, out));
    if (out.size() > limits.max_objects) break;  // check_rendered names the limit
  }
  PL_RETURN_IF_ERROR(renderer::check_rendered(out, limits));
  return out;
}

}  // namespace plumbline
