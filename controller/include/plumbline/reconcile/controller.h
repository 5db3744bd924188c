// plumbline/reconcile/controller.h — `plumbline controller`: the in-cluster reconciler.
//
// Watches Environments and ConsistencyPolicies (whole objects; few) and the workloads
// (projected, LiveCache), and reconciles environments on `workers` threads from a rate-limited
// WorkQueue (an environment is never on two threads at once): Git is polled per environment at
// spec.interval; a new commit or a policy change re-evaluates the environment, a workload change
// only the objects that changed. A fetch or render failure keeps the last good desired state and
// sets Stale/Degraded with the error (file and line); the environment is then never corrected. The
// result goes to the DriftReport named like the environment (in the report namespace), to the
// Environment's status, and to Events on drifted objects — each written only when it changed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plumbline/cache/live_cache.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/task_runner.h"
#include "plumbline/correct/correction_plan.h"
#include "plumbline/evaluate/environment_evaluation.h"
#include "plumbline/git/git_source.h"
#include "plumbline/kube/kube_client.h"
#include "plumbline/kube/leader_gated_client.h"
#include "plumbline/log/log.h"
#include "plumbline/policy/policy.h"
#include "plumbline/process/render_process.h"
#include "plumbline/reconcile/environment.h"
#include "plumbline/reconcile/work_queue.h"
#include "plumbline/render/parse_cache.h"
#include "plumbline/render/render.h"

namespace plumbline {

// plumbline/forge/forge.h (not included here: its HttpRequest is not the HTTP server's).
class Forge;
struct ForgeOptions;

// The rule of the Violation an object declared by two Environments gets in both reports.
inline constexpr std::string_view kEnvironmentConflictRule = "environmentConflict";

struct ControllerOptions {
  // The controller's namespace: DriftReports, and the Secrets Environments name for Git.
  std::string report_namespace = "plumbline-system";
  std::filesystem::path git_cache_dir;  // empty: $XDG_CACHE_HOME/plumbline/git
  // Per-environment deadlines: a fetch (run in a child process, killed at the deadline) and a
  // render. Together they bound how long one Environment can hold a worker (DESIGN.md,
  // "Isolation between Environments").
  std::chrono::seconds git_timeout{120};
  std::chrono::seconds render_timeout{60};
  // Bounds of one Environment's render (its deadline comes from render_timeout).
  RenderLimits render_limits;
  // A watch silent for this long is reopened (LiveCacheOptions::watch_idle_timeout).
  std::chrono::milliseconds watch_idle_timeout{150000};
  std::uint64_t git_cache_max_bytes = std::uint64_t{512} << 20;  // per repository
  // Reconciles run on this many threads; one Environment is never on two at once.
  int workers = 4;
  // A plain render's parsing (RenderOptions::tasks) and a full evaluation pass run on these;
  // null: on the worker's thread.
  TaskRunner* tasks = nullptr;
  // Git credentials of Environments without spec.source.secretRef; one with a secretRef uses
  // only that Secret's (read from report_namespace, the controller's own namespace).
  GitAuth git_auth;
  size_t report_max_bytes = 1024 * 1024;  // a DriftReport status stays far below etcd's 1.5 MiB
  // Enforce-mode environments only say what they would correct (the server validates each
  // correction with dryRun=All); nothing is written to the workloads.
  bool dry_run = false;
  // Write (reports, statuses, Events, corrections) only while this says so, asked before
  // every write: with leader election only the leader writes; the others keep their caches
  // warm for a fast takeover.
  std::function<bool()> leading = [] { return true; };
  // What the installer allows (an Environment cannot widen it). Enforce mode writes only in
  // `enforce_namespaces` (empty: any), and never in kube-system, kube-public, kube-node-lease
  // or the controller's own namespace unless `allow_system_namespaces`; objects elsewhere are
  // reported, not corrected. Local paths and file:// sources are refused unless
  // `allow_local_sources` (they would read the controller's own filesystem).
  std::vector<std::string> enforce_namespaces;
  bool enforce_allowed = true;  // false (--no-enforce): every Environment only reports
  bool allow_system_namespaces = false;
  bool allow_local_sources = false;
  // Renderers run as child processes (plumbline/process/render_process.h): the helm program for
  // charts (render type helm, kustomize helmCharts), and whether Environments may run a
  // render command of their own (render type command; --allow-render-commands).
  std::string helm = "helm";
  bool allow_render_commands = false;
  // Who enforce mode writes as (DESIGN.md "Tenancy"): never the controller itself, always a
  // ServiceAccount of the controller's namespace by impersonation, so the apiserver's RBAC
  // decides what each Environment may change. An Environment's spec.serviceAccountName must
  // list the Environment in its plumbline.dev/allowed-environments annotation; this default
  // (--default-service-account) serves Environments that name none, without that consent,
  // because the installer chose it. Empty: enforce mode needs spec.serviceAccountName.
  std::string default_service_account;
  // Send Git credentials over http:// (never by default: they would cross the network in
  // clear). For test and lab setups only.
  bool allow_http_git_credentials = false;
  WorkQueueOptions queue;
  std::chrono::seconds stuck_after{600};
  // The shortest spec.validationInterval an Environment may ask for (parse_environment).
  std::chrono::milliseconds min_validation_interval{std::chrono::minutes(1)};
  // spec.pullRequests (DESIGN.md "Pull-request comments from the controller"): one round
  // works on at most this many open pull requests (newest first) and ends by this deadline;
  // the rest wait for the next round.
  size_t pull_request_max = 20;
  std::chrono::seconds pull_request_round_timeout{60};
  // The forge edge (tests give a fake); empty: make_forge, the providers' REST APIs.
  std::function<Result<std::unique_ptr<Forge>>(ForgeOptions)> make_forge;
};

// What the controller tells its observers (metrics); all optional.
struct ControllerHooks {
  std::function<void(const std::string& environment, const DriftReport& report)> on_report;
  std::function<void(const std::string& environment, double seconds, bool ok)> on_reconcile;
  std::function<void(const std::string& environment, double seconds, bool ok)> on_git_fetch;
  std::function<void(const std::string& environment)> on_environment_removed;
  // pass: full (a new render, a policy change, the first reconcile) | incremental (only the
  // live objects the watch reported changed); objects: how many were diffed.
  std::function<void(const std::string& environment, std::string_view pass, size_t objects)>
      on_evaluated;
  // result: corrected | would-correct | failed | contested
  std::function<void(const std::string& environment, std::string_view result)> on_correction;
};

class Controller {
 public:
  // `client` and `git` are the edges (the REST client and libgit2 in production, fakes in
  // tests); both must outlive the Controller.
  Controller(KubeClient& client, GitSource& git, ControllerOptions options, Logger& log,
             ControllerHooks hooks = {});
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Maps the CRDs (a clear error when they are not installed), starts the caches and the
  // worker. Returns once they run; reconciling happens in the background.
  Status start();
  void stop();

