// Enforce mode in the Controller: which objects may be corrected (claims of other
// Environments), the plan (correct/correction_plan.cc), and sending it. Never on a desired
// state that failed to load, with invalid policies, or when a policy narrows to report.
#include <algorithm>

#include "plumbline/reconcile/controller.h"

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
// conflict: neither corrects it) or has no desired state yet (it might: wait for it). Other
// environments may be loading on other workers at this moment: their objects are read from
// declared_, under mu_.
Controller::Claims Controller::claims_of(const std::string& name, const EnvironmentSpec& spec,
                                         const EnvState& state) const {
  Claims claims;
  if (!state.desired) return claims;
  std::set<ObjectRef> mine;
  for (const CompactManifest& m : *state.desired) {
    mine.insert(m.ref());
    if (!enforce_allowed_in(m.ref().ns)) claims.held.insert(m.ref());
  }
  std::lock_guard lock(mu_);  // declared_ is written by the workers of other environments
  for (const json& object : environments_->objects()) {
    std::string other = object["metadata"].value("name", "");
    if (other == name) continue;
    Result<EnvironmentSpec> other_spec =
        parse_environment(object, options_.min_validation_interval);
    if (!other_spec.ok() || !shares_namespace(spec.namespaces, other_spec->namespaces)) continue;
    auto it = declared_.find(other);
    if (it == declared_.end()) {
      for (const ObjectRef& ref : mine) {
        if (std::find(other_spec->namespaces.begin(), other_spec->namespaces.end(), ref.ns) !=
            other_spec->namespaces.end()) {
          claims.held.insert(ref);
        }
      }
      continue;
    }
    for (const ObjectRef& ref : it->second) {
      if (mine.count(ref) && !claims.conflicts.count(ref)) {
        claims.conflicts[ref] = other;
        claims.held.insert(ref);
      }
    }
  }
  return claims;
}

bool Controller::is_system_namespace(const std::string& ns) const {
  static constexpr std::string_view kSystem[] = {"kube-system", "kube-public", "kube-node-lease"};
  return ns == options_.report_namespace ||
         std::find(std::begin(kSystem), std::end(kSystem), ns) != std::end(kSystem);
}

// The installer's bounds on where enforce mode writes (ControllerOptions).
bool Controller::enforce_allowed_in(const std::string& ns) const {
  if (!options_.enforce_allowed) return false;
  if (is_system_namespace(ns) && !options_.allow_system_namespaces) return false;
  const std::vector<std::string>& allowed = options_.enforce_namespaces;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), ns) != allowed.end();
}

// Who enforce mode writes as: the ServiceAccount the Environment names, in the controller's
// namespace, when it consents (lists the Environment), or the installer's default.
std::optional<std::string> Controller::writer_for(const EnvironmentSpec& spec, EnvState& state) {
  const std::string& name =
      spec.service_account.empty() ? options_.default_service_account : spec.service_account;
  std::string user = service_account_user(options_.report_namespace, name);
  if (name == options_.default_service_account) return user;  // the installer's choice
  const std::string where = "ServiceAccount " + options_.report_namespace + "/" + name;
  Result<std::string> body =
      client_.get(*service_accounts_resource_, options_.report_namespace, name, &cancel_);
  if (!body.ok() && body.error().code() != ErrorCode::kNotFound) {
    log_.warn("cannot read the ServiceAccount enforce mode writes as; nothing corrected now",
              {{"environment", spec.name}, {"error", body.error().to_string()}});
    return std::nullopt;
  }
  if (!body.ok() || !allows_environment(json::parse(*body, nullptr, false), spec.name)) {
    state.refusal_reason = "ServiceAccountRefused";
    state.refusal = where + " (spec.serviceAccountName) " +
                    (body.ok() ? "does not list Environment " + spec.name + " in its " +
                                     std::string(kAllowedEnvironmentsAnnotation) + " annotation"
                               : std::string("does not exist")) +
                    ": enforce mode does not write as it; drift is reported, not corrected";
    return std::nullopt;
  }
  return user;
}

