// plumbline/core/compact_manifest.h — a desired object as the controller holds it.
//
// A rendered Manifest's nlohmann tree takes ~30 KB for a 6 KB Deployment; the controller keeps
// every desired object of every Environment between passes, so it keeps them encoded (a
// tag byte per value, varint lengths: ~9x smaller, every value's type kept: 64-bit signed and
// unsigned integers, floats bit for bit, nulls, empty maps and lists, any string bytes) and
// materializes one object at a time while it is diffed, checked or corrected — as the
// LiveCache does for the live side. Identity, origin and field origins stay decoded: reports
// and claims read them without materializing. Immutable and shared: a copy is one pointer, so
// the last good render, the evaluation and a render cache hold one set of bytes.
//
//   CompactManifestSet held = compact(std::move(rendered));   // frees each tree as it goes
//   Manifest m = held[0].materialize();                       // equals the rendered one
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline {

class CompactManifest {
 public:
  explicit CompactManifest(const Manifest& manifest);

  // The Manifest as rendered: its object decoded, origin, field origins and base name.
  Manifest materialize() const;
  json object() const;  // the object alone

  const ObjectRef& ref() const { return data_->ref; }
  const SourceLocation& origin() const { return data_->origin; }
  const std::shared_ptr<const FieldOrigins>& fields() const { return data_->fields; }
  // As Manifest::match_name and Manifest::locate, without materializing.
  const std::string& match_name() const;
  SourceLocation locate(std::string_view canonical_path) const;

  // Heap bytes held (the encoded object, identity, origin; not the shared field origins).
  size_t memory_bytes() const;

 private:
  struct Data {
    std::string encoded;  // the object, encoded (compact_manifest.cc)
    ObjectRef ref;
    SourceLocation origin;
    std::shared_ptr<const FieldOrigins> fields;
    std::string base_name;
  };
  std::shared_ptr<const Data> data_;
};

using CompactManifestSet = std::vector<CompactManifest>;

// Encodes every manifest, releasing each tree once it is encoded (the peak stays one set).
CompactManifestSet compact(ManifestSet manifests);
// Every object decoded (for code that reads a whole environment at once).
ManifestSet materialize(const CompactManifestSet& manifests);

}  // namespace plumbline
