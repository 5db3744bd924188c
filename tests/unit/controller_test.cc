// The Controller against the in-memory API server and an in-memory Git: the reconcile loop's
// rules in milliseconds — correct with the whole configuration, restore a value another
// manager changed, remove an added env var, back off from a refused correction, write nothing
// for an object two Environments claim, and nothing at all while not leading.
#include "plumbline/reconcile/controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/fake_kube_client.h"
#include "unit/controller_test_util.h"

namespace plumbline {
namespace {

using namespace controller_test;

TEST_F(ControllerTest, CorrectsWithTheWholeConfigurationAndRestoresAChangedValue) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  Start();
  ASSERT_TRUE(WaitFor([&] { return Memory(Checkout()) == "1Gi"; })) << log_text_.str();
  // The apply carried Git's whole enforced part: the env var too, with its value.
  std::vector<json> applies = api_.writes("apply deployments");
  ASSERT_EQ(applies.size(), 1u);
  EXPECT_EQ(LogLevelOf(applies[0]), "info");
  EXPECT_FALSE(applies[0]["spec"]["template"]["spec"]["containers"][0].contains("image"));

  // kubectl set env: the next correction restores the value (never strips it).
  json changed = Checkout();
  changed["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "trace";
  api_.put(changed, "kubectl-set");
  ASSERT_TRUE(WaitFor([&] { return LogLevelOf(Checkout()) == "info"; })) << log_text_.str();
  EXPECT_EQ(Memory(Checkout()), "1Gi");
  EXPECT_EQ(api_.writes("apply deployments").size(), 2u);
}

// `namespace: ""` in Git is no namespace: the object lands in the Environment's first
// namespace, as kubectl apply and `plumbline diff --live cluster` put it (core/desired_scope.h).
// The controller used to default only a missing namespace and looked for the object in "".
TEST_F(ControllerTest, AnEmptyNamespaceInGitIsTheEnvironmentsNamespace) {
  git_.ns = "\"\"";
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  Start();
  ASSERT_TRUE(WaitFor([&] { return Memory(Checkout()) == "1Gi"; })) << log_text_.str();
}

// Where a slow load went: the "desired state loaded" line says how long the fetch and the
// render took (an operator reads it before any metric).
TEST_F(ControllerTest, TheDesiredStateLoadSaysHowLongItsFetchAndRenderTook) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod", "report"));
  Start();
  ASSERT_TRUE(WaitFor([&] { return Report().has_value(); }));
  controller_->stop();  // the log is read once no thread writes it
  std::istringstream lines(log_text_.str());
  int loaded = 0;
  for (std::string line; std::getline(lines, line);) {
    json entry = json::parse(line, nullptr, false);
    if (!entry.is_object() || entry.value("msg", "") != "desired state loaded") continue;
    ++loaded;
    for (const char* field : {"fetchSeconds", "renderSeconds"}) {
      ASSERT_TRUE(entry[field].is_number()) << line;
      EXPECT_GE(entry[field].get<double>(), 0) << line;
      EXPECT_LT(entry[field].get<double>(), 5) << line;
    }
  }
  EXPECT_EQ(loaded, 1) << log_text_.str();
}

// A report write whose answer is lost (the apiserver killed mid-request) may have landed: the
// server's copy is then unknown, so the next pass writes the report it finds even when that
// equals the last one confirmed. (Found by the fault suite: the report kept a drift corrected
// long ago while the Deployment had been consistent for minutes.)
TEST_F(ControllerTest, AReportWriteWhoseAnswerWasLostIsWrittenAgain) {
  api_.put(Workload("1Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  Start();
  const ObjectRef report{"plumbline.dev/v1alpha1", "DriftReport", "plumbline-system", "prod"};
  auto drifts = [&]() -> int {
    std::optional<json> r = api_.object(report);
    if (!r || !r->contains("status") || !(*r)["status"].contains("drifts")) return -1;
    return static_cast<int>((*r)["status"]["drifts"].size());
  };
  ASSERT_TRUE(WaitFor([&] { return drifts() == 0; })) << log_text_.str();
  // The report of the correction (one drift, corrected) lands; its answer is lost.
  api_.lose_answer_next("apply driftreports/status");
  json changed = Checkout();
  changed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi";
  api_.put(changed, "kubectl-edit");
  ASSERT_TRUE(WaitFor([&] { return Memory(Checkout()) == "1Gi"; })) << log_text_.str();
  // Consistent again, and the report says so.
  EXPECT_TRUE(WaitFor([&] { return drifts() == 0; })) << drifts() << "\n" << log_text_.str();
}

TEST_F(ControllerTest, AnEnvVarAddedByHandIsRemovedByName) {
  json live = Workload("1Gi", "info");
  live["spec"]["template"]["spec"]["containers"][0]["env"].push_back(
      {{"name", "DEBUG_PPROF"}, {"value", "1"}});
  api_.put(live, "kubectl-set");
  api_.put(EnvironmentObject("prod"));
  Start();
  ASSERT_TRUE(WaitFor([&] {
    return Checkout()["spec"]["template"]["spec"]["containers"][0]["env"].size() == 1;
  })) << log_text_.str();
  std::vector<json> patches = api_.writes("patch deployments");
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0]["spec"]["template"]["spec"]["containers"][0]["env"],
            json::parse(R"([{"name": "DEBUG_PPROF", "$patch": "delete"}])"));
  // Guarded by the version the apply produced.
  EXPECT_TRUE(patches[0]["metadata"].contains("resourceVersion"));
}

TEST_F(ControllerTest, ARefusedCorrectionIsFailedAndNotRetriedInALoop) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  api_.fail_next(
      "apply deployments",
      Error(ErrorCode::kInvalidInput, "cannot apply deployments.apps: invalid (422): no"), 100);
  Start();
  ASSERT_TRUE(WaitFor([&] {
    std::optional<json> report = Report();
    return report && report->contains("status") &&
           (*report)["status"]["drifts"][0].value("action", "") == "failed";
  })) << log_text_.str();
  EXPECT_EQ((*Report())["status"]["drifts"][0]["failure"],
            "cannot apply deployments.apps: invalid (422): no");
  // Workload changes re-run the reconcile; the same request is not sent again before the
  // backoff (5 s) ends.
  ApiResource deployments = *api_.resource_for("apps/v1", "Deployment");
  for (int i = 0; i < 5; ++i) {
    json touch = {{"metadata", {{"labels", {{"touch", std::to_string(i)}}}}}};
    ASSERT_TRUE(
        api_.patch(deployments, "shop", "checkout", touch, {.field_manager = "someone"}).ok());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_LE(api_.calls("apply deployments"), 1 + 5);  // at most once per live change
  int before = api_.calls("apply deployments");
  std::this_thread::sleep_for(200ms);  // no change, within the backoff: nothing more
  EXPECT_EQ(api_.calls("apply deployments"), before);
  EXPECT_EQ(api_.writes("create events").size(), 1u);  // one DriftCorrectionFailed Event
}

TEST_F(ControllerTest, TwoEnvironmentsClaimingOneObjectBothReportItAndNeitherWrites) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  api_.put(EnvironmentObject("prod-copy"));
  Start();
  auto conflicted = [&](const std::string& name) {
    std::optional<json> report = Report(name);
    if (!report || !report->contains("status")) return false;
    for (const json& v : (*report)["status"].value("violations", json::array())) {
      if (v["rule"] == "environmentConflict") return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return conflicted("prod") && conflicted("prod-copy"); }))
      << log_text_.str();
  EXPECT_EQ(api_.calls("apply deployments"), 0);
  EXPECT_EQ(api_.calls("patch deployments"), 0);
  EXPECT_EQ(Memory(Checkout()), "2Gi");
}

