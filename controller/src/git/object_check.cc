// Objects checked against their ids with OpenSSL's SHA-1 (libgit2.h says why not libgit2's).
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "git/libgit2.h"

namespace plumbline::git {
namespace {

using OdbPtr = Handle<git_odb, git_odb_free>;
using OdbObjectPtr = Handle<git_odb_object, git_odb_object_free>;
using DigestContext = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;

}  // namespace

bool content_matches(git_object_t type, std::string_view data, const git_oid& id) {
  const std::string header =
      std::string(git_object_type2string(type)) + " " + std::to_string(data.size()) + '\0';
  DigestContext context(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (context == nullptr || EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), header.data(), header.size()) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != GIT_OID_RAWSZ) {
    return false;
  }
  return std::memcmp(digest.data(), id.id, GIT_OID_RAWSZ) == 0;
}

Error mismatch_error(git_object_t type, const git_oid& id, std::string where) {
  return Error(ErrorCode::kInvalidInput,
               std::string(git_object_type2string(type)) + " " + oid_short(id) +
                   " does not hold what its id names (the repository is corrupt)",
               std::move(where));
}

Status check_object(git_repository* repo, const git_oid& id, const std::string& where) {
  git_odb* raw_odb = nullptr;
  int rc = git_repository_odb(&raw_odb, repo);
  OdbPtr odb(raw_odb);
  if (rc < 0) return from_git(rc, "opening the object database", where);
  git_odb_object* raw = nullptr;
  rc = git_odb_read(&raw, odb.get(), &id);
  OdbObjectPtr object(raw);
  if (rc < 0) return from_git(rc, "reading object " + oid_short(id), where);
  const git_object_t type = git_odb_object_type(object.get());
  std::string_view data(static_cast<const char*>(git_odb_object_data(object.get())),
                        git_odb_object_size(object.get()));
  if (!content_matches(type, data, id)) return mismatch_error(type, id, where);
  return {};
}

}  // namespace plumbline::git
