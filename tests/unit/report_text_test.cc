// Text view: per-object groups, diff-style lines, verdict, colours, bounding.
#include <gtest/gtest.h>

#include "plumbline/core/mask.h"
#include "plumbline/policy/policy.h"
#include "plumbline/report/report.h"
#include "unit/report_test_util.h"

namespace plumbline {
namespace {

TEST(ReportText, GroupsPerObjectWithVerdict) {
  std::string out = format_report(testing::sample_report(), ReportFormat::kText, {});
  EXPECT_EQ(
      out,
      "plumbline: environment prod @ 0123456789ab (main, envs/prod)\n"
      "5 objects, 2 drifted, 2 drifts, 1 violation, 1 ignored\n"
      "\n"
      "Deployment shop-prod/checkout\n"
      "  ! gomaxprocs: GOMAXPROCS=4 exceeds the CPU limit 1  (desired, policy prod-baseline)\n"
      "    at spec.template.spec.containers[name=app].env[name=GOMAXPROCS].value "
      "(envs/prod/checkout.yaml:27)\n"
      "  spec.template.spec.containers[name=app].resources.limits.memory  [resources, changed]\n"
      "    - 512Mi\n"
      "    + 1Gi\n"
      "    changed by kubectl-edit at 2026-11-20T09:12:00Z\n"
      "    declared at envs/prod/checkout.yaml:21\n"
      "\n"
      "Deployment shop-prod/ledger\n"
      "  spec.template.spec.containers[name=ledger].securityContext.capabilities.add[SYS_ADMIN]"
      "  [capabilities, extra]\n"
      "    + SYS_ADMIN\n"
      "\n"
      "Ignored by policy:\n"
      "  Deployment shop-prod/checkout "
      "spec.template.spec.containers[name=app].env[name=OTEL_ENDPOINT] (prod-baseline)\n"
      "\n"
      "DRIFT: 2 drifts in 2 objects, 1 violation\n");
}

// A namespace-wide rule has no field: its line names the file when there is one (the desired
// side) and is left out when there is none (the live side), never an empty "at".
TEST(ReportText, NamespaceRulesHaveNoEmptyLocation) {
  DriftReport r;
  r.environment = "prod";
  Violation desired{.object = {"v1", "Namespace", "", "shop-prod"},
                    .rule = "networkPolicy",
                    .path = "",
                    .message = "no default-deny",
                    .state = StateSide::kDesired,
                    .policy = "gov",
                    .source = {"envs/prod/kustomization.yaml", 0, 0}};
  Violation live = desired;
  live.state = StateSide::kLive;
  live.source = {};
  r.violations = {desired, live};
  std::string out = format_report(r, ReportFormat::kText, {});
  EXPECT_NE(out.find("  ! networkPolicy: no default-deny  (desired, policy gov)\n"
                     "    at (envs/prod/kustomization.yaml)\n"
                     "  ! networkPolicy: no default-deny  (live, policy gov)\n"
                     "\n"),
            std::string::npos)
      << out;
}

TEST(ReportText, ColorsOnlyWhenAsked) {
  std::string plain = format_report(testing::sample_report(), ReportFormat::kText, {});
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  std::string color = format_report(testing::sample_report(), ReportFormat::kText, {.color = true});
  EXPECT_NE(color.find("\033[31m- 512Mi\033[0m"), std::string::npos);
  EXPECT_NE(color.find("\033[32m+ 1Gi\033[0m"), std::string::npos);
}

TEST(ReportText, CleanVerdictAndBounded) {
  DriftReport clean;
  clean.environment = "dev";
  clean.objects = 3;
  std::string out = format_report(clean, ReportFormat::kText, {});
  EXPECT_EQ(out,
            "plumbline: environment dev\n3 objects, 0 drifted, 0 drifts, 0 violations, 0 ignored\n"
            "\nOK: dev matches Git (3 objects)\n");
  DriftReport big = testing::sample_report();
  for (int i = 0; i < 100; ++i) big.drifts.push_back(big.drifts[0]);
  std::string bounded = format_report(big, ReportFormat::kText, {.max_bytes = 2000});
  EXPECT_LE(bounded.size(), 2000u);
  EXPECT_NE(bounded.find("more drifts not shown"), std::string::npos);
  EXPECT_NE(bounded.find("DRIFT: 102 drifts in 2 objects, 1 violation"), std::string::npos);
}

// A live value can hold anything its writer put there: an escape sequence must not recolour
// or clear the reader's terminal, nor a newline forge a report line.
TEST(ReportText, ControlCharactersInLiveValuesAreEscaped) {
  DriftReport r = testing::sample_report();
  r.drifts[0].live = "2Gi\x1b[2J\nOK: prod matches Git";
  r.drifts[0].live_manager = "kubectl\x07";
  std::string out = format_report(r, ReportFormat::kText, {.color = false});
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_EQ(out.find('\x07'), std::string::npos);
  EXPECT_NE(out.find("+ 2Gi\\x1b[2J\\nOK: prod matches Git\n"), std::string::npos) << out;
  EXPECT_NE(out.find("changed by kubectl\\x07"), std::string::npos) << out;
}

TEST(ReportText, Comparison) {
  std::string out = format_comparison(testing::sample_comparison(), ReportFormat::kText, {});
  EXPECT_EQ(out,
            "plumbline: staging vs prod\n4 / 5 objects, 2 differences (1 allowed), 0 violations\n"
            "\nDeployment api\n"
            "  spec.template.spec.containers[name=app].env[name=LOG_FORMAT]  [env, only-in-b]\n"
            "    - staging: (absent)\n    + prod: json\n"
            "  spec.replicas  [replicas, changed] allowed\n"
            "    - staging: 2\n    + prod: 6\n"
            "\nDIFFERENT: 1 not allowed, 0 violations\n");
}

}  // namespace
}  // namespace plumbline
