// Git webhooks: signatures per provider, hostile payloads, the route's answers, the secret's
// sources, and repository identities.
#include "plumbline/server/webhook.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "plumbline/core/digest.h"
#include "plumbline/git/repo_location.h"

namespace plumbline {
namespace {

constexpr std::string_view kSecret = "It's a Secret to Everybody";
const std::string kPush =
    R"({"ref":"refs/heads/main","repository":{"full_name":"org/ops",)"
    R"("clone_url":"https://github.com/org/ops.git","ssh_url":"git@github.com:org/ops.git",)"
    R"("html_url":"https://github.com/org/ops"}})";

HttpRequest github(const std::string& body, std::string_view secret = kSecret,
                   std::string event = "push") {
  return {.path = "/webhooks/git",
          .headers = {{"X-GitHub-Event", std::move(event)},
                      {"Content-Type", "application/json"},
                      {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(secret, body)}},
          .body = body};
}

TEST(WebhookTest, HmacMatchesGitHubsDocumentedExample) {
  // docs.github.com, "Validating webhook deliveries".
  EXPECT_EQ(hmac_sha256_hex(kSecret, "Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  EXPECT_TRUE(equal_in_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_in_constant_time("abc", "abcd"));
}

TEST(WebhookTest, GitHubSignature) {
  auto ok = verify_webhook(github(kPush), kSecret);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, GitProvider::kGitHub);
  // Upper-case hex is the same signature.
  HttpRequest upper = github(kPush);
  for (char& c : upper.headers[2].second) c = static_cast<char>(std::toupper(c));
  upper.headers[2].second.replace(0, 7, "sha256=");
  EXPECT_TRUE(verify_webhook(upper, kSecret));

  HttpRequest altered = github(kPush);
  altered.body.back() = ' ';
  auto bad = verify_webhook(altered, kSecret);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(bad.error().to_string(),
            "webhook: X-Hub-Signature-256 does not match the body signed with the webhook secret");
  EXPECT_EQ(bad.error().to_string().find(kSecret), std::string::npos);

  auto wrong = verify_webhook(github(kPush, "another secret"), kSecret);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);

  HttpRequest missing = github(kPush);
  missing.headers.pop_back();
  auto none = verify_webhook(missing, kSecret);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().to_string(),
            "webhook: no signature: X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) and "
            "X-Gitlab-Token (GitLab) are all missing");

  HttpRequest sha1 = github(kPush);
  sha1.headers[2].second = "sha1=" + hmac_sha256_hex(kSecret, kPush);
  EXPECT_FALSE(verify_webhook(sha1, kSecret));
  EXPECT_FALSE(verify_webhook(github(kPush), ""));  // no secret: nothing is accepted
}

TEST(WebhookTest, GiteaSignature) {
  const auto gitea = [](const std::string& body, std::string_view secret) {
    // Gitea also sends GitHub's event header; its own headers decide.
    return HttpRequest{.headers = {{"X-Gitea-Event", "push"},
                                   {"X-GitHub-Event", "push"},
                                   {"X-Gitea-Signature", hmac_sha256_hex(secret, body)}},
                       .body = body};
  };
  auto ok = verify_webhook(gitea(kPush, kSecret), kSecret);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, GitProvider::kGitea);
  auto wrong = verify_webhook(gitea(kPush, "nope"), kSecret);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().to_string(),
            "webhook: X-Gitea-Signature does not match the body signed with the webhook secret");
  HttpRequest altered = gitea(kPush, kSecret);
  altered.body += " ";
  EXPECT_FALSE(verify_webhook(altered, kSecret));
  HttpRequest unsigned_ = gitea(kPush, kSecret);
  unsigned_.headers.pop_back();
  auto missing = verify_webhook(unsigned_, kSecret);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().to_string(), "webhook: X-Gitea-Signature is missing");
}

TEST(WebhookTest, GitLabToken) {
  HttpRequest request{
      .headers = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", std::string(kSecret)}},
      .body = R"({"project":{"git_http_url":"https://gitlab.example/g/sub/ops.git"}})"};
  auto ok = verify_webhook(request, kSecret);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, GitProvider::kGitLab);
  request.body += "anything";  // GitLab signs nothing: the token is the proof
  EXPECT_TRUE(verify_webhook(request, kSecret));
  request.headers[1].second = "It's a Secret to Everybod";
  auto wrong = verify_webhook(request, kSecret);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().to_string(), "webhook: X-Gitlab-Token does not match the webhook secret");
  request.headers.pop_back();
  auto missing = verify_webhook(request, kSecret);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().to_string(), "webhook: X-Gitlab-Token is missing");
}

