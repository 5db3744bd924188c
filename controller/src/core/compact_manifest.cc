// CompactManifest: a desired object kept as CBOR, decoded one at a time (see the header).
#include "plumbline/core/compact_manifest.h"

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace plumbline {
namespace {

// The encoding: one tag byte per value, then
//   kInt: zigzag varint; kUnsigned: varint; kFloat: the 8 bytes of the double;
//   kString/kBinary: varint length + bytes (kBinary: then a subtype flag byte and 8 bytes);
//   kArray: varint count + values; kObject: varint count + (varint length + key, value)...
// Objects are written in the tree's key order (sorted), so decoding appends at the end of
// each map instead of searching it. Faster to decode than nlohmann's CBOR reader, which reads
// strings a byte at a time.
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

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_raw64(std::string& out, std::uint64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);
  out.append(bytes, 8);
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

void encode(const json& value, std::string& out) {
  switch (value.type()) {
    case json::value_t::boolean:
      out.push_back(value.get<bool>() ? kTrue : kFalse);
      return;
    case json::value_t::number_integer: {
      auto v = value.get<std::int64_t>();
      out.push_back(kInt);
      put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
      return;
    }
    case json::value_t::number_unsigned:
      out.push_back(kUnsigned);
      put_varint(out, value.get<std::uint64_t>());
      return;
    case json::value_t::number_float: {
      double d = value.get<double>();
      std::uint64_t bits;
      std::memcpy(&bits, &d, 8);
      out.push_back(kFloat);
      put_raw64(out, bits);
      return;
    }
    case json::value_t::string:
      out.push_back(kString);
      put_bytes(out, value.get_ref<const std::string&>());
      return;
    case json::value_t::array:
      out.push_back(kArray);
      put_varint(out, value.size());
      for (const json& item : value) encode(item, out);
      return;
    case json::value_t::object:
      out.push_back(kObject);
      put_varint(out, value.size());
      for (const auto& [key, item] : value.items()) {
        put_bytes(out, key);
        encode(item, out);
      }
      return;
    case json::value_t::binary: {
      const json::binary_t& bin = value.get_binary();
      out.push_back(kBinary);
      put_bytes(out, std::string_view(reinterpret_cast<const char*>(bin.data()), bin.size()));
      out.push_back(bin.has_subtype() ? 1 : 0);
      put_raw64(out, bin.has_subtype() ? bin.subtype() : 0);
      return;
    }
    case json::value_t::null:
    case json::value_t::discarded:
      out.push_back(kNull);
      return;
  }
}

// Decodes what encode() wrote (never outside input: these bytes are this class's own).
class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : at_(bytes.data()) {}

  json value() {
    switch (static_cast<Tag>(*at_++)) {
      case kNull:
        return nullptr;
      case kFalse:
        return false;
      case kTrue:
        return true;
      case kInt: {
        std::uint64_t z = varint();
        return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
      }
      case kUnsigned:
        return varint();
      case kFloat: {
        std::uint64_t bits = raw64();
        double d;
        std::memcpy(&d, &bits, 8);
        return d;
      }
      case kString:
        return bytes();
      case kArray: {
        json out = json::array();
        auto& items = out.get_ref<json::array_t&>();
        std::uint64_t n = varint();
        items.reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) items.push_back(value());
        return out;
      }
      case kObject: {
        json out = json::object();
        auto& members = out.get_ref<json::object_t&>();
        std::uint64_t n = varint();
        for (std::uint64_t i = 0; i < n; ++i) {
          std::string key = bytes();
          members.emplace_hint(members.end(), std::move(key), value());
        }
        return out;
      }
      case kBinary: {
        std::string data = bytes();
        bool has_subtype = *at_++ != 0;
        std::uint64_t subtype = raw64();
        json::binary_t::container_type container(data.begin(), data.end());
        return has_subtype ? json::binary(std::move(container), subtype)
                           : json::binary(std::move(container));
      }
    }
    return nullptr;
  }

 private:
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      auto byte = static_cast<unsigned char>(*at_++);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
  }
  std::uint64_t raw64() {
    std::uint64_t v;
    std::memcpy(&v, at_, 8);
    at_ += 8;
    return v;
  }
  std::string bytes() {
    auto n = static_cast<size_t>(varint());
    std::string out(at_, n);
    at_ += n;
    return out;
  }
  const char* at_;
};

}  // namespace