TEST_F(ControllerTest, AReplicaThatDoesNotLeadWritesNothing) {
  leading_ = false;
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  Start();
  ASSERT_TRUE(
      WaitFor([&] { return controller_->workloads() && controller_->workloads()->size() == 1; }));
  std::this_thread::sleep_for(100ms);
  for (const char* verb : {"apply", "patch", "create", "update"}) {
    EXPECT_EQ(api_.calls(verb), 0) << verb;
  }
  // Leading again: the resync corrects.
  leading_ = true;
  controller_->resync();
  ASSERT_TRUE(WaitFor([&] { return Memory(Checkout()) == "1Gi"; })) << log_text_.str();
}

TEST_F(ControllerTest, AWebhookFetchesTheEnvironmentsOfThatRepositoryNow) {
  api_.put(Workload("1Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod", "report", "shop", "https://git.test/org/ops.git"));
  api_.put(EnvironmentObject("other", "report", "shop", "https://git.test/org/other.git"));
  Start();
  ASSERT_TRUE(WaitFor([&] { return controller_->ready(); })) << log_text_.str();
  const int opens = git_.opens;  // each Environment fetched once; the next poll is in 1 h
  // The push names the repository in another form: SSH, another case, no ".git".
  EXPECT_EQ(controller_->fetch_now({"git@GIT.test:org/ops", "https://elsewhere.test/org/ops"}),
            std::vector<std::string>{"prod"});
  ASSERT_TRUE(WaitFor([&] { return git_.opens == opens + 1; })) << log_text_.str();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(git_.opens, opens + 1);  // prod only, once
  EXPECT_TRUE(controller_->fetch_now({"https://git.test/org/unknown.git"}).empty());
  EXPECT_TRUE(controller_->fetch_now({"not a url", ""}).empty());
}

