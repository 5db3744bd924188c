// OpenPGP commit signatures (git's default gpg.format), checked with GPGME. Each check runs
// in its own throw-away GNUPGHOME holding only the trusted keys: no user keyring, no agent or
// dirmngr started, no key fetched from anywhere (offline, auto-key-retrieve off), and every key
// in it counts as trusted (trust-model always: the Secret is the list of trusted keys).
#include <gpgme.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "plumbline/git/commit_signature.h"

namespace plumbline::signature_detail {
namespace {

namespace fs = std::filesystem;

struct CtxFree {
  void operator()(gpgme_ctx_t ctx) const { gpgme_release(ctx); }
};
using CtxPtr = std::unique_ptr<std::remove_pointer_t<gpgme_ctx_t>, CtxFree>;
struct DataFree {
  void operator()(gpgme_data_t data) const { gpgme_data_release(data); }
};
using DataPtr = std::unique_ptr<std::remove_pointer_t<gpgme_data_t>, DataFree>;
struct KeyFree {
  void operator()(gpgme_key_t key) const { gpgme_key_unref(key); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<gpgme_key_t>, KeyFree>;

// A private directory (mode 0700), removed with everything in it.
class TempHome {
 public:
  static Result<TempHome> create() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "plumbline-gnupg-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Error(ErrorCode::kInternal, "cannot create a temporary GNUPGHOME in " + base.string());
    }
    return TempHome(pattern);
  }
  TempHome(TempHome&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempHome& operator=(TempHome&&) = delete;
  ~TempHome() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempHome(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

Error denied(std::string message) {
  return Error(ErrorCode::kPermissionDenied, std::move(message));
}

Error gpgme_failure(gpgme_error_t err, const std::string& what) {
  return Error(ErrorCode::kInternal, what + ": " + gpgme_strerror(err), "GPGME");
}

// GPGME wants one gpgme_check_version() per process before any context; a function-local
// static does it once, thread-safely.
Status ensure_gpgme() {
  static const std::optional<std::string> failure = []() -> std::optional<std::string> {
    if (gpgme_check_version(nullptr) == nullptr) return "GPGME did not initialize";
    if (gpgme_error_t err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP); err != 0) {
      return std::string("no usable gpg program for OpenPGP signatures: ") + gpgme_strerror(err);
    }
    return std::nullopt;
  }();
  if (failure) return Error(ErrorCode::kUnavailable, *failure, "GPGME");
  return {};
}

Result<DataPtr> data_of(std::string_view bytes) {
  gpgme_data_t raw = nullptr;
  gpgme_error_t err = gpgme_data_new_from_mem(&raw, bytes.data(), bytes.size(), 1);
  if (err != 0) return gpgme_failure(err, "gpgme_data_new_from_mem");
  return DataPtr(raw);
}

// The signer as the keyring knows it: the primary key's fingerprint and first user id, else
// what the signature names (a key id when gpg reports no more, e.g. for a bad signature).
Signer signer_of(gpgme_ctx_t ctx, const char* fpr) {
  Signer signer{.principal = {}, .fingerprint = fpr != nullptr ? fpr : "an unnamed key"};
  gpgme_key_t raw = nullptr;
  if (fpr == nullptr || gpgme_get_key(ctx, fpr, &raw, 0) != 0 || raw == nullptr) return signer;
  KeyPtr key(raw);
  if (key->fpr != nullptr) signer.fingerprint = key->fpr;
  if (key->uids != nullptr && key->uids->uid != nullptr) signer.principal = key->uids->uid;
  return signer;
}

}  // namespace

Result<Signer> verify_openpgp(std::string_view public_keys, std::string_view origin,
                              std::string_view armored, std::string_view payload) {
  if (armored.find("-----BEGIN SSH SIGNATURE-----") != std::string_view::npos) {
    return denied("is signed with SSH, but OpenPGP signatures are expected");
  }
  if (armored.find("-----BEGIN PGP SIGNATURE-----") == std::string_view::npos) {
    return denied("has a signature that is not an OpenPGP signature");
  }
  PL_RETURN_IF_ERROR(ensure_gpgme());
  PL_ASSIGN_OR_RETURN(TempHome home, TempHome::create());
  {
    std::ofstream conf(home.path() / "gpg.conf");
    conf << "trust-model always\nno-auto-key-retrieve\nauto-key-locate local\nno-autostart\n";
    if (!conf) return Error(ErrorCode::kInternal, "cannot write gpg.conf", home.path().string());
  }
  gpgme_ctx_t raw_ctx = nullptr;
  if (gpgme_error_t err = gpgme_new(&raw_ctx); err != 0) return gpgme_failure(err, "gpgme_new");
  CtxPtr ctx(raw_ctx);
  const std::string home_dir = home.path().string();
  if (gpgme_error_t err =
          gpgme_ctx_set_engine_info(ctx.get(), GPGME_PROTOCOL_OpenPGP, nullptr, home_dir.c_str());
      err != 0) {
    return gpgme_failure(err, "gpgme_ctx_set_engine_info");
  }
  gpgme_set_offline(ctx.get(), 1);

  PL_ASSIGN_OR_RETURN(DataPtr keys, data_of(public_keys));
  if (gpgme_error_t err = gpgme_op_import(ctx.get(), keys.get()); err != 0) {
    return invalid_input(std::string("the OpenPGP keys do not import: ") + gpgme_strerror(err),
                         std::string(origin));
  }
  gpgme_import_result_t imported = gpgme_op_import_result(ctx.get());
  if (imported == nullptr || imported->imported + imported->unchanged == 0) {
    return invalid_input("holds no OpenPGP public key", std::string(origin));
  }

  PL_ASSIGN_OR_RETURN(DataPtr sig, data_of(armored));
  PL_ASSIGN_OR_RETURN(DataPtr text, data_of(payload));
  gpgme_error_t err = gpgme_op_verify(ctx.get(), sig.get(), text.get(), nullptr);
  if (err != 0)
    return denied(std::string("has an OpenPGP signature that does not parse: ") +
                  gpgme_strerror(err));
  gpgme_verify_result_t result = gpgme_op_verify_result(ctx.get());
  if (result == nullptr || result->signatures == nullptr) {
    return denied("has an OpenPGP signature block without a signature");
  }
  std::optional<Signer> good;
  // Every signature must be good: one bad signature beside a good one is not a valid commit.
  for (gpgme_signature_t s = result->signatures; s != nullptr; s = s->next) {
    Signer signer = signer_of(ctx.get(), s->fpr);
    const std::string& who = signer.fingerprint;
    switch (gpgme_err_code(s->status)) {
      case GPG_ERR_NO_ERROR:
        if ((s->summary & GPGME_SIGSUM_RED) != 0) {
          return denied("is signed by " + who + ", a key that is revoked or expired");
        }
        if (!good) good = signer;
        break;
      case GPG_ERR_NO_PUBKEY:
        return denied("is signed by " + who + ", which is not among the trusted OpenPGP keys (" +
                      std::string(origin) + ")");
      case GPG_ERR_BAD_SIGNATURE:
        return denied("has a signature by " + who +
                      " that does not match the commit (changed after signing, or forged)");
      case GPG_ERR_KEY_EXPIRED:
      case GPG_ERR_SIG_EXPIRED:
      case GPG_ERR_CERT_REVOKED:
        return denied("is signed by " + who + ", a key or signature that is revoked or expired");
      default:
        return denied("has a signature by " + who +
                      " that does not verify: " + gpgme_strerror(s->status));
    }
  }
  if (!good) return denied("has no good OpenPGP signature");
  return *good;
}

}  // namespace plumbline::signature_detail
