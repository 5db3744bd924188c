// plumbline/digest.h — SHA-256 as lowercase hex, the one digest helper of the codebase.
//
//   sha256_hex("abc")     -> "ba7816bf…" (64 digits)
//   sha256_hex("abc", 12) -> "ba7816bf8f01"
#pragma once

#include <string>
#include <string_view>

namespace plumbline {

// The first `hex_digits` (at most 64) lowercase hex digits of the SHA-256 of `data`.
std::string sha256_hex(std::string_view data, size_t hex_digits = 64);

}  // namespace plumbline
