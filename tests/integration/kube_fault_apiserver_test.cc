// The fault suite, apiserver side (ctest label `faults`; tests/README.md "The fault suite"):
// the real kube-apiserver killed with SIGKILL and restarted during a watch, during an enforce
// correction and during the report's status writes; a TCP proxy in front of it that stalls;
// SIGTERM to the controller at random points. After each round: the change made during the
// fault is in the next report, the correction was made once (counted in the apiserver's own
// audit log), the Git cache is used as it is, and the controller recovered.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
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

class ApiserverFaultTest : public KubeFaultTest {
 protected:
  // The report shows revision `head` and, for checkout, memory limit `memory` live (drifted
  // from Git's 1Gi) and env LOG_LEVEL `log_level` live ("" = neither drifts).
  bool ReportShows(const std::string& head, const std::string& memory,
                   const std::string& log_level) {
    json report = Get({"driftreport", "prod", "-n", "plumbline-system"});
    if (ReportRevision(report) != head) return false;
    bool memory_seen = memory.empty(), log_seen = log_level.empty();
    for (const json& d : report["status"]["drifts"]) {
      std::string live = d.value("live", json()).is_string() ? d["live"].get<std::string>() : "";
      if (d.value("path", "").ends_with("resources.limits.memory") && live == memory)
        memory_seen = true;
      if (d.value("path", "").find("LOG_LEVEL") != std::string::npos && live == log_level) {
        log_seen = true;
      }
    }
    return memory_seen && log_seen;
  }
  void SetLogLevel(const std::string& value) {
    auto r = env_->Kubectl({"set", "env", "deployment/checkout", "-n", "shop-prod", "-c", "app",
                            "LOG_LEVEL=" + value});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  // A commit that changes the revision and nothing the prod render reads.
  void CommitOutsideTheEnvironment(const std::string& text) {
    std::ofstream(dir_ / "work" / "NOTES.md", std::ios::app) << text << "\n";
    CommitAndPush(text);
  }
  long Generation() { return Checkout()["metadata"].value("generation", 0L); }
  // After a human changed the checkout limit (`generation` before it, at `since`): within
  // `timeout` the limit is back at 1Gi, no drift is open and the report is at `head`, through
  // exactly one correction (generation + 2: the change and the correction). Each miss is a
  // test failure (with `log`); true when all hold.
  bool ConvergesWithOneCorrection(const std::string& since, long generation,
                                  const std::string& head, std::chrono::seconds timeout,
                                  const std::string& log) {
    const bool converged = WaitFor(
        [&] {
          return MemoryLimit(*env_) == "1Gi" && OpenDrifts().empty() && ReportShows(head, "", "");
        },
        timeout);
    EXPECT_TRUE(converged) << ::testing::PrintToString(OpenDrifts()) << log;
    const size_t writes = CheckoutCorrections(since).size();
    EXPECT_EQ(writes, 1u);
    EXPECT_EQ(Generation(), generation + 2);
    return converged && writes == 1 && Generation() == generation + 2;
  }
  // The controller's "corrected" log lines at or after `since` (audit-log time format).
  static int CorrectedSince(const std::string& log, const std::string& since) {
    int n = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      json entry = json::parse(line, nullptr, false);
      if (!entry.is_object() || entry.value("msg", "") != "corrected") continue;
      n += entry.value("ts", "").substr(0, 23) >= since.substr(0, 23);
    }
    return n;
  }

  static constexpr const char* kWatchFailing =
      "cannot watch the cluster; reports show its state as of the last event received";
  static constexpr const char* kWatchingAgain = "watching the cluster again";
  // The last of the controller's log lines about its watches.
  static std::string LastWatchHealth(const std::string& log) {
    std::string last;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      json entry = json::parse(line, nullptr, false);
      if (!entry.is_object()) continue;
      std::string msg = entry.value("msg", "");
      if (msg == kWatchFailing || msg == kWatchingAgain) last = msg;
    }
    return last;
  }
};

