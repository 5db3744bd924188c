// LeaderElector: client-go's leaderelection over a coordination.k8s.io/v1 Lease.
#include "plumbline/kube/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "plumbline/core/rfc3339.h"

namespace plumbline {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

long long int_field(const json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<long long>() : 0;
}

}  // namespace

std::string default_leader_identity() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
    std::snprintf(host.data(), host.size(), "plumbline");
  }
  std::random_device random;
  std::array<char, 16> suffix{};
  std::snprintf(suffix.data(), suffix.size(), "%08x", static_cast<unsigned>(random()));
  return std::string(host.data()) + "_" + suffix.data();
}

std::string format_micro_time(std::chrono::system_clock::time_point t) { return rfc3339(t, 6); }

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config,
                             LeaderCallbacks callbacks, SteadyNow now, WallNow wall)
    : client_(client),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      now_(std::move(now)),
      wall_(std::move(wall)),
      rng_(std::random_device{}()) {
  if (config_.identity.empty()) config_.identity = default_leader_identity();
  observed_at_ = now_();
}

LeaderElector::~LeaderElector() { stop(); }

std::string LeaderElector::where() const {
  return "Lease " + config_.lease_namespace + "/" + config_.lease_name;
}

Status LeaderElector::start() {
  const auto& c = config_;
  if (c.lease_namespace.empty() || c.lease_name.empty()) {
    return invalid_input("leader election needs a lease namespace and name", where());
  }
  if (c.retry_period <= milliseconds(0) || c.renew_deadline * 10 <= c.retry_period * 12 ||
      c.lease_duration <= c.renew_deadline) {
    return invalid_input(
        "leader election needs lease duration > renew deadline > 1.2 * retry period > 0 (got " +
            std::to_string(c.lease_duration.count()) + " ms, " +
            std::to_string(c.renew_deadline.count()) + " ms, " +
            std::to_string(c.retry_period.count()) + " ms)",
        where());
  }
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return invalid_input("leader election is already running", where());
  stopping_ = false;
  abandoning_ = false;
  steps_cancel_ = Cancellation();
  thread_ = std::thread([this] { run(); });
  return {};
}

void LeaderElector::stop() { end_loop(false); }
void LeaderElector::abandon() { end_loop(true); }

void LeaderElector::end_loop(bool abandon) {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    abandoning_ = abandon;
  }
  steps_cancel_.cancel();
  cv_.notify_all();
  thread_.join();
  std::lock_guard lock(mu_);
  thread_ = std::thread();
  leading_ = false;
}

bool LeaderElector::is_leader() const {
  std::lock_guard lock(mu_);
  return leading_ && now_() < renew_deadline_at_;
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

bool LeaderElector::wait_for(steady_clock::duration d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::max(d, steady_clock::duration::zero()), [this] { return stopping_; });
  return !stopping_;
}

milliseconds LeaderElector::jittered(milliseconds d) {
  // A candidate waits retry * [1, 1.1): enough to spread replicas out, and the takeover of a
  // dead leader's lease stays under lease duration + 2 * 1.1 * retry (client-go's factor 1.2
  // would allow up to lease duration + 2 * 2.2 * retry, 23.8 s with the defaults).
  std::uniform_real_distribution<double> factor(0.0, 0.1);
  return d + milliseconds(static_cast<long long>(static_cast<double>(d.count()) * factor(rng_)));
}

Result<ApiResource> LeaderElector::lease_resource() {
  if (!resource_) {
    auto r = client_.resource_for("coordination.k8s.io/v1", "Lease");
    if (!r.ok()) return std::move(r).error().context(where());
    resource_ = std::move(r).value();
  }
  return *resource_;
}

void LeaderElector::observe(const json& spec) {
  if (spec != observed_spec_) {
    observed_spec_ = spec;
    observed_at_ = now_();
  }
  std::string holder = string_field(spec, "holderIdentity");
  {
    std::lock_guard lock(mu_);
    leader_ = holder;
  }
  if (holder != reported_leader_) {
    reported_leader_ = holder;
    if (callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
  }
}

json LeaderElector::new_spec(const json& old_spec, bool renewing) {
  json spec = old_spec.is_object() ? old_spec : json::object();
  std::string now = format_micro_time(wall_());
  auto seconds = std::max<long long>(1, (config_.lease_duration.count() + 999) / 1000);
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = seconds;
  spec["renewTime"] = now;
  if (renewing) {
    if (string_field(old_spec, "acquireTime").empty()) spec["acquireTime"] = now;
    spec["leaseTransitions"] = int_field(old_spec, "leaseTransitions");
  } else {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] =
        old_spec.is_object() ? int_field(old_spec, "leaseTransitions") + 1 : 0;
  }
  return spec;
}

