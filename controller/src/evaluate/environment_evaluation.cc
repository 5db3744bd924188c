// EnvironmentEvaluation: drift and policy findings of one environment, kept per object so the
// controller re-evaluates only the objects the watch reports changed.
#include "plumbline/evaluate/environment_evaluation.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace plumbline {
namespace {

ObjectRef ref_of(const json& object) { return ObjectRef::of(object); }
const ObjectRef& ref_of(const LiveObject& object) { return object.ref; }
// The projection a live object's JSON was materialized from (without its managedFields).
const LiveObject* projected_source(const json&) { return nullptr; }
const LiveObject* projected_source(const LiveObject& object) { return &object; }

}  // namespace

EnvironmentEvaluation::EnvironmentEvaluation(CompactManifestSet desired,
                                             std::vector<Policy> policies, DiffOptions options)
    : desired_(std::move(desired)),
      policies_(std::move(policies)),
      options_(std::move(options)),
      checks_objects_(std::any_of(policies_.begin(), policies_.end(),
                                  [](const Policy& p) { return p.rules.any(); })) {
  desired_violations_.resize(desired_.size());
  for (size_t i = 0; i < desired_.size(); ++i) {
    Entry& entry = entries_[key_of(desired_[i].ref())];
    entry.desired.push_back(i);
    // Missing until the live state says otherwise; nothing materialized yet.
    entry.drifts.push_back(object_missing(desired_[i].ref(), desired_[i].origin()));
  }
  for (auto& [key, entry] : entries_) mark_ignored(entry.drifts, policies_);
}

EnvironmentEvaluation::Key EnvironmentEvaluation::key_of(const ObjectRef& ref) {
  return {api_group(ref.api_version), ref.kind, ref.ns, ref.name};
}

void EnvironmentEvaluation::evaluate(Entry& entry, const json* live, const LiveObject* projected) {
  entry.drifts.clear();
  entry.live_violations.clear();
  entry.live = live != nullptr || projected != nullptr;
  // A projection is diffed from its encoding, and built as a tree only for what reads one: a
  // policy rule, or an object Git does not declare (object-extra reads its labels).
  std::optional<json> built;
  auto live_tree = [&]() -> const json& {
    if (live != nullptr) return *live;
    if (!built) built = projected->to_json(LiveObject::ManagedFields::kLeftOut);
    return *built;
  };
  thread_local std::string live_encoded;
  if (projected != nullptr && !entry.desired.empty()) {
    live_encoded.clear();
    projected->encode(live_encoded, LiveObject::ManagedFields::kLeftOut);
  }
  for (size_t i : entry.desired) {
    const CompactManifest& held = desired_[i];
    if (!entry.live) entry.drifts.push_back(object_missing(held.ref(), held.origin()));
    if (!entry.live && desired_violations_[i]) continue;
    std::optional<Manifest> desired;  // materialized once per object and pass, if at all
    auto desired_tree = [&]() -> const Manifest& {
      if (!desired) desired = held.materialize();
      return *desired;
    };
    if (!desired_violations_[i]) {
      desired_violations_[i] = checks_objects_ ? desired_violations(desired_tree(), policies_)
                                               : std::vector<Violation>{};
    }
    if (!entry.live) continue;
    std::vector<Drift> found = projected != nullptr ? diff_encoded(held, live_encoded, options_)
                                                    : diff_object(desired_tree(), *live, options_);
    entry.drifts.insert(entry.drifts.end(), std::make_move_iterator(found.begin()),
                        std::make_move_iterator(found.end()));
  }
  if (projected != nullptr &&
      std::any_of(entry.drifts.begin(), entry.drifts.end(), has_live_owner)) {
    attribute_owners(entry.drifts, projected->to_json());
  }
  if (entry.live) {
    if (entry.desired.empty()) {
      if (std::optional<Drift> extra = object_extra(live_tree(), options_)) {
        entry.drifts.push_back(std::move(*extra));
      }
    }
    if (checks_objects_) entry.live_violations = live_violations(live_tree(), policies_);
    // A live-state violation points at where Git declares the field (or the object), so a
    // report line and a code-scanning alert both lead to the manifest to look at.
    if (!entry.desired.empty()) {
      for (Violation& v : entry.live_violations) {
        if (!v.source.known()) v.source = desired_[entry.desired.front()].locate(v.path);
      }
    }
  }
  mark_ignored(entry.drifts, policies_);
}

template <typename Object, typename AsJson>
void EnvironmentEvaluation::set_live_from(const std::vector<Object>& live, AsJson as_json,
                                          TaskRunner* tasks) {
  std::map<Key, const Object*> by_key;
  for (const Object& object : live) by_key.emplace(key_of(ref_of(object)), &object);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.desired.empty() && !by_key.count(it->first) ? entries_.erase(it) : ++it;
  }
  for (const auto& [key, object] : by_key) entries_[key];
  // Each entry's evaluation writes only the entry and its own desired_violations_ slots, so
  // slices of entries can be evaluated at once.
  std::vector<std::pair<Entry*, const Object*>> work;
  work.reserve(entries_.size());
  for (auto& [key, entry] : entries_) {
    auto found = by_key.find(key);
    work.emplace_back(&entry, found == by_key.end() ? nullptr : found->second);
  }
  run_in_slices(tasks, work.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      auto [entry, object] = work[i];
      if (object == nullptr) {
        evaluate(*entry, nullptr);
      } else {
        evaluate(*entry, as_json(*object), projected_source(*object));
      }
    }
  });
  live_count_ = by_key.size();
}