// A change made just before the kill (its watch event may or may not have been delivered), a
// Git commit made while the apiserver is down, a change made right after it is back: all three
// are in the next report.
TEST_F(ApiserverFaultTest, KilledDuringAWatchMissesNoChange) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment());
  Background controller(ControllerArgs("cache", {"--workers", "2"}, ProxiedKubeconfig()),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return ReportShows(ServedHead(), "", ""); }, 60s)) << controller.Log();
  std::mt19937 random = Random();
  const int rounds = Rounds(1);
  int failures = 0;
  auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string memory = std::to_string(1100 + round) + "Mi";
    const std::string log_level = "round-" + std::to_string(round);
    ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", memory));
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 500));
    ASSERT_NO_FATAL_FAILURE(KillApiserver());
    CommitOutsideTheEnvironment("while the apiserver is down: " + log_level);
    ASSERT_NO_FATAL_FAILURE(RestartApiserver());
    ASSERT_NO_FATAL_FAILURE(SetLogLevel(log_level));
    bool shown = WaitFor([&] { return ReportShows(ServedHead(), memory, log_level); }, 90s);
    EXPECT_TRUE(shown) << ::testing::PrintToString(OpenDrifts()) << controller.Log();
    failures += !shown;
  }
  Figures("apiserver killed during a watch", rounds, failures, Since(t0));
  // The log said the watches were failing, and then that they work again.
  EXPECT_GE(Count(controller.Log(), kWatchFailing), 1) << controller.Log();
  EXPECT_TRUE(WaitFor([&] { return LastWatchHealth(controller.Log()) == kWatchingAgain; }, 30s))
      << controller.Log();
  EXPECT_TRUE(controller.running());
  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
}

// A drift made, then the apiserver killed 0–250 ms later: before, during or after the
// correction. The correction happens exactly once per drift (the audit log counts successful
// writes as plumbline-writer), whole (no open drift after), and the object gains exactly one
// generation for it.
TEST_F(ApiserverFaultTest, KilledDuringACorrectionCorrectsOnceAndWhole) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n  correction: {maxRounds: 1000}\n"));
  Background controller(ControllerArgs("cache", {"--workers", "2"}, ProxiedKubeconfig()),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 60s))
      << ::testing::PrintToString(OpenDrifts()) << controller.Log();
  std::mt19937 random = Random();
  const int rounds = Rounds(2);
  int failures = 0, before = 0, after = 0, retried = 0, unaudited = 0;
  auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string since = Now();
    const long generation = Generation();
    ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", round % 2 ? "3Gi" : "2Gi"));
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 250));
    const std::string killed_at = Now();
    ASSERT_NO_FATAL_FAILURE(KillApiserver());
    ASSERT_NO_FATAL_FAILURE(RestartApiserver());
    bool converged =
        WaitFor([&] { return MemoryLimit(*env_) == "1Gi" && OpenDrifts().empty(); }, 90s);
    EXPECT_TRUE(converged) << ::testing::PrintToString(OpenDrifts()) << controller.Log();
    std::vector<AuditedWrite> writes = CheckoutCorrections(since);
    // The apiserver's audit entry of a write can die with it (it is written after the write is
    // committed), and two writes are one correction only when the first one's answer was lost
    // in the kill: the controller's own "corrected" lines are counted too.
    bool lost_answer = writes.size() == 2 && writes[0].at < killed_at && writes[1].at > killed_at;
    const int logged = CorrectedSince(controller.Log(), since);
    const bool once =
        (writes.size() <= 1 || lost_answer) && logged <= 1 && writes.size() + logged >= 1;
    EXPECT_TRUE(once) << writes.size() << " audited corrections, " << logged << " logged";
    EXPECT_EQ(Generation(), generation + 2);  // the human's change and one correction
    EXPECT_EQ(ManagedFieldsEntries("plumbline/prod"), 1);
    if (!writes.empty()) (writes[0].at < killed_at ? before : after)++;
    retried += lost_answer;
    unaudited += writes.empty();
    failures += !converged || !once || Generation() != generation + 2;
  }
  Figures("apiserver killed during a correction", rounds, failures, Since(t0),
          std::to_string(before) + " kills after the correction, " + std::to_string(after) +
              " before it, " + std::to_string(retried) + " answers lost, " +
              std::to_string(unaudited) + " audit entries lost with the kill");
  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
}

