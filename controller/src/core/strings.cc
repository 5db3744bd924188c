#include "plumbline/core/strings.h"

#include <algorithm>
#include <cctype>

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

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
  if (needle.empty()) return false;
  auto same = [](char a, char b) {
    return std::toupper(static_cast<unsigned char>(a)) ==
           std::toupper(static_cast<unsigned char>(b));
  };
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(), same) != text.end();
}

}  // namespace plumbline
