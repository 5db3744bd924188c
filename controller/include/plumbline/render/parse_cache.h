// plumbline/render/parse_cache.h — what a render parsed of each file, kept by content id, so a
// new commit re-parses only the files it changed.
//
// A Git tree names every file's content by its blob id (FileTree::content_id). The plain
// renderer (and kustomize for the files it lists as resources) asks the cache for the file's
// (content id, path) before reading it: a hit gives the manifests an earlier render parsed from
// the same bytes under the same path (the path is part of the key because field origins name
// it), charged to the render's budget as if read. Pure: the cache is handed in by the caller.
//
//   MemoryParseCache cache;
//   RenderOptions options{.parse_cache = &cache};
//   render(*commit1, "envs/prod", options);   // parses every file
//   render(*commit2, "envs/prod", options);   // parses only the files commit2 changed
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "plumbline/core/compact_manifest.h"

namespace plumbline {

class TaskRunner;  // core/task_runner.h

// What a renderer made of one file: its objects in document order (`kind: List` expanded,
// identities checked), held compact (a reuse materializes them), and the file's size, which a
// reuse charges to the render's byte budget.
struct ParsedFile {
  CompactManifestSet manifests;
  size_t bytes = 0;
  // Checked as a render's result is (the plain renderer's parses); a kustomize resource file
  // is held as read, before the patches that may complete it.
  bool validated = false;
};
using ParsedFilePtr = std::shared_ptr<const ParsedFile>;

class ParseCache {
 public:
  virtual ~ParseCache() = default;
  // The file `path` with content `content_id` as parsed before, or nullptr.
  virtual ParsedFilePtr find(std::string_view content_id, std::string_view path) = 0;
  virtual void insert(std::string_view content_id, std::string_view path, ParsedFilePtr parsed) = 0;
  // A render through the cache succeeded: what it neither found nor inserted may go, so the
  // cache holds one render's files, not the history's.
  virtual void render_done() = 0;
  // The manifests of every file held (shared, not copied): a render encoded after the fact
  // (render_compact of kustomize) takes these bytes for the objects that did not change.
  virtual CompactManifestSet manifests() const = 0;
};

struct ParseCacheLimits {
  size_t max_entries = 20'000;          // RenderLimits::max_files
  size_t max_bytes = size_t{64} << 20;  // of file text (RenderLimits::max_bytes)
};

// In memory, for the controller (one per Environment) and tests. Not thread-safe: one render
// at a time. Past its limits it keeps what it has and stops adding (a render never fails for
// it); entries of files the last render did not use are dropped by render_done().
class MemoryParseCache : public ParseCache {
 public:
  explicit MemoryParseCache(ParseCacheLimits limits = {}) : limits_(limits) {}

  ParsedFilePtr find(std::string_view content_id, std::string_view path) override;
  void insert(std::string_view content_id, std::string_view path, ParsedFilePtr parsed) override;
  void render_done() override;

  CompactManifestSet manifests() const override;

  // Every entry held, in no particular order.
  void for_each(const std::function<void(std::string_view content_id, std::string_view path,
                                         const ParsedFilePtr& parsed)>& visit) const;

  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }  // file text of the entries held
  size_t hits() const { return hits_; }    // since construction
  size_t misses() const { return misses_; }

 private:
  struct Entry {
    ParsedFilePtr parsed;
    bool used = false;  // found or inserted since the last render_done()
  };
  void drop_unused();

  ParseCacheLimits limits_;
  std::unordered_map<std::string, Entry> entries_;  // content id '\0' path
  size_t bytes_ = 0;
  size_t hits_ = 0;
  size_t misses_ = 0;
};

// The entries of a parse cache's file, by address (held, so no other entry takes it).
using WrittenEntries = std::unordered_map<const ParsedFile*, ParsedFilePtr>;

// On disk, for CLI runs (`--cache-dir`): the parses of one environment's last render in one
// file, read whole when opened and written whole (a temporary file, then renamed) by save()
// after a render that changed them. The file starts with a format line (`stamp` names the
// program that wrote it, so another version's file is not read) and the SHA-256 of the rest:
// a file that is not this program's, is cut short or fails its digest is set aside, and the
// render parses as without a cache. A cache never fails a render.
class FileParseCache : public ParseCache {
 public:
  FileParseCache(std::filesystem::path file, std::string stamp, ParseCacheLimits limits = {});

  ParsedFilePtr find(std::string_view content_id, std::string_view path) override;
  void insert(std::string_view content_id, std::string_view path, ParsedFilePtr parsed) override;
  void render_done() override;
  CompactManifestSet manifests() const override { return memory_.manifests(); }

  // Writes the file when the last render changed what is held; the check of what is new for
  // masked values runs on `tasks`. An error names the file.
  Status save(TaskRunner* tasks = nullptr);

  // Why the file was set aside when opened ("" when it was read or was not there).
  const std::string& load_problem() const { return load_problem_; }
  size_t loaded() const { return loaded_; }  // entries read from the file
  size_t hits() const { return memory_.hits(); }
  size_t misses() const { return memory_.misses(); }

 private:
  std::filesystem::path file_;
  std::string stamp_;
  MemoryParseCache memory_;
  size_t loaded_ = 0;
  bool changed_ = false;
  std::string load_problem_;
  WrittenEntries written_;  // what the file holds (read or last saved), held by address
};

// The bytes FileParseCache writes for `cache` (its format line, digest and entries), and their
// reading back; both pure. An entry is left out (its file is parsed again) when one of its
// objects holds a value plumbline masks (mask.h: Secret data, secret-named env values, URLs
// with credentials), which never goes to disk, or cannot be written as held (a kustomize base
// name). `written`, when given, names the entries already known to hold none (they are not
// checked again: the check decodes every object) and is set to the entries written; the check
// runs on `tasks`. On an error `into` may hold the entries read before it.
std::string encode_parse_cache(const MemoryParseCache& cache, std::string_view stamp,
                               WrittenEntries* written = nullptr, TaskRunner* tasks = nullptr);
Status decode_parse_cache(std::string_view bytes, std::string_view stamp, MemoryParseCache& into);

}  // namespace plumbline
