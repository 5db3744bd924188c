// SARIF 2.1.0, so code-scanning UIs show drift and violations next to the manifest lines.
//
// What GitHub code scanning needs beyond the schema: every result has a physicalLocation
// (a finding without a field location of its own points at the manifest that declares the
// object, else at the environment's kustomization or folder), stable partialFingerprints (so
// an alert keeps its identity across runs), and runs[].automationDetails.id per environment
// (its category: a prod and a staging upload do not replace each other's alerts).
#include <map>
#include <string>
#include <vector>

#include "plumbline/core/digest.h"
#include "plumbline/core/utf8.h"
#include "report/internal.h"
#include "report/sarif_rules.h"

namespace plumbline::report_internal {
namespace {

constexpr const char* kSchema = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr const char* kFingerprintKey = "plumblineFinding/v1";

class Sarif {
 public:
  Sarif(const FormatOptions& o, std::string automation_id, SourceLocation fallback)
      : version_(o.tool_version.empty() ? "dev" : o.tool_version),
        automation_id_(std::move(automation_id)),
        fallback_(std::move(fallback)) {}

  void drift(const Drift& d, const RuleText& text) {
    std::string id =
        "drift/" + std::string(to_string(d.category)) + "/" + std::string(to_string(d.type));
    const char* level = is_security(d.category) ? "error" : "warning";
    rule(id, text, level);
    std::string message = d.object.to_string() + ": " + (d.path.empty() ? "object" : d.path) + " " +
                          std::string(to_string(d.type)) + " (Git: " + value_text(d.desired) +
                          ", live: " + value_text(d.live) + ")";
    if (!d.live_manager.empty()) message += ", changed by " + d.live_manager;
    json r = result(id, level, message, d.source, d.object, d.path);
    if (d.action == Action::kIgnored) {
      r["suppressions"] = {
          {{"kind", "external"}, {"justification", "ignored by policy " + d.ignored_by}}};
    }
    results_.push_back(std::move(r));
  }

  void violation(const Violation& v) {
    std::string id = "policy/" + v.rule;
    rule(id, policy_rule_text(v.rule), "error");
    // A rule may break on the desired and on the live state of one field: two alerts.
    results_.push_back(result(id, "error",
                              v.object.to_string() + ": " + v.message + " (" +
                                  std::string(to_string(v.state)) + ", policy " + v.policy + ")",
                              v.source, v.object, v.path + "#" + std::string(to_string(v.state))));
  }

  // Warnings (an unpinned remote base, a policy for no environment) are no findings: SARIF's
  // tool execution notifications carry them.
  void warnings(const std::vector<std::string>& texts) { warnings_ = texts; }

  std::string finish() const {
    json rules = json::array();
    for (const auto& [id, entry] : rules_) {
      rules.push_back({{"id", id},
                       {"name", rule_name(id)},
                       {"shortDescription", {{"text", entry.text.short_description}}},
                       {"fullDescription", {{"text", entry.text.help}}},
                       {"help", {{"text", entry.text.help}, {"markdown", entry.text.help}}},
                       {"defaultConfiguration", {{"level", entry.level}}},
                       {"properties", {{"tags", json::array({"plumbline"})}}}});
    }
    json driver = {{"name", "plumbline"},
                   {"version", version_},
                   {"semanticVersion", version_},
                   {"informationUri", "https://plumbline.dev"},
                   {"rules", std::move(rules)}};
    json run = {{"tool", {{"driver", std::move(driver)}}},
                {"automationDetails", {{"id", automation_id_}}},
                {"results", results_}};
    if (!warnings_.empty()) {
      json notifications = json::array();
      for (const std::string& text : warnings_) {
        notifications.push_back({{"level", "warning"}, {"message", {{"text", text}}}});
      }
      run["invocations"] = json::array(
          {{{"executionSuccessful", true}, {"toolExecutionNotifications", notifications}}});
    }
    json sarif = {{"$schema", kSchema}, {"version", "2.1.0"}, {"runs", json::array({run})}};
    return to_json_text(sarif, 2) + "\n";
  }

 private:
  struct RuleEntry {
    RuleText text;
    std::string level;
  };

  // "drift/env/changed" -> "DriftEnvChanged": SARIF's rule name is an identifier-like word.
  static std::string rule_name(const std::string& id) {
    std::string out;
    bool upper = true;
    for (char c : id) {
      if (c == '/' || c == '-') {
        upper = true;
        continue;
      }
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
    return out;
  }

  void rule(const std::string& id, const RuleText& text, const char* level) {
    rules_.emplace(id, RuleEntry{text, level});
  }

  json result(const std::string& id, const char* level, const std::string& text,
              const SourceLocation& source, const ObjectRef& object, const std::string& key) {
    std::string path = key.substr(0, key.find('#'));
    json r = {{"ruleId", id}, {"level", level}, {"message", {{"text", text}}}};
    // A file of a remote base ("https://host/org/repo@v1//base/x.yaml", the only locations
    // with "//") is no file of the repository a code-scanning UI shows: the finding points at
    // the environment and names the remote file in its message.
    const bool remote = source.file.find("//") != std::string::npos;
    if (remote) r["message"]["text"] = text + " (declared in " + source.to_string() + ")";
    const SourceLocation& at = source.known() && !remote ? source : fallback_;
    json physical = {{"artifactLocation", {{"uri", at.file.empty() ? "." : at.file}}}};
    physical["region"] = {{"startLine", at.line > 0 ? at.line : 1}};
    json logical = {{{"name", object.name},
                     {"fullyQualifiedName", object.to_string() + (path.empty() ? "" : " " + path)},
                     {"kind", "object"}}};
    r["locations"] = json::array(
        {{{"physicalLocation", std::move(physical)}, {"logicalLocations", std::move(logical)}}});
    // Identity of the finding, not of its line: an alert survives edits above it. Values are
    // left out on purpose (a changed live value is the same alert).
    r["partialFingerprints"] = {
        {kFingerprintKey,
         sha256_hex(automation_id_ + "\n" + id + "\n" + object.to_string() + "\n" + key, 32)}};
    return r;
  }

  std::string version_;
  std::string automation_id_;
  SourceLocation fallback_;
  std::map<std::string, RuleEntry> rules_;  // sorted ids: stable output
  json results_ = json::array();
  std::vector<std::string> warnings_;
};

// The environment's folder when no kustomization file is known.
SourceLocation folder_of(const ReportSource& source) {
  return {source.path.empty() ? "." : source.path, 0, 0};
}

}  // namespace

std::string drift_sarif(const DriftReport& r, const FormatOptions& o) {
  Sarif sarif(
      o, std::string(r.desired_only ? "plumbline/check/" : "plumbline/diff/") + r.environment + "/",
      r.declared_in.known() ? r.declared_in : folder_of(r.source));
  for (const auto& v : r.violations) sarif.violation(v);
  for (const auto& d : r.drifts) {
    sarif.drift(d, drift_rule_text(to_string(d.category), to_string(d.type)));
  }
  sarif.warnings(r.warnings);
  return sarif.finish();
}

std::string comparison_sarif(const EnvironmentComparison& c, const FormatOptions& o) {
  Sarif sarif(o, "plumbline/compare/" + c.env_a + "-vs-" + c.env_b + "/", folder_of(c.source_b));
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
    sarif.drift(as_drift, difference_rule_text(to_string(d.category)));
  }
  sarif.warnings(c.warnings);
  return sarif.finish();
}

}  // namespace plumbline::report_internal
