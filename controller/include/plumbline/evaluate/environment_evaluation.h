// plumbline/evaluate/environment_evaluation.h — the findings of one environment, kept per object.
//
// Pure: no I/O, no clocks. `plumbline diff` evaluates an environment once; the controller
// keeps the evaluation and, when the watch says a few live objects changed, re-evaluates only
// those. Both go through this class, so a report built incrementally is the report a fresh
// evaluation of the same state gives (drifts sorted by object then path; desired-state
// violations in render order, then live-state violations by object).
//
// The desired objects are held compact (core/compact_manifest.h) and materialized one at a
// time while evaluated: a full pass (set_live) decodes each once, a watch event (update_live)
// only the one object. A controller and its evaluation share one set of encoded objects.
//
//   EnvironmentEvaluation evaluation(desired, policies, diff_options_for(policies, "prod"));
//   evaluation.set_live(live);                    // the whole live state
//   evaluation.update_live(ref, &object);         // one object changed
//   evaluation.update_live(ref, nullptr);         // one object deleted
//   evaluation.set_desired(next_render, lookup);  // a new commit: only changed objects again
//   DriftReport report = evaluation.report();     // environment/source left to the caller
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/object.h"
#include "plumbline/core/task_runner.h"
#include "plumbline/diff/drift.h"
#include "plumbline/policy/policy.h"

namespace plumbline {

class EnvironmentEvaluation {
 public:
  // `policies` are the ones that apply to the environment (policies_for); `options` its diff
  // options (diff_options_for), with options.environment set for object-extra findings.
  EnvironmentEvaluation(CompactManifestSet desired, std::vector<Policy> policies,
                        DiffOptions options);
  EnvironmentEvaluation(ManifestSet desired, std::vector<Policy> policies, DiffOptions options)
      : EnvironmentEvaluation(compact(std::move(desired)), std::move(policies),
                              std::move(options)) {}

  // Replaces the whole live state and re-evaluates every object; with `tasks`, objects are
  // evaluated side by side (each object's findings are its own, so the report is the same).
  void set_live(const std::vector<json>& live, TaskRunner* tasks = nullptr);
  // The same from projected objects (live_store.h), each materialized only while it is
  // evaluated: a large live state is never held as whole JSON trees.
  void set_live_projected(const std::vector<LiveObject>& live, TaskRunner* tasks = nullptr);
  // Re-evaluates the object `ref` names (group, kind, namespace, name; the version is not part
  // of an object's identity) with its new live state; nullptr: it is gone.
  void update_live(const ObjectRef& ref, const json* live);

  // The live state of one object (matched by group, kind, namespace and name), nullopt when it
  // is not live: asked only for objects whose desired state changed.
  using LiveLookup = std::function<std::optional<json>(const ObjectRef&)>;
  // Replaces the desired state (a new render) under the same policies and options. An object
  // whose desired manifests are the same as before (CompactManifest::same_as: same object,
  // origin, field origins and base name, in the same order) keeps its findings; objects added,
  // changed or no longer declared are evaluated again with `live`. The report is the one a new
  // evaluation of the new desired state against the same live state gives. Returns the objects
  // evaluated again.
  size_t set_desired(CompactManifestSet desired, const LiveLookup& live);

  DriftReport report() const;
  const CompactManifestSet& desired() const { return desired_; }
  const DiffOptions& options() const { return options_; }
  size_t live_size() const { return live_count_; }

 private:
  // An object's identity for matching Git to the cluster: group, kind, namespace, name.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  static Key key_of(const ObjectRef& ref);

  struct Entry {
    std::vector<size_t> desired;  // indexes into desired_ (normally one)
    bool live = false;
    std::vector<Drift> drifts;               // of this object, policies' ignores applied
    std::vector<Violation> live_violations;  // of its live state
  };
  // Diffs the entry's desired objects against `live`, or against `projected` read from its
  // encoding (neither: missing); an object's desired-state violations are found the first
  // time it is evaluated. A projection is built as a tree only for policy rules and
  // object-extra, and with its metadata.managedFields only when a drift needs its owner
  // (attribute_owners).
  void evaluate(Entry& entry, const json* live, const LiveObject* projected = nullptr);
  // set_live for any list of objects; `as_json(object)` gives the object as JSON, or nullptr
  // for a projection evaluate() reads itself.
  template <typename Object, typename AsJson>
  void set_live_from(const std::vector<Object>& live, AsJson as_json, TaskRunner* tasks);

  CompactManifestSet desired_;
  std::vector<Policy> policies_;
  DiffOptions options_;
  bool checks_objects_ = false;  // whether any policy has rules (else no object is checked)
  // Per desired manifest; nullopt until it is first materialized (report() finds the
  // violations of any not yet evaluated).
  std::vector<std::optional<std::vector<Violation>>> desired_violations_;
  std::map<Key, Entry> entries_;
  size_t live_count_ = 0;
};

// The findings of an environment evaluated once (drift, then policies).
DriftReport evaluate_environment(CompactManifestSet desired, const std::vector<json>& live,
                                 std::vector<Policy> policies, DiffOptions options,
                                 TaskRunner* tasks = nullptr);
DriftReport evaluate_environment_projected(CompactManifestSet desired,
                                           const std::vector<LiveObject>& live,
                                           std::vector<Policy> policies, DiffOptions options,
                                           TaskRunner* tasks = nullptr);
DriftReport evaluate_environment(ManifestSet desired, const std::vector<json>& live,
                                 std::vector<Policy> policies, DiffOptions options);
DriftReport evaluate_environment_projected(ManifestSet desired, const std::vector<LiveObject>& live,
                                           std::vector<Policy> policies, DiffOptions options);

}  // namespace plumbline
