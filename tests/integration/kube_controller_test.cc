// `plumbline controller` against a real kube-apiserver and a real Git server (git daemon):
// the DriftReport appears with exactly the drift made by kubectl, follows a commit that
// moves Git to the live value within two poll intervals, and a broken commit keeps the last
// good report, sets Degraded with the file and line, and changes nothing else; a Git server
// that stops answering delays no other Environment.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "integration/controller_fixture.h"

namespace {

using namespace plumbline::testing;

TEST_F(KubeControllerTest, ReportFollowsGitAndSurvivesABrokenCommit) {
  ASSERT_NE(env_, nullptr);
  // The CRDs, the demo's prod environment as kubectl applies it, and one hand-made change.
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto patched = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"},{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests/memory","value":"2Gi"}])"});
  ASSERT_EQ(patched.exit_code, 0) << Describe(patched);

  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment());
  ASSERT_EQ(
      env_->Kubectl({"apply", "-f", kSource + "/policies/samples/prod-baseline.yaml"}).exit_code,
      0);

  Background controller(ControllerArgs("cache", {"--log-level", "debug"}),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  // 1. The report appears with exactly the hand-made drift.
  const std::string first = Head();
  json report;
  bool appeared = WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == first;
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(appeared) << controller.Log();
  EXPECT_EQ(DriftLines(report["status"]),
            (std::vector<std::string>{
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.limits.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)",
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.requests.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)"}))
      << report.dump(2);
  json events = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftDetected"});
  ASSERT_TRUE(events.is_object());
  EXPECT_EQ(events["items"].size(), 2u) << events.dump(2);
  json env = Get({"environment", "prod"});
  EXPECT_EQ(ConditionOf(env, "Ready", nullptr), "True") << env.dump(2);
  EXPECT_EQ(env["status"]["summary"]["drifts"], 2);
  // kstatus: `kubectl wait` works on it, and the reason says what was found.
  auto waited =
      env_->Kubectl({"wait", "--for=condition=Ready", "--timeout=10s", "environment/prod"});
  EXPECT_EQ(waited.exit_code, 0) << Describe(waited);
  EXPECT_EQ(ConditionOf(env, "Stalled", nullptr), "False");
  for (const json& c : env["status"]["conditions"]) {
    if (c["type"] == "Ready") {
      EXPECT_EQ(c["reason"], "DriftDetected") << c.dump();
    }
  }

  // 1b. A change to one workload re-evaluates that object only (no render, no full pass), and
  // the report follows it.
  size_t full_passes = EvaluationPasses(controller.Log(), "full").size();
  auto patched_back = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests/memory","value":"1Gi"}])"});
  ASSERT_EQ(patched_back.exit_code, 0) << Describe(patched_back);
  bool one_left = WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == first && DriftLines(report["status"]).size() == 1;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(one_left) << report.dump(2) << controller.Log();
  EXPECT_EQ(DriftLines(report["status"]),
            std::vector<std::string>{
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.limits.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)"});
  EXPECT_EQ(EvaluationPasses(controller.Log(), "full").size(), full_passes) << controller.Log();
  std::vector<long> incremental = EvaluationPasses(controller.Log(), "incremental");
  ASSERT_FALSE(incremental.empty()) << controller.Log();
  EXPECT_EQ(incremental.back(), 1) << "only the patched Deployment was diffed again";

  // 2. Git catches up with the cluster: the drift is gone within two poll intervals.
  Replace(dir_ / "work/manifests/envs/prod/checkout-resources.yaml",
          "          requests:\n            cpu: \"1\"\n            memory: 1Gi\n"
          "          limits:\n            cpu: \"2\"\n            memory: 1Gi",
          "          requests:\n            cpu: \"1\"\n            memory: 1Gi\n"
          "          limits:\n            cpu: \"2\"\n            memory: 2Gi");
  Commit("prod: checkout may use 2Gi");
  Push();
  const std::string second = Head();
  auto pushed = std::chrono::steady_clock::now();
  bool followed = WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == second;
      },
      std::chrono::seconds(30));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - pushed).count();
  ASSERT_TRUE(followed) << controller.Log();
  EXPECT_LT(seconds, 2 * 2.0 + 1.5) << "within two poll intervals of 2 s";
  std::printf("[ timing   ] report followed the commit after %.2f s\n", seconds);
  EXPECT_EQ(DriftLines(report["status"]), std::vector<std::string>{}) << report.dump(2);
  const std::string good_status = report["status"]["drifts"].dump();

  // 3. A broken commit: the last good report stays, Degraded names the file and line.
  {
    std::ofstream(dir_ / "work/manifests/envs/prod/ledger-resources.yaml", std::ios::app)
        << "spec:\n  template: [unclosed\n";
  }
  Commit("broken");
  Push();
  std::string message;
  bool degraded = WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "Degraded", &message) == "True";
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(degraded) << controller.Log();
  EXPECT_NE(message.find("ledger-resources.yaml:"), std::string::npos) << message;
  EXPECT_EQ(ConditionOf(env, "Stale", nullptr), "True");
  EXPECT_EQ(ConditionOf(env, "Ready", nullptr), "False");
  EXPECT_EQ(ConditionOf(env, "Stalled", nullptr), "True");
  for (const json& c : env["status"]["conditions"]) {
    if (c["type"] == "Stalled") {
      EXPECT_EQ(c["reason"], "RenderFailed") << c.dump();
    }
  }
  EXPECT_EQ(env["status"]["revision"], second) << "the last good revision";
  report = Get({"driftreport", "prod", "-n", "plumbline-system"});
  EXPECT_EQ(report["status"]["source"]["revision"], second);
  EXPECT_EQ(report["status"]["drifts"].dump(), good_status);
  EXPECT_EQ(ConditionOf(report, "Stale", nullptr), "True");

  // 4. Even in enforce mode, a drift is not corrected against a desired state that failed to
  // load: the environment waits for a good commit. (The sample policy says action: report,
  // which would narrow enforce to report; it goes.)
  ASSERT_EQ(env_->Kubectl({"delete", "consistencypolicy", "prod-baseline"}).exit_code, 0);
  ASSERT_EQ(env_->Kubectl({"patch", "environment", "prod", "--type=merge",
                           R"(-p={"spec":{"mode":"enforce"}})"})
                .exit_code,
            0);
  auto cpu = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":"3"}])"});
  ASSERT_EQ(cpu.exit_code, 0) << Describe(cpu);
  std::this_thread::sleep_for(std::chrono::seconds(6));  // three polls
  auto limit = env_->Kubectl({"get", "deployment", "checkout", "-n", "shop-prod", "-o",
                              "jsonpath={.spec.template.spec.containers[0].resources.limits.cpu}"});
  EXPECT_EQ(limit.out, "3") << "corrected against a broken commit\n" << controller.Log();
  EXPECT_EQ(controller.Log().find("\"msg\":\"corrected\""), std::string::npos);

  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
  std::string log = controller.Log();
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
}

}  // namespace

