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
  std::vector<std::string> opened;
  Result<GitSnapshot> open(const GitSourceOptions& options) override {
    opened.push_back(options.ref);
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
  auto first = comment_on_pull_requests(forge, git, input());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_EQ(first->size(), 1u);  // PR 5 does not touch envs/prod
  EXPECT_EQ((*first)[0].pr, 4);
  ASSERT_TRUE((*first)[0].posted) << (*first)[0].error;
  EXPECT_EQ((*first)[0].posted->action, CommentAction::kCreated);
  ASSERT_EQ(forge.comments(4).size(), 1u);
  EXPECT_TRUE(forge.comments(4)[0].body.starts_with("<!-- plumbline:pr-comment env=prod -->"));
  EXPECT_NE(forge.comments(4)[0].body.find("| `512Mi` | `1Gi` |"), std::string::npos);
  EXPECT_TRUE(forge.comments(5).empty());

  // A new push to PR 4: the same comment, updated.
  git.commits["bbbb"] = {{"envs/prod/deployment.yaml", deployment("4Gi")}};
  auto second = comment_on_pull_requests(forge, git, input());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)[0].posted);
  EXPECT_EQ((*second)[0].posted->action, CommentAction::kUpdated);
  EXPECT_EQ((*second)[0].posted->id, (*first)[0].posted->id);
  EXPECT_EQ(forge.comments(4).size(), 1u);
  EXPECT_NE(forge.comments(4)[0].body.find("`4Gi`"), std::string::npos);
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
  auto results = comment_on_pull_requests(forge, git, input());
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 2u);
  EXPECT_FALSE((*results)[0].posted);
  EXPECT_NE((*results)[0].error.find("envs/prod/deployment.yaml"), std::string::npos)
      << (*results)[0].error;
  EXPECT_FALSE((*results)[1].posted);
  EXPECT_NE((*results)[1].error.find("ref 'dddd' not found"), std::string::npos);
  EXPECT_EQ(forge.creates(), 0);

  forge.fail_next = Error(ErrorCode::kUnauthenticated, "bad token", "fake");
  EXPECT_FALSE(comment_on_pull_requests(forge, git, input()).ok());
}

TEST(PullRequestComments, SettingsAndPaths) {
  auto none = parse_pull_request_settings(json::object());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto ok = parse_pull_request_settings(
      json::parse(R"({"pullRequests": {"provider": "gitea", "repository": "plumb/ops",
                      "tokenSecretRef": {"name": "forge-token"}}})"));
  ASSERT_TRUE(ok.ok() && ok->has_value());
  EXPECT_EQ((*ok)->token_secret, "forge-token");
  auto bad = parse_pull_request_settings(
      json::parse(R"({"pullRequests": {"provider": "bitbucket", "repository": "a/b",
                      "tokenSecretRef": {"name": "t"}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(),
            "spec.pullRequests: provider must be github, gitlab or gitea, got 'bitbucket'");
  EXPECT_TRUE(touches_path({"envs/prod/a.yaml"}, "envs/prod/"));
  EXPECT_FALSE(touches_path({"envs/production/a.yaml"}, "envs/prod"));
  EXPECT_FALSE(touches_path({}, "envs/prod"));
}

}  // namespace
}  // namespace plumbline
