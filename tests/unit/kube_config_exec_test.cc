// Exec credential plugins in kubeconfigs: read as client-go reads them, run, cached, and
// refused with exact errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "plumbline/core/object.h"
#include "plumbline/kube/kube_config.h"
#include "unit/kube_config_test_util.h"

namespace plumbline {
namespace {

using namespace kubeconfig_testing;

// --- exec credential plugins ------------------------------------------------------------------

const std::string kExecHead =
    "current-context: main\n"
    "contexts: [{name: main, context: {cluster: c1, user: eks}}]\n"
    "clusters: [{name: c1, cluster: {server: 'https://k:6443', certificate-authority: "
    "'@CERTS@/ca.crt'}}]\n"
    "users:\n"
    "- name: eks\n"
    "  user:\n"
    "    exec:\n";

TEST_F(KubeConfigTest, ExecPluginIsReadAsClientGoReadsIt) {
  std::string file =
      write("config", with_certs(kExecHead + "      apiVersion: client.authentication.k8s.io/v1\n"
                                             "      command: bin/issue-token\n"
                                             "      args: [--cluster, prod]\n"
                                             "      env: [{name: REGION, value: eu-1}]\n"
                                             "      interactiveMode: IfAvailable\n"
                                             "      provideClusterInfo: true\n"
                                             "      installHint: install issue-token\n"));
  auto config = load_kube_config({file, ""}, env_of({}));
  ASSERT_TRUE(config) << config.error().to_string();
  ASSERT_NE(config->exec, nullptr);
  const ExecPlugin& plugin = config->exec->plugin();
  EXPECT_EQ(plugin.command, dir_ + "/bin/issue-token");  // relative to the kubeconfig
  EXPECT_EQ(plugin.args, (std::vector<std::string>{"--cluster", "prod"}));
  ASSERT_EQ(plugin.env.size(), 1u);
  EXPECT_EQ(plugin.env[0].first, "REGION");
  EXPECT_EQ(plugin.owner, "user \"eks\"");
  EXPECT_EQ(plugin.install_hint, "install issue-token");
  auto cluster = json::parse(plugin.cluster);
  EXPECT_EQ(cluster["server"], "https://k:6443");
  EXPECT_FALSE(cluster["certificate-authority-data"].get<std::string>().empty());
}

TEST_F(KubeConfigTest, ExecPluginMistakesAreRefused) {
  const std::string v1 = "      apiVersion: client.authentication.k8s.io/v1\n";
  const std::string at = config_path() + ":8: exec of user \"eks\" ";
  EXPECT_EQ(error_for(kExecHead + v1 + "      command: aws\n"),
            at + "has no interactiveMode (required by client.authentication.k8s.io/v1)");
  EXPECT_EQ(error_for(kExecHead + v1 + "      command: aws\n      interactiveMode: Always\n"),
            at + "has interactiveMode Always: it needs a terminal, and plumbline runs plugins "
                 "without one");
  EXPECT_EQ(error_for(kExecHead + "      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                                  "      command: aws\n"),
            at + "has apiVersion \"client.authentication.k8s.io/v1alpha1\"; plumbline supports "
                 "client.authentication.k8s.io/v1 and v1beta1");
  EXPECT_EQ(error_for(kExecHead + v1 + "      interactiveMode: Never\n"), at + "has no command");
  EXPECT_EQ(error_for(kExecHead + v1 + "      command: aws\n      interactiveMode: Never\n" +
                      "      env: [{name: A}]\n"),
            at + "env must be a list of {name, value}");
  EXPECT_EQ(error_for(kExecHead + v1 + "      command: aws\n      interactiveMode: Never\n" +
                      "    token: t\n"),
            config_path() + ":8: user \"eks\" sets both a token and an exec plugin; set only one");
}

// A plugin script that counts its runs and prints what the test asks for.
class ExecPluginTest : public KubeConfigTest {
 protected:
  ExecPlugin plugin(const std::string& credential_json, int exit_status = 0) {
    write("credential.json", credential_json);
    std::string script = write("plugin.sh",
                               "#!/bin/sh\n"
                               "echo run >> \"$RUNS\"\n"
                               "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$RUNS.info\"\n"
                               "cat \"$(dirname \"$0\")/credential.json\"\n"
                               "exit " +
                                   std::to_string(exit_status) + "\n");
    fs::permissions(script, fs::perms::owner_all);
    ExecPlugin p;
    p.api_version = "client.authentication.k8s.io/v1";
    p.command = script;
    p.env = {{"RUNS", dir_ + "/runs"}};
    p.owner = "user \"eks\"";
    p.provide_cluster_info = true;
    p.cluster = R"({"server":"https://k:6443"})";
    return p;
  }
  int runs() {
    std::string text = read_text(dir_ + "/runs");
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }
};

TEST_F(ExecPluginTest, TokenIsCachedUntilItsExpirationTimestamp) {
  using Clock = std::chrono::system_clock;
  Clock::time_point now = Clock::from_time_t(1'800'000'000);  // 2027-01-15T08:00:00Z
  ExecCredentialSource source(
      plugin(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
             R"("status":{"token":"tok-1","expirationTimestamp":"2027-01-15T08:05:00Z"}})"),
      [&] { return now; });
  EXPECT_EQ(source.token().value(), "tok-1");
  now += std::chrono::minutes(4);
  EXPECT_EQ(source.token().value(), "tok-1");
  EXPECT_EQ(runs(), 1);
  now += std::chrono::minutes(1);  // expired: the plugin runs again
  EXPECT_EQ(source.token().value(), "tok-1");
  EXPECT_EQ(runs(), 2);
  EXPECT_EQ(source.runs(), 2);
  auto info = json::parse(read_text(dir_ + "/runs.info"));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://k:6443");
}

TEST_F(ExecPluginTest, BadOutputIsAnErrorNamingThePlugin) {
  const std::string v1 =
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)";
  auto error = [&](const std::string& out, int exit_status = 0) {
    auto r = run_exec_plugin(plugin(out, exit_status));
    return r ? "ok" : r.error().message();
  };
  const std::string name = "the exec credential plugin \"" + dir_ + "/plugin.sh\" of user \"eks\"";
  EXPECT_EQ(error(v1 + R"("status":{"token":"t"}})", 3), name + " failed with exit status 3");
  EXPECT_EQ(error("not json"), name + " printed no ExecCredential JSON");
  EXPECT_EQ(
      error(R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential"})"),
      name +
          " printed \"client.authentication.k8s.io/v1beta1\" \"ExecCredential\", not an "
          "ExecCredential of client.authentication.k8s.io/v1");
  EXPECT_EQ(error(v1 + R"("status":{"clientCertificateData":"x","clientKeyData":"y"}})"),
            name +
                " returned a client certificate, which plumbline does not support from exec "
                "plugins (only tokens)");
  EXPECT_EQ(error(v1 + R"("status":{"token":"t","expirationTimestamp":"tomorrow"}})"),
            name + " returned an expirationTimestamp \"tomorrow\" that is not RFC 3339");
  auto ok = run_exec_plugin(plugin(
      v1 + R"("status":{"token":"t","expirationTimestamp":"2027-01-15T09:00:00.5+01:00"}})"));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->second, std::chrono::system_clock::from_time_t(1'800'000'000));
  ExecPlugin missing = plugin("{}");
  missing.command = "plumbline-no-such-plugin";
  missing.install_hint = "install it";
  auto absent = run_exec_plugin(missing);
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message().find("No such file or directory\ninstall it"),
            std::string::npos)
      << absent.error().message();
}

}  // namespace
}  // namespace plumbline
