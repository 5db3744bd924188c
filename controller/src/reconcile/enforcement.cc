// Enforce mode in the Controller: which objects may be corrected (claims of other
// Environments), the plan (correct/correction_plan.cc), and sending it. Never on a desired
// state that failed to load, with invalid policies, or when a policy narrows to report.
#include <algorithm>

#include "plumbline/controller.h"

namespace plumbline {
namespace {

bool shares_namespace(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& ns) {
    return std::find(b.begin(), b.end(), ns) != b.end();
  });
}

// Backoff of refused corrections: from 5 s, doubling, capped at the Environment's interval.
CorrectionLimits limits_for(const EnvironmentSpec& spec) {
  return {.max_per_minute = spec.correction.max_per_minute,
          .max_rounds = spec.correction.max_rounds,
          .retry_base = std::min<std::chrono::milliseconds>(std::chrono::seconds(5), spec.interval),
          .retry_max = spec.interval};
}

}  // namespace

// Another Environment whose namespaces overlap this one's either declares an object too (a
// conflict: neither corrects it) or has no desired state yet (it might: wait for it). Only the
// worker writes states_, and this runs on the worker: reading other entries needs no lock.
Controller::Claims Controller::claims_of(const std::string& name, const EnvironmentSpec& spec,
                                         const EnvState& state) const {
  Claims claims;
  if (!state.desired) return claims;
  std::set<ObjectRef> mine;
  for (const Manifest& m : *state.desired) {
    mine.insert(m.ref());
    if (!enforce_allowed_in(m.ref().ns)) claims.held.insert(m.ref());
  }
  for (const json& object : environments_->objects()) {
    std::string other = object["metadata"].value("name", "");
    if (other == name) continue;
    Result<EnvironmentSpec> other_spec = parse_environment(object);
    if (!other_spec.ok() || !shares_namespace(spec.namespaces, other_spec->namespaces)) continue;
    auto it = states_.find(other);
    if (it == states_.end() || !it->second.desired) {
      for (const ObjectRef& ref : mine) {
        if (std::find(other_spec->namespaces.begin(), other_spec->namespaces.end(), ref.ns) !=
            other_spec->namespaces.end()) {
          claims.held.insert(ref);
        }
      }
      continue;
    }
    for (const Manifest& m : *it->second.desired) {
      ObjectRef ref = m.ref();
      if (mine.count(ref) && !claims.conflicts.count(ref)) {
        claims.conflicts[ref] = other;
        claims.held.insert(ref);
      }
    }
  }
  return claims;
}

// The installer's bounds on where enforce mode writes (ControllerOptions).
bool Controller::enforce_allowed_in(const std::string& ns) const {
  if (!options_.enforce_allowed) return false;
  static constexpr std::string_view kSystem[] = {"kube-system", "kube-public", "kube-node-lease"};
  bool system = ns == options_.report_namespace ||
                std::find(std::begin(kSystem), std::end(kSystem), ns) != std::end(kSystem);
  if (system && !options_.allow_system_namespaces) return false;
  const std::vector<std::string>& allowed = options_.enforce_namespaces;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), ns) != allowed.end();
}

void Controller::correct(const EnvironmentSpec& spec, EnvState& state, DriftReport& report,
                         const std::vector<Policy>& policies, const std::string& policy_errors,
                         const std::set<ObjectRef>& held) {
  if (spec.mode != EnvironmentMode::kEnforce) return;
  if (narrowed_to_report(policies) || !state.error.empty() || !policy_errors.empty() ||
      !state.evaluation)
    return;

  const std::string manager = field_manager_for(spec.name);
  CorrectionPlanInput input{
      .desired = state.evaluation->desired(),
      .live = [this](const ObjectRef& ref) { return workloads_->object(ref); },
      .context = {.options = state.evaluation->options(),
                  .policies = policies,
                  .field_manager = manager},
      .desired_fingerprint = state.source.revision + "|" + state.evaluated_policies + "|" +
                             std::to_string(spec.generation),
      .held = held,
      .limits = limits_for(spec),
      .now = CorrectionClock::now()};
  CorrectionPlan plan = plan_corrections(report, state.corrections, input);
  // contested: counted once per field and episode.
  std::set<std::string> contested;
  for (const Drift& d : report.drifts) {
    if (d.action != Action::kContested) continue;
    std::string key = d.object.to_string() + "|" + d.path;
    if (!state.contested.count(key) && hooks_.on_correction) {
      hooks_.on_correction(spec.name, "contested");
    }
    contested.insert(std::move(key));
  }
  state.contested = std::move(contested);
  if (plan.over_budget > 0) {
    log_.warn("correction budget exhausted", {{"environment", spec.name},
                                              {"objectsLeft", plan.over_budget},
                                              {"maxPerMinute", spec.correction.max_per_minute}});
    queue_.add_after(spec.name, std::chrono::seconds(10));  // the budget refills
  }
  for (const PlannedCorrection& planned : plan.requests) {
    if (stopping_) return;
    if (!send_correction(spec, state, report, planned)) return;  // leadership lost
  }
  if (std::optional<CorrectionClock::time_point> retry = state.corrections.next_retry()) {
    auto delay =
        std::chrono::duration_cast<std::chrono::milliseconds>(*retry - CorrectionClock::now());
    queue_.add_after(spec.name, std::max(delay, std::chrono::milliseconds(0)));
  }
}

