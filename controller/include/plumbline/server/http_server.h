// plumbline/server/http_server.h — the controller's HTTP endpoint: /metrics, /healthz, /readyz and
// POST routes such as /webhooks/git.
//
//   HttpServer::Handlers handlers{
//       .metrics = [&registry] { return registry.exposition(); },
//       .healthz = [] { return Status{}; },
//       .readyz = [&cache] { return cache.synced() ? Status{} : Error{...}; }};
//   PL_ASSIGN_OR_RETURN(auto server, HttpServer::start(":8080", std::move(handlers)));
//   LOG << "serving on port " << server->url();
//
// A small, bounded HTTP/1.1 server on Boost.Beast. GET /metrics (the text format 0.0.4), GET
// /healthz and GET /readyz (200 "ok\n", or 503 with the check's error and a newline), and each
// POST route; other paths are 404, other methods on these paths 405 with `Allow`. Query strings
// are ignored. A handler that throws gives 500. Every connection is bounded (HttpLimits): the
// header's size (431), each route's body size (413; GET routes take no body), the time to
// receive one request (idle keep-alive connections and slow senders are closed), the time to
// send one reply, and the number of open connections (503 beyond it). Handlers run on the
// server's threads, possibly concurrently: they must be thread-safe and quick.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plumbline/core/error.h"

namespace plumbline {

// A parsed listen address: ":8080" (every interface), "127.0.0.1:0", "[::1]:9090",
// "localhost:8080". Port 0 picks a free port.
struct ListenAddress {
  std::string host;  // "" = every interface; IPv6 without brackets
  std::uint16_t port = 0;
};
// kInvalidInput naming `listen` when it is not [host]:port with a port in 0..65535.
Result<ListenAddress> parse_listen_address(std::string_view listen);

struct HttpLimits {
  std::size_t header_bytes = 16 * 1024;  // request line and fields; beyond: 431
  // From the moment the server waits for a request until its last body byte: an idle
  // keep-alive connection, or a client that trickles its header (slowloris), is closed then.
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};  // a client that does not read its reply
  int max_connections = 64;                         // beyond: 503 and close
  int threads = 2;
};

// A request as a POST route sees it: its body has been read whole, within the route's limit.
struct HttpRequest {
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  // The first value of a header (case-insensitive name), or "" when absent.
  std::string_view header(std::string_view name) const;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

struct PostRoute {
  std::string path;
  std::size_t max_body_bytes = 0;  // a longer body is 413 and the handler is not called
  std::function<HttpReply(const HttpRequest&)> handle;
};

class HttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;  // null: /metrics is 404
    std::function<Status()> healthz;       // null: always ok
    std::function<Status()> readyz;        // null: always ok
    std::vector<PostRoute> posts;
  };

  // Listens on `listen` and serves until stop() or destruction. ":8080" is every interface
  // (IPv6 and IPv4 when the host has IPv6, else IPv4); a host name binds its first IPv4
  // address (else its first IPv6 one). Port 0 picks a free port (port() says which). Errors
  // name the address: kInvalidInput for a bad listen string, kUnavailable when the address
  // cannot be resolved or bound ("listening on 127.0.0.1:8080: address already in use").
  static Result<std::unique_ptr<HttpServer>> start(const std::string& listen, Handlers handlers,
                                                   HttpLimits limits = {});

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the chosen one when listening on port 0).
  std::uint16_t port() const;
  // "http://127.0.0.1:41234" — a URL a client on this host can reach (loopback for wildcards).
  std::string url() const;
  // Stops accepting, waits for running handlers and closes every open connection. Idempotent.
  void stop();

  class Impl;  // defined in the .cc
  // Only start() can make the key: construct servers through start().
  class Key {
    friend class HttpServer;
    Key() = default;
  };
  HttpServer(Key, std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace plumbline
