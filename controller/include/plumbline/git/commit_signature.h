// plumbline/git/commit_signature.h — verifying a commit's signature (`git verify-commit`).
//
// A GitSnapshot carries its commit's signature (the gpgsig header) and the signed payload (the
// commit object without that header). verify_commit() checks it against the keys the user
// trusts: SSH allowed signers (git's gpg.format=ssh, checked with OpenSSL) or OpenPGP public
// keys (checked with GPGME in a private, throw-away GNUPGHOME). Anything else — no signature,
// a signer not in the list, a signature that does not match the commit — is an error naming
// the commit and, when known, the signer's key fingerprint. DESIGN.md "Signed commits".
//
//   TrustedKeys keys{.format = SignatureFormat::kSsh, .keys = allowed_signers_text};
//   PL_ASSIGN_OR_RETURN(Signer who, verify_commit(keys, snap.revision, snap.signature));
#pragma once

#include <string>
#include <string_view>

#include "plumbline/core/error.h"

namespace plumbline {

struct CommitSignature {
  std::string signature;    // the gpgsig header's value (armored); empty: unsigned
  std::string signed_data;  // the commit object without the gpgsig header
};

enum class SignatureFormat { kSsh, kOpenPgp };

// "ssh" | "openpgp"; nullopt-like error for anything else.
Result<SignatureFormat> parse_signature_format(std::string_view text);
std::string_view to_string(SignatureFormat format);

struct TrustedKeys {
  SignatureFormat format = SignatureFormat::kSsh;
  // kSsh: an allowed_signers file (git's gpg.ssh.allowedSignersFile format:
  //   "principals [namespaces=\"git\"] key-type base64-key [comment]").
  // kOpenPgp: OpenPGP public keys, ASCII-armored or binary, one or more concatenated.
  std::string keys;
  std::string origin;  // where they came from, for errors ("Secret ns/name", a file name)
};

struct Signer {
  std::string principal;    // SSH: the allowed_signers principal; OpenPGP: the key's user id
  std::string fingerprint;  // SSH: "SHA256:…" (as ssh-keygen -l); OpenPGP: the key fingerprint
};

// The signer when `signature` is a valid signature of `revision`'s payload by a trusted key.
// Errors (kPermissionDenied, never retryable): unsigned, signed in the other format, unknown
// signer, bad signature; kInvalidInput: keys that do not parse. `revision` only names the
// commit in messages.
Result<Signer> verify_commit(const TrustedKeys& keys, std::string_view revision,
                             const CommitSignature& signature);

namespace signature_detail {
// The two formats (git/ssh_signature.cc, git/openpgp_signature.cc); verify_commit picks one.
Result<Signer> verify_ssh(std::string_view allowed_signers, std::string_view origin,
                          std::string_view armored, std::string_view payload);
Result<Signer> verify_openpgp(std::string_view public_keys, std::string_view origin,
                              std::string_view armored, std::string_view payload);
}  // namespace signature_detail

}  // namespace plumbline
