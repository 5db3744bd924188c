// One connection of HttpServer: read a header within the limits, choose the route, read its
// body within the route's limit, reply, and either wait for the next request or close.
#include "server/http_session.h"

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <limits>
#include <memory>
#include <optional>

namespace plumbline {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
// After a reply that closes the connection, what the client still sends is read and dropped
// for this long (at most kDrainBytes), so that closing does not reset the connection before
// the client has read the reply.
constexpr auto kDrainTime = std::chrono::milliseconds(500);
constexpr std::size_t kDrainBytes = 256 * 1024;

// A request the parser refused (not a client that left or a deadline that passed).
bool is_malformed(const beast::error_code& ec) {
  return ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Routes& routes) : stream_(std::move(socket)), routes_(routes) {
    ++routes_.open_connections;
  }
  ~Connection() { --routes_.open_connections; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(routes_.limits.header_bytes));
    // Set per route once the header is in. Not boost::none: Boost 1.74 compares a
    // Content-Length with an empty optional as "greater" and refuses every body.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(routes_.limits.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::on_header, shared_from_this()));
  }

 private:
  void on_header(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::header_limit) {
      return reply(431, "request header larger than " +
                            std::to_string(routes_.limits.header_bytes) + " bytes\n");
    }
    if (is_malformed(ec)) return reply(400, "bad request: " + ec.message() + "\n");
    if (ec) return close();  // the client left, or the request deadline passed
    const auto& request = parser_->get();
    const std::string_view target(request.target().data(), request.target().size());
    path_ = std::string(target.substr(0, target.find('?')));
    const bool has_body = !parser_->is_done();
    const HttpServer::Handlers& handlers = routes_.handlers;

    const bool get_route =
        path_ == "/healthz" || path_ == "/readyz" || (path_ == "/metrics" && handlers.metrics);
    if (get_route) {
      if (request.method() != http::verb::get) {
        return reply(405, "method not allowed\n", kTextContentType, "GET");
      }
      if (has_body) return reply(413, "this path takes no request body\n");
      return serve_get();
    }
    for (const PostRoute& route : handlers.posts) {
      if (route.path != path_) continue;
      if (request.method() != http::verb::post) {
        return reply(405, "method not allowed\n", kTextContentType, "POST");
      }
      const boost::optional<std::uint64_t> length = parser_->content_length();
      if (length && *length > route.max_body_bytes) return too_large(route);
      route_ = &route;
      parser_->body_limit(route.max_body_bytes);
      if (!has_body) return serve_post();
      if (beast::iequals(request[http::field::expect], "100-continue")) {
        auto proceed = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                          request.version());
        return http::async_write(
            stream_, *proceed,
            [self = shared_from_this(), proceed](beast::error_code e, std::size_t) {
              if (e) return self->close();
              self->read_body();
            });
      }
      return read_body();
    }
    reply(404, "404 page not found\n");
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit) return too_large(*route_);
    if (is_malformed(ec)) return reply(400, "bad request: " + ec.message() + "\n");
    if (ec) return close();
    serve_post();
  }

  void too_large(const PostRoute& route) {
    reply(413, "request body larger than " + std::to_string(route.max_body_bytes) + " bytes\n");
  }

  void serve_get() {
    const HttpServer::Handlers& handlers = routes_.handlers;
    try {
      if (path_ == "/metrics") return reply(200, handlers.metrics(), kMetricsContentType);
      const auto& check = path_ == "/healthz" ? handlers.healthz : handlers.readyz;
      const Status status = check ? check() : Status{};
      if (status.ok()) return reply(200, "ok\n");
      reply(503, status.error().to_string() + "\n");
    } catch (const std::exception& e) {
      reply(500, std::string("internal error: ") + e.what() + "\n");
    }
  }

  void serve_post() {
    HttpRequest request;
    request.path = path_;
    for (const auto& field : parser_->get()) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(parser_->get().body());
    try {
      HttpReply answer = route_->handle(request);
      reply(answer.status, std::move(answer.body), answer.content_type);
    } catch (const std::exception& e) {
      reply(500, std::string("internal error: ") + e.what() + "\n");
    }
  }

  // Sends the reply; the connection stays open for the next request only when the request
  // was read whole and asked for keep-alive.
  void reply(int status, std::string body, std::string_view content_type = kTextContentType,
             std::string_view allow = {}) {
    const bool whole = parser_ && parser_->is_header_done() && parser_->is_done();
    const unsigned version = whole ? parser_->get().version() : 11;
    auto response =
        std::make_shared<http::response<http::string_body>>(http::int_to_status(status), version);
    response->set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    if (!allow.empty()) {
      response->set(http::field::allow, beast::string_view(allow.data(), allow.size()));
    }
    response->keep_alive(whole && parser_->get().keep_alive());
    response->body() = std::move(body);
    response->prepare_payload();
    stream_.expires_after(routes_.limits.write_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (!response->keep_alive()) return self->linger();
                        self->read_header();
                      });
  }

  // Half-closes, then drops what the client still sends for a short while before closing.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kDrainBytes) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Routes& routes_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string path_;
  const PostRoute* route_ = nullptr;
  std::array<char, 4096> drain_buffer_{};
  std::size_t drained_ = 0;
};

}  // namespace

void serve_http(tcp::socket socket, Routes& routes) {
  if (routes.open_connections >= routes.limits.max_connections) {
    // Refused at once: a small reply written in the socket's buffer, then closed.
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n";
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    net::write(socket, net::buffer(kBusy.data(), kBusy.size()), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    return;
  }
  std::make_shared<Connection>(std::move(socket), routes)->read_header();
}

}  // namespace plumbline
