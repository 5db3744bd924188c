// plan_corrections / record_correction: budget, contested rounds, the watch catching up,
// refused corrections backing off (never a fixed loop), held objects. The clock is an argument.
#include "plumbline/correct/correction_plan.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

using namespace std::chrono_literals;
using Clock = CorrectionClock;

const std::string kMemory = "spec.template.spec.containers[name=app].resources.limits.memory";

Manifest Deployment(const std::string& name) {
  Manifest m;
  m.object = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", "shop"}}},
              {"spec",
               {{"template",
                 {{"spec",
                   {{"containers",
                     {{{"name", "app"}, {"resources", {{"limits", {{"memory", "1Gi"}}}}}}}}}}}}}}};
  return m;
}

Drift MemoryDrift(const std::string& name, const std::string& manager = "kubectl-edit") {
  Drift d;
  d.object = {"apps/v1", "Deployment", "shop", name};
  d.path = kMemory;
  d.type = DriftType::kChanged;
  d.desired = "1Gi";
  d.live = "2Gi";
  d.live_manager = manager;
  return d;
}

struct Planner {
  CompactManifestSet desired = compact({Deployment("a"), Deployment("b")});
  std::map<ObjectRef, std::string> versions = {{{"apps/v1", "Deployment", "shop", "a"}, "10"},
                                               {{"apps/v1", "Deployment", "shop", "b"}, "20"}};
  DiffOptions options;
  std::vector<Policy> policies;
  CorrectionHistory history;
  CorrectionLimits limits{
      .max_per_minute = 10, .max_rounds = 2, .retry_base = 5s, .retry_max = 60s};
  // The version each object's drifts were found on; absent: the cache's (versions).
  std::map<ObjectRef, std::string> evaluated;
  std::string fingerprint = "rev1";
  std::set<ObjectRef> held;
  Clock::time_point start = Clock::time_point() + 1h;

  CorrectionPlan Plan(DriftReport& report, Clock::time_point now) {
    CorrectionPlanInput input{
        .desired = desired,
        .live = [this](const ObjectRef& ref) -> std::optional<json> {
          auto it = versions.find(ref);
          if (it == versions.end()) return std::nullopt;
          json live = Deployment(ref.name).object;
          live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] =
              "2Gi";
          live["metadata"]["resourceVersion"] = it->second;
          return live;
        },
        .context = {.options = options, .policies = policies, .field_manager = "plumbline/prod"},
        .desired_fingerprint = fingerprint,
        .evaluated_version = [this](const ObjectRef& ref) -> std::string {
          auto it = evaluated.find(ref);
          return it == evaluated.end() ? "" : it->second;
        },
        .held = held,
        .limits = limits,
        .now = now};
    return plan_corrections(report, history, input);
  }
};

DriftReport Report(std::vector<Drift> drifts) {
  DriftReport r;
  r.drifts = std::move(drifts);
  return r;
}

TEST(CorrectionPlanTest, OneRequestPerDriftedObjectWithinTheBudget) {
  Planner p;
  p.limits.max_per_minute = 1;
  DriftReport report = Report({MemoryDrift("a"), MemoryDrift("b")});
  CorrectionPlan plan = p.Plan(report, p.start);
  ASSERT_EQ(plan.requests.size(), 1u);
  EXPECT_EQ(plan.requests[0].object.name, "a");
  EXPECT_EQ(plan.requests[0].drifts, std::vector<size_t>{0});
  EXPECT_EQ(plan.requests[0].live_version, "10");
  EXPECT_EQ(plan.over_budget, 1u);
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kApplied, "", p.limits,
                    p.start);
  EXPECT_EQ(report.drifts[0].action, Action::kCorrected);
  EXPECT_EQ(report.drifts[1].action, Action::kReport);

  // The budget refills after a minute.
  DriftReport again = Report({MemoryDrift("b")});
  EXPECT_EQ(p.Plan(again, p.start + 30s).requests.size(), 0u);
  EXPECT_EQ(p.Plan(again, p.start + 61s).requests.size(), 1u);
}

TEST(CorrectionPlanTest, ACorrectionTheWatchHasNotDeliveredIsNotAnotherRound) {
  Planner p;
  DriftReport report = Report({MemoryDrift("a")});
  CorrectionPlan plan = p.Plan(report, p.start);
  ASSERT_EQ(plan.requests.size(), 1u);
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kApplied, "", p.limits,
                    p.start);
  // The cache still holds version 10: shown corrected, nothing sent.
  DriftReport stale = Report({MemoryDrift("a")});
  EXPECT_TRUE(p.Plan(stale, p.start + 1s).requests.empty());
  EXPECT_EQ(stale.drifts[0].action, Action::kCorrected);
}

