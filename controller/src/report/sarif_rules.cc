// The SARIF rule descriptions: a short description and the help a code-scanning UI shows
// beside each alert (what the finding means and how to resolve it).
#include "report/sarif_rules.h"

#include <array>
#include <utility>

namespace plumbline::report_internal {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 15> kPolicyHelp = {{
    {"requireLimits",
     "Every container must declare the CPU and/or memory limits the policy requires: without a "
     "limit the container's cgroup is unbounded and its behaviour differs between nodes."},
    {"qosClass",
     "The pod's QoS class must be the one the policy names (Guaranteed: requests equal limits "
     "for every container)."},
    {"gomaxprocs",
     "GOMAXPROCS must not exceed the CPU limit (rounded up): a Go program with more threads "
     "than CPUs is throttled by the CFS quota."},
    {"gomemlimit",
     "GOMEMLIMIT must stay below the policy's fraction of the memory limit, or the Go runtime "
     "collects too late and the container is OOM-killed."},
    {"selinux", "The SELinux type must be one the policy allows."},
    {"capabilities",
     "Containers must drop ALL capabilities (when the policy says so) and add only the ones it "
     "allows."},
    {"sysctls", "Only the sysctls the policy allows may be set."},
    {"env", "Required environment variables must be set; forbidden ones must not be."},
    {"podSecurity",
     "The pod template must meet the Pod Security Standard the policy names (baseline or "
     "restricted), as the apiserver's Pod Security admission would enforce it on the Pod: the "
     "alert names the field that breaks it."},
    {"replicas", "The workload must run at least the policy's minimum number of replicas."},
    {"podDisruptionBudget",
     "A workload with this many replicas needs a PodDisruptionBudget selecting its pods in the "
     "same environment, so a node drain cannot take all of them down at once."},
    {"networkPolicy",
     "Every namespace of the environment needs a default-deny NetworkPolicy (podSelector: {}, "
     "no ingress rules); other policies then allow what is needed."},
    {"hostNetwork", "The pod must not use the node's network namespace in this environment."},
    {"seccomp", "Every container must run with the seccomp profile type the policy requires."},
    {"environmentConflict",
     "Two Environments declare the same object; neither corrects it until one stops."},
}};

std::string_view drift_meaning(std::string_view type) {
  if (type == "changed") return "The live value differs from the value Git declares.";
  if (type == "missing") return "Git declares the field but the live object does not have it.";
  if (type == "extra") {
    return "The live object has a field or list element Git does not declare (added by hand, "
           "or loosened below the API default).";
  }
  if (type == "object-missing") return "Git declares the object but the cluster does not have it.";
  if (type == "object-extra") {
    return "The cluster has an object labelled for this environment that Git does not declare.";
  }
  return "The environments differ where no policy allows it.";
}

}  // namespace

RuleText drift_rule_text(std::string_view category, std::string_view type) {
  RuleText t;
  t.short_description =
      std::string(type) + " " + std::string(category) + " setting between Git and the cluster";
  t.help = std::string(drift_meaning(type)) +
           " Resolve it by changing Git (the file and line of the alert) to what the cluster "
           "should run, or by applying Git to the cluster; a policy's `ignore` can accept it.";
  return t;
}

RuleText difference_rule_text(std::string_view category) {
  RuleText t;
  t.short_description = std::string(category) + " setting differs between environments";
  t.help =
      "The two environments differ in a category no policy allows to differ "
      "(crossEnvironment.mayDiffer). Make them equal, or allow the category in the policy.";
  return t;
}

RuleText policy_rule_text(std::string_view rule) {
  RuleText t;
  t.short_description = "ConsistencyPolicy rule " + std::string(rule);
  t.help = "A ConsistencyPolicy rule is broken.";
  for (const auto& [name, help] : kPolicyHelp) {
    if (name == rule) t.help = std::string(help);
  }
  t.help +=
      " A desired-state violation is fixed in Git; a live one in the cluster (or by applying "
      "Git).";
  return t;
}

}  // namespace plumbline::report_internal
