// plumbline/cache/live_cache.h — the live workloads of a cluster, kept current by LIST + WATCH.
//
// One stream per kind and namespace: a paginated LIST, then a WATCH from the list's
// resourceVersion (with bookmarks). A dropped connection or an apiserver restart resumes the
// watch from the last version seen; a 410 Gone (the version was compacted) relists and reports
// whatever changed in the gap, deletions included. Objects are kept in the projected form of
// live_store.h, never whole.
//
//   LiveCache cache(*client, {.namespaces = {"shop-prod"}});
//   PL_RETURN_IF_ERROR(cache.list_once());              // the CLI: one LIST per kind/namespace
//   cache.start([](const auto& changes) { ... });       // the controller: keep watching
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/kube/kube_client.h"

namespace plumbline {

struct WatchedKind {
  std::string api_version;
  std::string kind;
  bool operator==(const WatchedKind&) const = default;
};

// Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob.
std::vector<WatchedKind> workload_kinds();

struct LiveCacheOptions {
  std::vector<std::string> namespaces;  // "" = all namespaces; ignored for cluster-scoped kinds
  std::vector<WatchedKind> kinds = workload_kinds();
  std::vector<Category> scope = default_scope();
  // Keep whole objects instead of projections: for the controller's own few resources
  // (Environments, ConsistencyPolicies), never for workloads.
  bool whole_objects = false;
  int page_size = 500;
  std::chrono::seconds watch_timeout{300};
  // WatchOptions::idle_timeout: two missed bookmarks and the stream is reopened from its
  // version (no relist), so a connection stuck open delays changes by at most this long.
  std::chrono::milliseconds watch_idle_timeout{150000};
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
};

struct LiveCacheStats {
  long lists = 0;    // LIST calls (pages)
  long watches = 0;  // WATCH calls
  long relists = 0;  // full relists after a 410 Gone
  long resumes = 0;  // watches resumed from a version after a dropped or ended stream
  long events = 0;   // ADDED/MODIFIED/DELETED events applied
  long bookmarks = 0;
  long errors = 0;  // failed calls (retried with backoff)
};

class LiveCache {
 public:
  // Called with what changed, from the cache's threads, one call at a time.
  using ChangeHandler = std::function<void(const std::vector<LiveStore::Change>&)>;

  LiveCache(KubeClient& client, LiveCacheOptions options);
  ~LiveCache();
  LiveCache(const LiveCache&) = delete;
  LiveCache& operator=(const LiveCache&) = delete;

  // One LIST (all pages) per kind and namespace, now. Errors name the kind and namespace.
  Status list_once();

  // Starts one list+watch loop per kind and namespace. Fails only when a kind cannot be
  // mapped (discovery); API errors later are retried with backoff and kept in last_error().
  Status start(ChangeHandler on_change);
  // Stops every loop and waits for them; in-flight calls are cancelled.
  void stop();

  // True once every stream has completed its first LIST and handed its changes to the handler.
  bool synced() const;
  bool wait_synced(std::chrono::milliseconds timeout) const;

  std::vector<json> objects() const;  // sorted by ref
  std::vector<json> objects(std::string_view ns) const;
  // The objects of `ns` as the cache keeps them (a full pass materializes one at a time).
  std::vector<LiveObject> projected(std::string_view ns) const;
  // Every object as kept, sorted by ref, moved out of a cache that is not running (a one-shot
  // list_once read, as `plumbline diff --live cluster` does): no copy, the cache is left empty.
  std::vector<LiveObject> take_projected();
  std::optional<json> object(const ObjectRef& ref) const;
  const LiveStore& store_unlocked() const { return store_; }  // tests, after stop()
  size_t size() const;
  size_t memory_bytes() const;
  LiveCacheStats stats() const;
  // The errors of the streams that are failing now ("" when all are healthy), e.g. a 403 on
  // one namespace, one per line.
  std::string last_error() const;

 private:
  struct Stream {
    WatchedKind kind;
    ApiResource resource;
    std::string ns;
    bool synced = false;
    std::string error;  // the last failure of this stream, cleared when it recovers
  };

  Status resolve_streams();
  Result<ListPage> read_list(const std::string& body) const;
  Result<WatchEvent> read_event(const std::string& line) const;
  Result<std::vector<LiveObject>> list_all_pages(Stream& stream, std::string& resource_version);
  Status relist(Stream& stream, std::string& resource_version);
  void run_stream(Stream& stream);
  void notify(const std::vector<LiveStore::Change>& changes);
  bool sleep_for(std::chrono::milliseconds duration);  // false when stopped
  void record_error(Stream& stream, const Error& error);

  KubeClient& client_;
  LiveCacheOptions options_;
  Projector projector_;
  Cancellation cancel_;
  ChangeHandler on_change_;

  mutable std::mutex mu_;  // guards store_, stats_, streams_[*].synced and .error
  mutable std::condition_variable synced_cv_;
  LiveStore store_;
  LiveCacheStats stats_;
  std::vector<std::unique_ptr<Stream>> streams_;

  std::mutex notify_mu_;  // serializes on_change_
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::vector<std::thread> threads_;
};

}  // namespace plumbline
