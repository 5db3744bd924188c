// An Environment's pull-request comments on the shared FakeForge: open PRs that touch its
// folder get one comment each, updated in place; a PR whose head fails to render gets none.
#include "reconcile/pull_request_comments.h"

#include <gtest/gtest.h>

#include <map>

#include "support/fake_forge.h"

namespace plumbline {
namespace {

std::string deployment(const std::string& memory) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout, namespace: shop}\n"
         "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
         "        resources:\n          limits: {cpu: '1', memory: " +
         memory + "}\n";
}

// Commits by ref: each a tree with envs/prod/deployment.yaml (or any files).
class CommitsGit : public GitSource {
 public:
  std::map<std::string, std::map<std::string, std::string>> commits;
  std::vector<std::string> opened;                // refs read
  std::vector<std::vector<std::string>> fetches;  // extra refs of each fetch
  Result<GitSnapshot> open(const GitSourceOptions& options) override {
    if (options.fetch) {
      fetches.push_back(options.extra_refs);
    } else {
      opened.push_back(options.ref);
    }
    auto it = commits.find(options.ref);
    if (it == commits.end()) return not_found("ref '" + options.ref + "' not found", options.repo);
    return GitSnapshot{.tree = std::make_unique<MemoryTree>(it->second),
                       .revision = std::string(40, options.ref[0]),
                       .ref = options.ref,
                       .cache_path = {},
                       .reused_cache = false};
  }
};

PullRequestCommentsInput input() {
  PullRequestCommentsInput in;
  in.environment = "prod";
  in.path = "envs/prod";
  in.git.repo = "https://git.example/ops.git";
  return in;
}

TEST(PullRequestComments, CommentsOnPullRequestsThatTouchThePathAndUpdatesInPlace) {
  testing::FakeForge forge;
  CommitsGit git;
  git.commits["main"] = {{"envs/prod/deployment.yaml", deployment("512Mi")}};
  git.commits["bbbb"] = {{"envs/prod/deployment.yaml", deployment("1Gi")}};
  git.commits["cccc"] = {{"envs/prod/deployment.yaml", deployment("2Gi")}};
  forge.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                         {"envs/prod/deployment.yaml"});
  forge.add_pull_request({.number = 5, .head_sha = "cccc", .base_ref = "main"},
                         {"envs/staging/deployment.yaml", "README.md"});
  PullRequestMemory memory;
  auto round = comment_on_pull_requests(forge, git, input(), memory);
  ASSERT_TRUE(round.ok()) << round.error().to_string();
  auto first = &round->results;
  ASSERT_EQ(first->size(), 1u);  // PR 5 does not touch envs/prod
  EXPECT_EQ((*first)[0].pr, 4);
  ASSERT_TRUE((*first)[0].posted) << (*first)[0].error;
  EXPECT_EQ((*first)[0].posted->action, CommentAction::kCreated);
  const std::string first_id = (*first)[0].posted->id;
  EXPECT_EQ(memory, (PullRequestMemory{{4, "bbbb"}, {5, "cccc"}}));
  ASSERT_EQ(forge.comments(4).size(), 1u);
  EXPECT_TRUE(forge.comments(4)[0].body.starts_with(
      "<!-- plumbline:pr-comment env=prod -->\n<!-- plumbline:head=bbbb -->\n"));
  EXPECT_NE(forge.comments(4)[0].body.find("| `512Mi` | `1Gi` |"), std::string::npos);
  EXPECT_TRUE(forge.comments(5).empty());

  // The same heads again: nothing rendered, no call beyond the list, nothing written.
  const size_t opened = git.opened.size();
  const int lists = forge.file_lists();
  auto same = comment_on_pull_requests(forge, git, input(), memory);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->results.empty());
  EXPECT_EQ(same->unchanged, 2u);
  EXPECT_EQ(git.opened.size(), opened);
  EXPECT_EQ(forge.file_lists(), lists);
  EXPECT_EQ(forge.creates() + forge.updates(), 1);

  // A new push to PR 4 (head dddd): the same comment, updated.
  git.commits["dddd"] = {{"envs/prod/deployment.yaml", deployment("4Gi")}};
  forge.set_head(4, "dddd");
  auto next = comment_on_pull_requests(forge, git, input(), memory);
  ASSERT_TRUE(next.ok());
  auto second = &next->results;
  ASSERT_EQ(second->size(), 1u);
  ASSERT_TRUE((*second)[0].posted) << (*second)[0].error;
  EXPECT_EQ((*second)[0].posted->action, CommentAction::kUpdated);
  EXPECT_EQ((*second)[0].posted->id, first_id);
  EXPECT_EQ(forge.comments(4).size(), 1u);
  EXPECT_NE(forge.comments(4)[0].body.find("`4Gi`"), std::string::npos);
}

