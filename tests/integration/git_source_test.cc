// GitSource against real Git servers started as child processes on free 127.0.0.1 ports:
// git daemon (git://), git http-backend behind lighttpd (http://, anonymous and basic auth),
// sshd (ssh://), a port nobody listens on, and local paths. No mocks.

#include "plumbline/git/git_source.h"

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

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string shell_quote(const std::string& text) {
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
std::string sh(const std::string& command) {
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

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A port that was free a moment ago. The tiny race with other processes is acceptable in tests.
int free_port() {
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

bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool have_executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

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

constexpr const char* kGit = "git -c user.name=plumbline -c user.email=ci@plumbline.dev";

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

// ---------------------------------------------------------------------------------------------
// Local paths: opened directly, no cache.

TEST_F(GitSourceTest, LocalWorkTreeAndBareRepo) {
  auto snap = open_git_snapshot(options(work_.string()));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  EXPECT_EQ(snap->revision, first_sha_);
  EXPECT_EQ(snap->ref, "main");
  EXPECT_TRUE(snap->cache_path.empty());
  EXPECT_FALSE(fs::exists(cache_));
  EXPECT_EQ(snap->tree->describe(), "git " + work_.string() + "@" + first_sha_.substr(0, 7));
  auto text = snap->tree->read_file("base/deploy.yaml");
  ASSERT_TRUE(text.ok()) << text.error().to_string();
  EXPECT_EQ(*text, "kind: Deployment\nmetadata: {name: api}\n");

  auto bare = open_git_snapshot(options(origin_.string(), "release"));
  ASSERT_TRUE(bare.ok()) << bare.error().to_string();
  EXPECT_EQ(bare->revision, first_sha_);
  EXPECT_EQ(bare->ref, "release");

  auto missing = open_git_snapshot(options((root_ / "nope").string()));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(GitSourceTest, TreeReadsListsAndResolvesSymlinksInsideTheTree) {
  auto snap = open_git_snapshot(options(work_.string()));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  const FileTree& tree = *snap->tree;

  auto root = tree.list_directory("");
  ASSERT_TRUE(root.ok()) << root.error().to_string();
  std::vector<std::string> names;
  for (const auto& entry : *root) names.push_back(entry.name);
  EXPECT_THAT(names, ::testing::ElementsAre("README.md", "base", "deploy-link.yaml", "envs",
                                            "loop-a", "loop-b"));
  EXPECT_EQ((*root)[1].type, EntryType::kDirectory);

  // A link to a directory is a directory; files below it read through it.
  auto prod = tree.list_directory("envs/prod");
  ASSERT_TRUE(prod.ok());
  ASSERT_EQ(prod->size(), 2u);
  EXPECT_EQ((*prod)[0].name, "base-link");
  EXPECT_EQ((*prod)[0].type, EntryType::kDirectory);
  auto via_link = tree.read_file("envs/prod/base-link/deploy.yaml");
  ASSERT_TRUE(via_link.ok()) << via_link.error().to_string();
  EXPECT_THAT(*via_link, HasSubstr("kind: Deployment"));
  EXPECT_TRUE(tree.read_file("deploy-link.yaml").ok());

  EXPECT_EQ(tree.stat("envs").value(), EntryType::kDirectory);
  EXPECT_EQ(tree.stat("README.md").value(), EntryType::kFile);
  EXPECT_EQ(tree.stat("nope").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(tree.read_file("envs").error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree.read_file("README.md/x").error().code(), ErrorCode::kNotFound);

  // Escapes are refused, whether through a symlink or "..".
  auto escape = tree.read_file("envs/escape.yaml");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(escape.error().message(), HasSubstr("leaves the repository"));
  EXPECT_EQ(tree.read_file("../work/README.md").error().code(), ErrorCode::kPermissionDenied);

  auto loop = tree.read_file("loop-a");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(loop.error().message(), HasSubstr("symbolic links"));
}

TEST_F(GitSourceTest, SymlinkLoopsInACommitNeitherMultiplyObjectsNorHang) {
  write_file(work_ / "plain/deploy.yaml",
             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n");
  fs::create_symlink(".", work_ / "plain/x");
  fs::create_directories(work_ / "plain/sub");
  fs::create_symlink("..", work_ / "plain/sub/y");
  git("add -A");
  git("commit -q -m loops");
  auto snap = open_git_snapshot(options(work_.string()));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  EXPECT_EQ(snap->tree->real_path("plain/x/sub/y/x").value(), "plain");
  auto start = std::chrono::steady_clock::now();
  auto out = render(*snap->tree, "plain", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].origin.file, "plain/deploy.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(GitSourceTest, SubmoduleGivesAClearError) {
  // A gitlink entry (mode 160000) without cloning anything: update-index --cacheinfo.
  git("update-index --add --cacheinfo 160000," + first_sha_ + ",vendor/lib");
  git("commit -q -m submodule");
  auto snap = open_git_snapshot(options(work_.string()));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  auto read = snap->tree->read_file("vendor/lib/x.yaml");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error().message(), HasSubstr("submodule"));
  EXPECT_THAT(snap->tree->list_directory("vendor/lib").error().message(), HasSubstr("submodule"));
}

// ---------------------------------------------------------------------------------------------
// git daemon: clone once, fetch afterwards, refs.

TEST_F(GitSourceTest, GitDaemonCloneThenFetchAndRefs) {
  int port = start_git_daemon();
  std::string url = "git://127.0.0.1:" + std::to_string(port) + "/repo.git";

  std::vector<std::string> progress;
  auto o = options(url);
  o.progress = [&](std::string_view line) { progress.emplace_back(line); };
  auto t0 = Clock::now();
  auto first = open_git_snapshot(o);
  auto clone_time = Clock::now() - t0;
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_FALSE(first->reused_cache);
  EXPECT_EQ(first->revision, first_sha_);
  EXPECT_EQ(first->ref, "main");
  EXPECT_EQ(first->cache_path.parent_path().parent_path(), cache_);
  EXPECT_EQ(first->tree->describe(), "git " + url + "@" + first_sha_.substr(0, 7));
  EXPECT_EQ(first->tree->read_file("README.md").value(), "v1\n");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front(), "cloning " + url);
  EXPECT_THAT(progress.back(),
              ::testing::MatchesRegex("fetching git://.* \\([0-9]+/[0-9]+ objects\\)"));

  std::string second_sha = push_commit("v2\n");
  t0 = Clock::now();
  auto second = open_git_snapshot(options(url));
  auto fetch_time = Clock::now() - t0;
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_TRUE(second->reused_cache);
  EXPECT_EQ(second->cache_path, first->cache_path);
  EXPECT_EQ(second->revision, second_sha);
  EXPECT_NE(second->revision, first->revision);
  EXPECT_EQ(second->tree->read_file("README.md").value(), "v2\n");
  // The first snapshot still reads its own commit.
  EXPECT_EQ(first->tree->read_file("README.md").value(), "v1\n");
  std::cout << "[ timing ] clone "
            << std::chrono::duration_cast<std::chrono::milliseconds>(clone_time).count()
            << " ms, fetch "
            << std::chrono::duration_cast<std::chrono::milliseconds>(fetch_time).count() << " ms\n";

  // Tag (annotated, peeled to its commit), branch, full and abbreviated SHA.
  auto tag = open_git_snapshot(options(url, "v1"));
  ASSERT_TRUE(tag.ok()) << tag.error().to_string();
  EXPECT_EQ(tag->revision, first_sha_);
  EXPECT_EQ(tag->ref, "refs/tags/v1");
  auto branch = open_git_snapshot(options(url, "release"));
  ASSERT_TRUE(branch.ok());
  EXPECT_EQ(branch->revision, first_sha_);
  auto full = open_git_snapshot(options(url, first_sha_));
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ(full->revision, first_sha_);
  EXPECT_EQ(full->tree->read_file("README.md").value(), "v1\n");
  auto abbreviated = open_git_snapshot(options(url, first_sha_.substr(0, 8)));
  ASSERT_TRUE(abbreviated.ok()) << abbreviated.error().to_string();
  EXPECT_EQ(abbreviated->revision, first_sha_);

  auto missing = open_git_snapshot(options(url, "no-such-branch"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().to_string(),
            url + ": ref 'no-such-branch' not found (branches: main, release)");

  // A branch deleted upstream stops resolving after the next fetch.
  git("push -q origin :release");
  auto deleted = open_git_snapshot(options(url, "release"));
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code(), ErrorCode::kNotFound);
}

TEST_F(GitSourceTest, ConcurrentOpensShareTheCacheUnderTheLock) {
  int port = start_git_daemon();
  std::string url = "git://127.0.0.1:" + std::to_string(port) + "/repo.git";
  std::vector<std::optional<Result<GitSnapshot>>> slots(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < slots.size(); ++i) {
    auto o = options(url);  // built here: the fixture is not thread-safe
    threads.emplace_back([&slots, i, o] { slots[i].emplace(open_git_snapshot(o)); });
  }
  for (auto& thread : threads) thread.join();
  std::vector<Result<GitSnapshot>> results;
  for (auto& slot : slots) results.push_back(std::move(*slot));
  int cloned = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_EQ(result->revision, first_sha_);
    EXPECT_EQ(result->cache_path, results[0]->cache_path);
    if (!result->reused_cache) ++cloned;
  }
  EXPECT_EQ(cloned, 1);

  // While another process holds the entry's lock, we wait, then give up at the deadline.
  fs::path lock_file = results[0]->cache_path.parent_path() / "lock";
  int fd = open(lock_file.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  auto o = options(url);
  o.timeout = std::chrono::seconds(1);
  auto blocked = open_git_snapshot(o);
  close(fd);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code(), ErrorCode::kTimeout);
  EXPECT_THAT(blocked.error().message(), HasSubstr("cache lock"));
}

TEST_F(GitSourceTest, FileUrlUsesTheCacheToo) {
  std::string url = "file://" + origin_.string();
  auto snap = open_git_snapshot(options(url, "v1"));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  EXPECT_EQ(snap->revision, first_sha_);
  EXPECT_FALSE(snap->cache_path.empty());
  std::string next = push_commit("v2\n");
  auto again = open_git_snapshot(options(url));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(again->reused_cache);
  EXPECT_EQ(again->revision, next);
}

TEST_F(GitSourceTest, MissingRepositoryOnTheServerIsNotFound) {
  int port = start_git_daemon();
  auto snap =
      open_git_snapshot(options("git://127.0.0.1:" + std::to_string(port) + "/missing.git"));
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kNotFound) << snap.error().to_string();
}

// ---------------------------------------------------------------------------------------------
// Nobody listening: fail fast with kUnavailable naming the URL.

TEST_F(GitSourceTest, ServerDownIsUnavailableWithinTheTimeout) {
  int port = free_port();
  for (const std::string scheme : {"git", "http", "ssh"}) {
    std::string url = scheme + "://127.0.0.1:" + std::to_string(port) + "/repo.git";
    auto o = options(url);
    o.timeout = std::chrono::seconds(5);
    auto t0 = Clock::now();
    auto snap = open_git_snapshot(o);
    auto elapsed = Clock::now() - t0;
    ASSERT_FALSE(snap.ok()) << url;
    EXPECT_EQ(snap.error().code(), ErrorCode::kUnavailable) << snap.error().to_string();
    EXPECT_EQ(snap.error().where(), url);
    EXPECT_THAT(snap.error().message(), HasSubstr("127.0.0.1:" + std::to_string(port)));
    EXPECT_LT(elapsed, o.timeout);
  }
}

// ---------------------------------------------------------------------------------------------
// Servers that stop answering. libgit2 1.5 has no socket timeout: the fetch runs in a child
// process that is killed at the deadline.

// A TCP server on 127.0.0.1 that accepts connections and never sends a byte (`silent`), or
// a proxy to `target_port` that stops forwarding the server's bytes after `stall_after`
// (a connection that stalls in the middle of a pack). Connections stay open until stop().
class StallingServer {
 public:
  explicit StallingServer(int target_port = 0, size_t stall_after = 0)
      : target_port_(target_port), stall_after_(stall_after) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listener_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~StallingServer() {
    stop_ = true;
    thread_.join();
    for (int fd : open_) close(fd);
    close(listener_);
  }
  int port() const { return port_; }
  std::atomic<bool> stall{true};  // false: forward everything (the proxy behaves)
  std::atomic<int> accepted{0};

 private:
  static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    return fd;
  }
  struct Pair {
    int client, server;
    size_t sent = 0;  // server -> client
    bool stalled;
  };
  void run() {
    std::vector<Pair> pairs;
    char buffer[16384];
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const Pair& p : pairs) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.server, static_cast<short>(p.server >= 0 ? POLLIN : 0), 0});
      }
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        ++accepted;
        open_.push_back(client);
        int server = target_port_ > 0 ? connect_to(target_port_) : -1;
        if (server >= 0) open_.push_back(server);
        pairs.push_back({client, server, 0, stall.load()});
      }
      for (size_t i = 0; i < pairs.size(); ++i) {
        Pair& p = pairs[i];
        if ((fds[1 + 2 * i].revents & POLLIN) && p.client >= 0) {
          ssize_t n = read(p.client, buffer, sizeof buffer);
          if (n > 0 && p.server >= 0) (void)!write(p.server, buffer, static_cast<size_t>(n));
          if (n <= 0) p.client = -1;  // closed; the fd stays in open_ until the end
        }
        if (p.server >= 0 && (fds[2 + 2 * i].revents & POLLIN) && p.client >= 0 &&
            !(p.stalled && p.sent >= stall_after_)) {
          size_t room = p.stalled ? std::min(sizeof buffer, stall_after_ - p.sent) : sizeof buffer;
          ssize_t n = read(p.server, buffer, room);
          if (n > 0) {
            (void)!write(p.client, buffer, static_cast<size_t>(n));
            p.sent += static_cast<size_t>(n);
          }
          if (n <= 0) {
            shutdown(p.client, SHUT_WR);
            p.server = -1;
          }
        }
      }
    }
  }

  int target_port_;
  size_t stall_after_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> open_;
  std::thread thread_;
};

