#include "git/git_tree.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace plumbline::git {
namespace {

// Linux's MAXSYMLINKS; enough for any sane layout, and it ends cycles.
constexpr int kMaxSymlinkHops = 40;

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string join_parts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    if (!out.empty()) out += '/';
    out += parts[i];
  }
  return out;
}

class GitTree : public FileTree {
 public:
  GitTree(RepositoryPtr repo, const git_oid& root, std::string description)
      : repo_(std::move(repo)), root_(root), description_(std::move(description)) {}

  Result<std::string> read_file(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(Node node, resolve(path, /*follow_last=*/true));
    if (node.kind == Kind::kDirectory) {
      return invalid_input("is a directory, not a file", where(path));
    }
    if (node.kind == Kind::kSubmodule) return submodule_error(path);
    return read_blob(node.oid, "reading blob " + oid_short(node.oid), path);
  }

  Result<std::vector<TreeEntry>> list_directory(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(Node node, resolve(path, /*follow_last=*/true));
    if (node.kind == Kind::kSubmodule) return submodule_error(path);
    if (node.kind != Kind::kDirectory) return not_found("not a directory", where(path));
    PL_ASSIGN_OR_RETURN(const git_tree* tree, lookup_tree(node.oid, path));
    PL_ASSIGN_OR_RETURN(std::string dir, join_tree_path("", path));
    std::vector<TreeEntry> out;
    size_t count = git_tree_entrycount(tree);
    for (size_t i = 0; i < count; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
      std::string name = git_tree_entry_name(entry);
      EntryType type = EntryType::kFile;
      switch (git_tree_entry_filemode(entry)) {
        case GIT_FILEMODE_TREE:
        case GIT_FILEMODE_COMMIT:  // a submodule looks like a directory; entering it errors
          type = EntryType::kDirectory;
          break;
        case GIT_FILEMODE_LINK: {
          // A link's type is its target's. A broken or escaping link is listed as a file so
          // that reading it reports the precise error instead of the listing failing.
          auto target = resolve(dir.empty() ? name : dir + "/" + name, true);
          if (target.ok() && target->kind != Kind::kFile) type = EntryType::kDirectory;
          break;
        }
        default:
          break;
      }
      out.push_back({std::move(name), type});
    }
    // Git orders trees as if directory names ended in '/'; the interface promises by name.
    std::sort(out.begin(), out.end(),
              [](const TreeEntry& a, const TreeEntry& b) { return a.name < b.name; });
    return out;
  }

  Result<EntryType> stat(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(Node node, resolve(path, /*follow_last=*/true));
    if (node.kind == Kind::kSubmodule) return submodule_error(path);
    return node.kind == Kind::kDirectory ? EntryType::kDirectory : EntryType::kFile;
  }

  std::string describe() const override { return description_; }

  // The blob id of the file the path names (links followed): Git's own content hash.
  std::optional<std::string> content_id(std::string_view path) const override {
    Result<Node> node = resolve(path, /*follow_last=*/true);
    if (!node.ok() || node->kind != Kind::kFile) return std::nullopt;
    return oid_hex(node->oid);
  }

  Result<std::string> real_path(std::string_view path) const override {
    PL_ASSIGN_OR_RETURN(Node node, resolve(path, /*follow_last=*/true));
    return node.real_path;
  }

 private:
  enum class Kind { kFile, kDirectory, kSubmodule };
  struct Node {
    Kind kind;
    git_oid oid;
    std::string real_path;  // the path walked, every symlink resolved
  };

  std::string where(std::string_view path) const {
    return description_ + ":" + std::string(path.empty() ? "/" : path);
  }

  Error submodule_error(std::string_view path) const {
    return invalid_input(
        "is a Git submodule; plumbline reads only the files of this repository's commit",
        where(path));
  }

  // The content of the blob `oid`, checked against its id.
  Result<std::string> read_blob(const git_oid& oid, const std::string& what,
                                std::string_view path) const {
    git_blob* raw = nullptr;
    int rc = git_blob_lookup(&raw, repo_.get(), &oid);
    BlobPtr blob(raw);
    if (rc < 0) return from_git(rc, what, where(path));
    std::string_view data(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                          static_cast<size_t>(git_blob_rawsize(blob.get())));
    if (!content_matches(GIT_OBJECT_BLOB, data, oid)) {
      return mismatch_error(GIT_OBJECT_BLOB, oid, where(path));
    }
    return std::string(data);
  }

