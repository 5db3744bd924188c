// plumbline/forge/http_transport.h — one HTTP exchange, bounded, for REST clients other than the
// Kubernetes API (the forges).
//
// make_http_transport() is cpprestsdk's http_client: an overall deadline per request and a
// bound on the response body (a larger one is an error, never read whole). It does not follow
// redirects, so headers such as a token never reach another host. Tests script a fake.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "plumbline/core/error.h"

namespace plumbline {

struct HttpRequest {
  std::string method;  // GET, POST, PATCH, PUT
  std::string url;     // absolute
  std::map<std::string, std::string> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // A transport failure (connection refused, timeout, body too large) is an Error that names
  // `where` (the URL without credentials), never one carrying request headers.
  virtual Result<HttpResponse> send(const HttpRequest& request, const std::string& where) = 0;
};

struct HttpTransportOptions {
  std::chrono::milliseconds timeout{30000};
  size_t max_body_bytes = 8u << 20;
};

std::shared_ptr<HttpTransport> make_http_transport(HttpTransportOptions options = {});

}  // namespace plumbline