TEST_F(GitSourceTest, ASilentServerFailsWithATimeoutWithinTheDeadline) {
  StallingServer silent;
  for (const std::string scheme : {"git", "http"}) {
    std::string url = scheme + "://127.0.0.1:" + std::to_string(silent.port()) + "/repo.git";
    auto o = options(url);
    o.timeout = std::chrono::seconds(2);
    auto t0 = Clock::now();
    auto snap = open_git_snapshot(o);
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    ASSERT_FALSE(snap.ok()) << url;
    EXPECT_EQ(snap.error().code(), ErrorCode::kTimeout) << snap.error().to_string();
    EXPECT_TRUE(snap.error().retryable());
    EXPECT_EQ(snap.error().to_string(),
              url +
                  ": fetch did not finish within 2s (no answer from the server); the fetch "
                  "process was killed");
    EXPECT_GE(elapsed, 1.9);
    EXPECT_LT(elapsed, 2.5);
    std::cout << "[ timing ] " << scheme << ":// silent server: timeout after " << elapsed
              << " s (deadline 2 s)\n";
  }
  EXPECT_GE(silent.accepted.load(), 2);
}

TEST_F(GitSourceTest, AFetchKilledInTheMiddleOfAPackLeavesACacheTheNextRunUses) {
  // A pack of about 1 MiB that the proxy cuts after 64 KiB.
  sh("head -c 1500000 /dev/urandom > " + shell_quote((work_ / "blob.bin").string()));
  git("add blob.bin");
  git("commit -q -m blob");
  git("push -q origin main");
  std::string head = trim(git("rev-parse HEAD"));
  int daemon = start_git_daemon();
  StallingServer proxy(daemon, 64 * 1024);
  std::string url = "git://127.0.0.1:" + std::to_string(proxy.port()) + "/repo.git";
  auto o = options(url);
  o.timeout = std::chrono::seconds(2);
  auto killed = open_git_snapshot(o);
  ASSERT_FALSE(killed.ok());
  EXPECT_EQ(killed.error().code(), ErrorCode::kTimeout) << killed.error().to_string();

  proxy.stall = false;
  auto next = open_git_snapshot(o);
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(next->revision, head);
  EXPECT_EQ(next->tree->read_file("blob.bin")->size(), 1500000u);
  // Nothing the killed fetch left behind stays in the cache.
  for (const auto& entry : fs::recursive_directory_iterator(next->cache_path)) {
    std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.ends_with(".lock") || name.starts_with("tmp_")) << entry.path();
  }
}

