// No accidental pass: what a live snapshot covers, the desired objects it leaves uncompared
// (listed in the report), and the checks that turn "compared nothing" into an error.
#include <algorithm>
#include <map>
#include <set>

#include "app/cli.h"
#include "plumbline/core/desired_scope.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/core/strings.h"
#include "plumbline/policy/policy.h"

namespace plumbline::app {

namespace {

Result<Coverage> coverage_of(CompactManifestSet desired, const std::set<std::string>& live_kinds,
                             const CliOptions& o) {
  KindCoverage covered{{o.live_kinds.begin(), o.live_kinds.end()}};
  const bool declared = !covered.kinds.empty();
  if (!declared) covered.kinds = live_kinds;
  Coverage coverage;
  std::set<std::string> missing_kinds;
  for (auto& m : desired) {
    const std::string& kind = m.ref().kind;
    if (covered.covers_kind(kind)) {
      coverage.compared.push_back(std::move(m));
      continue;
    }
    missing_kinds.insert(kind);
    coverage.uncompared.push_back({m.ref(),
                                   declared ? kind + " is not in --live-kinds"
                                            : "the live snapshot has no " + kind + " objects",
                                   m.origin()});
  }
  if (!missing_kinds.empty() && !declared && !o.allow_empty) {
    return invalid_input(
        "the live snapshot has no " + join(missing_kinds, ", ") + " objects, so " +
        std::to_string(coverage.uncompared.size()) +
        " desired object(s) would not be compared (first: " +
        coverage.uncompared.front().object.to_string() +
        "); say which kinds the snapshot covers with --live-kinds KIND,… (a kind listed but "
        "absent from the snapshot is object-missing), or accept it with --allow-empty");
  }
  PL_RETURN_IF_ERROR(check_not_empty(coverage.compared.size(), o));
  return coverage;
}

}  // namespace

Result<Coverage> snapshot_coverage(CompactManifestSet desired, const std::vector<json>& live,
                                   const CliOptions& o) {
  std::set<std::string> kinds;
  for (const auto& object : live) kinds.insert(object.value("kind", ""));
  return coverage_of(std::move(desired), kinds, o);
}

Result<Coverage> snapshot_coverage(CompactManifestSet desired, const std::vector<LiveObject>& live,
                                   const CliOptions& o) {
  std::set<std::string> kinds;
  for (const auto& object : live) kinds.insert(object.ref.kind);
  return coverage_of(std::move(desired), kinds, o);
}

Status check_not_empty(size_t compared, const CliOptions& o) {
  if (compared > 0 || o.allow_empty) return {};
  return invalid_input(
      "nothing to compare: no desired object of " + o.paths.front() +
      " was compared with the live state, so a pass would mean nothing (--allow-empty accepts "
      "it)");
}

SourceLocation environment_file(const FileTree& tree, const std::string& path) {
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    std::string file = path.empty() ? name : path + "/" + name;
    auto type = tree.stat(file);
    if (type.ok() && *type == EntryType::kFile) return {file, 0, 0};
  }
  return {path, 0, 0};
}

Result<Labels> labels_for(const CliOptions& o, const std::string& environment,
                          const std::vector<std::string>& environments) {
  for (const auto& [named, labels] : o.labels_of_environment) {
    if (std::find(environments.begin(), environments.end(), named) == environments.end()) {
      return invalid_input(
          "--environment-label " + named + ":… names no environment of this " + "command (" +
          join(std::set<std::string>(environments.begin(), environments.end()), ", ") + ")");
    }
  }
  Labels out = o.environment_labels;
  if (auto it = o.labels_of_environment.find(environment); it != o.labels_of_environment.end()) {
    for (const auto& [key, value] : it->second) out[key] = value;
  }
  return out;
}

std::vector<std::string> policy_warnings(const std::vector<Policy>& all,
                                         const std::map<std::string, Labels>& environments) {
  std::vector<std::string> out;
  std::set<std::string> checked;
  for (const auto& [env, labels] : environments) checked.insert(env);
  for (const auto& policy : all) {
    bool applies = std::any_of(environments.begin(), environments.end(), [&](const auto& e) {
      return !policies_for({policy}, e.first, e.second).empty();
    });
    if (applies) continue;
    if (!policy.environments.empty() &&
        std::none_of(checked.begin(), checked.end(), [&](const std::string& e) {
          return std::find(policy.environments.begin(), policy.environments.end(), e) !=
                 policy.environments.end();
        })) {
      std::set<std::string> names(policy.environments.begin(), policy.environments.end());
      out.push_back("policy " + policy.name + " applies to " + join(names, ", ") + ", not to " +
                    join(checked, ", ") + ": it was not used");
    } else {
      out.push_back("policy " + policy.name + ": its environmentSelector does not match the " +
                    "labels of " + join(checked, ", ") + " (--environment-label): it was not used");
    }
  }
  return out;
}

}  // namespace plumbline::app
