// Git webhooks: signature checks per provider, the few payload fields plumbline reads, and
// the route that ties them to the controller.
#include "plumbline/server/webhook.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>

#include "plumbline/core/digest.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/object.h"
#include "plumbline/core/strings.h"

namespace plumbline {
namespace {

constexpr int kMaxDepth = 64;               // push payloads nest about 5 deep
constexpr std::size_t kMaxUrlBytes = 2048;  // a longer "URL" is not one plumbline could match
constexpr std::size_t kMaxUrls = 16;

// Thrown from the parser callback to refuse a body nested deeper than kMaxDepth.
struct TooDeep {};

Error unauthenticated(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message), "webhook");
}

// `signature` (hex, any case) is the HMAC-SHA256 of the body keyed by `secret`.
Status check_hmac(std::string_view signature, std::string_view header, std::string_view secret,
                  std::string_view body) {
  if (equal_in_constant_time(to_lower_ascii(signature), hmac_sha256_hex(secret, body))) return {};
  return unauthenticated(std::string(header) +
                         " does not match the body signed with the webhook secret");
}

// The request's event name header, per provider.
std::string_view event_header(GitProvider provider, const HttpRequest& request) {
  switch (provider) {
    case GitProvider::kGitLab:
      return request.header("X-Gitlab-Event");
    case GitProvider::kGitea:
      return request.header("X-Gitea-Event");
    case GitProvider::kGitHub:
      return request.header("X-GitHub-Event");
  }
  return {};
}

bool triggers(GitProvider provider, std::string_view event) {
  if (provider == GitProvider::kGitLab) {
    return event == "Push Hook" || event == "Tag Push Hook" || event == "Merge Request Hook";
  }
  return event == "push" || event.starts_with("pull_request");
}

// The URL fields of the payload's repository objects: GitHub and Gitea's `repository`,
// GitLab's `project` and `repository`.
std::vector<std::string> repository_urls(const json& payload) {
  static const std::pair<const char*, std::vector<const char*>> kFields[] = {
      {"repository",
       {"clone_url", "ssh_url", "git_url", "html_url", "url", "git_http_url", "git_ssh_url",
        "homepage"}},
      {"project", {"git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url", "url"}},
  };
  std::vector<std::string> urls;
  for (const auto& [object, fields] : kFields) {
    auto it = payload.find(object);
    if (it == payload.end() || !it->is_object()) continue;
    for (const char* field : fields) {
      auto value = it->find(field);
      if (value == it->end() || !value->is_string()) continue;
      const std::string& url = value->get_ref<const std::string&>();
      if (url.empty() || url.size() > kMaxUrlBytes) continue;
      if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
      if (urls.size() == kMaxUrls) return urls;
    }
  }
  return urls;
}

}  // namespace

std::string_view to_string(GitProvider provider) {
  switch (provider) {
    case GitProvider::kGitHub:
      return "github";
    case GitProvider::kGitea:
      return "gitea";
    case GitProvider::kGitLab:
      return "gitlab";
  }
  return "unknown";
}

Result<GitProvider> verify_webhook(const HttpRequest& request, std::string_view secret) {
  if (secret.empty()) return unauthenticated("no webhook secret is configured");
  const std::string_view body = request.body;
  // GitLab first: it sends no signature, only its token. Gitea also sends X-GitHub-Event (and
  // newer versions X-Hub-Signature-256), so its own header decides before GitHub's.
  if (!request.header("X-Gitlab-Event").empty() || !request.header("X-Gitlab-Token").empty()) {
    const std::string_view token = request.header("X-Gitlab-Token");
    if (token.empty()) return unauthenticated("X-Gitlab-Token is missing");
    if (!equal_in_constant_time(token, secret)) {
      return unauthenticated("X-Gitlab-Token does not match the webhook secret");
    }
    return GitProvider::kGitLab;
  }
  if (!request.header("X-Gitea-Event").empty() || !request.header("X-Gitea-Signature").empty()) {
    const std::string_view signature = request.header("X-Gitea-Signature");
    if (signature.empty()) return unauthenticated("X-Gitea-Signature is missing");
    PL_RETURN_IF_ERROR(check_hmac(signature, "X-Gitea-Signature", secret, body));
    return GitProvider::kGitea;
  }
  const std::string_view signature = request.header("X-Hub-Signature-256");
  if (signature.empty()) {
    return unauthenticated(
        "no signature: X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) and "
        "X-Gitlab-Token (GitLab) are all missing");
  }
  if (!signature.starts_with("sha256=")) {
    return unauthenticated("X-Hub-Signature-256 does not start with sha256=");
  }
  PL_RETURN_IF_ERROR(check_hmac(signature.substr(7), "X-Hub-Signature-256", secret, body));
  return GitProvider::kGitHub;
}

