// Git webhooks against `plumbline controller`, a real kube-apiserver and a real Git server: a
// signed push makes the Environment fetch at once (its poll interval is 10 minutes), and
// unsigned, wrongly signed or altered requests are refused and trigger nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "integration/controller_fixture.h"
#include "plumbline/core/digest.h"

namespace {

using namespace plumbline::testing;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSecret = "webhook-secret-3f9a";

// curl's status code for a POST of `body` with `headers`.
int Post(const std::string& url, const std::string& body, const std::vector<std::string>& headers) {
  std::vector<std::string> argv = {"curl", "-s",           "-o", "/dev/null",
                                   "-w",   "%{http_code}", "-H", "Content-Type: application/json"};
  for (const std::string& h : headers) argv.insert(argv.end(), {"-H", h});
  argv.insert(argv.end(), {"--data-binary", "@-", url});  // the body on stdin: any size
  auto r = plumbline::testing::KubeTestEnv::Run(argv, body);
  return r.exit_code == 0 ? std::atoi(r.out.c_str()) : -r.exit_code;
}

// The value of one series in a metrics exposition, or -1.
double Sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + series.size() + 2);
}

TEST_F(KubeControllerTest, SignedPushFetchesAtOnceAndBadSignaturesTriggerNothing) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  // Polled every 10 minutes: only a webhook can make it fetch within this test.
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", "", "", "prod", "10m"));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", "git://127.0.0.1:1/other.git", "", "other", "10m"));
  const fs::path secret = dir_ / "webhook-secret";
  std::ofstream(secret) << kSecret << "\n";
  const int webhook_port = FreePort();
  const std::string hook = "http://127.0.0.1:" + std::to_string(webhook_port) + "/webhooks/git";
  Background controller(
      ControllerArgs("cache", {"--webhook-secret-file", secret.string(), "--webhook-listen",
                               "127.0.0.1:" + std::to_string(webhook_port)}),
      (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  const std::string first = Head();
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == first;
      },
      std::chrono::seconds(60)))
      << controller.Log();

  // A new commit the controller will not poll for in 10 minutes.
  Replace(dir_ / "work/manifests/envs/prod/checkout-resources.yaml", "memory: 1Gi\n",
          "memory: 1536Mi\n");
  Commit("prod: more memory");
  Push();
  const std::string second = Head();

  // The push event as GitHub sends it: the repository's clone URL in another form than the
  // Environment's (scheme, port, credentials and case differ; same host and path).
  const std::string push =
      R"({"ref":"refs/heads/main","after":")" + second +
      R"(","repository":{"full_name":"o/ops","clone_url":"https://bot:pw@127.0.0.1/OPS.git"}})";
  const std::string good = "sha256=" + plumbline::hmac_sha256_hex(kSecret, push);
  const std::string wrong = "sha256=" + plumbline::hmac_sha256_hex("guess", push);
  EXPECT_EQ(Post(hook, push, {"X-GitHub-Event: push"}), 401);  // no signature
  EXPECT_EQ(Post(hook, push, {"X-GitHub-Event: push", "X-Hub-Signature-256: " + wrong}), 401);
  EXPECT_EQ(Post(hook, push + " ", {"X-GitHub-Event: push", "X-Hub-Signature-256: " + good}),
            401);  // altered body
  EXPECT_EQ(Post(hook, push, {"X-Gitlab-Event: Push Hook", "X-Gitlab-Token: guess"}), 401);
  EXPECT_EQ(Post(hook, push, {"X-Gitea-Event: push", "X-Gitea-Signature: 00"}), 401);
  EXPECT_EQ(Post(hook, std::string(2 * 1024 * 1024, ' '),
                 {"X-GitHub-Event: push", "X-Hub-Signature-256: " + good}),
            413);
  // Nothing was fetched: the report stays at the first commit.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  report = Get({"driftreport", "prod", "-n", "plumbline-system"});
  EXPECT_EQ(ReportRevision(report), first) << controller.Log();

  const auto sent = Clock::now();
  EXPECT_EQ(Post(hook, push, {"X-GitHub-Event: push", "X-Hub-Signature-256: " + good}), 202);
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == second;
      },
      std::chrono::seconds(30)))
      << controller.Log();
  const double seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  std::printf("[ timing   ] webhook to DriftReport at the pushed revision: %.2f s\n", seconds);
  EXPECT_LT(seconds, 10.0) << "well before the 10 minute poll";

  // The controller's log names the Environments triggered (only prod) and never the secret.
  const std::string log = controller.Log();
  EXPECT_NE(log.find(R"("environments":["prod"])"), std::string::npos) << log;
  EXPECT_EQ(log.find(kSecret), std::string::npos);
  EXPECT_EQ(log.find("bot:pw"), std::string::npos);
  EXPECT_NE(log.find(R"("msg":"webhook rejected")"), std::string::npos);
  // Metrics: 5 refused for their signature, 1 push received.
  auto metrics_line = log.find(R"("listen":")");
  ASSERT_NE(metrics_line, std::string::npos);
  const std::string listen =
      log.substr(metrics_line + 10, log.find('"', metrics_line + 10) - metrics_line - 10);
  auto scraped = plumbline::testing::KubeTestEnv::Run({"curl", "-s", listen + "/metrics"});
  EXPECT_EQ(Sample(scraped.out, R"(plumbline_webhooks_rejected_total{reason="unauthenticated"})"),
            5)
      << scraped.out;
  EXPECT_EQ(
      Sample(scraped.out, R"(plumbline_webhooks_received_total{provider="github",event="push"})"),
      1);
  EXPECT_EQ(controller.Stop(), 0);
}

