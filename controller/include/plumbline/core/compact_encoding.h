// plumbline/core/compact_encoding.h — the bytes a CompactManifest holds, for code that writes
// them without a JSON tree (core/yaml_compact.cc and render/compact_documents.cc) or keeps them
// on disk (render/parse_cache_file.cc).
//
// One tag byte per value, then
//   kInt: zigzag varint; kUnsigned: varint; kFloat: the 8 bytes of the double;
//   kString/kBinary: varint length + bytes (kBinary: then a subtype flag byte and 8 bytes);
//   kArray: varint count + values; kObject: varint count + (varint length + key, value)...
// Object members are in nlohmann's key order (bytewise sorted, each key once), so decoding
// appends at the end of each map instead of searching it. A writer that is not encode_value
// must keep that order; the bytes are trusted when read (never outside input).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plumbline/core/compact_manifest.h"

namespace plumbline::compact_encoding {

enum Tag : char {
  kNull,
  kFalse,
  kTrue,
  kInt,
  kUnsigned,
  kFloat,
  kString,
  kArray,
  kObject,
  kBinary
};

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Signed values as varints, small magnitudes in few bytes: 0, -1, 1, -2... as 0, 1, 2, 3...
inline void put_zigzag(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

inline void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

// Appends `value` encoded.
void encode_value(const json& value, std::string& out);
// Reads a varint at `at` and moves past it.
std::uint64_t read_varint(const char*& at);
// The same for bytes not known to be whole (a file): false when the varint runs past `end`
// or past 64 bits.
bool read_varint_within(const char*& at, const char* end, std::uint64_t& v);
// The signed value put_zigzag wrote as the varint `z`.
inline std::int64_t from_zigzag(std::uint64_t z) {
  return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}
// Reads what put_zigzag wrote at `at` and moves past it.
std::int64_t read_zigzag(const char*& at);
// The value encoded at the start of `bytes`, decoded.
json decode_value(std::string_view bytes);
// Past the value encoded at `at`; adds the nodes it holds (itself and every value below it)
// to `*nodes` when given.
const char* skip(const char* at, size_t* nodes = nullptr);

// The string member `key` of the encoded object at `object` (its tag byte first); nullopt
// when it is missing or not a string (ObjectRef::of's reading).
std::optional<std::string_view> string_member(std::string_view object, std::string_view key);
// The encoded value of member `key` (from its tag byte to the end of `object`), or nullopt.
std::optional<std::string_view> member(std::string_view object, std::string_view key);

// A CompactManifest from bytes written in this encoding (an object), with its identity read
// from them.
CompactManifest manifest_from_encoding(std::shared_ptr<const std::string> encoded,
                                       SourceLocation origin,
                                       std::shared_ptr<const FieldOrigins> fields);

}  // namespace plumbline::compact_encoding
