// An Environment's pull-request comments (spec.pullRequests): on each open pull request that
// touches the environment's folder, the same comment `plumbline pr-comment` posts — the
// fields it changes, what the cluster has now for them, the violations it adds or fixes —
// updated in place. A PR whose base or head fails to load or render gets no comment.
//
// One round is bounded: at most `max_pull_requests` PRs are worked on (newest first), none
// after `deadline`; a PR whose head was handled already (PullRequestMemory, or after a restart
// the head its comment names) costs no call beyond the list of open PRs. Every write asks
// `may_post` right before it is sent (leadership), like LeaderGatedClient.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plumbline/forge/forge.h"
#include "plumbline/git/git_source.h"
#include "plumbline/policy/policy.h"
#include "plumbline/render/render.h"

namespace plumbline {

// spec.pullRequests: provider, repository, apiUrl, tokenSecretRef {name, key}, interval.
struct PullRequestSettings {
  std::string provider;
  std::string repository;
  std::string api_url;  // "": the provider's public API (required for gitea)
  std::string token_secret;
  std::string token_key = "token";
  std::chrono::milliseconds interval{std::chrono::minutes(5)};  // a round at least this often
};
// nullopt when the spec has no pullRequests; an error naming the field when it is malformed.
Result<std::optional<PullRequestSettings>> parse_pull_request_settings(const json& spec);

// The ref under which the forge keeps a pull request's head in the base repository, also
// when the head lives in a fork: refs/pull/N/head (GitHub, Gitea), refs/merge-requests/N/head
// (GitLab).
std::string pull_request_head_ref(std::string_view provider, long number);

// Whether a changed file lies in the environment's folder (or is the folder).
bool touches_path(const std::vector<std::string>& files, std::string_view path);

// The hidden second line of a comment: the head it describes, read back after a restart.
std::string pull_request_head_marker(std::string_view sha);

// Per pull request number, the head commit last handled (commented on, or found not to touch
// the path). A PR whose head is still that one is left alone.
using PullRequestMemory = std::map<long, std::string>;

struct PullRequestCommentsInput {
  std::string environment;
  std::string path;  // spec.source.path
  std::string render = "auto";
  std::string provider;  // for the head refs; "": heads are opened by commit
  // For render type helm and command (and kustomize helmCharts): as in RenderOptions.
  HelmOptions helm;
  std::vector<std::string> command;
  const ExternalRenderer* external = nullptr;
  GitSourceOptions git;                     // spec.source (URL, credentials); refs set per PR
  bool allow_local_remote_bases = false;    // file:// kustomize remote bases (local sources)
  std::vector<Policy> policies;             // those that apply to the environment
  const std::vector<json>* live = nullptr;  // the environment's live objects, when loaded
  size_t max_pull_requests = 20;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<bool()> may_post;  // empty: always
};

struct PullRequestCommentResult {
  long pr = 0;
  std::optional<CommentPosted> posted;  // empty: skipped (see error)
  std::string error;                    // why nothing was posted
  ErrorCode code = ErrorCode::kInternal;
};

struct PullRequestRound {
  std::vector<PullRequestCommentResult> results;  // the PRs touching the path worked on
  size_t open = 0;                                // open PRs listed
  size_t unchanged = 0;                           // heads handled already
  size_t deferred = 0;                            // left for the next round (bound, deadline)
};

// One round over the open PRs. Errors listing them are returned; a failure on one PR is in
// its result only (and it is tried again next round).
Result<PullRequestRound> comment_on_pull_requests(Forge& forge, GitSource& git,
                                                  const PullRequestCommentsInput& input,
                                                  PullRequestMemory& memory);

}  // namespace plumbline
