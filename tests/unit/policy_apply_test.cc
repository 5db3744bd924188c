// apply_policies: ignores by path wildcard / category / manager, violations, cross-env.
#include <gtest/gtest.h>

#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

Drift drift(std::string path, Category category, std::string manager = "") {
  Drift d;
  d.object = {"apps/v1", "Deployment", "shop", "api"};
  d.path = std::move(path);
  d.category = category;
  d.live_manager = std::move(manager);
  return d;
}

json api(const std::string& gomaxprocs) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "api"}, {"namespace", "shop"}}},
          {"spec",
           {{"template",
             {{"spec",
               {{"containers",
                 {{{"name", "app"},
                   {"resources", {{"limits", {{"cpu", "1"}}}}},
                   {"env", {{{"name", "GOMAXPROCS"}, {"value", gomaxprocs}}}}}}}}}}}}}};
}

std::vector<Policy> policies() {
  auto parsed = parse_policies(R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: otel}
spec:
  ignore:
  - path: spec.template.spec.containers[*].env[name=OTEL_*]
  - category: resources
    managers: [vpa-recommender]
  rules:
    gomaxprocs: {maxOverCpuLimit: 1}
  crossEnvironment: {mayDiffer: [replicas]}
---
apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: prod-only}
spec:
  environments: [prod]
  scope: [image, env]
  strict: [capabilities]
  rules:
    gomaxprocs: {}
  crossEnvironment: {mayDiffer: [resources]}
)",
                               "p.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? *parsed : std::vector<Policy>{};
}

TEST(PolicyApply, PoliciesForAndDiffOptions) {
  auto all = policies();
  EXPECT_EQ(policies_for(all, "dev").size(), 1u);
  EXPECT_EQ(policies_for(all, "prod").size(), 2u);
  DiffOptions dev = diff_options_for(policies_for(all, "dev"), "dev");
  EXPECT_EQ(dev.scope, default_scope());
  EXPECT_TRUE(dev.strict.empty());
  EXPECT_EQ(dev.environment, "dev");
  DiffOptions prod = diff_options_for(policies_for(all, "prod"), "prod");
  EXPECT_EQ(prod.scope, (std::vector<Category>{Category::kEnv, Category::kImage}));
  EXPECT_EQ(prod.strict, std::vector<Category>{Category::kCapabilities});
}

TEST(PolicyApply, IgnoresByPathCategoryAndManager) {
  DriftReport report;
  report.drifts = {
      drift("spec.template.spec.containers[name=app].env[name=OTEL_ENDPOINT].value",
            Category::kEnv),
      drift("spec.template.spec.containers[name=app].env[name=LOG_LEVEL].value", Category::kEnv),
      drift("spec.template.spec.containers[name=app].resources.requests.cpu", Category::kResources,
            "vpa-recommender"),
      drift("spec.template.spec.containers[name=app].resources.limits.cpu", Category::kResources,
            "kubectl-edit"),
  };
  apply_policies(report, policies_for(policies(), "dev"), {}, nullptr);
  EXPECT_EQ(report.drifts[0].action, Action::kIgnored);
  EXPECT_EQ(report.drifts[0].ignored_by, "otel");
  EXPECT_EQ(report.drifts[1].action, Action::kReport);
  EXPECT_EQ(report.drifts[1].ignored_by, "");
  EXPECT_EQ(report.drifts[2].action, Action::kIgnored);
  EXPECT_EQ(report.drifts[3].action, Action::kReport);
  EXPECT_TRUE(report.violations.empty());
}

TEST(PolicyApply, DesiredAndLiveViolationsDeduplicated) {
  DriftReport report;
  ManifestSet desired = {Manifest{api("2"), {"envs/prod/api.yaml", 1, 0}, nullptr, ""}};
  std::vector<json> live = {api("4")};
  // Both prod policies check gomaxprocs: the same finding is reported once.
  apply_policies(report, policies_for(policies(), "prod"), desired, &live);
  ASSERT_EQ(report.violations.size(), 2u);
  const Violation& d = report.violations[0];
  EXPECT_EQ(d.state, StateSide::kDesired);
  EXPECT_EQ(d.message, "GOMAXPROCS=2 exceeds the CPU limit 1");
  EXPECT_EQ(d.policy, "otel");
  EXPECT_EQ(d.path, "spec.template.spec.containers[name=app].env[name=GOMAXPROCS].value");
  EXPECT_EQ(d.source.to_string(), "envs/prod/api.yaml:1");
  const Violation& l = report.violations[1];
  EXPECT_EQ(l.state, StateSide::kLive);
  EXPECT_EQ(l.message, "GOMAXPROCS=4 exceeds the CPU limit 1");
  EXPECT_FALSE(l.source.known());
}

TEST(PolicyApply, ComparisonAllowedFromEitherEnvironment) {
  EnvironmentComparison c;
  c.env_a = "staging";
  c.env_b = "prod";
  Difference replicas, resources, env;
  replicas.category = Category::kReplicas;
  resources.category = Category::kResources;
  env.category = Category::kEnv;
  c.differences = {replicas, resources, env};
  ManifestSet a = {Manifest{api("1"), {}, nullptr, ""}};
  ManifestSet b = {Manifest{api("3"), {}, nullptr, ""}};
  apply_policies(c, policies(), a, b);
  EXPECT_TRUE(c.differences[0].allowed);
  EXPECT_TRUE(c.differences[1].allowed);  // prod-only applies to prod (env_b)
  EXPECT_FALSE(c.differences[2].allowed);
  ASSERT_EQ(c.violations.size(), 1u);
  EXPECT_EQ(c.violations[0].message, "GOMAXPROCS=3 exceeds the CPU limit 1");

  EnvironmentComparison dev;
  dev.env_a = "dev";
  dev.env_b = "staging";
  dev.differences = {resources};
  apply_policies(dev, policies(), {}, {});
  EXPECT_FALSE(dev.differences[0].allowed);
}

}  // namespace
}  // namespace plumbline
