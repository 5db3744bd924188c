// forge/rest_client.h — internal: the REST call loop every forge shares. Rate limits (403/429
// with Retry-After or X-RateLimit-Reset), retries, pagination (Link rel="next", X-Next-Page) and
// the errors of HTTP statuses; the provider only decides the auth header. Only
// controller/src/forge includes this.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"
#include "plumbline/forge/forge.h"

namespace plumbline::forge {

enum class Provider { kGitHub, kGitea, kGitLab };
std::string provider_name(Provider provider);

struct Origin {
  std::string scheme, host, port;
  bool operator==(const Origin&) const = default;
};

// scheme://host[:port] of an absolute URL; nullopt when it is not one. `userinfo` gets what
// stands before '@'.
std::optional<Origin> origin_of(std::string_view url, std::string* userinfo = nullptr);
bool is_loopback(const std::string& host);
// Percent-encodes all but RFC 3986's unreserved characters.
std::string encode_component(std::string_view text);

class RestClient {
 public:
  RestClient(Provider provider, const ForgeOptions& options, Origin origin,
             std::shared_ptr<HttpTransport> transport)
      : provider_(provider),
        options_(options),
        origin_(std::move(origin)),
        transport_(std::move(transport)) {}

  // One call with retries: rate limits always (the request was refused, not done); 5xx and
  // transport errors only for requests that may be repeated (not POST, which could comment
  // twice). All waits together stay under options.max_wait. `what` says what for errors.
  Result<HttpResponse> call(const std::string& method, const std::string& url, const json* body,
                            const std::string& what);
  // The same, answered by a JSON object.
  Result<json> call_json(const std::string& method, const std::string& url, const json& body,
                         const std::string& what);
  // Every item of a paginated list. A next page on another origin is refused: the token
  // stays home.
  Result<std::vector<json>> list_all(std::string url, const std::string& what);

 private:
  HttpRequest request(const std::string& method, const std::string& url, const json* body) const;
  Error status_error(const HttpResponse& r, const std::string& what, const std::string& url) const;
  std::optional<std::chrono::milliseconds> rate_limit_wait(const HttpResponse& r) const;
  void sleep(std::chrono::milliseconds wait) const;

  Provider provider_;
  const ForgeOptions& options_;  // the forge's, which owns this client
  Origin origin_;
  std::shared_ptr<HttpTransport> transport_;
};

}  // namespace plumbline::forge
