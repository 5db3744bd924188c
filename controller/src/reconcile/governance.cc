// The live half of the environment-wide rules (podDisruptionBudget, networkPolicy): they read
// the environment's live workloads with the PodDisruptionBudgets and NetworkPolicies of its
// namespaces, from the same list+watch caches as everything else (no per-object API call).
#include <algorithm>

#include "plumbline/reconcile/controller.h"

namespace plumbline {

std::vector<Violation> Controller::live_environment_rules(
    const EnvironmentSpec& spec, const std::vector<Policy>& policies) const {
  bool wanted = std::any_of(policies.begin(), policies.end(), [](const Policy& p) {
    return p.rules.pod_disruption_budget ||
           (p.rules.network_policy && p.rules.network_policy->require_default_deny);
  });
  if (!wanted) return {};
  std::vector<json> live;
  for (const std::string& ns : spec.namespaces) {
    for (json& o : workloads_->objects(ns)) live.push_back(std::move(o));
    for (json& o : governance_->objects(ns)) live.push_back(std::move(o));
  }
  return live_environment_violations(live, spec.namespaces, policies);
}

}  // namespace plumbline
