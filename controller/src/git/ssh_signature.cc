// SSH commit signatures (git's gpg.format=ssh): the SSHSIG blob (OpenSSH PROTOCOL.sshsig)
// checked with OpenSSL against an allowed_signers list, as `git verify-commit` does with
// `ssh-keygen -Y verify -n git`. Keys: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa
// (rsa-sha2-256/512 signatures, at least 2048 bits).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "git/credentials.h"
#include "git/libgit2.h"  // git::Handle, the RAII owner of C handles
#include "plumbline/core/base64.h"
#include "plumbline/git/commit_signature.h"

namespace plumbline::signature_detail {
namespace {

using PkeyPtr = git::Handle<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = git::Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = git::Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using BnPtr = git::Handle<BIGNUM, BN_free>;
using EcdsaSigPtr = git::Handle<ECDSA_SIG, ECDSA_SIG_free>;
using ParamBldPtr = git::Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = git::Handle<OSSL_PARAM, OSSL_PARAM_free>;

constexpr std::string_view kBegin = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view kEnd = "-----END SSH SIGNATURE-----";
constexpr std::string_view kMagic = "SSHSIG";
constexpr std::string_view kNamespace = "git";

Error denied(std::string message) {
  return Error(ErrorCode::kPermissionDenied, std::move(message));
}

// The SSH wire format: uint32 lengths, big-endian.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool u32(uint32_t& out) {
    if (data_.size() < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) out = (out << 8) | static_cast<unsigned char>(data_[i]);
    data_.remove_prefix(4);
    return true;
  }
  bool string(std::string_view& out) {
    uint32_t length = 0;
    if (!u32(length) || length > data_.size()) return false;
    out = data_.substr(0, length);
    data_.remove_prefix(length);
    return true;
  }
  bool raw(size_t n, std::string_view& out) {
    if (n > data_.size()) return false;
    out = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool empty() const { return data_.empty(); }

 private:
  std::string_view data_;
};

void put_string(std::string& out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  out += s;
}

std::string base64_unpadded(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out, &length, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), length);
}

// "SHA256:…", as `ssh-keygen -l` prints a key's fingerprint.
std::string fingerprint(std::string_view key_blob) {
  return "SHA256:" + base64_unpadded(digest(EVP_sha256(), key_blob));
}

// ---------------------------------------------------------------------------------------------
// allowed_signers

struct AllowedSigner {
  std::string principals;
  std::vector<std::string> namespaces;  // empty: any
  std::string key_blob;
};

bool known_key_type(std::string_view type) {
  return type == "ssh-ed25519" || type == "ssh-rsa" || type.starts_with("ecdsa-sha2-nistp") ||
         type.starts_with("sk-");
}

// The next whitespace-separated token; a double-quoted part may hold spaces.
std::string_view next_token(std::string_view& line) {
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  bool quoted = false;
  size_t i = 0;
  for (; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    if (!quoted && (line[i] == ' ' || line[i] == '\t')) break;
  }
  std::string_view token = line.substr(0, i);
  line.remove_prefix(i);
  return token;
}

// "a,b" -> {a, b}; a comma inside double quotes (namespaces="file,git") does not split.
std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  for (char c : list) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

Result<std::vector<AllowedSigner>> parse_allowed_signers(std::string_view text,
                                                         std::string_view origin) {
  std::vector<AllowedSigner> signers;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t newline = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(std::min(newline + 1, text.size()));
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string where = std::string(origin) + ":" + std::to_string(line_no);
    std::string_view rest = line;
    std::string_view principals = next_token(rest);
    if (principals.empty() || principals.front() == '#') continue;
    AllowedSigner signer{.principals = std::string(principals), .namespaces = {}, .key_blob = {}};
    std::string_view type = next_token(rest);
    if (!known_key_type(type)) {
      bool skip = false;
      for (const std::string& option : split_commas(type)) {
        if (option == "cert-authority") {
          skip = true;  // certificates are not verified: such a line never vouches for a key
        } else if (option.starts_with("namespaces=\"") && option.ends_with("\"") &&
                   option.size() >= 13) {
          signer.namespaces = split_commas(std::string_view(option).substr(12, option.size() - 13));
        } else {
          return invalid_input("allowed signers option '" + option +
                                   "' is not supported (only namespaces=\"…\" and "
                                   "cert-authority); the list is refused rather than read in part",
                               where);
        }
      }
      if (skip) continue;
      type = next_token(rest);
    }
    std::string_view key64 = next_token(rest);
    if (!known_key_type(type) || key64.empty()) {
      return invalid_input("not an allowed signers line (principals [options] key-type key)",
                           where);
    }
    std::optional<std::string> blob = base64_decode(key64);
    std::string_view blob_type;
    if (!blob || !Reader(*blob).string(blob_type) || blob_type != type) {
      return invalid_input("the " + std::string(type) + " key does not decode", where);
    }
    signer.key_blob = std::move(*blob);
    signers.push_back(std::move(signer));
  }
  return signers;
}