// kustomize remote bases are fetched for the PR's base and head as for the Environment.
TEST(PullRequestComments, RemoteBasesAreRendered) {
  testing::FakeForge forge;
  CommitsGit git;
  auto overlay = [](const std::string& ref) {
    return std::map<std::string, std::string>{
        {"envs/prod/kustomization.yaml",
         "resources: ['https://git.example/bases.git//base?ref=" + ref + "']\n"}};
  };
  git.commits["main"] = overlay("v1");
  git.commits["bbbb"] = overlay("v2");
  git.commits["v1"] = {{"base/kustomization.yaml", "resources: [d.yaml]\n"},
                       {"base/d.yaml", deployment("512Mi")}};
  git.commits["v2"] = {{"base/kustomization.yaml", "resources: [d.yaml]\n"},
                       {"base/d.yaml", deployment("1Gi")}};
  forge.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                         {"envs/prod/kustomization.yaml"});
  PullRequestMemory memory;
  auto round = comment_on_pull_requests(forge, git, input(), memory);
  ASSERT_TRUE(round.ok()) << round.error().to_string();
  ASSERT_EQ(round->results.size(), 1u);
  ASSERT_TRUE(round->results[0].posted) << round->results[0].error;
  ASSERT_EQ(forge.comments(4).size(), 1u);
  EXPECT_NE(forge.comments(4)[0].body.find("| `512Mi` | `1Gi` |"), std::string::npos)
      << forge.comments(4)[0].body;
}

TEST(PullRequestComments, NoCommentOnStateThatFailedToLoad) {
  testing::FakeForge forge;
  CommitsGit git;
  git.commits["main"] = {{"envs/prod/deployment.yaml", deployment("512Mi")}};
  git.commits["bbbb"] = {{"envs/prod/deployment.yaml", "kind: [unclosed"}};
  forge.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                         {"envs/prod/deployment.yaml"});
  forge.add_pull_request({.number = 6, .head_sha = "dddd", .base_ref = "main"},
                         {"envs/prod/deployment.yaml"});  // a head the cache has not fetched
  PullRequestMemory memory;
  auto round = comment_on_pull_requests(forge, git, input(), memory);
  ASSERT_TRUE(round.ok());
  auto results = &round->results;
  ASSERT_EQ(results->size(), 2u);
  // Newest first: PR 6, then PR 4.
  EXPECT_EQ((*results)[0].pr, 6);
  EXPECT_FALSE((*results)[0].posted);
  EXPECT_NE((*results)[0].error.find("ref 'dddd' not found"), std::string::npos);
  EXPECT_EQ((*results)[1].pr, 4);
  EXPECT_FALSE((*results)[1].posted);
  EXPECT_NE((*results)[1].error.find("envs/prod/deployment.yaml"), std::string::npos)
      << (*results)[1].error;
  EXPECT_EQ(forge.creates(), 0);
  EXPECT_TRUE(memory.empty());  // tried again next round

  forge.fail_next = Error(ErrorCode::kUnauthenticated, "bad token", "fake");
  auto refused = comment_on_pull_requests(forge, git, input(), memory);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated);
}

