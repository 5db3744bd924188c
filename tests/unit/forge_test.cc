// The REST forges over a scripted transport: the requests each provider sends, pagination,
// rate limits with bounded waits, errors that name the URL and never the token; and
// upsert_comment on the shared FakeForge: one comment per PR, updated in place.
#include "plumbline/forge/forge.h"

#include <gtest/gtest.h>

#include <deque>

#include "plumbline/core/object.h"
#include "support/fake_forge.h"

namespace plumbline {
namespace {

constexpr const char* kToken = "ghp_SECRET_TOKEN_1234";

// Answers requests from a script, in order, and records them.
class ScriptedTransport : public HttpTransport {
 public:
  std::deque<Result<HttpResponse>> answers;
  std::vector<HttpRequest> requests;
  Result<HttpResponse> send(const HttpRequest& request, const std::string& where) override {
    requests.push_back(request);
    if (answers.empty()) return Error(ErrorCode::kInternal, "no scripted answer", where);
    Result<HttpResponse> answer = std::move(answers.front());
    answers.pop_front();
    return answer;
  }
  void add(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    answers.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
};

struct Harness {
  std::shared_ptr<ScriptedTransport> transport = std::make_shared<ScriptedTransport>();
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<Forge> forge;
  Harness(const std::string& provider, const std::string& repository, std::string api_url = "") {
    ForgeOptions options{.provider = provider,
                         .api_url = std::move(api_url),
                         .repository = repository,
                         .token = kToken};
    options.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    options.now = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1000)); };
    auto made = make_forge(std::move(options), transport);
    EXPECT_TRUE(made.ok()) << made.error().to_string();
    if (made.ok()) forge = std::move(*made);
  }
};

TEST(Forge, GitHubFollowsLinkPagesWithItsHeaders) {
  Harness h("github", "org/ops");
  h.transport->add(
      200, R"([{"id": 1, "body": "a"}, {"id": 2, "body": "b"}])",
      {{"link",
        "<https://api.github.com/repositories/9/issues/4/comments?per_page=100&page=2>; "
        "rel=\"next\", <https://api.github.com/x?page=2>; rel=\"last\""}});
  h.transport->add(200, R"([{"id": 3, "body": "c"}])");
  auto comments = h.forge->list_comments(4);
  ASSERT_TRUE(comments.ok()) << comments.error().to_string();
  ASSERT_EQ(comments->size(), 3u);
  EXPECT_EQ((*comments)[2].id, "3");
  ASSERT_EQ(h.transport->requests.size(), 2u);
  const HttpRequest& first = h.transport->requests[0];
  EXPECT_EQ(first.method, "GET");
  EXPECT_EQ(first.url, "https://api.github.com/repos/org/ops/issues/4/comments?per_page=100");
  EXPECT_EQ(first.headers.at("Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(first.headers.at("Accept"), "application/vnd.github+json");
  EXPECT_EQ(first.headers.at("X-GitHub-Api-Version"), "2022-11-28");
  EXPECT_EQ(h.transport->requests[1].url,
            "https://api.github.com/repositories/9/issues/4/comments?per_page=100&page=2");
}

TEST(Forge, GitHubCreatesAndUpdatesComments) {
  Harness h("github", "org/ops");
  h.transport->add(201, R"({"id": 77, "body": "x"})");
  h.transport->add(200, R"({"id": 77, "body": "y"})");
  auto created = h.forge->create_comment(4, "x");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->id, "77");
  ASSERT_TRUE(h.forge->update_comment(4, "77", "y").ok());
  EXPECT_EQ(h.transport->requests[0].method, "POST");
  EXPECT_EQ(h.transport->requests[0].url, "https://api.github.com/repos/org/ops/issues/4/comments");
  EXPECT_EQ(json::parse(h.transport->requests[0].body), json({{"body", "x"}}));
  EXPECT_EQ(h.transport->requests[1].method, "PATCH");
  EXPECT_EQ(h.transport->requests[1].url,
            "https://api.github.com/repos/org/ops/issues/comments/77");
}

TEST(Forge, RateLimitsWaitAsTheServerSaysWithinABound) {
  Harness h("github", "org/ops");
  h.transport->add(429, R"({"message": "slow down"})", {{"retry-after", "3"}});
  h.transport->add(403, R"({"message": "API rate limit exceeded"})",
                   {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1005"}});
  h.transport->add(200, "[]");
  ASSERT_TRUE(h.forge->list_comments(4).ok());
  ASSERT_EQ(h.sleeps.size(), 2u);
  EXPECT_EQ(h.sleeps[0], std::chrono::seconds(3));
  EXPECT_EQ(h.sleeps[1], std::chrono::seconds(6));  // reset at 1005, now 1000, plus a second

  // A reset an hour away is not waited for: a clear error at once.
  Harness far("github", "org/ops");
  far.transport->add(403, R"({"message": "API rate limit exceeded"})",
                     {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "4600"}});
  auto result = far.forge->list_comments(4);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message().find("asks to wait 3601 s, longer than the 120 s"),
            std::string::npos)
      << result.error().to_string();
  EXPECT_TRUE(far.sleeps.empty());
}

TEST(Forge, APostIsNotRepeatedAfterAServerErrorButARateLimitIs) {
  Harness h("github", "org/ops");
  h.transport->add(502, "bad gateway");
  auto failed = h.forge->create_comment(4, "x");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(h.transport->requests.size(), 1u);  // it may have been created: never twice

  Harness limited("github", "org/ops");
  limited.transport->add(429, "{}", {{"retry-after", "1"}});
  limited.transport->add(201, R"({"id": 5})");
  ASSERT_TRUE(limited.forge->create_comment(4, "x").ok());
  EXPECT_EQ(limited.transport->requests.size(), 2u);
}

TEST(Forge, ErrorsNameTheUrlAndNeverTheToken) {
  Harness h("github", "org/ops");
  h.transport->add(401, std::string(R"({"message": "Bad credentials )") + kToken + "\"}");
  auto unauthorized = h.forge->list_comments(4);
  ASSERT_FALSE(unauthorized.ok());
  EXPECT_EQ(unauthorized.error().code(), ErrorCode::kUnauthenticated);
  std::string text = unauthorized.error().to_string();
  EXPECT_NE(text.find("https://api.github.com/repos/org/ops/issues/4/comments"), std::string::npos);
  EXPECT_NE(text.find("unauthorized (401)"), std::string::npos) << text;
  EXPECT_EQ(text.find(kToken), std::string::npos) << text;

  h.transport->add(404, R"({"message": "Not Found"})");
  auto missing = h.forge->list_comments(4);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().to_string().find("not found (404): no such repository or pull request"),
            std::string::npos);
}