TEST_F(ControllerTest, ATerminalFailureIsNotRetriedInALoopButOnTheNextChange) {
  api_.put(Workload("1Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod", "report"));
  api_.fail_next("apply driftreports",
                 Error(ErrorCode::kPermissionDenied, "cannot apply driftreports: forbidden (403)"));
  Start();
  ASSERT_TRUE(WaitFor([&] { return api_.calls("apply driftreports") >= 1; }));
  std::this_thread::sleep_for(200ms);  // a rate-limited retry would come after 5 ms
  EXPECT_EQ(api_.calls("apply driftreports"), 1);
  // Shown where users look: Ready=False/ReconcileFailed with the error, and one Event.
  const ObjectRef environment{"plumbline.dev/v1alpha1", "Environment", "", "prod"};
  ASSERT_TRUE(WaitFor([&] { return api_.object(environment)->contains("status"); }));
  std::string ready, message;
  const json status = (*api_.object(environment))["status"];
  for (const json& c : status["conditions"]) {
    if (c["type"] != "Ready") continue;
    ready = c.value("status", "") + "/" + c.value("reason", "");
    message = c.value("message", "");
  }
  EXPECT_EQ(ready, "False/ReconcileFailed");
  EXPECT_EQ(message, "writing DriftReport prod: cannot apply driftreports: forbidden (403)");
  std::vector<std::string> events;
  for (const json& e : api_.writes("create events")) {
    if (e["involvedObject"]["kind"] == "Environment") events.push_back(e["reason"]);
  }
  EXPECT_EQ(events, std::vector<std::string>{"ReconcileFailed"});
  // A change to the environment's objects tries again, and this time it works.
  ApiResource deployments = *api_.resource_for("apps/v1", "Deployment");
  json touch = {{"metadata", {{"labels", {{"touch", "1"}}}}}};
  ASSERT_TRUE(api_.patch(deployments, "shop", "checkout", touch, {.field_manager = "x"}).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::optional<json> report = Report();
    return report && report->contains("status");
  })) << log_text_.str();
  ASSERT_TRUE(WaitFor([&] {
    const json now = (*api_.object(environment))["status"];
    for (const json& c : now["conditions"]) {
      if (c["type"] == "Ready") return c["status"] == "True";
    }
    return false;
  })) << api_.object(environment)->dump(2);
}

std::string Reason(const json& object, const std::string& type) {
  if (!object.contains("status")) return "<no status>";
  for (const json& c : object["status"].value("conditions", json::array())) {
    if (c["type"] == type)
      return c["status"].get<std::string>() + "/" + c["reason"].get<std::string>();
  }
  return "<none>";
}