// The apply configuration with force, then (if needed) the removal of out-of-band additions,
// guarded by the resourceVersion the apply produced so it removes from exactly that object.
// False when a write was refused because this replica no longer leads.
bool Controller::send_correction(const EnvironmentSpec& spec, EnvState& state, DriftReport& report,
                                 const PlannedCorrection& planned) {
  const std::string manager = field_manager_for(spec.name);
  const ObjectRef& ref = planned.object;
  std::string_view step = "apply";
  std::vector<std::string> passed;  // versions our own writes went through
  auto send = [&]() -> Result<json> {
    PL_ASSIGN_OR_RETURN(ApiResource resource, client_.resource_for(ref.api_version, ref.kind));
    PL_ASSIGN_OR_RETURN(json applied, client_.apply(resource, planned.requests.apply,
                                                    {.field_manager = manager,
                                                     .force = true,
                                                     .dry_run = options_.dry_run,
                                                     .cancel = &cancel_}));
    if (planned.requests.removal.is_null()) return applied;
    step = "removal";
    passed.push_back(resource_version(applied));
    json removal = planned.requests.removal;
    if (!options_.dry_run) removal["metadata"]["resourceVersion"] = resource_version(applied);
    return client_.patch(resource, ref.ns, ref.name, removal,
                         {.type = PatchType::kStrategicMerge,
                          .field_manager = manager,
                          .dry_run = options_.dry_run,
                          .cancel = &cancel_});
  };
  Result<json> sent = send();
  CorrectionOutcome outcome = CorrectionOutcome::kApplied;
  std::string message;
  if (!sent.ok()) {
    if (sent.error().code() == ErrorCode::kCancelled) return !stopping_ && options_.leading();
    outcome = sent.error().code() == ErrorCode::kConflict ? CorrectionOutcome::kConflict
                                                          : CorrectionOutcome::kFailed;
    message = sent.error().to_string();
  } else if (options_.dry_run) {
    outcome = CorrectionOutcome::kDryRun;
  } else if (resource_version(*sent) == planned.live_version) {
    // Accepted, yet nothing changed: the request cannot correct what was found.
    outcome = CorrectionOutcome::kFailed;
    message = "the API server accepted the correction of " + ref.to_string() +
              " but the object did not change";
  }
  record_correction(report, state.corrections, planned, outcome, message, limits_for(spec),
                    CorrectionClock::now(), passed);
  std::string_view result = outcome == CorrectionOutcome::kApplied  ? "corrected"
                            : outcome == CorrectionOutcome::kDryRun ? "would-correct"
                            : outcome == CorrectionOutcome::kFailed ? "failed"
                                                                    : "conflict";
  if (hooks_.on_correction) hooks_.on_correction(spec.name, result);
  size_t contested = std::count_if(report.drifts.begin(), report.drifts.end(), [&](const Drift& d) {
    return d.object == ref && d.action == Action::kContested;
  });
  log_.info(outcome == CorrectionOutcome::kApplied  ? "corrected"
            : outcome == CorrectionOutcome::kDryRun ? "would correct"
            : outcome == CorrectionOutcome::kFailed ? "correction failed"
                                                    : "object changed before the correction",
            {{"environment", spec.name},
             {"object", ref.to_string()},
             {"fields", planned.drifts.size()},
             {"contested", contested},
             {"fieldManager", manager},
             {"step", std::string(step)},
             {"error", message}});
  return true;
}

}  // namespace plumbline