TEST(CorrectionPlanTest, TheVersionBetweenACorrectionsTwoWritesIsNotAnotherRound) {
  Planner p;
  DriftReport report = Report({MemoryDrift("a")});
  CorrectionPlan plan = p.Plan(report, p.start);
  ASSERT_EQ(plan.requests.size(), 1u);
  // The apply produced version 11, the removal patch version 12.
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kApplied, "", p.limits,
                    p.start, {"11"});
  p.versions[{"apps/v1", "Deployment", "shop", "a"}] = "11";  // the watch delivered the apply
  DriftReport between = Report({MemoryDrift("a")});
  EXPECT_TRUE(p.Plan(between, p.start + 1s).requests.empty());
  EXPECT_EQ(between.drifts[0].action, Action::kCorrected);
  p.versions[{"apps/v1", "Deployment", "shop", "a"}] = "13";  // someone changed it again
  DriftReport again = Report({MemoryDrift("a")});
  EXPECT_EQ(p.Plan(again, p.start + 2s).requests.size(), 1u);
}

// The report's drifts come from the evaluation, which a watch event may not have reached yet
// while the cache already holds a newer version: the correction's own result, or another
// change. Neither is corrected on the older view (this was a second, identical correction).
TEST(CorrectionPlanTest, DriftsOfAnOlderVersionThanTheCachesAreNotCorrectedAgain) {
  Planner p;
  const ObjectRef a{"apps/v1", "Deployment", "shop", "a"};
  p.evaluated[a] = "10";
  DriftReport report = Report({MemoryDrift("a")});
  CorrectionPlan plan = p.Plan(report, p.start);
  ASSERT_EQ(plan.requests.size(), 1u);
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kApplied, "", p.limits,
                    p.start);
  // The cache has the corrected version 11; the evaluation still holds 10's drifts.
  p.versions[a] = "11";
  DriftReport stale = Report({MemoryDrift("a")});
  EXPECT_TRUE(p.Plan(stale, p.start + 1s).requests.empty());
  EXPECT_EQ(stale.drifts[0].action, Action::kCorrected);
  // Someone changed it again (12, then 13): the pass evaluating 13 corrects, not the one on 12.
  p.evaluated[a] = "12";
  p.versions[a] = "13";
  DriftReport older = Report({MemoryDrift("a")});
  EXPECT_TRUE(p.Plan(older, p.start + 2s).requests.empty());
  EXPECT_EQ(older.drifts[0].action, Action::kReport);
  p.evaluated[a] = "13";
  DriftReport current = Report({MemoryDrift("a")});
  ASSERT_EQ(p.Plan(current, p.start + 3s).requests.size(), 1u);
}

TEST(CorrectionPlanTest, ARefusedCorrectionStaysFailedInAPassOnAnOlderVersion) {
  Planner p;
  const ObjectRef a{"apps/v1", "Deployment", "shop", "a"};
  p.evaluated[a] = "10";
  DriftReport report = Report({MemoryDrift("a")});
  CorrectionPlan plan = p.Plan(report, p.start);
  ASSERT_EQ(plan.requests.size(), 1u);
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kFailed,
                    "invalid (422): no", p.limits, p.start);
  // Someone touched it (11) while the pass on 10 ran: that pass neither sends nor reports the
  // drift as new (which would raise a DriftDetected Event between two DriftCorrectionFailed).
  p.versions[a] = "11";
  DriftReport stale = Report({MemoryDrift("a")});
  EXPECT_TRUE(p.Plan(stale, p.start + 1s).requests.empty());
  EXPECT_EQ(stale.drifts[0].action, Action::kFailed);
  EXPECT_EQ(stale.drifts[0].failure, "invalid (422): no");
  // The pass on 11 tries again: something changed.
  p.evaluated[a] = "11";
  DriftReport current = Report({MemoryDrift("a")});
  EXPECT_EQ(p.Plan(current, p.start + 2s).requests.size(), 1u);
}

TEST(CorrectionPlanTest, AFieldChangedBackMoreThanMaxRoundsIsContestedAndNotSent) {
  Planner p;
  Clock::time_point now = p.start;
  for (int round = 0; round < 2; ++round) {
    p.versions[{"apps/v1", "Deployment", "shop", "a"}] = std::to_string(100 + round);
    DriftReport report = Report({MemoryDrift("a", "autoscaler")});
    CorrectionPlan plan = p.Plan(report, now);
    ASSERT_EQ(plan.requests.size(), 1u) << "round " << round;
    record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kApplied, "",
                      p.limits, now);
    now += 10s;
  }
  p.versions[{"apps/v1", "Deployment", "shop", "a"}] = "200";
  DriftReport third = Report({MemoryDrift("a", "autoscaler")});
  EXPECT_TRUE(p.Plan(third, now).requests.empty());
  EXPECT_EQ(third.drifts[0].action, Action::kContested);
  EXPECT_EQ(third.drifts[0].contested_by, "autoscaler");
  // Ten quiet minutes later it is a new episode.
  DriftReport later = Report({MemoryDrift("a", "autoscaler")});
  EXPECT_EQ(p.Plan(later, now + 11min).requests.size(), 1u);
}

