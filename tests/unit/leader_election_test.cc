// LeaderElector against the shared in-memory API server (resourceVersion increments, 409 on a
// stale PUT or a second create) and fake clocks. The real apiserver runs the same paths in
// tests/integration/kube_leader_test.cc.
#include "plumbline/kube/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "support/fake_kube_client.h"

namespace plumbline {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The shared fake API server, with the Lease helpers these tests read.
class FakeLeaseClient : public testing::FakeKubeClient {
 public:
  // Run (unlocked) before a create or an update is applied: lets a test write in between.
  std::function<void()> before_create, before_update;

  FakeLeaseClient() {
    before_write = [this](const std::string& verb) {
      if (verb == "create" && before_create) before_create();
      if (verb == "update" && before_update) before_update();
    };
  }
  std::optional<json> lease() const {
    return object({"coordination.k8s.io/v1", "Lease", "ns", "plumbline-controller"});
  }
  json spec() const {
    std::optional<json> l = lease();
    return l ? (*l)["spec"] : json();
  }
  // Another writer: replaces the spec (bumping resourceVersion), or creates the Lease.
  void write_spec(const json& spec) {
    json l = lease().value_or(
        json{{"apiVersion", "coordination.k8s.io/v1"},
             {"kind", "Lease"},
             {"metadata", {{"name", "plumbline-controller"}, {"namespace", "ns"}}}});
    l["spec"] = spec;
    put(l, "another-replica");
  }
  int updates() const { return calls("update leases"); }
};

// A steady and a wall clock the test moves by hand.
struct FakeClocks {
  std::atomic<long long> steady_ms{1'000'000};
  std::atomic<long long> wall_us{1'795'435'200'000'000};  // 2026-11-23T12:00:00Z

  void advance(milliseconds d) {
    steady_ms += d.count();
    wall_us += d.count() * 1000;
  }
  LeaderElector::SteadyNow steady() {
    return [this] { return std::chrono::steady_clock::time_point(milliseconds(steady_ms.load())); };
  }
  LeaderElector::WallNow wall() {
    return [this] {
      return std::chrono::system_clock::time_point(std::chrono::microseconds(wall_us.load()));
    };
  }
};

LeaderElectionConfig Config(const std::string& identity) {
  return {.lease_namespace = "ns", .identity = identity};
}

bool WaitFor(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return done();
}

TEST(LeaderElection, MicroTimeFormat) {
  auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'435'200'000'123));
  EXPECT_EQ(format_micro_time(t), "2026-11-23T12:00:00.000123Z");
  EXPECT_EQ(format_micro_time(t + milliseconds(61'500)), "2026-11-23T12:01:01.500123Z");
}

TEST(LeaderElection, DefaultIdentityIsHostnameAndRandomSuffix) {
  std::string a = default_leader_identity(), b = default_leader_identity();
  ASSERT_NE(a.find('_'), std::string::npos);
  EXPECT_EQ(a.substr(0, a.rfind('_')), b.substr(0, b.rfind('_')));
  EXPECT_NE(a, b);
  FakeLeaseClient client;
  LeaderElector elector(client, {.lease_namespace = "ns"});
  EXPECT_EQ(elector.identity().substr(0, a.rfind('_') + 1), a.substr(0, a.rfind('_') + 1));
}

TEST(LeaderElection, StartRejectsBadTimings) {
  FakeLeaseClient client;
  LeaderElectionConfig c = Config("a");
  c.renew_deadline = c.lease_duration;
  EXPECT_EQ(LeaderElector(client, c).start().error().code(), ErrorCode::kInvalidInput);
  c = Config("a");
  c.retry_period = milliseconds(9000);  // 1.2 * 9 s > 10 s
  EXPECT_EQ(LeaderElector(client, c).start().error().code(), ErrorCode::kInvalidInput);
  c = Config("a");
  c.lease_namespace = "";
  EXPECT_EQ(LeaderElector(client, c).start().error().code(), ErrorCode::kInvalidInput);
}

TEST(LeaderElection, AcquiresWhenThereIsNoLease) {
  FakeLeaseClient client;
  FakeClocks clocks;
  std::vector<std::string> leaders;
  LeaderElector a(client, Config("a"),
                  {.on_new_leader = [&](const std::string& l) { leaders.push_back(l); }},
                  clocks.steady(), clocks.wall());
  auto step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok()) << step.error().to_string();
  EXPECT_TRUE(*step);
  json lease = *client.lease();
  EXPECT_EQ(lease["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(lease["kind"], "Lease");
  EXPECT_EQ(lease["spec"], (json{{"holderIdentity", "a"},
                                 {"leaseDurationSeconds", 15},
                                 {"acquireTime", "2026-11-23T12:00:00.000000Z"},
                                 {"renewTime", "2026-11-23T12:00:00.000000Z"},
                                 {"leaseTransitions", 0}}));
  EXPECT_EQ(a.leader(), "a");
  EXPECT_EQ(leaders, std::vector<std::string>{"a"});
}

TEST(LeaderElection, RenewKeepsAcquireTimeAndTransitions) {
  FakeLeaseClient client;
  FakeClocks clocks;
  LeaderElector a(client, Config("a"), {}, clocks.steady(), clocks.wall());
  ASSERT_TRUE(*a.try_acquire_or_renew());
  clocks.advance(milliseconds(2000));
  const std::string created = client.lease()->at("metadata")["resourceVersion"];
  auto step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok() && *step);
  json spec = client.spec();
  EXPECT_EQ(spec["renewTime"], "2026-11-23T12:00:02.000000Z");
  EXPECT_EQ(spec["acquireTime"], "2026-11-23T12:00:00.000000Z");
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(std::stol(client.lease()->at("metadata")["resourceVersion"].get<std::string>()),
            std::stol(created) + 1);
}

TEST(LeaderElection, DoesNotTakeAFreshLeaseAndTakesOverOnlyAfterNoChangeForTheDuration) {
  FakeLeaseClient client;
  FakeClocks a_clocks, b_clocks;
  LeaderElector b(client, Config("b"), {}, b_clocks.steady(), b_clocks.wall());
  LeaderElector a(client, Config("a"), {}, a_clocks.steady(), a_clocks.wall());
  ASSERT_TRUE(*b.try_acquire_or_renew());

  auto step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok());
  EXPECT_FALSE(*step);
  EXPECT_EQ(a.leader(), "b");
  a_clocks.advance(milliseconds(14'000));
  EXPECT_FALSE(*a.try_acquire_or_renew());

  // b renews: a sees the change and starts counting again from now.
  b_clocks.advance(milliseconds(2000));
  ASSERT_TRUE(*b.try_acquire_or_renew());
  a_clocks.advance(milliseconds(1000));
  EXPECT_FALSE(*a.try_acquire_or_renew());  // observes the renewal at 15 s
  a_clocks.advance(milliseconds(14'999));
  EXPECT_FALSE(*a.try_acquire_or_renew());
  EXPECT_EQ(client.spec()["holderIdentity"], "b");

  // No change for the full duration by a's clock: take over.
  a_clocks.advance(milliseconds(1));
  step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok());
  EXPECT_TRUE(*step);
  json spec = client.spec();
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_EQ(spec["acquireTime"], format_micro_time(a_clocks.wall()()));
  EXPECT_EQ(spec["renewTime"], spec["acquireTime"]);

  // b, still believing it leads, sees a's record and does not write.
  int updates = client.updates();
  EXPECT_FALSE(*b.try_acquire_or_renew());
  EXPECT_EQ(client.updates(), updates);
  EXPECT_EQ(b.leader(), "a");
}

TEST(LeaderElection, HolderWallClockIsIgnored) {
  // The holder's renewTime is a year old (its wall clock is wrong): only our observation counts.
  FakeLeaseClient client;
  FakeClocks clocks;
  client.write_spec({{"holderIdentity", "b"},
                     {"leaseDurationSeconds", 15},
                     {"acquireTime", "2025-11-23T12:00:00.000000Z"},
                     {"renewTime", "2025-11-23T12:00:00.000000Z"},
                     {"leaseTransitions", 4}});
  LeaderElector a(client, Config("a"), {}, clocks.steady(), clocks.wall());
  EXPECT_FALSE(*a.try_acquire_or_renew());
  clocks.advance(milliseconds(14'000));
  EXPECT_FALSE(*a.try_acquire_or_renew());
  clocks.advance(milliseconds(1000));
  EXPECT_TRUE(*a.try_acquire_or_renew());
  EXPECT_EQ(client.spec()["leaseTransitions"], 5);
}

TEST(LeaderElection, ReleasedLeaseIsTakenAtOnce) {
  FakeLeaseClient client;
  FakeClocks clocks;
  client.write_spec({{"holderIdentity", ""},
                     {"leaseDurationSeconds", 1},
                     {"acquireTime", "2026-11-23T11:00:00.000000Z"},
                     {"renewTime", "2026-11-23T11:00:00.000000Z"},
                     {"leaseTransitions", 2}});
  LeaderElector a(client, Config("a"), {}, clocks.steady(), clocks.wall());
  EXPECT_TRUE(*a.try_acquire_or_renew());
  EXPECT_EQ(client.spec()["holderIdentity"], "a");
  EXPECT_EQ(client.spec()["leaseTransitions"], 3);
  EXPECT_EQ(client.spec()["leaseDurationSeconds"], 15);
}

TEST(LeaderElection, ConflictOnCreateMeansSomeoneElseWon) {
  FakeLeaseClient client;
  FakeClocks clocks;
  std::atomic<bool> raced{false};
  client.before_create = [&] {
    if (raced.exchange(true)) return;
    client.write_spec({{"holderIdentity", "b"},
                       {"leaseDurationSeconds", 15},
                       {"renewTime", "2026-11-23T12:00:00.000000Z"},
                       {"leaseTransitions", 0}});
  };
  LeaderElector a(client, Config("a"), {}, clocks.steady(), clocks.wall());
  auto step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok()) << step.error().to_string();
  EXPECT_FALSE(*step);
  EXPECT_FALSE(*a.try_acquire_or_renew());  // re-reads: b holds a fresh lease
  EXPECT_EQ(a.leader(), "b");
  EXPECT_EQ(client.spec()["holderIdentity"], "b");
}

TEST(LeaderElection, ConflictOnUpdateRereads) {
  FakeLeaseClient client;
  FakeClocks clocks;
  LeaderElector a(client, Config("a"), {}, clocks.steady(), clocks.wall());
  ASSERT_TRUE(*a.try_acquire_or_renew());
  std::atomic<bool> raced{false};
  client.before_update = [&] {
    if (raced.exchange(true)) return;
    json spec = client.spec();
    spec["renewTime"] = "2026-11-23T12:00:01.000000Z";  // a write in between
    client.write_spec(spec);
  };
  clocks.advance(milliseconds(2000));
  auto step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok()) << step.error().to_string();
  EXPECT_FALSE(*step);
  EXPECT_EQ(client.spec()["renewTime"], "2026-11-23T12:00:01.000000Z");
  step = a.try_acquire_or_renew();
  ASSERT_TRUE(step.ok() && *step);
  EXPECT_EQ(client.spec()["renewTime"], "2026-11-23T12:00:02.000000Z");
}

TEST(LeaderElection, ErrorsAreReturnedWithTheLease) {
  FakeLeaseClient client;
  client.unavailable = true;
  LeaderElector a(client, Config("a"));
  auto step = a.try_acquire_or_renew();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(step.error().to_string(), "Lease ns/plumbline-controller: connection refused");
}

// The loop, with the fake steady clock for deadlines and short real waits between steps.
LeaderElectionConfig LoopConfig(const std::string& identity) {
  return {.lease_namespace = "ns",
          .identity = identity,
          .lease_duration = milliseconds(15000),
          .renew_deadline = milliseconds(10000),
          .retry_period = milliseconds(10)};
}

TEST(LeaderElection, LosesLeadershipWhenRenewingFailsPastTheDeadline) {
  FakeLeaseClient client;
  FakeClocks clocks;
  std::atomic<int> started{0}, stopped{0};
  LeaderElector a(
      client, LoopConfig("a"),
      {.on_started_leading = [&] { ++started; }, .on_stopped_leading = [&] { ++stopped; }},
      clocks.steady(), clocks.wall());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(WaitFor([&] { return a.is_leader(); }));
  EXPECT_EQ(started, 1);
  ASSERT_TRUE(WaitFor([&] { return client.updates() >= 3; }));  // renewing

  client.unavailable = true;
  std::this_thread::sleep_for(milliseconds(30));  // a renewal attempt or more fails
  clocks.advance(milliseconds(9000));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(stopped, 0);
  clocks.advance(milliseconds(1100));
  EXPECT_FALSE(a.is_leader());  // at once, whatever the loop is doing
  ASSERT_TRUE(WaitFor([&] { return stopped == 1; }));
  EXPECT_FALSE(a.is_leader());

  // The API comes back: a is a candidate again and re-acquires its own lease.
  client.unavailable = false;
  ASSERT_TRUE(WaitFor([&] { return a.is_leader(); }));
  EXPECT_EQ(started, 2);
  a.stop();
  EXPECT_EQ(stopped, 2);
}

TEST(LeaderElection, StopReleasesTheLease) {
  FakeLeaseClient client;
  FakeClocks clocks;
  std::atomic<int> stopped{0};
  LeaderElector a(client, LoopConfig("a"), {.on_stopped_leading = [&] { ++stopped; }},
                  clocks.steady(), clocks.wall());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(WaitFor([&] { return a.is_leader(); }));
  a.stop();
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(stopped, 1);
  json spec = client.spec();
  EXPECT_EQ(spec["holderIdentity"], "");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);

  LeaderElector b(client, LoopConfig("b"), {}, clocks.steady(), clocks.wall());
  EXPECT_TRUE(*b.try_acquire_or_renew());  // no waiting for the duration
  EXPECT_EQ(client.spec()["leaseTransitions"], 1);
}

// A renew stuck on a silent apiserver does not hold up stop(); the release still runs.
TEST(LeaderElection, StopDoesNotWaitForAHangingCall) {
  FakeLeaseClient client;
  FakeClocks clocks;
  client.silent = true;
  LeaderElector a(client, LoopConfig("a"), {}, clocks.steady(), clocks.wall());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(WaitFor([&] { return client.hung > 0; }));
  auto begin = std::chrono::steady_clock::now();
  a.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, milliseconds(1000));
  EXPECT_FALSE(a.is_leader());
}

TEST(LeaderElection, AbandonKeepsTheLease) {
  FakeLeaseClient client;
  FakeClocks clocks;
  std::atomic<int> stopped{0};
  LeaderElector a(client, LoopConfig("a"), {.on_stopped_leading = [&] { ++stopped; }},
                  clocks.steady(), clocks.wall());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(WaitFor([&] { return a.is_leader(); }));
  a.abandon();
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(stopped, 0);
  EXPECT_EQ(client.spec()["holderIdentity"], "a");
}

TEST(LeaderElection, TwoElectorsNeverLeadTogether) {
  FakeLeaseClient client;
  LeaderElectionConfig ca = {.lease_namespace = "ns",
                             .identity = "a",
                             .lease_duration = milliseconds(1000),
                             .renew_deadline = milliseconds(600),
                             .retry_period = milliseconds(20)};
  LeaderElectionConfig cb = ca;
  cb.identity = "b";
  LeaderElector a(client, ca), b(client, cb);
  std::atomic<bool> done{false}, both{false};
  std::thread sampler([&] {
    while (!done) {
      if (a.is_leader() && b.is_leader()) both = true;
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(WaitFor([&] { return a.is_leader(); }));
  ASSERT_TRUE(b.start().ok());
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_FALSE(b.is_leader());
  EXPECT_EQ(b.leader(), "a");

  auto stop_at = std::chrono::steady_clock::now();
  a.stop();  // releases
  ASSERT_TRUE(WaitFor([&] { return b.is_leader(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, milliseconds(500));

  // b dies without releasing: a (restarted) waits the lease duration, then takes over.
  ASSERT_TRUE(a.start().ok());
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(a.is_leader());
  auto died_at = std::chrono::steady_clock::now();
  b.abandon();
  ASSERT_TRUE(WaitFor([&] { return a.is_leader(); }));
  auto takeover = std::chrono::steady_clock::now() - died_at;
  EXPECT_GE(takeover, milliseconds(800));  // ~1 s lease minus the time since b's last renewal
  EXPECT_LT(takeover, milliseconds(1500));
  done = true;
  sampler.join();
  EXPECT_FALSE(both);
  EXPECT_EQ(client.spec()["leaseTransitions"], 2);
  a.stop();
}

}  // namespace
}  // namespace plumbline