  // Caches synced and every Environment known at that point reconciled once.
  bool ready() const;
  // For /healthz: an error when a reconcile (on any worker) has run longer than
  // options.stuck_after (a hung call or a runaway render), so the kubelet restarts the pod
  // instead of every Environment waiting behind it.
  Status healthy() const;
  // Re-evaluates every environment now (a new leader takes over).
  void resync() { enqueue_all(); }
  // A Git webhook said these repositories changed: every Environment whose spec.source.url
  // names one of them (git::repository_identity: same host and path, whatever the scheme,
  // credentials, case or ".git") fetches at its next turn, whatever its interval, like a new
  // reconcile-requested-at. A standby (not leading) asks the leader through that annotation
  // instead, since only the leader reconciles. Returns their names, sorted; none before the
  // caches synced.
  std::vector<std::string> fetch_now(const std::vector<std::string>& repository_urls);
  size_t queue_depth() const { return queue_.depth(); }
  const LiveCache* workloads() const { return workloads_.get(); }

 private:
  struct EnvState {
    std::optional<EnvironmentSpec> spec;
    long synced_generation = -1;
    // The last good render, compact (core/compact_manifest.h); the evaluation shares it.
    std::optional<CompactManifestSet> desired;
    // The files the last renders parsed, by blob id: a new commit re-parses only what it
    // changed (bounded; holds the files of the last good render, sharing its compact objects).
    MemoryParseCache parses;
    long desired_version = 0;  // +1 per new render
    // The findings per object, valid for (desired_version, policies); a workload change
    // re-evaluates only the changed objects.
    std::optional<EnvironmentEvaluation> evaluation;
    long evaluated_version = -1;
    std::string evaluated_policies;  // fingerprint of the policies it was built with
    long evaluated_generation = -1;  // the spec generation of its last full pass
    // The rules on the environment as a whole (environment_violations), for
    // (desired_version, policies): they read every object, so they run once per render.
    std::vector<Violation> environment_violations;
    std::string environment_violations_of;  // "<desired_version>|<policies fingerprint>"
    // The resourceVersion of each live object as the evaluation last read it: enforce mode
    // corrects only what the cache still shows at that version (correction_plan.h).
    std::map<ObjectRef, std::string> evaluated_versions;
    ReportSource source;
    std::string error;  // the last fetch/render failure ("" when the last one worked)
    // What the last good render warned of (an unpinned remote base): in the DriftReport.
    std::vector<std::string> render_warnings;
    // Why (a condition reason): InvalidSpec, SourceRefused, CredentialsFailed, FetchFailed,
    // UnverifiedCommit, VerificationKeysFailed/Refused, RenderFailed, InvalidPolicy.
    std::string error_reason;
    std::string verified;         // "revision|sha256 of the keys" of the last verified commit
    bool suspended = false;       // spec.suspend at the last reconcile
    std::string handled_request;  // the last plumbline.dev/reconcile-requested-at handled
    std::chrono::steady_clock::time_point next_poll{};
    std::string last_sync_time;
    json report_status;       // last written DriftReport .status
    json environment_status;  // last written Environment .status
    bool report_exists = false;
    // A write of it failed: it may still have landed (the answer lost with the connection),
    // so the server's copy is unknown and the next pass writes whatever it finds.
    bool report_unconfirmed = false;
    bool environment_status_unconfirmed = false;
    std::set<std::string> announced;  // Event keys already raised
    CorrectionHistory corrections;    // enforce mode: rounds, refusals, budget
    std::set<std::string> contested;  // "object|path" contested at the last reconcile
    // Enforce mode refused at the last reconcile (a condition reason: ServiceAccountRequired,
    // ServiceAccountRefused, NamespaceRefused, Forbidden) and why; "" when nothing was.
    std::string refusal_reason, refusal;
    std::map<ObjectRef, std::string> forbidden;  // corrections the apiserver refused (403)
    std::string refusal_announced;               // the refusal whose Event was raised
    // The last reconcile failed with a terminal error (RBAC refused a write, an invalid
    // object, a bug): Ready=False with reason ReconcileFailed and one Event; no backoff retry.
    // Until the next poll (a new commit), a spec, policy or workload change or a reconcile
    // request, passes end at once (the status write that reported it queues one).
    std::string failure;
    long observed_generation = 0;
    long failed_generation = 0;
    long failed_policies = 0;  // policy_changes_ at the failure
    std::string uid;           // the Environment's, for its Events
    // spec.policies: the Git-bound policies read with the last good render, and from where.
    std::vector<Policy> git_policies;
    ReportSource policy_source;
    // Scheduled full validation (spec.validationInterval).
    std::chrono::steady_clock::time_point next_validation{};
    std::string last_validation_time;
    // spec.pullRequests (pull_request_round.cc): per PR number, the head commit handled
    // (commented on, or found not to touch the path); the revision and time of the last round;
    // the PullRequestComments condition ("" reason: no spec.pullRequests) and its Event.
    std::map<long, std::string> pull_request_heads;
    std::string pull_request_revision;
    std::chrono::steady_clock::time_point next_pull_request_round{};
    bool pull_requests_ok = true;
    std::string pull_requests_reason, pull_requests_message, pull_requests_announced;
  };

