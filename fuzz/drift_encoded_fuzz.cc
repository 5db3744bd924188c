// libFuzzer target, differential: a pair diffed from its encodings (diff_encoded, as a full pass
// reads it) must give what diff_object gives on the trees — the same drifts, values and
// sources, owners aside — and a projection's encoding must be its tree's. Any difference traps.
//
// With DRIFT_ENCODED_FUZZ_SUMMARY set, prints at exit how many pairs were compared and how many
// drifted (the replay test checks that its generated pairs were compared, not skipped).
//
// Input: the desired object (YAML), a line "%%%", the live object as JSON text (a projection's
// text: duplicate keys and any key order allowed). The first byte picks the options: strict
// categories, a narrower scope, an environment.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/yaml.h"
#include "plumbline/diff/drift.h"

namespace {

plumbline::DiffOptions options_for(unsigned char flags) {
  using plumbline::Category;
  plumbline::DiffOptions options;
  if (flags & 1) options.scope = plumbline::all_categories();
  if (flags & 2) options.strict = {Category::kEnv, Category::kResources, Category::kLabels};
  if (flags & 4) options.environment = "prod";
  return options;
}

std::string drifts_text(const std::vector<plumbline::Drift>& drifts) {
  std::string out;
  for (const plumbline::Drift& d : drifts) {
    out += d.object.to_string() + '|' + d.path + '|' + std::string(to_string(d.category)) + '|' +
           std::string(to_string(d.type)) + '|' + d.desired.dump() + '|' + d.live.dump() + '|' +
           d.source.to_string() + '\n';
  }
  return out;
}

struct Summary {
  size_t compared = 0;
  size_t drifted = 0;
  ~Summary() {
    if (std::getenv("DRIFT_ENCODED_FUZZ_SUMMARY") != nullptr) {
      std::printf("compared %zu pairs, %zu with drifts\n", compared, drifted);
    }
  }
};
Summary summary;  // NOLINT: a fuzz target's process-wide count, printed at exit

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = text.find("\n%%%\n");
  if (cut == std::string_view::npos) return 0;
  auto desired = plumbline::parse_yaml(text.substr(0, cut), "desired.yaml");
  if (!desired.ok() || !desired->is_object()) return 0;

  plumbline::LiveObject live;
  live.projection = std::string(text.substr(cut + 5));
  for (auto mode : {plumbline::LiveObject::ManagedFields::kKept,
                    plumbline::LiveObject::ManagedFields::kLeftOut}) {
    std::string expected, encoded;
    plumbline::compact_encoding::encode_value(live.to_json(mode), expected);
    live.encode(encoded, mode);
    if (encoded != expected) __builtin_trap();
  }

  plumbline::Manifest manifest;
  manifest.object = std::move(*desired);
  manifest.origin = {"desired.yaml", 1, 1};
  plumbline::DiffOptions options = options_for(data[0]);
  plumbline::json live_tree = live.to_json(plumbline::LiveObject::ManagedFields::kLeftOut);
  std::string live_encoded;
  live.encode(live_encoded, plumbline::LiveObject::ManagedFields::kLeftOut);
  auto on_trees = plumbline::diff_object(manifest, live_tree, options);
  auto on_encodings =
      plumbline::diff_encoded(plumbline::CompactManifest(manifest), live_encoded, options);
  if (drifts_text(on_trees) != drifts_text(on_encodings)) __builtin_trap();
  ++summary.compared;
  summary.drifted += on_trees.empty() ? 0 : 1;
  return 0;
}
