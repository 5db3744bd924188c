// Rules about an environment as a whole, on its rendered desired state or its live objects:
// one object alone cannot say whether a PodDisruptionBudget selects it or whether its
// namespace denies ingress by default. An invalid PDB selector selects nothing (the API would
// refuse the PDB).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/label_selector.h"
#include "plumbline/core/object.h"
#include "plumbline/core/workload.h"
#include "plumbline/policy/policy.h"

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

// One side's objects: the rendered manifests (with their source lines) or the live objects.
struct Side {
  std::vector<const json*> objects;
  std::vector<const Manifest*> manifests;  // parallel to objects on the desired side, else empty
  StateSide state = StateSide::kDesired;
  std::set<std::string> namespaces;  // where a default-deny NetworkPolicy must exist

  ObjectRef ref(size_t i) const {
    return manifests.empty() ? ObjectRef::of(*objects[i]) : manifests[i]->ref();
  }
  SourceLocation locate(size_t i, std::string_view path) const {
    return manifests.empty() ? SourceLocation{} : manifests[i]->locate(path);
  }
};

bool selected_by_pdb(const Side& side, const json& workload) {
  const json* template_meta =
      member_of(member_of(member_of(&workload, "spec"), "template"), "metadata");
  Labels labels = template_meta != nullptr ? labels_of(*template_meta) : Labels{};
  std::string ns = namespace_of(workload);
  return std::any_of(side.objects.begin(), side.objects.end(), [&](const json* o) {
    if (!is_kind(*o, "PodDisruptionBudget") || namespace_of(*o) != ns) return false;
    const json* selector = member_of(member_of(o, "spec"), "selector");
    if (selector == nullptr || selector->is_null()) return false;  // selects no pod
    auto parsed = LabelSelector::from_json(*selector, "");
    return parsed.ok() && parsed->matches(labels);
  });
}

std::vector<Violation> violations_of(const Side& side, const std::vector<Policy>& policies) {
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
    for (size_t i = 0; i < side.objects.size(); ++i) {
      const json& o = *side.objects[i];
      if (std::none_of(kScaled.begin(), kScaled.end(),
                       [&](std::string_view k) { return is_kind(o, k); }))
        continue;
      long replicas = replicas_of(o);
      if (replicas < from_replicas || selected_by_pdb(side, o)) continue;
      out.push_back(
          {side.ref(i), "podDisruptionBudget", "spec.replicas",
           std::to_string(replicas) + " replicas and no PodDisruptionBudget selects its " +
               "pods (policy requires one from " + std::to_string(from_replicas) + " replicas)",
           side.state, pdb_policy->name, side.locate(i, "spec.replicas")});
    }
  }
  if (netpol_policy != nullptr) {
    std::set<std::string> denied;
    for (const json* o : side.objects) {
      if (is_kind(*o, "NetworkPolicy") && is_default_deny(*o)) denied.insert(namespace_of(*o));
    }
    for (const auto& ns : side.namespaces) {
      if (denied.count(ns)) continue;
      std::string shown = ns.empty() ? "(no namespace: the default one)" : ns;
      out.push_back({ObjectRef{"v1", "Namespace", "", ns.empty() ? "default" : ns},
                     "networkPolicy",
                     "",
                     "namespace " + shown +
                         " has no default-deny NetworkPolicy (podSelector: {}, no ingress rules)",
                     side.state,
                     netpol_policy->name,
                     {}});
    }
  }
  return out;
}

}  // namespace

std::vector<Violation> environment_violations(const ManifestSet& desired,
                                              const std::vector<Policy>& policies) {
  Side side;
  for (const Manifest& m : desired) {
    side.objects.push_back(&m.object);
    side.manifests.push_back(&m);
    // The namespaces that run pods, and those the environment declares.
    if (find_pod_spec(m.object)) side.namespaces.insert(namespace_of(m.object));
    if (is_kind(m.object, "Namespace")) {
      const json* name = member_of(member_of(&m.object, "metadata"), "name");
      if (name != nullptr && name->is_string()) side.namespaces.insert(name->get<std::string>());
    }
  }
  return violations_of(side, policies);
}

std::vector<Violation> environment_violations(const CompactManifestSet& desired,
                                              const std::vector<Policy>& policies) {
  bool any = std::any_of(policies.begin(), policies.end(), [](const Policy& p) {
    return p.rules.pod_disruption_budget ||
           (p.rules.network_policy && p.rules.network_policy->require_default_deny);
  });
  return any ? environment_violations(materialize(desired), policies) : std::vector<Violation>{};
}

std::vector<Violation> live_environment_violations(const std::vector<json>& live,
                                                   const std::vector<std::string>& namespaces,
                                                   const std::vector<Policy>& policies) {
  Side side;
  side.state = StateSide::kLive;
  for (const json& o : live) side.objects.push_back(&o);
  side.namespaces.insert(namespaces.begin(), namespaces.end());
  return violations_of(side, policies);
}

}  // namespace plumbline
