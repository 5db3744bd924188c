// HttpServer's bounds against real sockets: header size (431), body size per route (413),
// the request deadline (idle and slowloris connections are closed), the connection cap (503),
// and a prompt stop whatever the connections are doing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "plumbline/server/http_server.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A client socket connected to 127.0.0.1:port; reads give up after 5 s.
struct Client {
  int fd = -1;
  explicit Client(std::uint16_t port) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~Client() { close(fd); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool send_text(const std::string& text) const {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  // Everything until the server closes (or 5 s pass).
  std::string read_all() const {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
      out.append(buf, static_cast<size_t>(n));
    return out;
  }
  // Whether the server closed the connection: recv sees EOF or a reset (not a timeout).
  bool closed_by_server() const {
    char c;
    const ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
};

int status_of(const std::string& reply) {
  return reply.size() > 12 && reply.starts_with("HTTP/1.1 ") ? std::stoi(reply.substr(9, 3)) : 0;
}

std::string body_of(const std::string& reply) {
  const auto end = reply.find("\r\n\r\n");
  return end == std::string::npos ? "" : reply.substr(end + 4);
}

struct Echo {
  std::atomic<int> calls{0};
  HttpServer::Handlers handlers() {
    return {
        .posts = {{.path = "/echo", .max_body_bytes = 1024, .handle = [this](const HttpRequest& r) {
                     ++calls;
                     return HttpReply{.status = 200, .body = r.body};
                   }}}};
  }
};

TEST(HttpLimitsTest, HeaderLargerThanTheLimitIs431) {
  auto server = HttpServer::start("127.0.0.1:0", {}, {.header_bytes = 16 * 1024});
  ASSERT_TRUE(server) << server.error().to_string();
  Client client((*server)->port());
  ASSERT_TRUE(client.send_text(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(20 * 1024, 'a') + "\r\n\r\n"));
  const std::string reply = client.read_all();
  EXPECT_EQ(status_of(reply), 431) << reply.substr(0, 200);
  EXPECT_EQ(body_of(reply), "request header larger than 16384 bytes\n");
  // A header just under the limit is served.
  Client fits((*server)->port());
  ASSERT_TRUE(fits.send_text("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Filler: " +
                             std::string(15 * 1024, 'a') + "\r\n\r\n"));
  EXPECT_EQ(status_of(fits.read_all()), 200);
}

TEST(HttpLimitsTest, BodyLargerThanTheRouteLimitIs413AndNeverReachesTheHandler) {
  Echo echo;
  auto server = HttpServer::start("127.0.0.1:0", echo.handlers());
  ASSERT_TRUE(server) << server.error().to_string();
  const std::uint16_t port = (*server)->port();
  {  // Announced by Content-Length: refused before a byte of body is read.
    Client client(port);
    ASSERT_TRUE(client.send_text("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"));
    const std::string reply = client.read_all();
    EXPECT_EQ(status_of(reply), 413);
    EXPECT_EQ(body_of(reply), "request body larger than 1024 bytes\n");
  }
  {  // Chunked: refused when the chunks pass the limit.
    Client client(port);
    ASSERT_TRUE(
        client.send_text("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "400\r\n" +
                         std::string(1024, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n"));
    EXPECT_EQ(status_of(client.read_all()), 413);
  }
  {  // A GET route takes no body.
    Client client(port);
    ASSERT_TRUE(
        client.send_text("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
    EXPECT_EQ(status_of(client.read_all()), 413);
  }
  EXPECT_EQ(echo.calls, 0);
  {  // At the limit, with Expect: 100-continue as curl sends it.
    Client client(port);
    ASSERT_TRUE(
        client.send_text("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Expect: 100-continue\r\nContent-Length: 1024\r\n\r\n"));
    char buf[64];
    const ssize_t n = recv(client.fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_TRUE(std::string(buf, static_cast<size_t>(n)).starts_with("HTTP/1.1 100 Continue"));
    ASSERT_TRUE(client.send_text(std::string(1024, 'z')));
    const std::string reply = client.read_all();
    EXPECT_EQ(status_of(reply), 200);
    EXPECT_EQ(body_of(reply), std::string(1024, 'z'));
  }
  EXPECT_EQ(echo.calls, 1);
  {  // Wrong method on a POST route.
    Client client(port);
    ASSERT_TRUE(client.send_text("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const std::string reply = client.read_all();
    EXPECT_EQ(status_of(reply), 405);
    EXPECT_NE(reply.find("\r\nAllow: POST\r\n"), std::string::npos) << reply;
  }
}

TEST(HttpLimitsTest, IdleConnectionIsClosedAfterTheRequestTimeout) {
  auto server = HttpServer::start("127.0.0.1:0", {}, {.request_timeout = milliseconds(300)});
  ASSERT_TRUE(server) << server.error().to_string();
  {  // Never sends anything.
    Client idle((*server)->port());
    const auto start = Clock::now();
    EXPECT_TRUE(idle.closed_by_server());
    const auto took = Clock::now() - start;
    EXPECT_GE(took, milliseconds(250));
    EXPECT_LT(took, milliseconds(2000));
  }
  {  // Keep-alive: one request served, then idle.
    Client keep((*server)->port());
    ASSERT_TRUE(keep.send_text("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto start = Clock::now();
    const std::string reply = keep.read_all();  // until the server closes
    EXPECT_EQ(status_of(reply), 200);
    EXPECT_EQ(body_of(reply), "ok\n");
    EXPECT_LT(Clock::now() - start, milliseconds(2000));
  }
}

TEST(HttpLimitsTest, SlowlorisIsClosedAtTheDeadlineWhateverItSends) {
  auto server = HttpServer::start("127.0.0.1:0", {}, {.request_timeout = milliseconds(500)});
  ASSERT_TRUE(server) << server.error().to_string();
  Client slow((*server)->port());
  const auto start = Clock::now();
  // One header byte every 50 ms: each read makes progress, the request never completes.
  std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  bool sending = true;
  for (size_t i = 0; sending && Clock::now() - start < milliseconds(3000); ++i) {
    sending = slow.send_text(std::string(1, i < header.size() ? header[i] : 'a'));
    std::this_thread::sleep_for(milliseconds(50));
  }
  const auto took = Clock::now() - start;
  EXPECT_FALSE(sending) << "the server kept a trickling connection open for 3 s";
  EXPECT_LT(took, milliseconds(2000));
}

TEST(HttpLimitsTest, ConnectionsBeyondTheCapAre503) {
  auto server = HttpServer::start("127.0.0.1:0", {}, {.max_connections = 2});
  ASSERT_TRUE(server) << server.error().to_string();
  const std::uint16_t port = (*server)->port();
  auto first = std::make_unique<Client>(port);
  Client second(port);
  std::this_thread::sleep_for(milliseconds(100));  // both accepted
  {
    Client third(port);
    const std::string reply = third.read_all();
    EXPECT_EQ(status_of(reply), 503);
    EXPECT_EQ(body_of(reply), "too many connections\n");
  }
  first.reset();  // a slot frees up
  std::this_thread::sleep_for(milliseconds(100));
  Client fourth(port);
  ASSERT_TRUE(fourth.send_text("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_of(fourth.read_all()), 200);
}

TEST(HttpLimitsTest, StopIsPromptWhateverTheConnectionsAreDoing) {
  Echo echo;
  auto server = HttpServer::start("127.0.0.1:0", echo.handlers());
  ASSERT_TRUE(server) << server.error().to_string();
  const std::uint16_t port = (*server)->port();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<Client>(port));  // idle
  clients.push_back(std::make_unique<Client>(port));
  clients.back()->send_text("GET /heal");  // half a request line
  clients.push_back(std::make_unique<Client>(port));
  clients.back()->send_text("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
  clients.push_back(std::make_unique<Client>(port));
  clients.back()->send_text("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");  // kept alive
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = Clock::now();
  (*server)->stop();
  EXPECT_LT(Clock::now() - start, milliseconds(500));
  for (size_t i = 0; i + 1 < clients.size(); ++i) {
    EXPECT_TRUE(clients[i]->closed_by_server()) << "connection " << i << " still open";
  }
  EXPECT_EQ(echo.calls, 0);
}

}  // namespace
}  // namespace plumbline