CompactManifest::CompactManifest(const Manifest& manifest) : CompactManifest(manifest, {}) {}

CompactManifest::CompactManifest(const Manifest& manifest, std::string encoded) {
  auto data = std::make_shared<Data>();
  data->encoded = std::move(encoded);
  if (data->encoded.empty()) encode(manifest.object, data->encoded);
  data->encoded.shrink_to_fit();
  data->ref = manifest.ref();
  data->origin = manifest.origin;
  data->fields = manifest.fields;
  data->base_name = manifest.base_name;
  data_ = std::move(data);
}

json CompactManifest::object() const { return Decoder(data_->encoded).value(); }

Manifest CompactManifest::materialize() const {
  return Manifest{.object = object(),
                  .origin = data_->origin,
                  .fields = data_->fields,
                  .base_name = data_->base_name};
}

const std::string& CompactManifest::match_name() const {
  return data_->base_name.empty() ? data_->ref.name : data_->base_name;
}

SourceLocation CompactManifest::locate(std::string_view canonical_path) const {
  auto found = data_->fields ? nearest_origin(*data_->fields, canonical_path) : std::nullopt;
  return found ? *std::move(found) : data_->origin;
}

size_t CompactManifest::memory_bytes() const {
  const Data& d = *data_;
  auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  return sizeof(Data) + heap(d.encoded) + heap(d.ref.api_version) + heap(d.ref.kind) +
         heap(d.ref.ns) + heap(d.ref.name) + heap(d.origin.file) + heap(d.base_name);
}

bool CompactManifest::declares(const Data& held, const Manifest& m, const std::string& encoded) {
  return held.fields == m.fields && held.origin.file == m.origin.file &&
         held.origin.line == m.origin.line && held.origin.column == m.origin.column &&
         held.base_name == m.base_name && held.encoded == encoded;
}

bool CompactManifest::same_as(const CompactManifest& other) const {
  if (data_ == other.data_) return true;
  const Data& b = *other.data_;
  return declares(*data_, {.origin = b.origin, .fields = b.fields, .base_name = b.base_name},
                  b.encoded);
}

CompactManifestSet compact(ManifestSet manifests, const CompactManifestSet& known) {
  // A reused parse shares its field origins with the holder: they find the candidates.
  std::unordered_multimap<const FieldOrigins*, const CompactManifest*> by_fields;
  for (const CompactManifest& m : known) {
    if (m.fields() != nullptr) by_fields.emplace(m.fields().get(), &m);
  }
  CompactManifestSet out;
  out.reserve(manifests.size());
  for (Manifest& m : manifests) {
    std::string encoded;
    encode(m.object, encoded);
    const CompactManifest* shared = nullptr;
    auto [first, last] = by_fields.equal_range(m.fields.get());
    for (auto it = first; it != last && shared == nullptr && m.fields != nullptr; ++it) {
      if (CompactManifest::declares(*it->second->data_, m, encoded)) shared = it->second;
    }
    if (shared != nullptr) {
      out.push_back(*shared);
    } else {
      out.push_back(CompactManifest(m, std::move(encoded)));
    }
    m.object = json();  // the tree goes now, not with the whole set
  }
  return out;
}

CompactManifestSet compact(ManifestSet manifests) {
  CompactManifestSet out;
  out.reserve(manifests.size());
  for (Manifest& m : manifests) {
    out.emplace_back(m);
    m.object = json();  // the tree goes now, not with the whole set
  }
  return out;
}

ManifestSet materialize(const CompactManifestSet& manifests) {
  ManifestSet out;
  out.reserve(manifests.size());
  for (const CompactManifest& m : manifests) out.push_back(m.materialize());
  return out;
}

}  // namespace plumbline