TEST_F(GitSourceTest, ARepositoryLargerThanTheCacheLimitIsRefused) {
  sh("head -c 3000000 /dev/urandom > " + shell_quote((work_ / "blob.bin").string()));
  git("add blob.bin");
  git("commit -q -m blob");
  git("push -q origin main");
  int port = start_git_daemon();
  std::string url = "git://127.0.0.1:" + std::to_string(port) + "/repo.git";
  auto o = options(url);
  o.max_cache_bytes = 1u << 20;
  auto refused = open_git_snapshot(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(refused.error().to_string(),
              HasSubstr("the repository is larger than the Git cache limit (1048576 bytes, "
                        "--git-cache-max-bytes); fetch stopped after "));
  // What stays on disk is bounded by the limit.
  uint64_t on_disk = 0;
  for (const auto& entry : fs::recursive_directory_iterator(cache_)) {
    if (entry.is_regular_file()) on_disk += entry.file_size();
  }
  EXPECT_LE(on_disk, 1u << 20);

  // A cache that grew past a limit lowered later is removed, and fetched again next time.
  o.max_cache_bytes = 64u << 20;
  auto fits = open_git_snapshot(o);
  ASSERT_TRUE(fits.ok()) << fits.error().to_string();
  o.max_cache_bytes = 2u << 20;
  auto shrunk = open_git_snapshot(o);
  ASSERT_FALSE(shrunk.ok());
  EXPECT_THAT(shrunk.error().message(), HasSubstr("it was removed"));
  EXPECT_FALSE(fs::exists(fits->cache_path));
}

// ---------------------------------------------------------------------------------------------
// git http-backend behind lighttpd: /git anonymous, /private behind basic auth.

class GitHttpTest : public GitSourceTest {
 protected:
  void SetUp() override {
    GitSourceTest::SetUp();
    if (!have_executable("/usr/sbin/lighttpd") ||
        !have_executable("/usr/lib/git-core/git-http-backend")) {
      GTEST_SKIP() << "lighttpd or git-http-backend not installed (scripts/install-deps)";
    }
    port_ = free_port();
    write_file(root_ / "www/index.html", "");
    write_file(root_ / "htpasswd", "deploy:s3cret-pass\n");
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
    replace("@ROOT@", root_.string());
    replace("@SRV@", srv_.string());
    replace("@PORT@", std::to_string(port_));
    write_file(root_ / "lighttpd.conf", conf);
    start_server({"/usr/sbin/lighttpd", "-D", "-f", (root_ / "lighttpd.conf").string()}, "lighttpd",
                 port_);
  }

  std::string url(const std::string& prefix) {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + prefix + "/repo.git";
  }

  int port_ = 0;
};

TEST_F(GitHttpTest, AnonymousClone) {
  auto snap = open_git_snapshot(options(url("git")));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string() << read_file(root_ / "lighttpd-error.log");
  EXPECT_EQ(snap->revision, first_sha_);
  EXPECT_EQ(snap->tree->read_file("README.md").value(), "v1\n");
}

TEST_F(GitHttpTest, BasicAuthWithPasswordTokenAndNetrc) {
  auto o = options(url("private"));
  o.auth.allow_cleartext_http = true;  // a local test server; https:// only otherwise
  o.auth.username = "deploy";
  o.auth.password = "s3cret-pass";
  auto snap = open_git_snapshot(o);
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  EXPECT_EQ(snap->revision, first_sha_);

  // The same credentials from a netrc file, for a fresh cache.
  write_file(root_ / "netrc",
             "machine other.example login x password y\n"
             "machine 127.0.0.1\n  login deploy\n  password s3cret-pass\n");
  auto n = options(url("private"));
  n.cache_dir = root_ / "cache-netrc";
  n.auth.netrc_file = root_ / "netrc";
  n.auth.allow_cleartext_http = true;
  auto via_netrc = open_git_snapshot(n);
  ASSERT_TRUE(via_netrc.ok()) << via_netrc.error().to_string();
  EXPECT_FALSE(via_netrc->reused_cache);
}

TEST_F(GitHttpTest, CredentialsGoOnlyToTheirHostAndNeverInCleartext) {
  auto o = options(url("private"));
  o.auth.username = "deploy";
  o.auth.password = "s3cret-pass";
  auto cleartext = open_git_snapshot(o);
  ASSERT_FALSE(cleartext.ok());
  EXPECT_EQ(cleartext.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(cleartext.error().message(), HasSubstr("not sent over cleartext http://"));

  o.auth.allow_cleartext_http = true;
  o.auth.host = "git.example.com";  // configured for another host than the repository's
  auto other = open_git_snapshot(o);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(other.error().message(),
              HasSubstr("credentials for git.example.com are not sent to 127.0.0.1"));

  // /moved/ redirects to localhost: the same server under another name, off-site for libgit2.
  auto r = options("http://127.0.0.1:" + std::to_string(port_) + "/moved/repo.git");
  r.auth.allow_cleartext_http = true;
  r.auth.username = "deploy";
  r.auth.password = "s3cret-pass";
  auto redirected = open_git_snapshot(r);
  ASSERT_FALSE(redirected.ok());
  EXPECT_EQ(redirected.error().code(), ErrorCode::kPermissionDenied)
      << redirected.error().to_string();
  EXPECT_THAT(redirected.error().message(), HasSubstr("are not sent to localhost"));
}

TEST_F(GitHttpTest, WrongOrMissingCredentialsAreUnauthenticated) {
  auto o = options(url("private"));
  o.auth.allow_cleartext_http = true;
  o.auth.username = "deploy";
  o.auth.password = "wrong-password";
  auto snap = open_git_snapshot(o);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kUnauthenticated) << snap.error().to_string();
  EXPECT_EQ(snap.error().where(), url("private"));
  EXPECT_THAT(snap.error().message(), HasSubstr("rejected the credentials for user 'deploy'"));
  EXPECT_THAT(snap.error().to_string(), ::testing::Not(HasSubstr("wrong-password")));

  auto none = open_git_snapshot(options(url("private")));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kUnauthenticated) << none.error().to_string();
}