// The installer's render bounds apply to every Environment's render (--max-render-objects),
// and a render past them is an error on the Environment, named with the flag that raises it.
TEST_F(ControllerTest, TheInstallersRenderLimitsBoundEveryRender) {
  options_.render_limits.max_objects = 0;
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(EnvironmentObject("prod", "report"));
  const ObjectRef ref{"plumbline.dev/v1alpha1", "Environment", "", "prod"};
  Start();
  ASSERT_TRUE(WaitFor([&] { return Reason(*api_.object(ref), "Ready") == "False/RenderFailed"; }))
      << api_.object(ref)->dump(2);
  std::string message;
  const json status = (*api_.object(ref))["status"];
  for (const json& c : status["conditions"]) {
    if (c["type"] == "Ready") message = c.value("message", "");
  }
  EXPECT_EQ(message,
            "rendering envs/prod at aaaaaaaaaaaa: the render has 1 objects, more than the limit "
            "of 0 (--max-render-objects raises it)");
  EXPECT_FALSE(Report().has_value());
}

TEST_F(ControllerTest, ConditionsFollowKstatusAndSuspendStopsEverything) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  json environment = EnvironmentObject("prod", "report");
  environment["spec"]["suspend"] = true;
  api_.put(environment);
  const ObjectRef ref{"plumbline.dev/v1alpha1", "Environment", "", "prod"};
  Start();
  ASSERT_TRUE(WaitFor([&] { return api_.object(ref)->contains("status"); })) << log_text_.str();
  EXPECT_EQ(Reason(*api_.object(ref), "Reconciling"), "False/Suspended");
  EXPECT_EQ(git_.opens, 0);
  EXPECT_FALSE(Report().has_value());

  // Resumed: fetched, reported; Ready says what it found.
  environment["spec"]["suspend"] = false;
  environment["metadata"]["generation"] = 2;
  api_.put(environment);
  ASSERT_TRUE(WaitFor([&] { return Reason(*api_.object(ref), "Ready") == "True/DriftDetected"; }))
      << api_.object(ref)->dump(2);
  json status = (*api_.object(ref))["status"];
  EXPECT_EQ(Reason(*api_.object(ref), "Reconciling"), "False/Idle");
  EXPECT_EQ(Reason(*api_.object(ref), "Stalled"), "False/Progressing");
  EXPECT_EQ(git_.opens, 1);

  // The reconcile-now annotation fetches at once, though the interval is an hour.
  environment["metadata"]["annotations"] = {{"plumbline.dev/reconcile-requested-at", "now-1"}};
  api_.put(environment);
  ASSERT_TRUE(WaitFor([&] {
    return (*api_.object(ref))["status"].value("lastHandledReconcileAt", "") == "now-1";
  })) << log_text_.str();
  EXPECT_EQ(git_.opens, 2);
}

// A Git that never answers (a server that accepts and goes silent) until released.
class SilentGit : public MemoryGit {
 public:
  Result<GitSnapshot> open(const GitSourceOptions& options) override {
    while (!released) std::this_thread::sleep_for(2ms);
    return MemoryGit::open(options);
  }
  std::atomic<bool> released{false};
};

TEST_F(ControllerTest, HealthzFailsWhenAReconcileIsStuck) {
  SilentGit git;
  options_.stuck_after = std::chrono::seconds(1);
  api_.put(EnvironmentObject("prod", "report"));
  Controller controller(api_, git, options_, log_);
  ASSERT_TRUE(controller.start().ok());
  EXPECT_TRUE(controller.healthy().ok());
  ASSERT_TRUE(WaitFor([&] { return !controller.healthy().ok(); }, 5s));
  EXPECT_EQ(controller.healthy().error().message().substr(0, 46),
            "the reconcile of Environment prod has run for ");
  git.released = true;
  ASSERT_TRUE(WaitFor([&] { return controller.healthy().ok(); }, 5s));
  controller.stop();
}

