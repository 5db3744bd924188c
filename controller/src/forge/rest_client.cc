// The REST call loop every forge shares: rate limits, retries, pagination, status errors.
#include "forge/rest_client.h"

#include <algorithm>
#include <thread>

#include "plumbline/core/mask.h"
#include "plumbline/core/strings.h"
#include "plumbline/core/utf8.h"

namespace plumbline::forge {
namespace {

using Clock = std::chrono::system_clock;
constexpr int kMaxPages = 100;

// The URL of rel="next" in a Link header, or "".
std::string next_link(const std::string& link) {
  size_t pos = 0;
  while (pos < link.size()) {
    size_t open = link.find('<', pos);
    if (open == std::string::npos) break;
    size_t close = link.find('>', open);
    if (close == std::string::npos) break;
    size_t end = link.find(",", close);
    std::string params = link.substr(close + 1, end == std::string::npos ? end : end - close - 1);
    if (params.find("rel=\"next\"") != std::string::npos ||
        params.find("rel=next") != std::string::npos) {
      return link.substr(open + 1, close - open - 1);
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return "";
}

std::string with_query(const std::string& url, const std::string& name, const std::string& value) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + name + "=" +
         encode_component(value);
}

// A forge's error body as a short message: JSON "message"/"error"/"errors", else its text.
std::string server_message(const std::string& body, const std::string& token) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message;
  if (parsed.is_object()) {
    for (const char* key : {"message", "error", "error_description"}) {
      if (parsed.contains(key)) {
        message =
            parsed[key].is_string() ? parsed[key].get<std::string>() : to_json_text(parsed[key]);
        break;
      }
    }
  }
  if (message.empty()) message = body;
  message = utf8_prefix(message, 300);
  // A server could echo what it was sent; the token never leaves.
  if (!token.empty()) {
    for (size_t at = message.find(token); at != std::string::npos; at = message.find(token)) {
      message.replace(at, token.size(), "<redacted>");
    }
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message.empty() ? "(empty body)" : message;
}

std::string where(const std::string& url) { return redact_url(url); }

}  // namespace

std::string provider_name(Provider provider) {
  return provider == Provider::kGitHub  ? "github"
         : provider == Provider::kGitea ? "gitea"
                                        : "gitlab";
}

// scheme://host[:port] of an absolute URL; nullopt when it is not one or carries userinfo.
std::optional<Origin> origin_of(std::string_view url, std::string* userinfo) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  Origin o{to_lower_ascii(url.substr(0, colon)), "", ""};
  std::string_view rest = url.substr(colon + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    if (userinfo != nullptr) *userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  size_t port = authority.rfind(':');
  if (port != std::string_view::npos && authority.find(']', port) == std::string_view::npos) {
    o.host = std::string(authority.substr(0, port));
    o.port = std::string(authority.substr(port + 1));
  } else {
    o.host = std::string(authority);
  }
  o.host = to_lower_ascii(o.host);
  if (o.port.empty()) o.port = o.scheme == "https" ? "443" : o.scheme == "http" ? "80" : "";
  if (o.host.empty()) return std::nullopt;
  return o;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

std::string encode_component(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpRequest RestClient::request(const std::string& method, const std::string& url,
                                const json* body) const {
  HttpRequest r{method, url, {}, body != nullptr ? to_json_text(*body) : ""};
  r.headers["User-Agent"] = options_.user_agent;
  if (provider_ == Provider::kGitHub) {
    r.headers["Accept"] = "application/vnd.github+json";
    r.headers["X-GitHub-Api-Version"] = "2022-11-28";
    if (!options_.token.empty()) r.headers["Authorization"] = "Bearer " + options_.token;
  } else {
    r.headers["Accept"] = "application/json";
    if (!options_.token.empty()) {
      if (provider_ == Provider::kGitLab) {
        r.headers["PRIVATE-TOKEN"] = options_.token;
      } else {
        r.headers["Authorization"] = "token " + options_.token;
      }
    }
  }
  if (body != nullptr) r.headers["Content-Type"] = "application/json";
  return r;
}

Error RestClient::status_error(const HttpResponse& r, const std::string& what,
                               const std::string& url) const {
  std::string detail = server_message(r.body, options_.token);
  std::string call = "cannot " + what + " (" + provider_name(provider_) + ")";
  switch (r.status) {
    case 401:
      return {ErrorCode::kUnauthenticated,
              call +
                  ": unauthorized (401): the token was refused (missing, expired or "
                  "revoked): " +
                  detail,
              where(url)};
    case 403:
      return {ErrorCode::kPermissionDenied,
              call + ": forbidden (403): the token may not do this: " + detail, where(url)};
    case 404:
      return {ErrorCode::kNotFound,
              call +
                  ": not found (404): no such repository or pull request, or the token "
                  "cannot see it: " +
                  detail,
              where(url)};
    case 422:
    case 400:
      return {ErrorCode::kInvalidInput,
              call + ": refused (" + std::to_string(r.status) + "): " + detail, where(url)};
    case 429:
      return {ErrorCode::kUnavailable, call + ": rate limited (429): " + detail, where(url)};
    default:
      break;
  }
  return {r.status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal,
          call + ": HTTP " + std::to_string(r.status) + ": " + detail, where(url)};
}

// How long a rate-limited answer asks to wait; nullopt when it is not a rate limit.
std::optional<std::chrono::milliseconds> RestClient::rate_limit_wait(const HttpResponse& r) const {
  if (r.status != 429 && r.status != 403) return std::nullopt;
  std::string retry_after = r.header("retry-after");
  std::string remaining = r.header("x-ratelimit-remaining");
  std::string reset = r.header("x-ratelimit-reset");
  if (reset.empty()) reset = r.header("ratelimit-reset");  // GitLab
  if (!retry_after.empty()) {
    char* end = nullptr;
    long s = std::strtol(retry_after.c_str(), &end, 10);
    if (end != retry_after.c_str() && s >= 0) return std::chrono::seconds(s);
  }
  if ((r.status == 429 || remaining == "0") && !reset.empty()) {
    char* end = nullptr;
    long long epoch = std::strtoll(reset.c_str(), &end, 10);
    if (end != reset.c_str()) {
      auto now = options_.now ? options_.now() : Clock::now();
      auto at = Clock::time_point(std::chrono::seconds(epoch));
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
      return std::max(wait, std::chrono::milliseconds(0)) + std::chrono::seconds(1);
    }
  }
  if (r.status == 429) return std::chrono::milliseconds(0);  // back off by the usual steps
  return std::nullopt;  // a 403 that is not a rate limit is an answer
}

void RestClient::sleep(std::chrono::milliseconds wait) const {
  if (options_.sleep) {
    options_.sleep(wait);
  } else {
    std::this_thread::sleep_for(wait);
  }
}

// One call with retries: rate limits always (the request was refused, not done); 5xx and
// transport errors only for requests that may be repeated (not POST, which could comment
// twice). All waits together stay under options_.max_wait.
Result<HttpResponse> RestClient::call(const std::string& method, const std::string& url,
                                      const json* body, const std::string& what) {
  const bool idempotent = method != "POST";
  std::chrono::milliseconds backoff(1000), waited(0);
  std::optional<Error> last;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    Result<HttpResponse> response = transport_->send(request(method, url, body), where(url));
    std::chrono::milliseconds wait = backoff;
    if (!response.ok()) {
      last = std::move(response).error();
      last->context("cannot " + what + " (" + provider_name(provider_) + ")");
      if (!idempotent || !last->retryable()) return *last;
    } else if (response->status >= 200 && response->status < 300) {
      return response;
    } else {
      std::optional<std::chrono::milliseconds> limited = rate_limit_wait(*response);
      last = status_error(*response, what, url);
      bool retry = limited.has_value() || (response->status >= 500 && idempotent);
      if (!retry) return *last;
      if (limited && limited->count() > 0) wait = *limited;
      if (limited && waited + wait > options_.max_wait) {
        return Error(ErrorCode::kUnavailable,
                     last->message() + " (the forge asks to wait " +
                         std::to_string(wait.count() / 1000) + " s, longer than the " +
                         std::to_string(options_.max_wait.count()) + " s plumbline waits)",
                     where(url));
      }
    }
    if (attempt == options_.max_attempts || waited + wait > options_.max_wait) break;
    sleep(wait);
    waited += wait;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
  }
  return *last;
}

Result<json> RestClient::call_json(const std::string& method, const std::string& url,
                                   const json& body, const std::string& what) {
  PL_ASSIGN_OR_RETURN(HttpResponse response, call(method, url, &body, what));
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return Error(ErrorCode::kUnavailable, "cannot " + what + ": the answer is not a JSON object",
                 where(url));
  }
  return parsed;
}

// Every item of a paginated list: Link rel="next" (GitHub, Gitea, GitLab), else
// X-Next-Page (GitLab). A next page on another origin is refused: the token stays home.
Result<std::vector<json>> RestClient::list_all(std::string url, const std::string& what) {
  std::vector<json> items;
  for (int page = 1;; ++page) {
    if (page > kMaxPages) {
      return Error(ErrorCode::kInvalidInput,
                   "cannot " + what + ": more than " + std::to_string(kMaxPages) + " pages",
                   where(url));
    }
    PL_ASSIGN_OR_RETURN(HttpResponse response, call("GET", url, nullptr, what));
    json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_array()) {
      return Error(ErrorCode::kUnavailable, "cannot " + what + ": the answer is not a JSON list",
                   where(url));
    }
    for (json& item : parsed) items.push_back(std::move(item));
    std::string next = next_link(response.header("link"));
    if (next.empty()) {
      std::string next_page = response.header("x-next-page");
      if (next_page.empty()) break;
      std::string base = url;
      for (const char* param : {"?page=", "&page="}) {
        if (size_t at = base.find(param); at != std::string::npos) {
          size_t end = base.find('&', at + 1);
          base.erase(at + 1, end == std::string::npos ? std::string::npos : end - at);
          if (!base.empty() && (base.back() == '&' || base.back() == '?')) base.pop_back();
        }
      }
      next = with_query(base, "page", next_page);
    }
    std::optional<Origin> next_origin = origin_of(next);
    if (!next_origin || !(*next_origin == origin_)) {
      return Error(ErrorCode::kPermissionDenied,
                   "cannot " + what + ": the next page is on another origin (" + redact_url(next) +
                       "); the token is not sent there",
                   where(url));
    }
    url = next;
  }
  return items;
}

}  // namespace plumbline::forge
