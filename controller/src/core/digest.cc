#include "plumbline/core/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

namespace plumbline {
namespace {

std::string to_hex(const unsigned char* bytes, unsigned int length, size_t hex_digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length && out.size() < hex_digits; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  out.resize(std::min(out.size(), hex_digits));
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data, size_t hex_digits) {
  // EVP_Digest is one-shot: no context handle to own.
  const std::string digest = sha256_bytes(data);
  return to_hex(reinterpret_cast<const unsigned char*>(digest.data()),
                static_cast<unsigned int>(digest.size()), hex_digits);
}

std::string sha256_bytes(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &length);
  return to_hex(mac.data(), length, 64);
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  // Digests of both have one length, so neither the content nor the length of a secret shows
  // in the time taken.
  const std::string da = sha256_hex(a), db = sha256_hex(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0 && a.size() == b.size();
}

}  // namespace plumbline