TEST_F(ControllerTest, EnforceWritesOnlyWhereTheInstallerAllows) {
  for (bool no_enforce : {false, true}) {
    SCOPED_TRACE(no_enforce ? "--no-enforce" : "--enforce-namespaces other");
    FakeKubeClient api;
    ControllerOptions options = options_;
    if (no_enforce) {
      options.enforce_allowed = false;
    } else {
      options.enforce_namespaces = {"other"};
    }
    api.put(Workload("2Gi", "info"), "kubectl-edit");
    api.put(EnvironmentObject("prod"));
    Controller controller(api, git_, options, log_);
    ASSERT_TRUE(controller.start().ok());
    const ObjectRef report{"plumbline.dev/v1alpha1", "DriftReport", "plumbline-system", "prod"};
    ASSERT_TRUE(WaitFor([&] {
      std::optional<json> r = api.object(report);
      return r && r->contains("status") && !(*r)["status"]["drifts"].empty();
    })) << log_text_.str();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ((*api.object(report))["status"]["drifts"][0]["action"], "report");
    EXPECT_EQ(api.calls("apply deployments"), 0);
    controller.stop();
  }
}

TEST_F(ControllerTest, SystemNamespacesAreNeverCorrectedUnlessAllowed) {
  for (bool allowed : {false, true}) {
    SCOPED_TRACE(allowed ? "allowed" : "refused");
    FakeKubeClient api;
    options_.allow_system_namespaces = allowed;
    json live = Workload("2Gi", "info");
    live["metadata"]["namespace"] = "kube-system";
    api.put(live, "kubectl-edit");
    api.put(EnvironmentObject("prod", "enforce", "kube-system"));
    MemoryGit git;
    git.ns = "kube-system";
    std::ostringstream text;
    Logger log(text, LogLevel::kDebug);
    Controller controller(api, git, options_, log);
    ASSERT_TRUE(controller.start().ok());
    ASSERT_TRUE(WaitFor([&] {
      return api.object({"plumbline.dev/v1alpha1", "DriftReport", "plumbline-system", "prod"})
          .has_value();
    })) << text.str();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(api.calls("apply deployments"), allowed ? 1 : 0) << text.str();
    controller.stop();
  }
}

TEST_F(ControllerTest, LocalSourcesAreRefusedUnlessAllowed) {
  api_.put(EnvironmentObject("prod", "enforce", "shop", "file:///etc"));
  Start();
  ASSERT_TRUE(WaitFor([&] {
    auto env = api_.object({"plumbline.dev/v1alpha1", "Environment", "", "prod"});
    return env && env->contains("status");
  })) << log_text_.str();
  json env = *api_.object({"plumbline.dev/v1alpha1", "Environment", "", "prod"});
  std::string message;
  for (const json& c : env["status"]["conditions"]) {
    if (c["type"] == "Degraded") message = c["message"];
  }
  EXPECT_EQ(message,
            "spec.source.url: local paths and file:// URLs are refused in the controller (they "
            "read the controller's own filesystem; the installer can allow them with "
            "--allow-local-sources)");
  EXPECT_EQ(git_.opens, 0);
}

// Render commands run a program of the Environment's choosing in the controller: only when
// the installer allows them; then the command's stdout is the desired state.
json CommandEnvironment() {
  json environment = EnvironmentObject("prod", "report");
  environment["spec"]["render"] = {{"type", "command"},
                                   {"command", {"/bin/sh", "-c", "cat deployment.yaml"}}};
  return environment;
}

TEST_F(ControllerTest, RenderCommandsAreRefusedUnlessAllowed) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(CommandEnvironment());
  Start();
  std::string message;
  ASSERT_TRUE(WaitFor([&] {
    auto env = api_.object({"plumbline.dev/v1alpha1", "Environment", "", "prod"});
    if (!env || !env->contains("status")) return false;
    for (const json& c : (*env)["status"]["conditions"]) {
      if (c["type"] == "Degraded") message = c.value("message", "");
    }
    return !message.empty();
  })) << log_text_.str();
  EXPECT_EQ(message,
            "spec.render.type command: render commands are refused in this controller (they run "
            "a program of the Environment's choosing; the installer can allow them with "
            "--allow-render-commands)");
  EXPECT_FALSE(Report().has_value());
}

TEST_F(ControllerTest, AnAllowedRenderCommandGivesTheDesiredState) {
  options_.allow_render_commands = true;
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(CommandEnvironment());
  Start();
  ASSERT_TRUE(WaitFor([&] {
    auto report = Report();
    return report && report->contains("status") && (*report)["status"].contains("summary");
  })) << log_text_.str();
  EXPECT_EQ((*Report())["status"]["summary"]["drifts"], 1) << Report()->dump(2);
}

