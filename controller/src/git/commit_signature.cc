// verify_commit: a commit's signature against the trusted keys, in the format they are for.
#include "plumbline/git/commit_signature.h"

namespace plumbline {

Result<SignatureFormat> parse_signature_format(std::string_view text) {
  if (text == "ssh") return SignatureFormat::kSsh;
  if (text == "openpgp") return SignatureFormat::kOpenPgp;
  return invalid_input("signature format must be ssh or openpgp, got '" + std::string(text) + "'");
}

std::string_view to_string(SignatureFormat format) {
  return format == SignatureFormat::kSsh ? "ssh" : "openpgp";
}

Result<Signer> verify_commit(const TrustedKeys& keys, std::string_view revision,
                             const CommitSignature& signature) {
  const std::string commit = "commit " + std::string(revision);
  if (signature.signature.empty()) {
    return Error(ErrorCode::kPermissionDenied, commit + " is not signed (an " +
                                                   std::string(to_string(keys.format)) +
                                                   " signature by a trusted key is required)");
  }
  Result<Signer> signer =
      keys.format == SignatureFormat::kSsh
          ? signature_detail::verify_ssh(keys.keys, keys.origin, signature.signature,
                                         signature.signed_data)
          : signature_detail::verify_openpgp(keys.keys, keys.origin, signature.signature,
                                             signature.signed_data);
  if (!signer.ok() && signer.error().code() == ErrorCode::kPermissionDenied) {
    return Error(ErrorCode::kPermissionDenied, commit + " " + signer.error().message());
  }
  return signer;
}

}  // namespace plumbline
