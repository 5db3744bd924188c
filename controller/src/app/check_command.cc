// `plumbline check`: the pipeline step before a merge. Renders one environment and checks its
// desired state against the policies that apply to it; reads no cluster. A check that checked
// nothing is an error, never a pass.
#include <ostream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "plumbline/policy/policy.h"
#include "plumbline/report/report.h"

namespace plumbline::app {
Result<int> run_check(const CliOptions& o, std::ostream& out, std::ostream& err) {
  if (o.paths.size() != 1)
    return invalid_input("check needs exactly one --path (the environment's folder)");
  if (o.policies.empty() && o.git_policies.empty()) {
    return invalid_input(
        "check needs at least one --policy FILE or --git-policies PATH: without rules there is "
        "nothing to check");
  }
  PL_ASSIGN_OR_RETURN(ReportFormat format, format_of(o));
  // Bad --policy files fail before any fetch.
  if (auto files = load_policies(o); !files.ok()) return std::move(files).error();
  PL_ASSIGN_OR_RETURN(OpenedSource opened, open_source(o, err));
  PL_ASSIGN_OR_RETURN(auto policies_all, load_policies(o, opened.tree.get()));
  std::string environment = o.environment.empty() ? environment_name(o.paths[0]) : o.environment;
  PL_ASSIGN_OR_RETURN(Labels labels, labels_for(o, environment, {environment}));
  std::vector<Policy> policies = policies_for(policies_all, environment, labels);
  if (policies.empty()) {
    return invalid_input("no policy applies to environment " + environment +
                         " (see spec.environments and spec.environmentSelector of the policies, "
                         "--environment and --environment-label)");
  }
  bool any_rules = false;
  for (const auto& p : policies) any_rules = any_rules || p.rules.any();
  if (!any_rules) {
    return invalid_input("the policies that apply to environment " + environment +
                         " have no rules: nothing to check");
  }

  PL_ASSIGN_OR_RETURN(Desired desired,
                      render_path(*opened.tree, opened.source, o.paths[0], o, &err));
  if (desired.objects.empty()) {
    return invalid_input("nothing to check: " + o.paths[0] +
                         " renders no object, so a pass would mean nothing");
  }

  DriftReport report;
  report.desired_only = true;
  report.environment = environment;
  report.source = desired.source;
  report.declared_in = environment_file(*opened.tree, o.paths[0]);
  report.objects = desired.objects.size();
  apply_policies(report, policies, materialize(desired.objects), nullptr);
  if (!o.git_policies.empty()) {
    report.policy_source = desired.source;
    report.policy_source.path = o.git_policies;
  }
  report.warnings = std::move(desired.warnings);
  for (auto& warning : policy_warnings(policies_all, {{environment, labels}})) {
    report.warnings.push_back(std::move(warning));
  }

  FormatOptions format_options{.color = use_color(o), .tool_version = std::string(kToolVersion)};
  PL_RETURN_IF_ERROR(write_output(o, format_report(report, format, format_options), out));
  return exit_code(report);
}

}  // namespace plumbline::app