// A Git commit, then the apiserver killed 0–2.5 s later, while the controller writes the
// DriftReport and the Environment's status (the audit log says which had landed): the next
// report and status name the new revision, and the status is whole (Ready, same revision).
TEST_F(ApiserverFaultTest, KilledDuringAStatusWriteLeavesAWholeReport) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", "", "", "prod", "1s"));
  Background controller(ControllerArgs("cache", {"--workers", "2"}, ProxiedKubeconfig()),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return ReportShows(ServedHead(), "", ""); }, 60s)) << controller.Log();
  std::mt19937 random = Random();
  const int rounds = Rounds(1);
  int failures = 0, landed = 0;
  auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string since = Now();
    CommitOutsideTheEnvironment("status round " + std::to_string(round));
    const std::string head = ServedHead();
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 2500));
    const std::string killed_at = Now();
    ASSERT_NO_FATAL_FAILURE(KillApiserver());
    for (const AuditedWrite& w : Audited()) {
      landed += w.at >= since && w.at < killed_at && w.resource == "driftreports";
    }
    ASSERT_NO_FATAL_FAILURE(RestartApiserver());
    std::string message;
    bool whole = WaitFor(
        [&] {
          json environment = Get({"environment", "prod"});
          return ReportShows(head, "", "") && environment.is_object() &&
                 environment["status"].value("revision", "") == head &&
                 ConditionOf(environment, "Ready", &message) == "True" &&
                 message.starts_with("reconciled at " + head.substr(0, 12) + ": ");
        },
        90s);
    EXPECT_TRUE(whole) << message << "\n"
                       << Get({"environment", "prod"}).dump(2) << controller.Log();
    failures += !whole;
  }
  Figures("apiserver killed during a status write", rounds, failures, Since(t0),
          std::to_string(landed) + " report writes had landed before the kill");
  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
}

// The controller talks to the apiserver through a proxy that stalls (connections open, no
// byte moves) for 3–8 s, then resumes, or stalls and then drops every connection. Changes
// made meanwhile are in the next report; enforce mode corrects the drift made during the
// stall once.
TEST_F(ApiserverFaultTest, AStallingProxyDelaysButLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n  correction: {maxRounds: 1000}\n"));
  const std::string proxied = ProxiedKubeconfig();
  FaultProxy& proxy = *apiserver_proxy_;
  Background controller(ControllerArgs("cache", {"--workers", "2"}, proxied),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 60s))
      << ::testing::PrintToString(OpenDrifts()) << controller.Log();
  std::mt19937 random = Random();
  const int rounds = Rounds(2);
  int failures = 0;
  auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string since = Now();
    const long generation = Generation();
    proxy.set_mode(FaultProxy::Mode::kStall);
    CommitOutsideTheEnvironment("during a stall " + std::to_string(round));
    const std::string head = ServedHead();
    ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", round % 2 ? "3Gi" : "2Gi"));
    std::this_thread::sleep_for(std::chrono::milliseconds(3000 + random() % 5000));
    if (round % 2 == 1) proxy.Sever();  // the stuck connections die instead of resuming
    proxy.set_mode(FaultProxy::Mode::kForward);
    failures += !ConvergesWithOneCorrection(since, generation, head, 90s, controller.Log());
  }
  Figures("a stalling proxy in front of the apiserver", rounds, failures, Since(t0),
          std::to_string(proxy.accepted()) + " connections through the proxy");
  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
}

