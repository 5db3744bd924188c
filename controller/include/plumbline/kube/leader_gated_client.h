// plumbline/kube/leader_gated_client.h — a KubeClient that writes only while leading.
//
// Every write (apply, patch, create, update, update_status) asks `leading()` immediately before
// it is sent, not once per reconcile: a replica that lost its Lease (or is past its renew
// deadline) stops writing at once, and a write it skips is a kCancelled error naming it.
// Reads (discovery, get, list, watch) pass through, so a standby keeps its caches warm.
//
//   LeaderGatedClient gated(client, [&] { return elector.is_leader(); });
//   Controller controller(gated, options, log);
#pragma once

#include <functional>
#include <utility>

#include "plumbline/kube/kube_client.h"

namespace plumbline {

class LeaderGatedClient final : public KubeClient {
 public:
  LeaderGatedClient(KubeClient& inner, std::function<bool()> leading)
      : inner_(inner), leading_(std::move(leading)) {}

  Result<ApiResource> resource_for(std::string_view api_version, std::string_view kind) override {
    return inner_.resource_for(api_version, kind);
  }
  Result<std::string> get(const ApiResource& resource, std::string_view ns, std::string_view name,
                          const Cancellation* cancel) override {
    return inner_.get(resource, ns, name, cancel);
  }
  Result<std::string> list(const ApiResource& resource, std::string_view ns,
                           const ListOptions& options, const Cancellation* cancel) override {
    return inner_.list(resource, ns, options, cancel);
  }
  Status watch(const ApiResource& resource, std::string_view ns, const WatchOptions& options,
               const std::function<bool(std::string& line)>& on_event,
               const Cancellation& cancel) override {
    return inner_.watch(resource, ns, options, on_event, cancel);
  }
  Result<json> apply(const ApiResource& resource, const json& object,
                     const ApplyOptions& options) override {
    PL_RETURN_IF_ERROR(check("apply", resource));
    return inner_.apply(resource, object, options);
  }
  Result<json> patch(const ApiResource& resource, std::string_view ns, std::string_view name,
                     const json& body, const PatchOptions& options) override {
    PL_RETURN_IF_ERROR(check("patch", resource));
    return inner_.patch(resource, ns, name, body, options);
  }
  Result<json> create(const ApiResource& resource, std::string_view ns, const json& object,
                      const Cancellation* cancel) override {
    PL_RETURN_IF_ERROR(check("create", resource));
    return inner_.create(resource, ns, object, cancel);
  }
  Result<json> update(const ApiResource& resource, const json& object,
                      const Cancellation* cancel) override {
    PL_RETURN_IF_ERROR(check("update", resource));
    return inner_.update(resource, object, cancel);
  }
  Result<json> update_status(const ApiResource& resource, const json& object,
                             const Cancellation* cancel) override {
    PL_RETURN_IF_ERROR(check("update", resource));
    return inner_.update_status(resource, object, cancel);
  }
  std::vector<ApiCallCount> call_counts() const override { return inner_.call_counts(); }

 private:
  Status check(std::string_view verb, const ApiResource& resource) const {
    if (leading_()) return {};
    return Error(ErrorCode::kCancelled, "not the leader: " + std::string(verb) + " of " +
                                            resource.qualified_name() + " not sent");
  }

  KubeClient& inner_;
  std::function<bool()> leading_;
};

}  // namespace plumbline
