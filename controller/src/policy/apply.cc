// Applying policies to findings: scope, ignores, rule violations, cross-environment allowances.
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "plumbline/core/path.h"
#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

template <typename T>
void add_unique(std::vector<T>& into, const std::vector<T>& from) {
  for (const auto& item : from) {
    if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
  }
}

// Categories in their canonical order, so options do not depend on policy order.
std::vector<Category> ordered(const std::vector<Category>& set) {
  std::vector<Category> out;
  for (Category c : all_categories()) {
    if (std::find(set.begin(), set.end(), c) != set.end()) out.push_back(c);
  }
  return out;
}

bool matches(const IgnoreRule& rule, const Drift& drift) {
  if (!rule.path.empty() && !path::matches(rule.path, drift.path)) return false;
  if (!rule.categories.empty() && std::find(rule.categories.begin(), rule.categories.end(),
                                            drift.category) == rule.categories.end()) {
    return false;
  }
  if (!rule.managers.empty() && std::find(rule.managers.begin(), rule.managers.end(),
                                          drift.live_manager) == rule.managers.end()) {
    return false;
  }
  return true;
}

// Identity of a finding; the policy is left out so that two policies sharing a rule report it
// once (under the first policy).
auto key(const Violation& v) { return std::tie(v.object, v.rule, v.path, v.message, v.state); }

void append_unique(std::vector<Violation>& into, std::vector<Violation> found) {
  for (auto& v : found) {
    bool seen =
        std::any_of(into.begin(), into.end(), [&](const Violation& o) { return key(o) == key(v); });
    if (!seen) into.push_back(std::move(v));
  }
}

void add_desired_violations(std::vector<Violation>& out, const std::vector<Policy>& policies,
                            const ManifestSet& desired) {
  for (const auto& manifest : desired) append_unique(out, desired_violations(manifest, policies));
  append_unique(out, environment_violations(desired, policies));
}

}  // namespace

bool PolicyRules::any() const {
  return require_limits || qos_class || gomaxprocs || gomemlimit || selinux || capabilities ||
         sysctls || env || pod_security || replicas || pod_disruption_budget ||
         (network_policy && network_policy->require_default_deny) || host_network || seccomp;
}

std::vector<Policy> policies_for(const std::vector<Policy>& policies, std::string_view environment,
                                 const Labels& labels) {
  std::vector<Policy> out;
  for (const auto& p : policies) {
    bool named = p.environments.empty() || std::find(p.environments.begin(), p.environments.end(),
                                                     environment) != p.environments.end();
    bool selected = !p.environment_selector || p.environment_selector->matches(labels);
    if (named && selected) out.push_back(p);
  }
  return out;
}

DiffOptions diff_options_for(const std::vector<Policy>& policies, std::string_view environment) {
  DiffOptions options;
  std::vector<Category> scope, strict;
  for (const auto& p : policies) {
    add_unique(scope, p.scope);
    add_unique(strict, p.strict);
  }
  options.scope = scope.empty() ? default_scope() : ordered(scope);
  options.strict = ordered(strict);
  options.environment = std::string(environment);
  return options;
}

bool narrowed_to_report(const std::vector<Policy>& policies) {
  auto any = [&](bool git_bound, PolicyAction action) {
    return std::any_of(policies.begin(), policies.end(), [&](const Policy& p) {
      return p.git_bound == git_bound && p.action == action;
    });
  };
  if (any(true, PolicyAction::kReport)) return true;
  return any(false, PolicyAction::kReport) && !any(true, PolicyAction::kEnforce);
}

void mark_ignored(std::vector<Drift>& drifts, const std::vector<Policy>& policies) {
  // The categories Git-bound policies compare: no in-cluster ignore reaches into them.
  std::vector<Category> bound_scope;
  for (const auto& p : policies) {
    if (p.git_bound) add_unique(bound_scope, p.scope.empty() ? default_scope() : p.scope);
  }
  for (auto& drift : drifts) {
    if (drift.action == Action::kIgnored) continue;
    bool bound =
        std::find(bound_scope.begin(), bound_scope.end(), drift.category) != bound_scope.end();
    for (const auto& policy : policies) {
      if (bound && !policy.git_bound) continue;
      bool hit = std::any_of(policy.ignore.begin(), policy.ignore.end(),
                             [&](const IgnoreRule& r) { return matches(r, drift); });
      if (hit) {
        drift.action = Action::kIgnored;
        drift.ignored_by = policy.name;
        break;
      }
    }
  }
}

std::vector<std::string> unused_ignores(const std::vector<Drift>& drifts,
                                        const std::vector<Policy>& policies) {
  std::vector<std::string> out;
  for (const auto& policy : policies) {
    for (size_t i = 0; i < policy.ignore.size(); ++i) {
      const IgnoreRule& rule = policy.ignore[i];
      bool used = std::any_of(drifts.begin(), drifts.end(),
                              [&](const Drift& d) { return matches(rule, d); });
      if (used) continue;
      std::string what = rule.path.empty() ? "" : " (path " + rule.path + ")";
      out.push_back("policy " + policy.name + ": ignore[" + std::to_string(i) + "]" + what +
                    " matched no finding");
    }
  }
  return out;
}

std::vector<Violation> desired_violations(const Manifest& manifest,
                                          const std::vector<Policy>& policies) {
  std::vector<Violation> out;
  for (const auto& policy : policies) append_unique(out, check_rules(manifest, policy));
  return out;
}

std::vector<Violation> live_violations(const json& object, const std::vector<Policy>& policies) {
  std::vector<Violation> out;
  for (const auto& policy : policies) {
    append_unique(out, check_rules(object, policy, StateSide::kLive));
  }
  return out;
}

void apply_policies(DriftReport& report, const std::vector<Policy>& policies,
                    const ManifestSet& desired, const std::vector<json>* live) {
  mark_ignored(report.drifts, policies);
  add_desired_violations(report.violations, policies, desired);
  if (live != nullptr) {
    for (const auto& object : *live)
      append_unique(report.violations, live_violations(object, policies));
  }
}

void apply_policies(EnvironmentComparison& comparison, const std::vector<Policy>& policies,
                    const ManifestSet& a, const ManifestSet& b) {
  apply_policies(comparison, policies_for(policies, comparison.env_a),
                 policies_for(policies, comparison.env_b), a, b);
}

void apply_policies(EnvironmentComparison& comparison, const std::vector<Policy>& for_a,
                    const std::vector<Policy>& for_b, const ManifestSet& a, const ManifestSet& b) {
  std::vector<Category> may_differ;
  for (const auto& p : for_a) add_unique(may_differ, p.may_differ);
  for (const auto& p : for_b) add_unique(may_differ, p.may_differ);
  for (auto& d : comparison.differences) {
    d.allowed = std::find(may_differ.begin(), may_differ.end(), d.category) != may_differ.end();
  }
  add_desired_violations(comparison.violations, for_a, a);
  add_desired_violations(comparison.violations, for_b, b);
}

}  // namespace plumbline
