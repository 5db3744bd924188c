// GitSource against real Git servers started as child processes on free 127.0.0.1 ports:
// local paths and git daemon (git://), a port nobody listens on, a server that stalls.
// No mocks. HTTP and SSH transports: git_transport_test.cc.
#include "integration/git_source_fixture.h"

namespace plumbline {
namespace {

using namespace git_testing;

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

// A file's content id is its blob id (what a parse cache keys on); links give their target's;
// directories, missing paths and escapes have none.
TEST_F(GitSourceTest, ContentIdIsTheBlobIdOfTheFile) {
  auto snap = open_git_snapshot(options(work_.string()));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  const FileTree& tree = *snap->tree;
  std::string blob = trim(git("rev-parse HEAD:base/deploy.yaml"));
  EXPECT_EQ(tree.content_id("base/deploy.yaml"), blob);
  EXPECT_EQ(tree.content_id("envs/prod/base-link/deploy.yaml"), blob);
  EXPECT_EQ(tree.content_id("README.md"), trim(git("rev-parse HEAD:README.md")));
  EXPECT_EQ(tree.content_id("base"), std::nullopt);
  EXPECT_EQ(tree.content_id("nope.yaml"), std::nullopt);
  EXPECT_EQ(tree.content_id("envs/escape.yaml"), std::nullopt);
  EXPECT_EQ(make_directory_tree(work_)->content_id("base/deploy.yaml"), std::nullopt);
}

// plumbline checks every object it reads against its id (libgit2's own check is off, for
// speed): a blob, a tree, an annotated tag or a commit whose stored content is another
// object's is refused, naming it, never read as if it were the right one.
TEST_F(GitSourceTest, ObjectsThatDoNotHoldWhatTheirIdsNameAreRefused) {
  auto loose = [&](const std::string& id) {
    return work_ / ".git" / "objects" / id.substr(0, 2) / id.substr(2);
  };
  // The stored (compressed) object of `from` put where `to` is looked for.
  auto replace = [&](const std::string& to, const std::string& from) {
    ASSERT_TRUE(fs::exists(loose(to))) << to;
    ASSERT_TRUE(fs::exists(loose(from))) << from;
    fs::remove(loose(to));
    fs::copy_file(loose(from), loose(to));
  };
  const std::string blob = trim(git("rev-parse HEAD:base/deploy.yaml"));
  const std::string readme = trim(git("rev-parse HEAD:README.md"));
  replace(blob, readme);
  {
    auto snap = open_git_snapshot(options(work_.string()));
    ASSERT_TRUE(snap.ok()) << snap.error().to_string();
    auto read = snap->tree->read_file("base/deploy.yaml");
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(read.error().message(), "blob " + blob.substr(0, 7) +
                                          " does not hold what its id names (the repository is "
                                          "corrupt)");
    EXPECT_NE(read.error().where().find("base/deploy.yaml"), std::string::npos)
        << read.error().where();
    auto others = snap->tree->read_file("README.md");  // the other files still read
    ASSERT_TRUE(others.ok()) << others.error().to_string();
    EXPECT_EQ(*others, "v1\n");
  }
  const std::string base = trim(git("rev-parse HEAD:base"));
  replace(base, trim(git("rev-parse HEAD:envs/prod")));
  {
    auto snap = open_git_snapshot(options(work_.string()));
    ASSERT_TRUE(snap.ok()) << snap.error().to_string();
    auto read = snap->tree->read_file("base/deploy.yaml");
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().message(), "tree " + base.substr(0, 7) +
                                          " does not hold what its id names (the repository is "
                                          "corrupt)");
  }
  const std::string tag = trim(git("rev-parse v1"));
  git("tag -a v2 -m release-2");
  replace(tag, trim(git("rev-parse v2")));
  auto tagged = open_git_snapshot(options(work_.string(), "v1"));
  ASSERT_FALSE(tagged.ok());
  EXPECT_EQ(
      tagged.error().message(),
      "tag " + tag.substr(0, 7) + " does not hold what its id names (the repository is corrupt)");
  const std::string second = push_commit("v2\n");
  replace(first_sha_, second);
  auto commit = open_git_snapshot(options(work_.string(), first_sha_));
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().message(), "commit " + first_sha_.substr(0, 7) +
                                          " does not hold what its id names (the repository is "
                                          "corrupt)");
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

}  // namespace
}  // namespace plumbline