// With two replicas, a webhook may reach the standby: it passes the request to the leader
// through the reconcile-requested-at annotation, and the leader fetches.
TEST_F(KubeControllerTest, AWebhookThatReachesTheStandbyMakesTheLeaderFetch) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", "", "", "prod", "10m"));
  const fs::path secret = dir_ / "webhook-secret";
  std::ofstream(secret) << kSecret;
  std::unique_ptr<Background> replicas[2];
  int ports[2];
  for (int i = 0; i < 2; ++i) {
    ports[i] = FreePort();
    replicas[i] = std::make_unique<Background>(
        ControllerArgs("cache" + std::to_string(i),
                       {"--leader-elect", "--webhook-secret-file", secret.string(),
                        "--webhook-listen", "127.0.0.1:" + std::to_string(ports[i])}),
        (dir_ / ("controller" + std::to_string(i) + ".log")).string());
  }
  const std::string first = Head();
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReportRevision(Get({"driftreport", "prod", "-n", "plumbline-system"})) == first;
      },
      std::chrono::seconds(90)))
      << replicas[0]->Log() << replicas[1]->Log();
  int leader = -1;
  for (int i = 0; i < 2; ++i) {
    if (replicas[i]->Log().find(R"("msg":"leading")") != std::string::npos) leader = i;
  }
  ASSERT_GE(leader, 0) << replicas[0]->Log() << replicas[1]->Log();
  const int standby = 1 - leader;

  Replace(dir_ / "work/manifests/envs/prod/checkout-resources.yaml", "memory: 1Gi\n",
          "memory: 1536Mi\n");
  Commit("prod: more memory");
  Push();
  const std::string second = Head();
  const std::string push = R"({"repository":{"clone_url":"http://127.0.0.1:3000/ops.git"}})";
  const auto sent = Clock::now();
  EXPECT_EQ(Post("http://127.0.0.1:" + std::to_string(ports[standby]) + "/webhooks/git", push,
                 {"X-Gitea-Event: push",
                  "X-Gitea-Signature: " + plumbline::hmac_sha256_hex(kSecret, push)}),
            202);
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == second;
      },
      std::chrono::seconds(30)))
      << replicas[leader]->Log() << replicas[standby]->Log();
  std::printf("[ timing   ] webhook to the standby, DriftReport at the pushed revision: %.2f s\n",
              std::chrono::duration<double>(Clock::now() - sent).count());
  json env = Get({"environment", "prod"});
  const std::string requested =
      env["metadata"]["annotations"].value("plumbline.dev/reconcile-requested-at", "");
  EXPECT_NE(requested.find(" webhook "), std::string::npos) << env.dump(2);
  EXPECT_EQ(env["status"].value("lastHandledReconcileAt", ""), requested) << env.dump(2);
}

}  // namespace
