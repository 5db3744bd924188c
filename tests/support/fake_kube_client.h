// FakeKubeClient — an in-memory API server for unit tests of everything behind a KubeClient.
//
// Close enough to a kube-apiserver for plumbline's rules, not a reimplementation:
// - objects with resourceVersions (one counter), LIST (namespace and `k=v` label selectors,
//   one page) and WATCH (ADDED/MODIFIED/DELETED from the version asked, until cancelled);
// - server-side apply with managedFields bookkeeping: the applier owns the fields it sends
//   (merge lists element by element, by path::api_list; atomic lists whole); with force it
//   takes them from other managers; a field it stops sending is removed when nobody else owns
//   it; without force another manager's differing value is a 409;
// - strategic-merge patches (`$patch: delete` by key, null deletes a field, a
//   metadata.resourceVersion precondition) recorded as an Update by the patch's manager;
// - create (409 when it exists), update / update_status (409 on a stale resourceVersion), get;
// - scripted errors per verb (`fail_next`) and a count of calls per verb.
//
//   FakeKubeClient api;
//   api.put(deployment_json, "kubectl");             // as if created by kubectl
//   Controller controller(api, git, options, log);  // lists, watches, applies against it
//   EXPECT_EQ(api.calls("apply"), 1);
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plumbline/kube/kube_client.h"

namespace plumbline::testing {

class FakeKubeClient : public KubeClient {
 public:
  FakeKubeClient();

  // Creates or replaces an object as an Update by `manager` owning all of it (how objects
  // appear before a test starts; a replacement without `status` keeps the stored one).
  // Returns it as stored.
  json put(json object, const std::string& manager = "kubectl");
  void remove(const ObjectRef& ref);
  std::optional<json> object(const ObjectRef& ref) const;
  // The next `times` calls of `verb` (get, list, watch, apply, patch, create, update), or of
  // "verb resource" ("apply deployments"), fail with `error`.
  void fail_next(const std::string& verb, Error error, int times = 1);
  // The next apply of "apply resource" or "apply resource/subresource" ("apply
  // driftreports/status") is made, and then fails as if the connection dropped before the
  // answer (kUnavailable): the caller cannot know it landed.
  void lose_answer_next(const std::string& verb);
  // Calls of "verb" or of "verb resource" so far.
  int calls(const std::string& verb) const;
  // The bodies of the writes of "verb resource" ("apply deployments", "patch deployments",
  // "create events", "update leases"), in order.
  std::vector<json> writes(const std::string& verb) const;
  // Who each of those writes was sent as (ApplyOptions/PatchOptions::impersonate_user; "" =
  // the client's own identity), in the same order.
  std::vector<std::string> writers(const std::string& verb) const;
  // RBAC for impersonated applies and patches: when set, a write sent as a user this refuses
  // fails with kPermissionDenied (403) and changes nothing. Called with the user, the verb
  // (apply, patch), the resource and the namespace.
  std::function<bool(const std::string& user, const std::string& verb, const ApiResource&,
                     std::string_view ns)>
      authorize;

  // Faults. `unavailable`: every call fails as if the server were down. `silent`: calls given
  // a Cancellation hang until it fires (at most 30 s), like a server that accepts and says
  // nothing; `hung` counts them. `before_write` runs (unlocked) before each create, update,
  // apply and patch is applied, so a test can write in between.
  std::atomic<bool> unavailable{false};
  std::atomic<bool> silent{false};
  std::atomic<int> hung{0};
  std::function<void(const std::string& verb)> before_write;
  // Runs (unlocked) before each list answers, with the resource ("deployments"): a test can
  // hold a LIST to see what happens meanwhile.
  std::function<void(const std::string& resource)> before_list;

  Result<ApiResource> resource_for(std::string_view api_version, std::string_view kind) override;
  Result<std::string> get(const ApiResource& resource, std::string_view ns, std::string_view name,
                          const Cancellation* cancel) override;
  Result<std::string> list(const ApiResource& resource, std::string_view ns,
                           const ListOptions& options, const Cancellation* cancel) override;
  Status watch(const ApiResource& resource, std::string_view ns, const WatchOptions& options,
               const std::function<bool(std::string& line)>& on_event,
               const Cancellation& cancel) override;
  Result<json> apply(const ApiResource& resource, const json& object,
                     const ApplyOptions& options) override;
  Result<json> patch(const ApiResource& resource, std::string_view ns, std::string_view name,
                     const json& body, const PatchOptions& options) override;
  Result<json> create(const ApiResource& resource, std::string_view ns, const json& object,
                      const Cancellation* cancel) override;
  Result<json> update(const ApiResource& resource, const json& object,
                      const Cancellation* cancel) override;
  Result<json> update_status(const ApiResource& resource, const json& object,
                             const Cancellation* cancel) override;
  std::vector<ApiCallCount> call_counts() const override;

  // A field path in fieldsV1 keys: {"f:spec", "f:template", …, "k:{\"name\":\"app\"}", "."}.
  using FieldPath = std::vector<std::string>;
  using FieldSet = std::set<FieldPath>;

 private:
  struct Entry {
    std::string manager;
    std::string operation;  // Apply | Update
    std::string subresource;
    FieldSet fields;
    std::string time;  // of the manager's last write
  };
  struct Stored {
    json object;  // without managedFields (rendered on the way out)
    std::vector<Entry> entries;
  };
  struct Event {
    long version;
    std::string type;
    std::string group_kind;
    json object;
  };

  // Everything below runs with mu_ held.
  Result<bool> begin(const std::string& verb, const ApiResource& resource);
  // Before mu_ is taken: the faults above.
  Status fault(const std::string& verb, const Cancellation* cancel);
  json render(const Stored& stored) const;
  void store(const ObjectRef& ref, Stored stored, const std::string& type);
  std::string key_of(const ApiResource& resource) const;
  Status authorized(const std::string& user, const std::string& verb, const ApiResource& resource,
                    std::string_view ns, std::string_view name) const;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  long version_ = 100;
  std::map<ObjectRef, Stored> objects_;
  std::vector<Event> events_;
  std::map<std::string, std::deque<Error>> failures_;
  std::map<std::string, int> lost_answers_;
  std::map<std::string, int> calls_;
  std::map<std::string, std::vector<json>> writes_;
  std::map<std::string, std::vector<std::string>> writers_;
};

}  // namespace plumbline::testing
