// plumbline/kube/kube_client.h — the Kubernetes REST API edge.
//
// KubeClient is the interface the LiveCache, the CLI and the controller use; RestKubeClient
// (make_kube_client) implements it over HTTPS with cpprestsdk, and tests put fakes beside it.
// Every call has a deadline; 429 (Retry-After) and 5xx are retried with backoff inside it;
// errors name the verb, the resource, the namespace and the server, e.g.
//   "forbidden: cannot list deployments.apps in namespace "shop-prod" (…server's message)".
//
//   PL_ASSIGN_OR_RETURN(auto client, make_kube_client(config, {}));
//   PL_ASSIGN_OR_RETURN(ApiResource deployments, client->resource_for("apps/v1", "Deployment"));
//   PL_ASSIGN_OR_RETURN(std::string page, client->list(deployments, "shop-prod", {}));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/cancellation.h"
#include "plumbline/core/error.h"
#include "plumbline/core/object.h"
#include "plumbline/kube/kube_config.h"

namespace plumbline {

// A resource of the API as discovery describes it (REST mapping of a kind).
struct ApiResource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string kind;      // "Deployment"
  std::string resource;  // "deployments" (plural, the URL segment)
  bool namespaced = true;
  std::vector<std::string> verbs;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // "deployments.apps", "pods": how kubectl and RBAC messages name it.
  std::string qualified_name() const { return group.empty() ? resource : resource + "." + group; }
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 500;  // page size; continue tokens fetch the rest
  std::string continue_token;
  std::string resource_version;  // "" = most recent (a consistent read)
};

struct WatchOptions {
  std::string resource_version;  // resume point: events after this version
  bool allow_bookmarks = true;
  std::string label_selector;
  std::chrono::seconds timeout{300};  // server-side timeoutSeconds; the stream then ends cleanly
  // A stream that brings not one byte for this long fails (kTimeout) so that it is reopened:
  // the apiserver sends a bookmark about once a minute, so a longer silence is a connection
  // stuck open (a dead peer, a stalled middlebox), not a quiet watch. 0: only `timeout`.
  std::chrono::milliseconds idle_timeout{0};
};

struct ApplyOptions {
  std::string field_manager = "plumbline";
  bool force = false;       // take ownership of conflicting fields (only when asked)
  bool dry_run = false;     // dryRun=All: the server validates and answers, stores nothing
  std::string subresource;  // "" or "status"
  const Cancellation* cancel = nullptr;  // ends the call early (kCancelled) when it fires
  // Sent as this user (the Impersonate-User header, e.g.
  // "system:serviceaccount:tenants:shop"): the apiserver's RBAC decides for that identity.
  // "": the client's own identity.
  std::string impersonate_user;
};

// A PATCH other than apply: strategic merge (built-in kinds; `$patch: delete` removes a list
// element by its merge key) or JSON patch (RFC 6902; `test` ops guard what is changed).
enum class PatchType { kStrategicMerge, kJson };

struct PatchOptions {
  PatchType type = PatchType::kStrategicMerge;
  std::string field_manager = "plumbline";
  bool dry_run = false;
  const Cancellation* cancel = nullptr;
  std::string impersonate_user;  // as ApplyOptions::impersonate_user
};

// The username Kubernetes gives a ServiceAccount ("system:serviceaccount:<ns>:<name>").
inline std::string service_account_user(std::string_view ns, std::string_view name) {
  return "system:serviceaccount:" + std::string(ns) + ":" + std::string(name);
}

struct KubeClientOptions {
  // Deadline of one call, retries included. A watch's deadline is its timeout plus this.
  std::chrono::milliseconds timeout{30000};
  int max_attempts = 5;  // for 429, 5xx and connection errors on idempotent calls
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{5000};
  std::string user_agent = "plumbline";
};

// Counts of API calls by verb and HTTP code, for metrics and for tests ("one LIST per kind").
struct ApiCallCount {
  std::string verb;  // get, list, watch, apply, patch, create, update, discovery
  int code = 0;      // HTTP status; 0 = no answer (connection error, timeout)
  long count = 0;
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // REST mapping through discovery (cached per group/version).
  virtual Result<ApiResource> resource_for(std::string_view api_version, std::string_view kind) = 0;

  // Every call below ends within the client's timeout, and at once (kCancelled) when the
  // optional `cancel` fires, so no call holds up a shutdown.

  // GET of one object: the JSON body.
  virtual Result<std::string> get(const ApiResource& resource, std::string_view ns,
                                  std::string_view name, const Cancellation* cancel = nullptr) = 0;

  // One LIST page: the JSON body, with spare capacity for simdjson's padding. `ns` empty: all
  // namespaces (or a cluster-scoped resource).
  virtual Result<std::string> list(const ApiResource& resource, std::string_view ns,
                                   const ListOptions& options,
                                   const Cancellation* cancel = nullptr) = 0;

  // WATCH: calls `on_event` with each event line (one JSON object, spare capacity for padding)
  // until the server ends the stream (its timeout: returns ok), `on_event` returns false (ok),
  // `cancel` fires (kCancelled) or the connection fails (kUnavailable / kTimeout). A 410 at
  // the start is kGone; a 410 inside the stream arrives as an ERROR event.
  virtual Status watch(const ApiResource& resource, std::string_view ns,
                       const WatchOptions& options,
                       const std::function<bool(std::string& line)>& on_event,
                       const Cancellation& cancel) = 0;

  // Server-side apply (application/apply-patch+yaml; JSON is YAML). `object` carries
  // apiVersion, kind, metadata.name (and namespace) and only the fields to own.
  virtual Result<json> apply(const ApiResource& resource, const json& object,
                             const ApplyOptions& options) = 0;

  // PATCH of one object. A strategic-merge body may carry metadata.resourceVersion: the server
  // then refuses it (kConflict) if the object changed since that version.
  virtual Result<json> patch(const ApiResource& resource, std::string_view ns,
                             std::string_view name, const json& body,
                             const PatchOptions& options) = 0;

  // POST of a new object (Events).
  virtual Result<json> create(const ApiResource& resource, std::string_view ns, const json& object,
                              const Cancellation* cancel = nullptr) = 0;

  // PUT of the whole object (optimistic concurrency via metadata.resourceVersion: a stale
  // version is kConflict). Leases, and objects plumbline owns.
  virtual Result<json> update(const ApiResource& resource, const json& object,
                              const Cancellation* cancel = nullptr) = 0;

  // PUT of the status subresource (optimistic concurrency via metadata.resourceVersion).
  virtual Result<json> update_status(const ApiResource& resource, const json& object,
                                     const Cancellation* cancel = nullptr) = 0;

  virtual std::vector<ApiCallCount> call_counts() const = 0;
};

// The HTTPS client for a cluster. Fails on configuration that cannot work (bad PEM).
Result<std::unique_ptr<KubeClient>> make_kube_client(const KubeConfig& config,
                                                     const KubeClientOptions& options);

// An API error from an HTTP status and a response body (a metav1.Status when the apiserver
// sent one). Exposed for tests of the mapping.
Error api_error(int http_status, std::string_view body, std::string_view verb,
                const ApiResource& resource, std::string_view ns, std::string_view name,
                std::string_view server);

}  // namespace plumbline
