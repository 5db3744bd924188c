// The reconcile loop of `plumbline controller`: caches, the work queue, one reconcile.
// desired_state.cc loads Git, evaluation_passes.cc evaluates, enforcement.cc corrects,
// status_writers.cc writes what was found.
#include "plumbline/reconcile/controller.h"

#include <algorithm>
#include <initializer_list>

#include "plumbline/core/rfc3339.h"
#include "plumbline/git/repo_location.h"
#include "reconcile/elapsed.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kGroupVersion = "plumbline.dev/v1alpha1";

}  // namespace

Controller::Controller(KubeClient& client, GitSource& git, ControllerOptions options, Logger& log,
                       ControllerHooks hooks)
    : options_(std::move(options)),
      git_(git),
      client_(client, options_.leading),
      api_(client),
      log_(log),
      hooks_(std::move(hooks)),
      queue_(options_.queue) {
  // Made here, not in start(): healthy() reads them from the HTTP server's threads.
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    slots_.push_back(std::make_unique<WorkerSlot>());
  }
}

Controller::~Controller() { stop(); }

Status Controller::start() {
  // Process-wide Git credentials belong to one host the installer names: without it they
  // would go to whatever host an Environment chooses.
  const GitAuth& process = options_.git_auth;
  if ((!process.password.empty() || !process.ssh_key_file.empty() || !process.ssh_key.empty()) &&
      process.host.empty()) {
    return invalid_input(
        "process-wide Git credentials (PLUMBLINE_GIT_TOKEN, PLUMBLINE_GIT_PASSWORD or "
        "PLUMBLINE_GIT_SSH_KEY) need PLUMBLINE_GIT_HOST, the host they belong to; without it an "
        "Environment could send them to a host of its choice");
  }
  auto map = [&](std::string_view api_version, std::string_view kind,
                 std::optional<ApiResource>& out) -> Status {
    Result<ApiResource> resource = client_.resource_for(api_version, kind);
    if (!resource.ok()) {
      if (resource.error().code() == ErrorCode::kNotFound && api_version == kGroupVersion) {
        return not_found("the " + std::string(kind) +
                         " CRD is not installed (kubectl apply -f policies/crds/): " +
                         resource.error().to_string());
      }
      return std::move(resource).error();
    }
    out = *resource;
    return {};
  };
  PL_RETURN_IF_ERROR(map(kGroupVersion, "Environment", environments_resource_));
  PL_RETURN_IF_ERROR(map(kGroupVersion, "ConsistencyPolicy", policies_resource_));
  PL_RETURN_IF_ERROR(map(kGroupVersion, "DriftReport", reports_resource_));
  PL_RETURN_IF_ERROR(map("v1", "Event", events_resource_));
  PL_RETURN_IF_ERROR(map("v1", "Secret", secrets_resource_));
  PL_RETURN_IF_ERROR(map("v1", "ServiceAccount", service_accounts_resource_));

  environments_ = std::make_unique<LiveCache>(
      client_, LiveCacheOptions{.kinds = {{std::string(kGroupVersion), "Environment"}},
                                .whole_objects = true,
                                .watch_idle_timeout = options_.watch_idle_timeout});
  policies_ = std::make_unique<LiveCache>(
      client_, LiveCacheOptions{.kinds = {{std::string(kGroupVersion), "ConsistencyPolicy"}},
                                .whole_objects = true,
                                .watch_idle_timeout = options_.watch_idle_timeout});
  // Workloads in all namespaces, projected to every category (policies choose the scope).
  workloads_ = std::make_unique<LiveCache>(
      client_, LiveCacheOptions{.scope = all_categories(),
                                .watch_idle_timeout = options_.watch_idle_timeout});
  // The objects of the environment-wide rules' live half: few and small, kept whole.
  governance_ = std::make_unique<LiveCache>(
      client_, LiveCacheOptions{.kinds = {{"policy/v1", "PodDisruptionBudget"},
                                          {"networking.k8s.io/v1", "NetworkPolicy"}},
                                .whole_objects = true,
                                .watch_idle_timeout = options_.watch_idle_timeout});

  // Nothing is reconciled before every cache has synced: a half-listed cluster would show
  // declared objects as missing.
  PL_RETURN_IF_ERROR(environments_->start([this](const std::vector<LiveStore::Change>& changes) {
    if (!caches_synced_) return;
    for (const auto& change : changes) queue_.add(change.ref.name);
  }));
  PL_RETURN_IF_ERROR(policies_->start([this](const std::vector<LiveStore::Change>&) {
    ++policy_changes_;
    enqueue_all();  // a policy may apply to any environment
  }));
  PL_RETURN_IF_ERROR(workloads_->start(
      [this](const std::vector<LiveStore::Change>& changes) { on_live_changes(changes, true); }));
  PL_RETURN_IF_ERROR(governance_->start(
      [this](const std::vector<LiveStore::Change>& changes) { on_live_changes(changes, false); }));

  threads_.emplace_back([this] {
    auto wait_synced = [this](std::initializer_list<LiveCache*> caches) {
      for (LiveCache* cache : caches) {
        while (!stopping_ && !cache->wait_synced(std::chrono::milliseconds(200))) {
        }
      }
      return !stopping_;
    };
    // Git is fetched and rendered while the workload caches still LIST: at 10,000 objects each
    // takes seconds. A reconcile before the caches are synced loads the desired state and stops
    // there (reconcile_once); the one enqueued below, once they are, evaluates it.
    if (!wait_synced({environments_.get(), policies_.get()})) return;
    for (const json& env : environments_->objects()) {
      queue_.add(env["metadata"].value("name", ""));
    }
    // Ready once the caches are synced and each environment present then is reconciled.
    if (!wait_synced({workloads_.get(), governance_.get()})) return;
    {
      std::lock_guard lock(mu_);
      for (const json& env : environments_->objects()) {
        pending_first_.insert(env["metadata"].value("name", ""));
      }
    }
    caches_synced_ = true;
    log_.info("caches synced", {{"workloads", workloads_->size()},
                                {"environments", environments_->size()},
                                {"policies", policies_->size()}});
    enqueue_all();
  });
  for (const auto& slot : slots_) threads_.emplace_back([this, &slot = *slot] { worker(slot); });
  return {};
}

