// The Controller's writers of what it found: the DriftReport status, the Environment status
// and Events — each written only when it changed.
#include <algorithm>
#include <chrono>

#include "plumbline/core/digest.h"
#include "plumbline/core/rfc3339.h"
#include "plumbline/core/utf8.h"
#include "plumbline/reconcile/controller.h"
#include "plumbline/report/report.h"

namespace plumbline {
namespace {

constexpr std::string_view kGroupVersion = "plumbline.dev/v1alpha1";

// metav1.Condition's message limit: a longer one makes the status write fail (422).
constexpr size_t kMaxConditionMessage = 32768;

std::string utc_now() { return rfc3339(std::chrono::system_clock::now()); }

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
          {"message", utf8_prefix(message, kMaxConditionMessage)},
          {"observedGeneration", generation},
          {"lastTransitionTime", since}};
}

// A status without its timestamps, to decide whether anything changed.
// A drift still standing: neither ignored nor set back.
bool open_drift(const Drift& d) {
  return d.action != Action::kIgnored && d.action != Action::kCorrected;
}

// Ready's reason once reconciled: what the last report says.
std::string ready_reason(const DriftReport* report) {
  if (report == nullptr) return "Reconciled";
  const auto& drifts = report->drifts;
  if (std::any_of(drifts.begin(), drifts.end(), open_drift)) return "DriftDetected";
  bool corrected = std::any_of(drifts.begin(), drifts.end(),
                               [](const Drift& d) { return d.action == Action::kCorrected; });
  return corrected ? "Corrected" : "Consistent";
}

std::string ready_message(const std::string& revision, const DriftReport* report) {
  std::string message = "reconciled at " + revision.substr(0, 12);
  if (report != nullptr) {
    size_t open = std::count_if(report->drifts.begin(), report->drifts.end(), open_drift);
    message += ": " + std::to_string(open) + " open drift(s), " +
               std::to_string(report->violations.size()) + " violation(s)";
    // Warnings (an unpinned remote base) do not make the Environment unready; the first is
    // named here, all of them in the DriftReport.
    if (!report->warnings.empty()) {
      message += ", " + std::to_string(report->warnings.size()) +
                 " warning(s): " + report->warnings.front();
    }
  }
  return message;
}

// The reasons that refuse what an Environment asks (DESIGN.md "Tenancy", "Signed commits"):
// each raises one Event. ReconcileFailed (a terminal error of the reconcile itself) raises one
// too.
constexpr std::string_view kRefusals[] = {
    "SourceRefused",         "CredentialsRefused",      "ServiceAccountRequired",
    "ServiceAccountRefused", "NamespaceRefused",        "Forbidden",
    "UnverifiedCommit",      "VerificationKeysRefused", "ReconcileFailed"};

bool is_refusal(std::string_view reason) {
  return std::find(std::begin(kRefusals), std::end(kRefusals), reason) != std::end(kRefusals);
}

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
    json event = {
        {"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata", {{"name", ref.name + "." + sha256_hex(key, 12)}, {"namespace", ref.ns}}},
        {"involvedObject",
         {{"apiVersion", ref.api_version},
          {"kind", ref.kind},
          {"name", ref.name},
          {"namespace", ref.ns}}},
        {"reason", reason},
        {"message", utf8_prefix(message, 1000)},
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
                         : d.action == Action::kFailed    ? "DriftCorrectionFailed"
                                                          : "DriftDetected";
    // One Event per occurrence: a drift made again later (another write, another time) is
    // a new Event; the same one seen by another replica or after a restart is not.
    std::string key = reason + "|" + d.object.to_string() + "|" + d.path + "|" +
                      to_json_text(d.live) + "|" + d.live_manager + "|" + d.live_changed_at + "|" +
                      d.failure;
    std::string message = d.path.empty() ? std::string(to_string(d.type)) + " (in Git, not live)"
                                         : d.path + ": " + to_json_text(d.desired) + " in Git, " +
                                               to_json_text(d.live) + " live";
    if (!d.live_manager.empty()) message += " (set by " + d.live_manager + ")";
    if (d.action == Action::kCorrected) message += "; set back to the value in Git";
    if (d.action == Action::kFailed) message += "; the correction failed: " + d.failure;
    if (d.action == Action::kContested) {
      message +=
          "; " + d.contested_by + " keeps changing it back, so plumbline stopped correcting it";
    }
    raise(d.object, key, reason, message);
  }
  for (const Violation& v : report.violations) {
    std::string key = "violation|" + v.object.to_string() + "|" + v.rule + "|" + v.message;
    raise(v.object, key,
          v.rule == kEnvironmentConflictRule ? "EnvironmentConflict" : "PolicyViolation",
          v.rule + ": " + v.message);
  }
  state.announced = std::move(current);
}