namespace {

// deploy/: the manifests apply, and the controller running as their ServiceAccount (its token,
// its ClusterRole and Role, nothing else) reads its Git Secret, reports, corrects as the
// Environment's ServiceAccount (impersonation: it has no `patch` on workloads itself), raises
// Events and leads. (Without `impersonate` or `create` on DriftReports it fails.)
TEST_F(KubeControllerTest, DeployManifestsGrantWhatTheControllerNeeds) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  auto deployed = env_->Kubectl({"apply", "-k", kSource + "/deploy"});
  ASSERT_EQ(deployed.exit_code, 0) << Describe(deployed);
  json deployment = Get({"deployment", "plumbline-controller", "-n", "plumbline-system"});
  ASSERT_TRUE(deployment.is_object());
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["serviceAccountName"], "plumbline-controller");
  std::string error;
  const std::string kubeconfig =
      env_->ServiceAccountKubeconfig("plumbline-system", "plumbline-controller", &error);
  ASSERT_FALSE(kubeconfig.empty()) << error;

  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto patched = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json", "--field-manager=human",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
  ASSERT_EQ(patched.exit_code, 0) << Describe(patched);
  // Its Git credentials from a Secret, which the Role lets it read (git daemon asks for none).
  ASSERT_NO_FATAL_FAILURE(ApplyGitSecret("git-credentials", {{"token", "unused-by-git-daemon"}}));
  ASSERT_NO_FATAL_FAILURE(
      ApplyEnvironment("  mode: enforce\n", "", ", secretRef: {name: git-credentials}"));

  Background controller(ControllerArgs("cache", {"--leader-elect"}, kubeconfig),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(60)))
      << controller.Log();
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == Head();
      },
      std::chrono::seconds(30)))
      << controller.Log();
  json env;
  ASSERT_TRUE(WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "Ready", nullptr) == "True";
      },
      std::chrono::seconds(30)))
      << env.dump(2) << controller.Log();
  json events = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
  ASSERT_TRUE(events.is_object());
  EXPECT_EQ(events["items"].size(), 1u) << events.dump(2);
  json lease = Get({"lease", "plumbline-controller", "-n", "plumbline-system"});
  ASSERT_TRUE(lease.is_object());
  EXPECT_FALSE(lease["spec"].value("holderIdentity", "").empty()) << lease.dump(2);
  EXPECT_EQ(controller.Log().find("forbidden"), std::string::npos) << controller.Log();
}