  // Every path is resolved from the root, so the same directories are met again and again.
  // libgit2 caches no tree above 4 KiB (a directory of ~100 files): without this, each lookup
  // would inflate, hash and parse it again (a 10,000-file render spent most of its time there).
  // Kept for the tree's life: the directories of one commit.
  Result<const git_tree*> lookup_tree(const git_oid& oid, std::string_view path) const {
    std::string key(reinterpret_cast<const char*>(oid.id), GIT_OID_RAWSZ);
    std::lock_guard lock(trees_mu_);
    auto found = trees_.find(key);
    if (found != trees_.end()) return static_cast<const git_tree*>(found->second.get());
    PL_RETURN_IF_ERROR(check_object(repo_.get(), oid, where(path)));
    git_tree* raw = nullptr;
    int rc = git_tree_lookup(&raw, repo_.get(), &oid);
    TreePtr tree(raw);
    if (rc < 0) return from_git(rc, "reading tree " + oid_short(oid), where(path));
    return static_cast<const git_tree*>(
        trees_.emplace(std::move(key), std::move(tree)).first->second.get());
  }

  // Walks `path` from the root, following symlinks inside the tree (a link is resolved
  // relative to its directory and restarts the walk from the root). A link that is absolute
  // or climbs above the root is refused, never followed.
  Result<Node> resolve(std::string_view path, bool follow_last) const {
    PL_ASSIGN_OR_RETURN(std::string clean, join_tree_path("", path));
    std::vector<std::string> pending = split_path(clean);
    Node current{Kind::kDirectory, root_, {}};
    size_t index = 0;
    int hops = 0;
    while (index < pending.size()) {
      if (current.kind == Kind::kSubmodule) return submodule_error(join_parts(pending, index));
      if (current.kind != Kind::kDirectory) {
        return not_found("'" + join_parts(pending, index) + "' is not a directory", where(path));
      }
      PL_ASSIGN_OR_RETURN(const git_tree* tree, lookup_tree(current.oid, path));
      const git_tree_entry* entry = git_tree_entry_byname(tree, pending[index].c_str());
      if (entry == nullptr) return not_found("no such file or directory", where(path));
      git_filemode_t mode = git_tree_entry_filemode(entry);
      git_oid oid = *git_tree_entry_id(entry);
      bool last = index + 1 == pending.size();

      if (mode == GIT_FILEMODE_LINK && (!last || follow_last)) {
        std::string link = join_parts(pending, index + 1);
        if (++hops > kMaxSymlinkHops) {
          return invalid_input(
              "too many levels of symbolic links (a symlink loop at '" + link + "')", where(path));
        }
        PL_ASSIGN_OR_RETURN(std::string target,
                            read_blob(oid, "reading symlink '" + link + "'", path));
        auto joined = target.starts_with("/")
                          ? Result<std::string>(Error(ErrorCode::kPermissionDenied, ""))
                          : join_tree_path(join_parts(pending, index), target);
        if (!joined.ok()) {
          return Error(ErrorCode::kPermissionDenied,
                       "symlink '" + link + "' -> '" + target + "' leaves the repository",
                       where(path));
        }
        std::vector<std::string> next = split_path(*joined);
        next.insert(next.end(), pending.begin() + static_cast<std::ptrdiff_t>(index) + 1,
                    pending.end());
        pending = std::move(next);
        index = 0;
        current = Node{Kind::kDirectory, root_, {}};
        continue;
      }
      Kind kind = mode == GIT_FILEMODE_TREE     ? Kind::kDirectory
                  : mode == GIT_FILEMODE_COMMIT ? Kind::kSubmodule
                                                : Kind::kFile;
      current = Node{kind, oid, join_parts(pending, index + 1)};
      ++index;
    }
    return current;
  }

  RepositoryPtr repo_;
  git_oid root_;
  std::string description_;
  // After repo_, so the trees are freed before their repository.
  mutable std::mutex trees_mu_;
  mutable std::unordered_map<std::string, TreePtr> trees_;  // by raw oid
};

}  // namespace

Result<FileTreePtr> make_git_tree(RepositoryPtr repo, const git_oid& commit_id, std::string label) {
  PL_RETURN_IF_ERROR(check_object(repo.get(), commit_id, label));
  git_commit* raw = nullptr;
  int rc = git_commit_lookup(&raw, repo.get(), &commit_id);
  CommitPtr commit(raw);
  if (rc < 0) return from_git(rc, "reading commit " + oid_hex(commit_id), label);
  git_oid root = *git_commit_tree_id(commit.get());
  std::string description = "git " + label + "@" + oid_short(commit_id);
  return FileTreePtr(std::make_unique<GitTree>(std::move(repo), root, std::move(description)));
}

}  // namespace plumbline::git
