#include "plumbline/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace plumbline {

std::string sha256_hex(std::string_view data, size_t hex_digits) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest is one-shot: no context handle to own.
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length && out.size() < hex_digits; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  out.resize(std::min(out.size(), hex_digits));
  return out;
}

}  // namespace plumbline
