// LeaderElector against a real kube-apiserver: two replicas with different identities, never
// both leading (sampled every 100 ms); takeover after a release (about one retry period) and
// after the leader dies without releasing (about the lease duration), with short timings and
// with the defaults (15 s / 10 s / 2 s). The Lease object is checked with kubectl.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "integration/kube_test_client.h"
#include "integration/kube_testenv.h"
#include "plumbline/kube/kube_client.h"
#include "plumbline/kube/kube_config.h"
#include "plumbline/kube/leader_election.h"

namespace {

using plumbline::ApiResource;
using plumbline::Cancellation;
using plumbline::ErrorCode;
using plumbline::json;
using plumbline::KubeClient;
using plumbline::LeaderElectionConfig;
using plumbline::LeaderElector;
using plumbline::testing::KubeTestEnv;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::unique_ptr<KubeClient> ClientFor(const std::string& kubeconfig) {
  return plumbline::testing::ClientFor(kubeconfig, std::chrono::seconds(5));
}

// Forwards to the real client until cut; then every call fails at once, as for a replica
// partitioned from the apiserver (or a dead one, as far as the Lease can tell).
class CuttableKubeClient : public KubeClient {
 public:
  explicit CuttableKubeClient(KubeClient& real) : real_(real) {}
  void Cut() { cut_ = true; }

  plumbline::Result<ApiResource> resource_for(std::string_view v, std::string_view k) override {
    if (cut_) return Down();
    return real_.resource_for(v, k);
  }
  plumbline::Result<std::string> get(const ApiResource& r, std::string_view ns,
                                     std::string_view name,
                                     const plumbline::Cancellation* cancel) override {
    if (cut_) return Down();
    return real_.get(r, ns, name, cancel);
  }
  plumbline::Result<std::string> list(const ApiResource& r, std::string_view ns,
                                      const plumbline::ListOptions& o,
                                      const plumbline::Cancellation* cancel) override {
    if (cut_) return Down();
    return real_.list(r, ns, o, cancel);
  }
  plumbline::Status watch(const ApiResource& r, std::string_view ns,
                          const plumbline::WatchOptions& o,
                          const std::function<bool(std::string&)>& on_event,
                          const Cancellation& cancel) override {
    if (cut_) return Down();
    return real_.watch(r, ns, o, on_event, cancel);
  }
  plumbline::Result<json> apply(const ApiResource& r, const json& o,
                                const plumbline::ApplyOptions& a) override {
    if (cut_) return Down();
    return real_.apply(r, o, a);
  }
  plumbline::Result<json> patch(const ApiResource& r, std::string_view ns, std::string_view name,
                                const json& body, const plumbline::PatchOptions& p) override {
    if (cut_) return Down();
    return real_.patch(r, ns, name, body, p);
  }
  plumbline::Result<json> create(const ApiResource& r, std::string_view ns, const json& o,
                                 const plumbline::Cancellation* cancel) override {
    if (cut_) return Down();
    return real_.create(r, ns, o, cancel);
  }
  plumbline::Result<json> update(const ApiResource& r, const json& o,
                                 const plumbline::Cancellation* cancel) override {
    if (cut_) return Down();
    return real_.update(r, o, cancel);
  }
  plumbline::Result<json> update_status(const ApiResource& r, const json& o,
                                        const plumbline::Cancellation* cancel) override {
    if (cut_) return Down();
    return real_.update_status(r, o, cancel);
  }
  std::vector<plumbline::ApiCallCount> call_counts() const override { return real_.call_counts(); }