  // What one worker thread is doing, for healthy().
  struct WorkerSlot {
    std::atomic<std::chrono::steady_clock::rep> busy_since{0};  // 0: idle
    std::string environment;                                    // guarded by mu_
  };
  void worker(WorkerSlot& slot);
  // Logs when a watch of the cluster starts failing (reports then come from the cache as of
  // its last event) and when every watch works again; once per change.
  void log_watch_health();
  // One pass; a terminal failure of it is written as a condition and an Event.
  Status reconcile(const std::string& name);
  Status reconcile_once(const std::string& name, EnvState*& state);
  // After a terminal failure: whether anything it depends on changed since.
  bool changed_since_failure(const std::string& name, const EnvState& state,
                             const EnvironmentSpec& spec, long generation);
  void load_desired(const EnvironmentSpec& spec, EnvState& state);
  // The child-process renderer (helm, render commands) and the render settings of `spec`,
  // shared by the reconcile and the pull-request round.
  ProcessRenderer renderer_for(std::chrono::milliseconds timeout,
                               std::chrono::steady_clock::time_point deadline) const;
  RenderOptions render_options_for(const EnvironmentSpec& spec, const ExternalRenderer& runner,
                                   std::chrono::steady_clock::time_point deadline) const;
  Result<GitAuth> git_auth_for(const EnvironmentSpec& spec, bool& refused);
  // A Secret of the controller's namespace bound to `environment` (DESIGN.md "Tenancy");
  // `what` names its use in the refusal.
  Result<json> bound_secret(const std::string& name, const std::string& environment,
                            std::string_view what, bool& refused);
  // spec.pullRequests: a round of comments on the open pull requests that touch the path,
  // after a reconcile whose desired state loaded (pull_request_round.cc). `requested`: a
  // webhook or reconcile-requested-at asked for this reconcile.
  void run_pull_request_round(const std::string& name, const json& object,
                              const EnvironmentSpec& spec, EnvState& state,
                              const std::vector<Policy>& policies, bool requested);
  // spec.source.verify: whether the fetched commit is signed by a trusted key (else
  // state.error names the commit and signer).
  bool verified(const EnvironmentSpec& spec, const GitSnapshot& snapshot, EnvState& state);
  Status write_report(const EnvironmentSpec& spec, EnvState& state, const DriftReport& report);
  Status write_environment_status(const std::string& name, EnvState& state, long generation,
                                  const DriftReport* report);
  void raise_events(EnvState& state, const DriftReport& report);
  // Objects of an environment that another Environment declares too (conflicts, with its
  // name) or may declare (its desired state is not loaded yet): never corrected.
  struct Claims {
    std::map<ObjectRef, std::string> conflicts;
    std::set<ObjectRef> held;
  };
  Claims claims_of(const std::string& name, const EnvironmentSpec& spec,
                   const EnvState& state) const;
  bool enforce_allowed_in(const std::string& ns) const;
  // kube-system, kube-public, kube-node-lease and the controller's own namespace.
  bool is_system_namespace(const std::string& ns) const;
  // The user enforce mode writes as for `spec` (impersonation), or nullopt with
  // state.refusal set (or a transient error logged): then nothing is written.
  std::optional<std::string> writer_for(const EnvironmentSpec& spec, EnvState& state);
  // One Warning Event on the Environment per refusal (credentials, source, writer, namespace).
  // `announced` is the slot that remembers the last one raised (a refusal, a forge failure).
  void announce_refusal(const std::string& name, EnvState& state, const std::string& reason,
                        const std::string& message,
                        std::string EnvState::*announced = &EnvState::refusal_announced);
  void correct(const EnvironmentSpec& spec, EnvState& state, DriftReport& report,
               const std::vector<Policy>& policies, const std::string& policy_errors,
               const std::set<ObjectRef>& held);
  bool send_correction(const EnvironmentSpec& spec, EnvState& state, DriftReport& report,
                       const PlannedCorrection& planned, const std::string& writer);
  std::vector<Policy> load_policies(std::string& errors, std::string& fingerprint) const;
  DriftReport evaluate(const std::string& name, const EnvironmentSpec& spec, EnvState& state,
                       const std::vector<Policy>& policies, const std::string& fingerprint);
  std::optional<json> live_workload(const EnvironmentSpec& spec, const ObjectRef& ref) const;
  // A workload (workloads = true), PodDisruptionBudget or NetworkPolicy changed: queues the
  // environments of its namespace.
  void on_live_changes(const std::vector<LiveStore::Change>& changes, bool workloads);
  // podDisruptionBudget and networkPolicy rules on the live state of the environment's
  // namespaces (reconcile/governance.cc); empty when no policy has those rules.
  std::vector<Violation> live_environment_rules(const EnvironmentSpec& spec,
                                                const std::vector<Policy>& policies) const;
  void enqueue_all();