// A connection that stays open but goes silent (no FIN, no byte: a peer gone, a load balancer
// that lost the flow) holds a watch until the watch's 5-minute lifetime ends, unless the
// controller notices the missing bookmarks: with --watch-idle-timeout 5s a change made after the
// freeze is in the report within 90 s: the watches reopen after 5 s of silence, and a status
// write that went to a frozen pooled connection waits its 30 s call timeout once, after which
// the client replaces the whole pool (not each stuck connection 30 s at a time).
TEST_F(ApiserverFaultTest, AWatchStuckOpenIsReopenedAfterItsIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment());
  Background controller(
      ControllerArgs("cache", {"--watch-idle-timeout", "5s"}, ProxiedKubeconfig()),
      (dir_ / "controller.log").string());
  const std::string head = ServedHead();
  ASSERT_TRUE(WaitFor([&] { return ReportShows(head, "", ""); }, 60s)) << controller.Log();
  // Each round freezes the connections open then (those of the round before included).
  const int rounds = Rounds(1);
  int failures = 0;
  double slowest = 0;
  const auto start = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    apiserver_proxy_->Freeze();
    const auto t0 = Clock::now();
    const std::string level = "stuck-open-" + std::to_string(round);
    ASSERT_NO_FATAL_FAILURE(SetLogLevel(level));
    // 30–56 s in 21 rounds: 5 s of silence, then one or two calls that wait their 30 s
    // timeout on a frozen pooled connection before the pool is replaced. 90 s bounds that.
    const bool reported = WaitFor([&] { return ReportShows(head, "", level); }, 90s);
    EXPECT_TRUE(reported) << controller.Log();
    slowest = std::max(slowest, Since(t0));
    std::cout << "change reported " << Since(t0) << " s after the connections froze\n";
    failures += !reported;
  }
  char extra[80];
  std::snprintf(extra, sizeof extra, "slowest change-to-report %.1f s", slowest);
  Figures("a watch stuck open", rounds, failures, Since(start), extra);
  EXPECT_NE(controller.Log().find("not even a bookmark"), std::string::npos) << controller.Log();
  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
}

// SIGTERM to the controller 0–3 s after it starts, while it fetches, renders, corrects or
// writes; then a new controller on the same cache. It exits cleanly (0) in time, the next one
// uses the cache as it is (same repository, nothing left behind), and the drift of the round is
// corrected exactly once across both.
TEST_F(ApiserverFaultTest, SigtermAtRandomPointsLeavesNothingHalfDone) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n  correction: {maxRounds: 1000}\n"));
  {
    Background first(ControllerArgs("cache"), (dir_ / "controller-first.log").string());
    ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 60s)) << first.Log();
    ASSERT_EQ(first.Stop(), 0) << first.Log();
  }
  const fs::path repo = CacheRepo("cache");
  ASSERT_FALSE(repo.empty());
  const ino_t inode = Inode(repo);
  std::mt19937 random = Random();
  const int rounds = Rounds(2);
  int failures = 0;
  double slowest_exit = 0;
  auto t0 = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string since = Now();
    const long generation = Generation();
    ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", round % 2 ? "3Gi" : "2Gi"));
    CommitOutsideTheEnvironment("sigterm round " + std::to_string(round));
    const std::string head = ServedHead();
    int exit_code = -2;
    {
      Background controller(ControllerArgs("cache"), (dir_ / "controller-killed.log").string());
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 3000));
      auto term = Clock::now();
      exit_code = controller.Stop(std::chrono::seconds(15));
      slowest_exit = std::max(slowest_exit, Since(term));
      EXPECT_EQ(exit_code, 0) << controller.Log();
    }
    EXPECT_TRUE(Leftovers(repo).empty()) << ::testing::PrintToString(Leftovers(repo));
    Background next(ControllerArgs("cache"), (dir_ / "controller-next.log").string());
    const bool whole = ConvergesWithOneCorrection(since, generation, head, 60s, next.Log());
    EXPECT_EQ(Inode(CacheRepo("cache")), inode);  // the same cache, not a new clone
    EXPECT_EQ(next.Stop(), 0) << next.Log();
    failures += exit_code != 0 || !whole || Inode(CacheRepo("cache")) != inode;
  }
  char extra[80];
  std::snprintf(extra, sizeof extra, "slowest exit after SIGTERM %.2f s", slowest_exit);
  Figures("SIGTERM to the controller at random points", rounds, failures, Since(t0), extra);
}

}  // namespace