// After a restart the memory is empty: a comment that already names the head is left alone
// (nothing rendered or written); one naming an older head is updated.
TEST(PullRequestComments, AfterARestartTheCommentNamesTheHeadItDescribes) {
  testing::FakeForge forge;
  CommitsGit git;
  git.commits["main"] = {{"envs/prod/deployment.yaml", deployment("512Mi")}};
  git.commits["bbbb"] = {{"envs/prod/deployment.yaml", deployment("1Gi")}};
  forge.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                         {"envs/prod/deployment.yaml"});
  PullRequestMemory before;
  ASSERT_TRUE(comment_on_pull_requests(forge, git, input(), before).ok());
  ASSERT_EQ(forge.creates(), 1);

  PullRequestMemory restarted;
  git.opened.clear();
  auto round = comment_on_pull_requests(forge, git, input(), restarted);
  ASSERT_TRUE(round.ok());
  EXPECT_TRUE(round->results.empty());
  EXPECT_EQ(round->unchanged, 1u);
  EXPECT_TRUE(git.opened.empty());
  EXPECT_EQ(forge.creates() + forge.updates(), 1);
  EXPECT_EQ(restarted, (PullRequestMemory{{4, "bbbb"}}));
}

// A round is bounded: the newest PRs first, at most max_pull_requests, the rest next round.
TEST(PullRequestComments, ARoundWorksOnTheNewestPullRequestsOnly) {
  testing::FakeForge forge;
  CommitsGit git;
  git.commits["main"] = {{"envs/prod/deployment.yaml", deployment("512Mi")}};
  for (long n = 1; n <= 5; ++n) {
    std::string sha(1, static_cast<char>('a' + n));
    git.commits[sha] = {{"envs/prod/deployment.yaml", deployment(std::to_string(n) + "Gi")}};
    forge.add_pull_request({.number = n, .head_sha = sha, .base_ref = "main"},
                           {"envs/prod/deployment.yaml"});
  }
  PullRequestCommentsInput in = input();
  in.max_pull_requests = 2;
  PullRequestMemory memory;
  auto round = comment_on_pull_requests(forge, git, in, memory);
  ASSERT_TRUE(round.ok());
  ASSERT_EQ(round->results.size(), 2u);
  EXPECT_EQ(round->results[0].pr, 5);
  EXPECT_EQ(round->results[1].pr, 4);
  EXPECT_EQ(round->deferred, 3u);
  auto next = comment_on_pull_requests(forge, git, in, memory);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->results.size(), 2u);
  EXPECT_EQ(next->results[0].pr, 3);
  EXPECT_EQ(next->unchanged, 2u);

  // A deadline already passed: nothing is worked on.
  in.deadline = std::chrono::steady_clock::now();
  auto late = comment_on_pull_requests(forge, git, in, memory);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->results.empty());
  EXPECT_EQ(late->deferred, 1u);
}

// Leadership lost: not one write reaches the forge, and the PR is not remembered, so the
// new leader comments.
TEST(PullRequestComments, NothingIsPostedWithoutLeadership) {
  testing::FakeForge forge;
  CommitsGit git;
  git.commits["main"] = {{"envs/prod/deployment.yaml", deployment("512Mi")}};
  git.commits["bbbb"] = {{"envs/prod/deployment.yaml", deployment("1Gi")}};
  forge.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                         {"envs/prod/deployment.yaml"});
  forge.add_comment(4, "<!-- plumbline:pr-comment env=prod -->\nan older comment");
  PullRequestCommentsInput in = input();
  in.may_post = [] { return false; };
  PullRequestMemory memory;
  auto round = comment_on_pull_requests(forge, git, in, memory);
  ASSERT_TRUE(round.ok());
  ASSERT_EQ(round->results.size(), 1u);
  EXPECT_FALSE(round->results[0].posted);
  EXPECT_EQ(round->results[0].code, ErrorCode::kCancelled);
  EXPECT_EQ(forge.creates() + forge.updates(), 0);
  EXPECT_TRUE(memory.empty());
}

