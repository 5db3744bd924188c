// Markdown view (PR comments): summary table, <details> per object, escaping, bounding.
#include <gtest/gtest.h>

#include "plumbline/core/mask.h"
#include "plumbline/policy/policy.h"
#include "plumbline/report/report.h"
#include "unit/report_test_util.h"

namespace plumbline {
namespace {

TEST(ReportMarkdown, SummaryTableAndDetails) {
  std::string out = format_report(testing::sample_report(), ReportFormat::kMarkdown, {});
  EXPECT_EQ(out.rfind("### plumbline: `prod` @ `0123456789ab`\n", 0), 0u);
  EXPECT_NE(
      out.find("| objects | drifted | drifts | violations | ignored |\n|---|---|---|---|---|\n"
               "| 5 | 2 | 2 | 1 | 1 |\n"),
      std::string::npos);
  EXPECT_NE(out.find("<details><summary>Deployment shop-prod/checkout — 1 drift, 1 violation"
                     "</summary>"),
            std::string::npos);
  EXPECT_NE(out.find("| `spec.template.spec.containers[name=app].resources.limits.memory` | "
                     "resources | changed | `512Mi` | `1Gi` | report (kubectl-edit) | "
                     "`envs/prod/checkout.yaml:21` |"),
            std::string::npos);
  // A '|' inside a value must not break the table.
  EXPECT_NE(out.find(R"(`{"name":"OTEL_ENDPOINT","value":"http://otel:4317\|x"}`)"),
            std::string::npos);
  EXPECT_NE(out.find("| gomaxprocs | `spec.template.spec.containers[name=app].env[name=GOMAXPROCS]"
                     ".value` | `GOMAXPROCS=4 exceeds the CPU limit 1` | desired | prod-baseline | "
                     "`envs/prod/checkout.yaml:27` |"),
            std::string::npos);
  size_t open = 0, close = 0;
  for (size_t p = 0; (p = out.find("<details>", p)) != std::string::npos; ++p) ++open;
  for (size_t p = 0; (p = out.find("</details>", p)) != std::string::npos; ++p) ++close;
  EXPECT_EQ(open, 2u);
  EXPECT_EQ(close, 2u);
}

// Objects a snapshot did not cover and warnings are part of the report, not only of stderr.
TEST(ReportMarkdown, UncomparedAndWarnings) {
  DriftReport r = testing::sample_report();
  r.uncompared = {
      {{"v1", "Service", "shop-prod", "checkout"}, "the live snapshot has no Service objects", {}}};
  r.warnings = {"policy p: ignore[0] matched no finding"};
  const std::string markdown = format_report(r, ReportFormat::kMarkdown, {});
  const std::string text = format_report(r, ReportFormat::kText, {});
  const std::vector<std::pair<const std::string*, std::string>> expected = {
      {&markdown, "| `Service shop-prod/checkout` | `the live snapshot has no Service objects` |"},
      {&markdown, "- **Warning:** `policy p: ignore[0] matched no finding`"},
      {&text,
       "Not compared (1 object):\n  Service shop-prod/checkout: the live snapshot has no "
       "Service objects\n"},
      {&text, "warning: policy p: ignore[0] matched no finding"}};
  for (const auto& [out, needle] : expected) {
    EXPECT_NE(out->find(needle), std::string::npos) << needle << "\nin:\n" << *out;
  }
  json j = to_json(r);
  EXPECT_EQ(j["summary"]["uncompared"], 1);
  EXPECT_EQ(j["uncompared"][0]["reason"], "the live snapshot has no Service objects");
  EXPECT_EQ(j["warnings"][0], "policy p: ignore[0] matched no finding");
}

TEST(ReportMarkdown, ComparisonAndBound) {
  std::string out = format_comparison(testing::sample_comparison(), ReportFormat::kMarkdown, {});
  EXPECT_NE(out.find("| `spec.replicas` | replicas | changed | `2` | `6` | yes |"),
            std::string::npos);
  EXPECT_NE(out.find("| — | `json` | **no** |"), std::string::npos);
  DriftReport big = testing::sample_report();
  for (int i = 0; i < 500; ++i) big.drifts.push_back(big.drifts[1]);
  std::string bounded = format_report(big, ReportFormat::kMarkdown, {.max_bytes = 65536 / 16});
  EXPECT_LE(bounded.size(), 4096u);
  EXPECT_NE(bounded.find("| 5 | 2 | 502 | 1 | 1 |"), std::string::npos);
  EXPECT_NE(bounded.find("more drifts and 0 more violations not shown"), std::string::npos);
}

}  // namespace
}  // namespace plumbline
