// plumbline/kube/leader_election.h — one active controller among replicas, through a
// coordination.k8s.io/v1 Lease (the semantics of client-go's leaderelection with a LeaseLock).
//
// A candidate GETs the Lease, creates it when missing, and takes it over only when it has seen
// no change of the lease record (holder, renewTime, transitions, ...) for leaseDurationSeconds
// by its OWN monotonic clock — the holder's wall-clock timestamps are never compared with ours,
// so clock skew between nodes cannot make two leaders. The leader renews every retry period; if
// no renewal succeeded for the renew deadline it stops leading (on_stopped_leading, is_leader()
// false) and becomes a candidate again. stop() while leading releases the Lease (holder "",
// leaseDurationSeconds 1) so another replica takes over at its next retry. Writes are PUTs with
// the resourceVersion read: a 409 means someone else wrote, and the next step re-reads.
//
//   LeaderElector elector(*client, {.lease_namespace = "plumbline-system"},
//                         {.on_started_leading = [&] { controller.resume(); },
//                          .on_stopped_leading = [&] { controller.pause(); }});
//   PL_RETURN_IF_ERROR(elector.start());
//   ...
//   elector.stop();  // on shutdown: releases the Lease if leading
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "plumbline/core/error.h"
#include "plumbline/core/object.h"
#include "plumbline/kube/kube_client.h"

namespace plumbline {

struct LeaderElectionConfig {
  std::string lease_namespace;  // required
  std::string lease_name = "plumbline-controller";
  std::string identity;  // "" = default_leader_identity()
  // lease_duration > renew_deadline > 1.2 * retry_period > 0 (as client-go requires).
  std::chrono::milliseconds lease_duration{15000};  // written in whole seconds (rounded up)
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};  // a candidate waits it + up to 10% jitter
};

// Called on the elector's thread; they must not call stop() of the same elector.
struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;  // the controller must stop correcting here
  std::function<void(const std::string& leader)> on_new_leader;  // "" = released, no holder
};

// hostname + "_" + 8 random hex digits, e.g. "node-3_9f2c01ab".
std::string default_leader_identity();

// A MicroTime as the API writes it: "2026-11-23T12:00:00.000000Z" (UTC, microseconds).
std::string format_micro_time(std::chrono::system_clock::time_point t);

class LeaderElector {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;
  using WallNow = std::function<std::chrono::system_clock::time_point()>;

  // `now` measures lease expiry and the renew deadline; `wall` only stamps acquireTime and
  // renewTime. Both are injectable for tests. `client` must outlive the elector.
  LeaderElector(KubeClient& client, LeaderElectionConfig config, LeaderCallbacks callbacks = {},
                SteadyNow now = std::chrono::steady_clock::now,
                WallNow wall = std::chrono::system_clock::now);
  ~LeaderElector();  // stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Checks the configuration and runs the election loop in its own thread.
  Status start();
  // Ends the loop: if leading, stops leading (on_stopped_leading) and then releases the Lease.
  // Waits between steps are interrupted at once; a KubeClient call in flight cannot be
  // cancelled through the interface and is waited for (bounded by the client's timeout).
  void stop();
  // Test hook, "the process died": ends the loop without releasing and without callbacks.
  void abandon();

  // True while this elector leads: set before on_started_leading, false from the moment the
  // renew deadline passes without a successful renewal (even while a call is still in flight).
  bool is_leader() const;
  // The holder as last observed ("" = none or not yet observed).
  std::string leader() const;
  const std::string& identity() const { return config_.identity; }

  // One step of the loop, for tests: GET the Lease; create it, renew it, or take it over if
  // expired by our observation. True = we hold the Lease now. A 409 from create or update is
  // `false` (someone else wrote; the next step re-reads). Not to be called while running.
  Result<bool> try_acquire_or_renew();
  // Gives the Lease up if we hold it: holderIdentity "", leaseDurationSeconds 1.
  Status release();

 private:
  void run();
  // Leads from a successful step begun at `acquired_at` until the lease is lost (returns
  // true: become a candidate again) or the loop is stopped (false).
  bool lead(std::chrono::steady_clock::time_point acquired_at);
  void observe(const json& spec);
  bool wait_for(std::chrono::steady_clock::duration d);  // false when stopping
  std::chrono::milliseconds jittered(std::chrono::milliseconds d);
  Result<ApiResource> lease_resource();
  json new_spec(const json& old_spec, bool renewing);
  void end_loop(bool abandon);
  std::string where() const;

  KubeClient& client_;
  LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  SteadyNow now_;
  WallNow wall_;
  std::optional<ApiResource> resource_;
  std::mt19937 rng_;

  // Loop-thread state (and try_acquire_or_renew's).
  json observed_spec_;                                 // last lease spec seen (null: none)
  std::chrono::steady_clock::time_point observed_at_;  // when it last changed, by now_
  std::string reported_leader_;

  // Cancels the acquire/renew calls in flight when the loop ends (the release that follows a
  // stop() runs uncancelled, bounded by the client's timeout).
  Cancellation steps_cancel_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool abandoning_ = false;
  bool leading_ = false;
  std::chrono::steady_clock::time_point renew_deadline_at_{};
  std::string leader_;
  std::thread thread_;
};

}  // namespace plumbline
