// EncodedNode's look-up, decoding and nlohmann's equality on the compact encoding (nodes.h).
#include "diff/nodes.h"

#include <cstdint>
#include <cstring>

namespace plumbline::diff {
namespace {
using namespace compact_encoding;  // NOLINT: this file reads the encoding

bool is_number(Tag tag) { return tag == kInt || tag == kUnsigned || tag == kFloat; }

// A scalar decoded (no allocation for a number): numbers of different types compare by
// nlohmann's own operator== (signed, unsigned and float; IEEE floats), not a copy of it.
json scalar_at(const char* at) {
  return decode_value(std::string_view(at, static_cast<size_t>(skip(at) - at)));
}

// Compares the values at `a` and `b`, moving both past them when they are equal.
bool equal_at(const char*& a, const char*& b) {
  auto ta = static_cast<Tag>(*a), tb = static_cast<Tag>(*b);
  if (is_number(ta) && is_number(tb)) {
    bool equal = scalar_at(a) == scalar_at(b);
    a = skip(a);
    b = skip(b);
    return equal;
  }
  if (ta != tb) return false;
  ++a;
  ++b;
  switch (ta) {
    case kNull:
    case kFalse:
    case kTrue:
      return true;
    case kString:
    case kBinary: {
      auto na = read_varint(a), nb = read_varint(b);
      size_t extra = ta == kBinary ? 9 : 0;  // subtype flag and subtype
      if (na != nb || std::memcmp(a, b, static_cast<size_t>(na) + extra) != 0) return false;
      a += na + extra;
      b += nb + extra;
      return true;
    }
    case kArray: {
      auto n = read_varint(a);
      if (n != read_varint(b)) return false;
      for (std::uint64_t i = 0; i < n; ++i) {
        if (!equal_at(a, b)) return false;
      }
      return true;
    }
    case kObject: {  // members in key order on both sides, as std::map compares them
      auto n = read_varint(a);
      if (n != read_varint(b)) return false;
      for (std::uint64_t i = 0; i < n; ++i) {
        auto ka = read_varint(a), kb = read_varint(b);
        if (ka != kb || std::memcmp(a, b, static_cast<size_t>(ka)) != 0) return false;
        a += ka;
        b += kb;
        if (!equal_at(a, b)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

EncodedDocument::EncodedDocument(std::string_view bytes, std::vector<std::uint32_t>& ends)
    : base_(bytes.empty() ? nullptr : bytes.data()), ends_(ends) {
  if (base_ == nullptr) return;  // no value: the root is none
  if (ends_.size() < bytes.size()) ends_.resize(bytes.size());
  index(base_);
}

const char* EncodedDocument::index(const char* at) {
  auto tag = static_cast<Tag>(*at);
  if (tag != kArray && tag != kObject) return compact_encoding::skip(at);
  const char* start = at++;
  for (std::uint64_t i = 0, n = read_varint(at); i < n; ++i) {
    if (tag == kObject) at += read_varint(at);  // the key
    at = index(at);
  }
  ends_[static_cast<size_t>(start - base_)] = static_cast<std::uint32_t>(at - base_);
  return at;
}

const char* EncodedDocument::skip(const char* at) const {
  auto tag = static_cast<Tag>(*at);
  if (tag != kArray && tag != kObject) return compact_encoding::skip(at);
  return base_ + ends_[static_cast<size_t>(at - base_)];
}

EncodedNode EncodedNode::find(std::string_view key) const {
  if (!is_object()) return {};
  const char* at = at_ + 1;
  for (std::uint64_t i = 0, n = read_varint(at); i < n; ++i) {
    auto size = static_cast<size_t>(read_varint(at));
    std::string_view name(at, size);
    at += size;
    if (name == key) return EncodedNode(at, document_);
    if (name > key) return {};  // members are in key order
    at = skip(at);
  }
  return {};
}

json EncodedNode::to_json() const {
  return decode_value(std::string_view(at_, static_cast<size_t>(skip(at_) - at_)));
}

bool operator==(EncodedNode a, EncodedNode b) {
  const char* x = a.at_;
  const char* y = b.at_;
  return equal_at(x, y);
}

}  // namespace plumbline::diff