void EnvironmentEvaluation::set_live(const std::vector<json>& live, TaskRunner* tasks) {
  set_live_from(
      live, [](const json& object) { return &object; }, tasks);
}

void EnvironmentEvaluation::set_live_projected(const std::vector<LiveObject>& live,
                                               TaskRunner* tasks) {
  // evaluate() reads each projection itself (its encoding, and a tree only where needed).
  set_live_from(
      live, [](const LiveObject&) -> const json* { return nullptr; }, tasks);
}

void EnvironmentEvaluation::update_live(const ObjectRef& ref, const json* live) {
  Key key = key_of(ref);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (live == nullptr) return;  // gone, and never known
    it = entries_.emplace(std::move(key), Entry{}).first;
  }
  Entry& entry = it->second;
  if (entry.live) --live_count_;
  evaluate(entry, live);
  if (entry.live) ++live_count_;
  if (!entry.live && entry.desired.empty()) entries_.erase(it);
}

size_t EnvironmentEvaluation::set_desired(CompactManifestSet desired, const LiveLookup& live) {
  CompactManifestSet old_desired = std::exchange(desired_, std::move(desired));
  auto old_violations = std::exchange(desired_violations_, {});
  std::map<Key, Entry> old = std::exchange(entries_, {});
  desired_violations_.resize(desired_.size());
  for (size_t i = 0; i < desired_.size(); ++i) {
    entries_[key_of(desired_[i].ref())].desired.push_back(i);
  }
  size_t evaluated = 0;
  auto evaluate_again = [&](Entry& entry, const ObjectRef& ref) {
    std::optional<json> object = live(ref);
    evaluate(entry, object ? &*object : nullptr);
    ++evaluated;
  };
  for (auto& [key, entry] : entries_) {
    auto before = old.find(key);
    bool same = before != old.end() && before->second.desired.size() == entry.desired.size();
    for (size_t k = 0; same && k < entry.desired.size(); ++k) {
      // An unchanged file's objects are shared with the last render: usually a pointer compare.
      same = old_desired[before->second.desired[k]].same_as(desired_[entry.desired[k]]);
    }
    if (same) {
      for (size_t k = 0; k < entry.desired.size(); ++k) {
        desired_violations_[entry.desired[k]] =
            std::move(old_violations[before->second.desired[k]]);
      }
      entry.live = before->second.live;
      entry.drifts = std::move(before->second.drifts);
      entry.live_violations = std::move(before->second.live_violations);
    } else {  // its desired-state violations are found as evaluate() materializes it
      evaluate_again(entry, desired_[entry.desired.front()].ref());
    }
    if (before != old.end()) old.erase(before);
  }
  // What Git no longer declares: a live object stays (object-extra if labelled), evaluated
  // again; objects known only live keep their findings.
  for (auto& [key, entry] : old) {
    if (entry.desired.empty()) {
      entries_.emplace(key, std::move(entry));
    } else if (entry.live) {
      Entry fresh;
      evaluate_again(fresh, old_desired[entry.desired.front()].ref());
      if (fresh.live) entries_.emplace(key, std::move(fresh));
    }
  }
  live_count_ = 0;
  for (const auto& [key, entry] : entries_) live_count_ += entry.live ? 1 : 0;
  return evaluated;
}

DriftReport EnvironmentEvaluation::report() const {
  DriftReport report;
  report.objects = desired_.size();
  for (const auto& [key, entry] : entries_) {
    report.drifts.insert(report.drifts.end(), entry.drifts.begin(), entry.drifts.end());
  }
  sort_drifts(report.drifts);
  for (size_t i = 0; i < desired_.size(); ++i) {
    const std::optional<std::vector<Violation>>& found = desired_violations_[i];
    std::vector<Violation> now = found || !checks_objects_
                                     ? std::vector<Violation>{}
                                     : desired_violations(desired_[i].materialize(), policies_);
    const std::vector<Violation>& violations = found ? *found : now;
    report.violations.insert(report.violations.end(), violations.begin(), violations.end());
  }
  for (const auto& [key, entry] : entries_) {
    report.violations.insert(report.violations.end(), entry.live_violations.begin(),
                             entry.live_violations.end());
  }
  return report;
}

DriftReport evaluate_environment(CompactManifestSet desired, const std::vector<json>& live,
                                 std::vector<Policy> policies, DiffOptions options,
                                 TaskRunner* tasks) {
  EnvironmentEvaluation evaluation(std::move(desired), std::move(policies), std::move(options));
  evaluation.set_live(live, tasks);
  return evaluation.report();
}

DriftReport evaluate_environment_projected(CompactManifestSet desired,
                                           const std::vector<LiveObject>& live,
                                           std::vector<Policy> policies, DiffOptions options,
                                           TaskRunner* tasks) {
  EnvironmentEvaluation evaluation(std::move(desired), std::move(policies), std::move(options));
  evaluation.set_live_projected(live, tasks);
  return evaluation.report();
}

DriftReport evaluate_environment(ManifestSet desired, const std::vector<json>& live,
                                 std::vector<Policy> policies, DiffOptions options) {
  return evaluate_environment(compact(std::move(desired)), live, std::move(policies),
                              std::move(options));
}

DriftReport evaluate_environment_projected(ManifestSet desired, const std::vector<LiveObject>& live,
                                           std::vector<Policy> policies, DiffOptions options) {
  return evaluate_environment_projected(compact(std::move(desired)), live, std::move(policies),
                                        std::move(options));
}

}  // namespace plumbline
