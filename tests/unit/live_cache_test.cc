// LiveCache's reflector loop against a scripted KubeClient: pagination, resume from the last
// version, relist on 410, backoff on errors. The real apiserver runs the same paths in
// tests/integration/kube_live_test.cc.
#include "plumbline/cache/live_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

namespace plumbline {
namespace {

std::string deployment(const std::string& name, const std::string& rv,
                       const std::string& memory = "1Gi") {
  return json{
      {"metadata",
       {{"name", name}, {"namespace", "shop"}, {"uid", "uid-" + name}, {"resourceVersion", rv}}},
      {"spec",
       {{"template",
         {{"spec",
           {{"containers",
             {{{"name", "app"}, {"resources", {{"limits", {{"memory", memory}}}}}}}}}}}}}}}
      .dump();
}

std::string list_body(const std::vector<std::string>& items, const std::string& rv,
                      const std::string& continue_token = "") {
  std::string body =
      R"({"apiVersion":"apps/v1","kind":"DeploymentList","metadata":{"resourceVersion":")" + rv +
      R"(")";
  if (!continue_token.empty()) body += R"(,"continue":")" + continue_token + R"(")";
  body += R"(},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  return body + "]}";
}

std::string event(const std::string& type, const std::string& object) {
  std::string o = object;
  // Watch events carry apiVersion/kind on the object.
  o.insert(1, R"("apiVersion":"apps/v1","kind":"Deployment",)");
  return R"({"type":")" + type + R"(","object":)" + o + "}";
}

std::string bookmark(const std::string& rv) {
  return R"({"type":"BOOKMARK","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"resourceVersion":")" +
         rv + R"("}}})";
}

const std::string kGone =
    R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410}})json";

class ScriptedKubeClient : public KubeClient {
 public:
  struct WatchScript {
    std::vector<std::string> lines;
    Status end;
  };

  std::deque<Result<std::string>> list_replies;
  std::deque<WatchScript> watch_scripts;

  std::vector<ListOptions> list_calls() {
    std::lock_guard lock(mu_);
    return list_calls_;
  }
  std::vector<WatchOptions> watch_calls() {
    std::lock_guard lock(mu_);
    return watch_calls_;
  }

