// `plumbline controller` against a real kube-apiserver with a kustomize remote base: the demo's
// prod overlay lists its base from another repository on the same git daemon. Pinned to a tag,
// the report is clean; on a branch, the DriftReport and the Ready condition warn; a ref that
// does not exist is a RenderFailed error and the last good report stays.
#include <gtest/gtest.h>

#include "integration/controller_fixture.h"

namespace plumbline::testing {
namespace {

class KubeRemoteBaseTest : public KubeControllerTest {
 protected:
  // The demo's base in a repository of its own (bases.git), tagged v1.
  void ServeBases() {
    const fs::path work = dir_ / "bases-work";
    fs::create_directories(work);
    fs::copy(dir_ / "work/manifests/base", work / "base", fs::copy_options::recursive);
    auto git = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = {"git",
                                       "-C",
                                       work.string(),
                                       "-c",
                                       "user.name=plumbline test",
                                       "-c",
                                       "user.email=test@plumbline.invalid"};
      argv.insert(argv.end(), args.begin(), args.end());
      auto r = KubeTestEnv::Run(argv);
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
    };
    git({"init", "-q", "-b", "main"});
    git({"add", "-A"});
    git({"commit", "-q", "-m", "bases"});
    git({"tag", "-a", "v1", "-m", "v1"});
    auto cloned = KubeTestEnv::Run(
        {"git", "clone", "-q", "--bare", work.string(), (dir_ / "srv/bases.git").string()});
    ASSERT_EQ(cloned.exit_code, 0) << Describe(cloned);
  }
  std::string BasesUrl() const { return "git://127.0.0.1:" + std::to_string(port_) + "/bases.git"; }
  void UseRef(const std::string& from, const std::string& to) {
    Replace(dir_ / "work/manifests/envs/prod/kustomization.yaml", from, to);
    Commit("base at " + to);
    Push();
  }
};

TEST_F(KubeRemoteBaseTest, PinnedBranchAndMissingRefs) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ServeBases());
  ASSERT_NO_FATAL_FAILURE(UseRef("- ../../base", "- " + BasesUrl() + "//base?ref=v1"));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: report\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  // Pinned to a tag: the same objects as the demo (nothing drifted), no warning.
  std::string pinned = Head();
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == pinned;
      },
      std::chrono::seconds(60)))
      << controller.Log();
  EXPECT_EQ(DriftLines(report["status"]), std::vector<std::string>{}) << report.dump(2);
  EXPECT_GT(report["status"]["summary"].value("objects", 0), 0);
  EXPECT_FALSE(report["status"].contains("warnings"));

  // On a branch: a warning in the DriftReport and on the Ready condition.
  ASSERT_NO_FATAL_FAILURE(UseRef("?ref=v1", "?ref=main"));
  std::string branch = Head();
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == branch;
      },
      std::chrono::seconds(60)))
      << controller.Log();
  const std::string warning = "manifests/envs/prod/kustomization.yaml: resources[0]: remote base " +
                              BasesUrl() +
                              "//base (ref main) is not pinned: 'main' is a branch and may change "
                              "under this environment; pin a tag or a commit (?ref=v1.2.3)";
  EXPECT_EQ(report["status"]["warnings"], json::array({warning}));
  std::string message;
  ASSERT_TRUE(WaitFor(
      [&] {
        json environment = Get({"environment", "prod"});
        return ConditionOf(environment, "Ready", &message) == "True" &&
               message.find("1 warning(s)") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << message;

  // A ref the bases do not have: RenderFailed naming the base; the last good report stays.
  ASSERT_NO_FATAL_FAILURE(UseRef("?ref=main", "?ref=v9"));
  ASSERT_TRUE(WaitFor(
      [&] {
        json environment = Get({"environment", "prod"});
        return ConditionOf(environment, "Ready", &message) == "False" &&
               message.find("remote base " + BasesUrl() + "//base (ref v9)") != std::string::npos;
      },
      std::chrono::seconds(60)))
      << message << "\n"
      << controller.Log();
  EXPECT_NE(message.find("ref 'v9' not found"), std::string::npos) << message;
  report = Get({"driftreport", "prod", "-n", "plumbline-system"});
  EXPECT_EQ(ReportRevision(report), branch);
}

}  // namespace
}  // namespace plumbline::testing
