#include "plumbline/core/strings.h"

#include <algorithm>

namespace plumbline {

std::string_view trim(std::string_view text, std::string_view chars) {
  size_t begin = text.find_first_not_of(chars);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(chars);
  return text.substr(begin, end - begin + 1);
}

std::string_view trim_right(std::string_view text, std::string_view chars) {
  size_t end = text.find_last_not_of(chars);
  return end == std::string_view::npos ? std::string_view() : text.substr(0, end + 1);
}

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

namespace {
bool same_ignoring_case(char a, char b) { return to_lower_ascii(a) == to_lower_ascii(b); }
}  // namespace

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
  if (needle.empty()) return false;
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(), same_ignoring_case) !=
         text.end();
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_ignoring_case);
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         equals_ignoring_case(text.substr(0, prefix.size()), prefix);
}

}  // namespace plumbline