// ---------------------------------------------------------------------------------------------
// sshd: key auth, and a host-key check that fails closed.

class GitSshTest : public GitSourceTest {
 protected:
  void SetUp() override {
    GitSourceTest::SetUp();
    if (!have_executable("/usr/sbin/sshd") || !have_executable("/usr/bin/ssh-keygen")) {
      GTEST_SKIP() << "openssh-server not installed (scripts/install-deps)";
    }
    fs::create_directories("/run/sshd");  // sshd's privilege-separation directory
    port_ = free_port();
    host_key_ = root_ / "ssh_host_ed25519_key";
    client_key_ = root_ / "client_ed25519";
    sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(host_key_.string()));
    sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(client_key_.string()));
    fs::copy_file(client_key_.string() + ".pub", root_ / "authorized_keys");
    std::string user = trim(sh("id -un"));
    user_ = user;
    write_file(root_ / "sshd_config",
               "ListenAddress 127.0.0.1\n"
               "HostKey " +
                   host_key_.string() +
                   "\n"
                   "AuthorizedKeysFile " +
                   (root_ / "authorized_keys").string() +
                   "\n"
                   "PubkeyAuthentication yes\nPasswordAuthentication no\n"
                   "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                   "StrictModes no\nUsePAM no\nPidFile " +
                   (root_ / "sshd.pid").string() + "\n");
    start_server({"/usr/sbin/sshd", "-D", "-e", "-f", (root_ / "sshd_config").string(), "-p",
                  std::to_string(port_), "-h", host_key_.string()},
                 "sshd", port_);
    host_public_key_ = trim(read_file(host_key_.string() + ".pub"));
  }

  std::string url() const {
    return "ssh://" + user_ + "@127.0.0.1:" + std::to_string(port_) + origin_.string();
  }

  GitSourceOptions ssh_options(const std::string& known_hosts) {
    auto o = options(url());
    write_file(root_ / "known_hosts", known_hosts);
    o.auth.known_hosts_file = root_ / "known_hosts";
    o.auth.ssh_key_file = client_key_;
    return o;
  }

  // "ssh-ed25519 AAAA…" without the comment.
  std::string host_key_fields() const {
    auto space = host_public_key_.find(' ', host_public_key_.find(' ') + 1);
    return host_public_key_.substr(0, space);
  }

  int port_ = 0;
  std::string user_;
  fs::path host_key_, client_key_;
  std::string host_public_key_;
};