TEST(CorrectionPlanTest, ARefusedCorrectionBacksOffExponentiallyUpToTheInterval) {
  Planner p;
  p.limits.retry_max = 30s;
  Clock::time_point now = p.start;
  std::vector<Clock::time_point> sent;
  // Plan every second for two minutes; a refused request is sent again only as backoff allows.
  for (int s = 0; s < 120; ++s, now += 1s) {
    DriftReport report = Report({MemoryDrift("a")});
    CorrectionPlan plan = p.Plan(report, now);
    if (plan.requests.empty()) {
      EXPECT_EQ(report.drifts[0].action, Action::kFailed);
      EXPECT_EQ(report.drifts[0].failure, "invalid (422): no");
      continue;
    }
    sent.push_back(now);
    record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kFailed,
                      "invalid (422): no", p.limits, now);
    EXPECT_EQ(report.drifts[0].action, Action::kFailed);
  }
  std::vector<long> offsets;
  for (auto t : sent)
    offsets.push_back(std::chrono::duration_cast<std::chrono::seconds>(t - p.start).count());
  // 5 s, 10 s, 20 s, then the 30 s cap.
  EXPECT_EQ(offsets, (std::vector<long>{0, 5, 15, 35, 65, 95}));
  EXPECT_EQ(p.history.next_retry(), p.start + 125s);
}

TEST(CorrectionPlanTest, ARefusedCorrectionIsRetriedAtOnceWhenSomethingChanged) {
  Planner p;
  auto refuse = [&](Clock::time_point now) {
    DriftReport report = Report({MemoryDrift("a")});
    CorrectionPlan plan = p.Plan(report, now);
    if (plan.requests.empty()) return false;
    record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kFailed, "no",
                      p.limits, now);
    return true;
  };
  ASSERT_TRUE(refuse(p.start));
  EXPECT_FALSE(refuse(p.start + 1s));
  p.versions[{"apps/v1", "Deployment", "shop", "a"}] = "11";  // the live object changed
  EXPECT_TRUE(refuse(p.start + 2s));
  EXPECT_FALSE(refuse(p.start + 3s));
  p.fingerprint = "rev2";  // a new commit, policy or Environment generation
  EXPECT_TRUE(refuse(p.start + 4s));
  // A success forgets the refusal.
  p.fingerprint = "rev3";
  DriftReport report = Report({MemoryDrift("a")});
  CorrectionPlan plan = p.Plan(report, p.start + 5s);
  ASSERT_EQ(plan.requests.size(), 1u);
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kApplied, "", p.limits,
                    p.start + 5s);
  EXPECT_FALSE(p.history.next_retry().has_value());
}

TEST(CorrectionPlanTest, HeldObjectsAndAConflictAreNeverCorrected) {
  Planner p;
  p.held = {{"apps/v1", "Deployment", "shop", "a"}};
  DriftReport report = Report({MemoryDrift("a"), MemoryDrift("b")});
  CorrectionPlan plan = p.Plan(report, p.start);
  ASSERT_EQ(plan.requests.size(), 1u);
  EXPECT_EQ(plan.requests[0].object.name, "b");
  EXPECT_EQ(report.drifts[0].action, Action::kReport);

  // A dry run says what it would do and remembers nothing.
  record_correction(report, p.history, plan.requests[0], CorrectionOutcome::kDryRun, "", p.limits,
                    p.start);
  EXPECT_EQ(report.drifts[1].action, Action::kWouldCorrect);
  EXPECT_TRUE(p.history.recent.empty());
  // The object changed under the request: stays report, nothing remembered.
  DriftReport changed = Report({MemoryDrift("b")});
  CorrectionPlan again = p.Plan(changed, p.start + 1s);
  ASSERT_EQ(again.requests.size(), 1u);
  record_correction(changed, p.history, again.requests[0], CorrectionOutcome::kConflict, "409",
                    p.limits, p.start + 1s);
  EXPECT_EQ(changed.drifts[0].action, Action::kReport);
  EXPECT_FALSE(p.history.next_retry().has_value());
}

}  // namespace
}  // namespace plumbline
