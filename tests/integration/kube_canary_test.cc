// The controller's canary sweep against a real kube-apiserver and git daemon: unique strings
// planted in the process-wide Git token, a Secret-bound token and SSH key, URL userinfo with
// '/' in the password, a query-string token, Secret data in Git and in the cluster, DB_PASS,
// a numeric DB_PASSWORD, a DATABASE_URL with userinfo; the controller reports and corrects
// (enforce mode), and a second Environment fails to fetch its credentialed URL. Then every
// output is grepped — DriftReports, Environment status, Events, the log (debug), /metrics,
// the Git cache's file names and contents: zero hits.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <string>
#include <vector>

#include "canaries.h"
#include "integration/controller_fixture.h"
#include "signing_keys.h"

namespace {

using namespace plumbline::testing;
using namespace std::chrono_literals;

std::string Workload(const std::string& tag, const std::string& key) {
  return canary_workload("canary", "shop-prod", tag, key, tag == "git" ? "512Mi" : "1Gi");
}

std::string SecretManifest(const std::string& tag) { return canary_secret("shop-prod", tag); }

class KubeCanaryTest : public KubeControllerTest {};

TEST_F(KubeCanaryTest, NoSecretInAnyOutput) {
  ASSERT_NE(env_, nullptr);
  SigningKeys keys;
  const std::string key_file = keys.ssh_key("id_canary");
  const std::string key = SigningKeys::read(key_file);
  const std::vector<std::string> canaries = {"CANARYproctoken", "CANARYsecrettoken",
                                             "CANARYuser/info", "CANARYquery",
                                             "CANARYdbpass",    "CANARYdburl",
                                             "CANARYhook",      "CANARYsecret",
                                             "84629173",        key.substr(key.find('\n') + 1, 40)};

  fs::create_directories(dir_ / "work/canary");
  std::ofstream(dir_ / "work/canary/app.yaml") << Workload("git", key);
  std::ofstream(dir_ / "work/canary/secret.yaml") << SecretManifest("git");
  fs::create_directories(dir_ / "work/bad");
  std::ofstream(dir_ / "work/bad/app.yaml")
      << "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad, namespace: shop-prod}\n"
         "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
         "        env:\n        - {name: DB_PASSWORD, value: 84629173}\n";
  Commit("canaries");
  Push();

  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  auto live =
      env_->Kubectl({"apply", "-f", "-"}, Workload("live", key) + "---\n" + SecretManifest("live"));
  ASSERT_EQ(live.exit_code, 0) << Describe(live);
  ASSERT_NO_FATAL_FAILURE(ApplyGitSecret("canary-git",
                                         {{"token", "CANARYsecrettoken"},
                                          {"identity", key},
                                          {"known_hosts", "127.0.0.1 ssh-ed25519 AAAA"}},
                                         "prod,prod-copy"));
  const std::string daemon = "git://127.0.0.1:" + std::to_string(port_) + "/ops.git";
  auto envs = env_->Kubectl(
      {"apply", "-f", "-"},
      "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod}\n"
      "spec:\n  source: {url: \"" +
          daemon +
          "\", ref: main, path: canary, secretRef: {name: "
          "canary-git}}\n  namespaces: [shop-prod]\n  interval: 2s\n  mode: enforce\n"
          "  serviceAccountName: plumbline-writer\n---\n"
          "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod-copy}\n"
          "spec:\n  source: {url: \"https://deploy:CANARYuser/info@127.0.0.1:9/ops.git?token="
          "CANARYquery\", path: canary}\n  namespaces: [elsewhere]\n  interval: 2s\n---\n"
          "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: {name: bad}\n"
          "spec:\n  source: {url: \"" +
          daemon +
          "\", ref: main, path: bad}\n"
          "  namespaces: [elsewhere]\n  interval: 2s\n");
  ASSERT_EQ(envs.exit_code, 0) << Describe(envs);

  setenv("PLUMBLINE_GIT_TOKEN", "CANARYproctoken", 1);
  setenv("PLUMBLINE_GIT_HOST", "git.example.invalid", 1);
  const int port = FreePort();
  Background controller(ControllerArgs("cache", {"--log-level", "debug", "--listen",
                                                 "127.0.0.1:" + std::to_string(port)}),
                        (dir_ / "controller.log").string());
  unsetenv("PLUMBLINE_GIT_TOKEN");
  unsetenv("PLUMBLINE_GIT_HOST");
  ASSERT_TRUE(controller.running());

  // (The two failing Environments name another namespace: an Environment whose desired state
  // is not loaded holds the objects of its namespaces from correction.)
  // A person changes two fields after the fact (kubectl's own managers): corrected, and each
  // correction raises an Event that names the field.
  auto patched = env_->Kubectl(
      {"patch", "deployment", "canary", "-n", "shop-prod", "--type=json", "--field-manager=human",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
  ASSERT_EQ(patched.exit_code, 0) << Describe(patched);
  auto set_env = env_->Kubectl({"set", "env", "deployment/canary", "-n", "shop-prod", "-c", "app",
                                "DB_PASS=CANARYdbpasshuman"});
  ASSERT_EQ(set_env.exit_code, 0) << Describe(set_env);
  // Corrections are quick (the report may be clean again by the next look): their Events stay.
  ASSERT_TRUE(WaitFor(
      [&] {
        json events =
            Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
        return events.is_object() && events["items"].size() >= 2;
      },
      60s))
      << Get({"driftreport", "prod", "-n", "plumbline-system"}).dump(2) << controller.Log();
  std::string message;
  ASSERT_TRUE(WaitFor(
      [&] {
        return ConditionOf(Get({"environment", "prod-copy"}), "Ready", &message) == "False" &&
               ConditionOf(Get({"environment", "bad"}), "Ready", nullptr) == "False";
      },
      40s))
      << message << controller.Log();
  std::this_thread::sleep_for(3s);  // a few more polls and writes

  int swept = 0;
  auto sweep = [&](const std::string& what, const std::string& text) {
    ++swept;
    for (const std::string& canary : canaries) {
      EXPECT_EQ(text.find(canary), std::string::npos) << what << " holds " << canary << ":\n"
                                                      << text.substr(0, 6000);
    }
  };
  sweep("DriftReports", env_->Kubectl({"get", "driftreports", "-A", "-o", "json"}).out);
  // The Environments' status (their spec is the author's input, credentialed URL included).
  json environments = Get({"environments"});
  ASSERT_TRUE(environments.is_object());
  EXPECT_EQ(environments["items"].size(), 3u);
  for (const json& e : environments["items"]) {
    EXPECT_TRUE(e.contains("status")) << e.dump();
    sweep("status of Environment " + e["metadata"].value("name", ""),
          e.value("status", json()).dump());
  }
  auto events = env_->Kubectl({"get", "events", "-A", "-o", "json"});
  EXPECT_NE(events.out.find("DriftCorrected"), std::string::npos) << events.out;
  sweep("Events", events.out);
  auto metrics = KubeTestEnv::Run(
      {"curl", "-s", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/metrics"});
  EXPECT_NE(metrics.out.find("plumbline_"), std::string::npos) << metrics.out;
  sweep("/metrics", metrics.out);
  const std::string log = controller.Log();
  EXPECT_NE(log.find("desired state loaded"), std::string::npos);
  sweep("controller log", log);
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "cache", ec)) {
    sweep("cache file name", entry.path().string());
    if (entry.is_regular_file()) sweep(entry.path().string(), SigningKeys::read(entry.path()));
  }
  EXPECT_EQ(controller.Stop(), 0);
  sweep("controller log after stop", controller.Log());
  std::printf("[ canaries ] %zu canaries, %d outputs and files swept\n", canaries.size(), swept);
}

}  // namespace