// spec.source.secretRef: the environment's Git credentials come from its Secret, read at every
// fetch, against git http-backend behind lighttpd with basic auth.
TEST_F(KubeControllerTest, GitCredentialsComeFromTheEnvironmentsSecret) {
  ASSERT_NE(env_, nullptr);
  if (!fs::exists("/usr/sbin/lighttpd") || !fs::exists("/usr/lib/git-core/git-http-backend")) {
    GTEST_SKIP() << "lighttpd or git-http-backend not installed (scripts/install-deps)";
  }
  const int http_port = FreePort();
  fs::create_directories(dir_ / "www");
  std::ofstream(dir_ / "htpasswd") << "deploy:s3cret-pass\n";
  std::ofstream(dir_ / "lighttpd.conf")
      << "server.modules = (\"mod_alias\", \"mod_setenv\", \"mod_cgi\", \"mod_auth\", "
         "\"mod_authn_file\")\n"
      << "server.document-root = \"" << (dir_ / "www").string() << "\"\n"
      << "server.bind = \"127.0.0.1\"\nserver.port = " << http_port << "\n"
      << "alias.url = (\"/private\" => \"/usr/lib/git-core/git-http-backend\")\n"
      << "cgi.assign = (\"\" => \"\")\n"
      << "setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"" << (dir_ / "srv").string()
      << "\", \"GIT_HTTP_EXPORT_ALL\" => \"\")\n"
      << "auth.backend = \"plain\"\nauth.backend.plain.userfile = \""
      << (dir_ / "htpasswd").string() << "\"\n"
      << "auth.require = (\"\" => (\"method\" => \"basic\", \"realm\" => \"git\", \"require\" "
         "=> \"valid-user\"))\n";
  Background lighttpd({"/usr/sbin/lighttpd", "-D", "-f", (dir_ / "lighttpd.conf").string()},
                      (dir_ / "lighttpd.log").string());
  ASSERT_TRUE(lighttpd.running());

  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(
      ApplyEnvironment("", "http://127.0.0.1:" + std::to_string(http_port) + "/private/ops.git",
                       ", secretRef: {name: git-credentials}"));

  // The test's Git server is plain http on loopback: the installer's explicit allowance.
  Background controller(ControllerArgs("cache", {"--allow-http-git-credentials"}),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  // 1. No Secret yet: Degraded, naming it.
  std::string message;
  json env;
  auto degraded_with = [&](const std::string& text) {
    return WaitFor(
        [&] {
          env = Get({"environment", "prod"});
          return ConditionOf(env, "Degraded", &message) == "True" &&
                 message.find(text) != std::string::npos;
        },
        std::chrono::seconds(30));
  };
  ASSERT_TRUE(degraded_with("secrets \"git-credentials\" not found")) << message << "\n"
                                                                      << controller.Log();
  EXPECT_NE(message.find("reading the Git credentials of spec.source.secretRef"), std::string::npos)
      << message;
  std::printf("[ degraded ] %s\n", message.c_str());

  // 2. A wrong password: the server's refusal, the password never shown.
  auto secret = [&](const std::string& password) {
    ApplyGitSecret("git-credentials", {{"username", "deploy"}, {"password", password}});
  };
  secret("wrong-pass");
  ASSERT_TRUE(degraded_with("rejected the credentials for user 'deploy'")) << message << "\n"
                                                                           << controller.Log();
  EXPECT_EQ(message.find("wrong-pass"), std::string::npos) << message;
  std::printf("[ degraded ] %s\n", message.c_str());

  // 3. The right one (a rotated Secret is read at the next poll): the environment syncs.
  secret("s3cret-pass");
  bool ready = WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "Ready", nullptr) == "True";
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(ready) << env.dump(2) << controller.Log();
  EXPECT_EQ(env["status"]["revision"], Head());
  json report = Get({"driftreport", "prod", "-n", "plumbline-system"});
  EXPECT_EQ(ReportRevision(report), Head()) << report.dump(2);
  EXPECT_EQ(controller.Log().find("s3cret-pass"), std::string::npos);
}

