// The JSON form: the stable, versioned report (DESIGN.md "Reports"); other formats are views.
#include <set>

#include "plumbline/core/utf8.h"
#include "report/internal.h"

namespace plumbline {
namespace report_internal {
namespace {

json source_json(const ReportSource& s) {
  return {{"repo", s.repo}, {"ref", s.ref}, {"revision", s.revision}, {"path", s.path}};
}

json location_json(const SourceLocation& s) {
  json out = {{"file", s.file}};
  if (s.line > 0) out["line"] = s.line;
  return out;
}

}  // namespace

Totals totals_of(const DriftReport& report) {
  Totals t;
  t.objects = report.objects;
  std::set<ObjectRef> drifted;
  for (const auto& d : report.drifts) {
    if (d.action == Action::kIgnored) {
      ++t.ignored;
    } else {
      ++t.drifts;
      drifted.insert(d.object);
    }
  }
  t.drifted = drifted.size();
  t.violations = report.violations.size();
  t.omitted_drifts = report.omitted_drifts;
  t.omitted_violations = report.omitted_violations;
  return t;
}

ComparisonTotals totals_of(const EnvironmentComparison& c) {
  ComparisonTotals t;
  t.differences = c.differences.size();
  for (const auto& d : c.differences) ++(d.allowed ? t.allowed : t.not_allowed);
  t.violations = c.violations.size();
  return t;
}

json violation_json(const Violation& v) {
  json out = {
      {"object", v.object.to_json()}, {"rule", v.rule},    {"path", v.path}, {"message", v.message},
      {"state", to_string(v.state)},  {"policy", v.policy}};
  if (v.source.known()) out["source"] = location_json(v.source);
  return out;
}

json drift_json(const DriftReport& report, const Totals& t) {
  json summary = {{"objects", t.objects},
                  {"drifted", t.drifted},
                  {"drifts", t.drifts},
                  {"violations", t.violations},
                  {"ignored", t.ignored}};
  if (t.omitted_drifts > 0 || t.omitted_violations > 0) {
    summary["omitted"] = {{"drifts", t.omitted_drifts}, {"violations", t.omitted_violations}};
  }
  json drifts = json::array();
  for (const auto& d : report.drifts) {
    json item = {
        {"object", d.object.to_json()}, {"path", d.path},       {"category", to_string(d.category)},
        {"type", to_string(d.type)},    {"desired", d.desired}, {"live", d.live},
        {"action", to_string(d.action)}};
    if (!d.live_manager.empty()) item["liveManager"] = d.live_manager;
    if (!d.live_changed_at.empty()) item["liveChangedAt"] = d.live_changed_at;
    if (!d.ignored_by.empty()) item["ignoredBy"] = d.ignored_by;
    if (!d.contested_by.empty()) item["contestedBy"] = d.contested_by;
    if (!d.failure.empty()) item["failure"] = d.failure;
    if (d.source.known()) item["source"] = location_json(d.source);
    drifts.push_back(std::move(item));
  }
  json violations = json::array();
  for (const auto& v : report.violations) violations.push_back(violation_json(v));
  if (!report.uncompared.empty()) summary["uncompared"] = report.uncompared.size();
  json out = {{"apiVersion", "plumbline.dev/v1alpha1"}, {"kind", "DriftReport"},
              {"environment", report.environment},      {"source", source_json(report.source)},
              {"summary", std::move(summary)},          {"drifts", std::move(drifts)},
              {"violations", std::move(violations)}};
  // Optional: only `plumbline diff` fills them, and a consumer that predates them is unchanged.
  if (!report.uncompared.empty()) {
    json uncompared = json::array();
    for (const auto& u : report.uncompared) {
      json item = {{"object", u.object.to_json()}, {"reason", u.reason}};
      if (u.source.known()) item["source"] = location_json(u.source);
      uncompared.push_back(std::move(item));
    }
    out["uncompared"] = std::move(uncompared);
  }
  if (!report.warnings.empty()) out["warnings"] = report.warnings;
  if (report.desired_only) out["check"] = "desired-state";  // no live state was read
  if (!report.policy_source.path.empty()) out["policySource"] = source_json(report.policy_source);
  return out;
}

json comparison_json(const EnvironmentComparison& c, const ComparisonTotals& t) {
  json summary = {{"objects_a", c.objects_a},     {"objects_b", c.objects_b},
                  {"differences", t.differences}, {"allowed", t.allowed},
                  {"notAllowed", t.not_allowed},  {"violations", t.violations}};
  if (t.omitted_differences > 0 || t.omitted_violations > 0) {
    summary["omitted"] = {{"differences", t.omitted_differences},
                          {"violations", t.omitted_violations}};
  }
  json differences = json::array();
  for (const auto& d : c.differences) {
    differences.push_back({{"object", {{"kind", d.kind}, {"name", d.name}}},
                           {"path", d.path},
                           {"category", to_string(d.category)},
                           {"type", to_string(d.type)},
                           {"a", d.a},
                           {"b", d.b},
                           {"allowed", d.allowed}});
  }
  json violations = json::array();
  for (const auto& v : c.violations) violations.push_back(violation_json(v));
  json out = {{"apiVersion", "plumbline.dev/v1alpha1"},
              {"kind", "EnvironmentComparison"},
              {"environments", {c.env_a, c.env_b}},
              {"sources", {source_json(c.source_a), source_json(c.source_b)}},
              {"summary", std::move(summary)},
              {"differences", std::move(differences)},
              {"violations", std::move(violations)}};
  if (!c.warnings.empty()) out["warnings"] = c.warnings;  // optional, as in drift reports
  return out;
}

std::string value_text(const json& value) {
  if (value.is_null()) return "(absent)";
  if (value.is_string()) return value.get<std::string>();
  return to_json_text(value);
}

bool is_security(Category c) {
  return c == Category::kSelinux || c == Category::kSeccomp || c == Category::kCapabilities ||
         c == Category::kIdentity || c == Category::kRuntime;
}

std::string plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace report_internal

json to_json(const DriftReport& report) {
  return report_internal::drift_json(report, report_internal::totals_of(report));
}

json to_json(const EnvironmentComparison& comparison) {
  return report_internal::comparison_json(comparison, report_internal::totals_of(comparison));
}

int exit_code(const DriftReport& report) {
  if (!report.violations.empty() || report.omitted_violations > 0) return 1;
  for (const auto& d : report.drifts) {
    if (d.action != Action::kIgnored) return 1;
  }
  return 0;
}

int exit_code(const EnvironmentComparison& comparison) {
  if (!comparison.violations.empty()) return 1;
  for (const auto& d : comparison.differences) {
    if (!d.allowed) return 1;
  }
  return 0;
}

std::optional<ReportFormat> parse_report_format(std::string_view text) {
  if (text == "text") return ReportFormat::kText;
  if (text == "json") return ReportFormat::kJson;
  if (text == "markdown" || text == "md") return ReportFormat::kMarkdown;
  if (text == "sarif") return ReportFormat::kSarif;
  return std::nullopt;
}

}  // namespace plumbline
