// review_pull_request: base → head per environment with compare's walk, the live state of
// each changed field from the drift of both revisions, desired-state violations the PR adds or
// removes, and the cross-environment differences it creates or removes.
#include "plumbline/review/pr_review.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "plumbline/diff/compare.h"
#include "plumbline/evaluate/environment_evaluation.h"

namespace plumbline {
namespace {

constexpr char kSep = '\x1f';

std::string object_key(std::string_view kind, std::string_view name) {
  return std::string(kind) + kSep + std::string(name);
}

// `outer` is `inner` or one of its ancestors in canonical path syntax.
bool related(std::string_view outer, std::string_view inner) {
  if (outer.empty()) return inner.empty();
  if (!inner.starts_with(outer)) return false;
  return inner.size() == outer.size() || inner[outer.size()] == '.' || inner[outer.size()] == '[';
}

// Live drift of one revision, by object (kind, namespace, name).
class DriftIndex {
 public:
  explicit DriftIndex(const std::vector<Drift>& drifts) {
    for (const Drift& d : drifts) by_object_[key(d.object)].push_back(&d);
  }
  // The first drift at `path`, inside it or around it (a whole env element around its
  // value); for an empty path, any drift of the object.
  const Drift* find(const ObjectRef& ref, std::string_view path) const {
    auto it = by_object_.find(key(ref));
    if (it == by_object_.end()) return nullptr;
    for (const Drift* d : it->second) {
      if (related(d->path, path) || related(path, d->path)) return d;
    }
    return nullptr;
  }
  bool object_missing(const ObjectRef& ref) const {
    auto it = by_object_.find(key(ref));
    if (it == by_object_.end()) return false;
    for (const Drift* d : it->second) {
      if (d->type == DriftType::kObjectMissing) return true;
    }
    return false;
  }