TEST_F(KubeControllerTest, EnforceCorrectsTheDriftAndStopsFightingAContestant) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  const std::string bump =
      R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])";
  auto patch = [&] {
    auto r = env_->Kubectl({"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
                            "--field-manager=autoscaler", bump});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  };
  patch();

  ASSERT_NO_FATAL_FAILURE(
      ApplyEnvironment("  mode: enforce\n  correction: {maxPerMinute: 10, maxRounds: 2}\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());

  // Round 1: corrected; plumbline owns what Git declares in the enforced categories.
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(60)))
      << controller.Log();
  json deployment = Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  json owned;
  for (const json& entry : deployment["metadata"]["managedFields"]) {
    if (entry["manager"] == "plumbline/prod") owned = entry["fieldsV1"];
  }
  // The whole enforced part of Git, not just the field that drifted (DESIGN.md "Enforcement").
  const json& app = owned["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
  EXPECT_TRUE(app["f:resources"]["f:limits"].contains("f:memory")) << owned.dump(2);
  EXPECT_TRUE(app["f:env"].contains("k:{\"name\":\"LOG_LEVEL\"}")) << owned.dump(2);
  EXPECT_FALSE(app.contains("f:image")) << owned.dump(2);  // not an enforced category
  // A second reconcile writes nothing: the object stays as it is over several polls.
  const std::string version = deployment["metadata"]["resourceVersion"];
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_EQ(Get({"deployment", "checkout", "-n", "shop-prod"})["metadata"]["resourceVersion"],
            version);

  // Round 2: the autoscaler sets it again; corrected again (maxRounds: 2).
  patch();
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(30)))
      << controller.Log();
  // Third time: contested. plumbline leaves the field and says who keeps changing it.
  patch();
  json report;
  ASSERT_TRUE(WaitForDriftAction("contested", &report, std::chrono::seconds(30)))
      << report.dump(2) << controller.Log();
  std::this_thread::sleep_for(std::chrono::seconds(5));  // > two polls: still not fought over
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");
  const json& drift = report["status"]["drifts"][0];
  EXPECT_EQ(drift["path"], "spec.template.spec.containers[name=app].resources.limits.memory");
  EXPECT_EQ(drift["contestedBy"], "autoscaler");
  json events = Get({"events", "-n", "shop-prod"});
  std::map<std::string, int> reasons;
  for (const json& e : events["items"]) ++reasons[e["reason"].get<std::string>()];
  EXPECT_EQ(reasons["DriftCorrected"], 2) << events.dump(2);
  EXPECT_EQ(reasons["DriftContested"], 1) << events.dump(2);
  EXPECT_EQ(controller.Stop(), 0);
}

}  // namespace