void Controller::correct(const EnvironmentSpec& spec, EnvState& state, DriftReport& report,
                         const std::vector<Policy>& policies, const std::string& policy_errors,
                         const std::set<ObjectRef>& held) {
  state.refusal_reason.clear();
  state.refusal.clear();
  if (spec.mode != EnvironmentMode::kEnforce || !options_.enforce_allowed) {
    state.forbidden.clear();
    return;
  }
  // Refusals visible on the Environment (DESIGN.md "Tenancy"): nothing to write as, and
  // namespaces beyond the installer's bounds (their objects are held, the others corrected).
  if (spec.service_account.empty() && options_.default_service_account.empty()) {
    state.refusal_reason = "ServiceAccountRequired";
    state.refusal =
        "enforce mode writes to workloads only as a ServiceAccount: set spec.serviceAccountName "
        "(the installer set no --default-service-account); drift is reported, not corrected";
    state.forbidden.clear();
    return;
  }
  for (const std::string& ns : spec.namespaces) {
    if (enforce_allowed_in(ns)) continue;
    state.refusal_reason = "NamespaceRefused";
    state.refusal = "namespace " + ns + ": " +
                    (is_system_namespace(ns)
                         ? "a system namespace, never corrected unless the installer allows it "
                           "(--allow-system-namespaces)"
                         : "outside the namespaces the installer lets plumbline correct "
                           "(--enforce-namespaces)") +
                    "; its drift is reported, not corrected";
    break;
  }
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
      .evaluated_version =
          [&state](const ObjectRef& ref) {
            auto it = state.evaluated_versions.find(ref);
            return it == state.evaluated_versions.end() ? std::string() : it->second;
          },
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
  if (!plan.requests.empty()) {
    std::optional<std::string> writer = writer_for(spec, state);
    if (!writer) return;  // refused (state.refusal says why): not one write
    for (const PlannedCorrection& planned : plan.requests) {
      if (stopping_) return;
      if (!send_correction(spec, state, report, planned, *writer)) return;  // leadership lost
    }
  }
  // The apiserver refused the writer (its RBAC): Forbidden while such a correction still fails.
  for (auto it = state.forbidden.begin(); it != state.forbidden.end();) {
    bool failing = std::any_of(report.drifts.begin(), report.drifts.end(), [&](const Drift& d) {
      return d.object == it->first && d.action == Action::kFailed;
    });
    it = failing ? std::next(it) : state.forbidden.erase(it);
  }
  if (!state.forbidden.empty() && state.refusal_reason.empty()) {
    state.refusal_reason = "Forbidden";
    state.refusal = state.forbidden.begin()->second;
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
                                 const PlannedCorrection& planned, const std::string& writer) {
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
                                                     .cancel = &cancel_,
                                                     .impersonate_user = writer}));
    if (planned.requests.removal.is_null()) return applied;
    step = "removal";
    passed.push_back(resource_version(applied));
    json removal = planned.requests.removal;
    if (!options_.dry_run) removal["metadata"]["resourceVersion"] = resource_version(applied);
    return client_.patch(resource, ref.ns, ref.name, removal,
                         {.type = PatchType::kStrategicMerge,
                          .field_manager = manager,
                          .dry_run = options_.dry_run,
                          .cancel = &cancel_,
                          .impersonate_user = writer});
  };
  Result<json> sent = send();
  CorrectionOutcome outcome = CorrectionOutcome::kApplied;
  std::string message;
  if (!sent.ok()) {
    if (sent.error().code() == ErrorCode::kCancelled) return !stopping_ && options_.leading();
    outcome = sent.error().code() == ErrorCode::kConflict ? CorrectionOutcome::kConflict
                                                          : CorrectionOutcome::kFailed;
    message = sent.error().to_string();
    if (sent.error().code() == ErrorCode::kPermissionDenied) {
      state.forbidden[ref] = "the API server refused the correction of " + ref.to_string() +
                             " as " + writer + ": " + message;
    }
  } else if (options_.dry_run) {
    outcome = CorrectionOutcome::kDryRun;
  } else if (resource_version(*sent) == planned.live_version) {
    // Accepted, yet nothing changed: the request cannot correct what was found.
    outcome = CorrectionOutcome::kFailed;
    message = "the API server accepted the correction of " + ref.to_string() +
              " but the object did not change";
  }
  if (sent.ok()) state.forbidden.erase(ref);
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
             {"as", writer},
             {"step", std::string(step)},
             {"error", message}});
  return true;
}

}  // namespace plumbline
