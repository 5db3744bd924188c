// plumbline/server/webhook.h — Git webhooks (POST /webhooks/git): GitHub, Gitea and GitLab tell the
// controller that a repository changed, so the Environments reading it fetch at once instead
// of at their next poll.
//
//   PostRoute route = git_webhook_route({.secret = secret, .trigger = ..., .log = &log});
//
// A request is authenticated before its body is looked at:
//   GitHub  X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body keyed by the secret>
//   Gitea   X-Gitea-Signature: <hex HMAC-SHA256> (Forgejo sends it too)
//   GitLab  X-Gitlab-Token: <the secret itself>
// compared in constant time. The body is hostile until parsed: at most kWebhookMaxBody bytes
// (the route's limit), JSON of bounded depth, valid UTF-8; only a few repository URL fields
// are read from it, each bounded.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/log/log.h"
#include "plumbline/server/http_server.h"

namespace plumbline {

inline constexpr std::string_view kGitWebhookPath = "/webhooks/git";
inline constexpr std::size_t kWebhookMaxBody = 1024 * 1024;  // GitHub caps payloads at 25 MB;
                                                             // a push of a few commits is KBs

enum class GitProvider { kGitHub, kGitea, kGitLab };
std::string_view to_string(GitProvider provider);  // github | gitea | gitlab

// Which provider signed the request, when its signature (or token) matches `secret`.
// kUnauthenticated otherwise, saying which header is missing or that it does not match; the
// error never holds the secret or what the client sent.
Result<GitProvider> verify_webhook(const HttpRequest& request, std::string_view secret);

struct WebhookEvent {
  GitProvider provider = GitProvider::kGitHub;
  std::string event;      // the provider's event name, e.g. "push", "Merge Request Hook"
  bool triggers = false;  // a push or a pull/merge request: the repository may have changed
  // The repository's URLs from the payload (clone, SSH, web), deduplicated, at most 16.
  std::vector<std::string> repository_urls;
};

// The event of an authenticated request: kInvalidInput when the body is not a JSON object
// (too deep, invalid UTF-8, not JSON), when the Content-Type is not JSON, or when an event that
// triggers names no repository URL.
Result<WebhookEvent> parse_webhook(GitProvider provider, const HttpRequest& request);

struct GitWebhookOptions {
  std::string secret;  // empty: the route answers 404 (webhooks are off)
  // Fetch now every Environment that reads one of these repositories; returns their names.
  std::function<std::vector<std::string>(const std::vector<std::string>& repository_urls)> trigger;
  Logger* log = nullptr;
  // Metrics: an accepted event (provider, event) and a rejected request (reason:
  // unauthenticated | invalid).
  std::function<void(std::string_view provider, std::string_view event)> on_received;
  std::function<void(std::string_view reason)> on_rejected;
};

// The webhook secret from `file` (surrounding whitespace dropped; at most 4 KiB) or from the
// environment variable `variable`; "" when both are "". Errors name the file or the variable,
// never the value; an empty secret is an error (it would accept any signer).
Result<std::string> load_webhook_secret(const std::string& file, const std::string& variable);

// POST /webhooks/git: 401 for a missing or wrong signature, 400 for a bad payload, 415 for a
// form-encoded one, 202 with the Environments triggered, 200 for events that trigger nothing
// (ping). Nothing is triggered unless the signature holds and the payload parses.
PostRoute git_webhook_route(GitWebhookOptions options);

}  // namespace plumbline