// Isolation between Environments. A Git that behaves like the real one against a server that
// accepts and then says nothing: no answer until the fetch deadline, then kTimeout. Other
// repositories answer at once. It also records how many fetches of one repository overlap.
class HostileGit : public MemoryGit {
 public:
  Result<GitSnapshot> open(const GitSourceOptions& options) override {
    std::atomic<int>* repo_in_flight = nullptr;
    int now = 0;
    {
      // The map is shared by every worker: an insert while another reads it is a data race.
      std::lock_guard lock(mu_);
      repo_in_flight = &in_flight_[options.repo];
      now = ++*repo_in_flight;
      max_in_flight_[options.repo] = std::max(max_in_flight_[options.repo], now);
    }
    int total = ++total_in_flight_;
    int seen = max_total_in_flight_;
    while (total > seen && !max_total_in_flight_.compare_exchange_weak(seen, total)) {
    }
    struct Leave {
      std::atomic<int>& a;
      std::atomic<int>& b;
      ~Leave() {
        --a;
        --b;
      }
    } leave{*repo_in_flight, total_in_flight_};
    if (options.repo.find("hostile") != std::string::npos) {
      auto deadline = std::chrono::steady_clock::now() + options.timeout;
      while (std::chrono::steady_clock::now() < deadline) {
        if (options.cancelled && options.cancelled()) return Error(ErrorCode::kCancelled, "stop");
        std::this_thread::sleep_for(2ms);
      }
      return Error(ErrorCode::kTimeout,
                   "fetch did not finish within 1s (no answer from the server)", options.repo);
    }
    while (hold) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(work);
    return MemoryGit::open(options);
  }
  int max_in_flight(const std::string& repo) {
    std::lock_guard lock(mu_);
    return max_in_flight_[repo];
  }
  std::atomic<bool> hold{false};
  std::chrono::milliseconds work{0};
  std::atomic<int> max_total_in_flight_{0};
  std::atomic<int> total_in_flight_{0};

 private:
  std::mutex mu_;
  std::map<std::string, int> max_in_flight_;
  std::map<std::string, std::atomic<int>> in_flight_;
};

