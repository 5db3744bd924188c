// Helpers shared by the drift and compare tests: YAML in, findings as comparable JSON out.
#pragma once

#include <gtest/gtest.h>

#include <string>

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

}  // namespace plumbline::testing
