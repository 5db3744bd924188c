// plumbline/correct/correction_plan.h — what enforce mode corrects now, and what it remembers.
//
// Pure: the report, the desired state, a lookup of the cached live objects and the time are
// arguments; the Controller sends the planned requests and records each outcome. Rules
// (DESIGN.md "Enforcement"):
// - An object is corrected only when it has a finding to correct, and then with the whole
//   apply configuration (plumbline/correct/corrector.h), within the Environment's budget per
//   minute.
// - A field another manager changes back more than `max_rounds` times is contested: reported,
//   no longer sent (rounds start again after ten quiet minutes).
// - A correction the watch has not delivered yet (the cache still holds the version it was
//   made on) is not another round.
// - A refused correction is `failed` with the server's message and retried only when the
//   request or the live object changed, or after an exponential backoff (retry_base doubling,
//   capped at retry_max, the Environment's interval) — never in a tight loop.
// - Objects `held` (claimed by another Environment) are never corrected.
//
//   CorrectionPlan plan = plan_corrections(report, history, input);
//   for (const PlannedCorrection& p : plan.requests) {
//     record_correction(report, history, p, send(p), message, input.limits, now);
//   }
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/correct/corrector.h"

namespace plumbline {

using CorrectionClock = std::chrono::steady_clock;

struct CorrectionLimits {
  int max_per_minute = 10;  // corrected objects per minute
  int max_rounds = 3;
  std::chrono::milliseconds retry_base{5000};
  std::chrono::milliseconds retry_max{60000};
};

// What enforcement of one Environment remembers between reconciles.
struct CorrectionHistory {
  struct Rounds {
    int count = 0;
    CorrectionClock::time_point last{};
  };
  struct Refusal {
    std::string fingerprint;   // of the request and the desired state it came from
    std::string live_version;  // the live object's resourceVersion it was refused on
    std::string message;       // the server's answer
    int attempts = 0;
    CorrectionClock::time_point retry_at{};
  };
  std::map<std::string, Rounds> rounds;  // by "object|path"
  // The versions of an object the last correction was made on and went through (an apply
  // before its removal patch): while the cache shows one of them, the watch has not caught up.
  std::map<ObjectRef, std::set<std::string>> corrected_versions;
  std::map<ObjectRef, Refusal> refusals;
  std::deque<CorrectionClock::time_point> recent;  // corrections within the last minute

  // The earliest end of a refusal's backoff, if any.
  std::optional<CorrectionClock::time_point> next_retry() const;
};

struct PlannedCorrection {
  ObjectRef object;
  ObjectCorrection requests;
  std::vector<size_t> drifts;  // indexes into the report's drifts that these requests fix
  std::string fingerprint;
  std::string live_version;
};

struct CorrectionPlanInput {
  const CompactManifestSet& desired;  // materialized one object at a time
  std::function<std::optional<json>(const ObjectRef&)> live;
  CorrectionContext context;
  // Changes with a new render, other policies or a new Environment generation: a request
  // refused before is then tried again at once.
  std::string desired_fingerprint;
  // The resourceVersion the report's drifts of an object were found on (the evaluation's
  // view of it; "" or unset: the version `live` returns). When the cache has moved past it, a
  // watch event is on its way and the pass it queues decides: nothing is sent on the older
  // view (else a correction the cache already shows would be sent again).
  std::function<std::string(const ObjectRef&)> evaluated_version;
  std::set<ObjectRef> held;
  CorrectionLimits limits;
  CorrectionClock::time_point now;
};

struct CorrectionPlan {
  std::vector<PlannedCorrection> requests;
  size_t over_budget = 0;  // objects left for a later reconcile: the budget is spent
};

// Sets the actions the plan already knows (contested, failed while backing off, corrected
// while the watch catches up) and returns the requests to send.
CorrectionPlan plan_corrections(DriftReport& report, CorrectionHistory& history,
                                const CorrectionPlanInput& input);

enum class CorrectionOutcome {
  kApplied,   // corrected
  kDryRun,    // the server validated it and stored nothing: would-correct
  kFailed,    // refused or not answered: failed, backoff
  kConflict,  // the object changed under the request: stays report, the watch brings it
};

// `passed_versions`: versions the correction's own writes produced before its last one (the
// apply's, when a removal patch followed).
void record_correction(DriftReport& report, CorrectionHistory& history,
                       const PlannedCorrection& planned, CorrectionOutcome outcome,
                       std::string_view message, const CorrectionLimits& limits,
                       CorrectionClock::time_point now,
                       const std::vector<std::string>& passed_versions = {});

}  // namespace plumbline
