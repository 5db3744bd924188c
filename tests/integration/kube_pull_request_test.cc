// spec.pullRequests against the real things: `plumbline controller`, a real kube-apiserver and a
// real Gitea 1.26.4 (tests/integration/forges/start_gitea.sh) that hosts the repository and
// sends its webhooks to the controller. An open pull request that changes the Environment's
// folder gets exactly one comment; a push to it updates that comment in place (same id); a
// pull request that does not touch the folder gets none. The token comes from a Secret bound
// to the Environment and never shows in the log.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "integration/controller_fixture.h"

namespace {

using namespace plumbline::testing;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kWebhookSecret = "gitea-hook-secret-71c2";

class KubePullRequestTest : public KubeControllerTest {
 protected:
  void StartGitea() {
    gitea_dir_ = dir_ / "gitea";
    fs::create_directories(gitea_dir_);
    gitea_ = std::make_unique<Background>(
        std::vector<std::string>{"bash", kSource + "/tests/integration/forges/start_gitea.sh",
                                 kSource, gitea_dir_.string()},
        (gitea_dir_ / "gitea.log").string());
    ASSERT_TRUE(gitea_->running());
    // A cold build of Gitea takes minutes; set-up and start a few seconds.
    ASSERT_TRUE(WaitFor([&] { return fs::exists(gitea_dir_ / "port"); }, std::chrono::seconds(800)))
        << gitea_->Log();
    port_text_ = ReadText(gitea_dir_ / "port");
    token_ = ReadText(gitea_dir_ / "token");
    api_ = "http://127.0.0.1:" + port_text_ + "/api/v1";
    ASSERT_TRUE(
        WaitFor([&] { return Curl("GET", "/version").exit_code == 0; }, std::chrono::seconds(30)))
        << gitea_->Log();
  }
  static std::string ReadText(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  KubeTestEnv::Result Curl(const std::string& method, const std::string& path,
                           const std::string& body = "") {
    std::vector<std::string> argv = {"curl",
                                     "-sS",
                                     "-f",
                                     "-X",
                                     method,
                                     "-H",
                                     "Authorization: token " + token_,
                                     "-H",
                                     "Content-Type: application/json"};
    if (!body.empty()) argv.insert(argv.end(), {"--data-binary", "@-"});
    argv.push_back(api_ + path);
    return KubeTestEnv::Run(argv, body);
  }
  json CurlJson(const std::string& method, const std::string& path, const std::string& body = "") {
    auto r = Curl(method, path, body);
    return r.exit_code == 0 ? json::parse(r.out, nullptr, false) : json();
  }
  // plumbline's comments on a pull request: id → body.
  std::vector<std::pair<long, std::string>> Comments(long pr) {
    std::vector<std::pair<long, std::string>> out;
    json comments = CurlJson("GET", "/repos/plumb/ops/issues/" + std::to_string(pr) + "/comments");
    if (!comments.is_array()) return out;
    for (const json& c : comments) {
      std::string body = c.value("body", "");
      if (body.starts_with("<!-- plumbline:pr-comment")) out.emplace_back(c.value("id", 0L), body);
    }
    return out;
  }
  void GitIn(const fs::path& repo, std::vector<std::string> args) {
    std::vector<std::string> argv = {"git",
                                     "-C",
                                     repo.string(),
                                     "-c",
                                     "user.name=plumbline test",
                                     "-c",
                                     "user.email=test@plumbline.invalid"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = KubeTestEnv::Run(argv);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  std::string RevParse(const fs::path& repo, const std::string& ref) {
    return KubeTestEnv::Run({"git", "-C", repo.string(), "rev-parse", ref}).out.substr(0, 40);
  }
  std::string PushUrl() {
    return "http://plumb:" + token_ + "@127.0.0.1:" + port_text_ + "/plumb/ops.git";
  }
  // Opens a pull request head → main once Gitea has recorded the pushed branch; its number.
  long OpenPullRequest(const std::string& head, const std::string& title) {
    long number = 0;
    WaitFor(
        [&] {
          json pr = CurlJson("POST", "/repos/plumb/ops/pulls",
                             json{{"head", head}, {"base", "main"}, {"title", title}}.dump());
          if (pr.is_object()) number = pr.value("number", 0L);
          return number > 0;
        },
        std::chrono::seconds(20));
    return number;
  }

  fs::path gitea_dir_;
  std::unique_ptr<Background> gitea_;
  std::string port_text_, token_, api_;
};

TEST_F(KubePullRequestTest, OneCommentPerPullRequestThatTouchesThePathUpdatedInPlace) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(StartGitea());
  // The demo repository with the demo pull request (branch pr changes manifests/envs/prod),
  // and a branch docs that changes only the README.
  const fs::path demo = dir_ / "demo";
  auto made = KubeTestEnv::Run(
      {kSource + "/tests/integration/forges/demo_pr_repo.sh", kSource, demo.string()});
  ASSERT_EQ(made.exit_code, 0) << Describe(made);
  GitIn(demo, {"checkout", "-q", "-b", "docs", "main"});
  std::ofstream(demo / "README.md") << "The shop's environments.\n";
  GitIn(demo, {"add", "README.md"});
  GitIn(demo, {"commit", "-q", "-m", "docs: a README"});
  ASSERT_FALSE(CurlJson("POST", "/user/repos",
                        R"({"name": "ops", "default_branch": "main", "private": false})")
                   .is_null());
  GitIn(demo, {"push", "-q", PushUrl(), "main", "pr", "docs"});
  const long touching = OpenPullRequest("pr", "prod: 2Gi for checkout");
  const long docs = OpenPullRequest("docs", "docs: a README");
  ASSERT_GT(touching, 0);
  ASSERT_GT(docs, 0);

  // The cluster: CRDs, the demo's prod workloads, the token Secret bound to prod.
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyGitSecret("gitea-token", {{"token", token_}}, "prod"));
  const fs::path secret = dir_ / "webhook-secret";
  std::ofstream(secret) << kWebhookSecret;
  const int webhook_port = FreePort();
  // Gitea's webhooks (push and pull_request) to the controller.
  ASSERT_FALSE(
      CurlJson("POST", "/repos/plumb/ops/hooks",
               json{{"type", "gitea"},
                    {"active", true},
                    {"events", {"push", "pull_request"}},
                    {"config",
                     {{"url", "http://127.0.0.1:" + std::to_string(webhook_port) + "/webhooks/git"},
                      {"content_type", "json"},
                      {"secret", std::string(kWebhookSecret)}}}}
                   .dump())
          .is_null());
  // Polled every 10 minutes, pull requests every 10 minutes: within this test only the first
  // round and Gitea's webhooks can make the controller comment.
  const std::string repo_url = "http://127.0.0.1:" + port_text_ + "/plumb/ops.git";
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment(
      "  pullRequests: {provider: gitea, repository: plumb/ops, apiUrl: \"http://127.0.0.1:" +
          port_text_ + "\", tokenSecretRef: {name: gitea-token}, interval: 10m}\n",
      repo_url, "", "prod", "10m"));
  const auto started = Clock::now();
  Background controller(
      ControllerArgs("cache", {"--webhook-secret-file", secret.string(), "--webhook-listen",
                               "127.0.0.1:" + std::to_string(webhook_port)}),
      (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  std::vector<std::pair<long, std::string>> comments;
  ASSERT_TRUE(WaitFor(
      [&] {
        comments = Comments(touching);
        return !comments.empty();
      },
      std::chrono::seconds(120)))
      << controller.Log();
  std::printf("[ timing   ] controller start to the first comment: %.2f s\n",
              std::chrono::duration<double>(Clock::now() - started).count());
  ASSERT_EQ(comments.size(), 1u);
  const long id = comments[0].first;
  const std::string first_head = RevParse(demo, "pr");
  EXPECT_TRUE(
      comments[0].second.starts_with("<!-- plumbline:pr-comment env=prod -->\n"
                                     "<!-- plumbline:head=" +
                                     first_head + " -->\n"))
      << comments[0].second;
  EXPECT_NE(comments[0].second.find("`2Gi`"), std::string::npos) << comments[0].second;
  EXPECT_TRUE(Comments(docs).empty());
  json env;
  std::string message;
  ASSERT_TRUE(WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "PullRequestComments", &message) == "True";
      },
      std::chrono::seconds(30)))
      << env.dump(2);