TEST_F(GitSshTest, CloneWithKnownHostKey) {
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto snap = open_git_snapshot(ssh_options("# test\n" + name + " " + host_key_fields() + "\n"));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string() << read_file(root_ / "sshd.log");
  EXPECT_EQ(snap->revision, first_sha_);
  EXPECT_EQ(snap->tree->read_file("README.md").value(), "v1\n");
}

// As an Environment's secretRef gives them: key and known_hosts as text, never on disk.
TEST_F(GitSshTest, KeyAndKnownHostsFromMemory) {
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto o = options(url());
  o.auth.origin = "Secret plumbline-system/git-ssh";
  o.auth.ssh_key = read_file(client_key_);
  o.auth.known_hosts = name + " " + host_key_fields() + "\n";
  o.auth.known_hosts_file = root_ / "no-such-file";
  auto snap = open_git_snapshot(o);
  ASSERT_TRUE(snap.ok()) << snap.error().to_string() << read_file(root_ / "sshd.log");
  EXPECT_EQ(snap->revision, first_sha_);

  o.auth.known_hosts = "other.example " + host_key_fields() + "\n";
  auto unknown = open_git_snapshot(o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(
      unknown.error().message(),
      "host key for " + name + " is not in the known_hosts of Secret plumbline-system/git-ssh");

  o.auth.known_hosts = name + " " + host_key_fields() + "\n";
  fs::path stranger = root_ / "stranger";
  sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(stranger.string()));
  o.auth.ssh_key = read_file(stranger);
  auto refused = open_git_snapshot(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated) << refused.error().to_string();
}

