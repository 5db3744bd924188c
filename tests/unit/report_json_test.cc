// The JSON form is the stable contract: compared with golden files byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "plumbline/report/report.h"
#include "unit/report_test_util.h"

namespace plumbline {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(PLUMBLINE_FIXTURES_DIR) + "/reports/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(ReportJson, DriftReportMatchesGolden) {
  std::string out = format_report(testing::sample_report(), ReportFormat::kJson, {});
  EXPECT_EQ(out, read_fixture("drift_report.json"));
}

TEST(ReportJson, ComparisonMatchesGolden) {
  std::string out = format_comparison(testing::sample_comparison(), ReportFormat::kJson, {});
  EXPECT_EQ(out, read_fixture("comparison.json"));
}

TEST(ReportJson, SummaryCountsDistinctDriftedObjectsAndIgnored) {
  DriftReport r = testing::sample_report();
  Drift second = r.drifts[0];
  second.path = "spec.template.spec.containers[name=app].resources.limits.cpu";
  r.drifts.push_back(second);
  json j = to_json(r);
  EXPECT_EQ(
      j["summary"],
      (json{{"objects", 5}, {"drifted", 2}, {"drifts", 3}, {"violations", 1}, {"ignored", 1}}));
}

TEST(ReportJson, OptionalKeysOmittedButValuesKeptAsNull) {
  json j = to_json(testing::sample_report());
  const json& cap = j["drifts"][1];
  EXPECT_TRUE(cap.contains("desired"));
  EXPECT_TRUE(cap["desired"].is_null());
  EXPECT_EQ(cap["live"], "SYS_ADMIN");
  EXPECT_FALSE(cap.contains("liveManager"));
  EXPECT_FALSE(cap.contains("liveChangedAt"));
  EXPECT_FALSE(cap.contains("ignoredBy"));
  EXPECT_FALSE(cap.contains("source"));
  EXPECT_EQ(j["drifts"][0]["source"], (json{{"file", "envs/prod/checkout.yaml"}, {"line", 21}}));
}

TEST(ReportJson, ExitCodes) {
  DriftReport r = testing::sample_report();
  EXPECT_EQ(exit_code(r), 1);
  r.violations.clear();
  EXPECT_EQ(exit_code(r), 1);
  r.drifts.erase(r.drifts.begin(), r.drifts.begin() + 2);  // only the ignored one is left
  EXPECT_EQ(exit_code(r), 0);
  EnvironmentComparison c = testing::sample_comparison();
  EXPECT_EQ(exit_code(c), 1);
  c.differences[0].allowed = true;
  EXPECT_EQ(exit_code(c), 0);
  c.violations.push_back(testing::sample_report().violations[0]);
  EXPECT_EQ(exit_code(c), 1);
}

TEST(ReportJson, ParsesFormatNames) {
  EXPECT_EQ(parse_report_format("json"), ReportFormat::kJson);
  EXPECT_EQ(parse_report_format("text"), ReportFormat::kText);
  EXPECT_EQ(parse_report_format("markdown"), ReportFormat::kMarkdown);
  EXPECT_EQ(parse_report_format("sarif"), ReportFormat::kSarif);
  EXPECT_EQ(parse_report_format("xml"), std::nullopt);
}

TEST(ReportJson, BoundedKeepsSummaryAndMostSevere) {
  DriftReport r = testing::sample_report();
  for (int i = 0; i < 200; ++i) {
    Drift d = r.drifts[0];
    d.path =
        "spec.template.spec.containers[name=app].env[name=VAR_" + std::to_string(i) + "].value";
    d.category = Category::kEnv;
    r.drifts.push_back(d);
  }
  std::string out = format_report(r, ReportFormat::kJson, {.max_bytes = 4000});
  ASSERT_LE(out.size(), 4000u);
  json j = json::parse(out);
  EXPECT_EQ(j["summary"]["drifts"], 202);
  EXPECT_EQ(j["summary"]["ignored"], 1);
  ASSERT_EQ(j["violations"].size(), 1u);
  size_t shown = j["drifts"].size();
  ASSERT_GE(shown, 1u);
  EXPECT_EQ(j["summary"]["omitted"], (json{{"drifts", 203 - shown}, {"violations", 0}}));
  // The security drift outranks every resources/env drift and survives the cut.
  bool has_capability = false;
  for (const auto& d : j["drifts"]) has_capability |= d["category"] == "capabilities";
  EXPECT_TRUE(has_capability);
  for (const auto& d : j["drifts"]) EXPECT_NE(d["action"], "ignored");
}

}  // namespace
}  // namespace plumbline
