// The Controller with kustomize remote bases, against the in-memory API server and an
// in-memory Git holding two repositories: the DriftReport and the Ready condition carry the
// warning of an unpinned base, the Environment's credentials go to its own host only, and a
// base that cannot be fetched is a render error on the Environment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "plumbline/reconcile/controller.h"
#include "unit/controller_test_util.h"

namespace plumbline {
namespace {

using namespace controller_test;
using ::testing::HasSubstr;

// What one open asked for.
struct Opened {
  std::string repo, ref, password;
  bool operator==(const Opened&) const = default;
};

// The environment's repository (git://git.test/ops.git) lists `bases`; the bases repository
// git://git.test/bases.git holds the checkout Deployment at tag v1 and branch main.
class ReposGit : public GitSource {
 public:
  Result<GitSnapshot> open(const GitSourceOptions& options) override {
    std::lock_guard lock(mu);
    opened.push_back({options.repo, options.ref, options.auth.password});
    auto tree = std::make_unique<MemoryTree>();
    std::string ref = options.ref;
    if (options.repo == "git://git.test/ops.git") {
      tree->add("envs/prod/kustomization.yaml", "resources:\n" + bases);
    } else if (options.repo == "git://git.test/bases.git" && (ref == "v1" || ref == "main")) {
      tree->add("base/kustomization.yaml", "resources: [deployment.yaml]\n");
      tree->add("base/deployment.yaml", kDeployment);
      if (ref == "v1") ref = "refs/tags/v1";
    } else if (options.repo == "https://other.test/shared.git" && ref == "v1") {
      tree->add("kustomization.yaml", "resources: []\n");
      ref = "refs/tags/v1";
    } else {
      return Error(ErrorCode::kNotFound, "ref '" + options.ref + "' not found", options.repo);
    }
    return GitSnapshot{.tree = std::move(tree),
                       .revision = std::string(40, 'c'),
                       .ref = ref,
                       .cache_path = {},
                       .reused_cache = false};
  }
  std::mutex mu;
  std::vector<Opened> opened;
  std::string bases;
};

class ControllerRemoteBaseTest : public ControllerTest {
 protected:
  void StartWith(const std::string& bases) {
    git.bases = bases;
    options_.git_auth.password = "tok3n";  // the controller's own, bound to the source's host
    options_.git_auth.host = "git.test";
    api_.put(Workload("1Gi", "info"), "kubectl-edit");
    api_.put(EnvironmentObject("prod", "report"));
    controller_ = std::make_unique<Controller>(api_, git, options_, log_);
    Status started = controller_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
  }
  json Ready() {
    std::optional<json> environment =
        api_.object({"plumbline.dev/v1alpha1", "Environment", "", "prod"});
    if (!environment || !environment->contains("status")) return json::object();
    for (const json& c : (*environment)["status"].value("conditions", json::array())) {
      if (c["type"] == "Ready") return c;
    }
    return json::object();
  }
  ReposGit git;
};

TEST_F(ControllerRemoteBaseTest, AnUnpinnedBaseIsAWarningInTheReportAndTheReadyCondition) {
  StartWith("- git://git.test/bases.git//base?ref=main\n");
  ASSERT_TRUE(WaitFor([&] {
    auto report = Report();
    return report && report->contains("status") && (*report)["status"].contains("warnings");
  })) << log_text_.str();
  const std::string warning =
      "envs/prod/kustomization.yaml: resources[0]: remote base git://git.test/bases.git//base "
      "(ref main) is not pinned: 'main' is a branch and may change under this environment; pin "
      "a tag or a commit (?ref=v1.2.3)";
  EXPECT_EQ((*Report())["status"]["warnings"], json::array({warning}));
  ASSERT_TRUE(WaitFor([&] { return Ready().value("status", "") == "True"; })) << log_text_.str();
  EXPECT_EQ(
      Ready()["message"],
      "reconciled at cccccccccccc: 0 open drift(s), 0 violation(s), 1 warning(s): " + warning);
  EXPECT_THAT(log_text_.str(), HasSubstr("render warning"));
}

TEST_F(ControllerRemoteBaseTest, CredentialsGoToTheSourcesHostOnly) {
  StartWith("- git://git.test/bases.git//base?ref=v1\n- https://other.test/shared.git?ref=v1\n");
  ASSERT_TRUE(WaitFor([&] {
    auto report = Report();
    return report && report->contains("status");
  })) << log_text_.str();
  EXPECT_FALSE((*Report())["status"].contains("warnings"));
  std::lock_guard lock(git.mu);
  ASSERT_GE(git.opened.size(), 3u);
  EXPECT_EQ(git.opened[0], (Opened{"git://git.test/ops.git", "main", "tok3n"}));
  EXPECT_EQ(git.opened[1], (Opened{"git://git.test/bases.git", "v1", "tok3n"}));
  EXPECT_EQ(git.opened[2], (Opened{"https://other.test/shared.git", "v1", ""}));
}

TEST_F(ControllerRemoteBaseTest, ABaseThatCannotBeFetchedIsARenderError) {
  StartWith("- git://git.test/bases.git//base?ref=v9\n");
  ASSERT_TRUE(WaitFor([&] { return Ready().value("reason", "") == "RenderFailed"; }))
      << log_text_.str();
  EXPECT_EQ(Ready()["message"],
            "rendering envs/prod at cccccccccccc: envs/prod/kustomization.yaml: resources[0]: "
            "remote base git://git.test/bases.git//base (ref v9): git://git.test/bases.git: ref "
            "'v9' not found");
  EXPECT_TRUE(api_.writes("apply deployments").empty());
}

}  // namespace
}  // namespace plumbline