TEST_F(GitSshTest, UnknownHostKeyFailsClosed) {
  auto snap = open_git_snapshot(ssh_options("other.example " + host_key_fields() + "\n"));
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kPermissionDenied) << snap.error().to_string();
  EXPECT_EQ(snap.error().message(), "host key for [127.0.0.1]:" + std::to_string(port_) +
                                        " is not in " + (root_ / "known_hosts").string());
}

TEST_F(GitSshTest, ChangedHostKeyFailsClosed) {
  fs::path other = root_ / "other_host_key";
  sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(other.string()));
  std::string wrong = trim(read_file(other.string() + ".pub"));
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto snap = open_git_snapshot(ssh_options(name + " " + wrong + "\n"));
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kPermissionDenied) << snap.error().to_string();
  EXPECT_EQ(snap.error().message(),
            "host key for " + name + " does not match " + (root_ / "known_hosts").string());

  // A corrupted copy of the right key (one base64 character changed) must not pass either.
  std::string corrupt = host_key_fields();
  char& c = corrupt[corrupt.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  auto corrupted = open_git_snapshot(ssh_options(name + " " + corrupt + "\n"));
  ASSERT_FALSE(corrupted.ok());
  EXPECT_EQ(corrupted.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(GitSshTest, WrongClientKeyIsUnauthenticated) {
  fs::path stranger = root_ / "stranger";
  sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(stranger.string()));
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto o = ssh_options(name + " " + host_key_fields() + "\n");
  o.auth.ssh_key_file = stranger;
  auto snap = open_git_snapshot(o);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kUnauthenticated) << snap.error().to_string();
}

}  // namespace
}  // namespace plumbline
