// HttpServer over cpprestsdk's http_listener (asio backend).
//
// What the cpprestsdk 2.10 asio listener can and cannot do (checked by hand and by
// tests/integration/http_server_test.cc):
//   - Port 0 binds an ephemeral port, but the listener never says which one (it has no
//     local_endpoint accessor). So for port 0 we ask the kernel for a free port with a probe
//     socket (bind to port 0, getsockname, close) and open the listener on that port; if
//     another process takes the port in between, the open fails with EADDRINUSE and we retry
//     with a fresh probe.
//   - IPv6 literals do not work: the listener splits "host:port" at a colon and hands
//     "[::1]" to the resolver ("resolve: Service not found"). An IPv6 address is therefore a
//     clear kInvalidInput error rather than a confusing resolver message.
//   - The host "+" resolves to ::1 on some systems, not to a wildcard; ":8080" (every
//     interface) is opened as 0.0.0.0 (IPv4).
#include "plumbline/http_server.h"

#include <arpa/inet.h>
#include <cpprest/containerstream.h>
#include <cpprest/http_listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace plumbline {
namespace {

namespace http = web::http;
using web::http::experimental::listener::http_listener;

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
constexpr int kPortProbeAttempts = 5;

std::string display(const ListenAddress& a) {
  return (a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host) + ":" +
         std::to_string(a.port);
}

// A free TCP port on `host` (an IPv4 address or a name) from the kernel, via a probe socket.
Result<std::uint16_t> probe_free_port(const std::string& host, const std::string& where) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), "0", &hints, &found);
  if (rc != 0) {
    return Error(ErrorCode::kUnavailable, std::string("resolving: ") + gai_strerror(rc), where);
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0)
    return Error(ErrorCode::kUnavailable, "socket: " + std::string(strerror(errno)), where);
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  const bool ok = bind(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0;
  const int saved = errno;
  close(fd);
  if (!ok) return Error(ErrorCode::kUnavailable, "bind: " + std::string(strerror(saved)), where);
  return static_cast<std::uint16_t>(ntohs(bound.sin_port));
}

