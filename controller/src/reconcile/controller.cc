// The reconcile loop of `plumbline controller` (report mode).
#include "plumbline/controller.h"

#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

#include "plumbline/corrector.h"
#include "plumbline/render.h"
#include "plumbline/report.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kGroupVersion = "plumbline.dev/v1alpha1";

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string short_hash(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 6; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A condition as metav1.Condition; lastTransitionTime kept when the status did not change.
json condition(const json& previous, const std::string& type, bool status,
               const std::string& reason, const std::string& message, long generation) {
  std::string value = status ? "True" : "False";
  std::string since = utc_now();
  if (previous.is_object() && previous.contains("conditions")) {
    for (const json& c : previous["conditions"]) {
      if (c.value("type", "") == type && c.value("status", "") == value) {
        since = c.value("lastTransitionTime", since);
      }
    }
  }
  return {{"type", type},
          {"status", value},
          {"reason", reason},
          {"message", message},
          {"observedGeneration", generation},
          {"lastTransitionTime", since}};
}

// A status without its timestamps, to decide whether anything changed.
json without_times(json status) {
  if (!status.is_object()) return status;
  status.erase("lastSyncTime");
  status.erase("lastUpdateTime");
  if (status.contains("conditions")) {
    for (json& c : status["conditions"]) c.erase("lastTransitionTime");
  }
  return status;
}

}  // namespace

Controller::Controller(KubeClient& client, ControllerOptions options, Logger& log,
                       ControllerHooks hooks)
    : client_(client),
      options_(std::move(options)),
      log_(log),
      hooks_(std::move(hooks)),
      queue_(options_.queue) {}

Controller::~Controller() { stop(); }

