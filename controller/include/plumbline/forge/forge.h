// plumbline/forge/forge.h — the forge edge: pull-request comments on GitHub, GitLab and Gitea.
//
// Forge is the interface the pr-comment command and the controller use; make_forge() gives
// the REST implementation of a provider over an HttpTransport (http_transport.h), tests put
// a fake beside it (tests/support/fake_forge.h). upsert_comment() is the one place that finds
// plumbline's comment by its marker and updates it in place, so a PR never gets two.
//
//   PL_ASSIGN_OR_RETURN(auto forge, make_forge({.provider = "github", .repository = "org/ops",
//                                               .token = token}));
//   PL_ASSIGN_OR_RETURN(CommentPosted posted, upsert_comment(*forge, 42, marker, body));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/forge/http_transport.h"

namespace plumbline {

struct ForgeComment {
  std::string id;  // the forge's comment (note) id, as text
  std::string body;
};

struct PullRequest {
  long number = 0;       // GitHub/Gitea number, GitLab iid
  std::string head_sha;  // the head commit
  std::string base_ref;  // the target branch
  std::string head_ref;  // the source branch
  std::string title;
};

class Forge {
 public:
  virtual ~Forge() = default;
  // Every comment of the PR (all pages), oldest first.
  virtual Result<std::vector<ForgeComment>> list_comments(long pr) = 0;
  virtual Result<ForgeComment> create_comment(long pr, const std::string& body) = 0;
  virtual Result<ForgeComment> update_comment(long pr, const std::string& id,
                                              const std::string& body) = 0;
  // Open pull requests (all pages) and the files one changes (renames: both names).
  virtual Result<std::vector<PullRequest>> open_pull_requests() = 0;
  virtual Result<std::vector<std::string>> changed_files(long pr) = 0;
  // The forge's comment size limit in characters (GitHub 65,536; GitLab 1,000,000).
  virtual size_t max_comment_chars() const = 0;
  // For messages: "github org/ops".
  virtual std::string describe() const = 0;
};

struct ForgeOptions {
  std::string provider;              // github | gitlab | gitea
  std::string api_url;               // default: https://api.github.com, https://gitlab.com/api/v4;
                                     // gitea has none (its URL + /api/v1)
  std::string repository;            // OWNER/NAME (github, gitea); a project id or path (gitlab)
  std::string token;                 // never printed; sent only to api_url's scheme, host and port
  std::chrono::seconds timeout{30};  // per request
  std::chrono::seconds max_wait{120};  // the longest total wait for rate limits and retries
  int max_attempts = 5;
  std::string user_agent = "plumbline";
  // Sleeps between retries (tests pass one that only records); default: this thread sleeps.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Wall clock for X-RateLimit-Reset (epoch seconds); default: system_clock.
  std::function<std::chrono::system_clock::time_point()> now;
};

// The default token variable of a provider: GITHUB_TOKEN, GITLAB_TOKEN, GITEA_TOKEN.
std::string default_token_env(std::string_view provider);
// The forge's comment limit (characters) by provider name; 0 for an unknown one.
size_t max_comment_chars(std::string_view provider);

// The REST forge of options.provider. The token goes only over https://, or http:// to a
// loopback address (a test forge); a page link to another origin is refused.
Result<std::unique_ptr<Forge>> make_forge(ForgeOptions options,
                                          std::shared_ptr<HttpTransport> transport = nullptr);

enum class CommentAction { kCreated, kUpdated, kUnchanged };
std::string_view to_string(CommentAction action);

struct CommentPosted {
  std::string id;
  CommentAction action = CommentAction::kCreated;
};

// Finds the comment whose body starts with `marker` (the first one, if a race made two) and
// updates it when its body differs, else creates one. `body` must start with `marker`.
Result<CommentPosted> upsert_comment(Forge& forge, long pr, std::string_view marker,
                                     const std::string& body);

}  // namespace plumbline
