// policy/pod_security.h — the Pod Security Standards (baseline, restricted) on one pod
// template, as the apiserver's Pod Security admission checks a Pod (policy version "latest").
#pragma once

#include <string>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline::policy_internal {

struct RuleFinding {
  std::string path;  // canonical path of the offending field
  std::string message;
};

// `pod` is the PodSpec at canonical path `pod_path`; `metadata` the template's metadata (its
// AppArmor annotations), at `metadata_path`, or null. Restricted includes every baseline check.
std::vector<RuleFinding> pod_security_findings(const json& pod, const std::string& pod_path,
                                               const json* metadata,
                                               const std::string& metadata_path, bool restricted);

}  // namespace plumbline::policy_internal