Status Controller::start() {
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

  environments_ = std::make_unique<LiveCache>(
      client_, LiveCacheOptions{.kinds = {{std::string(kGroupVersion), "Environment"}},
                                .whole_objects = true});
  policies_ = std::make_unique<LiveCache>(
      client_, LiveCacheOptions{.kinds = {{std::string(kGroupVersion), "ConsistencyPolicy"}},
                                .whole_objects = true});
  // Workloads in all namespaces, projected to every category (policies choose the scope).
  workloads_ = std::make_unique<LiveCache>(client_, LiveCacheOptions{.scope = all_categories()});

  // Nothing is reconciled before every cache has synced: a half-listed cluster would show
  // declared objects as missing.
  PL_RETURN_IF_ERROR(environments_->start([this](const std::vector<LiveStore::Change>& changes) {
    if (!caches_synced_) return;
    for (const auto& change : changes) queue_.add(change.ref.name);
  }));
  PL_RETURN_IF_ERROR(policies_->start([this](const std::vector<LiveStore::Change>&) {
    enqueue_all();  // a policy may apply to any environment
  }));
  PL_RETURN_IF_ERROR(workloads_->start(
      [this](const std::vector<LiveStore::Change>& changes) { on_workload_changes(changes); }));

  threads_.emplace_back([this] {
    // Ready once the caches are synced and each environment present then is reconciled.
    for (LiveCache* cache : {environments_.get(), policies_.get(), workloads_.get()}) {
      while (!stopping_ && !cache->wait_synced(std::chrono::milliseconds(200))) {
      }
    }
    if (stopping_) return;
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
  threads_.emplace_back([this] { worker(); });
  return {};
}

void Controller::stop() {
  if (stopping_.exchange(true)) return;
  cancel_.cancel();  // a reconcile in flight ends at its next API call or fetch progress
  queue_.shut_down();
  for (LiveCache* cache : {environments_.get(), policies_.get(), workloads_.get()}) {
    if (cache != nullptr) cache->stop();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
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

// Remembers which objects changed for each environment whose namespaces hold them, then queues
// those environments; their reconcile re-evaluates only these objects. (An environment not yet
// reconciled evaluates everything on its first pass anyway.)
void Controller::on_workload_changes(const std::vector<LiveStore::Change>& changes) {
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
        changed_[name].insert(change.ref);
        any = true;
      }
      if (any) affected.push_back(name);
    }
  }
  for (const std::string& name : affected) queue_.add(name);
}

void Controller::worker() {
  while (std::optional<std::string> name = queue_.get()) {
    Clock::time_point start = Clock::now();
    Status status = reconcile(*name);
    if (hooks_.on_reconcile) hooks_.on_reconcile(*name, seconds_since(start), status.ok());
    if (status.ok()) {
      queue_.forget(*name);
    } else if (stopping_) {
      // Cut short by stop(): not a failure worth a retry or a log line.
    } else {
      log_.error("reconcile failed", {{"environment", *name},
                                      {"error", status.error().to_string()},
                                      {"retries", queue_.failures(*name)}});
      queue_.add_rate_limited(*name);
    }
    {
      std::lock_guard lock(mu_);
      pending_first_.erase(*name);
    }
    queue_.done(*name);
  }
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

// The credentials of the Secret spec.source.secretRef names (read at every fetch, so a rotated
// Secret is used at the next poll), else the controller's own.
Result<GitAuth> Controller::git_auth_for(const EnvironmentSpec& spec) {
  if (spec.source.secret_name.empty()) return options_.git_auth;
  Result<std::string> body =
      client_.get(*secrets_resource_, options_.report_namespace, spec.source.secret_name, &cancel_);
  if (!body.ok()) {
    return std::move(body).error().context("reading the Git credentials of spec.source.secretRef");
  }
  json secret = json::parse(*body, nullptr, false);
  if (!secret.is_object()) {
    return Error(ErrorCode::kInvalidInput, "the apiserver returned a Secret that is not JSON",
                 "Secret " + options_.report_namespace + "/" + spec.source.secret_name);
  }
  return git_auth_from_secret(secret, options_.git_auth);
}

// Fetch and render; on failure the last good desired state stays.
void Controller::load_desired(const EnvironmentSpec& spec, EnvState& state) {
  Clock::time_point start = Clock::now();
  Result<GitAuth> auth = git_auth_for(spec);
  if (!auth.ok()) {
    state.error = auth.error().to_string();
    return;
  }
  GitSourceOptions git{.repo = spec.source.url,
                       .ref = spec.source.ref,
                       .cache_dir = options_.git_cache_dir,
                       .auth = std::move(*auth),
                       .timeout = options_.git_timeout,
                       .cancelled = [this] { return cancel_.cancelled(); }};
  Result<GitSnapshot> snapshot = open_git_snapshot(git);
  if (hooks_.on_git_fetch) hooks_.on_git_fetch(spec.name, seconds_since(start), snapshot.ok());
  if (!snapshot.ok()) {
    // Git errors usually name the URL already.
    state.error = snapshot.error().where() == spec.source.url
                      ? "fetching " + snapshot.error().to_string()
                      : "fetching " + spec.source.url + ": " + snapshot.error().to_string();
    return;
  }
  if (state.desired && snapshot->revision == state.source.revision &&
      state.synced_generation == spec.generation) {
    state.error.clear();
    return;  // same commit, same spec: nothing to render
  }
  auto mode = parse_render_mode(spec.render);
  Result<ManifestSet> rendered =
      render(*snapshot->tree, spec.source.path, {.mode = mode.value_or(RenderMode::kAuto)});
  if (!rendered.ok()) {
    state.error = "rendering " + spec.source.path + " at " + snapshot->revision.substr(0, 12) +
                  ": " + rendered.error().to_string();
    return;
  }
  // Objects without a namespace land in the environment's first namespace.
  for (Manifest& m : *rendered) {
    json& metadata = m.object["metadata"];
    if (!metadata.contains("namespace") && m.object.value("kind", "") != "Namespace") {
      metadata["namespace"] = spec.namespaces.front();
    }
  }
  bool new_revision = snapshot->revision != state.source.revision;
  state.desired = std::move(*rendered);
  ++state.desired_version;
  state.source = {.repo = spec.source.url,
                  .ref = spec.source.ref.empty() ? snapshot->ref : spec.source.ref,
                  .revision = snapshot->revision,
                  .path = spec.source.path};
  state.synced_generation = spec.generation;
  state.error.clear();
  if (new_revision) state.last_sync_time = utc_now();
  log_.info("desired state loaded", {{"environment", spec.name},
                                     {"revision", snapshot->revision},
                                     {"objects", state.desired->size()}});
}

Status Controller::reconcile(const std::string& name) {
  if (!options_.leading()) return {};  // a standby replica writes nothing
  std::optional<json> object =
      environments_->object({std::string(kGroupVersion), "Environment", "", name});
  std::unique_lock lock(mu_);
  if (!object) {
    changed_.erase(name);
    if (states_.erase(name) && hooks_.on_environment_removed) hooks_.on_environment_removed(name);
    return {};
  }
  EnvState& state = states_[name];
  lock.unlock();  // the worker is the only writer of this entry; others read spec under mu_

  long generation = (*object)["metadata"].value("generation", 0L);
  Result<EnvironmentSpec> spec = parse_environment(*object);
  if (!spec.ok()) {
    state.error = spec.error().to_string();
    log_.error("invalid Environment", {{"environment", name}, {"error", state.error}});
    return write_environment_status(name, state, generation, nullptr);
  }
  {
    std::lock_guard guard(mu_);
    state.spec = *spec;
  }

  Clock::time_point now = Clock::now();
  bool spec_changed = state.synced_generation != spec->generation;
  if (!state.desired || spec_changed || now >= state.next_poll) {
    load_desired(*spec, state);
    state.next_poll = now + spec->interval;
    queue_.add_after(name, spec->interval);
  }
  if (!state.error.empty()) {
    log_.warn("desired state not loaded; keeping the last good one",
              {{"environment", name},
               {"error", state.error},
               {"lastGoodRevision", state.source.revision}});
  }
  if (!state.desired) return write_environment_status(name, state, generation, nullptr);

  std::string policy_errors, fingerprint;
  std::vector<Policy> policies = policies_for(load_policies(policy_errors, fingerprint), name);
  DriftReport report = evaluate(name, *spec, state, policies, fingerprint);
  correct(*spec, state, report, state.evaluation->desired(), policies, policy_errors);
  if (hooks_.on_report) hooks_.on_report(name, report);

  PL_RETURN_IF_ERROR(write_report(*spec, state, report));
  raise_events(state, report);
  if (!policy_errors.empty()) {
    state.error = "invalid ConsistencyPolicy: " + policy_errors;
  }
  return write_environment_status(name, state, generation, &report);
}

// The report of the environment's current state. A new render or other policies evaluate
// every object; otherwise only the live objects the watch reported changed since the last
// pass are diffed again.
DriftReport Controller::evaluate(const std::string& name, const EnvironmentSpec& spec,
                                 EnvState& state, const std::vector<Policy>& policies,
                                 const std::string& fingerprint) {
  // Taken before the cache is read: a change landing after this is evaluated next pass.
  std::set<ObjectRef> changed;
  {
    std::lock_guard lock(mu_);
    auto it = changed_.find(name);
    if (it != changed_.end()) {
      changed = std::move(it->second);
      changed_.erase(it);
    }
  }
  bool full = !state.evaluation || state.evaluated_version != state.desired_version ||
              state.evaluated_policies != fingerprint;
  if (full) {
    // Desired objects of kinds the workload cache does not watch are not compared (like a
    // snapshot file that lacks them).
    std::set<std::string> watched;
    for (const WatchedKind& k : workload_kinds()) watched.insert(k.kind);
    ManifestSet covered;
    for (const Manifest& m : *state.desired) {
      if (watched.count(m.object.value("kind", ""))) covered.push_back(m);
    }
    DiffOptions options = diff_options_for(policies, name);
    options.environment = name;
    std::vector<json> live;
    for (const std::string& ns : spec.namespaces) {
      for (json& o : workloads_->objects(ns)) live.push_back(std::move(o));
    }
    state.evaluation.emplace(std::move(covered), policies, std::move(options));
    state.evaluation->set_live(live);
    state.evaluated_version = state.desired_version;
    state.evaluated_policies = fingerprint;
    if (hooks_.on_evaluated) hooks_.on_evaluated(name, "full", live.size());
    log_.debug("evaluated", {{"environment", name},
                             {"pass", "full"},
                             {"objects", live.size()},
                             {"revision", state.source.revision}});
  } else if (!changed.empty()) {
    for (const ObjectRef& ref : changed) {
      std::optional<json> live = workloads_->object(ref);
      state.evaluation->update_live(ref, live ? &*live : nullptr);
    }
    if (hooks_.on_evaluated) hooks_.on_evaluated(name, "incremental", changed.size());
    log_.debug("evaluated", {{"environment", name},
                             {"pass", "incremental"},
                             {"objects", changed.size()},
                             {"revision", state.source.revision}});
  }
  DriftReport report = state.evaluation->report();
  report.environment = name;
  report.source = state.source;
  return report;
}

// Enforce mode: server-side apply of the drifted fields only, object by object, within the
// environment's budget; a field another manager keeps changing back is contested after
// maxRounds corrections and left alone. Never on a desired state that failed to load.
void Controller::correct(const EnvironmentSpec& spec, EnvState& state, DriftReport& report,
                         const ManifestSet& desired, const std::vector<Policy>& policies,
                         const std::string& policy_errors) {
  if (spec.mode != EnvironmentMode::kEnforce) return;
  bool narrowed = std::any_of(policies.begin(), policies.end(),
                              [](const Policy& p) { return p.action == PolicyAction::kReport; });
  if (narrowed || !state.error.empty() || !policy_errors.empty()) {
    return;
  }
  const Clock::time_point now = Clock::now();
  while (!state.corrections.empty() && now - state.corrections.front() > std::chrono::minutes(1)) {
    state.corrections.pop_front();
  }
  // The cached resourceVersion of each drifted object, read once.
  std::map<ObjectRef, std::string> versions;
  auto version_of = [&](const ObjectRef& ref) -> const std::string& {
    auto [it, inserted] = versions.try_emplace(ref);
    if (inserted) {
      if (std::optional<json> live = workloads_->object(ref)) {
        it->second = (*live)["metadata"].value("resourceVersion", "");
      }
    }
    return it->second;
  };
  std::map<ObjectRef, std::vector<Drift*>> by_object;
  for (Drift& d : report.drifts) {
    if (d.action != Action::kReport || !correctable(d)) continue;
    std::string key = d.object.to_string() + "|" + d.path;
    EnvState::Contest& contest = state.contests[key];
    if (now - contest.last > std::chrono::minutes(10)) contest.rounds = 0;  // a new episode
    if (!contest.corrected_version.empty() && contest.corrected_version == version_of(d.object)) {
      d.action = Action::kCorrected;  // already set back; the watch has not caught up yet
      continue;
    }
    if (contest.rounds >= spec.correction.max_rounds && d.live_manager != "plumbline") {
      d.action = Action::kContested;
      d.contested_by = d.live_manager;
      if (hooks_.on_correction) hooks_.on_correction(spec.name, "contested");
      continue;
    }
    by_object[d.object].push_back(&d);
  }
  for (auto& [ref, drifts] : by_object) {
    auto manifest = std::find_if(desired.begin(), desired.end(),
                                 [&](const Manifest& m) { return m.ref() == ref; });
    if (manifest == desired.end()) continue;
    if (static_cast<int>(state.corrections.size()) >= spec.correction.max_per_minute) {
      log_.warn("correction budget exhausted", {{"environment", spec.name},
                                                {"object", ref.to_string()},
                                                {"maxPerMinute", spec.correction.max_per_minute}});
      break;  // the rest stay "report" until the budget refills
    }
    std::vector<Drift> fields;
    for (const Drift* d : drifts) fields.push_back(*d);
    auto apply = [&]() -> Result<json> {
      PL_ASSIGN_OR_RETURN(json body, correction_patch(*manifest, fields));
      PL_ASSIGN_OR_RETURN(ApiResource resource, client_.resource_for(ref.api_version, ref.kind));
      return client_.apply(resource, body,
                           {.force = true, .dry_run = options_.dry_run, .cancel = &cancel_});
    };
    Result<json> applied = apply();
    std::string_view result = !applied.ok()      ? "failed"
                              : options_.dry_run ? "would-correct"
                                                 : "corrected";
    if (hooks_.on_correction) hooks_.on_correction(spec.name, result);
    for (Drift* d : drifts) {
      if (!applied.ok()) {
        d->action = Action::kFailed;
        d->failure = applied.error().to_string();
      } else if (options_.dry_run) {
        d->action = Action::kWouldCorrect;
      } else {
        d->action = Action::kCorrected;
        EnvState::Contest& contest = state.contests[ref.to_string() + "|" + d->path];
        ++contest.rounds;
        contest.last = now;
        contest.corrected_version = version_of(ref);
      }
    }
    if (applied.ok() && !options_.dry_run) state.corrections.push_back(now);
    log_.info(
        applied.ok() ? (options_.dry_run ? "would correct" : "corrected") : "correction failed",
        {{"environment", spec.name},
         {"object", ref.to_string()},
         {"fields", fields.size()},
         {"error", applied.ok() ? "" : applied.error().to_string()}});
  }
}

Status Controller::write_report(const EnvironmentSpec& spec, EnvState& state,
                                const DriftReport& report) {
  std::string bounded =
      format_report(report, ReportFormat::kJson, {.max_bytes = options_.report_max_bytes});
  json status = json::parse(bounded, nullptr, false);
  if (!status.is_object()) return Error(ErrorCode::kInternal, "report JSON did not parse");
  status.erase("apiVersion");
  status.erase("kind");
  json conditions = json::array();
  conditions.push_back(condition(state.report_status, "Stale", !state.error.empty(),
                                 state.error.empty() ? "UpToDate" : "DesiredStateNotLoaded",
                                 state.error, spec.generation));
  status["conditions"] = conditions;
  if (state.report_exists && without_times(status) == without_times(state.report_status)) {
    return {};  // nothing changed: no write
  }
  status["lastUpdateTime"] = utc_now();
  json object = {{"apiVersion", kGroupVersion},
                 {"kind", "DriftReport"},
                 {"metadata",
                  {{"name", spec.name},
                   {"namespace", options_.report_namespace},
                   {"labels", {{"plumbline.dev/environment", spec.name}}}}}};
  if (!state.report_exists) {
    json with_spec = object;
    with_spec["spec"] = {{"environment", spec.name}};
    Result<json> created =
        client_.apply(*reports_resource_, with_spec, {.force = true, .cancel = &cancel_});
    if (!created.ok())
      return std::move(created).error().context("writing DriftReport " + spec.name);
    state.report_exists = true;
  }
  object["status"] = status;
  Result<json> written = client_.apply(
      *reports_resource_, object, {.force = true, .subresource = "status", .cancel = &cancel_});
  if (!written.ok()) return std::move(written).error().context("writing DriftReport " + spec.name);
  state.report_status = status;
  log_.info("DriftReport updated", {{"environment", spec.name},
                                    {"revision", report.source.revision},
                                    {"drifts", report.drifts.size()},
                                    {"violations", report.violations.size()}});
  return {};
}

// One Event per new finding, named from its content so a restart does not repeat it
// (a create of an existing name is a 409, taken as "already raised").
void Controller::raise_events(EnvState& state, const DriftReport& report) {
  std::set<std::string> current;
  auto raise = [&](const ObjectRef& ref, const std::string& key, const std::string& reason,
                   const std::string& message) {
    current.insert(key);
    if (state.announced.count(key) || ref.ns.empty()) return;
    json event = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", ref.name + "." + short_hash(key)}, {"namespace", ref.ns}}},
                  {"involvedObject",
                   {{"apiVersion", ref.api_version},
                    {"kind", ref.kind},
                    {"name", ref.name},
                    {"namespace", ref.ns}}},
                  {"reason", reason},
                  {"message", message.substr(0, 1000)},
                  {"type", "Warning"},
                  {"firstTimestamp", utc_now()},
                  {"lastTimestamp", utc_now()},
                  {"count", 1},
                  {"source", {{"component", "plumbline"}}},
                  {"reportingComponent", "plumbline.dev/controller"},
                  {"reportingInstance", "plumbline"}};
    Result<json> created = client_.create(*events_resource_, ref.ns, event, &cancel_);
    if (!created.ok() && created.error().code() != ErrorCode::kConflict) {
      log_.warn("cannot raise Event",
                {{"object", ref.to_string()}, {"error", created.error().to_string()}});
      current.erase(key);  // try again next time
    }
  };
  for (const Drift& d : report.drifts) {
    if (d.action == Action::kIgnored) continue;
    std::string reason = d.action == Action::kCorrected   ? "DriftCorrected"
                         : d.action == Action::kContested ? "DriftContested"
                                                          : "DriftDetected";
    // One Event per occurrence: a drift made again later (another write, another time) is
    // a new Event; the same one seen by another replica or after a restart is not.
    std::string key = reason + "|" + d.object.to_string() + "|" + d.path + "|" + d.live.dump() +
                      "|" + d.live_manager + "|" + d.live_changed_at;
    std::string message =
        d.path.empty() ? std::string(to_string(d.type)) + " (in Git, not live)"
                       : d.path + ": " + d.desired.dump() + " in Git, " + d.live.dump() + " live";
    if (!d.live_manager.empty()) message += " (set by " + d.live_manager + ")";
    if (d.action == Action::kCorrected) message += "; set back to the value in Git";
    if (d.action == Action::kContested) {
      message +=
          "; " + d.contested_by + " keeps changing it back, so plumbline stopped correcting it";
    }
    raise(d.object, key, reason, message);
  }
  for (const Violation& v : report.violations) {
    std::string key = "violation|" + v.object.to_string() + "|" + v.rule + "|" + v.message;
    raise(v.object, key, "PolicyViolation", v.rule + ": " + v.message);
  }
  state.announced = std::move(current);
}

Status Controller::write_environment_status(const std::string& name, EnvState& state,
                                            long generation, const DriftReport* report) {
  const json& previous = state.environment_status;
  bool loaded = state.desired.has_value();
  bool failing = !state.error.empty();
  json status = {{"observedGeneration", generation}};
  if (loaded) status["revision"] = state.source.revision;
  if (!state.last_sync_time.empty()) status["lastSyncTime"] = state.last_sync_time;
  if (report != nullptr) {
    std::set<ObjectRef> drifted;
    size_t drifts = 0;
    for (const Drift& d : report->drifts) {
      if (d.action == Action::kIgnored) continue;
      ++drifts;
      drifted.insert(d.object);
    }
    status["summary"] = {{"objects", report->objects},
                         {"drifted", drifted.size()},
                         {"drifts", drifts},
                         {"violations", report->violations.size()}};
  }
  json conditions = json::array();
  conditions.push_back(condition(previous, "Ready", loaded && !failing,
                                 loaded && !failing ? "Reconciled"
                                 : loaded           ? "Stale"
                                                    : "DesiredStateNotLoaded",
                                 failing ? state.error : "", generation));
  conditions.push_back(condition(
      previous, "Stale", loaded && failing, loaded && failing ? "LastGoodRevision" : "UpToDate",
      loaded && failing
          ? "reporting against " + state.source.revision.substr(0, 12) + " until the error is fixed"
          : "",
      generation));
  conditions.push_back(condition(previous, "Degraded", failing, failing ? "Error" : "AsExpected",
                                 state.error, generation));
  status["conditions"] = conditions;
  if (without_times(status) == without_times(previous) && previous.is_object()) return {};
  json object = {{"apiVersion", kGroupVersion},
                 {"kind", "Environment"},
                 {"metadata", {{"name", name}}},
                 {"status", status}};
  Result<json> written =
      client_.apply(*environments_resource_, object,
                    {.force = true, .subresource = "status", .cancel = &cancel_});
  if (!written.ok()) return std::move(written).error().context("writing Environment " + name);
  state.environment_status = status;
  return {};
}

}  // namespace plumbline
