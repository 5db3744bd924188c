// Secrets never leak: a secret-named env value appears in no format.
#include <gtest/gtest.h>

#include "plumbline/core/mask.h"
#include "plumbline/policy/policy.h"
#include "plumbline/report/report.h"
#include "unit/report_test_util.h"

namespace plumbline {
namespace {

TEST(ReportSecrets, NeverInAnyFormat) {
  const std::string raw = "s3cr3t-hunter2";
  ASSERT_TRUE(is_secret_name("DB_PASSWORD"));
  DriftReport r = testing::sample_report();
  Drift d;
  d.object = testing::checkout();
  d.path = "spec.template.spec.containers[name=app].env[name=DB_PASSWORD].value";
  d.category = Category::kEnv;
  d.desired = redact(raw);
  d.live = redact("other");
  r.drifts.push_back(d);
  // A violation built by the rules engine from an object holding the raw value.
  Policy policy;
  policy.name = "p";
  policy.rules.env = PolicyRules::Env{{}, {"DB_PASSWORD"}};
  json object = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "checkout"}, {"namespace", "shop-prod"}}},
      {"spec",
       {{"template",
         {{"spec",
           {{"containers",
             {{{"name", "app"}, {"env", {{{"name", "DB_PASSWORD"}, {"value", raw}}}}}}}}}}}}}};
  auto violations = check_rules(object, policy, StateSide::kLive);
  ASSERT_EQ(violations.size(), 1u);
  r.violations.push_back(violations[0]);
  for (auto format :
       {ReportFormat::kJson, ReportFormat::kText, ReportFormat::kMarkdown, ReportFormat::kSarif}) {
    std::string out = format_report(r, format, {});
    EXPECT_EQ(out.find(raw), std::string::npos) << out;
    EXPECT_NE(out.find("DB_PASSWORD"), std::string::npos);
    EXPECT_NE(out.find(redact(raw)), std::string::npos);
  }
}

}  // namespace
}  // namespace plumbline
