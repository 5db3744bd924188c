// plumbline/core/file_tree.h — a read-only tree of files the renderer reads (a Git commit, a
// directory on disk, or memory in tests).
//
// Paths are relative to the tree root, '/'-separated. A path that would leave the root
// ("../x", a symlink pointing outside) is a kPermissionDenied error, never a read.
//
//   FileTreePtr tree = make_directory_tree("manifests");
//   PL_ASSIGN_OR_RETURN(std::string text, tree->read_file("envs/prod/kustomization.yaml"));
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"

namespace plumbline {

enum class EntryType { kFile, kDirectory };

struct TreeEntry {
  std::string name;  // the last path component
  EntryType type = EntryType::kFile;
};

class FileTree {
 public:
  virtual ~FileTree() = default;
  // The whole content of a file; kNotFound if missing, kInvalidInput if a directory.
  virtual Result<std::string> read_file(std::string_view path) const = 0;
  // Entries of a directory, sorted by name; "" is the root.
  virtual Result<std::vector<TreeEntry>> list_directory(std::string_view path) const = 0;
  // kNotFound when the path does not exist.
  virtual Result<EntryType> stat(std::string_view path) const = 0;
  // For messages: "directory manifests", "git https://host/ops.git@1a2b3c4".
  virtual std::string describe() const = 0;
  // The path with every symlink resolved (tree-relative): two paths name one file or
  // directory exactly when their real paths are equal, which is how walks detect loops.
  virtual Result<std::string> real_path(std::string_view path) const = 0;
  // An id of the file's bytes when the tree knows one without reading them (a Git tree: the
  // blob id): equal ids mean equal content, so a render may reuse what it parsed of the file
  // (render/parse_cache.h). nullopt when unknown (a directory on disk, a memory tree).
  virtual std::optional<std::string> content_id(std::string_view /*path*/) const {
    return std::nullopt;
  }
};
using FileTreePtr = std::unique_ptr<FileTree>;

// Joins `relative` onto directory `base` and normalizes "." and "..". An absolute path or a
// result outside the root is a kPermissionDenied error naming the path.
Result<std::string> join_tree_path(std::string_view base, std::string_view relative);

// A directory on disk. Symlinks are followed only while they stay inside `root`.
FileTreePtr make_directory_tree(const std::filesystem::path& root);

// An in-memory tree (tests, fuzzers). Directories are implied by file paths.
class MemoryTree : public FileTree {
 public:
  MemoryTree() = default;
  explicit MemoryTree(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  void add(std::string path, std::string content) { files_[std::move(path)] = std::move(content); }

  Result<std::string> read_file(std::string_view path) const override;
  Result<std::vector<TreeEntry>> list_directory(std::string_view path) const override;
  Result<EntryType> stat(std::string_view path) const override;
  std::string describe() const override { return "memory tree"; }
  Result<std::string> real_path(std::string_view path) const override;  // no links: the path

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace plumbline
