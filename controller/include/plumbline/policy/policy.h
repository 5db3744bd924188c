// plumbline/policy/policy.h — ConsistencyPolicy: scope, ignores, rules, cross-environment
// allowances.
//
// The same YAML is a CRD (plumbline.dev/v1alpha1 ConsistencyPolicy) in the cluster and a file
// for the CLI (`--policy FILE`, one or more documents). Unknown fields are errors that name
// the file, line and field. Rules are checked on the desired state and on the live state.
//
//   PL_ASSIGN_OR_RETURN(auto policies, parse_policies(text, "policies/prod.yaml"));
//   auto applicable = policies_for(policies, "prod");
//   DiffOptions options = diff_options_for(applicable, "prod");
//   apply_policies(report, applicable, desired, &live);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/label_selector.h"
#include "plumbline/diff/drift.h"

namespace plumbline {

struct IgnoreRule {
  std::string path;                   // canonical path pattern with '*' (empty = any)
  std::vector<Category> categories;   // (empty = any)
  std::vector<std::string> managers;  // field managers owning the live value (empty = any)
};

struct PolicyRules {
  struct RequireLimits {
    bool cpu = false;
    bool memory = false;
  };
  struct Gomaxprocs {
    double max_over_cpu_limit = 1.0;
  };
  struct Gomemlimit {
    double max_fraction_of_memory_limit = 1.0;
  };
  struct Selinux {
    std::vector<std::string> allowed_types;
  };
  struct Capabilities {
    bool require_drop_all = false;
    std::vector<std::string> allowed_add;
  };
  struct Sysctls {
    std::vector<std::string> allowed;
  };
  struct Env {
    std::vector<std::string> required;
    std::vector<std::string> forbidden;
  };

  struct PodSecurity {
    bool restricted = false;  // level: baseline | restricted (Pod Security Standards)
  };
  struct Replicas {
    long min = 1;
  };
  struct PodDisruptionBudget {
    long required_from_replicas = 2;  // workloads with at least this many replicas need a PDB
  };
  struct NetworkPolicy {
    bool require_default_deny = false;
  };
  struct HostNetwork {
    bool allowed = true;
  };
  struct Seccomp {
    std::string required;  // RuntimeDefault | Localhost
  };

  std::optional<RequireLimits> require_limits;
  std::optional<std::string> qos_class;  // Guaranteed | Burstable | BestEffort
  std::optional<Gomaxprocs> gomaxprocs;
  std::optional<Gomemlimit> gomemlimit;
  std::optional<Selinux> selinux;
  std::optional<Capabilities> capabilities;
  std::optional<Sysctls> sysctls;
  std::optional<Env> env;
  std::optional<PodSecurity> pod_security;
  std::optional<Replicas> replicas;
  std::optional<PodDisruptionBudget> pod_disruption_budget;
  std::optional<NetworkPolicy> network_policy;
  std::optional<HostNetwork> host_network;
  std::optional<Seccomp> seccomp;