TEST(WebhookTest, ParsesTheRepositoryUrlsOfEachProvider) {
  auto push = parse_webhook(GitProvider::kGitHub, github(kPush));
  ASSERT_TRUE(push) << push.error().to_string();
  EXPECT_TRUE(push->triggers);
  EXPECT_EQ(push->event, "push");
  EXPECT_EQ(push->repository_urls,
            (std::vector<std::string>{"https://github.com/org/ops.git",
                                      "git@github.com:org/ops.git", "https://github.com/org/ops"}));
  auto pr = parse_webhook(GitProvider::kGitHub, github(kPush, kSecret, "pull_request"));
  ASSERT_TRUE(pr);
  EXPECT_TRUE(pr->triggers);
  auto ping = parse_webhook(GitProvider::kGitHub, github(R"({"zen":"x"})", kSecret, "ping"));
  ASSERT_TRUE(ping);
  EXPECT_FALSE(ping->triggers);

  HttpRequest gitlab{.headers = {{"X-Gitlab-Event", "Merge Request Hook"}},
                     .body = R"({"project":{"git_http_url":"https://gitlab.example/g/ops.git",)"
                             R"("git_ssh_url":"git@gitlab.example:g/ops.git"},)"
                             R"("repository":{"url":"git@gitlab.example:g/ops.git"}})"};
  auto mr = parse_webhook(GitProvider::kGitLab, gitlab);
  ASSERT_TRUE(mr) << mr.error().to_string();
  EXPECT_TRUE(mr->triggers);
  EXPECT_EQ(mr->repository_urls, (std::vector<std::string>{"git@gitlab.example:g/ops.git",
                                                           "https://gitlab.example/g/ops.git"}));
}

TEST(WebhookTest, HostilePayloadsAreErrors) {
  const auto error_of = [](std::string body, std::string type = "application/json") {
    HttpRequest r = github(body);
    r.headers[1].second = std::move(type);
    auto parsed = parse_webhook(GitProvider::kGitHub, r);
    return parsed ? std::string("accepted") : parsed.error().to_string();
  };
  EXPECT_EQ(error_of(std::string(70, '[') + std::string(70, ']')),
            "webhook push: the payload nests deeper than 64");
  EXPECT_EQ(error_of(std::string(100000, '[')), "webhook push: the payload nests deeper than 64");
  EXPECT_EQ(error_of("{\"repository\":{\"clone_url\":\"https://h/\xff.git\"}}").substr(0, 48),
            "webhook push: the payload is not valid JSON: [js");
  EXPECT_EQ(error_of("[1]"), "webhook push: the payload is not a JSON object");
  EXPECT_EQ(error_of(R"({"repository":{"clone_url":5}})"),
            "webhook push: the payload names no repository URL");
  EXPECT_EQ(error_of(R"({"repository":{"clone_url":")" + std::string(3000, 'a') + "\"}}"),
            "webhook push: the payload names no repository URL");
  EXPECT_EQ(error_of("payload=%7B%7D", "application/x-www-form-urlencoded"),
            "webhook push: the payload must be JSON (set the webhook's content type to "
            "application/json)");
  HttpRequest no_event = github(kPush);
  no_event.headers.erase(no_event.headers.begin());
  EXPECT_FALSE(parse_webhook(GitProvider::kGitHub, no_event));
}