TEST(Forge, TheTokenStaysOnItsOrigin) {
  Harness h("github", "org/ops");
  h.transport->add(200, "[]", {{"link", "<https://evil.example/steal?page=2>; rel=\"next\""}});
  auto result = h.forge->list_comments(4);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(h.transport->requests.size(), 1u);

  auto cleartext = make_forge({.provider = "gitea",
                               .api_url = "http://gitea.example",
                               .repository = "org/ops",
                               .token = kToken});
  ASSERT_FALSE(cleartext.ok());
  EXPECT_NE(cleartext.error().message().find("refusing to send the token over http://"),
            std::string::npos);
  EXPECT_TRUE(make_forge({.provider = "gitea",
                          .api_url = "http://127.0.0.1:3000",
                          .repository = "org/ops",
                          .token = kToken})
                  .ok());
  auto userinfo = make_forge(
      {.provider = "github", .api_url = "https://u:p@ghe.example/api/v3", .repository = "o/r"});
  ASSERT_FALSE(userinfo.ok());
  EXPECT_EQ(userinfo.error().to_string().find("u:p"), std::string::npos);
}

TEST(Forge, GiteaUsesGitHubsPathsUnderApiV1AndItsTokenHeader) {
  Harness h("gitea", "plumb/ops", "http://127.0.0.1:3000/");
  h.transport->add(200, R"([{"id": 1, "body": "x"}])", {{"x-total-count", "1"}});
  ASSERT_TRUE(h.forge->list_comments(2).ok());
  EXPECT_EQ(h.transport->requests[0].url,
            "http://127.0.0.1:3000/api/v1/repos/plumb/ops/issues/2/comments");
  EXPECT_EQ(h.transport->requests[0].headers.at("Authorization"), std::string("token ") + kToken);
  EXPECT_EQ(h.forge->max_comment_chars(), 1000000u);
}