void Controller::stop() {
  if (stopping_.exchange(true)) return;
  cancel_.cancel();  // a reconcile in flight ends at its next API call or fetch progress
  queue_.shut_down();
  for (LiveCache* cache :
       {environments_.get(), policies_.get(), workloads_.get(), governance_.get()}) {
    if (cache != nullptr) cache->stop();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Status Controller::healthy() const {
  std::string stuck;
  Clock::time_point now = Clock::now();
  for (const auto& slot : slots_) {
    Clock::rep since = slot->busy_since;
    if (since == 0) continue;
    auto busy = now - Clock::time_point(Clock::duration(since));
    if (busy < options_.stuck_after) continue;
    std::lock_guard lock(mu_);
    if (!stuck.empty()) stuck += "; ";
    stuck += "the reconcile of Environment " + slot->environment + " has run for " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(busy).count()) +
             " s (limit " + std::to_string(options_.stuck_after.count()) + " s)";
  }
  if (stuck.empty()) return {};
  return Error(ErrorCode::kUnavailable, stuck);
}

// A watch that cannot reconnect (the apiserver unreachable, its address gone) leaves every
// report to the cache's last state while reconciles still succeed: say so where operators look.
void Controller::log_watch_health() {
  std::string errors;
  for (LiveCache* cache :
       {environments_.get(), policies_.get(), workloads_.get(), governance_.get()}) {
    if (cache == nullptr) continue;
    std::string error = cache->last_error();
    if (!error.empty()) errors += (errors.empty() ? "" : "\n") + error;
  }
  std::lock_guard lock(mu_);
  if (errors == watch_error_logged_) return;
  if (errors.empty()) {
    log_.info("watching the cluster again", {});
  } else {
    log_.warn("cannot watch the cluster; reports show its state as of the last event received",
              {{"error", errors}});
  }
  watch_error_logged_ = std::move(errors);
}

bool Controller::ready() const {
  if (!caches_synced_) return false;
  std::lock_guard lock(mu_);
  return pending_first_.empty();
}

void Controller::enqueue_all() {
  if (!caches_synced_ || environments_ == nullptr) return;
  for (const json& env : environments_->objects()) {
    queue_.add(env["metadata"].value("name", ""));
  }
}

std::vector<std::string> Controller::fetch_now(const std::vector<std::string>& repository_urls) {
  std::set<std::string> wanted;
  for (const std::string& url : repository_urls) {
    if (std::string id = git::repository_identity(url); !id.empty()) wanted.insert(id);
  }
  std::vector<std::string> names;
  if (!caches_synced_ || environments_ == nullptr || wanted.empty()) return names;
  for (const json& env : environments_->objects()) {
    const json* url = nullptr;
    if (auto spec = env.find("spec"); spec != env.end() && spec->is_object()) {
      if (auto source = spec->find("source"); source != spec->end() && source->is_object()) {
        if (auto u = source->find("url"); u != source->end() && u->is_string()) url = &*u;
      }
    }
    if (url != nullptr && wanted.count(git::repository_identity(url->get<std::string>()))) {
      names.push_back(env["metadata"].value("name", ""));
    }
  }
  std::sort(names.begin(), names.end());
  if (!options_.leading()) {
    // Only the leader reconciles: annotate, as `kubectl annotate` would; the leader watches
    // Environments and fetches on a new value. The nanoseconds keep two pushes in one second
    // apart.
    const auto now = std::chrono::system_clock::now();
    const std::string value =
        rfc3339(now) + " webhook " + std::to_string(now.time_since_epoch().count() % 1000000000);
    for (const std::string& name : names) {
      std::optional<json> object =
          environments_->object({std::string(kGroupVersion), "Environment", "", name});
      const bool has_annotations = object && (*object)["metadata"].contains("annotations");
      // JSON patch: "add" needs the annotations map to exist, so a missing one is added whole.
      const json op =
          has_annotations
              ? json{{"op", "add"},
                     {"path", "/metadata/annotations/plumbline.dev~1reconcile-requested-at"},
                     {"value", value}}
              : json{{"op", "add"},
                     {"path", "/metadata/annotations"},
                     {"value", {{std::string(kReconcileRequestAnnotation), value}}}};
      Result<json> patched = api_.patch(*environments_resource_, "", name, json::array({op}),
                                        {.type = PatchType::kJson, .cancel = &cancel_});
      if (!patched.ok()) {
        log_.warn("webhook: could not ask the leader to fetch",
                  {{"environment", name}, {"error", patched.error().to_string()}});
      }
    }
    return names;
  }
  {
    std::lock_guard lock(mu_);
    fetch_requested_.insert(names.begin(), names.end());
  }
  for (const std::string& name : names) queue_.add(name);
  return names;
}

// Queues each environment whose namespaces hold one of `changes`. For workloads it also
// remembers which objects changed: that reconcile re-evaluates only these. (An environment not
// yet reconciled evaluates everything on its first pass anyway.)
void Controller::on_live_changes(const std::vector<LiveStore::Change>& changes, bool workloads) {
  if (!caches_synced_) return;
  std::vector<std::string> affected;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, state] : states_) {
      if (!state.spec) continue;
      const std::vector<std::string>& namespaces = state.spec->namespaces;
      bool any = false;
      for (const auto& change : changes) {
        if (std::find(namespaces.begin(), namespaces.end(), change.ref.ns) == namespaces.end()) {
          continue;
        }
        if (workloads) changed_[name].insert(change.ref);
        any = true;
      }
      if (any) affected.push_back(name);
    }
  }
  for (const std::string& name : affected) queue_.add(name);
}

