// plumbline/core/utf8.h — text that leaves plumbline is valid UTF-8, whatever bytes came in.
//
// Git file names, refs and server messages may carry any bytes; nlohmann's dump() throws
// type_error.316 on invalid UTF-8, which would abort a report. Every serialization of data
// that can hold input goes through to_json_text, and every cut of a message through
// utf8_prefix.
//
//   to_json_text(report, 2)        // invalid sequences become U+FFFD, never an exception
//   utf8_prefix(message, 1000)     // at most 1000 bytes, never half a character
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace plumbline {

// value.dump(indent) with invalid UTF-8 replaced by U+FFFD.
std::string to_json_text(const nlohmann::json& value, int indent = -1);

// The longest prefix of `text` of at most `limit` bytes that does not end inside a
// multi-byte character (a cut UTF-8 sequence would make the rest of a message invalid).
std::string utf8_prefix(std::string_view text, size_t limit);

}  // namespace plumbline
