// KubeClient and LiveCache against a real kube-apiserver: 200 changes made while the cache
// watches, the apiserver restarted twice, and one 410 Gone forced by etcd compaction while the
// cache was cut off. The cache must end equal to a fresh LIST and report every change.
// Also: server-side apply semantics (field manager, conflicts, dry run), Events, status and
// the error mapping of real 404/409/422 answers.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "integration/kube_test_client.h"
#include "integration/kube_testenv.h"
#include "plumbline/cache/live_cache.h"
#include "plumbline/kube/kube_client.h"
#include "plumbline/kube/kube_config.h"

namespace {

using plumbline::ApiResource;
using plumbline::ApplyOptions;
using plumbline::Cancellation;
using plumbline::ErrorCode;
using plumbline::json;
using plumbline::KubeClient;
using plumbline::LiveCache;
using plumbline::LiveStore;
using plumbline::testing::KubeTestEnv;

std::unique_ptr<KubeClient> ClientFor(const std::string& kubeconfig) {
  return plumbline::testing::ClientFor(kubeconfig, std::chrono::seconds(20));
}

// Forwards to the real client; while the gate is closed, WATCH calls wait at it. This cuts
// the cache off from the server (as a long network partition would) without touching the
// server's behaviour.
class GatedKubeClient : public KubeClient {
 public:
  explicit GatedKubeClient(KubeClient& real) : real_(real) {}
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int waiting() const { return waiting_.load(); }

  plumbline::Result<ApiResource> resource_for(std::string_view v, std::string_view k) override {
    return real_.resource_for(v, k);
  }
  plumbline::Result<std::string> get(const ApiResource& r, std::string_view ns,
                                     std::string_view name,
                                     const plumbline::Cancellation* cancel) override {
    return real_.get(r, ns, name, cancel);
  }
  plumbline::Result<std::string> list(const ApiResource& r, std::string_view ns,
                                      const plumbline::ListOptions& o,
                                      const plumbline::Cancellation* cancel) override {
    return real_.list(r, ns, o, cancel);
  }
  plumbline::Status watch(const ApiResource& r, std::string_view ns,
                          const plumbline::WatchOptions& o,
                          const std::function<bool(std::string&)>& on_event,
                          const Cancellation& cancel) override {
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      while (!open_ && !cancel.cancelled()) cv_.wait_for(lock, std::chrono::milliseconds(50));
      --waiting_;
    }
    return real_.watch(r, ns, o, on_event, cancel);
  }
  plumbline::Result<json> apply(const ApiResource& r, const json& o,
                                const ApplyOptions& a) override {
    return real_.apply(r, o, a);
  }
  plumbline::Result<json> patch(const ApiResource& r, std::string_view ns, std::string_view name,
                                const json& body, const plumbline::PatchOptions& p) override {
    return real_.patch(r, ns, name, body, p);
  }
  plumbline::Result<json> create(const ApiResource& r, std::string_view ns, const json& o,
                                 const plumbline::Cancellation* cancel) override {
    return real_.create(r, ns, o, cancel);
  }
  plumbline::Result<json> update(const ApiResource& r, const json& o,
                                 const plumbline::Cancellation* cancel) override {
    return real_.update(r, o, cancel);
  }
  plumbline::Result<json> update_status(const ApiResource& r, const json& o,
                                        const plumbline::Cancellation* cancel) override {
    return real_.update_status(r, o, cancel);
  }
  std::vector<plumbline::ApiCallCount> call_counts() const override { return real_.call_counts(); }

 private:
  KubeClient& real_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  std::atomic<int> waiting_{0};
};

json Workload(int i, int version) {
  std::string name = "w-" + std::to_string(i);
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "watch"}}},
          {"spec",
           {{"replicas", 0},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec",
               {{"containers",
                 {{{"name", "app"},
                   {"image", "registry.example/app:1"},
                   {"env", {{{"name", "VERSION"}, {"value", std::to_string(version)}}}}}}}}}}}}}};
}

std::string VersionOf(const json& object) {
  return object["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"];
}