// A head in a fork is fetched by the PR's ref in the base repository, in the round's one fetch.
TEST(PullRequestComments, HeadsAreFetchedByThePullRequestRef) {
  testing::FakeForge forge;
  CommitsGit git;
  git.commits["main"] = {{"envs/prod/deployment.yaml", deployment("512Mi")}};
  git.commits["bbbb"] = {{"envs/prod/deployment.yaml", deployment("1Gi")}};
  forge.add_pull_request({.number = 4, .head_sha = "bbbb", .base_ref = "main"},
                         {"envs/prod/deployment.yaml"});
  PullRequestCommentsInput in = input();
  in.provider = "gitlab";
  PullRequestMemory memory;
  ASSERT_TRUE(comment_on_pull_requests(forge, git, in, memory).ok());
  ASSERT_FALSE(git.fetches.empty());
  EXPECT_EQ(git.fetches[0], std::vector<std::string>{"refs/merge-requests/4/head"});
  EXPECT_EQ(forge.creates(), 1);
}

TEST(PullRequestComments, SettingsAndPaths) {
  auto none = parse_pull_request_settings(json::object());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto ok = parse_pull_request_settings(
      json::parse(R"({"pullRequests": {"provider": "github", "repository": "plumb/ops",
                      "tokenSecretRef": {"name": "forge-token"}}})"));
  ASSERT_TRUE(ok.ok() && ok->has_value());
  EXPECT_EQ((*ok)->token_secret, "forge-token");
  auto bad = parse_pull_request_settings(
      json::parse(R"({"pullRequests": {"provider": "bitbucket", "repository": "a/b",
                      "tokenSecretRef": {"name": "t"}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(),
            "spec.pullRequests: provider must be github, gitlab or gitea, got 'bitbucket'");
  auto gitea = parse_pull_request_settings(json::parse(
      R"({"pullRequests": {"provider": "gitea", "repository": "plumb/ops",
          "apiUrl": "https://gitea.example", "interval": "30s",
          "tokenSecretRef": {"name": "forge-token", "key": "pat"}}})"));
  ASSERT_TRUE(gitea.ok() && gitea->has_value()) << gitea.error().to_string();
  EXPECT_EQ((*gitea)->api_url, "https://gitea.example");
  EXPECT_EQ((*gitea)->token_key, "pat");
  EXPECT_EQ((*gitea)->interval, std::chrono::seconds(30));
  EXPECT_EQ((*ok)->token_key, "token");
  auto no_api = parse_pull_request_settings(
      json::parse(R"({"pullRequests": {"provider": "gitea", "repository": "plumb/ops",
                      "tokenSecretRef": {"name": "t"}}})"));
  ASSERT_FALSE(no_api.ok());
  EXPECT_EQ(no_api.error().to_string(),
            "spec.pullRequests: apiUrl is required for gitea (e.g. https://gitea.example)");
  EXPECT_EQ(pull_request_head_ref("github", 7), "refs/pull/7/head");
  EXPECT_EQ(pull_request_head_ref("gitea", 7), "refs/pull/7/head");
  EXPECT_EQ(pull_request_head_ref("gitlab", 7), "refs/merge-requests/7/head");
  EXPECT_TRUE(valid_extra_ref("refs/pull/7/head"));
  EXPECT_FALSE(valid_extra_ref("refs/pull/*/head"));
  EXPECT_FALSE(valid_extra_ref("refs/../x"));
  EXPECT_FALSE(valid_extra_ref("refs/a:b"));
  EXPECT_TRUE(touches_path({"envs/prod/a.yaml"}, "envs/prod/"));
  EXPECT_TRUE(touches_path({"README.md", "envs/prod"}, "envs/prod"));
  EXPECT_FALSE(touches_path({"envs/production/a.yaml"}, "envs/prod"));
  EXPECT_FALSE(touches_path({}, "envs/prod"));
}

}  // namespace
}  // namespace plumbline
