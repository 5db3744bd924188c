// git/libgit2.h — internal: RAII owners for libgit2 handles, the library lifetime, and the
// conversion of libgit2 errors into plumbline Errors. Only controller/src/git includes this.
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include "plumbline/core/error.h"

namespace plumbline::git {

// unique_ptr deleters call the matching git_*_free; a null handle is never freed.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* handle) const {
    if (handle != nullptr) Free(handle);
  }
};
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using RepositoryPtr = Handle<git_repository, git_repository_free>;
using RemotePtr = Handle<git_remote, git_remote_free>;
using ObjectPtr = Handle<git_object, git_object_free>;
using CommitPtr = Handle<git_commit, git_commit_free>;
using TreePtr = Handle<git_tree, git_tree_free>;
using TreeEntryPtr = Handle<git_tree_entry, git_tree_entry_free>;
using BlobPtr = Handle<git_blob, git_blob_free>;
using ReferencePtr = Handle<git_reference, git_reference_free>;
using ReferenceIteratorPtr = Handle<git_reference_iterator, git_reference_iterator_free>;

// Value types libgit2 fills in and that own heap memory.
struct Buf {
  git_buf buf = GIT_BUF_INIT;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&buf); }
  std::string str() const {
    return buf.ptr == nullptr ? std::string() : std::string(buf.ptr, buf.size);
  }
};

// Initializes libgit2 once per process; a function-local static guard owns the reference and
// shuts the library down at exit, so there is no other global state. Fails if init failed.
Status ensure_libgit2();

// The last libgit2 error as a plumbline Error: `what` says which operation failed, `where`
// names the URL / ref. `rc` (the libgit2 return code) picks the ErrorCode; network failures
// are kUnavailable, unknown ones kInternal (or `fallback` when given).
Error from_git(int rc, std::string_view what, std::string where,
               ErrorCode fallback = ErrorCode::kInternal);

// Objects are checked against their ids by plumbline, not by libgit2 (ensure_libgit2 turns
// its check off): libgit2 re-hashes every object it reads with its collision-detecting SHA-1,
// ~200 MB/s, a third of a 10k-workload run's Git read. Received packs are still indexed by
// that SHA-1 at fetch (every object named by its hash, collisions detected); on read, each
// commit, tag, tree and blob plumbline uses is checked with OpenSSL's SHA-1 (~1.3 GB/s here).
//
// Whether `data` is the content of the object `id` names: the SHA-1 of "<type> <size>\0" and
// the content.
bool content_matches(git_object_t type, std::string_view data, const git_oid& id);
// Reads the object `id` (any type) and checks it; an error names it and `where`.
Status check_object(git_repository* repo, const git_oid& id, const std::string& where);
// The error of an object whose content is not what its id names.
Error mismatch_error(git_object_t type, const git_oid& id, std::string where);

// The full and the abbreviated (7 hex digits) SHA of an object id.
std::string oid_hex(const git_oid& oid);
std::string oid_short(const git_oid& oid);

}  // namespace plumbline::git