// How long after start() the DriftReport of `name` appears, with `workers` workers and a
// hostile Environment ("a-hostile", queued first) beside it.
double SecondsUntilHealthyReport(int workers, std::string* hostile_error) {
  FakeKubeClient api;
  HostileGit git;
  ControllerOptions options;
  options.workers = workers;
  options.git_timeout = std::chrono::seconds(1);
  std::ostringstream log_text;
  Logger log(log_text, LogLevel::kInfo);
  api.put(Workload("1Gi", "info"), "kubectl-edit");
  api.put(EnvironmentObject("a-hostile", "report", "other", "git://hostile.test/ops.git"));
  api.put(EnvironmentObject("prod", "report"));
  Controller controller(api, git, options, log);
  auto start = std::chrono::steady_clock::now();
  if (!controller.start().ok()) return -1;
  const ObjectRef report{"plumbline.dev/v1alpha1", "DriftReport", "plumbline-system", "prod"};
  const ObjectRef hostile{"plumbline.dev/v1alpha1", "Environment", "", "a-hostile"};
  double seconds = -1;
  while (std::chrono::steady_clock::now() - start < 5s) {
    if (seconds < 0 && api.object(report)) {
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::optional<json> env = api.object(hostile);
    if (seconds >= 0 && env && env->contains("status")) {
      for (const json& c : (*env)["status"].value("conditions", json::array())) {
        if (c["type"] == "Ready") *hostile_error = c.value("message", "");
      }
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  controller.stop();
  return seconds;
}

TEST(ControllerIsolationTest, AHostileEnvironmentDoesNotDelayAHealthyOne) {
  // DESIGN.md's bound: with W workers and H < W hostile Environments, a healthy one waits for
  // no hostile fetch. With one worker it waits out the hostile fetch's deadline (1 s here).
  std::string hostile_error;
  double with_two = SecondsUntilHealthyReport(2, &hostile_error);
  ASSERT_GE(with_two, 0);
  EXPECT_LT(with_two, 0.5) << "the healthy report came after " << with_two << " s";
  EXPECT_NE(hostile_error.find("fetch did not finish within 1s"), std::string::npos)
      << hostile_error;
  double with_one = SecondsUntilHealthyReport(1, &hostile_error);
  ASSERT_GE(with_one, 0);
  EXPECT_GE(with_one, 0.9) << "one worker: the healthy Environment waits for the deadline";
  EXPECT_LT(with_one, 3.0) << "but not much longer than the deadline";
  std::cout << "healthy report after " << with_two << " s with 2 workers, " << with_one
            << " s with 1 worker (fetch deadline 1 s)\n";
}

TEST(ControllerIsolationTest, OneEnvironmentIsNeverOnTwoWorkersAtOnce) {
  FakeKubeClient api;
  HostileGit git;
  git.work = 5ms;
  ControllerOptions options;
  options.workers = 4;
  std::ostringstream log_text;
  Logger log(log_text, LogLevel::kInfo);
  const std::vector<std::string> names = {"one", "two", "three"};
  for (const std::string& name : names) {
    api.put(EnvironmentObject(name, "report", "ns-" + name, "git://git.test/" + name + ".git"));
  }
  Controller controller(api, git, options, log);
  ASSERT_TRUE(controller.start().ok());
  // Every new generation fetches again; changes arrive faster than the fetches finish.
  for (int generation = 2; generation < 40; ++generation) {
    for (const std::string& name : names) {
      json env = EnvironmentObject(name, "report", "ns-" + name, "git://git.test/" + name + ".git");
      env["metadata"]["generation"] = generation;
      api.put(env);
    }
    std::this_thread::sleep_for(3ms);
  }
  std::this_thread::sleep_for(100ms);
  controller.stop();
  for (const std::string& name : names) {
    EXPECT_EQ(git.max_in_flight("git://git.test/" + name + ".git"), 1) << name;
  }
  EXPECT_GE(git.max_total_in_flight_.load(), 2) << "the environments ran in parallel";
}

TEST(ControllerIsolationTest, LosingLeadershipStopsEveryWorkerBeforeAnyWrite) {
  FakeKubeClient api;
  HostileGit git;
  git.hold = true;
  std::atomic<bool> leading{true};
  ControllerOptions options;
  options.workers = 4;
  options.leading = [&leading] { return leading.load(); };
  std::ostringstream log_text;
  Logger log(log_text, LogLevel::kInfo);
  for (const std::string name : {"one", "two", "three", "four"}) {
    api.put(EnvironmentObject(name, "enforce", "ns-" + name, "git://git.test/" + name + ".git"));
  }
  Controller controller(api, git, options, log);
  ASSERT_TRUE(controller.start().ok());
  // All four workers are inside a reconcile (fetching) when the Lease is lost.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (git.total_in_flight_ < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(git.total_in_flight_.load(), 4);
  leading = false;
  git.hold = false;
  while (git.total_in_flight_ > 0) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(100ms);
  controller.stop();
  for (const char* verb : {"apply", "patch", "create", "update"}) {
    EXPECT_EQ(api.calls(verb), 0) << verb;
  }
}

TEST(ControllerIsolationTest, HealthzNamesTheStuckEnvironmentWithSeveralWorkers) {
  FakeKubeClient api;
  SilentGit git;
  ControllerOptions options;
  options.workers = 2;
  options.stuck_after = std::chrono::seconds(1);
  std::ostringstream log_text;
  Logger log(log_text, LogLevel::kInfo);
  api.put(EnvironmentObject("a-stuck", "report", "other", "git://git.test/stuck.git"));
  Controller controller(api, git, options, log);
  ASSERT_TRUE(controller.start().ok());
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (controller.healthy().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_FALSE(controller.healthy().ok());
  EXPECT_EQ(controller.healthy().error().message().substr(0, 49),
            "the reconcile of Environment a-stuck has run for ");
  git.released = true;
  controller.stop();
}

}  // namespace
}  // namespace plumbline