bool allows_namespace(const AllowedSigner& signer) {
  if (signer.namespaces.empty()) return true;
  return std::find_if(signer.namespaces.begin(), signer.namespaces.end(), [](const auto& n) {
           return n == kNamespace || n == "*";
         }) != signer.namespaces.end();
}

// ---------------------------------------------------------------------------------------------
// Public keys and signature checks.

bool verify_with(EVP_PKEY* key, const EVP_MD* md, std::string_view signature,
                 std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

PkeyPtr key_from_params(const char* type, OSSL_PARAM_BLD* build) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(build));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(raw);
}

// An SSH mpint (big-endian two's complement) that must be positive.
BnPtr positive_mpint(std::string_view bytes) {
  if (!bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x80) != 0) return nullptr;
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

struct Curve {
  std::string_view ssh_name;  // in the key type and the key blob
  const char* group;          // OpenSSL's name
  const EVP_MD* (*md)();
};
constexpr Curve kCurves[] = {{"nistp256", "prime256v1", EVP_sha256},
                             {"nistp384", "secp384r1", EVP_sha384},
                             {"nistp521", "secp521r1", EVP_sha512}};

// Whether `signature` (type + blob from the SSHSIG) is `key_blob`'s signature of `data`.
// nullopt: the key or signature type is not supported (said apart from a bad signature).
std::optional<bool> check_signature(std::string_view key_blob, std::string_view sig_type,
                                    std::string_view sig, std::string_view data) {
  Reader key(key_blob);
  std::string_view type;
  key.string(type);
  if (type == "ssh-ed25519") {
    std::string_view pub;
    if (sig_type != type || !key.string(pub) || pub.size() != 32 || sig.size() != 64) return false;
    PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub.data()), 32));
    return pkey && verify_with(pkey.get(), nullptr, sig, data);
  }
  if (type.starts_with("ecdsa-sha2-")) {
    std::string_view curve_name, point;
    if (sig_type != type || !key.string(curve_name) || !key.string(point)) return false;
    const Curve* curve = nullptr;
    for (const Curve& c : kCurves) {
      if (c.ssh_name == curve_name && type.substr(11) == curve_name) curve = &c;
    }
    if (curve == nullptr) return std::nullopt;
    ParamBldPtr build(OSSL_PARAM_BLD_new());
    if (!build ||
        OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return false;
    }
    PkeyPtr pkey = key_from_params("EC", build.get());
    // The SSH signature blob is mpint r, mpint s; OpenSSL wants DER.
    Reader rs(sig);
    std::string_view r_bytes, s_bytes;
    if (!pkey || !rs.string(r_bytes) || !rs.string(s_bytes) || !rs.empty()) return false;
    BnPtr r = positive_mpint(r_bytes), s = positive_mpint(s_bytes);
    EcdsaSigPtr ecdsa(ECDSA_SIG_new());
    if (!r || !s || !ecdsa || ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) return false;
    (void)r.release();  // owned by ecdsa now
    (void)s.release();
    unsigned char* der = nullptr;
    int der_length = i2d_ECDSA_SIG(ecdsa.get(), &der);
    if (der_length <= 0) return false;
    std::string der_sig(reinterpret_cast<char*>(der), static_cast<size_t>(der_length));
    OPENSSL_free(der);
    return verify_with(pkey.get(), curve->md(), der_sig, data);
  }
  if (type == "ssh-rsa") {
    const EVP_MD* md = sig_type == "rsa-sha2-256"   ? EVP_sha256()
                       : sig_type == "rsa-sha2-512" ? EVP_sha512()
                                                    : nullptr;
    if (md == nullptr) return std::nullopt;  // "ssh-rsa" signatures are SHA-1: refused
    std::string_view e_bytes, n_bytes;
    if (!key.string(e_bytes) || !key.string(n_bytes)) return false;
    BnPtr e = positive_mpint(e_bytes), n = positive_mpint(n_bytes);
    if (!e || !n || BN_num_bits(n.get()) < 2048) return std::nullopt;
    ParamBldPtr build(OSSL_PARAM_BLD_new());
    if (!build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return false;
    }
    PkeyPtr pkey = key_from_params("RSA", build.get());
    return pkey && verify_with(pkey.get(), md, sig, data);
  }
  return std::nullopt;
}

}  // namespace

