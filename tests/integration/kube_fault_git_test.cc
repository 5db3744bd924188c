// The fault suite, Git side (ctest label `faults`; tests/README.md "The fault suite"): the
// controller's Git server down, silent (a proxy that accepts and never answers), slow and
// force-pushed, and the Git cache's disk full. After each: a clear error on the Environment
// while the fault lasts (the last good revision kept), the commit made during the fault in the
// next report once it is over, and the same cache repository used on, with nothing left
// behind.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integration/fault_fixture.h"
#include "integration/fault_proxy.h"

namespace {

using namespace plumbline::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

class GitFaultTest : public KubeFaultTest {
 protected:
  void TearDown() override {
    if (!mounted_.empty()) ::umount2(mounted_.c_str(), MNT_DETACH);
    KubeFaultTest::TearDown();
  }
  // A commit outside the prod folder with `bytes` of incompressible data: a new revision that
  // needs a pack of about that size.
  void CommitBlob(const std::string& message, size_t bytes, std::mt19937& random) {
    std::string blob(bytes, '\0');
    for (char& c : blob) c = static_cast<char>(random());
    std::ofstream(dir_ / "work" / "blob.bin", std::ios::binary | std::ios::trunc) << blob;
    CommitAndPush(message);
  }
  // The Environment's Degraded condition while the fault lasts: its message (the error).
  std::string Degraded() {
    std::string message;
    return ConditionOf(Get({"environment", "prod"}), "Degraded", &message) == "True" ? message : "";
  }
  bool Reports(const std::string& head) {
    json environment = Get({"environment", "prod"});
    std::string message;
    return ReportRevision(Get({"driftreport", "prod", "-n", "plumbline-system"})) == head &&
           ConditionOf(environment, "Degraded", &message) == "False";
  }
  // The controller on an Environment that fetches through `proxy` (in front of the git daemon),
  // polled every second, 4 s per fetch.
  std::unique_ptr<Background> StartController(const FaultProxy& proxy) {
    EXPECT_NO_FATAL_FAILURE(ApplyEnvironment(
        "", "git://127.0.0.1:" + std::to_string(proxy.port()) + "/ops.git", "", "prod", "1s"));
    return std::make_unique<Background>(ControllerArgs("cache", {"--git-timeout", "4s"}),
                                        (dir_ / "controller.log").string());
  }
  std::string mounted_;
};

TEST_F(GitFaultTest, DownSilentSlowAndForcePushedServers) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  FaultProxy proxy(port_);
  auto controller = StartController(proxy);
  ASSERT_TRUE(WaitFor([&] { return Reports(ServedHead()); }, 60s)) << controller->Log();
  const fs::path repo = CacheRepo("cache");
  ASSERT_FALSE(repo.empty());
  const ino_t inode = Inode(repo);
  std::mt19937 random = Random();
  const int rounds = Rounds(1);
  struct Case {
    std::string name;
    int failures = 0;
    double seconds = 0;
    std::string error;  // the Degraded message seen during the fault
  };
  Case down{"Git server down"}, silent{"Git server silent"}, slow{"Git server slow"},
      forced{"Git history force-pushed"};
  // One phase: `fault` starts it and makes a commit, `clear` ends it; `error` is what Degraded
  // must say meanwhile ("" = no error expected).
  auto phase = [&](Case& c, const std::function<void()>& fault, const std::string& error,
                   const std::function<void()>& clear) {
    SCOPED_TRACE(c.name);
    auto t0 = Clock::now();
    bool ok = true;
    fault();
    const std::string head = ServedHead();
    if (!error.empty()) {
      std::string seen;
      ok = WaitFor([&] { return (seen = Degraded()).find(error) != std::string::npos; }, 30s);
      EXPECT_TRUE(ok) << "Degraded: " << seen << "\n" << controller->Log();
      // The last good revision is still reported meanwhile.
      EXPECT_NE(ReportRevision(Get({"driftreport", "prod", "-n", "plumbline-system"})), head);
      if (c.error.empty()) c.error = seen;
    }
    clear();
    bool recovered = WaitFor([&] { return Reports(head); }, 60s);
    EXPECT_TRUE(recovered) << Degraded() << "\n" << controller->Log();
    EXPECT_EQ(Inode(CacheRepo("cache")), inode);
    EXPECT_TRUE(Leftovers(repo).empty()) << ::testing::PrintToString(Leftovers(repo));
    c.failures +=
        !ok || !recovered || Inode(CacheRepo("cache")) != inode || !Leftovers(repo).empty();
    c.seconds += Since(t0);
  };
  const std::string url = "git://127.0.0.1:" + std::to_string(proxy.port()) + "/ops.git";
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string n = std::to_string(round);
    phase(
        down,
        [&] {
          StopGitDaemon();
          CommitBlob("while the server is down " + n, 1000, random);
        },
        url, [&] { StartGitDaemon(); });
    phase(
        silent,
        [&] {
          proxy.set_mode(FaultProxy::Mode::kStall);
          CommitBlob("while the server is silent " + n, 1000, random);
        },
        url +
            ": fetch did not finish within 4s (no answer from the server); the fetch process was "
            "killed",
        [&] { proxy.set_mode(FaultProxy::Mode::kForward); });
    // ~12 KiB/s: a 24 KiB pack takes about 2 s of the 4 s deadline.
    phase(
        slow,
        [&] {
          proxy.set_mode(FaultProxy::Mode::kSlow);
          CommitBlob("while the server is slow " + n, 24 * 1024, random);
        },
        "", [&] {});
    proxy.set_mode(FaultProxy::Mode::kForward);
    // History rewritten: the last commit replaced by another one, force-pushed.
    phase(
        forced,
        [&] {
          Git({"reset", "-q", "--hard", "HEAD~1"});
          std::ofstream(dir_ / "work" / "NOTES.md", std::ios::app) << "rewritten " << n << "\n";
          Commit("rewritten history " + n);
          Git({"push", "-q", "--force", "origin", "main"});
        },
        "", [&] {});
  }
  for (const Case* c : {&down, &silent, &slow, &forced}) {
    Figures(c->name, rounds, c->failures, c->seconds, c->error.empty() ? "" : "error: " + c->error);
  }
  EXPECT_EQ(controller->Stop(), 0) << controller->Log();
}

