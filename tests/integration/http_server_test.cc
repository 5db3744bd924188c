// HttpServer against real sockets: endpoints, codes, content types, readiness, port handling,
// prompt shutdown, and promtool's verdict on the real /metrics output.
#include "plumbline/server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "plumbline/server/metrics.h"

namespace plumbline {
namespace {

struct Reply {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;
  // The value of a header; `name` in lower case (header names are case-insensitive).
  std::string header(const std::string& name) const {
    std::string lower = headers;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\n" + name + ": ");
    if (at == std::string::npos) return {};
    const auto start = at + name.size() + 3;
    return headers.substr(start, headers.find('\r', start) - start);
  }
};

// A minimal HTTP/1.1 client on a plain socket (Connection: close, reads to EOF).
Reply request(std::uint16_t port, const std::string& method, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Reply reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "connect to port " << port << ": " << std::strerror(errno);
    close(fd);
    return reply;
  }
  const std::string req = method + " " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Content-Length: 0\r\n\r\n";
  EXPECT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
    raw.append(buf, static_cast<std::size_t>(n));
  close(fd);
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    ADD_FAILURE() << "no HTTP reply: " << raw;
    return reply;
  }
  reply.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
  reply.headers = raw.substr(0, end + 2);
  reply.body = raw.substr(end + 4);
  return reply;
}

Reply get(const HttpServer& server, const std::string& path) {
  return request(server.port(), "GET", path);
}

// A listening socket on 127.0.0.1 with a kernel-chosen port, closed at scope exit.
struct Occupied {
  int fd = -1;
  std::uint16_t port = 0;
  Occupied() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Occupied() { close(fd); }
};

