// The checks every YAML text passes before a parser sees it (each found by fuzzing).
#include "core/yaml_guards.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace plumbline::yaml_guards {
namespace {

// yaml-cpp 0.7 recurses once per nesting level and overflows the stack on very deep flow
// collections ("[[[[..."), so deep input is refused before it reaches the parser.
constexpr int kMaxFlowDepth = 256;

}  // namespace

// YAML forbids NUL; a NUL also makes yaml-cpp 0.7 guess UTF-16 and loop forever (found by
// fuzzing), so it is refused here. UTF-16/32 files contain NULs and are refused too.
Status check_no_nul(std::string_view text, std::string_view file) {
  auto nul = text.find('\0');
  if (nul == std::string_view::npos) return {};
  size_t line = 1 + static_cast<size_t>(
                        std::count(text.begin(), text.begin() + static_cast<long>(nul), '\n'));
  return invalid_input("file contains a NUL byte (binary, or not UTF-8?)",
                       std::string(file) + ":" + std::to_string(line));
}

// Manifests are UTF-8. Invalid sequences are refused here, once, because nlohmann::json
// throws when it serializes such a string (found by fuzzing: any report could abort).
Status check_utf8(std::string_view text, std::string_view file) {
  size_t i = 0;
  while (i < text.size()) {
    // Runs of ASCII, 8 bytes at a time (manifests are mostly ASCII).
    while (i + 8 <= text.size()) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i == text.size()) break;
    auto c = static_cast<unsigned char>(text[i]);
    size_t extra = c < 0x80           ? 0
                   : (c >> 5) == 0x6  ? 1
                   : (c >> 4) == 0xE  ? 2
                   : (c >> 3) == 0x1E ? 3
                                      : 4;
    bool ok = extra < 4 && i + extra < text.size();  // the whole sequence is inside the text
    for (size_t k = 1; ok && k <= extra; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (ok && extra > 0) {
      // Overlong forms and surrogates are invalid too.
      unsigned cp = c & (0x3F >> extra);
      for (size_t k = 1; k <= extra; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
      static constexpr unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[extra] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      size_t line = 1 + static_cast<size_t>(
                            std::count(text.begin(), text.begin() + static_cast<long>(i), '\n'));
      return invalid_input("file is not valid UTF-8",
                           std::string(file) + ":" + std::to_string(line));
    }
    i += extra + 1;
  }
  return {};
}

Status check_flow_depth(std::string_view text, std::string_view file) {
  // The bytes the scan acts on; runs of others are skipped in a tight loop.
  static constexpr auto kActs = [] {
    std::array<bool, 256> acts{};
    for (unsigned char c : std::string_view("\n#\"'[]{}")) acts[c] = true;
    return acts;
  }();
  int depth = 0;
  int line = 1;
  char quote = 0;
  bool comment = false;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p != end) {
    while (p != end && !kActs[static_cast<unsigned char>(*p)]) ++p;
    if (p == end) break;
    char c = *p++;
    if (c == '\n') {
      ++line;
      comment = false;
      quote = quote == '"' ? quote : 0;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#')
      comment = true;
    else if (c == '"' || c == '\'')
      quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) {
        return invalid_input("YAML nested deeper than " + std::to_string(kMaxFlowDepth) + " levels",
                             std::string(file) + ":" + std::to_string(line));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

}  // namespace plumbline::yaml_guards
