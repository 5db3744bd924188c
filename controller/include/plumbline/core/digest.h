// plumbline/core/digest.h — SHA-256 as lowercase hex, the one digest helper of the codebase.
//
//   sha256_hex("abc")     -> "ba7816bf…" (64 digits)
//   sha256_hex("abc", 12) -> "ba7816bf8f01"
//   sha256_bytes("abc")  -> 32 bytes
//   hmac_sha256_hex("key", "body") -> 64 digits
#pragma once

#include <string>
#include <string_view>

namespace plumbline {

// The first `hex_digits` (at most 64) lowercase hex digits of the SHA-256 of `data`.
std::string sha256_hex(std::string_view data, size_t hex_digits = 64);

// The 32 raw bytes of the SHA-256 of `data` (compared with digests given as bytes, such as a
// server's SSH host key fingerprint).
std::string sha256_bytes(std::string_view data);

// HMAC-SHA256 of `data` keyed by `key`, 64 lowercase hex digits (webhook signatures).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// a == b, in a time that depends on neither (OpenSSL's CRYPTO_memcmp over their SHA-256):
// for comparing a secret or a signature with what a client sent.
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace plumbline