TEST(Forge, GitLabNotesPageByXNextPageAndSkipSystemNotes) {
  Harness h("gitlab", "group/ops");
  h.transport->add(200, R"([{"id": 1, "body": "a", "system": true}, {"id": 2, "body": "b"}])",
                   {{"x-next-page", "2"}});
  h.transport->add(200, R"([{"id": 3, "body": "c"}])", {{"x-next-page", ""}});
  auto notes = h.forge->list_comments(7);
  ASSERT_TRUE(notes.ok()) << notes.error().to_string();
  ASSERT_EQ(notes->size(), 2u);
  EXPECT_EQ((*notes)[0].id, "2");
  EXPECT_EQ(h.transport->requests[0].url,
            "https://gitlab.com/api/v4/projects/group%2Fops/merge_requests/7/notes?per_page=100&"
            "sort=asc&order_by=created_at");
  EXPECT_EQ(h.transport->requests[1].url,
            "https://gitlab.com/api/v4/projects/group%2Fops/merge_requests/7/notes?per_page=100&"
            "sort=asc&order_by=created_at&page=2");
  EXPECT_EQ(h.transport->requests[0].headers.at("PRIVATE-TOKEN"), kToken);
  EXPECT_EQ(h.transport->requests[0].headers.count("Authorization"), 0u);

  h.transport->add(200, R"({"id": 3, "body": "d"})");
  ASSERT_TRUE(h.forge->update_comment(7, "3", "d").ok());
  EXPECT_EQ(h.transport->requests[2].method, "PUT");
  EXPECT_EQ(h.transport->requests[2].url,
            "https://gitlab.com/api/v4/projects/group%2Fops/merge_requests/7/notes/3");
}

TEST(Forge, OpenPullRequestsAndTheirFiles) {
  Harness h("github", "org/ops");
  h.transport->add(200, R"([{"number": 4, "title": "t", "head": {"sha": "abc", "ref": "feature"},
                             "base": {"ref": "main"}}])");
  h.transport->add(200, R"([{"filename": "envs/prod/a.yaml"},
                            {"filename": "envs/staging/b.yaml", "previous_filename": "envs/prod/b.yaml"}])");
  auto pulls = h.forge->open_pull_requests();
  ASSERT_TRUE(pulls.ok());
  ASSERT_EQ(pulls->size(), 1u);
  EXPECT_EQ((*pulls)[0].head_sha, "abc");
  EXPECT_EQ((*pulls)[0].base_ref, "main");
  auto files = h.forge->changed_files(4);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, (std::vector<std::string>{"envs/prod/a.yaml", "envs/staging/b.yaml",
                                              "envs/prod/b.yaml"}));
  EXPECT_EQ(h.transport->requests[0].url,
            "https://api.github.com/repos/org/ops/pulls?state=open&per_page=100");
}

TEST(UpsertComment, CreatesOnceThenUpdatesInPlace) {
  testing::FakeForge forge;
  forge.add_comment(4, "LGTM");
  forge.add_comment(4, "<!-- plumbline:pr-comment env=prod-eu -->\nother environment");
  const std::string marker = "<!-- plumbline:pr-comment env=prod -->";
  auto first = upsert_comment(forge, 4, marker, marker + "\nv1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->action, CommentAction::kCreated);
  auto second = upsert_comment(forge, 4, marker, marker + "\nv2");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->action, CommentAction::kUpdated);
  EXPECT_EQ(second->id, first->id);
  auto third = upsert_comment(forge, 4, marker, marker + "\nv2");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->action, CommentAction::kUnchanged);
  EXPECT_EQ(forge.comments(4).size(), 3u);
  EXPECT_EQ(forge.creates(), 1);
  EXPECT_EQ(forge.updates(), 1);
  EXPECT_EQ(forge.comments(4)[2].body, marker + "\nv2");
}

TEST(UpsertComment, AFailedListPostsNothing) {
  testing::FakeForge forge;
  forge.fail_next = Error(ErrorCode::kUnavailable, "down", "fake");
  const std::string marker = "<!-- plumbline:pr-comment env=prod -->";
  EXPECT_FALSE(upsert_comment(forge, 4, marker, marker + "\nv1").ok());
  EXPECT_EQ(forge.creates(), 0);
}

}  // namespace
}  // namespace plumbline