 private:
  static std::string key(const ObjectRef& r) { return r.kind + kSep + r.ns + kSep + r.name; }
  std::map<std::string, std::vector<const Drift*>> by_object_;
};

DiffOptions options_for(const std::vector<Policy>& policies, const std::string& environment,
                        const std::vector<Category>& scope) {
  DiffOptions options = diff_options_for(policies, environment);
  if (!scope.empty()) options.scope = scope;
  return options;
}

std::map<std::string, ObjectRef> refs_by_match_name(const ManifestSet& set) {
  std::map<std::string, ObjectRef> out;
  for (const Manifest& m : set) out.emplace(object_key(m.ref().kind, m.match_name()), m.ref());
  return out;
}

// Desired-state violations keyed by object (kind, base name), rule, path and policy: the
// message carries values, so a violation the PR only changes the value of is kept, not new.
std::map<std::string, Violation> violations_by_key(const ManifestSet& set,
                                                   const std::vector<Policy>& policies) {
  std::map<std::string, Violation> out;
  for (const Manifest& m : set) {
    for (Violation& v : desired_violations(m, policies)) {
      std::string key = object_key(m.ref().kind, m.match_name()) + kSep + v.rule + kSep + v.path +
                        kSep + v.policy;
      out.emplace(std::move(key), std::move(v));
    }
  }
  return out;
}

void set_live_state(FieldChange& change, const DriftIndex& base, const DriftIndex& head,
                    const ObjectRef& base_ref, const ObjectRef& head_ref) {
  const Difference& d = change.change;
  const bool declared_base = !d.a.is_null() && d.type != DifferenceType::kOnlyInB;
  const bool declared_head = !d.b.is_null() && d.type != DifferenceType::kOnlyInA;
  if (d.path.empty()) {  // a whole object added or removed
    const bool missing = d.type == DifferenceType::kOnlyInB ? head.object_missing(head_ref)
                                                            : base.object_missing(base_ref);
    change.live_state = missing                              ? LiveState::kObjectMissing
                        : d.type == DifferenceType::kOnlyInB ? LiveState::kAlreadyHead
                                                             : LiveState::kAsBase;
    return;
  }
  if (declared_head ? head.object_missing(head_ref) : base.object_missing(base_ref)) {
    change.live_state = LiveState::kObjectMissing;
    return;
  }
  const Drift* at_head =
      declared_head || d.type == DifferenceType::kOnlyInA ? head.find(head_ref, d.path) : nullptr;
  const Drift* at_base = base.find(base_ref, d.path);
  if (declared_head && at_head == nullptr) {
    change.live_state = LiveState::kAlreadyHead;
  } else if (declared_base && at_base == nullptr) {
    change.live_state = LiveState::kAsBase;
  } else if (at_head != nullptr || at_base != nullptr) {
    const Drift* seen = at_head != nullptr ? at_head : at_base;
    // The cluster lacks a field the base lacks too: it is as the base has it (not there).
    change.live_state =
        seen->live.is_null() && !declared_base ? LiveState::kAsBase : LiveState::kDiffers;
    change.live = seen->live;
  } else {
    return;  // neither revision's drift walk compares this field
  }
  const Drift* owner = at_base != nullptr ? at_base : at_head;
  if (owner != nullptr) {
    change.live_manager = owner->live_manager;
    change.live_changed_at = owner->live_changed_at;
  }
}

bool has_change(const EnvironmentReview& r) { return !r.changes.empty() || r.in_base != r.in_head; }

Difference swapped(Difference d) {
  std::swap(d.a, d.b);
  std::swap(d.source_a, d.source_b);
  if (d.type == DifferenceType::kOnlyInA) {
    d.type = DifferenceType::kOnlyInB;
  } else if (d.type == DifferenceType::kOnlyInB) {
    d.type = DifferenceType::kOnlyInA;
  }
  return d;
}

std::vector<Policy> union_of(const std::vector<Policy>& all, const std::string& a,
                             const std::string& b) {
  std::vector<Policy> out = policies_for(all, a);
  std::set<std::string> names;
  for (const Policy& p : out) names.insert(p.name);
  for (Policy& p : policies_for(all, b)) {
    if (names.insert(p.name).second) out.push_back(std::move(p));
  }
  return out;
}

// Cross-environment differences between environments i and j that the PR creates or removes,
// added to the review of each side the PR changes.
void review_pair(const PrEnvironment& ei, const PrEnvironment& ej, const std::vector<Policy>& all,
                 const std::vector<Category>& scope, EnvironmentReview& ri, EnvironmentReview& rj) {
  if (!has_change(ri) && !has_change(rj)) return;
  std::vector<Policy> policies = union_of(all, ei.name, ej.name);
  DiffOptions options = options_for(policies, ei.name, scope);
  auto compare = [&](const ManifestSet& a, const ManifestSet& b) {
    EnvironmentComparison c = compare_environments(a, b, options);
    c.env_a = ei.name;
    c.env_b = ej.name;
    apply_policies(c, policies, a, b);
    std::map<std::string, Difference> out;
    for (Difference& d : c.differences) {
      std::string key = object_key(d.kind, d.name) + kSep + d.path;
      out.emplace(std::move(key), std::move(d));
    }
    return out;
  };
  std::map<std::string, Difference> before = compare(ei.base, ej.base);
  std::map<std::string, Difference> after = compare(ei.head, ej.head);
  auto add = [&](const Difference& d, bool created) {
    if (has_change(ri)) ri.cross.push_back({ej.name, d, created});
    if (has_change(rj)) rj.cross.push_back({ei.name, swapped(d), created});
  };
  for (const auto& [key, d] : after) {
    if (!before.count(key)) add(d, true);
  }
  for (const auto& [key, d] : before) {
    if (!after.count(key)) add(d, false);
  }
}

EnvironmentReview review_environment(const PrEnvironment& env, const std::vector<Policy>& all,
                                     const std::vector<Category>& scope) {
  EnvironmentReview review;
  review.environment = env.name;
  review.path = env.path;
  review.base = env.base_source;
  review.head = env.head_source;
  review.in_base = env.in_base;
  review.in_head = env.in_head;
  std::vector<Policy> policies = policies_for(all, env.name);
  DiffOptions options = options_for(policies, env.name, scope);

  EnvironmentComparison changes = compare_environments(env.base, env.head, options);
  std::map<std::string, ObjectRef> base_refs = refs_by_match_name(env.base);
  std::map<std::string, ObjectRef> head_refs = refs_by_match_name(env.head);

  std::vector<Drift> base_drifts, head_drifts;
  if (env.live) {
    review.live_read = true;
    base_drifts = evaluate_environment(env.base, *env.live, policies, options).drifts;
    head_drifts = evaluate_environment(env.head, *env.live, policies, options).drifts;
  }
  DriftIndex base_index(base_drifts), head_index(head_drifts);
  for (Difference& d : changes.differences) {
    FieldChange change;
    std::string key = object_key(d.kind, d.name);
    ObjectRef base_ref = base_refs.count(key) ? base_refs[key] : ObjectRef{};
    ObjectRef head_ref = head_refs.count(key) ? head_refs[key] : base_ref;
    if (base_ref.name.empty()) base_ref = head_ref;
    change.object = head_ref;
    change.change = std::move(d);
    if (review.live_read) set_live_state(change, base_index, head_index, base_ref, head_ref);
    review.changes.push_back(std::move(change));
  }
  // Live drift at head that no change of the PR touches: the environment's own drift.
  std::map<std::string, std::vector<std::string_view>> changed_paths;
  for (const FieldChange& c : review.changes) {
    changed_paths[object_key(c.object.kind, c.object.ns + kSep + c.object.name)].push_back(
        c.change.path);
  }
  for (const Drift& d : head_drifts) {
    if (d.action == Action::kIgnored) continue;
    auto it = changed_paths.find(object_key(d.object.kind, d.object.ns + kSep + d.object.name));
    bool touched = it != changed_paths.end() &&
                   std::any_of(it->second.begin(), it->second.end(), [&](std::string_view path) {
                     return path.empty() || related(path, d.path) || related(d.path, path);
                   });
    if (!touched) ++review.other_live_drifts;
  }

  std::map<std::string, Violation> before = violations_by_key(env.base, policies);
  std::map<std::string, Violation> after = violations_by_key(env.head, policies);
  for (auto& [key, v] : after) {
    if (before.count(key)) {
      ++review.violations_kept;
    } else {
      review.violations_introduced.push_back(v);
    }
  }
  for (auto& [key, v] : before) {
    if (!after.count(key)) review.violations_fixed.push_back(v);
  }
  return review;
}

}  // namespace

std::string_view to_string(LiveState state) {
  switch (state) {
    case LiveState::kUnknown:
      return "unknown";
    case LiveState::kAsBase:
      return "as-base";
    case LiveState::kAlreadyHead:
      return "already-head";
    case LiveState::kDiffers:
      return "differs";
    case LiveState::kObjectMissing:
      return "object-missing";
  }
  return "unknown";
}

std::vector<EnvironmentReview> review_pull_request(const std::vector<PrEnvironment>& environments,
                                                   const std::vector<Policy>& policies,
                                                   const std::vector<Category>& scope) {
  std::vector<EnvironmentReview> reviews;
  reviews.reserve(environments.size());
  for (const PrEnvironment& env : environments) {
    reviews.push_back(review_environment(env, policies, scope));
  }
  for (size_t i = 0; i < environments.size(); ++i) {
    for (size_t j = i + 1; j < environments.size(); ++j) {
      review_pair(environments[i], environments[j], policies, scope, reviews[i], reviews[j]);
    }
  }
  return reviews;
}

}  // namespace plumbline