  // A push to the pull request: Gitea's webhook, the same comment updated.
  GitIn(demo, {"checkout", "-q", "pr"});
  Replace(demo / "manifests/envs/prod/checkout-resources.yaml", "value: \"on\"", "value: \"beta\"");
  GitIn(demo, {"commit", "-q", "-am", "prod: the new checkout flow in beta"});
  const std::string second_head = RevParse(demo, "pr");
  const auto pushed = Clock::now();
  GitIn(demo, {"push", "-q", PushUrl(), "pr"});
  ASSERT_TRUE(WaitFor(
      [&] {
        comments = Comments(touching);
        return comments.size() == 1 &&
               comments[0].second.find("plumbline:head=" + second_head) != std::string::npos;
      },
      std::chrono::seconds(60)))
      << (comments.empty() ? "" : comments[0].second) << controller.Log();
  std::printf("[ timing   ] push to the pull request to its comment updated: %.2f s\n",
              std::chrono::duration<double>(Clock::now() - pushed).count());
  EXPECT_EQ(comments[0].first, id);
  EXPECT_NE(comments[0].second.find("beta"), std::string::npos);
  EXPECT_TRUE(Comments(docs).empty());
  // Gitea's own count: one comment on the pull request, none on the other.
  json all = CurlJson("GET", "/repos/plumb/ops/issues/" + std::to_string(touching) + "/comments");
  EXPECT_EQ(all.size(), 1u) << all.dump(2);

  const std::string log = controller.Log();
  EXPECT_EQ(log.find(token_), std::string::npos);
  EXPECT_NE(log.find(R"("msg":"pull request comment")"), std::string::npos) << log;
  EXPECT_EQ(controller.Stop(), 0);
}

}  // namespace
