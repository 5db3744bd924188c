// copy_tree: a bounded copy of part of a FileTree on disk, for programs that read files
// (helm, render commands). Regular files only: the copy holds no symlink, so nothing in it
// points outside it, whatever the tree held.
#include "process/tree_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "plumbline/process/render_process.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;

struct CopyState {
  const FileTree& tree;
  size_t max_bytes, max_files;
  size_t bytes = 0, files = 0;
  std::set<std::string> visited;
};

bool plain_component(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace

Status write_new_file(const fs::path& path, std::string_view data, const std::string& where) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kInternal,
                 std::string("cannot write its copy: ") + std::strerror(errno), where);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      close(fd);
      return Error(ErrorCode::kInternal,
                   std::string("cannot write its copy: ") + std::strerror(error), where);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return {};
}

namespace {

Status copy_dir(CopyState& state, const std::string& dir, const fs::path& target, int depth) {
  if (depth > 64) return invalid_input("directories nest deeper than 64 levels", dir);
  PL_ASSIGN_OR_RETURN(std::string real, state.tree.real_path(dir));
  if (!state.visited.insert(std::move(real)).second) return {};  // a link to a folder copied
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) {
    return Error(ErrorCode::kInternal, "cannot create its copy: " + ec.message(),
                 dir.empty() ? "." : dir);
  }
  PL_ASSIGN_OR_RETURN(auto entries, state.tree.list_directory(dir));
  for (const TreeEntry& entry : entries) {
    std::string child = dir.empty() ? entry.name : dir + "/" + entry.name;
    if (!plain_component(entry.name))
      return invalid_input("a file name that is not one path component", child);
    if (entry.type == EntryType::kDirectory) {
      PL_RETURN_IF_ERROR(copy_dir(state, child, target / entry.name, depth + 1));
      continue;
    }
    if (++state.files > state.max_files) {
      return invalid_input(
          "more than " + std::to_string(state.max_files) + " files to copy for the renderer",
          child);
    }
    PL_ASSIGN_OR_RETURN(std::string data, state.tree.read_file(child));
    state.bytes += data.size();
    if (state.bytes > state.max_bytes) {
      return invalid_input(
          "more than " + std::to_string(state.max_bytes) + " bytes to copy for the renderer",
          child);
    }
    PL_RETURN_IF_ERROR(write_new_file(target / entry.name, data, child));
  }
  return {};
}

}  // namespace

Status copy_tree(const FileTree& tree, const std::string& dir, const fs::path& target,
                 size_t max_bytes, size_t max_files) {
  CopyState state{tree, max_bytes, max_files};
  return copy_dir(state, dir, target, 0);
}

}  // namespace plumbline
