// Helpers shared by the drift and compare tests: YAML in, findings as comparable JSON out.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/yaml.h"
#include "plumbline/diff/drift.h"

namespace plumbline::testing {

inline json yaml(std::string_view text) {
  auto parsed = parse_yaml(text, "test.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? *parsed : json();
}

inline Manifest manifest(std::string_view text, std::string base_name = {}) {
  Manifest m;
  m.object = yaml(text);
  m.origin = {"test.yaml", 1, 1};
  m.base_name = std::move(base_name);
  return m;
}

// The golden form: object, path, category, type, desired, live, liveManager/liveChangedAt.
inline json to_json(const Drift& d) {
  json out = {{"object", d.object.to_json()},
              {"path", d.path},
              {"category", std::string(to_string(d.category))},
              {"type", std::string(to_string(d.type))},
              {"desired", d.desired},
              {"live", d.live}};
  if (!d.live_manager.empty()) out["liveManager"] = d.live_manager;
  if (!d.live_changed_at.empty()) out["liveChangedAt"] = d.live_changed_at;
  return out;
}

inline json to_json(const std::vector<Drift>& drifts) {
  json out = json::array();
  for (const Drift& d : drifts) out.push_back(to_json(d));
  return out;
}

// Short form for unit tests: path, type, desired, live (the object is asserted separately).
inline json brief(const std::vector<Drift>& drifts) {
  json out = json::array();
  for (const Drift& d : drifts) {
    out.push_back({d.path, std::string(to_string(d.category)), std::string(to_string(d.type)),
                   d.desired, d.live});
  }
  return out;
}

// diff_object, checked against diff_encoded on the same pair read from encodings (the desired
// object as a CompactManifest holds it, the live one as a projection's text), as a full pass
// reads it: the same drifts and sources, owners aside (diff_encoded leaves them out).
inline std::vector<Drift> diff_object_checked(const Manifest& desired, const json& live,
                                              const DiffOptions& options = {}) {
  std::vector<Drift> drifts = diff_object(desired, live, options);
  LiveObject projected;
  projected.projection = live.dump();
  std::string live_encoded;
  projected.encode(live_encoded, LiveObject::ManagedFields::kLeftOut);
  std::vector<Drift> encoded = diff_encoded(CompactManifest(desired), live_encoded, options);
  std::vector<Drift> expected = drifts;
  for (Drift& d : expected) d.live_manager = d.live_changed_at = "";
  EXPECT_EQ(to_json(encoded), to_json(expected)) << "diff_encoded differs from diff_object";
  for (size_t i = 0; i < std::min(encoded.size(), expected.size()); ++i) {
    EXPECT_EQ(encoded[i].source.to_string(), expected[i].source.to_string()) << expected[i].path;
  }
  return drifts;
}

}  // namespace plumbline::testing