Result<WebhookEvent> parse_webhook(GitProvider provider, const HttpRequest& request) {
  WebhookEvent out;
  out.provider = provider;
  const std::string_view event = event_header(provider, request);
  if (event.empty()) return invalid_input("no event header", "webhook");
  out.event = std::string(event.substr(0, 64));
  out.triggers = triggers(provider, out.event);
  const std::string type = to_lower_ascii(request.header("Content-Type"));
  if (!type.empty() && !type.starts_with("application/json")) {
    return invalid_input(
        "the payload must be JSON (set the webhook's content type to "
        "application/json)",
        "webhook " + out.event);
  }
  json payload;
  try {
    // nlohmann's parser refuses invalid UTF-8 in strings; the callback bounds the depth.
    payload = json::parse(request.body, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    return invalid_input("the payload nests deeper than " + std::to_string(kMaxDepth),
                         "webhook " + out.event);
  } catch (const json::exception& e) {
    return invalid_input(std::string("the payload is not valid JSON: ") + e.what(),
                         "webhook " + out.event);
  }
  if (!payload.is_object()) {
    return invalid_input("the payload is not a JSON object", "webhook " + out.event);
  }
  out.repository_urls = repository_urls(payload);
  if (out.triggers && out.repository_urls.empty()) {
    return invalid_input("the payload names no repository URL", "webhook " + out.event);
  }
  return out;
}

Result<std::string> load_webhook_secret(const std::string& file, const std::string& variable) {
  if (!file.empty() && !variable.empty()) {
    return invalid_input("give --webhook-secret-file or --webhook-secret-env, not both");
  }
  std::string secret;
  std::string where;
  if (!file.empty()) {
    where = "--webhook-secret-file " + file;
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error(ErrorCode::kNotFound, "cannot read the file", where);
    secret.assign(std::istreambuf_iterator<char>(in), {});
    if (secret.size() > 4096) return invalid_input("the secret is longer than 4096 bytes", where);
  } else if (!variable.empty()) {
    where = "--webhook-secret-env " + variable;
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) return Error(ErrorCode::kNotFound, "the variable is not set", where);
    secret = value;
  } else {
    return std::string();
  }
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!secret.empty() && space(secret.back())) secret.pop_back();
  secret.erase(secret.begin(), std::find_if_not(secret.begin(), secret.end(), space));
  if (secret.empty()) return invalid_input("the secret is empty", where);
  return secret;
}

PostRoute git_webhook_route(GitWebhookOptions options) {
  auto handle = [options = std::move(options)](const HttpRequest& request) -> HttpReply {
    if (options.secret.empty()) {
      return {.status = 404,
              .body = "webhooks are off: start the controller with --webhook-secret-file\n"};
    }
    const auto reject = [&](std::string_view reason, int status, const Error& error) {
      if (options.on_rejected) options.on_rejected(reason);
      if (options.log != nullptr) {
        options.log->warn("webhook rejected",
                          {{"reason", reason}, {"error", redact_urls_in(error.to_string())}});
      }
      return HttpReply{.status = status, .body = redact_urls_in(error.to_string()) + "\n"};
    };
    Result<GitProvider> provider = verify_webhook(request, options.secret);
    if (!provider.ok()) return reject("unauthenticated", 401, provider.error());
    Result<WebhookEvent> event = parse_webhook(*provider, request);
    if (!event.ok()) {
      const bool form = event.error().message().starts_with("the payload must be JSON");
      return reject("invalid", form ? 415 : 400, event.error());
    }
    if (options.on_received) options.on_received(to_string(event->provider), event->event);
    if (!event->triggers) return {.status = 200, .body = "ok: nothing to do for this event\n"};
    std::vector<std::string> names =
        options.trigger ? options.trigger(event->repository_urls) : std::vector<std::string>{};
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    if (options.log != nullptr) {
      json urls = json::array();
      for (const std::string& url : event->repository_urls) urls.push_back(redact_url(url));
      options.log->info("webhook", {{"provider", to_string(event->provider)},
                                    {"event", event->event},
                                    {"repository", urls},
                                    {"environments", names}});
    }
    return {.status = 202,
            .body = names.empty() ? "no Environment reads this repository\n"
                                  : "fetching now: " + list + "\n"};
  };
  return {.path = std::string(kGitWebhookPath),
          .max_body_bytes = kWebhookMaxBody,
          .handle = std::move(handle)};
}

}  // namespace plumbline
