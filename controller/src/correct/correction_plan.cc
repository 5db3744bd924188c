// plan_corrections / record_correction: budget, rounds, backoff
// (plumbline/correct/correction_plan.h).
#include "plumbline/correct/correction_plan.h"

#include <algorithm>

#include "plumbline/core/digest.h"
#include "plumbline/core/utf8.h"

namespace plumbline {
namespace {

constexpr auto kQuietEpisode = std::chrono::minutes(10);  // rounds start again after this

std::string rounds_key(const Drift& d) { return d.object.to_string() + "|" + d.path; }

const CompactManifest* find_manifest(const CompactManifestSet& desired, const ObjectRef& ref) {
  for (const CompactManifest& m : desired) {
    if (m.ref() == ref) return &m;
  }
  return nullptr;
}

CorrectionClock::duration backoff(int attempts, const CorrectionLimits& limits) {
  CorrectionClock::duration delay = limits.retry_base;
  for (int i = 1; i < attempts && delay < limits.retry_max; ++i) delay *= 2;
  return std::min<CorrectionClock::duration>(delay, limits.retry_max);
}

}  // namespace

std::optional<CorrectionClock::time_point> CorrectionHistory::next_retry() const {
  std::optional<CorrectionClock::time_point> earliest;
  for (const auto& [ref, refusal] : refusals) {
    if (!earliest || refusal.retry_at < *earliest) earliest = refusal.retry_at;
  }
  return earliest;
}

CorrectionPlan plan_corrections(DriftReport& report, CorrectionHistory& history,
                                const CorrectionPlanInput& input) {
  const auto now = input.now;
  while (!history.recent.empty() && now - history.recent.front() > std::chrono::minutes(1)) {
    history.recent.pop_front();
  }
  // The drifts of each object, in report order.
  std::map<ObjectRef, std::vector<size_t>> by_object;
  for (size_t i = 0; i < report.drifts.size(); ++i) {
    by_object[report.drifts[i].object].push_back(i);
  }

  CorrectionPlan plan;
  for (auto& [ref, indexes] : by_object) {
    bool any = std::any_of(indexes.begin(), indexes.end(), [&](size_t i) {
      return report.drifts[i].action == Action::kReport && !report.drifts[i].path.empty();
    });
    if (!any || input.held.count(ref)) continue;
    const CompactManifest* manifest = find_manifest(input.desired, ref);
    std::optional<json> live = input.live(ref);
    if (manifest == nullptr || !live) continue;
    const std::string live_version = resource_version(*live);
    std::string seen = input.evaluated_version ? input.evaluated_version(ref) : std::string();
    if (seen.empty()) seen = live_version;

    // Corrected already: the drifts were found on, or the cache still shows, a version the
    // correction was made on or went through.
    auto corrected = history.corrected_versions.find(ref);
    if (corrected != history.corrected_versions.end() && !live_version.empty() &&
        (corrected->second.count(live_version) || corrected->second.count(seen))) {
      for (size_t i : indexes) {
        if (report.drifts[i].action == Action::kReport)
          report.drifts[i].action = Action::kCorrected;
      }
      continue;
    }
    // The drifts are of an older version than the cache's: its watch event has queued the
    // pass that evaluates the newer one. Until then a refused correction stays failed; it
    // is not a new drift (nor a new Event) because a pass ran between two versions.
    if (seen != live_version) {
      auto refused = history.refusals.find(ref);
      if (refused == history.refusals.end()) continue;
      for (size_t i : indexes) {
        Drift& d = report.drifts[i];
        if (d.action != Action::kReport || d.path.empty()) continue;
        d.action = Action::kFailed;
        d.failure = refused->second.message;
      }
      continue;
    }
    // Contested: another manager keeps changing it back.
    for (size_t i : indexes) {
      Drift& d = report.drifts[i];
      if (d.action != Action::kReport || d.path.empty()) continue;
      CorrectionHistory::Rounds& rounds = history.rounds[rounds_key(d)];
      if (now - rounds.last > kQuietEpisode) rounds.count = 0;
      if (rounds.count >= input.limits.max_rounds && !d.live_manager.empty() &&
          d.live_manager != input.context.field_manager) {
        d.action = Action::kContested;
        d.contested_by = d.live_manager;
      }
    }

    std::vector<Drift> drifts;
    drifts.reserve(indexes.size());
    for (size_t i : indexes) drifts.push_back(report.drifts[i]);
    Result<ObjectCorrection> planned =
        plan_object_correction(manifest->materialize(), *live, drifts, input.context);
    if (!planned.ok()) {
      for (size_t i : indexes) {
        if (report.drifts[i].action != Action::kReport) continue;
        report.drifts[i].action = Action::kFailed;
        report.drifts[i].failure = planned.error().to_string();
      }
      continue;
    }
    if (planned->fixes.empty()) continue;
    PlannedCorrection request{.object = ref,
                              .requests = std::move(*planned),
                              .drifts = {},
                              .fingerprint = {},
                              .live_version = live_version};
    for (size_t fix : request.requests.fixes) request.drifts.push_back(indexes[fix]);
    request.fingerprint =
        sha256_hex(input.desired_fingerprint + "\n" + to_json_text(request.requests.apply) + "\n" +
                   to_json_text(request.requests.removal));

    // Refused before: not again until something changed or the backoff ends.
    auto refused = history.refusals.find(ref);
    if (refused != history.refusals.end()) {
      const CorrectionHistory::Refusal& r = refused->second;
      if (r.fingerprint != request.fingerprint || r.live_version != live_version) {
        history.refusals.erase(refused);
      } else if (now < r.retry_at) {
        for (size_t i : request.drifts) {
          report.drifts[i].action = Action::kFailed;
          report.drifts[i].failure = r.message;
        }
        continue;
      }
    }
    if (static_cast<int>(history.recent.size() + plan.requests.size()) >=
        input.limits.max_per_minute) {
      ++plan.over_budget;
      continue;
    }
    plan.requests.push_back(std::move(request));
  }
  return plan;
}

void record_correction(DriftReport& report, CorrectionHistory& history,
                       const PlannedCorrection& planned, CorrectionOutcome outcome,
                       std::string_view message, const CorrectionLimits& limits,
                       CorrectionClock::time_point now,
                       const std::vector<std::string>& passed_versions) {
  switch (outcome) {
    case CorrectionOutcome::kApplied:
      for (size_t i : planned.drifts) {
        report.drifts[i].action = Action::kCorrected;
        CorrectionHistory::Rounds& rounds = history.rounds[rounds_key(report.drifts[i])];
        ++rounds.count;
        rounds.last = now;
      }
      history.corrected_versions[planned.object] = {planned.live_version};
      history.corrected_versions[planned.object].insert(passed_versions.begin(),
                                                        passed_versions.end());
      history.refusals.erase(planned.object);
      history.recent.push_back(now);
      return;
    case CorrectionOutcome::kDryRun:
      for (size_t i : planned.drifts) report.drifts[i].action = Action::kWouldCorrect;
      return;
    case CorrectionOutcome::kFailed: {
      CorrectionHistory::Refusal& r = history.refusals[planned.object];
      if (r.fingerprint != planned.fingerprint || r.live_version != planned.live_version) {
        r = {.fingerprint = planned.fingerprint, .live_version = planned.live_version};
      }
      ++r.attempts;
      r.message = std::string(message);
      r.retry_at = now + backoff(r.attempts, limits);
      for (size_t i : planned.drifts) {
        report.drifts[i].action = Action::kFailed;
        report.drifts[i].failure = r.message;
      }
      return;
    }
    case CorrectionOutcome::kConflict:
      return;
  }
}

}  // namespace plumbline