namespace {

// plumbline_leader from a controller's /metrics: 1, 0, or -1 when it does not answer.
int LeaderGauge(int port) {
  auto r = KubeTestEnv::Run(
      {"curl", "-s", "--max-time", "2", "http://127.0.0.1:" + std::to_string(port) + "/metrics"});
  if (r.exit_code != 0) return -1;
  size_t at = r.out.find("\nplumbline_leader ");
  if (at == std::string::npos) return -1;
  return r.out[at + std::string("\nplumbline_leader ").size()] == '1' ? 1 : 0;
}

TEST_F(KubeControllerTest, TwoReplicasOneLeaderTakeoverAfterAKillAndNoDoubleCorrection) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto bump = [&](const std::string& manager) {
    auto r = env_->Kubectl(
        {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
         "--field-manager=" + manager,
         R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  };
  bump("human-1");
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n"));

  std::unique_ptr<Background> replicas[2];
  int ports[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    replicas[i] = std::make_unique<Background>(
        ControllerArgs("cache" + std::to_string(i), {"--leader-elect"}),
        (dir_ / ("controller" + std::to_string(i) + ".log")).string());
  }
  // Each replica logs the address it listens on.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(WaitFor(
        [&] {
          std::string log = replicas[i]->Log();
          size_t at = log.find("\"listen\":\"http://127.0.0.1:");
          if (at == std::string::npos) return false;
          ports[i] =
              std::atoi(log.c_str() + at + std::string("\"listen\":\"http://127.0.0.1:").size());
          return ports[i] > 0;
        },
        std::chrono::seconds(30)))
        << replicas[i]->Log();
  }
  // Exactly one leads; it corrects the drift.
  int leader = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        int a = LeaderGauge(ports[0]), b = LeaderGauge(ports[1]);
        EXPECT_FALSE(a == 1 && b == 1) << "two leaders";
        leader = a == 1 ? 0 : b == 1 ? 1 : -1;
        return leader >= 0 && (a == 0 || b == 0);
      },
      std::chrono::seconds(60)))
      << replicas[0]->Log() << replicas[1]->Log();
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(60)))
      << replicas[leader]->Log();
  // Its Event follows the correction; the leader dies only after that.
  auto corrected_events = [&] {
    json e = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
    return e.is_object() ? e["items"].size() : size_t{0};
  };
  ASSERT_TRUE(WaitFor([&] { return corrected_events() == 1; }, std::chrono::seconds(30)));

  // The leader dies without releasing its Lease; a new drift appears meanwhile.
  replicas[leader]->Kill();
  const int standby = 1 - leader;
  auto killed = std::chrono::steady_clock::now();
  bump("human-2");
  ASSERT_TRUE(WaitFor([&] { return LeaderGauge(ports[standby]) == 1; }, std::chrono::seconds(40)))
      << replicas[standby]->Log();
  double takeover =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("[ timing   ] standby leads %.1f s after the leader died\n", takeover);
  EXPECT_LT(takeover, 20.0);
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(30)))
      << replicas[standby]->Log();
  std::this_thread::sleep_for(std::chrono::seconds(5));  // several polls by the new leader

  // Two drifts, two corrections: none applied twice.
  json events = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
  ASSERT_TRUE(events.is_object());
  EXPECT_EQ(events["items"].size(), 2u) << events.dump(2);
  json deployment = Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  int plumbline_entries = 0;
  for (const json& entry : deployment["metadata"]["managedFields"]) {
    if (entry["manager"] == "plumbline/prod") ++plumbline_entries;
  }
  EXPECT_EQ(plumbline_entries, 1);
  EXPECT_EQ(replicas[standby]->Stop(), 0);
}

}  // namespace

namespace {

// Isolation: an Environment whose Git server accepts connections and never answers holds one
// worker until its fetch deadline (the fetch process is then killed), and delays no other.
TEST_F(KubeControllerTest, AGitServerThatStopsAnsweringDelaysNoOtherEnvironment) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  // The kernel completes the handshakes (backlog); nobody ever reads or answers.
  int silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  ASSERT_EQ(listen(silent, 64), 0);
  const std::string silent_url =
      "git://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ops.git";
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", silent_url, "", "a-silent", "1h"));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", "", "", "prod", "1h"));

  auto start = std::chrono::steady_clock::now();
  Background controller(ControllerArgs("cache", {"--workers", "2", "--git-timeout", "4s"}),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());
  double healthy_after = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        json report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return report.is_object() && !ReportRevision(report).empty();
      },
      std::chrono::seconds(30)))
      << controller.Log();
  healthy_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::string message;
  ASSERT_TRUE(WaitFor(
      [&] {
        json silent_env = Get({"environment", "a-silent"});
        return ConditionOf(silent_env, "Ready", &message) == "False" &&
               message.find("did not finish") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << controller.Log();
  double silent_after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(
      message.find(silent_url + ": fetch did not finish within 4s (no answer from the server); the "
                                "fetch process was killed"),
      std::string::npos)
      << message;
  // The healthy report did not wait for the silent fetch's deadline.
  EXPECT_LT(healthy_after, silent_after - 1.0);
  std::cout << "[ timing ] healthy report after " << healthy_after
            << " s; the silent Environment failed after " << silent_after
            << " s (--git-timeout 4s, --workers 2)\n";
  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
  close(silent);
}

}  // namespace
