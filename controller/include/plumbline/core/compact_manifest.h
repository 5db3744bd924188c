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

class CompactManifest;
using CompactManifestSet = std::vector<CompactManifest>;
namespace compact_encoding {  // compact_encoding.h: writers of the encoding itself
CompactManifest manifest_from_encoding(std::shared_ptr<const std::string> encoded,
                                       SourceLocation origin,
                                       std::shared_ptr<const FieldOrigins> fields);
// The object's encoding, as held (a parse cache writes it to disk).
const std::shared_ptr<const std::string>& encoding_of(const CompactManifest& manifest);
}  // namespace compact_encoding

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

  // The same declaration: the same shared data, or else the same object (encoded bytes),
  // origin, base name and field origins by identity (a re-parsed file's lines may have moved).
  bool same_as(const CompactManifest& other) const;
  bool shares_data(const CompactManifest& other) const { return data_ == other.data_; }

 private:
  friend CompactManifestSet compact(ManifestSet manifests,
                                    const std::vector<CompactManifest>& known);
  friend CompactManifest compact_encoding::manifest_from_encoding(
      std::shared_ptr<const std::string> encoded, SourceLocation origin,
      std::shared_ptr<const FieldOrigins> fields);
  friend const std::shared_ptr<const std::string>& compact_encoding::encoding_of(
      const CompactManifest& manifest);
  CompactManifest() = default;
  struct Data {
    // The object, encoded (compact_manifest.cc); shared with field origins kept in its node
    // order (FieldOrigins::by_node), which read their paths from it.
    std::shared_ptr<const std::string> encoded;
    ObjectRef ref;
    SourceLocation origin;
    std::shared_ptr<const FieldOrigins> fields;
    std::string base_name;
  };
  CompactManifest(const Manifest& manifest, std::string encoded);  // encoded: of manifest.object
  // `held` declares what `m` (its object encoded as `encoded`; m.object unread) declares.
  static bool declares(const Data& held, const Manifest& m, const std::string& encoded);
  std::shared_ptr<const Data> data_;
};

// Encodes every manifest, releasing each tree once it is encoded (the peak stays one set).
CompactManifestSet compact(ManifestSet manifests);
// The same, but a manifest `known` already holds (same_as, found by its field origins) takes
// `known`'s data: the controller's desired state and its parse cache share one set of bytes.
CompactManifestSet compact(ManifestSet manifests, const CompactManifestSet& known);
// Every object decoded (for code that reads a whole environment at once).
ManifestSet materialize(const CompactManifestSet& manifests);

}  // namespace plumbline
