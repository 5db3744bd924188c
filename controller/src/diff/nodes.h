// diff/nodes.h — the two forms of an object the field walk (walker.h) reads: an nlohmann tree,
// or the compact encoding a CompactManifest holds (core/compact_encoding.h). Reading the
// encoding directly spares a full pass building two trees per object only to find most of
// them equal; a value is decoded to JSON only where a finding is written.
//
// A node is a cheap handle: a position in a tree or in the bytes, or none (absent). Equality
// is nlohmann's (numbers across integer, unsigned and float; IEEE floats), so a walk gives
// the same findings on either form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/object.h"

namespace plumbline::diff {

class JsonNode {
 public:
  JsonNode() = default;
  explicit JsonNode(const json* value) : value_(value) {}

  explicit operator bool() const { return value_ != nullptr; }
  bool is_null() const { return value_->is_null(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }
  bool is_string() const { return value_->is_string(); }
  bool is_structured() const { return value_->is_structured(); }
  std::string_view string() const { return value_->get_ref<const std::string&>(); }
  // The member `key` (a null one too), or none when absent or this is not an object.
  JsonNode find(std::string_view key) const {
    if (!value_->is_object()) return {};
    auto it = value_->find(key);
    return it == value_->end() ? JsonNode() : JsonNode(&*it);
  }
  json to_json() const { return *value_; }
  friend bool operator==(JsonNode a, JsonNode b) { return *a.value_ == *b.value_; }

  // Members (key, value) of an object; elements of an array.
  template <typename F>
  void each_member(F&& f) const {
    for (auto it = value_->begin(); it != value_->end(); ++it) {
      f(std::string_view(it.key()), JsonNode(&*it));
    }
  }
  template <typename F>
  void each_element(F&& f) const {
    for (const json& element : *value_) f(JsonNode(&element));
  }
  // Stops at the first element `f` returns true for, and returns it (or none).
  template <typename F>
  JsonNode find_element(F&& f) const {
    for (const json& element : *value_) {
      if (f(JsonNode(&element))) return JsonNode(&element);
    }
    return {};
  }
  size_t size() const { return value_->size(); }

  static JsonNode empty_array() {
    static const json kEmpty = json::array();
    return JsonNode(&kEmpty);
  }

 private:
  const json* value_ = nullptr;
};

class EncodedNode;

// An encoded object with the end of every list and map in it, found in one pass: a walk then
// steps over a value in O(1) (the encoding holds no lengths for them, and a look-up steps
// over every member before the one it finds).
class EncodedDocument {
 public:
  // `bytes`: one value compact_encoding wrote (trusted, never outside input), or nothing (the
  // root is then none); `ends`: a buffer to reuse between documents (only what this one
  // writes is read).
  EncodedDocument(std::string_view bytes, std::vector<std::uint32_t>& ends);
  EncodedNode root() const;
  // Past the value whose tag is at `at`.
  const char* skip(const char* at) const;

 private:
  const char* index(const char* at);
  const char* base_;
  std::vector<std::uint32_t>& ends_;  // by a list's or map's offset: the offset of its end
};

class EncodedNode {
 public:
  EncodedNode() = default;
  // `at`: a value's tag byte in `document`.
  EncodedNode(const char* at, const EncodedDocument* document) : at_(at), document_(document) {}

  explicit operator bool() const { return at_ != nullptr; }
  bool is_null() const { return tag() == compact_encoding::kNull; }
  bool is_object() const { return tag() == compact_encoding::kObject; }
  bool is_array() const { return tag() == compact_encoding::kArray; }
  bool is_string() const { return tag() == compact_encoding::kString; }
  bool is_structured() const { return is_object() || is_array(); }
  std::string_view string() const {
    const char* at = at_ + 1;
    auto size = static_cast<size_t>(compact_encoding::read_varint(at));
    return {at, size};
  }
  EncodedNode find(std::string_view key) const;
  json to_json() const;
  friend bool operator==(EncodedNode a, EncodedNode b);

  template <typename F>
  void each_member(F&& f) const {
    const char* at = at_ + 1;
    for (std::uint64_t i = 0, n = compact_encoding::read_varint(at); i < n; ++i) {
      auto size = static_cast<size_t>(compact_encoding::read_varint(at));
      std::string_view key(at, size);
      EncodedNode value(at + size, document_);
      f(key, value);
      at = skip(at + size);
    }
  }
  template <typename F>
  void each_element(F&& f) const {
    const char* at = at_ + 1;
    for (std::uint64_t i = 0, n = compact_encoding::read_varint(at); i < n; ++i) {
      f(EncodedNode(at, document_));
      at = skip(at);
    }
  }
  template <typename F>
  EncodedNode find_element(F&& f) const {
    const char* at = at_ + 1;
    for (std::uint64_t i = 0, n = compact_encoding::read_varint(at); i < n; ++i) {
      if (f(EncodedNode(at, document_))) return EncodedNode(at, document_);
      at = skip(at);
    }
    return {};
  }
  size_t size() const {
    const char* at = at_ + 1;
    return static_cast<size_t>(compact_encoding::read_varint(at));
  }

  static EncodedNode empty_array() {
    static constexpr char kEmpty[] = {compact_encoding::kArray, 0};
    return EncodedNode(kEmpty, nullptr);
  }

 private:
  compact_encoding::Tag tag() const { return static_cast<compact_encoding::Tag>(*at_); }
  const char* skip(const char* at) const {
    return document_ != nullptr ? document_->skip(at) : compact_encoding::skip(at);
  }
  const char* at_ = nullptr;
  const EncodedDocument* document_ = nullptr;
};

inline EncodedNode EncodedDocument::root() const {
  return base_ != nullptr ? EncodedNode(base_, this) : EncodedNode();
}

}  // namespace plumbline::diff
