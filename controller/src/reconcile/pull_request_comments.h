// An Environment's pull-request comments (spec.pullRequests): on each open pull request that
// touches the environment's folder, the same comment `plumbline pr-comment` posts — the
// fields it changes, what the cluster has now for them, the violations it adds or fixes —
// updated in place. A PR whose base or head fails to load or render gets no comment.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plumbline/forge.h"
#include "plumbline/git_source.h"
#include "plumbline/policy.h"
#include "plumbline/render.h"

namespace plumbline {

// spec.pullRequests: provider, repository, tokenSecretRef.name.
struct PullRequestSettings {
  std::string provider;
  std::string repository;
  std::string token_secret;
};
// nullopt when the spec has no pullRequests; an error naming the field when it is malformed.
Result<std::optional<PullRequestSettings>> parse_pull_request_settings(const json& spec);

// Whether a changed file lies in the environment's folder (or is the folder).
bool touches_path(const std::vector<std::string>& files, std::string_view path);

struct PullRequestCommentsInput {
  std::string environment;
  std::string path;  // spec.source.path
  std::string render = "auto";
  // For render type helm and command (and kustomize helmCharts): as in RenderOptions.
  HelmOptions helm;
  std::vector<std::string> command;
  const ExternalRenderer* external = nullptr;
  GitSourceOptions git;                     // spec.source (URL, credentials); the ref is set per PR
  std::vector<Policy> policies;             // those that apply to the environment
  const std::vector<json>* live = nullptr;  // the environment's live objects, when loaded
};

struct PullRequestCommentResult {
  long pr = 0;
  std::optional<CommentPosted> posted;  // empty: skipped (see error)
  std::string error;                    // why nothing was posted
};

// One round: every open PR that touches the path gets its comment created or updated.
// Errors listing the PRs are returned; a failure on one PR is in its result only.
Result<std::vector<PullRequestCommentResult>> comment_on_pull_requests(
    Forge& forge, GitSource& git, const PullRequestCommentsInput& input);

}  // namespace plumbline
