// Rules about an environment as a whole, on its rendered desired state: one object alone
// cannot say whether a PodDisruptionBudget selects it or whether its namespace denies ingress
// by default.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "plumbline/label_selector.h"
#include "plumbline/object.h"
#include "plumbline/policy.h"
#include "plumbline/workload.h"

namespace plumbline {
namespace {

std::string namespace_of(const json& object) {
  const json* ns = member_of(member_of(&object, "metadata"), "namespace");
  return ns != nullptr && ns->is_string() ? ns->get<std::string>() : "";
}

bool is_kind(const json& object, std::string_view kind) {
  const json* k = member_of(&object, "kind");
  return k != nullptr && k->is_string() && k->get_ref<const std::string&>() == kind;
}

long replicas_of(const json& object) {
  const json* r = member_of(member_of(&object, "spec"), "replicas");
  return r != nullptr && r->is_number_integer() ? r->get<long>() : 1;
}

// A PDB whose selector selects the workload's pod template labels, in its namespace. An
// invalid selector selects nothing (the API would refuse the PDB).
bool has_pdb(const ManifestSet& desired, const json& workload) {
  const json* template_meta =
      member_of(member_of(member_of(&workload, "spec"), "template"), "metadata");
  Labels labels = template_meta != nullptr ? labels_of(*template_meta) : Labels{};
  std::string ns = namespace_of(workload);
  return std::any_of(desired.begin(), desired.end(), [&](const Manifest& m) {
    if (!is_kind(m.object, "PodDisruptionBudget") || namespace_of(m.object) != ns) return false;
    const json* selector = member_of(member_of(&m.object, "spec"), "selector");
    if (selector == nullptr || selector->is_null()) return false;  // selects no pod
    auto parsed = LabelSelector::from_json(*selector, "");
    return parsed.ok() && parsed->matches(labels);
  });
}

// Selects every pod of its namespace and allows no ingress.
bool is_default_deny(const json& network_policy) {
  const json* spec = member_of(&network_policy, "spec");
  const json* selector = member_of(spec, "podSelector");
  if (selector == nullptr) return false;
  auto parsed = LabelSelector::from_json(*selector, "");
  if (!parsed.ok() || !parsed->empty()) return false;
  const json* types = member_of(spec, "policyTypes");
  bool ingress_type =
      types == nullptr ||
      (types->is_array() &&
       std::any_of(types->begin(), types->end(), [](const json& t) { return t == "Ingress"; }));
  const json* ingress = member_of(spec, "ingress");
  bool no_rules =
      ingress == nullptr || ingress->is_null() || (ingress->is_array() && ingress->empty());
  return ingress_type && no_rules;
}

}  // namespace

std::vector<Violation> environment_violations(const ManifestSet& desired,
                                              const std::vector<Policy>& policies) {
  std::vector<Violation> out;
  const Policy* pdb_policy = nullptr;
  const Policy* netpol_policy = nullptr;
  long from_replicas = 0;
  for (const auto& p : policies) {
    if (p.rules.pod_disruption_budget) {
      long n = p.rules.pod_disruption_budget->required_from_replicas;
      if (pdb_policy == nullptr || n < from_replicas) {  // the strictest policy wins
        pdb_policy = &p;
        from_replicas = n;
      }
    }
    if (!netpol_policy && p.rules.network_policy && p.rules.network_policy->require_default_deny)
      netpol_policy = &p;
  }
  static const std::vector<std::string_view> kScaled = {"Deployment", "StatefulSet", "ReplicaSet"};
  if (pdb_policy != nullptr) {
    for (const auto& m : desired) {
      if (std::none_of(kScaled.begin(), kScaled.end(),
                       [&](std::string_view k) { return is_kind(m.object, k); }))
        continue;
      long replicas = replicas_of(m.object);
      if (replicas < from_replicas || has_pdb(desired, m.object)) continue;
      out.push_back(
          {m.ref(), "podDisruptionBudget", "spec.replicas",
           std::to_string(replicas) + " replicas and no PodDisruptionBudget selects its " +
               "pods (policy requires one from " + std::to_string(from_replicas) + " replicas)",
           StateSide::kDesired, pdb_policy->name, m.locate("spec.replicas")});
    }
  }
  if (netpol_policy != nullptr) {
    std::set<std::string> namespaces, denied;
    for (const auto& m : desired) {
      if (find_pod_spec(m.object)) namespaces.insert(namespace_of(m.object));
      if (is_kind(m.object, "Namespace")) {
        const json* name = member_of(member_of(&m.object, "metadata"), "name");
        if (name != nullptr && name->is_string()) namespaces.insert(name->get<std::string>());
      }
      if (is_kind(m.object, "NetworkPolicy") && is_default_deny(m.object))
        denied.insert(namespace_of(m.object));
    }
    for (const auto& ns : namespaces) {
      if (denied.count(ns)) continue;
      std::string shown = ns.empty() ? "(no namespace: the default one)" : ns;
      out.push_back({ObjectRef{"v1", "Namespace", "", ns.empty() ? "default" : ns},
                     "networkPolicy",
                     "",
                     "namespace " + shown +
                         " has no default-deny NetworkPolicy (podSelector: {}, no ingress rules)",
                     StateSide::kDesired,
                     netpol_policy->name,
                     {}});
    }
  }
  return out;
}

}  // namespace plumbline
