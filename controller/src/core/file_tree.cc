#include "plumbline/core/file_tree.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace plumbline {
namespace {

namespace fs = std::filesystem;

class DirectoryTree : public FileTree {
 public:
  explicit DirectoryTree(fs::path root) : root_(std::move(root)) {
    std::error_code ec;
    canonical_root_ = fs::weakly_canonical(root_, ec);
  }

  Result<std::string> read_file(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(fs::path real, resolve(path));
    std::error_code ec;
    if (fs::is_directory(real, ec))
      return invalid_input("is a directory, not a file", display(path));
    std::ifstream in(real, std::ios::binary);
    if (!in) return not_found("no such file", display(path));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  Result<std::vector<TreeEntry>> list_directory(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(fs::path real, resolve(path));
    std::error_code ec;
    if (!fs::is_directory(real, ec)) return not_found("no such directory", display(path));
    std::vector<TreeEntry> out;
    for (const auto& entry : fs::directory_iterator(real, ec)) {
      auto name = entry.path().filename().string();
      if (name == ".git") continue;
      out.push_back({name, entry.is_directory(ec) ? EntryType::kDirectory : EntryType::kFile});
    }
    if (ec) return Error(ErrorCode::kUnavailable, ec.message(), display(path));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Result<EntryType> stat(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(fs::path real, resolve(path));
    std::error_code ec;
    auto status = fs::status(real, ec);
    if (ec || !fs::exists(status)) return not_found("no such file or directory", display(path));
    return fs::is_directory(status) ? EntryType::kDirectory : EntryType::kFile;
  }

  std::string describe() const override { return "directory " + root_.string(); }

  Result<std::string> real_path(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(fs::path real, resolve(path));
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(real, ec);
    if (ec) return not_found(ec.message(), display(path));
    std::string rel = canonical.lexically_relative(canonical_root_).generic_string();
    return rel == "." ? std::string() : rel;
  }

 private:
  std::string display(std::string_view path) const { return (root_ / std::string(path)).string(); }

  // Maps a tree path to a real path, refusing anything (incl. symlinks) outside the root.
  Result<fs::path> resolve(std::string_view path) const {
    PL_ASSIGN_OR_RETURN(std::string clean, join_tree_path("", path));
    fs::path real = clean.empty() ? root_ : root_ / clean;
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(real, ec);
    if (ec) return not_found(ec.message(), display(path));
    auto rel = canonical.lexically_relative(canonical_root_);
    if (!rel.empty() && *rel.begin() == "..") {
      return Error(ErrorCode::kPermissionDenied,
                   "path leaves the repository (symlink to " + canonical.string() + ")",
                   display(path));
    }
    return real;
  }

  fs::path root_;
  fs::path canonical_root_;
};

}  // namespace

Result<std::string> join_tree_path(std::string_view base, std::string_view relative) {
  if (!relative.empty() && relative.front() == '/') {
    return Error(ErrorCode::kPermissionDenied, "absolute paths are not allowed",
                 std::string(relative));
  }
  std::vector<std::string> parts;
  auto push = [&](std::string_view text) -> Status {
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('/', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view part = text.substr(start, end - start);
      if (part == "..") {
        if (parts.empty()) {
          return Error(ErrorCode::kPermissionDenied, "path leaves the repository root",
                       std::string(base.empty() ? relative
                                                : std::string(base) + "/" + std::string(relative)));
        }
        parts.pop_back();
      } else if (!part.empty() && part != ".") {
        parts.emplace_back(part);
      }
      start = end + 1;
    }
    return {};
  };
  PL_RETURN_IF_ERROR(push(base));
  PL_RETURN_IF_ERROR(push(relative));
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

FileTreePtr make_directory_tree(const std::filesystem::path& root) {
  return std::make_unique<DirectoryTree>(root);
}

Result<std::string> MemoryTree::read_file(std::string_view path) const {
  PL_ASSIGN_OR_RETURN(std::string clean, join_tree_path("", path));
  auto it = files_.find(clean);
  if (it != files_.end()) return it->second;
  if (stat(clean).ok()) return invalid_input("is a directory, not a file", clean);
  return not_found("no such file", clean);
}

Result<std::string> MemoryTree::real_path(std::string_view path) const {
  return join_tree_path("", path);
}

Result<std::vector<TreeEntry>> MemoryTree::list_directory(std::string_view path) const {
  PL_ASSIGN_OR_RETURN(std::string clean, join_tree_path("", path));
  std::string prefix = clean.empty() ? "" : clean + "/";
  std::map<std::string, EntryType> entries;
  for (const auto& [file, content] : files_) {
    if (file.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = file.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string::npos)
      entries.emplace(rest, EntryType::kFile);
    else
      entries[rest.substr(0, slash)] = EntryType::kDirectory;
  }
  if (entries.empty() && !clean.empty()) return not_found("no such directory", clean);
  std::vector<TreeEntry> out;
  for (auto& [name, type] : entries) out.push_back({name, type});
  return out;
}

Result<EntryType> MemoryTree::stat(std::string_view path) const {
  PL_ASSIGN_OR_RETURN(std::string clean, join_tree_path("", path));
  if (clean.empty() || files_.count(clean))
    return clean.empty() ? EntryType::kDirectory : EntryType::kFile;
  std::string prefix = clean + "/";
  auto it = files_.lower_bound(prefix);
  if (it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0)
    return EntryType::kDirectory;
  return not_found("no such file or directory", clean);
}

}  // namespace plumbline