TEST(WebhookTest, RouteRejectsBeforeTriggeringAndSaysWhatItTriggered) {
  std::vector<std::vector<std::string>> triggered;
  std::vector<std::string> rejected, received;
  PostRoute route = git_webhook_route(
      {.secret = std::string(kSecret),
       .trigger =
           [&](const std::vector<std::string>& urls) {
             triggered.push_back(urls);
             return std::vector<std::string>{"prod", "staging"};
           },
       .log = nullptr,
       .on_received =
           [&](std::string_view p, std::string_view e) {
             received.push_back(std::string(p) + "/" + std::string(e));
           },
       .on_rejected = [&](std::string_view reason) { rejected.emplace_back(reason); }});
  EXPECT_EQ(route.path, "/webhooks/git");
  EXPECT_EQ(route.max_body_bytes, 1024u * 1024u);

  HttpReply bad = route.handle(github(kPush, "wrong"));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body,
            "webhook: X-Hub-Signature-256 does not match the body signed with the webhook "
            "secret\n");
  HttpReply junk = route.handle(github("{"));
  EXPECT_EQ(junk.status, 400);
  EXPECT_TRUE(triggered.empty());
  EXPECT_EQ(rejected, (std::vector<std::string>{"unauthenticated", "invalid"}));

  HttpReply ping = route.handle(github(R"({"zen":"x"})", kSecret, "ping"));
  EXPECT_EQ(ping.status, 200);
  EXPECT_TRUE(triggered.empty());
  HttpReply push = route.handle(github(kPush));
  EXPECT_EQ(push.status, 202);
  EXPECT_EQ(push.body, "fetching now: prod, staging\n");
  ASSERT_EQ(triggered.size(), 1u);
  EXPECT_EQ(triggered[0].front(), "https://github.com/org/ops.git");
  EXPECT_EQ(received, (std::vector<std::string>{"github/ping", "github/push"}));

  PostRoute off = git_webhook_route({});
  EXPECT_EQ(off.handle(github(kPush)).status, 404);
}

TEST(WebhookTest, SecretFromAFileOrAVariable) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("plumbline-webhook-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "secret") << "  s3cr3t-value\n";
  auto from_file = load_webhook_secret((dir / "secret").string(), "");
  ASSERT_TRUE(from_file) << from_file.error().to_string();
  EXPECT_EQ(*from_file, "s3cr3t-value");
  std::ofstream(dir / "empty") << "\n";
  auto empty = load_webhook_secret((dir / "empty").string(), "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().to_string(),
            "--webhook-secret-file " + (dir / "empty").string() + ": the secret is empty");
  EXPECT_FALSE(load_webhook_secret((dir / "absent").string(), ""));
  ::setenv("PLUMBLINE_TEST_WEBHOOK_SECRET", "from-env", 1);
  auto from_env = load_webhook_secret("", "PLUMBLINE_TEST_WEBHOOK_SECRET");
  ASSERT_TRUE(from_env);
  EXPECT_EQ(*from_env, "from-env");
  ::unsetenv("PLUMBLINE_TEST_WEBHOOK_SECRET");
  auto unset = load_webhook_secret("", "PLUMBLINE_TEST_WEBHOOK_SECRET");
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().to_string(),
            "--webhook-secret-env PLUMBLINE_TEST_WEBHOOK_SECRET: the variable is not set");
  auto none = load_webhook_secret("", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  std::filesystem::remove_all(dir);
}

TEST(WebhookTest, RepositoryIdentityIgnoresSchemeCaseCredentialsAndDotGit) {
  const std::string want = "github.com/org/ops";
  for (const char* url :
       {"https://github.com/org/ops.git", "https://github.com/org/ops",
        "https://GitHub.com/Org/Ops/", "https://user:t0ken@github.com/org/ops.git",
        "http://github.com:80/org/ops.git", "git@github.com:org/ops.git",
        "ssh://git@github.com:22/org/ops", "git://github.com/org/ops.git",
        "https://github.com/org/ops.git?x=1"}) {
    EXPECT_EQ(git::repository_identity(url), want) << url;
  }
  EXPECT_EQ(git::repository_identity("https://gitlab.example/g/sub/ops.git"),
            "gitlab.example/g/sub/ops");
  EXPECT_NE(git::repository_identity("https://github.com/org/ops-other"), want);
  EXPECT_NE(git::repository_identity("https://github.com/other/ops"), want);
  EXPECT_EQ(git::repository_identity("/srv/git/ops"), "");
  EXPECT_EQ(git::repository_identity("file:///srv/git/ops"), "");
  EXPECT_EQ(git::repository_identity("https://github.com/"), "");
  EXPECT_EQ(git::repository_identity("nonsense://x/y"), "");
}

}  // namespace
}  // namespace plumbline
