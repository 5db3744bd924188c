// plumbline/core/findings.h — what the DriftEngine and PolicyEngine produce and reporters show.
//
// Values in findings are already masked (see mask.h): a reporter can print them as they are.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline {

// Drift categories (DESIGN.md "Drift semantics"). The first seven are the default scope.
enum class Category {
  kResources,
  kEnv,
  kSelinux,
  kSeccomp,
  kCapabilities,
  kIdentity,
  kRuntime,
  kImage,
  kReplicas,
  kLabels,
};
std::string_view to_string(Category category);
std::optional<Category> parse_category(std::string_view text);
std::vector<Category> default_scope();
std::vector<Category> all_categories();

enum class DriftType { kChanged, kMissing, kExtra, kObjectMissing, kObjectExtra };
std::string_view to_string(DriftType type);

// kContested: another field manager keeps changing the field back; plumbline stopped fighting.
enum class Action { kReport, kIgnored, kWouldCorrect, kCorrected, kFailed, kContested };
std::string_view to_string(Action action);

// One drifted field (or object) between Git and the cluster.
struct Drift {
  ObjectRef object;
  std::string path;  // canonical path; empty for object-missing / object-extra
  Category category = Category::kResources;
  DriftType type = DriftType::kChanged;
  json desired;  // null when Git does not have it (masked)
  json live;     // null when the cluster does not have it (masked)
  Action action = Action::kReport;
  std::string ignored_by;       // the policy/ignore rule that set action=ignored
  std::string live_manager;     // field manager owning the live value (managedFields)
  std::string live_changed_at;  // when that manager last wrote it
  std::string contested_by;     // action=contested: the manager that keeps changing it back
  std::string failure;          // action=failed: why the correction failed
  SourceLocation source;        // where Git declares the field, when known
};

enum class StateSide { kDesired, kLive };
std::string_view to_string(StateSide side);

// A policy rule broken by an object, in Git (desired) or in the cluster (live).
struct Violation {
  ObjectRef object;
  std::string rule;  // requireLimits, qosClass, gomaxprocs, gomemlimit, selinux, ...
  std::string path;  // canonical path of the offending field (may be a container)
  std::string message;
  StateSide state = StateSide::kDesired;
  std::string policy;  // metadata.name of the ConsistencyPolicy
  SourceLocation source;
};

struct ReportSource {
  std::string repo;
  std::string ref;
  std::string revision;
  std::string path;
};

// A desired object that was not compared with the live state, and why (its kind is not in
// the live snapshot, …). Listed in the report so that a pass never hides it.
struct Uncompared {
  ObjectRef object;
  std::string reason;
  SourceLocation source;  // the manifest that declares it
};

// The report of one environment: DESIGN.md "Reports: the JSON form".
struct DriftReport {
  std::string environment;
  ReportSource source;
  size_t objects = 0;  // desired objects compared
  std::vector<Drift> drifts;
  std::vector<Violation> violations;
  size_t omitted_drifts = 0;  // left out to keep the report bounded
  size_t omitted_violations = 0;
  std::vector<Uncompared> uncompared;
  // Things the user should know that are not findings: a policy that applies to no
  // environment, an ignore rule that matched nothing. They do not change the exit status.
  std::vector<std::string> warnings;
  // The environment's kustomization (or folder): where findings without a declaration site
  // of their own (an object-extra) point.
  SourceLocation declared_in;
  // `plumbline check`: only the desired state was checked (no live state read, no drift).
  bool desired_only = false;
  // Where the Git-bound policies came from (Environment spec.policies): the same repository
  // and revision as the manifests; empty path when there are none.
  ReportSource policy_source;
};

// Difference between two environments (plumbline compare).
enum class DifferenceType { kChanged, kOnlyInA, kOnlyInB };
std::string_view to_string(DifferenceType type);

struct Difference {
  std::string kind;
  std::string name;  // base name (before namePrefix/nameSuffix)
  std::string path;  // canonical path; empty for a whole object
  Category category = Category::kResources;
  DifferenceType type = DifferenceType::kChanged;
  json a;  // masked; null when absent
  json b;
  bool allowed = false;
  SourceLocation source_a, source_b;
};

struct EnvironmentComparison {
  std::string env_a, env_b;
  ReportSource source_a, source_b;
  size_t objects_a = 0, objects_b = 0;
  std::vector<Difference> differences;
  std::vector<Violation> violations;  // policy rules on either side (desired state)
  std::vector<std::string> warnings;  // e.g. a policy that applies to neither environment
};

}  // namespace plumbline
