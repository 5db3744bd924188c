// FaultProxy: a TCP proxy on 127.0.0.1 for the fault suite, put between plumbline and a real
// server (the kube-apiserver, a git daemon) to make the network misbehave on demand. TLS
// passes through untouched (the apiserver's certificate names 127.0.0.1). Header-only.
//
//   FaultProxy proxy(upstream_port);
//   proxy.set_mode(FaultProxy::Mode::kStall);   // connections stay open, no byte moves
//   proxy.set_mode(FaultProxy::Mode::kForward); // bytes held while stalled flow again
//
// Modes: kForward; kStall (accepts, keeps every connection open and moves nothing: a silent
// server or a stuck middlebox); kSlow (at most 256 bytes per connection every 20 ms, ~12 KiB/s);
// kRefuse (accepts and closes at once: a server that is down behind a load balancer).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace plumbline::testing {

class FaultProxy {
 public:
  enum class Mode { kForward, kStall, kSlow, kRefuse };

  explicit FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = Loopback(0);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listener_, 128);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FaultProxy() {
    stop_ = true;
    thread_.join();
    for (auto& p : pairs_) p.Close();
    ::close(listener_);
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void set_mode(Mode mode) { mode_ = mode; }
  // Where new connections go (a restarted server on another port); open ones stay.
  void set_upstream(int port) { upstream_port_ = port; }
  // Connections accepted so far (a reconnect after a fault shows here).
  int accepted() const { return accepted_; }
  // Closes every open connection (both sides) on the proxy's next turn, within ~50 ms.
  void Sever() { sever_ = true; }
  // The connections open now stay open and never move a byte again (a peer gone without a
  // FIN, a load balancer that lost the flow); new ones are forwarded as the mode says.
  void Freeze() { freeze_ = true; }

 private:
  struct Pair {
    int client = -1, server = -1;
    std::string to_server, to_client;  // read from one side, not yet written to the other
    bool frozen = false;
    void Close() {
      if (client >= 0) ::close(client);
      if (server >= 0) ::close(server);
      client = server = -1;
    }
  };

  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }

  void Accept() {
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    ++accepted_;
    if (mode_ == Mode::kRefuse) {
      ::close(client);
      return;
    }
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(upstream_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(server);
      ::close(client);  // the upstream is down: so is the proxy's answer
      return;
    }
    pairs_.push_back({client, server, {}, {}, false});
  }

  // Moves bytes one way: reads `from` into `pending` (when allowed), writes `pending` to `to`.
  static bool Pump(int from, int to, std::string& pending, short revents, size_t budget) {
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && pending.size() < (1u << 20)) {
      char buf[65536];
      ssize_t n = ::read(from, buf, std::min(budget, sizeof buf));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
      if (n > 0) pending.append(buf, static_cast<size_t>(n));
    }
    while (!pending.empty()) {
      ssize_t w = ::send(to, pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) return errno == EAGAIN || errno == EINTR;
      pending.erase(0, static_cast<size_t>(w));
    }
    return true;
  }

  void Loop() {
    while (!stop_) {
      if (sever_.exchange(false)) {
        for (auto& p : pairs_) p.Close();
        pairs_.clear();
      }
      if (freeze_.exchange(false)) {
        for (auto& p : pairs_) p.frozen = true;
      }
      const Mode mode = mode_;
      const bool moving = mode == Mode::kForward || mode == Mode::kSlow;
      std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
      for (const auto& p : pairs_) {
        const auto events = static_cast<short>(moving && !p.frozen ? POLLIN : 0);
        fds.push_back({p.client, events, 0});
        fds.push_back({p.server, events, 0});
      }
      ::poll(fds.data(), fds.size(), mode == Mode::kSlow ? 20 : 50);
      if (fds[0].revents & POLLIN) Accept();
      if (!moving) continue;
      const size_t budget = mode == Mode::kSlow ? 256 : 65536;
      std::vector<Pair> alive;
      for (size_t i = 0; i < fds.size() - 1 && i / 2 < pairs_.size(); i += 2) {
        Pair& p = pairs_[i / 2];
        bool ok = p.frozen || (Pump(p.client, p.server, p.to_server, fds[i + 1].revents, budget) &&
                               Pump(p.server, p.client, p.to_client, fds[i + 2].revents, budget));
        if (ok) {
          alive.push_back(std::move(p));
        } else {
          p.Close();
        }
      }
      // Pairs accepted during this turn were not polled: keep them.
      for (size_t i = (fds.size() - 1) / 2; i < pairs_.size(); ++i) {
        alive.push_back(std::move(pairs_[i]));
      }
      pairs_ = std::move(alive);
      if (mode == Mode::kSlow) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::atomic<int> upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<Mode> mode_{Mode::kForward};
  std::atomic<bool> stop_{false};
  std::atomic<bool> sever_{false};
  std::atomic<bool> freeze_{false};
  std::atomic<int> accepted_{0};
  std::vector<Pair> pairs_;  // the proxy thread's only
  std::thread thread_;
};

}  // namespace plumbline::testing
