// Plain rendering: every YAML/JSON file below a path, in sorted path order.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "plumbline/core/task_runner.h"
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

// A file of a compact plain render: shared from the cache when it holds the file, else read
// and parsed (possibly at once with others of its batch).
struct PlainFile {
  const std::string* file = nullptr;
  std::optional<std::string> id;  // its content id, when the tree and a cache give one
  ParsedFilePtr cached;
  std::string text;
  Result<CompactManifestSet> parsed = CompactManifestSet{};
};

// Files read (or found in the cache) in order, up to a batch's bounds or the first error,
// which is returned after the files before it are taken, as a one-by-one render would.
constexpr size_t kBatchFiles = 256;
constexpr size_t kBatchBytes = size_t{16} << 20;
// A file at least this large is cut into parts at its document markers rather than parsed
// beside others (yaml_compact.h).
constexpr size_t kPartBytes = size_t{1} << 20;

Status read_batch(const renderer::BudgetedTree& tree, const std::vector<std::string>& files,
                  size_t& next, ParseCache* cache, std::vector<PlainFile>& batch) {
  size_t bytes = 0;
  for (; next < files.size() && batch.size() < kBatchFiles && bytes < kBatchBytes; ++next) {
    PlainFile f{.file = &files[next]};
    if (cache != nullptr) f.id = tree.content_id(*f.file);
    if (f.id) f.cached = cache->find(*f.id, *f.file);
    if (f.cached) {
      PL_RETURN_IF_ERROR(tree.charge(*f.file, f.cached->bytes));
    } else {
      PL_ASSIGN_OR_RETURN(f.text, tree.read_file(*f.file));
      bytes += f.text.size();
    }
    batch.push_back(std::move(f));
  }
  return {};
}

// Parses the batch's files that the cache did not hold: small ones side by side, large ones
// one after the other, each cut into parts.
void parse_batch(std::vector<PlainFile>& batch, TaskRunner* tasks) {
  InlineTaskRunner inline_runner;
  TaskRunner& runner = tasks != nullptr ? *tasks : inline_runner;
  std::vector<std::function<void()>> small;
  for (PlainFile& f : batch) {
    if (f.cached || f.text.size() >= 2 * kPartBytes) continue;
    small.emplace_back([&f] { f.parsed = renderer::parse_manifest_file(f.text, *f.file); });
  }
  runner.run(small);
  for (PlainFile& f : batch) {
    if (!f.cached && f.text.size() >= 2 * kPartBytes) {
      f.parsed = renderer::parse_manifest_file(f.text, *f.file, &runner, kPartBytes);
    }
  }
}

// Appends one file's objects to `out` and offers a fresh parse to the cache.
Status take(PlainFile& f, ParseCache* cache, CompactManifestSet& out) {
  if (f.cached) {
    // A kustomize resource file is held as parsed, before its patches: checked here.
    if (!f.cached->validated)
      PL_RETURN_IF_ERROR(renderer::validate_desired(materialize(f.cached->manifests)));
    out.insert(out.end(), f.cached->manifests.begin(), f.cached->manifests.end());
    return {};
  }
  if (!f.parsed) return f.parsed.error();
  out.insert(out.end(), f.parsed->begin(), f.parsed->end());
  if (f.id) {
    cache->insert(
        *f.id, *f.file,
        std::make_shared<const ParsedFile>(ParsedFile{
            .manifests = std::move(*f.parsed), .bytes = f.text.size(), .validated = true}));
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
                                                const RenderLimits& limits, ParseCache* cache,
                                                TaskRunner* tasks) {
  renderer::BudgetedTree tree(files_in, limits);
  PL_ASSIGN_OR_RETURN(std::vector<std::string> files, plain_files(tree, path));
  CompactManifestSet out;
  // Reading (the tree, the cache) stays on this thread, in file order; only parsing is shared.
  for (size_t next = 0; next < files.size();) {
    std::vector<PlainFile> batch;
    Status read = read_batch(tree, files, next, cache, batch);
    parse_batch(batch, tasks);
    for (PlainFile& f : batch) {
      PL_RETURN_IF_ERROR(take(f, cache, out));
      if (out.size() > limits.max_objects) break;  // check_rendered names the limit
    }
    if (out.size() > limits.max_objects) break;
    PL_RETURN_IF_ERROR(read);
  }
  PL_RETURN_IF_ERROR(renderer::check_rendered(out, limits));
  return out;
}

}  // namespace plumbline
