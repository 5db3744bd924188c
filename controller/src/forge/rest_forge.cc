// The REST forges: GitHub, Gitea (GitHub's comment API under /api/v1) and GitLab (merge
// request notes). They differ only in paths, the auth header and JSON field names; the call
// loop (rate limits, retries, pagination) is forge/rest_client.cc.
#include <algorithm>

#include "forge/rest_client.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/object.h"
#include "plumbline/forge/forge.h"

namespace plumbline {
namespace {

using forge::encode_component;
using forge::Origin;
using forge::Provider;
using forge::provider_name;

std::string id_text(const json& id) {
  if (id.is_number_integer() || id.is_number_unsigned()) return id.dump();
  if (id.is_string()) return id.get<std::string>();
  return "";
}

class RestForge final : public Forge {
 public:
  RestForge(Provider provider, ForgeOptions options, std::string api, Origin origin,
            std::shared_ptr<HttpTransport> transport)
      : provider_(provider),
        options_(std::move(options)),
        api_(std::move(api)),
        client_(provider, options_, std::move(origin), std::move(transport)) {
    if (provider_ == Provider::kGitLab) {
      repo_path_ = "/projects/" + encode_component(options_.repository);
    } else {
      size_t slash = options_.repository.find('/');
      repo_path_ = "/repos/" + encode_component(options_.repository.substr(0, slash)) + "/" +
                   encode_component(options_.repository.substr(slash + 1));
    }
  }

  Result<std::vector<ForgeComment>> list_comments(long pr) override {
    std::string url = provider_ == Provider::kGitLab
                          ? api_ + repo_path_ + "/merge_requests/" + std::to_string(pr) +
                                "/notes?per_page=100&sort=asc&order_by=created_at"
                          : api_ + repo_path_ + "/issues/" + std::to_string(pr) + "/comments" +
                                (provider_ == Provider::kGitHub ? "?per_page=100" : "");
    PL_ASSIGN_OR_RETURN(std::vector<json> items,
                        client_.list_all(url, "list the comments of " + pr_name(pr)));
    std::vector<ForgeComment> out;
    for (const json& item : items) {
      if (!item.is_object()) continue;
      if (item.value("system", false)) continue;  // GitLab's own notes ("added 1 commit")
      ForgeComment c{id_text(item.value("id", json())), item.value("body", std::string())};
      if (!c.id.empty()) out.push_back(std::move(c));
    }
    return out;
  }

  Result<ForgeComment> create_comment(long pr, const std::string& body) override {
    std::string url = provider_ == Provider::kGitLab
                          ? api_ + repo_path_ + "/merge_requests/" + std::to_string(pr) + "/notes"
                          : api_ + repo_path_ + "/issues/" + std::to_string(pr) + "/comments";
    PL_ASSIGN_OR_RETURN(
        json answer, client_.call_json("POST", url, {{"body", body}}, "comment on " + pr_name(pr)));
    ForgeComment c{id_text(answer.value("id", json())), answer.value("body", std::string())};
    if (c.id.empty()) {
      return Error(ErrorCode::kUnavailable, "the answer to a new comment has no id",
                   redact_url(url));
    }
    return c;
  }

  Result<ForgeComment> update_comment(long pr, const std::string& id,
                                      const std::string& body) override {
    std::string url = provider_ == Provider::kGitLab
                          ? api_ + repo_path_ + "/merge_requests/" + std::to_string(pr) +
                                "/notes/" + encode_component(id)
                          : api_ + repo_path_ + "/issues/comments/" + encode_component(id);
    PL_ASSIGN_OR_RETURN(
        json answer,
        client_.call_json(provider_ == Provider::kGitLab ? "PUT" : "PATCH", url, {{"body", body}},
                          "update comment " + id + " on " + pr_name(pr)));
    return ForgeComment{id, answer.value("body", std::string())};
  }

  Result<std::vector<PullRequest>> open_pull_requests() override {
    std::string url = provider_ == Provider::kGitLab
                          ? api_ + repo_path_ + "/merge_requests?state=opened&per_page=100"
                      : provider_ == Provider::kGitea
                          ? api_ + repo_path_ + "/pulls?state=open&limit=50"
                          : api_ + repo_path_ + "/pulls?state=open&per_page=100";
    PL_ASSIGN_OR_RETURN(std::vector<json> items,
                        client_.list_all(url, "list the open pull requests"));
    std::vector<PullRequest> out;
    for (const json& item : items) {
      if (!item.is_object()) continue;
      PullRequest pr;
      pr.title = item.value("title", std::string());
      if (provider_ == Provider::kGitLab) {
        pr.number = item.value("iid", 0L);
        pr.head_sha = item.value("sha", std::string());
        pr.head_ref = item.value("source_branch", std::string());
        pr.base_ref = item.value("target_branch", std::string());
      } else {
        pr.number = item.value("number", 0L);
        const json& head = item.contains("head") ? item["head"] : json::object();
        const json& base = item.contains("base") ? item["base"] : json::object();
        if (head.is_object()) {
          pr.head_sha = head.value("sha", std::string());
          pr.head_ref = head.value("ref", std::string());
        }
        if (base.is_object()) pr.base_ref = base.value("ref", std::string());
      }
      if (pr.number > 0) out.push_back(std::move(pr));
    }
    return out;
  }