Result<bool> LeaderElector::try_acquire_or_renew() {
  PL_ASSIGN_OR_RETURN(ApiResource resource, lease_resource());
  auto got = client_.get(resource, config_.lease_namespace, config_.lease_name, &steps_cancel_);
  if (!got.ok()) {
    if (got.error().code() != ErrorCode::kNotFound) return std::move(got).error().context(where());
    json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", new_spec(nullptr, false)}};
    auto created = client_.create(resource, config_.lease_namespace, lease, &steps_cancel_);
    if (!created.ok()) {
      if (created.error().code() == ErrorCode::kConflict) return false;  // another one won
      return std::move(created).error().context(where());
    }
    observe(created->is_object() && created->contains("spec") ? (*created)["spec"] : lease["spec"]);
    return true;
  }
  json lease = json::parse(*got, nullptr, false);
  if (lease.is_discarded() || !lease.is_object()) {
    return Error(ErrorCode::kInternal, "the GET answer is not a JSON object", where());
  }
  json spec = lease.contains("spec") ? lease["spec"] : json::object();
  observe(spec);
  std::string holder = string_field(spec, "holderIdentity");
  if (!holder.empty() && holder != config_.identity) {
    // Expired only when OUR clock says the duration passed since we last saw the record change.
    auto duration =
        std::chrono::seconds(std::max<long long>(1, int_field(spec, "leaseDurationSeconds")));
    if (now_() < observed_at_ + duration) return false;
  }
  lease["spec"] = new_spec(spec, holder == config_.identity);
  auto updated = client_.update(resource, lease, &steps_cancel_);
  if (!updated.ok()) {
    if (updated.error().code() == ErrorCode::kConflict) return false;  // someone else wrote
    return std::move(updated).error().context(where());
  }
  observe(updated->is_object() && updated->contains("spec") ? (*updated)["spec"] : lease["spec"]);
  return true;
}

Status LeaderElector::release() {
  PL_ASSIGN_OR_RETURN(ApiResource resource, lease_resource());
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto got = client_.get(resource, config_.lease_namespace, config_.lease_name);
    if (!got.ok()) {
      if (got.error().code() == ErrorCode::kNotFound) return {};
      return std::move(got).error().context(where());
    }
    json lease = json::parse(*got, nullptr, false);
    if (lease.is_discarded() || !lease.is_object()) {
      return Error(ErrorCode::kInternal, "the GET answer is not a JSON object", where());
    }
    json spec = lease.contains("spec") ? lease["spec"] : json::object();
    if (string_field(spec, "holderIdentity") != config_.identity) {
      observe(spec);
      return {};  // not ours (any more)
    }
    std::string now = format_micro_time(wall_());
    spec["holderIdentity"] = "";
    spec["leaseDurationSeconds"] = 1;
    spec["acquireTime"] = now;
    spec["renewTime"] = now;
    lease["spec"] = spec;
    auto updated = client_.update(resource, lease);
    if (updated.ok()) {
      observe(updated->is_object() && updated->contains("spec") ? (*updated)["spec"] : spec);
      return {};
    }
    if (updated.error().code() != ErrorCode::kConflict) {
      return std::move(updated).error().context(where());
    }
  }
  return Error(ErrorCode::kConflict, "cannot release: the Lease keeps changing", where());
}

void LeaderElector::run() {
  while (true) {
    // Candidate: retry (with jitter) until a step gets us the Lease.
    steady_clock::time_point attempt = now_();
    while (true) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      attempt = now_();
      auto step = try_acquire_or_renew();
      if (step.ok() && *step) break;
      if (!wait_for(jittered(config_.retry_period))) return;
    }
    if (!lead(attempt)) return;
  }
}

bool LeaderElector::lead(steady_clock::time_point acquired_at) {
  bool stopping;
  {
    std::lock_guard lock(mu_);
    stopping = stopping_;
    if (!stopping) {
      leading_ = true;
      renew_deadline_at_ = acquired_at + config_.renew_deadline;
    }
  }
  if (!stopping) {
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
    while (true) {
      steady_clock::time_point deadline;
      {
        std::lock_guard lock(mu_);
        deadline = renew_deadline_at_;
      }
      auto wait = std::min<steady_clock::duration>(config_.retry_period, deadline - now_());
      if (!wait_for(wait)) break;  // stop() or abandon()
      bool lost = false;
      if (now_() < deadline) {
        steady_clock::time_point attempt = now_();
        auto step = try_acquire_or_renew();
        std::lock_guard lock(mu_);
        if (now_() >= renew_deadline_at_) {
          lost = true;  // too late, even if this step succeeded
        } else if (step.ok() && *step) {
          renew_deadline_at_ = attempt + config_.renew_deadline;
        } else if (step.ok() && !leader_.empty() && leader_ != config_.identity) {
          lost = true;  // the record names another holder
        }
      } else {
        lost = true;
      }
      if (lost) {
        {
          std::lock_guard lock(mu_);
          leading_ = false;
        }
        if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
        return true;
      }
    }
  }
  // Stopping while leading (or just after acquiring): stop leading first, then release, so
  // the next leader cannot start before this one has stopped correcting.
  bool abandoning;
  {
    std::lock_guard lock(mu_);
    abandoning = abandoning_;
    leading_ = false;
  }
  if (abandoning) return false;
  if (!stopping && callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  (void)release();  // best effort: otherwise others take over after the lease duration
  return false;
}

}  // namespace plumbline
