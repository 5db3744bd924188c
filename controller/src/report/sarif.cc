// SARIF 2.1.0, so code-scanning UIs show drift and violations next to the manifest lines.
#include <map>

#include "plumbline/utf8.h"
#include "report/internal.h"

namespace plumbline::report_internal {
namespace {

constexpr const char* kSchema = "https://json.schemastore.org/sarif-2.1.0.json";

class Sarif {
 public:
  explicit Sarif(const FormatOptions& o)
      : version_(o.tool_version.empty() ? "dev" : o.tool_version) {}

  void drift(const Drift& d) {
    std::string id =
        "drift/" + std::string(to_string(d.category)) + "/" + std::string(to_string(d.type));
    rule(id, std::string(to_string(d.type)) + " " + std::string(to_string(d.category)) +
                 " setting between Git and the cluster");
    std::string text = d.object.to_string() + ": " + (d.path.empty() ? "object" : d.path) + " " +
                       std::string(to_string(d.type)) + " (Git: " + value_text(d.desired) +
                       ", live: " + value_text(d.live) + ")";
    if (!d.live_manager.empty()) text += ", changed by " + d.live_manager;
    json r =
        result(id, is_security(d.category) ? "error" : "warning", text, d.source, d.object, d.path);
    if (d.action == Action::kIgnored) {
      r["suppressions"] = {
          {{"kind", "external"}, {"justification", "ignored by policy " + d.ignored_by}}};
    }
    results_.push_back(std::move(r));
  }

  void violation(const Violation& v) {
    std::string id = "policy/" + v.rule;
    rule(id, "ConsistencyPolicy rule " + v.rule);
    results_.push_back(result(id, "error",
                              v.object.to_string() + ": " + v.message + " (" +
                                  std::string(to_string(v.state)) + ", policy " + v.policy + ")",
                              v.source, v.object, v.path));
  }

  std::string finish() const {
    json rules = json::array();
    for (const auto& [id, description] : rules_) {
      rules.push_back({{"id", id}, {"shortDescription", {{"text", description}}}});
    }
    json driver = {{"name", "plumbline"},
                   {"version", version_},
                   {"informationUri", "https://plumbline.dev"},
                   {"rules", std::move(rules)}};
    json sarif = {{"$schema", kSchema},
                  {"version", "2.1.0"},
                  {"runs", {{{"tool", {{"driver", std::move(driver)}}}, {"results", results_}}}}};
    return to_json_text(sarif, 2) + "\n";
  }

 private:
  void rule(const std::string& id, std::string description) {
    rules_.emplace(id, std::move(description));
  }

  json result(const std::string& id, const char* level, const std::string& text,
              const SourceLocation& source, const ObjectRef& object, const std::string& path) {
    json r = {{"ruleId", id}, {"level", level}, {"message", {{"text", text}}}};
    json logical = {{{"name", object.name},
                     {"fullyQualifiedName", object.to_string() + (path.empty() ? "" : " " + path)},
                     {"kind", "object"}}};
    json location = {{"logicalLocations", std::move(logical)}};
    if (source.known()) {
      json physical = {{"artifactLocation", {{"uri", source.file}}}};
      if (source.line > 0) physical["region"] = {{"startLine", source.line}};
      location["physicalLocation"] = std::move(physical);
    }
    r["locations"] = json::array({std::move(location)});
    return r;
  }

  std::string version_;
  std::map<std::string, std::string> rules_;  // sorted ids: stable output
  json results_ = json::array();
};

}  // namespace

std::string drift_sarif(const DriftReport& r, const FormatOptions& o) {
  Sarif sarif(o);
  for (const auto& v : r.violations) sarif.violation(v);
  for (const auto& d : r.drifts) sarif.drift(d);
  return sarif.finish();
}

std::string comparison_sarif(const EnvironmentComparison& c, const FormatOptions& o) {
  Sarif sarif(o);
  for (const auto& v : c.violations) sarif.violation(v);
  for (const auto& d : c.differences) {
    if (d.allowed) continue;  // allowed differences are not findings
    Drift as_drift;
    as_drift.object = ObjectRef{"", d.kind, "", d.name};
    as_drift.path = d.path;
    as_drift.category = d.category;
    as_drift.desired = d.a;
    as_drift.live = d.b;
    as_drift.source = d.source_b.known() ? d.source_b : d.source_a;
    sarif.drift(as_drift);
  }
  return sarif.finish();
}

}  // namespace plumbline::report_internal