  // True when any rule is set (a policy with only scope and ignores checks nothing).
  bool any() const;
};

// kUnset: the policy says nothing about enforcement. kReport narrows an enforce-mode
// Environment to reporting; kEnforce allows what the Environment's mode allows.
enum class PolicyAction { kUnset, kReport, kEnforce };

struct Policy {
  std::string name;
  std::vector<std::string> environments;  // empty = all
  // spec.environmentSelector: the Environments whose labels match (with `environments`, both
  // must hold). Absent = no condition on labels.
  std::optional<LabelSelector> environment_selector;
  std::vector<Category> scope;   // empty = default scope
  std::vector<Category> strict;  // categories compared strictly (undeclared = extra)
  PolicyAction action = PolicyAction::kUnset;
  std::vector<IgnoreRule> ignore;
  PolicyRules rules;
  std::vector<Category> may_differ;  // crossEnvironment.mayDiffer
  SourceLocation origin;
  // Read from Git at the environment's revision (Environment spec.policies): in-cluster
  // policies cannot relax it (DESIGN.md "Policy precedence").
  bool git_bound = false;
};

// Parses one or more ConsistencyPolicy documents (YAML or JSON).
Result<std::vector<Policy>> parse_policies(std::string_view text, std::string_view file);
// A Git-bound policy set: every ConsistencyPolicy file (*.yaml, *.yml, *.json) directly in
// `folder` of `tree`, marked git_bound. A missing folder, a folder without policies or a
// duplicate name is an error: a binding that silently binds nothing would relax production.
Result<std::vector<Policy>> load_policy_folder(const FileTree& tree, const std::string& folder);

// One policy from an already-parsed object (the controller reads CRs as JSON).
Result<Policy> policy_from_json(const json& object, const SourceLocation& where);

// The policies that apply to an environment: spec.environments empty or naming it, and
// spec.environmentSelector absent or matching the environment's labels.
std::vector<Policy> policies_for(const std::vector<Policy>& policies, std::string_view environment,
                                 const Labels& labels = {});

// Scope = union of the policies' scopes (default scope when no policy sets one); strict too.
DiffOptions diff_options_for(const std::vector<Policy>& policies, std::string_view environment);

// Whether the policies narrow an enforce-mode environment to reporting: a Git-bound
// `action: report` does; an in-cluster one does unless a Git-bound policy says `enforce`.
bool narrowed_to_report(const std::vector<Policy>& policies);

// Marks ignored drifts (action=ignored, ignored_by=policy name) and adds rule violations for
// the desired state and, when `live` is given, for the live state.
void apply_policies(DriftReport& report, const std::vector<Policy>& policies,
                    const ManifestSet& desired, const std::vector<json>* live);

// Sets `allowed` from crossEnvironment.mayDiffer and adds desired-state violations of both.
void apply_policies(EnvironmentComparison& comparison, const std::vector<Policy>& policies,
                    const ManifestSet& a, const ManifestSet& b);
// The same with the policies already selected for each environment (policies_for with
// its labels): `for_a` apply to `a`, `for_b` to `b`.
void apply_policies(EnvironmentComparison& comparison, const std::vector<Policy>& for_a,
                    const std::vector<Policy>& for_b, const ManifestSet& a, const ManifestSet& b);

// The per-object pieces of apply_policies (EnvironmentEvaluation re-evaluates one object):
// marks the drifts a policy ignores (an in-cluster policy's ignores never cover a category a
// Git-bound policy compares); the desired / live violations of one object, each
// reported once even when several policies share a rule.
void mark_ignored(std::vector<Drift>& drifts, const std::vector<Policy>& policies);
std::vector<Violation> desired_violations(const Manifest& manifest,
                                          const std::vector<Policy>& policies);
std::vector<Violation> live_violations(const json& object, const std::vector<Policy>& policies);
// One warning per ignore rule of `policies` that matches none of `drifts` ("policy p:
// ignore[1] (path …) matched no finding"): a rule that never fires is often a typo.
std::vector<std::string> unused_ignores(const std::vector<Drift>& drifts,
                                        const std::vector<Policy>& policies);

// Rules about the environment as a whole, on its desired state: a PodDisruptionBudget for
// every workload with podDisruptionBudget.requiredFromReplicas replicas or more, a default-deny
// NetworkPolicy in every namespace (networkPolicy.requireDefaultDeny).
std::vector<Violation> environment_violations(const ManifestSet& desired,
                                              const std::vector<Policy>& policies);
// The same on the controller's compact desired state: materialized only when a policy has
// one of these rules.
std::vector<Violation> environment_violations(const CompactManifestSet& desired,
                                              const std::vector<Policy>& policies);

// The same rules on the live state: `live` holds the environment's live workloads,
// PodDisruptionBudgets and NetworkPolicies; every one of `namespaces` (the environment's)
// needs a default-deny NetworkPolicy. Violations are StateSide::kLive, without a source line.
std::vector<Violation> live_environment_violations(const std::vector<json>& live,
                                                   const std::vector<std::string>& namespaces,
                                                   const std::vector<Policy>& policies);

// Rule violations of one object (desired or live).
std::vector<Violation> check_rules(const json& object, const Policy& policy, StateSide side,
                                   const SourceLocation& source = {});
// Desired-state violations of one manifest; each Violation.source is where Git declares the
// offending field (Manifest::locate).
std::vector<Violation> check_rules(const Manifest& manifest, const Policy& policy);

}  // namespace plumbline
