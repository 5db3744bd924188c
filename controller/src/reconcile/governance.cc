// The live half of the environment-wide rules (podDisruptionBudget, networkPolicy): they read
// the environment's live workloads with the PodDisruptionBudgets and NetworkPolicies of its
// namespaces, from the same list+watch caches as everything else (no per-object API call).
#include <algorithm>

#include "plumbline/controller.h"

namespace plumbline {

void Controller::on_governance_changes(const std::vector<LiveStore::Change>& changes) {
  if (!caches_synced_) return;
  std::vector<std::string> affected;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, state] : states_) {
      if (!state.spec) continue;
      const std::vector<std::string>& namespaces = state.spec->namespaces;
      bool any = std::any_of(changes.begin(), changes.end(), [&](const LiveStore::Change& c) {
        return std::find(namespaces.begin(), namespaces.end(), c.ref.ns) != namespaces.end();
      });
      if (any) affected.push_back(name);
    }
  }
  for (const std::string& name : affected) queue_.add(name);
}

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