// The cache on an 8 MiB tmpfs (mount needs root or CAP_SYS_ADMIN; skipped otherwise): the disk
// filled up, a commit with a 128 KiB blob pushed. The fetch fails with the filesystem's own
// error on the Environment, the last good revision is reported; once space is freed the next
// fetch uses the same cache and reports the commit.
TEST_F(GitFaultTest, TheCacheDiskFullFailsClearlyAndRecovers) {
  const fs::path cache = dir_ / "cache";
  fs::create_directories(cache);
  if (::mount("tmpfs", cache.c_str(), "tmpfs", 0, "size=8m,mode=0755") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs for the Git cache (" << std::strerror(errno)
                 << "): the disk-full case needs root or CAP_SYS_ADMIN";
  }
  mounted_ = cache.string();
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  FaultProxy proxy(port_);
  auto controller = StartController(proxy);
  ASSERT_TRUE(WaitFor([&] { return Reports(ServedHead()); }, 60s)) << controller->Log();
  const fs::path repo = CacheRepo("cache");
  ASSERT_FALSE(repo.empty());
  const ino_t inode = Inode(repo);
  std::mt19937 random = Random();
  const int rounds = Rounds(1);
  int failures = 0;
  std::string error;
  auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    {  // Fill the disk to the last byte.
      std::ofstream filler(cache / "filler", std::ios::binary);
      std::string chunk(4096, 'x');
      while (filler.write(chunk.data(), chunk.size())) {
      }
    }
    CommitBlob("disk full " + std::to_string(round), 128 * 1024, random);
    const std::string head = ServedHead();
    std::string seen;
    bool failed = WaitFor([&] { return !(seen = Degraded()).empty(); }, 30s);
    EXPECT_TRUE(failed) << controller->Log();
    EXPECT_NE(ReportRevision(Get({"driftreport", "prod", "-n", "plumbline-system"})), head);
    if (error.empty()) error = seen;
    fs::remove(cache / "filler");
    bool recovered = WaitFor([&] { return Reports(head); }, 60s);
    EXPECT_TRUE(recovered) << Degraded() << "\n" << controller->Log();
    EXPECT_EQ(Inode(CacheRepo("cache")), inode);
    EXPECT_TRUE(Leftovers(repo).empty()) << ::testing::PrintToString(Leftovers(repo));
    failures += !failed || !recovered || Inode(CacheRepo("cache")) != inode;
  }
  Figures("Git cache disk full", rounds, failures, Since(t0), "error: " + error);
  EXPECT_EQ(controller->Stop(), 0) << controller->Log();
}

}  // namespace
