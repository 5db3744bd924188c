// libFuzzer target: a Git webhook's body (hostile until parsed) must never crash, throw or
// hang: it is signature-checked and parsed as each provider's event, and every repository
// URL read from it goes through git::repository_identity.
#include <cstddef>
#include <cstdint>
#include <string>

#include "plumbline/core/digest.h"
#include "plumbline/git/repo_location.h"
#include "plumbline/server/webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const std::string secret = "fuzz";
  const plumbline::HttpRequest requests[] = {
      {.headers = {{"X-GitHub-Event", "push"},
                   {"X-Hub-Signature-256", "sha256=" + plumbline::hmac_sha256_hex(secret, body)}},
       .body = body},
      {.headers = {{"X-Gitea-Event", "pull_request"}, {"X-Gitea-Signature", body.substr(0, 64)}},
       .body = body},
      {.headers = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", body.substr(0, 8)}},
       .body = body},
  };
  for (const plumbline::HttpRequest& request : requests) {
    (void)plumbline::verify_webhook(request, secret);
    for (plumbline::GitProvider provider :
         {plumbline::GitProvider::kGitHub, plumbline::GitProvider::kGitea,
          plumbline::GitProvider::kGitLab}) {
      auto event = plumbline::parse_webhook(provider, request);
      if (!event.ok()) continue;
      for (const std::string& url : event->repository_urls) {
        (void)plumbline::git::repository_identity(url);
      }
    }
  }
  (void)plumbline::git::repository_identity(body);
  return 0;
}