// One of options_.workers threads. The queue never hands one environment to two of them.
void Controller::worker(WorkerSlot& slot) {
  while (std::optional<std::string> name = queue_.get()) {
    Clock::time_point start = Clock::now();
    {
      std::lock_guard lock(mu_);
      slot.environment = *name;
    }
    slot.busy_since = start.time_since_epoch().count();
    Status status;
    try {
      status = reconcile(*name);
    } catch (const std::exception& e) {
      // A bug must not end the worker (every Environment would stop): the environment fails
      // this round, is retried with backoff, and the log says what happened.
      status = Error(ErrorCode::kInternal, std::string("reconcile threw: ") + e.what(), *name);
    }
    slot.busy_since = 0;
    log_watch_health();
    if (hooks_.on_reconcile) hooks_.on_reconcile(*name, seconds_since(start), status.ok());
    if (status.ok()) {
      queue_.forget(*name);
    } else if (stopping_) {
      // Cut short by stop(): not a failure worth a retry or a log line.
    } else if (status.error().retryable() || status.error().code() == ErrorCode::kConflict) {
      log_.error("reconcile failed", {{"environment", *name},
                                      {"error", status.error().to_string()},
                                      {"retries", queue_.failures(*name)}});
      queue_.add_rate_limited(*name);
    } else {
      // Terminal (refused by RBAC, invalid, a bug): the same calls would fail the same way, so
      // no fast retry; the environment's next poll, or a change to it, tries again.
      log_.error("reconcile failed; retried at the next poll or change",
                 {{"environment", *name}, {"error", status.error().to_string()}});
      queue_.forget(*name);
    }
    {
      std::lock_guard lock(mu_);
      pending_first_.erase(*name);
    }
    queue_.done(*name);
  }
}

