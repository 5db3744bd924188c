// plumbline/core/base64.h — standard base64 (RFC 4648 §4, '+' and '/'), on OpenSSL's EVP coder:
// the one encoder and decoder of the codebase (Secret data, kubeconfig *-data fields,
// known_hosts keys, kustomize's generated Secrets).
//
//   base64_encode("hello")                 -> "aGVsbG8="
//   base64_decode("aGVsbG8")               -> "hello" (padding optional by default)
//   base64_decode(text, {.padding = Base64Padding::kRequired, .allow_whitespace = true})
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plumbline {

enum class Base64Padding { kOptional, kRequired };

struct Base64Options {
  Base64Padding padding = Base64Padding::kOptional;
  // Spaces, tabs and line breaks anywhere are skipped (kubeconfig's wrapped *-data values);
  // otherwise they make the text invalid.
  bool allow_whitespace = false;
};

std::string base64_encode(std::string_view data);

// nullopt when `text` is not base64: a character outside the alphabet (PEM armour, '-', '_'),
// '=' anywhere but the end, more than two of them, a length that cannot be, or missing
// padding where it is required.
std::optional<std::string> base64_decode(std::string_view text, Base64Options options = {});

}  // namespace plumbline
