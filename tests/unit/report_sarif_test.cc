// SARIF 2.1.0 view: tool/rules/results/locations.
#include <gtest/gtest.h>

#include <set>

#include "plumbline/core/mask.h"
#include "plumbline/policy/policy.h"
#include "plumbline/report/report.h"
#include "unit/report_test_util.h"

namespace plumbline {
namespace {

TEST(ReportSarif, Structure) {
  json s = json::parse(
      format_report(testing::sample_report(), ReportFormat::kSarif, {.tool_version = "0.1.0"}));
  EXPECT_EQ(s["version"], "2.1.0");
  EXPECT_EQ(s["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
  const json& driver = s["runs"][0]["tool"]["driver"];
  EXPECT_EQ(driver["name"], "plumbline");
  EXPECT_EQ(driver["version"], "0.1.0");
  EXPECT_EQ(driver["informationUri"], "https://plumbline.dev");
  std::vector<std::string> ids;
  for (const auto& r : driver["rules"]) {
    ids.push_back(r["id"]);
    EXPECT_TRUE(r["shortDescription"]["text"].is_string());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"drift/capabilities/extra", "drift/env/missing",
                                           "drift/resources/changed", "policy/gomaxprocs"}));
  const json& results = s["runs"][0]["results"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0]["ruleId"], "policy/gomaxprocs");
  EXPECT_EQ(results[0]["level"], "error");
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"],
            (json{{"artifactLocation", {{"uri", "envs/prod/checkout.yaml"}}},
                  {"region", {{"startLine", 27}}}}));
  EXPECT_EQ(results[1]["ruleId"], "drift/resources/changed");
  EXPECT_EQ(results[1]["level"], "warning");
  EXPECT_EQ(results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "Deployment shop-prod/checkout "
            "spec.template.spec.containers[name=app].resources.limits.memory");
  EXPECT_EQ(results[2]["level"], "error");  // capabilities: a security category
  EXPECT_TRUE(results[3].contains("suppressions"));
  EXPECT_EQ(s["runs"][0]["automationDetails"]["id"], "plumbline/diff/prod/");
}

// GitHub code scanning rejects a result without a physicalLocation: a finding with no field
// location points at the environment's kustomization (or folder).
TEST(ReportSarif, EveryResultHasAPhysicalLocation) {
  DriftReport r = testing::sample_report();
  json s = json::parse(format_report(r, ReportFormat::kSarif, {}));
  const json& cap = s["runs"][0]["results"][2];
  ASSERT_EQ(cap["ruleId"], "drift/capabilities/extra");
  EXPECT_EQ(cap["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "envs/prod");
  EXPECT_EQ(cap["locations"][0]["physicalLocation"]["region"]["startLine"], 1);

  r.declared_in = {"envs/prod/kustomization.yaml", 0, 0};
  s = json::parse(format_report(r, ReportFormat::kSarif, {}));
  for (const auto& result : s["runs"][0]["results"]) {
    EXPECT_TRUE(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string())
        << result.dump();
  }
  EXPECT_EQ(
      s["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
      "envs/prod/kustomization.yaml");
}

// Warnings are tool execution notifications; a finding in a remote base's file (no file of
// the repository) points at the environment and names the remote file in its message.
TEST(ReportSarif, WarningsAndRemoteBaseLocations) {
  DriftReport r = testing::sample_report();
  r.declared_in = {"envs/prod/kustomization.yaml", 0, 0};
  json s = json::parse(format_report(r, ReportFormat::kSarif, {}));
  EXPECT_FALSE(s["runs"][0].contains("invocations"));

  r.warnings = {"envs/prod/kustomization.yaml: resources[0]: remote base x is not pinned"};
  r.drifts[0].source = {"https://git.example/org/bases.git@v1//base/deploy.yaml", 12, 5};
  s = json::parse(format_report(r, ReportFormat::kSarif, {}));
  EXPECT_EQ(s["runs"][0]["invocations"],
            json::parse(R"([{"executionSuccessful": true, "toolExecutionNotifications": [
              {"level": "warning", "message": {"text":
               "envs/prod/kustomization.yaml: resources[0]: remote base x is not pinned"}}]}])"));
  bool found = false;
  for (const json& result : s["runs"][0]["results"]) {
    std::string text = result["message"]["text"];
    if (text.find("(declared in https://") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(text.substr(text.find("(declared")),
              "(declared in https://git.example/org/bases.git@v1//base/deploy.yaml:12:5)");
    EXPECT_EQ(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              "envs/prod/kustomization.yaml");
  }
  EXPECT_TRUE(found) << s.dump(2);
}

TEST(ReportSarif, FingerprintsAreStableAndDistinctPerEnvironment) {
  DriftReport r = testing::sample_report();
  json a = json::parse(format_report(r, ReportFormat::kSarif, {}));
  r.drifts[0].live = "3Gi";      // a changed live value is the same alert
  r.drifts[0].source.line = 40;  // and so is a line moved by an edit above it
  json b = json::parse(format_report(r, ReportFormat::kSarif, {}));
  const char* key = "plumblineFinding/v1";
  std::set<std::string> seen;
  for (size_t i = 0; i < a["runs"][0]["results"].size(); ++i) {
    std::string fingerprint = a["runs"][0]["results"][i]["partialFingerprints"][key];
    EXPECT_EQ(fingerprint, b["runs"][0]["results"][i]["partialFingerprints"][key]);
    EXPECT_TRUE(seen.insert(fingerprint).second) << i;
  }
  r.environment = "staging";
  json c = json::parse(format_report(r, ReportFormat::kSarif, {}));
  EXPECT_EQ(c["runs"][0]["automationDetails"]["id"], "plumbline/diff/staging/");
  EXPECT_NE(c["runs"][0]["results"][0]["partialFingerprints"][key],
            a["runs"][0]["results"][0]["partialFingerprints"][key]);
}

TEST(ReportSarif, RulesCarryHelp) {
  json s = json::parse(format_report(testing::sample_report(), ReportFormat::kSarif, {}));
  for (const auto& rule : s["runs"][0]["tool"]["driver"]["rules"]) {
    EXPECT_FALSE(rule["help"]["text"].get<std::string>().empty()) << rule.dump();
    EXPECT_TRUE(rule["defaultConfiguration"]["level"].is_string()) << rule.dump();
  }
  const json& gomaxprocs = s["runs"][0]["tool"]["driver"]["rules"][3];
  ASSERT_EQ(gomaxprocs["id"], "policy/gomaxprocs");
  EXPECT_NE(gomaxprocs["help"]["text"].get<std::string>().find("CPU limit"), std::string::npos);
}

TEST(ReportSarif, ComparisonHasItsOwnCategory) {
  json s = json::parse(format_comparison(testing::sample_comparison(), ReportFormat::kSarif, {}));
  EXPECT_EQ(s["runs"][0]["automationDetails"]["id"], "plumbline/compare/staging-vs-prod/");
  ASSERT_EQ(s["runs"][0]["results"].size(), 1u);  // the allowed difference is not a finding
  EXPECT_EQ(
      s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
      "envs/prod");
}

}  // namespace
}  // namespace plumbline
