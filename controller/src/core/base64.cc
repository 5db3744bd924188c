#include "plumbline/core/base64.h"

#include <openssl/evp.h>

#include <climits>

namespace plumbline {

std::string base64_encode(std::string_view data) {
  if (data.empty()) return {};
  std::string out;
  // EVP_EncodeBlock takes an int length: encode in chunks of whole 3-byte groups.
  constexpr size_t kChunk = size_t{3} << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    std::string_view part = data.substr(at, kChunk);
    std::string encoded(4 * ((part.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                            reinterpret_cast<const unsigned char*>(part.data()),
                            static_cast<int>(part.size()));
    encoded.resize(n < 0 ? 0 : static_cast<size_t>(n));
    out += encoded;
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Options options) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr std::string_view kSpace = " \t\r\n";
  std::string clean;
  clean.reserve(text.size() + 3);
  size_t padding = 0;
  for (char c : text) {
    if (kSpace.find(c) != std::string_view::npos) {
      if (!options.allow_whitespace) return std::nullopt;
      continue;
    }
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0 || kAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    clean += c;
  }
  if (padding > 2 || clean.size() % 4 == 1) return std::nullopt;
  const size_t missing = (4 - clean.size() % 4) % 4;
  if (padding != 0 && padding != missing) return std::nullopt;
  if (padding == 0 && missing != 0 && options.padding == Base64Padding::kRequired) {
    return std::nullopt;
  }
  if (clean.empty()) return std::string();
  if (clean.size() > static_cast<size_t>(INT_MAX) - 4) return std::nullopt;
  clean.append(missing, '=');
  std::string out(clean.size() / 4 * 3, '\0');
  // EVP_DecodeBlock decodes whole groups, the padding as zero bits: drop those bytes after.
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0 || static_cast<size_t>(n) < missing) return std::nullopt;
  out.resize(static_cast<size_t>(n) - missing);
  return out;
}

}  // namespace plumbline
