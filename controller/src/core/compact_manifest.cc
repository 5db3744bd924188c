// CompactManifest: a desired object kept as CBOR, decoded one at a time (see the header).
#include "plumbline/core/compact_manifest.h"

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/memory_estimate.h"

namespace plumbline {
using namespace compact_encoding;  // NOLINT: this file is the encoding's home
namespace {

void put_raw64(std::string& out, std::uint64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);
  out.append(bytes, 8);
}

}  // namespace

void compact_encoding::encode_value(const json& value, std::string& out) {
  switch (value.type()) {
    case json::value_t::boolean:
      out.push_back(value.get<bool>() ? kTrue : kFalse);
      return;
    case json::value_t::number_integer: {
      auto v = value.get<std::int64_t>();
      out.push_back(kInt);
      put_zigzag(out, v);
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
      for (const json& item : value) encode_value(item, out);
      return;
    case json::value_t::object:
      out.push_back(kObject);
      put_varint(out, value.size());
      for (const auto& [key, item] : value.items()) {
        put_bytes(out, key);
        encode_value(item, out);
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

std::uint64_t compact_encoding::read_varint(const char*& at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    auto byte = static_cast<unsigned char>(*at++);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return v;
  }
}

bool compact_encoding::read_varint_within(const char*& at, const char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at == end) return false;
    auto byte = static_cast<unsigned char>(*at++);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

std::int64_t compact_encoding::read_zigzag(const char*& at) { return from_zigzag(read_varint(at)); }

namespace {

// Decodes what encode_value() wrote (never outside input: these bytes are this class's own).
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
      case kInt:
        return read_zigzag(at_);
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
  std::uint64_t varint() { return read_varint(at_); }
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

json compact_encoding::decode_value(std::string_view bytes) { return Decoder(bytes).value(); }

const char* compact_encoding::skip(const char* at, size_t* nodes) {
  if (nodes != nullptr) ++*nodes;
  auto varint = [&at] { return read_varint(at); };
  switch (static_cast<Tag>(*at++)) {
    case kNull:
    case kFalse:
    case kTrue:
      return at;
    case kInt:
    case kUnsigned:
      varint();
      return at;
    case kFloat:
      return at + 8;
    case kString: {
      auto n = varint();
      return at + n;
    }
    case kBinary: {
      auto n = varint();
      return at + n + 9;
    }
    case kArray: {
      for (std::uint64_t i = 0, n = varint(); i < n; ++i) at = skip(at, nodes);
      return at;
    }
    case kObject: {
      for (std::uint64_t i = 0, n = varint(); i < n; ++i) {
        auto key = varint();
        at = skip(at + key, nodes);
      }
      return at;
    }
  }
  return at;
}

std::optional<std::string_view> compact_encoding::member(std::string_view object,
                                                         std::string_view key) {
  if (object.empty() || object[0] != kObject) return std::nullopt;
  const char* at = object.data() + 1;
  const char* end = object.data() + object.size();
  auto varint = [&at] { return read_varint(at); };
  for (std::uint64_t i = 0, n = varint(); i < n; ++i) {
    auto size = static_cast<size_t>(varint());
    std::string_view name(at, size);
    at += size;
    if (name == key) return std::string_view(at, static_cast<size_t>(end - at));
    at = skip(at);
  }
  return std::nullopt;
}

std::optional<std::string_view> compact_encoding::string_member(std::string_view object,
                                                                std::string_view key) {
  std::optional<std::string_view> value = member(object, key);
  if (!value || (*value)[0] != kString) return std::nullopt;
  const char* at = value->data() + 1;
  std::uint64_t size = read_varint(at);
  return std::string_view(at, static_cast<size_t>(size));
}

CompactManifest compact_encoding::manifest_from_encoding(
    std::shared_ptr<const std::string> encoded, SourceLocation origin,
    std::shared_ptr<const FieldOrigins> fields) {
  auto data = std::make_shared<CompactManifest::Data>();
  std::string_view object = *encoded;
  auto text = [&](std::string_view in, std::string_view key) {
    return std::string(string_member(in, key).value_or(std::string_view{}));
  };
  data->ref.api_version = text(object, "apiVersion");
  data->ref.kind = text(object, "kind");
  if (std::optional<std::string_view> meta = member(object, "metadata")) {
    data->ref.ns = text(*meta, "namespace");
    data->ref.name = text(*meta, "name");
  }
  data->encoded = std::move(encoded);
  data->origin = std::move(origin);
  data->fields = std::move(fields);
  CompactManifest out;
  out.data_ = std::move(data);
  return out;
}

const std::shared_ptr<const std::string>& compact_encoding::encoding_of(
    const CompactManifest& manifest) {
  return manifest.data_->encoded;
}

CompactManifest::CompactManifest(const Manifest& manifest) : CompactManifest(manifest, {}) {}

CompactManifest::CompactManifest(const Manifest& manifest, std::string encoded) {
  auto data = std::make_shared<Data>();
  if (encoded.empty()) encode_value(manifest.object, encoded);
  encoded.shrink_to_fit();
  data->encoded = std::make_shared<const std::string>(std::move(encoded));
  data->ref = manifest.ref();
  data->origin = manifest.origin;
  data->fields = manifest.fields;
  data->base_name = manifest.base_name;
  data_ = std::move(data);
}

json CompactManifest::object() const { return Decoder(*data_->encoded).value(); }

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
  // The encoding's string and its share counts, in one block (make_shared).
  return sizeof(Data) + sizeof(std::string) + kSharedCountBytes + heap_bytes(*d.encoded) +
         heap_bytes(d.ref.api_version) + heap_bytes(d.ref.kind) + heap_bytes(d.ref.ns) +
         heap_bytes(d.ref.name) + heap_bytes(d.origin.file) + heap_bytes(d.base_name);
}

bool CompactManifest::declares(const Data& held, const Manifest& m, const std::string& encoded) {
  return held.fields == m.fields && held.origin.file == m.origin.file &&
         held.origin.line == m.origin.line && held.origin.column == m.origin.column &&
         held.base_name == m.base_name && *held.encoded == encoded;
}

bool CompactManifest::same_as(const CompactManifest& other) const {
  if (data_ == other.data_) return true;
  const Data& b = *other.data_;
  return declares(*data_, {.origin = b.origin, .fields = b.fields, .base_name = b.base_name},
                  *b.encoded);
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
    encode_value(m.object, encoded);
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