// One Warning Event on the (cluster-scoped) Environment, in "default" as Kubernetes keeps
// those, named from the refusal so a restart or another replica does not repeat it.
void Controller::announce_refusal(const std::string& name, EnvState& state,
                                  const std::string& reason, const std::string& message,
                                  std::string EnvState::*announced) {
  std::string key = reason + "|" + message;
  if (state.*announced == key) return;
  json involved = {{"apiVersion", kGroupVersion}, {"kind", "Environment"}, {"name", name}};
  if (!state.uid.empty()) involved["uid"] = state.uid;
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name + "." + sha256_hex(key, 12)}, {"namespace", "default"}}},
      {"involvedObject", involved},
      {"reason", reason},
      {"message", utf8_prefix(message, 1000)},
      {"type", "Warning"},
      {"firstTimestamp", utc_now()},
      {"lastTimestamp", utc_now()},
      {"count", 1},
      {"source", {{"component", "plumbline"}}},
      {"reportingComponent", "plumbline.dev/controller"},
      {"reportingInstance", "plumbline"}};
  Result<json> created = client_.create(*events_resource_, "default", event, &cancel_);
  if (!created.ok() && created.error().code() != ErrorCode::kConflict) {
    log_.warn("cannot raise Event",
              {{"environment", name}, {"error", created.error().to_string()}});
    return;  // again at the next status write
  }
  state.*announced = key;
}

Status Controller::write_environment_status(const std::string& name, EnvState& state,
                                            long generation, const DriftReport* report) {
  const json& previous = state.environment_status;
  bool loaded = state.desired.has_value();
  bool failing = !state.error.empty();  // below: or refused
  json status = {{"observedGeneration", generation}};
  if (loaded) status["revision"] = state.source.revision;
  if (!state.last_sync_time.empty()) status["lastSyncTime"] = state.last_sync_time;
  if (!state.last_validation_time.empty()) {
    status["lastValidationTime"] = state.last_validation_time;
  }
  if (!state.policy_source.path.empty()) {
    status["policies"] = {{"path", state.policy_source.path},
                          {"revision", state.policy_source.revision}};
  }
  if (report == nullptr && !state.failure.empty() && previous.is_object() &&
      previous.contains("summary")) {
    status["summary"] = previous["summary"];  // the last report's, until one is written again
  }
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
  if (!state.handled_request.empty()) status["lastHandledReconcileAt"] = state.handled_request;
  // kstatus (Ready, Reconciling, Stalled) for Flux health checks and `kubectl wait`; Stale and
  // Degraded stay for readers of earlier versions. A refusal of enforce mode (tenancy) is not
  // Ready either: what the Environment asks cannot happen until someone changes it.
  const bool broken = !failing && !state.failure.empty();
  const bool refused = !failing && !broken && !state.refusal_reason.empty();
  const std::string failure = failing   ? state.error_reason
                              : broken  ? "ReconcileFailed"
                              : refused ? state.refusal_reason
                                        : "";
  const std::string& why = failing ? state.error : broken ? state.failure : state.refusal;
  if (is_refusal(failure)) {
    announce_refusal(name, state, failure, why);
  } else {
    state.refusal_announced.clear();
  }
  failing = failing || broken || refused;
  json conditions = json::array();
  conditions.push_back(condition(previous, "Ready", loaded && !failing,
                                 failing   ? failure
                                 : !loaded ? "DesiredStateNotLoaded"
                                           : ready_reason(report),
                                 failing ? why : ready_message(state.source.revision, report),
                                 generation));
  conditions.push_back(condition(previous, "Reconciling", false,
                                 state.suspended ? "Suspended" : "Idle",
                                 state.suspended ? "spec.suspend is true: nothing is fetched, "
                                                   "reported or corrected"
                                                 : "",
                                 generation));
  conditions.push_back(
      condition(previous, "Stalled", failing, failing ? failure : "Progressing", why, generation));
  const bool stale = loaded && !state.error.empty();
  conditions.push_back(condition(
      previous, "Stale", stale, stale ? "LastGoodRevision" : "UpToDate",
      stale
          ? "reporting against " + state.source.revision.substr(0, 12) + " until the error is fixed"
          : "",
      generation));
  conditions.push_back(
      condition(previous, "Degraded", failing, failing ? failure : "AsExpected", why, generation));
  if (!state.pull_requests_reason.empty()) {
    // Comments on pull requests never make the Environment unready: drift is still reported.
    conditions.push_back(condition(previous, "PullRequestComments", state.pull_requests_ok,
                                   state.pull_requests_reason, state.pull_requests_message,
                                   generation));
    if (state.pull_requests_ok || state.pull_requests_reason == "DesiredStateNotLoaded") {
      state.pull_requests_announced.clear();
    } else {
      announce_refusal(name, state, state.pull_requests_reason, state.pull_requests_message,
                       &EnvState::pull_requests_announced);
    }
  }
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