 private:
  static plumbline::Error Down() { return {ErrorCode::kUnavailable, "connection refused (cut)"}; }
  KubeClient& real_;
  std::atomic<bool> cut_{false};
};

// Samples is_leader() of both electors every 100 ms; counts samples where both lead.
class Sampler {
 public:
  Sampler(const LeaderElector& a, const LeaderElector& b)
      : thread_([this, &a, &b] {
          while (!done_) {
            bool la = a.is_leader(), lb = b.is_leader();
            ++samples_;
            if (la && lb) ++both_;
            std::this_thread::sleep_for(milliseconds(100));
          }
        }) {}
  ~Sampler() { Stop(); }
  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int both() const { return both_; }
  int samples() const { return samples_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<int> both_{0}, samples_{0};
  std::thread thread_;
};

// Polls every 20 ms; the time it took, or nullopt after `limit`.
std::optional<milliseconds> TimeUntil(const std::function<bool()>& done, milliseconds limit) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (done()) return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    std::this_thread::sleep_for(milliseconds(20));
  }
  return std::nullopt;
}

class KubeLeaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    env_ = KubeTestEnv::Start({}, &error).release();
    ASSERT_NE(env_, nullptr) << error;
    ASSERT_EQ(env_->Kubectl({"create", "namespace", "leader"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete env_;  // NOLINT: suite-lifetime fixture
    env_ = nullptr;
  }

  // The Lease's spec, through kubectl.
  static json LeaseSpec(const std::string& name) {
    auto r = env_->Kubectl({"get", "lease", name, "-n", "leader", "-o", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json lease = json::parse(r.out, nullptr, false);
    return lease.is_object() && lease.contains("spec") ? lease["spec"] : json();
  }

  static KubeTestEnv* env_;
};
KubeTestEnv* KubeLeaderTest::env_ = nullptr;

TEST_F(KubeLeaderTest, ShortTimingsReleaseAndDeath) {
  ASSERT_NE(env_, nullptr);
  auto client_a = ClientFor(env_->kubeconfig());
  auto client_b = ClientFor(env_->kubeconfig());
  ASSERT_TRUE(client_a && client_b);
  LeaderElectionConfig config{.lease_namespace = "leader",
                              .lease_name = "short",
                              .lease_duration = milliseconds(3000),
                              .renew_deadline = milliseconds(2000),
                              .retry_period = milliseconds(500)};
  LeaderElectionConfig config_a = config, config_b = config;
  config_a.identity = "replica-a";
  config_b.identity = "replica-b";
  auto a = std::make_unique<LeaderElector>(*client_a, config_a);
  LeaderElector b(*client_b, config_b);
  Sampler sampler(*a, b);

  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(TimeUntil([&] { return a->is_leader(); }, milliseconds(10000)));
  ASSERT_TRUE(b.start().ok());
  std::this_thread::sleep_for(milliseconds(4000));  // longer than the lease duration
  EXPECT_TRUE(a->is_leader());
  EXPECT_FALSE(b.is_leader());
  EXPECT_EQ(b.leader(), "replica-a");
  json spec = LeaseSpec("short");
  EXPECT_EQ(spec["holderIdentity"], "replica-a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 3);
  EXPECT_EQ(spec.value("leaseTransitions", 0), 0);

  // Stop with release: b takes over at its next retry.
  a->stop();
  auto released = TimeUntil([&] { return b.is_leader(); }, milliseconds(10000));
  ASSERT_TRUE(released);
  std::printf("[ takeover ] short timings, after release: %lld ms\n",
              static_cast<long long>(released->count()));
  EXPECT_LT(*released, milliseconds(2000));  // retry 500 ms (+10% jitter) + a GET and a PUT
  spec = LeaseSpec("short");
  EXPECT_EQ(spec["holderIdentity"], "replica-b");
  EXPECT_EQ(spec["leaseDurationSeconds"], 3);
  EXPECT_EQ(spec["leaseTransitions"], 1);

  // A new replica-a waits; b dies without releasing; a takes over after the lease duration.
  sampler.Stop();
  a = std::make_unique<LeaderElector>(*client_a, config_a);
  Sampler sampler2(*a, b);
  ASSERT_TRUE(a->start().ok());
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_FALSE(a->is_leader());
  EXPECT_EQ(a->leader(), "replica-b");
  b.abandon();
  auto died = TimeUntil([&] { return a->is_leader(); }, milliseconds(10000));
  ASSERT_TRUE(died);
  std::printf("[ takeover ] short timings, after death: %lld ms\n",
              static_cast<long long>(died->count()));
  EXPECT_GT(*died, milliseconds(1500));  // the lease duration (3 s) since the last renewal
  EXPECT_LT(*died, milliseconds(5500));  // duration + 2 retries with jitter + calls
  spec = LeaseSpec("short");
  EXPECT_EQ(spec["holderIdentity"], "replica-a");
  EXPECT_EQ(spec["leaseTransitions"], 2);

  a->stop();
  spec = LeaseSpec("short");
  EXPECT_EQ(spec["holderIdentity"], "");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  sampler2.Stop();
  EXPECT_EQ(sampler.both() + sampler2.both(), 0)
      << "both led in " << sampler.both() + sampler2.both() << " of "
      << sampler.samples() + sampler2.samples() << " samples";
}

TEST_F(KubeLeaderTest, DefaultTimingsTakeoverAfterTheLeaderIsCutOff) {
  ASSERT_NE(env_, nullptr);
  auto real_a = ClientFor(env_->kubeconfig());
  auto client_b = ClientFor(env_->kubeconfig());
  ASSERT_TRUE(real_a && client_b);
  CuttableKubeClient client_a(*real_a);
  std::atomic<int> a_stopped{0};
  LeaderElector a(client_a, {.lease_namespace = "leader", .identity = "replica-a"},
                  {.on_stopped_leading = [&] { ++a_stopped; }});
  LeaderElector b(*client_b, {.lease_namespace = "leader", .identity = "replica-b"});
  Sampler sampler(a, b);

  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(TimeUntil([&] { return a.is_leader(); }, milliseconds(10000)));
  ASSERT_TRUE(b.start().ok());
  std::this_thread::sleep_for(milliseconds(3000));
  EXPECT_FALSE(b.is_leader());
  json spec = LeaseSpec("plumbline-controller");
  EXPECT_EQ(spec["holderIdentity"], "replica-a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);

  // Cut a off: it stops leading at the renew deadline (10 s after its last renewal); b takes
  // over once it has seen no change for 15 s.
  auto cut_at = Clock::now();
  client_a.Cut();
  auto a_lost = TimeUntil([&] { return !a.is_leader(); }, milliseconds(15000));
  ASSERT_TRUE(a_lost);
  EXPECT_FALSE(b.is_leader());
  auto b_leads = TimeUntil([&] { return b.is_leader(); }, milliseconds(25000));
  ASSERT_TRUE(b_leads);
  auto takeover = std::chrono::duration_cast<milliseconds>(Clock::now() - cut_at);
  std::printf(
      "[ takeover ] defaults 15/10/2 s, leader cut off: it stopped leading after %lld ms, "
      "the other leads %lld ms after the cut\n",
      static_cast<long long>(a_lost->count()), static_cast<long long>(takeover.count()));
  EXPECT_LE(*a_lost, milliseconds(10200));
  EXPECT_GT(takeover, milliseconds(12000));  // 15 s since the last renewal b saw
  EXPECT_LT(takeover, milliseconds(20000));
  EXPECT_EQ(a_stopped, 1);
  spec = LeaseSpec("plumbline-controller");
  EXPECT_EQ(spec["holderIdentity"], "replica-b");
  EXPECT_EQ(spec["leaseTransitions"], 1);

  sampler.Stop();
  EXPECT_EQ(sampler.both(), 0) << "both led in " << sampler.both() << " of " << sampler.samples()
                               << " samples";
  a.stop();  // not leading: nothing to release (and its client is cut)
  b.stop();
  EXPECT_EQ(LeaseSpec("plumbline-controller")["holderIdentity"], "");
}

}  // namespace