  ControllerOptions options_;
  GitSource& git_;
  LeaderGatedClient client_;  // every write checks leadership just before it is sent
  KubeClient& api_;           // ungated: a standby's webhook request to the leader only
  Logger& log_;
  ControllerHooks hooks_;
  WorkQueue queue_;

  std::optional<ApiResource> environments_resource_, policies_resource_, reports_resource_,
      events_resource_, secrets_resource_, service_accounts_resource_;
  std::unique_ptr<LiveCache> environments_;
  std::unique_ptr<LiveCache> policies_;
  std::unique_ptr<LiveCache> workloads_;
  std::unique_ptr<LiveCache> governance_;  // PodDisruptionBudgets and NetworkPolicies, whole

  // Guards states_ (the map; an entry is written only by the worker reconciling that
  // environment, and the queue hands an environment to one worker at a time), declared_ and
  // the rest below.
  mutable std::mutex mu_;
  std::map<std::string, EnvState> states_;
  // The objects each environment's last good render declares, for claims_of on other workers.
  std::map<std::string, std::set<ObjectRef>> declared_;
  std::map<std::string, std::set<ObjectRef>> changed_;  // live objects changed, per environment
  std::set<std::string> pending_first_;    // environments not yet reconciled since start
  std::set<std::string> fetch_requested_;  // by fetch_now(), not yet fetched
  std::atomic<bool> caches_synced_{false};
  std::string watch_error_logged_;       // under mu_: the watch errors the log last named
  std::atomic<long> policy_changes_{0};  // ConsistencyPolicy cache changes seen
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<WorkerSlot>> slots_;  // one per worker, fixed at construction
  Cancellation cancel_;  // fired by stop(): API calls and Git fetches in flight end early
};

}  // namespace plumbline
