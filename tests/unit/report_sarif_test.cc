// SARIF 2.1.0 view: tool/rules/results/locations.
#include <gtest/gtest.h>

#include "plumbline/mask.h"
#include "plumbline/policy.h"
#include "plumbline/report.h"
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
  EXPECT_FALSE(results[2]["locations"][0].contains("physicalLocation"));
  EXPECT_TRUE(results[3].contains("suppressions"));
}

}  // namespace
}  // namespace plumbline