// name -> VERSION value, from the cache or a fresh LIST.
std::map<std::string, std::string> Versions(const std::vector<json>& objects) {
  std::map<std::string, std::string> out;
  for (const json& o : objects) out[o["metadata"]["name"]] = VersionOf(o);
  return out;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST(KubeWatchTest, TwoHundredChangesAcrossRestartsAndACompactionAreNotMissed) {
  std::string error;
  // No watch cache: watches read etcd, so a compacted version is a real 410.
  auto env = KubeTestEnv::Start({"--watch-cache=false", "--etcd-compaction-interval=3s"}, &error);
  ASSERT_NE(env, nullptr) << error;
  ASSERT_EQ(env->Kubectl({"create", "namespace", "watch"}).exit_code, 0);
  auto real = ClientFor(env->kubeconfig());
  ASSERT_NE(real, nullptr);
  auto deployments = real->resource_for("apps/v1", "Deployment");
  ASSERT_TRUE(deployments.ok()) << deployments.error().to_string();

  constexpr int kObjects = 20;
  std::map<std::string, std::string> written;  // name -> the VERSION last written
  int changes = 0;
  auto write = [&](int i) {
    ++changes;
    json object = Workload(i, changes);
    auto applied =
        real->apply(*deployments, object, {.field_manager = "watch-test", .force = true});
    ASSERT_TRUE(applied.ok()) << applied.error().to_string();
    written[object["metadata"]["name"]] = std::to_string(changes);
  };
  for (int i = 0; i < kObjects; ++i) write(i);
  const int before_watch = changes;

  GatedKubeClient gated(*real);
  std::mutex mu;
  int phase = 0;
  std::map<int, std::set<std::string>> notified;  // phase -> names changed
  LiveCache cache(gated, {.namespaces = {"watch"},
                          .kinds = {{"apps/v1", "Deployment"}},
                          .page_size = 7,  // several pages
                          .watch_timeout = std::chrono::seconds(20),
                          .retry_initial = std::chrono::milliseconds(200),
                          .retry_max = std::chrono::milliseconds(1000)});
  ASSERT_TRUE(cache
                  .start([&](const std::vector<LiveStore::Change>& c) {
                    std::lock_guard lock(mu);
                    for (const auto& change : c) notified[phase].insert(change.ref.name);
                  })
                  .ok());
  ASSERT_TRUE(cache.wait_synced(std::chrono::seconds(30))) << cache.last_error();
  auto caught_up = [&] { return Versions(cache.objects()) == written; };
  ASSERT_TRUE(caught_up());

  // Phase 1: 100 changes while watching.
  {
    std::lock_guard lock(mu);
    phase = 1;
  }
  for (int n = 0; n < 100; ++n) write(n % kObjects);
  ASSERT_TRUE(WaitFor(caught_up, std::chrono::seconds(30))) << cache.last_error();
  EXPECT_EQ(cache.stats().relists, 0);

  // Phase 2: the apiserver restarts; the watch resumes from its last version, no relist.
  ASSERT_TRUE(env->Restart(&error)) << error;
  {
    std::lock_guard lock(mu);
    phase = 2;
  }
  // The first write comes back through the resumed watch before the rest are made, so that
  // compaction cannot overtake a watch that is still reconnecting.
  write(0);
  ASSERT_TRUE(WaitFor(caught_up, std::chrono::seconds(30))) << cache.last_error();
  for (int n = 1; n < 50; ++n) write((n * 3) % kObjects);
  ASSERT_TRUE(WaitFor(caught_up, std::chrono::seconds(30))) << cache.last_error();
  EXPECT_EQ(cache.stats().relists, 0) << "a restart without compaction must resume, not relist";
  EXPECT_GE(cache.stats().errors, 1) << "the dropped connection was seen";

  // Phase 3: cut the cache off, restart again, write 48 more, delete one, create one, and wait
  // until etcd compacted past the cache's version: its resumed watch gets 410 Gone and must relist.
  gated.Close();
  ASSERT_TRUE(env->Restart(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return gated.waiting() == 1; }, std::chrono::seconds(30)));
  std::string last_seen_version;
  {
    auto page = real->list(*deployments, "watch", {});
    ASSERT_TRUE(page.ok());
    last_seen_version = json::parse(*page)["metadata"]["resourceVersion"];
  }
  {
    std::lock_guard lock(mu);
    phase = 3;
  }
  std::set<std::string> written_in_gap;
  for (int n = 0; n < 48; ++n) {
    write((n * 7) % kObjects);
    written_in_gap.insert("w-" + std::to_string((n * 7) % kObjects));
  }
  // Delete one and create one in the gap too: a relist must see both.
  ASSERT_EQ(env->Kubectl({"delete", "deployment", "w-0", "-n", "watch"}).exit_code, 0);
  written.erase("w-0");
  written_in_gap.insert("w-0");
  write(kObjects);  // w-20, new
  written_in_gap.insert("w-" + std::to_string(kObjects));
  // Until a watch from the old version is refused, compaction has not passed it.
  bool compacted = WaitFor(
      [&] {
        bool gone = false;
        Cancellation cancel;
        auto status = real->watch(
            *deployments, "watch",
            {.resource_version = last_seen_version, .timeout = std::chrono::seconds(1)},
            [&](std::string& line) {
              gone = line.find("\"code\":410") != std::string::npos;
              return false;
            },
            cancel);
        return gone || (!status.ok() && status.error().code() == ErrorCode::kGone);
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(compacted) << "etcd never compacted past " << last_seen_version;
  gated.Open();
  ASSERT_TRUE(WaitFor(caught_up, std::chrono::seconds(30))) << cache.last_error();
  EXPECT_EQ(cache.stats().relists, 1);
  // 100 + 50 + 48 writes, one deletion, one creation.
  EXPECT_EQ(changes - before_watch + 1, 200);

  cache.stop();
  auto stats = cache.stats();
  std::printf(
      "[ stats    ] %d changes; cache: %ld LIST pages, %ld WATCH calls, %ld resumes, "
      "%ld relists, %ld events, %ld errors\n",
      changes - before_watch + 1, stats.lists, stats.watches, stats.resumes, stats.relists,
      stats.events, stats.errors);
  // Every object changed in the gap was reported, the deletion included.
  {
    std::lock_guard lock(mu);
    for (const std::string& name : written_in_gap) {
      EXPECT_EQ(notified[3].count(name), 1u) << name << " changed in the gap, never reported";
    }
    EXPECT_EQ(notified[1].size(), static_cast<size_t>(kObjects));
  }
  // The cache equals a fresh LIST, projected the same way, object for object.
  plumbline::Projector projector;
  std::vector<plumbline::LiveObject> fresh;
  auto body = real->list(*deployments, "watch", {});
  ASSERT_TRUE(body.ok());
  auto page = plumbline::parse_list(*body, projector);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  LiveStore expected;
  expected.replace("Deployment", "watch", std::move(page->items));
  EXPECT_EQ(cache.objects(), expected.materialize());
  EXPECT_EQ(Versions(cache.objects()), written);
}

class KubeClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    env_ = KubeTestEnv::Start({}, &error).release();
    ASSERT_NE(env_, nullptr) << error;
    ASSERT_EQ(env_->Kubectl({"create", "namespace", "apply"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete env_;  // NOLINT: suite-lifetime fixture
    env_ = nullptr;
  }
  static KubeTestEnv* env_;
};
KubeTestEnv* KubeClientTest::env_ = nullptr;

TEST_F(KubeClientTest, DiscoveryMapsKindsToResources) {
  ASSERT_NE(env_, nullptr);
  auto client = ClientFor(env_->kubeconfig());
  ASSERT_NE(client, nullptr);
  auto cronjobs = client->resource_for("batch/v1", "CronJob");
  ASSERT_TRUE(cronjobs.ok()) << cronjobs.error().to_string();
  EXPECT_EQ(cronjobs->resource, "cronjobs");
  EXPECT_TRUE(cronjobs->namespaced);
  auto namespaces = client->resource_for("v1", "Namespace");
  ASSERT_TRUE(namespaces.ok());
  EXPECT_EQ(namespaces->resource, "namespaces");
  EXPECT_FALSE(namespaces->namespaced);
  auto missing = client->resource_for("apps/v1", "Widget");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().to_string(),
            env_->server() + ": the server has no kind Widget in apps/v1");
  auto group = client->resource_for("example.com/v1", "Widget");
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().to_string(), env_->server() +
                                           ": the server does not serve example.com/v1 (looking "
                                           "up kind Widget)");
}

TEST_F(KubeClientTest, ServerSideApplyOwnsOnlyWhatItSentAndConflictsNeedForce) {
  ASSERT_NE(env_, nullptr);
  auto client = ClientFor(env_->kubeconfig());
  ASSERT_NE(client, nullptr);
  auto deployments = client->resource_for("apps/v1", "Deployment");
  ASSERT_TRUE(deployments.ok());
  json object = Workload(1, 1);
  object["metadata"]["namespace"] = "apply";
  auto created = client->apply(*deployments, object, {.field_manager = "gitops"});
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  // A dry run answers like the real thing and stores nothing.
  json change = Workload(1, 2);
  change["metadata"]["namespace"] = "apply";
  auto dry = client->apply(*deployments, change, {.field_manager = "gitops", .dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.error().to_string();
  EXPECT_EQ(VersionOf(*dry), "2");
  auto stored = client->get(*deployments, "apply", "w-1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(VersionOf(json::parse(*stored)), "1");

  // plumbline setting a field another manager owns: 409 naming the owner, unless forced.
  auto conflict = client->apply(*deployments, change, {});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict);
  EXPECT_NE(conflict.error().message().find(
                "cannot apply deployments.apps \"w-1\" in namespace \"apply\": conflict (409): "),
            std::string::npos)
      << conflict.error().message();
  EXPECT_NE(conflict.error().message().find("conflict with \"gitops\""), std::string::npos)
      << conflict.error().message();
  auto forced = client->apply(*deployments, change, {.force = true});
  ASSERT_TRUE(forced.ok()) << forced.error().to_string();
  std::set<std::string> managers;
  for (const json& entry : (*forced)["metadata"]["managedFields"]) {
    managers.insert(entry["manager"].get<std::string>());
  }
  EXPECT_EQ(managers, (std::set<std::string>{"gitops", "plumbline"}));

  // 422 from the server's validation, with the field.
  json invalid = change;
  invalid["spec"]["replicas"] = -1;
  auto refused = client->apply(*deployments, invalid, {.force = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(refused.error().message().find("invalid (422): "), std::string::npos);
  EXPECT_NE(refused.error().message().find("spec.replicas"), std::string::npos)
      << refused.error().message();

  auto missing = client->get(*deployments, "apply", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(),
            "cannot get deployments.apps \"nope\" in namespace \"apply\": not found (404): "
            "deployments.apps \"nope\" not found");
}

TEST_F(KubeClientTest, EventsAndStatusUpdates) {
  ASSERT_NE(env_, nullptr);
  auto client = ClientFor(env_->kubeconfig());
  ASSERT_NE(client, nullptr);
  auto events = client->resource_for("v1", "Event");
  ASSERT_TRUE(events.ok());
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", "w-1.drift"}, {"namespace", "apply"}}},
                {"involvedObject",
                 {{"apiVersion", "apps/v1"},
                  {"kind", "Deployment"},
                  {"name", "w-1"},
                  {"namespace", "apply"}}},
                {"reason", "DriftDetected"},
                {"message", "resources.limits.memory: 1Gi in Git, 2Gi live"},
                {"type", "Warning"},
                {"source", {{"component", "plumbline"}}}};
  auto created = client->create(*events, "apply", event);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  auto again = client->create(*events, "apply", event);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);

  auto deployments = client->resource_for("apps/v1", "Deployment");
  json object = Workload(2, 1);
  object["metadata"]["namespace"] = "apply";
  auto applied = client->apply(*deployments, object, {});
  ASSERT_TRUE(applied.ok());
  json status_update = *applied;
  status_update["status"] = {{"observedGeneration", 1}, {"replicas", 0}};
  auto updated = client->update_status(*deployments, status_update);
  ASSERT_TRUE(updated.ok()) << updated.error().to_string();
  EXPECT_EQ((*updated)["status"]["observedGeneration"], 1);
  // A stale resourceVersion is a conflict (optimistic concurrency).
  auto stale = client->update_status(*deployments, status_update);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
}

}  // namespace