Result<Signer> verify_ssh(std::string_view allowed_signers, std::string_view origin,
                          std::string_view armored, std::string_view payload) {
  PL_ASSIGN_OR_RETURN(std::vector<AllowedSigner> signers,
                      parse_allowed_signers(allowed_signers, origin));
  if (armored.find("-----BEGIN PGP SIGNATURE-----") != std::string_view::npos) {
    return denied("is signed with OpenPGP, but SSH signatures are expected");
  }
  size_t begin = armored.find(kBegin), end = armored.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return denied("has a signature that is not an SSH signature (-----BEGIN SSH SIGNATURE-----)");
  }
  std::string body;
  for (char c : armored.substr(begin + kBegin.size(), end - begin - kBegin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body += c;
  }
  std::optional<std::string> blob = base64_decode(body);
  Reader sshsig(blob ? std::string_view(*blob) : std::string_view());
  std::string_view magic, key_blob, ns, reserved, hash, signature;
  uint32_t version = 0;
  if (!blob || !sshsig.raw(kMagic.size(), magic) || magic != kMagic || !sshsig.u32(version) ||
      version != 1 || !sshsig.string(key_blob) || !sshsig.string(ns) || !sshsig.string(reserved) ||
      !sshsig.string(hash) || !sshsig.string(signature)) {
    return denied("has an SSH signature that does not parse (SSHSIG version 1)");
  }
  const std::string who = fingerprint(key_blob);
  if (ns != kNamespace) {
    return denied("is signed by " + who + " for namespace '" + std::string(ns) +
                  "', not 'git' (a signature made for something else)");
  }
  const EVP_MD* md = hash == "sha512" ? EVP_sha512() : hash == "sha256" ? EVP_sha256() : nullptr;
  if (md == nullptr) {
    return denied("is signed by " + who + " with hash '" + std::string(hash) +
                  "' (sha256 or sha512 expected)");
  }
  const AllowedSigner* trusted = nullptr;
  for (const AllowedSigner& s : signers) {
    if (s.key_blob == key_blob && allows_namespace(s)) {
      trusted = &s;
      break;
    }
  }
  if (trusted == nullptr) {
    return denied("is signed by " + who + ", which is not in the allowed signers (" +
                  std::string(origin) + ")");
  }
  Reader sig_reader(signature);
  std::string_view sig_type, sig_blob;
  if (!sig_reader.string(sig_type) || !sig_reader.string(sig_blob)) {
    return denied("has an SSH signature by " + who + " that does not parse");
  }
  std::string signed_data(kMagic);
  put_string(signed_data, ns);
  put_string(signed_data, reserved);
  put_string(signed_data, hash);
  put_string(signed_data, digest(md, payload));
  std::optional<bool> good = check_signature(key_blob, sig_type, sig_blob, signed_data);
  if (!good) {
    return denied("is signed by " + who + " with " + std::string(sig_type) +
                  ", which plumbline does not verify (ssh-ed25519, ecdsa-sha2-nistp256/384/521, "
                  "rsa-sha2-256/512 with at least 2048 bits)");
  }
  if (!*good) {
    return denied("has a signature by " + who +
                  " that does not match the commit (changed after signing, or forged)");
  }
  return Signer{.principal = trusted->principals, .fingerprint = who};
}

}  // namespace plumbline::signature_detail