bool Controller::changed_since_failure(const std::string& name, const EnvState& state,
                                       const EnvironmentSpec& spec, long generation) {
  if (generation != state.failed_generation || spec.reconcile_requested != state.handled_request ||
      policy_changes_.load() != state.failed_policies || Clock::now() >= state.next_poll) {
    return true;
  }
  std::lock_guard lock(mu_);
  auto changed = changed_.find(name);
  return fetch_requested_.count(name) > 0 ||
         (changed != changed_.end() && !changed->second.empty());
}

// The policies from the cache; `fingerprint` names each one's resourceVersion, so an
// evaluation built with other policies is known to be stale.
std::vector<Policy> Controller::load_policies(std::string& errors, std::string& fingerprint) const {
  std::vector<Policy> policies;
  for (const json& object : policies_->objects()) {
    std::string name = object["metadata"].value("name", "");
    fingerprint += name + "@" + object["metadata"].value("resourceVersion", "") + ";";
    Result<Policy> policy = policy_from_json(object, {.file = "ConsistencyPolicy " + name});
    if (!policy.ok()) {
      errors += (errors.empty() ? "" : "; ") + policy.error().to_string();
      continue;
    }
    policies.push_back(std::move(*policy));
  }
  return policies;
}

// Retryable (unavailable, timeout) and conflicts back off in the work queue; any other error
// would fail the same way again, so it is shown where users look (Ready=False, reason
// ReconcileFailed, and a Warning Event on the Environment) and the environment waits for the
// next poll or a change instead of a retry loop.
Status Controller::reconcile(const std::string& name) {
  EnvState* state = nullptr;
  Status status = reconcile_once(name, state);
  if (status.ok() || state == nullptr || stopping_) return status;
  const Error& error = status.error();
  if (error.retryable() || error.code() == ErrorCode::kConflict ||
      error.code() == ErrorCode::kCancelled) {
    return status;
  }
  state->failure = error.to_string();
  state->failed_generation = state->observed_generation;
  state->failed_policies = policy_changes_.load();
  Status written = write_environment_status(name, *state, state->observed_generation, nullptr);
  if (!written.ok()) {
    log_.warn("cannot write the failed reconcile to the Environment's status",
              {{"environment", name}, {"error", written.error().to_string()}});
  }
  return status;
}