TEST(HttpServerTest, ServesMetricsHealthAndReadiness) {
  std::atomic<bool> ready{false};
  HttpServer::Handlers handlers{.metrics = [] { return std::string("up 1\n"); },
                                .healthz = [] { return Status{}; },
                                .readyz = [&ready]() -> Status {
                                  if (ready) return {};
                                  return Error(ErrorCode::kUnavailable, "live cache not synced yet",
                                               "readyz");
                                }};
  auto server = HttpServer::start("127.0.0.1:0", std::move(handlers));
  ASSERT_TRUE(server) << server.error().to_string();
  ASSERT_NE((*server)->port(), 0);
  EXPECT_EQ((*server)->url(), "http://127.0.0.1:" + std::to_string((*server)->port()));

  const Reply metrics = get(**server, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, "up 1\n");
  EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");

  const Reply health = get(**server, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(health.header("content-type"), "text/plain; charset=utf-8");

  const Reply not_ready = get(**server, "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.body, "readyz: live cache not synced yet\n");
  ready = true;
  const Reply is_ready = get(**server, "/readyz");
  EXPECT_EQ(is_ready.status, 200);
  EXPECT_EQ(is_ready.body, "ok\n");

  EXPECT_EQ(get(**server, "/metrics?name=up&x=%20").status, 200);  // queries are ignored
  EXPECT_EQ(get(**server, "/").status, 404);
  EXPECT_EQ(get(**server, "/metrics/").status, 404);
  EXPECT_EQ(get(**server, "/debug/pprof").status, 404);
  const Reply post = request((*server)->port(), "POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET");
  EXPECT_EQ(request((*server)->port(), "DELETE", "/healthz").status, 405);
}

TEST(HttpServerTest, FailingHealthCheckAndThrowingHandler) {
  HttpServer::Handlers handlers{
      .metrics = []() -> std::string { throw std::runtime_error("registry exploded"); },
      .healthz = []() -> Status { return Error(ErrorCode::kInternal, "watch loop stuck"); },
      .readyz = {}};
  auto server = HttpServer::start("127.0.0.1:0", std::move(handlers));
  ASSERT_TRUE(server) << server.error().to_string();
  const Reply health = get(**server, "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.body, "watch loop stuck\n");
  const Reply metrics = get(**server, "/metrics");
  EXPECT_EQ(metrics.status, 500);
  EXPECT_EQ(metrics.body, "internal error: registry exploded\n");
  EXPECT_EQ(get(**server, "/readyz").status, 200);  // no check: ready
}

TEST(HttpServerTest, NoMetricsHandlerMeansNotFound) {
  auto server = HttpServer::start("127.0.0.1:0", {});
  ASSERT_TRUE(server) << server.error().to_string();
  EXPECT_EQ(get(**server, "/metrics").status, 404);
  EXPECT_EQ(get(**server, "/healthz").status, 200);
}

TEST(HttpServerTest, WildcardHostAndExplicitPort) {
  auto any = HttpServer::start(":0", {});
  ASSERT_TRUE(any) << any.error().to_string();
  EXPECT_EQ(get(**any, "/healthz").status, 200);
  // A port known to be free right now (the wildcard one, after it stops) on an explicit host.
  const std::uint16_t port = (*any)->port();
  (*any)->stop();
  auto fixed = HttpServer::start("localhost:" + std::to_string(port), {});
  ASSERT_TRUE(fixed) << fixed.error().to_string();
  EXPECT_EQ((*fixed)->port(), port);
  EXPECT_EQ(get(**fixed, "/readyz").status, 200);
}

TEST(HttpServerTest, PortInUseIsAClearError) {
  Occupied taken;
  const std::string listen = "127.0.0.1:" + std::to_string(taken.port);
  auto server = HttpServer::start(listen, {});
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(server.error().to_string(), "listening on " + listen + ": address already in use");
}

TEST(HttpServerTest, BadListenStringsAreClearErrors) {
  const std::string want = " (want [host]:port, e.g. \":8080\", \"127.0.0.1:0\", \"[::1]:9090\")";
  struct Case {
    std::string listen;
    std::string error;
  };
  const Case cases[] = {
      {"8080", "listen address \"8080\": missing :port" + want},
      {":http", "listen address \":http\": port must be a number from 0 to 65535" + want},
      {":65536", "listen address \":65536\": port must be a number from 0 to 65535" + want},
      {"127.0.0.1:", "listen address \"127.0.0.1:\": port must be a number from 0 to 65535" + want},
      {"::1:80", "listen address \"::1:80\": IPv6 addresses need brackets" + want},
      {"[::1", "listen address \"[::1\": unterminated '['" + want},
      {"[::1]9090", "listen address \"[::1]9090\": missing :port" + want},
      {"a b:80", "listen address \"a b:80\": invalid host" + want},
  };
  for (const auto& c : cases) {
    auto server = HttpServer::start(c.listen, {});
    ASSERT_FALSE(server) << c.listen;
    EXPECT_EQ(server.error().code(), ErrorCode::kInvalidInput) << c.listen;
    EXPECT_EQ(server.error().to_string(), c.error);
  }
  auto parsed = parse_listen_address("[::1]:9090");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 9090);
  auto any = parse_listen_address(":8080");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->host, "");
  EXPECT_EQ(any->port, 8080);
}

TEST(HttpServerTest, Ipv6Loopback) {
  auto server = HttpServer::start("[::1]:0", {});
  if (!server && server.error().message() == "address not available on this host") {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ASSERT_TRUE(server) << server.error().to_string();
  EXPECT_EQ((*server)->url(), "http://[::1]:" + std::to_string((*server)->port()));
  const int fd = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons((*server)->port());
  addr.sin6_addr = in6addr_loopback;
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  char buf[512];
  const ssize_t n = recv(fd, buf, sizeof buf, MSG_WAITALL);
  close(fd);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(std::string(buf, static_cast<size_t>(n)).starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpServerTest, StopIsPromptWithAnIdleConnectionOpen) {
  auto server = HttpServer::start("127.0.0.1:0", {});
  ASSERT_TRUE(server) << server.error().to_string();
  const std::uint16_t port = (*server)->port();
  // A client that connects and never sends a request.
  const int idle = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const auto start = std::chrono::steady_clock::now();
  (*server)->stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  (*server)->stop();  // idempotent
  close(idle);
  // The port is free again: a new server can take it.
  auto again = HttpServer::start("127.0.0.1:" + std::to_string(port), {});
  ASSERT_TRUE(again) << again.error().to_string();
  server->reset();  // destructor after stop(): fine
}

// promtool (Debian package `prometheus`, scripts/install-deps) lints the real output.
TEST(HttpServerTest, PromtoolAcceptsThePlumblineMetrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (scripts/install-deps installs prometheus)";
  }
  MetricsRegistry registry;
  auto metrics = PlumblineMetrics::create(registry, "0.1.0-dev+g8de9bc0");
  ASSERT_TRUE(metrics) << metrics.error().to_string();
  for (const std::string env : {"dev", "staging", "prod"}) {
    for (const std::string category : {"resources", "env", "seccomp", "capabilities"}) {
      metrics->drift_fields->with({env, category}).set(static_cast<double>(category.size()));
    }
    metrics->drifted_objects->with({env}).set(2);
    metrics->policy_violations->with({env, "gomaxprocs"}).set(1);
    metrics->reconcile_duration_seconds->with({env}).observe(0.37);
    metrics->reconcile_duration_seconds->with({env}).observe(12.5);
    metrics->reconcile_total->with({env, "drifted"}).inc(4);
    metrics->reconcile_total->with({env, "error"}).inc();
    metrics->git_fetch_duration_seconds->with({env}).observe(0.08);
    metrics->git_fetch_errors_total->with({env}).inc();
    metrics->corrections_total->with({env, "corrected"}).inc(3);
  }
  metrics->policy_violations->with({"prod", "odd \"rule\"\\name\n"}).set(1);  // escaping
  metrics->api_requests_total->with({"list", "200"}).inc(10);
  metrics->api_requests_total->with({"watch", "0"}).inc();
  metrics->workqueue_depth.set(3);
  metrics->workqueue_queue_duration_seconds.observe(0.004);
  metrics->workqueue_retries_total.inc(2);
  metrics->live_cache_objects.set(1234);
  metrics->live_cache_bytes.set(5.5e6);
  metrics->leader.set(1);

  HttpServer::Handlers handlers{.metrics = [&registry] { return registry.exposition(); }};
  auto server = HttpServer::start("127.0.0.1:0", std::move(handlers));
  ASSERT_TRUE(server) << server.error().to_string();
  const Reply reply = get(**server, "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, registry.exposition());

  const auto dir = std::filesystem::temp_directory_path();
  const auto file = dir / ("plumbline-metrics-" + std::to_string(getpid()) + ".txt");
  std::ofstream(file) << reply.body;
  const std::string cmd = "promtool check metrics < '" + file.string() + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  std::filesystem::remove(file);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output << "\n" << reply.body;
  EXPECT_EQ(output, "") << reply.body;  // no lint warnings
}

}  // namespace
}  // namespace plumbline
