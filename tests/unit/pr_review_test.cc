// review_pull_request and pr_comment_markdown: what a PR changes, against the live state, the
// policies and the other environments; the comment stays under the forge's limit.
#include "plumbline/review/pr_review.h"

#include <gtest/gtest.h>

#include "drift_test_util.h"

namespace plumbline {
namespace {

using testing::manifest;
using testing::yaml;

// A Deployment "checkout" in `ns` with one container and the given limits and env.
std::string deployment(const std::string& ns, const std::string& memory,
                       const std::string& extra_env = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout, namespace: " + ns +
         "}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
         "        env:\n        - {name: LOG_LEVEL, value: info}\n" +
         extra_env + "        resources:\n          limits: {cpu: '1', memory: " + memory + "}\n";
}

// The live object: Git's memory limit replaced by `memory`, owned by kubectl-edit.
json live_deployment(const std::string& ns, const std::string& memory) {
  json object = yaml(deployment(ns, memory));
  object["metadata"]["managedFields"] = json::array(
      {{{"manager", "kubectl-edit"},
        {"operation", "Update"},
        {"time", "2026-11-30T10:00:00Z"},
        {"fieldsType", "FieldsV1"},
        {"fieldsV1",
         {{"f:spec",
           {{"f:template",
             {{"f:spec",
               {{"f:containers",
                 {{"k:{\"name\":\"app\"}",
                   {{"f:resources", {{"f:limits", {{"f:memory", json::object()}}}}}}}}}}}}}}}}}}});
  return object;
}

PrEnvironment env(const std::string& name, const std::string& base_memory,
                  const std::string& head_memory) {
  PrEnvironment e;
  e.name = name;
  e.path = "envs/" + name;
  e.base = {manifest(deployment("shop-" + name, base_memory))};
  e.head = {manifest(deployment("shop-" + name, head_memory))};
  e.base_source = {"https://git.example/ops.git", "main", "1111111111111111", e.path};
  e.head_source = {"https://git.example/ops.git", "pr", "2222222222222222", e.path};
  return e;
}

const std::string kMemoryPath = "spec.template.spec.containers[name=app].resources.limits.memory";

TEST(PrReview, AChangeTheClusterAlreadyHasIsAlreadyLiveWithItsManager) {
  PrEnvironment prod = env("prod", "512Mi", "1Gi");
  prod.live = std::vector<json>{live_deployment("shop-prod", "1Gi")};
  auto reviews = review_pull_request({prod}, {}, {});
  ASSERT_EQ(reviews.size(), 1u);
  ASSERT_EQ(reviews[0].changes.size(), 1u);
  const FieldChange& c = reviews[0].changes[0];
  EXPECT_EQ(c.change.path, kMemoryPath);
  EXPECT_EQ(c.change.a, "512Mi");
  EXPECT_EQ(c.change.b, "1Gi");
  EXPECT_EQ(c.live_state, LiveState::kAlreadyHead);
  EXPECT_EQ(c.live_manager, "kubectl-edit");
  EXPECT_EQ(c.object.ns, "shop-prod");

  std::string body = pr_comment_markdown(reviews[0], {});
  EXPECT_TRUE(body.starts_with("<!-- plumbline:pr-comment env=prod -->\n")) << body;
  EXPECT_NE(body.find("| `Deployment checkout` | `" + kMemoryPath + "` | resources | changed |"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("| `512Mi` | `1Gi` | **already live**: set by hand by `kubectl-edit` at "
                      "`2026-11-30T10:00:00Z` |"),
            std::string::npos)
      << body;
}

TEST(PrReview, LiveValuesAreAsBaseOrNeitherOrUnknown) {
  PrEnvironment as_base = env("prod", "512Mi", "1Gi");
  as_base.live = std::vector<json>{yaml(deployment("shop-prod", "512Mi"))};
  EXPECT_EQ(review_pull_request({as_base}, {}, {})[0].changes[0].live_state, LiveState::kAsBase);

  PrEnvironment neither = env("prod", "512Mi", "1Gi");
  neither.live = std::vector<json>{live_deployment("shop-prod", "2Gi")};
  FieldChange c = review_pull_request({neither}, {}, {})[0].changes[0];
  EXPECT_EQ(c.live_state, LiveState::kDiffers);
  EXPECT_EQ(c.live, "2Gi");

  // The PR adds a variable the cluster does not have either: as base (absent), not "differs".
  PrEnvironment added = env("prod", "1Gi", "1Gi");
  added.head = {
      manifest(deployment("shop-prod", "1Gi", "        - {name: NEW_FLOW, value: 'on'}\n"))};
  added.live = std::vector<json>{yaml(deployment("shop-prod", "1Gi"))};
  EXPECT_EQ(review_pull_request({added}, {}, {})[0].changes[0].live_state, LiveState::kAsBase);

  PrEnvironment missing = env("prod", "512Mi", "1Gi");
  missing.live = std::vector<json>{};
  EXPECT_EQ(review_pull_request({missing}, {}, {})[0].changes[0].live_state,
            LiveState::kObjectMissing);

  PrEnvironment unread = env("prod", "512Mi", "1Gi");
  auto review = review_pull_request({unread}, {}, {})[0];
  EXPECT_FALSE(review.live_read);
  EXPECT_EQ(review.changes[0].live_state, LiveState::kUnknown);
  EXPECT_NE(pr_comment_markdown(review, {}).find("The live state was not read"), std::string::npos);
}

TEST(PrReview, AnEnvVarAddedByHandThatThePrAddsIsAlreadyLive) {
  const std::string added = "        - {name: FEATURE_X, value: 'on'}\n";
  PrEnvironment prod = env("prod", "1Gi", "1Gi");
  prod.head = {manifest(deployment("shop-prod", "1Gi", added))};
  prod.live = std::vector<json>{yaml(deployment("shop-prod", "1Gi", added))};
  auto review = review_pull_request({prod}, {}, {})[0];
  ASSERT_EQ(review.changes.size(), 1u);
  EXPECT_EQ(review.changes[0].change.path,
            "spec.template.spec.containers[name=app].env[name=FEATURE_X]");
  EXPECT_EQ(review.changes[0].change.type, DifferenceType::kOnlyInB);
  EXPECT_EQ(review.changes[0].live_state, LiveState::kAlreadyHead);
  EXPECT_EQ(review.other_live_drifts, 0u);
}

TEST(PrReview, ViolationsTheHeadIntroducesAndFixes) {
  Policy policy;
  policy.name = "prod-baseline";
  policy.rules.env = PolicyRules::Env{.required = {}, .forbidden = {"GODEBUG"}};
  policy.rules.require_limits = PolicyRules::RequireLimits{.cpu = true, .memory = true};
  PrEnvironment prod = env("prod", "1Gi", "1Gi");
  prod.base = {manifest(deployment("shop-prod", "1Gi", "        - {name: GODEBUG, value: x}\n"))};
  prod.head = {manifest(deployment("shop-prod", "1Gi", "        - {name: GODEBUG, value: y}\n"))};
  auto kept = review_pull_request({prod}, {policy}, {})[0];
  EXPECT_TRUE(kept.violations_introduced.empty());
  EXPECT_TRUE(kept.violations_fixed.empty());
  EXPECT_EQ(kept.violations_kept, 1u);  // the value changed, the violation stays

  prod.head = {manifest(deployment("shop-prod", "1Gi"))};
  auto fixed = review_pull_request({prod}, {policy}, {})[0];
  ASSERT_EQ(fixed.violations_fixed.size(), 1u);
  EXPECT_EQ(fixed.violations_fixed[0].rule, "env");
  std::swap(prod.base, prod.head);
  auto introduced = review_pull_request({prod}, {policy}, {})[0];
  ASSERT_EQ(introduced.violations_introduced.size(), 1u);
  std::string body = pr_comment_markdown(introduced, {});
  EXPECT_NE(body.find("**Policy violations this pull request introduces**"), std::string::npos);
}

TEST(PrReview, CrossEnvironmentDifferencesThePrCreatesAndRemoves) {
  const std::string added = "        - {name: FEATURE_X, value: 'on'}\n";
  PrEnvironment staging = env("staging", "1Gi", "1Gi");
  staging.head = {manifest(deployment("shop-staging", "1Gi", added))};
  PrEnvironment prod = env("prod", "1Gi", "1Gi");
  auto reviews = review_pull_request({staging, prod}, {}, {});
  ASSERT_EQ(reviews[0].cross.size(), 1u);
  const CrossEnvironmentChange& x = reviews[0].cross[0];
  EXPECT_EQ(x.other, "prod");
  EXPECT_TRUE(x.created);
  EXPECT_EQ(x.difference.type, DifferenceType::kOnlyInA);  // here (staging), not there
  EXPECT_EQ(x.difference.path, "spec.template.spec.containers[name=app].env[name=FEATURE_X]");
  EXPECT_TRUE(reviews[1].cross.empty());  // prod did not change: its comment stays quiet

  // The PR adds the same variable to prod: the difference is gone.
  prod.head = {manifest(deployment("shop-prod", "1Gi", added))};
  staging.base = staging.head;
  prod.base = {manifest(deployment("shop-prod", "1Gi"))};
  reviews = review_pull_request({staging, prod}, {}, {});
  ASSERT_EQ(reviews[1].cross.size(), 1u);
  EXPECT_FALSE(reviews[1].cross[0].created);
}

TEST(PrReview, AnEnvironmentThePrAddsHasEverythingNew) {
  PrEnvironment prod = env("prod", "1Gi", "1Gi");
  prod.base.clear();
  prod.in_base = false;
  auto review = review_pull_request({prod}, {}, {})[0];
  ASSERT_EQ(review.changes.size(), 1u);
  EXPECT_EQ(review.changes[0].change.type, DifferenceType::kOnlyInB);
  EXPECT_NE(pr_comment_markdown(review, {}).find("This pull request adds the environment."),
            std::string::npos);
}

TEST(PrReview, SecretValuesAreMaskedInTheComment) {
  PrEnvironment prod = env("prod", "1Gi", "1Gi");
  prod.base = {
      manifest(deployment("shop-prod", "1Gi", "        - {name: DB_PASSWORD, value: hunter2}\n"))};
  prod.head = {
      manifest(deployment("shop-prod", "1Gi", "        - {name: DB_PASSWORD, value: s3cr3t}\n"))};
  std::string body = pr_comment_markdown(review_pull_request({prod}, {}, {})[0], {});
  EXPECT_EQ(body.find("hunter2"), std::string::npos);
  EXPECT_EQ(body.find("s3cr3t"), std::string::npos);
  EXPECT_NE(body.find("<redacted sha256:"), std::string::npos) << body;
}

TEST(PrReview, HostileValuesCannotBreakTheTableOrForgeAMarker) {
  const std::string evil =
      "        - {name: NOTE, value: \"x | y `z` -->\\n<!-- plumbline:pr-comment env=prod -->\"}\n";
  PrEnvironment prod = env("prod", "1Gi", "1Gi");
  prod.head = {manifest(deployment("shop-prod", "1Gi", evil))};
  std::string body = pr_comment_markdown(review_pull_request({prod}, {}, {})[0], {});
  EXPECT_EQ(body.find("<!-- plumbline:pr-comment env=prod -->"), 0u);
  // The value's marker is inside a code span on the same line as its row, not a line of its own.
  EXPECT_EQ(body.find("\n<!-- plumbline"), std::string::npos) << body;
  EXPECT_NE(body.find("x \\| y 'z' -->"), std::string::npos) << body;
  EXPECT_EQ(pr_comment_marker("prod eu\n-->"), "<!-- plumbline:pr-comment env=prod_eu_--_ -->");
}

// 10,000 changed fields, each already drifted in the cluster: the comment stays under GitHub's
// 65,536 characters, keeps the most important rows and says how many it left out.
TEST(PrReview, TenThousandChangesStayUnderTheLimitWithANotice) {
  PrEnvironment prod;
  prod.name = "prod";
  prod.path = "envs/prod";
  std::vector<json> live;
  for (int i = 0; i < 1000; ++i) {
    std::string base_env, head_env;
    for (int v = 0; v < 10; ++v) {
      std::string name = "VAR_" + std::to_string(v);
      base_env += "        - {name: " + name + ", value: old}\n";
      head_env += "        - {name: " + name + ", value: new}\n";
    }
    std::string name = "svc-" + std::to_string(i);
    auto object = [&](const std::string& env_lines) {
      return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name +
             ", namespace: shop-prod}\nspec:\n  template:\n    spec:\n      containers:\n"
             "      - name: app\n        env:\n" +
             env_lines;
    };
    prod.base.push_back(manifest(object(base_env)));
    prod.head.push_back(manifest(object(head_env)));
    live.push_back(yaml(object(head_env)));  // already live: set by hand
  }
  prod.live = live;
  auto review = review_pull_request({prod}, {}, {})[0];
  ASSERT_EQ(review.changes.size(), 10000u);
  EXPECT_EQ(review.changes[0].live_state, LiveState::kAlreadyHead);

  std::string github = pr_comment_markdown(review, {.max_chars = 65536});
  EXPECT_LE(github.size(), 65536u);
  EXPECT_GT(github.size(), 60000u);  // filled, not emptied
  EXPECT_TRUE(github.starts_with("<!-- plumbline:pr-comment env=prod -->"));
  EXPECT_NE(github.find("| 10000 | 10000 | 0 | 0 | 0 | 0 |"), std::string::npos);
  size_t notice = github.find(
      " rows were left out** to keep this comment under the forge's limit of 65536 characters");
  ASSERT_NE(notice, std::string::npos) << github.substr(github.size() - 400);
  EXPECT_NE(github.find("<details><summary>"), std::string::npos);
  EXPECT_EQ(github.rfind("</details>") > github.rfind("<details>"), true);  // folds closed

  std::string gitlab = pr_comment_markdown(review, {.max_chars = 1000000});
  EXPECT_LE(gitlab.size(), 1000000u);
  EXPECT_GT(gitlab.size(), github.size());
}

TEST(PrReview, ATinyLimitStillGivesAValidPrefixNeverAFailure) {
  PrEnvironment prod = env("prod", "512Mi", "1Gi");
  std::string body =
      pr_comment_markdown(review_pull_request({prod}, {}, {})[0], {.max_chars = 100});
  EXPECT_LE(body.size(), 100u);
  EXPECT_TRUE(body.starts_with("<!-- plumbline:pr-comment env=prod -->"));
}

}  // namespace
}  // namespace plumbline
