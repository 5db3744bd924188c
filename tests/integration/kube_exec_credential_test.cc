// kubeconfig exec credential plugins against a real kube-apiserver: `plumbline diff --live
// cluster` authenticates with the token a plugin script issues (a real ServiceAccount token
// from TokenRequest), the plugin runs once per token lifetime, and after its
// expirationTimestamp a new token is fetched — needed here, because the old one was revoked.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "integration/kube_test_client.h"
#include "integration/kube_testenv.h"

namespace {

using plumbline::testing::KubeTestEnv;
using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kSource = PLUMBLINE_SOURCE_DIR;
constexpr int kTokenSeconds = 4;  // the ExecCredential's lifetime

std::string Show(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\n" + r.out.substr(0, 2000) + "\n" + r.err;
}

std::string Slurp(const std::string& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int Runs(const std::string& dir) { return std::stoi("0" + Slurp(dir + "/runs")); }

TEST(KubeExecCredentialTest, LiveClusterThroughAPluginThatRefreshesItsExpiredToken) {
  std::string error;
  auto env = KubeTestEnv::Start({}, &error);
  ASSERT_NE(env, nullptr) << error;
  const std::string dir = env->state_dir();
  // The demo's prod environment, and a ServiceAccount that may read it (and nothing else).
  ASSERT_FALSE(
      env->RestrictedKubeconfig(
             "shop-prod", "reader", {"get", "list", "watch"}, {"", "apps", "batch"},
             {"deployments", "statefulsets", "daemonsets", "cronjobs", "configmaps", "services"},
             &error)
          .empty())
      << error;
  auto applied = env->Kubectl({"apply", "-k", kSource + "/manifests/envs/prod"});
  ASSERT_EQ(applied.exit_code, 0) << Show(applied);

  // The plugin: counts its runs, keeps what it was given, prints a fresh token each time.
  fs::create_directories(dir + "/bin");
  std::ofstream(dir + "/bin/issue-token")
      << "#!/bin/sh\nset -e\n"
         "echo $(( $(cat \"$STATE/runs\" 2>/dev/null || echo 0) + 1 )) > \"$STATE/runs\"\n"
         "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$STATE/exec-info\"\n"
         "token=$(kubectl --kubeconfig \"$ADMIN\" create token \"$2\" -n \"$1\" --duration=10m)\n"
         "printf '%s' \"$token\" > \"$STATE/last-token\"\n"
         "expiry=$(date -u -d \"+$TTL seconds\" +%Y-%m-%dT%H:%M:%SZ)\n"
         "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
         "\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"%s\"}}\\n' \"$token\" "
         "\"$expiry\"\n";
  fs::permissions(dir + "/bin/issue-token", fs::perms::owner_all);
  json exec = {{"apiVersion", "client.authentication.k8s.io/v1"},
               {"command", "bin/issue-token"},  // relative to the kubeconfig
               {"args", {"shop-prod", "reader"}},
               {"env",
                {{{"name", "STATE"}, {"value", dir}},
                 {{"name", "ADMIN"}, {"value", env->kubeconfig()}},
                 {{"name", "TTL"}, {"value", std::to_string(kTokenSeconds)}}}},
               {"interactiveMode", "Never"},
               {"provideClusterInfo", true}};
  json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", "testenv"},
         {"cluster", {{"server", env->server()}, {"certificate-authority", env->ca_file()}}}}}},
      {"users", {{{"name", "eks-like"}, {"user", {{"exec", exec}}}}}},
      {"contexts",
       {{{"name", "main"}, {"context", {{"cluster", "testenv"}, {"user", "eks-like"}}}}}},
      {"current-context", "main"}};
  const std::string kubeconfig = dir + "/kubeconfig-exec";
  std::ofstream(kubeconfig) << config.dump(2);

  // The CLI: one plugin run serves every call of the diff (discovery and six LISTs).
  auto diff = KubeTestEnv::Run({PLUMBLINE_BINARY, "diff", "--repo", kSource, "--path",
                                "manifests/envs/prod", "--live", "cluster", "--kubeconfig",
                                kubeconfig, "--format", "json"});
  ASSERT_EQ(diff.exit_code, 0) << Show(diff);
  EXPECT_EQ(json::parse(diff.out)["summary"]["objects"], 6) << diff.out;
  EXPECT_EQ(Runs(dir), 1);
  json info = json::parse(Slurp(dir + "/exec-info"));
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], env->server());
  EXPECT_FALSE(info["spec"]["cluster"]["certificate-authority-data"].get<std::string>().empty());

  // One long-lived client: the token is cached while it is valid...
  auto client = plumbline::testing::ClientFor(kubeconfig, std::chrono::seconds(30));
  ASSERT_NE(client, nullptr);
  auto deployments = client->resource_for("apps/v1", "Deployment");
  ASSERT_TRUE(deployments.ok()) << deployments.error().to_string();
  ASSERT_TRUE(client->list(*deployments, "shop-prod", {}).ok());
  ASSERT_TRUE(client->list(*deployments, "shop-prod", {}).ok());
  EXPECT_EQ(Runs(dir), 2);
  // ...and replaced after it expired. Recreating the ServiceAccount revokes the old token, so
  // the second LIST can only succeed with a new one.
  const std::string old_token = Slurp(dir + "/last-token");
  for (const std::vector<std::string>& step :
       {std::vector<std::string>{"delete", "serviceaccount", "reader", "-n", "shop-prod"},
        std::vector<std::string>{"create", "serviceaccount", "reader", "-n", "shop-prod"}}) {
    auto r = env->Kubectl(step);
    ASSERT_EQ(r.exit_code, 0) << Show(r);
  }
  // The apiserver caches a token's authentication for 10 s: wait until it refuses the old one.
  KubeTestEnv::Result revoked;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    revoked = KubeTestEnv::Run({"kubectl", "--server=" + env->server(),
                                "--certificate-authority=" + env->ca_file(), "--token=" + old_token,
                                "get", "deployments", "-n", "shop-prod"});
  } while (revoked.exit_code == 0 && std::chrono::steady_clock::now() < until);
  ASSERT_NE(revoked.err.find("Unauthorized"), std::string::npos) << Show(revoked);
  auto listed = client->list(*deployments, "shop-prod", {});
  EXPECT_TRUE(listed.ok()) << listed.error().to_string();
  EXPECT_EQ(Runs(dir), 3);
  EXPECT_TRUE(Slurp(dir + "/last-token") != old_token) << "the plugin issued no new token";
}

}  // namespace
