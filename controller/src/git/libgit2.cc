#include "git/libgit2.h"

#include <cstring>

#include "plumbline/core/mask.h"

namespace plumbline::git {
namespace {

// Owns one git_libgit2_init() reference for the life of the process.
class LibraryGuard {
 public:
  LibraryGuard() : init_result_(git_libgit2_init()) {
    // plumbline checks what it reads itself (content_matches): libgit2.h says why.
    if (init_result_ > 0) git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
  }
  ~LibraryGuard() {
    if (init_result_ > 0) git_libgit2_shutdown();
  }
  LibraryGuard(const LibraryGuard&) = delete;
  LibraryGuard& operator=(const LibraryGuard&) = delete;
  int init_result() const { return init_result_; }

 private:
  int init_result_;
};

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

Status ensure_libgit2() {
  static const LibraryGuard guard;  // thread-safe one-time init (C++11 magic statics)
  if (guard.init_result() < 0) return from_git(guard.init_result(), "initializing libgit2", "");
  return {};
}

Error from_git(int rc, std::string_view what, std::string where, ErrorCode fallback) {
  const git_error* last = git_error_last();
  // libgit2 may name the URL it was given (with its userinfo) in a message.
  std::string detail =
      last != nullptr && last->message != nullptr ? redact_urls_in(last->message) : "";
  int klass = last != nullptr ? last->klass : GIT_ERROR_NONE;

  ErrorCode code = fallback;
  switch (rc) {
    case GIT_ENOTFOUND:
      code = ErrorCode::kNotFound;
      break;
    case GIT_EAUTH:
      code = ErrorCode::kUnauthenticated;
      break;
    case GIT_ECERTIFICATE:
      code = ErrorCode::kPermissionDenied;
      break;
    case GIT_ELOCKED:
      code = ErrorCode::kConflict;
      break;
    default:
      // libgit2 1.5 reports HTTP statuses only in the message text.
      if (contains(detail, "status code: 401") || contains(detail, "authentication")) {
        code = ErrorCode::kUnauthenticated;
      } else if (contains(detail, "status code: 403")) {
        code = ErrorCode::kPermissionDenied;
      } else if (contains(detail, "status code: 404") || contains(detail, "not found") ||
                 contains(detail, "does not appear to be a git repository") ||
                 contains(detail, "repository not exported")) {
        code = ErrorCode::kNotFound;
      } else if (klass == GIT_ERROR_NET || klass == GIT_ERROR_SSH || klass == GIT_ERROR_HTTP ||
                 klass == GIT_ERROR_SSL || contains(detail, "failed to connect") ||
                 contains(detail, "status code: 5")) {
        code = ErrorCode::kUnavailable;
      }
  }
  std::string message(what);
  if (!detail.empty()) message += ": " + detail;
  return Error(code, std::move(message), std::move(where));
}

std::string oid_hex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof(hex), &oid);
  return hex;
}

std::string oid_short(const git_oid& oid) { return oid_hex(oid).substr(0, 7); }

}  // namespace plumbline::git
