// HttpServer on Boost.Beast: one io_context run by a few threads, one strand per connection.
//
// Why Beast rather than a hand-written parser: its request_parser enforces the header and
// body limits while parsing, and beast::tcp_stream closes a connection whose operation
// outlives its deadline. Each request gets one deadline for its header and body together, so
// a client that trickles bytes cannot keep a connection (or a thread) forever.
//
// stop() stops the io_context, joins its threads (a running handler finishes first) and then
// destroys the io_context: that destroys every pending operation, hence every connection
// (they are owned only by their pending operations). Nothing runs on a connection after its
// io_context stopped, so there is no close racing a read.
#include "plumbline/server/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "server/http_session.h"

namespace plumbline {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string display(const ListenAddress& a) {
  return (a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host) + ":" +
         std::to_string(a.port);
}

std::string bind_message(const boost::system::error_code& ec) {
  if (ec == net::error::address_in_use) return "address already in use";
  if (ec == net::error::access_denied) {
    return "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)";
  }
  if (ec == boost::system::errc::address_not_available) return "address not available on this host";
  return ec.message();
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, boost::beast::string_view(name.data(), name.size()))) {
      return value;
    }
  }
  return {};
}

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
  Impl(Handlers handlers, HttpLimits limits)
      : routes_{std::move(handlers), limits}, ioc_(std::in_place, limits.threads) {}
  ~Impl() { stop(); }

  // Binds `endpoint` (SO_REUSEADDR; a wildcard IPv6 endpoint also takes IPv4). Errors carry
  // no context.
  Status bind(const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    auto acceptor = std::make_unique<tcp::acceptor>(*ioc_);
    if (acceptor->open(endpoint.protocol(), ec); !ec) {
      acceptor->set_option(net::socket_base::reuse_address(true), ec);
      if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
        acceptor->set_option(net::ip::v6_only(false), ec);
      }
      acceptor->bind(endpoint, ec);
    }
    if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Error(ErrorCode::kUnavailable, bind_message(ec));
    bound_ = acceptor->local_endpoint(ec);
    acceptor_ = std::move(acceptor);
    return {};
  }

  void run() {
    accept();
    for (int i = 0; i < std::max(1, routes_.limits.threads); ++i) {
      threads_.emplace_back([this] {
        // A throw out of a completion handler would end the thread; log-free recovery: the
        // connection it came from is gone, the others keep being served.
        for (;;) {
          try {
            ioc_->run();
            return;
          } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): keep serving
          }
        }
      });
    }
  }

  void stop() {
    std::lock_guard lock(stop_mu_);
    if (!ioc_) return;
    ioc_->stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    acceptor_.reset();  // the port is free again
    ioc_.reset();       // destroys the pending operations and with them every connection
  }

  const tcp::endpoint& bound() const { return bound_; }

 private:
  void accept() {
    acceptor_->async_accept(net::make_strand(*ioc_),
                            [this](boost::system::error_code ec, tcp::socket socket) {
                              if (ec == net::error::operation_aborted) return;
                              if (!ec) serve_http(std::move(socket), routes_);
                              accept();
                            });
  }

  Routes routes_;  // before ioc_: connections, destroyed with it, count themselves here
  std::optional<net::io_context> ioc_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  tcp::endpoint bound_;
  std::vector<std::thread> threads_;
  std::mutex stop_mu_;
};

namespace {

// The endpoint to bind for `address`: every interface (IPv6 with IPv4, or IPv4 only), an IP
// literal, or a name's first IPv4 address (else its first IPv6 one).
Result<std::vector<tcp::endpoint>> endpoints_for(const ListenAddress& address) {
  if (address.host.empty()) {
    return std::vector<tcp::endpoint>{{tcp::v6(), address.port}, {tcp::v4(), address.port}};
  }
  boost::system::error_code ec;
  net::ip::address literal = net::ip::make_address(address.host, ec);
  if (!ec) return std::vector<tcp::endpoint>{{literal, address.port}};
  net::io_context resolving;
  tcp::resolver resolver(resolving);
  auto found = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (ec)
    return Error(ErrorCode::kUnavailable, "resolving \"" + address.host + "\": " + ec.message());
  std::optional<tcp::endpoint> v4, v6;
  for (const auto& entry : found) {
    auto& slot = entry.endpoint().address().is_v4() ? v4 : v6;
    if (!slot) slot = entry.endpoint();
  }
  if (v4) return std::vector<tcp::endpoint>{*v4};
  if (v6) return std::vector<tcp::endpoint>{*v6};
  return Error(ErrorCode::kUnavailable, "\"" + address.host + "\" has no address");
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& listen, Handlers handlers,
                                                      HttpLimits limits) {
  PL_ASSIGN_OR_RETURN(ListenAddress address, parse_listen_address(listen));
  const std::string where = "listening on " + display(address);
  Result<std::vector<tcp::endpoint>> endpoints = endpoints_for(address);
  if (!endpoints.ok()) return std::move(endpoints).error().context(where);
  auto impl = std::make_unique<Impl>(std::move(handlers), limits);
  Status bound = Error(ErrorCode::kUnavailable, "no address");
  for (const tcp::endpoint& endpoint : *endpoints) {
    bound = impl->bind(endpoint);
    // The wildcard tries IPv6 first; a host without IPv6 takes IPv4 only.
    if (bound.ok() || bound.error().message() == "address already in use") break;
  }
  if (!bound.ok()) return std::move(bound).error().context(where);
  impl->run();
  return std::make_unique<HttpServer>(Key{}, std::move(impl));
}

HttpServer::HttpServer(Key /*unused*/, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->bound().port(); }

std::string HttpServer::url() const {
  const net::ip::address address = impl_->bound().address();
  std::string host;
  if (address.is_unspecified()) {
    host = "127.0.0.1";
  } else if (address.is_v6()) {
    host = "[" + address.to_string() + "]";
  } else {
    host = address.to_string();
  }
  return "http://" + host + ":" + std::to_string(port());
}

void HttpServer::stop() { impl_->stop(); }

}  // namespace plumbline