Status Controller::reconcile_once(const std::string& name, EnvState*& out) {
  // A standby replica writes nothing (and every write checks again: client_ is gated).
  if (!options_.leading()) return {};
  std::optional<json> object =
      environments_->object({std::string(kGroupVersion), "Environment", "", name});
  std::unique_lock lock(mu_);
  if (!object) {
    changed_.erase(name);
    declared_.erase(name);
    if (states_.erase(name) && hooks_.on_environment_removed) hooks_.on_environment_removed(name);
    return {};
  }
  EnvState& state = states_[name];
  lock.unlock();  // the worker is the only writer of this entry; others read spec under mu_
  out = &state;
  state.uid = (*object)["metadata"].value("uid", "");

  long generation = (*object)["metadata"].value("generation", 0L);
  state.observed_generation = generation;
  Result<EnvironmentSpec> spec = parse_environment(*object, options_.min_validation_interval);
  if (!spec.ok()) {
    state.error = spec.error().to_string();
    state.error_reason = "InvalidSpec";
    log_.error("invalid Environment", {{"environment", name}, {"error", state.error}});
    return write_environment_status(name, state, generation, nullptr);
  }
  if (!state.failure.empty() && !changed_since_failure(name, state, *spec, generation)) return {};
  state.failure.clear();  // this pass decides again
  {
    std::lock_guard guard(mu_);
    state.spec = *spec;
  }

  state.suspended = spec->suspend;
  if (spec->suspend) {
    log_.info("suspended", {{"environment", name}});
    return write_environment_status(name, state, generation, nullptr);
  }

  Clock::time_point now = Clock::now();
  bool spec_changed = state.synced_generation != spec->generation;
  // plumbline.dev/reconcile-requested-at with a new value: fetch now, whatever the interval.
  bool requested = spec->reconcile_requested != state.handled_request;
  {
    std::lock_guard guard(mu_);
    requested = fetch_requested_.erase(name) > 0 || requested;  // a webhook: fetch now
  }
  if (!state.desired || spec_changed || requested || now >= state.next_poll) {
    load_desired(*spec, state);
    state.handled_request = spec->reconcile_requested;
    state.next_poll = now + spec->interval;
    queue_.add_after(name, spec->interval);
  }
  // Loaded while the workload caches still LIST (start): evaluated once they have synced.
  if (!caches_synced_) return {};
  if (!state.error.empty()) {
    log_.warn("desired state not loaded; keeping the last good one",
              {{"environment", name},
               {"error", state.error},
               {"lastGoodRevision", state.source.revision}});
  }
  if (!state.desired) return write_environment_status(name, state, generation, nullptr);

  std::string policy_errors, fingerprint;
  // Git-bound policies first: an ignore or a finding is attributed to them before any other.
  std::vector<Policy> known = state.git_policies;
  if (!known.empty()) {
    fingerprint += "git:" + state.policy_source.revision + ":" + state.policy_source.path + ";";
  }
  for (Policy& p : load_policies(policy_errors, fingerprint)) known.push_back(std::move(p));
  std::vector<Policy> policies = policies_for(known, name, spec->labels);
  for (const Policy& p : policies) fingerprint += "+" + p.name;  // labels select policies too
  DriftReport report = evaluate(name, *spec, state, policies, fingerprint);
  // Rules on the environment as a whole read every rendered object (PDBs, NetworkPolicies).
  std::string environment_of = std::to_string(state.desired_version) + "|" + fingerprint;
  if (state.environment_violations_of != environment_of) {
    state.environment_violations = environment_violations(*state.desired, policies);
    state.environment_violations_of = std::move(environment_of);
  }
  report.violations.insert(report.violations.end(), state.environment_violations.begin(),
                           state.environment_violations.end());
  for (Violation& v : live_environment_rules(*spec, policies)) {
    report.violations.push_back(std::move(v));
  }
  report.policy_source = state.policy_source;
  Claims claims = claims_of(name, *spec, state);
  for (const auto& [ref, other] : claims.conflicts) {
    report.violations.push_back(
        {.object = ref,
         .rule = std::string(kEnvironmentConflictRule),
         .path = "",
         .message = "also declared by Environment \"" + other +
                    "\": two Environments cannot own one object, so neither corrects it",
         .state = StateSide::kDesired,
         .policy = "",
         .source = {}});
  }
  correct(*spec, state, report, policies, policy_errors, claims.held);
  if (hooks_.on_report) hooks_.on_report(name, report);

  PL_RETURN_IF_ERROR(write_report(*spec, state, report));
  raise_events(state, report);
  if (!policy_errors.empty()) {
    state.error = "invalid ConsistencyPolicy: " + policy_errors;
    state.error_reason = "InvalidPolicy";
  }
  PL_RETURN_IF_ERROR(write_environment_status(name, state, generation, &report));
  // Pull-request comments come after the drift is written: a forge neither delays nor fails
  // the reconcile; its outcome is the PullRequestComments condition (written if it changed).
  run_pull_request_round(name, *object, *spec, state, policies, requested);
  return write_environment_status(name, state, generation, &report);
}

}  // namespace plumbline