  Result<std::vector<std::string>> changed_files(long pr) override {
    std::string url =
        provider_ == Provider::kGitLab
            ? api_ + repo_path_ + "/merge_requests/" + std::to_string(pr) + "/diffs?per_page=100"
        : provider_ == Provider::kGitea
            ? api_ + repo_path_ + "/pulls/" + std::to_string(pr) + "/files?limit=50"
            : api_ + repo_path_ + "/pulls/" + std::to_string(pr) + "/files?per_page=100";
    PL_ASSIGN_OR_RETURN(std::vector<json> items,
                        client_.list_all(url, "list the files " + pr_name(pr) + " changes"));
    std::vector<std::string> out;
    for (const json& item : items) {
      if (!item.is_object()) continue;
      for (const char* key : provider_ == Provider::kGitLab
                                 ? std::vector<const char*>{"new_path", "old_path"}
                                 : std::vector<const char*>{"filename", "previous_filename"}) {
        std::string name = item.value(key, std::string());
        if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
          out.push_back(std::move(name));
        }
      }
    }
    return out;
  }

  size_t max_comment_chars() const override {
    return plumbline::max_comment_chars(provider_name(provider_));
  }
  std::string describe() const override {
    return provider_name(provider_) + " " + options_.repository;
  }

 private:
  std::string pr_name(long pr) const {
    return (provider_ == Provider::kGitLab ? "merge request !" : "pull request #") +
           std::to_string(pr) + " of " + options_.repository;
  }

  Provider provider_;
  ForgeOptions options_;
  std::string api_;
  forge::RestClient client_;
  std::string repo_path_;
};

}  // namespace

Result<std::unique_ptr<Forge>> make_forge(ForgeOptions options,
                                          std::shared_ptr<HttpTransport> transport) {
  Provider provider;
  if (options.provider == "github") {
    provider = Provider::kGitHub;
  } else if (options.provider == "gitlab") {
    provider = Provider::kGitLab;
  } else if (options.provider == "gitea") {
    provider = Provider::kGitea;
  } else {
    return invalid_input("--provider must be github, gitlab or gitea, got '" + options.provider +
                         "'");
  }
  if (options.repository.empty()) {
    return invalid_input("--repository is required (OWNER/NAME, or a GitLab project id or path)");
  }
  if (provider != Provider::kGitLab) {
    size_t slash = options.repository.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == options.repository.size() ||
        options.repository.find('/', slash + 1) != std::string::npos) {
      return invalid_input("--repository must be OWNER/NAME for " + options.provider + ", got '" +
                           options.repository + "'");
    }
  }
  std::string api = options.api_url;
  if (api.empty()) {
    if (provider == Provider::kGitea) {
      return invalid_input("--api-url is required for gitea (e.g. https://gitea.example/api/v1)");
    }
    api = provider == Provider::kGitHub ? "https://api.github.com" : "https://gitlab.com/api/v4";
  }
  while (!api.empty() && api.back() == '/') api.pop_back();
  if (provider == Provider::kGitea && !api.ends_with("/api/v1")) api += "/api/v1";
  std::string userinfo;
  std::optional<Origin> origin = forge::origin_of(api, &userinfo);
  if (!origin || (origin->scheme != "https" && origin->scheme != "http")) {
    return invalid_input("--api-url must be an http(s) URL", redact_url(api));
  }
  if (!userinfo.empty()) {
    return invalid_input("--api-url must not carry credentials; the token comes from --token-env",
                         redact_url(api));
  }
  if (origin->scheme == "http" && !forge::is_loopback(origin->host) && !options.token.empty()) {
    return invalid_input("refusing to send the token over http:// to " + origin->host +
                             " (use https://; http:// is allowed to loopback addresses only)",
                         redact_url(api));
  }
  if (!transport) {
    transport = make_http_transport(
        {.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout)});
  }
  return std::unique_ptr<Forge>(std::make_unique<RestForge>(provider, std::move(options), api,
                                                            *origin, std::move(transport)));
}

}  // namespace plumbline
