// The passes that evaluate an Environment (full, scheduled, desired, incremental), and the live
// object a pass matches with a desired one.
#include <malloc.h>

#include <algorithm>
#include <set>

#include "plumbline/core/desired_scope.h"
#include "plumbline/core/rfc3339.h"
#include "plumbline/core/sanitizers.h"
#include "plumbline/reconcile/controller.h"

namespace plumbline {
using Clock = std::chrono::steady_clock;

// The live object a full pass would match with `ref` (same group, kind, namespace and name, in
// one of the Environment's namespaces, under the version the cache watches), if any.
std::optional<json> Controller::live_workload(const EnvironmentSpec& spec,
                                              const ObjectRef& ref) const {
  if (std::find(spec.namespaces.begin(), spec.namespaces.end(), ref.ns) == spec.namespaces.end()) {
    return std::nullopt;
  }
  for (const WatchedKind& k : workload_kinds()) {
    if (k.kind != ref.kind || api_group(k.api_version) != api_group(ref.api_version)) continue;
    if (std::optional<json> live = workloads_->object({k.api_version, k.kind, ref.ns, ref.name})) {
      return live;
    }
  }
  return std::nullopt;
}

// The report of the environment's current state. Other policies (or a scheduled validation)
// evaluate every object; a new render evaluates the objects whose desired state changed; the
// live objects the watch reported changed since the last pass are diffed again.
DriftReport Controller::evaluate(const std::string& name, const EnvironmentSpec& spec,
                                 EnvState& state, const std::vector<Policy>& policies,
                                 const std::string& fingerprint) {
  // Taken before the cache is read: a change landing after this is evaluated next pass.
  std::set<ObjectRef> changed;
  {
    std::lock_guard lock(mu_);
    auto it = changed_.find(name);
    if (it != changed_.end()) {
      changed = std::move(it->second);
      changed_.erase(it);
    }
  }
  // A new spec (other namespaces, say) changes which live objects are the environment's: full.
  bool full = !state.evaluation || state.evaluated_policies != fingerprint ||
              state.evaluated_generation != state.synced_generation;
  // Scheduled full validation: a missed watch event cannot hide drift for longer than this.
  Clock::time_point now = Clock::now();
  bool scheduled = !full && now >= state.next_validation;
  // Desired objects of kinds the workload cache does not watch are not compared (like a
  // snapshot file that lacks them).
  KindCoverage watched;
  for (const WatchedKind& k : workload_kinds()) watched.kinds.insert(k.kind);
  auto covered = [&] {
    CompactManifestSet out;  // shares the objects with state.desired
    for (const CompactManifest& m : *state.desired) {
      if (watched.covers_kind(m.ref().kind)) out.push_back(m);
    }
    return out;
  };
  if (full || scheduled) {
    state.next_validation = now + spec.validation_interval;
    state.last_validation_time = rfc3339(std::chrono::system_clock::now());
    queue_.add_after(name, spec.validation_interval);
    DiffOptions options = diff_options_for(policies, name);
    options.environment = name;
    size_t evaluated = 0;
    {
      // Projected, as the cache keeps them: each is materialized only while it is evaluated.
      // Copies of the cache's projections, freed when this pass ends.
      std::vector<LiveObject> live;
      for (const std::string& ns : spec.namespaces) {
        for (LiveObject& o : workloads_->projected(ns)) live.push_back(std::move(o));
      }
      state.evaluated_versions.clear();
      for (const LiveObject& o : live) state.evaluated_versions[o.ref] = o.resource_version;
      state.evaluation.emplace(covered(), policies, std::move(options));
      state.evaluation->set_live_projected(live, options_.tasks);
      evaluated = live.size();
    }
    state.evaluated_version = state.desired_version;
    state.evaluated_policies = fingerprint;
    state.evaluated_generation = state.synced_generation;
    // The render's trees and this pass's copies of the projections (as large as the cache) are
    // freed by now, scattered through the heap: give their pages back, so the resident size
    // between passes is what is held. Not under ASan: glibc's malloc_trim then walks arenas it
    // never set up (a SEGV in mtrim, seen in CI).
    if constexpr (!kAddressSanitizer) malloc_trim(0);
    if (hooks_.on_evaluated) hooks_.on_evaluated(name, scheduled ? "scheduled" : "full", evaluated);
    log_.debug("evaluated", {{"environment", name},
                             {"pass", scheduled ? "scheduled" : "full"},
                             {"objects", evaluated},
                             {"revision", state.source.revision}});
  } else if (state.evaluated_version != state.desired_version) {
    // A new render under the same policies: objects whose manifests did not change keep their
    // findings; the others are evaluated against the cache as it is now.
    size_t evaluated = state.evaluation->set_desired(covered(), [&](const ObjectRef& ref) {
      std::optional<json> live = live_workload(spec, ref);
      if (live) {
        state.evaluated_versions[ObjectRef::of(*live)] = resource_version(*live);
      } else {
        state.evaluated_versions.erase(ref);
      }
      return live;
    });
    state.evaluated_version = state.desired_version;
    if (hooks_.on_evaluated) hooks_.on_evaluated(name, "desired", evaluated);
    log_.debug("evaluated", {{"environment", name},
                             {"pass", "desired"},
                             {"objects", evaluated},
                             {"revision", state.source.revision}});
  }
  if (!full && !scheduled && !changed.empty()) {
    for (const ObjectRef& ref : changed) {
      std::optional<json> live = workloads_->object(ref);
      if (live) {
        state.evaluated_versions[ref] = resource_version(*live);
      } else {
        state.evaluated_versions.erase(ref);
      }
      state.evaluation->update_live(ref, live ? &*live : nullptr);
    }
    if (hooks_.on_evaluated) hooks_.on_evaluated(name, "incremental", changed.size());
    log_.debug("evaluated", {{"environment", name},
                             {"pass", "incremental"},
                             {"objects", changed.size()},
                             {"revision", state.source.revision}});
  }
  DriftReport report = state.evaluation->report();
  report.environment = name;
  report.source = state.source;
  report.warnings = state.render_warnings;
  return report;
}

}  // namespace plumbline
