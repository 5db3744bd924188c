// plumbline/http_server.h — the controller's HTTP endpoint: /metrics, /healthz, /readyz.
//
//   HttpServer::Handlers handlers{
//       .metrics = [&registry] { return registry.exposition(); },
//       .healthz = [] { return Status{}; },
//       .readyz = [&cache] { return cache.synced() ? Status{} : Error{...}; }};
//   PL_ASSIGN_OR_RETURN(auto server, HttpServer::start(":8080", std::move(handlers)));
//   LOG << "serving on port " << server->port();
//
// Built on cpprestsdk's http_listener (asio). Only GET is served: GET /metrics (the text
// format 0.0.4), GET /healthz and GET /readyz (200 "ok\n", or 503 with the check's error and
// a newline); other paths are 404, other methods on these paths 405 with `Allow: GET`. Query
// strings are ignored. A handler that throws gives 500. Handlers run on cpprestsdk's thread
// pool, possibly concurrently: they must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "plumbline/error.h"

namespace plumbline {

// A parsed listen address: ":8080" (every interface), "127.0.0.1:0", "[::1]:9090",
// "localhost:8080". Port 0 picks a free port.
struct ListenAddress {
  std::string host;  // "" = every interface; IPv6 without brackets
  std::uint16_t port = 0;
};
// kInvalidInput naming `listen` when it is not [host]:port with a port in 0..65535.
Result<ListenAddress> parse_listen_address(std::string_view listen);

class HttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;  // null: /metrics is 404
    std::function<Status()> healthz;       // null: always ok
    std::function<Status()> readyz;        // null: always ok
  };

  // Listens on `listen` and serves until stop() or destruction. ":8080" is every IPv4
  // interface; IPv6 addresses ("[::1]:9090") parse but are refused (kInvalidInput): the
  // cpprestsdk 2.10 asio listener cannot bind them. Port 0 picks a free port (port() says
  // which). Errors name the address:
  // kInvalidInput for a bad listen string, kUnavailable when the address cannot be bound
  // ("listening on 127.0.0.1:8080: address already in use").
  static Result<std::unique_ptr<HttpServer>> start(const std::string& listen, Handlers handlers);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the chosen one when listening on port 0).
  std::uint16_t port() const;
  // "http://127.0.0.1:41234" — a URL a client on this host can reach (loopback for wildcards).
  std::string url() const;
  // Stops accepting and closes open connections; waits for running handlers. Idempotent.
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
