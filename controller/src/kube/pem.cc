// PEM checks of kubeconfig certificates and keys, on OpenSSL (every handle owned).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>

#include "kube/kubeconfig_internal.h"

namespace plumbline::kubeconfig {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memory_bio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Never prompt on the terminal for a passphrase (OpenSSL's default callback would).
int no_passphrase(char*, int, int, void*) { return 0; }

X509Ptr first_certificate(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  return cert;
}

PkeyPtr private_key(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  return key;
}

}  // namespace

std::optional<std::string> certificate_problem(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio = memory_bio(pem);
  if (!bio) return "cannot be read";
  int count = 0;
  while (X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr))) ++count;
  unsigned long error = ERR_peek_last_error();
  bool clean_end =
      ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (count == 0 && clean_end) return "contains no PEM certificate";
  if (!clean_end)
    return "has an invalid PEM certificate (number " + std::to_string(count + 1) + ")";
  return std::nullopt;
}

bool is_private_key(std::string_view pem) { return private_key(pem) != nullptr; }

bool key_matches_certificate(std::string_view certificate_pem, std::string_view key_pem) {
  X509Ptr cert = first_certificate(certificate_pem);
  PkeyPtr key = private_key(key_pem);
  bool matches = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  return matches;
}

}  // namespace plumbline::kubeconfig
