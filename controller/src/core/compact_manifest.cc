// CompactManifest: a desired object kept as CBOR, decoded one at a time (see the header).
#include "plumbline/core/compact_manifest.h"

#include <utility>

namespace plumbline {

CompactManifest::CompactManifest(const Manifest& manifest) {
  auto data = std::make_shared<Data>();
  std::vector<std::uint8_t> bytes = json::to_cbor(manifest.object);
  data->encoded.assign(bytes.begin(), bytes.end());
  data->ref = manifest.ref();
  data->origin = manifest.origin;
  data->fields = manifest.fields;
  data->base_name = manifest.base_name;
  data_ = std::move(data);
}

json CompactManifest::object() const {
  // Bytes this class encoded itself: decoding cannot fail.
  return json::from_cbor(data_->encoded);
}

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