void reply_text(const http::http_request& request, http::status_code code, std::string body,
                std::string_view content_type = kTextContentType) {
  http::http_response response(code);
  // Not set_body(std::string): cpprestsdk wraps a char buffer as an unsigned char stream
  // (UBSan: "member call ... does not point to an object of type basic_streambuf"); a byte
  // vector is read as what it is.
  const std::size_t length = body.size();
  response.set_body(concurrency::streams::bytestream::open_istream(
                        std::vector<unsigned char>(body.begin(), body.end())),
                    length, std::string(content_type));
  if (code == http::status_codes::MethodNotAllowed) response.headers().add("Allow", "GET");
  // A client that went away makes the reply task fail; observe it so nothing is rethrown.
  request.reply(response).then([](const pplx::task<void>& sent) {
    try {
      sent.get();
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): the client left
    }
  });
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view listen) {
  const std::string where = "listen address \"" + std::string(listen) + "\"";
  const auto bad = [&](std::string why) {
    return invalid_input(std::move(why) +
                             " (want [host]:port, e.g. \":8080\", \"127.0.0.1:0\", "
                             "\"[::1]:9090\")",
                         where);
  };
  ListenAddress out;
  std::string_view port_text;
  if (listen.starts_with('[')) {
    const auto close = listen.find(']');
    if (close == std::string_view::npos) return bad("unterminated '['");
    out.host = std::string(listen.substr(1, close - 1));
    if (out.host.empty()) return bad("empty IPv6 address");
    if (close + 1 >= listen.size() || listen[close + 1] != ':') return bad("missing :port");
    port_text = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return bad("missing :port");
    out.host = std::string(listen.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("IPv6 addresses need brackets");
    port_text = listen.substr(colon + 1);
  }
  if (out.host.find_first_of(" /?#@[]") != std::string::npos) return bad("invalid host");
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

class HttpServer::Impl {
 public:
  Impl(Handlers handlers, ListenAddress address)
      : handlers_(std::move(handlers)), address_(std::move(address)) {}

  // Opens the listener on address_ (port already chosen). Errors carry no context.
  Status open() {
    const std::string host = address_.host.empty() ? "0.0.0.0" : address_.host;
    try {
      listener_ = std::make_unique<http_listener>(
          web::uri("http://" + host + ":" + std::to_string(address_.port) + "/"));
      listener_->support([this](const http::http_request& request) { handle(request); });
      listener_->open().wait();
      return {};
    } catch (const std::exception& e) {
      listener_.reset();  // never opened: nothing to close
      std::string message = e.what();
      if (message.find("Address already in use") != std::string::npos) {
        message = "address already in use";
      } else if (message.find("Permission denied") != std::string::npos) {
        message = "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)";
      } else if (message.find("Cannot assign requested address") != std::string::npos) {
        message = "address not available on this host";
      }
      return Error(ErrorCode::kUnavailable, message);
    }
  }

  void stop() {
    std::lock_guard lock(stop_mu_);
    if (!listener_) return;
    try {
      listener_->close().wait();
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): closing regardless
    }
    listener_.reset();
  }

  ListenAddress& address() { return address_; }

 private:
  void handle(const http::http_request& request) {
    try {
      const std::string path = web::uri::decode(request.relative_uri().path());
      const bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
      if (!known || (path == "/metrics" && !handlers_.metrics)) {
        reply_text(request, http::status_codes::NotFound, "404 page not found\n");
        return;
      }
      if (request.method() != http::methods::GET) {
        reply_text(request, http::status_codes::MethodNotAllowed, "method not allowed\n");
        return;
      }
      if (path == "/metrics") {
        reply_text(request, http::status_codes::OK, handlers_.metrics(), kMetricsContentType);
        return;
      }
      const auto& check = path == "/healthz" ? handlers_.healthz : handlers_.readyz;
      const Status status = check ? check() : Status{};
      if (status.ok()) {
        reply_text(request, http::status_codes::OK, "ok\n");
      } else {
        reply_text(request, http::status_codes::ServiceUnavailable,
                   status.error().to_string() + "\n");
      }
    } catch (const std::exception& e) {
      reply_text(request, http::status_codes::InternalError,
                 std::string("internal error: ") + e.what() + "\n");
    }
  }

  Handlers handlers_;
  ListenAddress address_;
  std::mutex stop_mu_;
  std::unique_ptr<http_listener> listener_;
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& listen,
                                                      Handlers handlers) {
  PL_ASSIGN_OR_RETURN(ListenAddress address, parse_listen_address(listen));
  if (address.host.find(':') != std::string::npos) {
    return invalid_input(
        "IPv6 addresses are not supported by the HTTP listener (cpprestsdk); use an IPv4 "
        "address, a host name or \":" +
            std::to_string(address.port) + "\" for every interface",
        "listen address \"" + listen + "\"");
  }
  const bool pick_port = address.port == 0;
  auto impl = std::make_unique<Impl>(std::move(handlers), address);
  for (int attempt = 1;; ++attempt) {
    if (pick_port) {
      PL_ASSIGN_OR_RETURN(impl->address().port,
                          probe_free_port(address.host, "listening on " + display(address)));
    }
    Status opened = impl->open();
    if (opened.ok()) break;
    const bool raced = pick_port && opened.error().message() == "address already in use";
    if (!raced || attempt == kPortProbeAttempts) {
      return std::move(opened).error().context("listening on " + display(impl->address()));
    }
  }
  return std::make_unique<HttpServer>(Key{}, std::move(impl));
}

HttpServer::HttpServer(Key /*unused*/, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->address().port; }

std::string HttpServer::url() const {
  const std::string& host = impl_->address().host;
  const bool wildcard = host.empty() || host == "0.0.0.0";
  return "http://" + (wildcard ? std::string("127.0.0.1") : host) + ":" + std::to_string(port());
}

void HttpServer::stop() { impl_->stop(); }

}  // namespace plumbline
