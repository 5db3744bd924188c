// Real Git servers for the GitSource tests, started as child processes on free 127.0.0.1
// ports (git daemon, git http-backend behind lighttpd, sshd), and the fixture that owns a
// scratch directory, a repository and the servers.
#pragma once

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plumbline/git/git_source.h"
#include "plumbline/render/render.h"

namespace plumbline::git_testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::StartsWith;

inline std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs a shell command (test setup only); returns its stdout, fails the test on a non-zero exit.
inline std::string sh(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return output;
  }
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  int status = pclose(pipe);
  EXPECT_EQ(status, 0) << command << "\n" << output;
  return output;
}

inline std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

inline void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A port that was free a moment ago. The tiny race with other processes is acceptable in tests.
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

inline bool have_executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// A server child in its own process group, so that its workers die with it.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { stop(); }

  void start(const std::vector<std::string>& argv, const fs::path& log) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    setpgid(pid_, pid_);
  }

  bool wait_for_port(int port) {
    auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
      if (port_open(port)) return true;
      int status = 0;
      if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// git http-backend behind lighttpd on 127.0.0.1:`port`, serving the bare repositories of
// `srv`: /git anonymous, /private behind basic auth (deploy / s3cret-pass), and /moved/X
// redirected to http://localhost:PORT/private/X (another host name). Its files go under
// `root`; the log is root/lighttpd.log. False (with a test failure) when it does not start.
inline bool start_git_http(ServerProcess& server, const fs::path& root, const fs::path& srv,
                           int port) {
  write_file(root / "www/index.html", "");
  write_file(root / "htpasswd", "deploy:s3cret-pass\n");
  std::string conf = R"conf(
server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_auth", "mod_authn_file",
                  "mod_redirect")
url.redirect = ("^/moved/(.*)$" => "http://localhost:@PORT@/private/$1")
server.document-root = "@ROOT@/www"
server.bind = "127.0.0.1"
server.port = @PORT@
server.errorlog = "@ROOT@/lighttpd-error.log"
alias.url = ("/git" => "/usr/lib/git-core/git-http-backend",
             "/private" => "/usr/lib/git-core/git-http-backend")
$HTTP["url"] =~ "^/(git|private)" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => "@SRV@", "GIT_HTTP_EXPORT_ALL" => "")
}
auth.backend = "plain"
auth.backend.plain.userfile = "@ROOT@/htpasswd"
$HTTP["url"] =~ "^/private" {
  auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}
)conf";
  auto replace = [&](const std::string& key, const std::string& value) {
    for (size_t at; (at = conf.find(key)) != std::string::npos;)
      conf.replace(at, key.size(), value);
  };
  replace("@ROOT@", root.string());
  replace("@SRV@", srv.string());
  replace("@PORT@", std::to_string(port));
  write_file(root / "lighttpd.conf", conf);
  server.start({"/usr/sbin/lighttpd", "-D", "-f", (root / "lighttpd.conf").string()},
               root / "lighttpd.log");
  if (server.wait_for_port(port)) return true;
  ADD_FAILURE() << "lighttpd did not start on port " << port << ":\n"
                << read_file(root / "lighttpd.log");
  return false;
}

inline constexpr const char* kGit = "git -c user.name=plumbline -c user.email=ci@plumbline.dev";

class GitSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "plumbline-git-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    srv_ = root_ / "srv";
    origin_ = srv_ / "repo.git";
    work_ = root_ / "work";
    fs::create_directories(srv_);
    sh("git init -q --bare -b main " + shell_quote(origin_.string()));
    sh("git init -q -b main " + shell_quote(work_.string()));
    write_file(work_ / "base/deploy.yaml", "kind: Deployment\nmetadata: {name: api}\n");
    write_file(work_ / "envs/prod/kustomization.yaml", "resources: [../../base]\n");
    write_file(work_ / "README.md", "v1\n");
    fs::create_symlink("../../base", work_ / "envs/prod/base-link");        // stays inside
    fs::create_symlink("base/deploy.yaml", work_ / "deploy-link.yaml");     // stays inside
    fs::create_symlink("../../../etc/passwd", work_ / "envs/escape.yaml");  // leaves the repo
    fs::create_symlink("loop-b", work_ / "loop-a");
    fs::create_symlink("loop-a", work_ / "loop-b");
    git("add -A");
    git("commit -q -m v1");
    git("tag -a v1 -m release-1");
    git("branch release");
    git("remote add origin " + shell_quote(origin_.string()));
    git("push -q origin main release --tags");
    first_sha_ = trim(git("rev-parse HEAD"));
    cache_ = root_ / "cache";
  }

  void TearDown() override {
    for (auto& server : servers_) server->stop();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string git(const std::string& args) {
    return sh(std::string(kGit) + " -C " + shell_quote(work_.string()) + " " + args);
  }

  // Commits a change to README.md and pushes it to the origin; returns the new SHA.
  std::string push_commit(const std::string& content) {
    write_file(work_ / "README.md", content);
    git("commit -q -am " + shell_quote(content));
    git("push -q origin main");
    return trim(git("rev-parse HEAD"));
  }

  GitSourceOptions options(const std::string& repo, const std::string& ref = "") {
    GitSourceOptions o;
    o.repo = repo;
    o.ref = ref;
    o.cache_dir = cache_;
    o.timeout = std::chrono::seconds(20);
    o.auth = GitAuth{};  // never the developer's own ~/.netrc or ~/.ssh
    o.auth.known_hosts_file = root_ / "no-known-hosts";
    return o;
  }

  ServerProcess& start_server(const std::vector<std::string>& argv, const std::string& name,
                              int port) {
    servers_.push_back(std::make_unique<ServerProcess>());
    ServerProcess& server = *servers_.back();
    fs::path log = root_ / (name + ".log");
    server.start(argv, log);
    if (!server.wait_for_port(port)) {
      ADD_FAILURE() << name << " did not start on port " << port << ":\n" << read_file(log);
    }
    return server;
  }

  int start_git_daemon() {
    int port = free_port();
    start_server(
        {"/usr/bin/git", "daemon", "--reuseaddr", "--base-path=" + srv_.string(), "--export-all",
         "--listen=127.0.0.1", "--port=" + std::to_string(port), srv_.string()},
        "git-daemon", port);
    return port;
  }

  fs::path root_, srv_, origin_, work_, cache_;
  std::string first_sha_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

}  // namespace plumbline::git_testing