  Result<ApiResource> resource_for(std::string_view api_version, std::string_view kind) override {
    if (api_version != "apps/v1" || kind != "Deployment") return not_found("no such kind");
    return ApiResource{.group = "apps",
                       .version = "v1",
                       .kind = "Deployment",
                       .resource = "deployments",
                       .namespaced = true};
  }
  Result<std::string> get(const ApiResource&, std::string_view, std::string_view,
                          const Cancellation*) override {
    return not_found("unused");
  }
  Result<std::string> list(const ApiResource&, std::string_view, const ListOptions& o,
                           const Cancellation*) override {
    std::lock_guard lock(mu_);
    list_calls_.push_back(o);
    if (list_replies.empty()) return Error(ErrorCode::kUnavailable, "no scripted LIST reply");
    Result<std::string> reply = list_replies.front();
    list_replies.pop_front();
    return reply;
  }
  Status watch(const ApiResource&, std::string_view, const WatchOptions& o,
               const std::function<bool(std::string&)>& on_event,
               const Cancellation& cancel) override {
    WatchScript script;
    {
      std::lock_guard lock(mu_);
      watch_calls_.push_back(o);
      if (watch_scripts.empty()) {
        script.end = Error(ErrorCode::kCancelled, "idle");
      } else {
        script = watch_scripts.front();
        watch_scripts.pop_front();
      }
    }
    if (!script.end.ok() && script.end.error().message() == "idle") {
      while (!cancel.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return Error(ErrorCode::kCancelled, "cancelled");
    }
    for (std::string line : script.lines) {
      if (!on_event(line)) return {};
    }
    return script.end;
  }
  Result<json> apply(const ApiResource&, const json&, const ApplyOptions&) override {
    return not_found("unused");
  }
  Result<json> patch(const ApiResource&, std::string_view, std::string_view, const json&,
                     const PatchOptions&) override {
    return not_found("unused");
  }
  Result<json> create(const ApiResource&, std::string_view, const json&,
                      const Cancellation*) override {
    return not_found("unused");
  }
  Result<json> update(const ApiResource&, const json&, const Cancellation*) override {
    return not_found("unused");
  }
  Result<json> update_status(const ApiResource&, const json&, const Cancellation*) override {
    return not_found("unused");
  }
  std::vector<ApiCallCount> call_counts() const override { return {}; }

  // Blocks until the cache went idle on its watch (every script consumed).
  bool WaitIdle(size_t watches) {
    for (int i = 0; i < 400; ++i) {
      {
        std::lock_guard lock(mu_);
        if (watch_calls_.size() >= watches && watch_scripts.empty()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<ListOptions> list_calls_;
  std::vector<WatchOptions> watch_calls_;
};

LiveCacheOptions Options() {
  return {.namespaces = {"shop"},
          .kinds = {{"apps/v1", "Deployment"}},
          .page_size = 2,
          .retry_initial = std::chrono::milliseconds(1),
          .retry_max = std::chrono::milliseconds(2)};
}

std::vector<std::string> Names(const std::vector<json>& objects) {
  std::vector<std::string> out;
  for (const json& o : objects) {
    out.push_back(o["metadata"]["name"].get<std::string>() + "@" +
                  o["metadata"]["resourceVersion"].get<std::string>());
  }
  return out;
}

std::vector<std::string> Flatten(const std::vector<LiveStore::Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(std::string(to_string(c.type)) + " " + c.ref.name);
  return out;
}

TEST(LiveCacheTest, ListOnceFollowsContinueTokensAndKeepsTheFirstPagesVersion) {
  ScriptedKubeClient client;
  client.list_replies.push_back(
      list_body({deployment("a", "3"), deployment("b", "4")}, "10", "tok"));
  client.list_replies.push_back(list_body({deployment("c", "5")}, "11"));
  LiveCache cache(client, Options());
  ASSERT_TRUE(cache.list_once().ok());
  EXPECT_EQ(Names(cache.objects()), (std::vector<std::string>{"a@3", "b@4", "c@5"}));
  auto calls = client.list_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].limit, 2);
  EXPECT_EQ(calls[0].continue_token, "");
  EXPECT_EQ(calls[1].continue_token, "tok");
  // The CLI reads the cluster as it is now, like kubectl: a consistent read.
  EXPECT_EQ(calls[0].resource_version, "");
  EXPECT_EQ(calls[1].resource_version, "");
  EXPECT_EQ(cache.stats().lists, 2);
  // Only the projected fields are kept: no status, but the limit is there.
  EXPECT_EQ(cache.objects()[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
                           ["memory"],
            "1Gi");
}

TEST(LiveCacheTest, ListErrorsNameTheCall) {
  ScriptedKubeClient client;
  client.list_replies.push_back(Error(ErrorCode::kPermissionDenied,
                                      "cannot list deployments.apps in namespace \"shop\": "
                                      "forbidden (403): nope"));
  LiveCache cache(client, Options());
  Status listed = cache.list_once();
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(listed.error().message(),
            "cannot list deployments.apps in namespace \"shop\": forbidden (403): nope");
}

// A Status in place of a LIST body is read by code_for_http_status in both modes: a 403 is
// terminal (it was "unavailable", so retried as transient, in the whole-object mode), a 504 a
// timeout in both.
TEST(LiveCacheTest, AStatusBodyIsDecidedByItsCodeInBothModes) {
  for (bool whole : {false, true}) {
    for (auto [code, expected] :
         std::vector<std::pair<int, ErrorCode>>{{403, ErrorCode::kPermissionDenied},
                                                {504, ErrorCode::kTimeout},
                                                {410, ErrorCode::kGone},
                                                {503, ErrorCode::kUnavailable}}) {
      ScriptedKubeClient client;
      client.list_replies.push_back(json{
          {"kind", "Status"},
          {"apiVersion", "v1"},
          {"status", "Failure"},
          {"message", "no"},
          {"reason", "X"},
          {"code", code}}.dump());
      LiveCacheOptions options = Options();
      options.whole_objects = whole;
      LiveCache cache(client, options);
      Status listed = cache.list_once();
      ASSERT_FALSE(listed.ok()) << code;
      EXPECT_EQ(listed.error().code(), expected) << code << (whole ? " whole" : " projected");
      EXPECT_EQ(listed.error().retryable(), code == 504 || code == 503) << code;
    }
  }
}

TEST(LiveCacheTest, WatchAppliesEventsAndResumesFromTheLastBookmark) {
  ScriptedKubeClient client;
  client.list_replies.push_back(list_body({deployment("a", "3")}, "10"));
  client.watch_scripts.push_back(
      {{event("ADDED", deployment("b", "11")), event("MODIFIED", deployment("a", "12", "2Gi")),
        event("DELETED", deployment("b", "13")), bookmark("20")},
       {}});  // the server ends the stream (timeoutSeconds)
  std::mutex mu;
  std::vector<std::string> seen;
  LiveCache cache(client, Options());
  ASSERT_TRUE(cache
                  .start([&](const std::vector<LiveStore::Change>& changes) {
                    std::lock_guard lock(mu);
                    for (auto& c : Flatten(changes)) seen.push_back(c);
                  })
                  .ok());
  ASSERT_TRUE(cache.wait_synced(std::chrono::seconds(5)));
  ASSERT_TRUE(client.WaitIdle(2));
  cache.stop();
  EXPECT_EQ(seen, (std::vector<std::string>{"added a", "added b", "modified a", "deleted b"}));
  EXPECT_EQ(Names(cache.objects()), (std::vector<std::string>{"a@12"}));
  auto watches = client.watch_calls();
  ASSERT_GE(watches.size(), 2u);
  EXPECT_EQ(watches[0].resource_version, "10");
  EXPECT_TRUE(watches[0].allow_bookmarks);
  EXPECT_EQ(watches[1].resource_version, "20");  // resumed, not relisted
  EXPECT_EQ(client.list_calls().size(), 1u);
  EXPECT_EQ(cache.stats().bookmarks, 1);
  EXPECT_EQ(cache.stats().events, 3);
}

// A caller that starts acting on changes once the cache is synced (the controller) must not
// receive the first LIST's objects as changes after that: the sync waits for their delivery.
TEST(LiveCacheTest, SyncedOnlyOnceTheFirstListsChangesAreDelivered) {
  ScriptedKubeClient client;
  client.list_replies.push_back(list_body({deployment("a", "3")}, "10"));
  std::atomic<bool> delivered{false};
  LiveCache cache(client, Options());
  ASSERT_TRUE(cache
                  .start([&](const std::vector<LiveStore::Change>& changes) {
                    EXPECT_EQ(Flatten(changes), (std::vector<std::string>{"added a"}));
                    // A cache thread descheduled here, as on a busy node.
                    std::this_thread::sleep_for(std::chrono::milliseconds(300));
                    delivered = true;
                  })
                  .ok());
  ASSERT_TRUE(cache.wait_synced(std::chrono::seconds(5)));
  EXPECT_TRUE(delivered);
  EXPECT_TRUE(cache.synced());
  cache.stop();
}

TEST(LiveCacheTest, DroppedConnectionResumesFromTheLastEventWithoutRelisting) {
  ScriptedKubeClient client;
  client.list_replies.push_back(list_body({deployment("a", "3")}, "10"));
  client.watch_scripts.push_back({{event("MODIFIED", deployment("a", "15", "3Gi"))},
                                  Error(ErrorCode::kUnavailable, "connection reset")});
  LiveCache cache(client, Options());
  ASSERT_TRUE(cache.start(nullptr).ok());
  ASSERT_TRUE(client.WaitIdle(2));
  cache.stop();
  auto watches = client.watch_calls();
  ASSERT_GE(watches.size(), 2u);
  EXPECT_EQ(watches[1].resource_version, "15");
  EXPECT_EQ(client.list_calls().size(), 1u);
  EXPECT_EQ(cache.stats().errors, 1);
  EXPECT_EQ(cache.last_error(), "connection reset");  // until the next event or LIST
}

TEST(LiveCacheTest, GoneRelistsAndReportsWhatChangedInTheGap) {
  ScriptedKubeClient client;
  client.list_replies.push_back(list_body({deployment("a", "3"), deployment("b", "4")}, "10"));
  client.watch_scripts.push_back({{kGone}, {}});
  // In the gap: b was deleted, a changed, c appeared.
  client.list_replies.push_back(
      list_body({deployment("a", "30", "4Gi"), deployment("c", "31")}, "40"));
  std::mutex mu;
  std::vector<std::string> seen;
  LiveCache cache(client, Options());
  ASSERT_TRUE(cache
                  .start([&](const std::vector<LiveStore::Change>& changes) {
                    std::lock_guard lock(mu);
                    for (auto& c : Flatten(changes)) seen.push_back(c);
                  })
                  .ok());
  ASSERT_TRUE(client.WaitIdle(2));
  cache.stop();
  EXPECT_EQ(seen,
            (std::vector<std::string>{"added a", "added b", "modified a", "deleted b", "added c"}));
  EXPECT_EQ(Names(cache.objects()), (std::vector<std::string>{"a@30", "c@31"}));
  EXPECT_EQ(client.watch_calls()[1].resource_version, "40");
  EXPECT_EQ(cache.stats().relists, 1);
}

// The next page is asked for as soon as this page's continue token is read, so the apiserver
// writes it while this one is parsed. Here the first page's item is bad: the next page was
// already asked for, and the LIST still fails on the first page, naming it.
TEST(LiveCacheTest, TheNextPageIsAskedForWhileThisOneIsRead) {
  ScriptedKubeClient client;
  client.list_replies.push_back(std::string(
      R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"10",)"
      R"("continue":"tok"},"items":[{"metadata":7}]})"));
  client.list_replies.push_back(list_body({deployment("b", "4")}, "10"));
  LiveCache cache(client, Options());
  Status listed = cache.list_once();
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code(), ErrorCode::kInvalidInput) << listed.error().to_string();
  EXPECT_NE(listed.error().to_string().find("LIST deployments.apps"), std::string::npos)
      << listed.error().to_string();
  auto calls = client.list_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].continue_token, "tok");
  EXPECT_TRUE(cache.objects().empty());  // never a partial list
}

TEST(LiveCacheTest, FailingListIsRetriedWithBackoffAndReported) {
  ScriptedKubeClient client;
  client.list_replies.push_back(Error(ErrorCode::kUnavailable, "cannot reach the server"));
  client.list_replies.push_back(list_body({deployment("a", "3")}, "10"));
  LiveCache cache(client, Options());
  ASSERT_TRUE(cache.start(nullptr).ok());
  ASSERT_TRUE(cache.wait_synced(std::chrono::seconds(5)));
  cache.stop();
  EXPECT_EQ(cache.stats().errors, 1);
  EXPECT_EQ(cache.last_error(), "");  // recovered
  EXPECT_EQ(Names(cache.objects()), (std::vector<std::string>{"a@3"}));
}

TEST(LiveCacheTest, UnknownKindFailsStartWithTheKindNamed) {
  ScriptedKubeClient client;
  LiveCacheOptions options = Options();
  options.kinds = {{"example.com/v1", "Widget"}};
  LiveCache cache(client, options);
  Status started = cache.start(nullptr);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().to_string(), "looking up Widget (example.com/v1): no such kind");
}

}  // namespace
}  // namespace plumbline
