// The Controller's pull-request comments (spec.pullRequests) on the in-memory API server and
// the shared fake forge: the token comes from a Secret bound to the Environment, a forge's 401
// is the PullRequestComments condition and one Event (drift is still reported), and nothing is
// posted while the desired state does not load.
#include <gtest/gtest.h>

#include "controller_test_util.h"
#include "support/fake_forge.h"

namespace plumbline {
namespace {

using namespace controller_test;

const ObjectRef kEnvironment{"plumbline.dev/v1alpha1", "Environment", "", "prod"};

json TokenSecret(const std::string& allowed, const std::string& type = "Opaque") {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"type", type},
                 {"metadata", {{"name", "forge-token"}, {"namespace", "plumbline-system"}}},
                 {"data", {{"token", "Zm9yZ2Utc2VjcmV0"}}}};  // "forge-secret"
  if (!allowed.empty()) {
    secret["metadata"]["annotations"] = {{"plumbline.dev/allowed-environments", allowed}};
  }
  return secret;
}

// Hands the controller a forge that forwards to the test's FakeForge.
class SharedForge final : public Forge {
 public:
  explicit SharedForge(testing::FakeForge& inner) : inner_(inner) {}
  Result<std::vector<ForgeComment>> list_comments(long pr) override {
    return inner_.list_comments(pr);
  }
  Result<ForgeComment> create_comment(long pr, const std::string& body) override {
    return inner_.create_comment(pr, body);
  }
  Result<ForgeComment> update_comment(long pr, const std::string& id,
                                      const std::string& body) override {
    return inner_.update_comment(pr, id, body);
  }
  Result<std::vector<PullRequest>> open_pull_requests() override {
    return inner_.open_pull_requests();
  }
  Result<std::vector<std::string>> changed_files(long pr) override {
    return inner_.changed_files(pr);
  }
  size_t max_comment_chars() const override { return inner_.max_comment_chars(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  testing::FakeForge& inner_;
};

class PullRequestsTest : public ControllerTest {
 protected:
  void SetUp() override {
    ControllerTest::SetUp();
    options_.make_forge = [this](ForgeOptions o) -> Result<std::unique_ptr<Forge>> {
      std::lock_guard lock(mu_);
      tokens_.push_back(o.token);
      return std::unique_ptr<Forge>(std::make_unique<SharedForge>(forge_));
    };
    forge_.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                            {"envs/prod/deployment.yaml"});
    forge_.add_pull_request({.number = 5, .head_sha = "cccc", .base_ref = "main"},
                            {"envs/staging/deployment.yaml"});
    api_.put(Workload("2Gi", "info"), "kubectl-edit");
    json env = EnvironmentObject("prod", "report");
    env["spec"]["pullRequests"] = {{"provider", "github"},
                                   {"repository", "org/ops"},
                                   {"tokenSecretRef", {{"name", "forge-token"}}}};
    api_.put(env);
  }
  // The PullRequestComments condition as "Status/Reason" ("" until written).
  std::string Condition(const std::string& type, std::string* message = nullptr) {
    std::optional<json> env = api_.object(kEnvironment);
    if (!env || !env->contains("status")) return "";
    for (const json& c : (*env)["status"]["conditions"]) {
      if (c["type"] != type) continue;
      if (message != nullptr) *message = c.value("message", "");
      return c.value("status", "") + "/" + c.value("reason", "");
    }
    return "";
  }
  std::vector<std::string> EnvironmentEvents() {
    std::vector<std::string> reasons;
    for (const json& e : api_.writes("create events")) {
      if (e["involvedObject"]["kind"] == "Environment") reasons.push_back(e["reason"]);
    }
    return reasons;
  }
  testing::FakeForge forge_;
  std::mutex mu_;
  std::vector<std::string> tokens_;
};

TEST_F(PullRequestsTest, CommentsOnThePullRequestsThatTouchThePathWithTheSecretsToken) {
  api_.put(TokenSecret("staging, prod"));
  Start();
  ASSERT_TRUE(WaitFor([&] { return Condition("PullRequestComments") == "True/Commented"; }))
      << Condition("PullRequestComments") << "\n"
      << log_text_.str();
  ASSERT_EQ(forge_.comments(4).size(), 1u);
  EXPECT_TRUE(forge_.comments(4)[0].body.starts_with(
      "<!-- plumbline:pr-comment env=prod -->\n<!-- plumbline:head=bbbb -->\n"));
  EXPECT_TRUE(forge_.comments(5).empty());
  {
    std::lock_guard lock(mu_);
    ASSERT_FALSE(tokens_.empty());
    EXPECT_EQ(tokens_[0], "forge-secret");
  }
  // Another reconcile at the same heads: nothing is written again.
  controller_->resync();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(forge_.creates() + forge_.updates(), 1);
  EXPECT_EQ(Condition("Ready"), "True/DriftDetected");
  EXPECT_EQ(log_text_.str().find("forge-secret"), std::string::npos);
}

TEST_F(PullRequestsTest, AForgeRefusingTheTokenIsAConditionAndOneEventNotAFailedReconcile) {
  api_.put(TokenSecret("prod"));
  forge_.fail_next = Error(ErrorCode::kUnauthenticated,
                           "cannot list the open pull requests (github): unauthorized (401)",
                           "https://api.github.com/repos/org/ops/pulls");
  Start();
  std::string message;
  ASSERT_TRUE(WaitFor([&] {
    return Condition("PullRequestComments", &message) == "False/ForgeUnauthenticated";
  })) << Condition("PullRequestComments")
      << "\n"
      << log_text_.str();
  EXPECT_EQ(message,
            "listing the open pull requests of fake org/ops: "
            "https://api.github.com/repos/org/ops/pulls: cannot list the open pull requests "
            "(github): unauthorized (401)");
  EXPECT_EQ(Condition("Ready"), "True/DriftDetected");  // drift is still reported
  EXPECT_TRUE(Report().has_value());
  EXPECT_EQ(EnvironmentEvents(), std::vector<std::string>{"ForgeUnauthenticated"});
  EXPECT_EQ(forge_.creates(), 0);
  EXPECT_EQ(log_text_.str().find("forge-secret"), std::string::npos);
}

TEST_F(PullRequestsTest, ATokenSecretServesOnlyTheEnvironmentsItLists) {
  struct Case {
    std::string name;
    json secret;
    std::string message;
  } cases[] = {
      {"not annotated", TokenSecret(""),
       "spec.pullRequests.tokenSecretRef: Secret plumbline-system/forge-token: is not meant for "
       "Environment prod: its plumbline.dev/allowed-environments annotation must list it "
       "(comma-separated names)"},
      {"a ServiceAccount token", TokenSecret("prod", "kubernetes.io/service-account-token"),
       "spec.pullRequests.tokenSecretRef: Secret plumbline-system/forge-token: is a "
       "ServiceAccount token (type kubernetes.io/service-account-token), not a pull-request "
       "token: refused"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api_.put(c.secret);
    Start();
    std::string message;
    ASSERT_TRUE(WaitFor([&] {
      return Condition("PullRequestComments", &message) == "False/TokenRefused" &&
             message == c.message;
    })) << Condition("PullRequestComments", &message)
        << " " << message << "\n"
        << log_text_.str();
    EXPECT_EQ(message, c.message);
    EXPECT_EQ(Condition("Ready"), "True/DriftDetected");
    std::lock_guard lock(mu_);
    EXPECT_TRUE(tokens_.empty());  // no forge was made
    controller_->stop();
    controller_.reset();
  }
}

TEST_F(PullRequestsTest, NothingIsPostedWhileTheDesiredStateDoesNotLoad) {
  api_.put(TokenSecret("prod"));
  json env = *api_.object(kEnvironment);
  env["spec"]["source"]["path"] = "envs/missing";  // not in the commit: RenderFailed
  api_.put(env);
  Start();
  ASSERT_TRUE(WaitFor([&] { return Condition("Ready") == "False/RenderFailed"; }))
      << Condition("Ready") << "\n"
      << log_text_.str();
  controller_->resync();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(forge_.creates() + forge_.updates(), 0);
  EXPECT_EQ(Condition("PullRequestComments"), "");
  std::lock_guard lock(mu_);
  EXPECT_TRUE(tokens_.empty());
}

TEST_F(PullRequestsTest, AStandbyPostsNothing) {
  api_.put(TokenSecret("prod"));
  leading_ = false;
  Start();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(forge_.creates() + forge_.updates(), 0);
  std::lock_guard lock(mu_);
  EXPECT_TRUE(tokens_.empty());
}

}  // namespace
}  // namespace plumbline
