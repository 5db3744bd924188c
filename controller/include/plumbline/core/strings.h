// plumbline/core/strings.h — the small string helpers every module wants once.
//
//   trim("  a b \n")                 -> "a b"
//   trim_right("line\r\n")           -> "line"
//   join(std::vector{"a", "b"}, ", ") -> "a, b" (any range of strings: vector, set, …)
//   contains_ignoring_case("db_password", "PASS") -> true (ASCII letters)
//   to_lower_ascii("Content-Type")    -> "content-type"
#pragma once

#include <string>
#include <string_view>

namespace plumbline {

// ASCII white space: space, tab, CR, LF, form feed, vertical tab.
inline constexpr std::string_view kWhitespace = " \t\r\n\f\v";

// `text` without leading and trailing characters of `chars`.
std::string_view trim(std::string_view text, std::string_view chars = kWhitespace);
std::string_view trim_right(std::string_view text, std::string_view chars = kWhitespace);

// Case folding for protocol names (URL schemes and hosts, HTTP header names, env var names):
// ASCII letters only, whatever the process's locale; every other byte is kept as it is.
constexpr char to_lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
std::string to_lower_ascii(std::string_view text);

// Whether `needle` occurs in `text`, ASCII letters compared without case; false for an empty
// needle. Allocates nothing (it runs for every env var a mask check reads).
bool contains_ignoring_case(std::string_view text, std::string_view needle);
bool equals_ignoring_case(std::string_view a, std::string_view b);
bool starts_with_ignoring_case(std::string_view text, std::string_view prefix);

// The items with `separator` between them; "" for none.
template <typename Range>
std::string join(const Range& items, std::string_view separator) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += separator;
    out += item;
    first = false;
  }
  return out;
}

}  // namespace plumbline
