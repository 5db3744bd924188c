// Governance in the controller, against the in-memory API server and Git: a policy selected by
// environment type applies to every Environment of that type and to no other; a Git-bound
// policy set is read at the Environment's revision and an in-cluster policy can neither
// silence it (ignore) nor narrow its enforce (action: report); every pass records
// status.lastValidationTime.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "plumbline/reconcile/controller.h"
#include "support/fake_kube_client.h"

namespace plumbline {
namespace {

using namespace std::chrono_literals;
using testing::FakeKubeClient;

json Workload(const std::string& ns, const std::string& log_level) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "checkout"}, {"namespace", ns}}},
          {"spec",
           {{"template",
             {{"spec",
               {{"containers",
                 {{{"name", "app"},
                   {"image", "checkout:1"},
                   {"env", {{{"name", "LOG_LEVEL"}, {"value", log_level}}}}}}}}}}}}}};
}

json EnvironmentObject(const std::string& name, const std::string& type, const std::string& ns,
                       const std::string& mode = "report", const std::string& policies = "") {
  json env = {{"apiVersion", "plumbline.dev/v1alpha1"},
              {"kind", "Environment"},
              {"metadata",
               {{"name", name}, {"generation", 1}, {"labels", {{"plumbline.dev/env-type", type}}}}},
              {"spec",
               {{"source", {{"url", "git://git.test/ops.git"}, {"ref", "main"}, {"path", ns}}},
                {"namespaces", {ns}},
                {"interval", "1h"},
                {"mode", mode}}}};
  if (!policies.empty()) env["spec"]["policies"] = {{"path", policies}};
  return env;
}

json PolicyObject(const std::string& name, const json& spec) {
  return {{"apiVersion", "plumbline.dev/v1alpha1"},
          {"kind", "ConsistencyPolicy"},
          {"metadata", {{"name", name}, {"resourceVersion", "1"}}},
          {"spec", spec}};
}

// One commit: a checkout Deployment (LOG_LEVEL=info, replicas unset) per namespace folder,
// and a Git-bound policy set in governance/.
class PolicyGit : public GitSource {
 public:
  Result<GitSnapshot> open(const GitSourceOptions&) override {
    auto tree = std::make_unique<MemoryTree>();
    for (const char* ns : {"prod-a", "prod-b", "staging"}) {
      tree->add(std::string(ns) + "/deployment.yaml", Workload(ns, "info").dump());
    }
    tree->add("governance/prod.yaml", R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: git-prod}
spec:
  action: enforce
  rules:
    env: {required: [TZ]}
)");
    return GitSnapshot{.tree = std::move(tree),
                       .revision = std::string(40, 'b'),
                       .ref = "main",
                       .cache_path = {},
                       .reused_cache = false};
  }
};

class ControllerGovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.report_namespace = "plumbline-system";
    options_.leading = [] { return true; };
    // Enforce mode writes only as a ServiceAccount (DESIGN.md "Tenancy").
    options_.default_service_account = "plumbline-writer";
  }
  void Start() {
    controller_ = std::make_unique<Controller>(api_, git_, options_, log_);
    Status started = controller_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
  }
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(2ms);
    }
    return done();
  }
  std::optional<json> Report(const std::string& name) {
    return api_.object({"plumbline.dev/v1alpha1", "DriftReport", "plumbline-system", name});
  }
  std::optional<json> Environment(const std::string& name) {
    return api_.object({"plumbline.dev/v1alpha1", "Environment", "", name});
  }
  void TearDown() override {
    if (controller_) controller_->stop();
  }

  FakeKubeClient api_;
  PolicyGit git_;
  ControllerOptions options_;
  std::ostringstream log_text_;
  Logger log_{log_text_, LogLevel::kDebug};
  std::unique_ptr<Controller> controller_;
};

std::vector<std::string> Rules(const json& report) {
  std::vector<std::string> out;
  for (const json& v : report["status"]["violations"]) {
    out.push_back(v["rule"].get<std::string>() + " by " + v["policy"].get<std::string>() + " (" +
                  v["state"].get<std::string>() + ")");
  }
  return out;
}

TEST_F(ControllerGovernanceTest, PolicySelectedByTypeAppliesToEveryEnvironmentOfThatTypeOnly) {
  for (const char* ns : {"prod-a", "prod-b", "staging"}) api_.put(Workload(ns, "info"));
  api_.put(EnvironmentObject("prod-a", "prod", "prod-a"));
  api_.put(EnvironmentObject("prod-b", "prod", "prod-b"));
  api_.put(EnvironmentObject("staging", "staging", "staging"));
  api_.put(PolicyObject("prod-replicas", {{"environmentSelector",
                                           {{"matchLabels", {{"plumbline.dev/env-type", "prod"}}}}},
                                          {"rules", {{"replicas", {{"min", 3}}}}}}));
  Start();
  auto written = [&](const std::string& name) {
    auto report = Report(name);  // created first, then its status written
    return report && report->contains("status") && (*report)["status"].contains("violations");
  };
  ASSERT_TRUE(WaitFor([&] { return written("prod-a") && written("prod-b") && written("staging"); }))
      << log_text_.str();
  using Lines = std::vector<std::string>;
  // Git declares no replica count and the live objects run the default, 1: both sides break it.
  const Lines replicas = {"replicas by prod-replicas (desired)",
                          "replicas by prod-replicas (live)"};
  EXPECT_EQ(Rules(*Report("prod-a")), replicas);
  EXPECT_EQ(Rules(*Report("prod-b")), replicas);
  EXPECT_EQ(Rules(*Report("staging")), Lines{});
  // Every pass is a full validation at first: recorded in the status.
  ASSERT_TRUE(WaitFor([&] {
    auto env = Environment("staging");
    return env && env->contains("status") && (*env)["status"].contains("lastValidationTime");
  })) << log_text_.str();
}

TEST_F(ControllerGovernanceTest, InClusterPolicyCannotRelaxAGitBoundSet) {
  // Drift on LOG_LEVEL: category env, which the Git-bound set compares.
  api_.put(Workload("prod-a", "debug"), "kubectl-edit");
  api_.put(EnvironmentObject("prod-a", "prod", "prod-a", "enforce", "governance"));
  // An in-cluster policy tries to ignore env drift and to narrow enforce to report.
  api_.put(PolicyObject("relax", {{"action", "report"}, {"ignore", {{{"category", "env"}}}}}));
  Start();
  ASSERT_TRUE(WaitFor([&] { return !api_.writes("apply deployments").empty(); }))
      << log_text_.str();
  // Corrected with Git's value: the in-cluster ignore did not silence the drift, and its
  // action: report did not narrow the Git-bound enforce.
  json applied = api_.writes("apply deployments").front();
  EXPECT_EQ(applied["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "info");
  // The report object is created first, then its status written.
  ASSERT_TRUE(WaitFor([&] {
    auto report = Report("prod-a");
    return report && report->contains("status") && (*report)["status"].contains("policySource");
  })) << log_text_.str();
  json report = *Report("prod-a");
  EXPECT_EQ(report["status"]["policySource"]["path"], "governance");
  EXPECT_EQ(report["status"]["policySource"]["revision"], std::string(40, 'b'));
  // The Git-bound rule holds: Git's manifest lacks TZ (and so does the corrected object).
  EXPECT_EQ(Rules(report),
            (std::vector<std::string>{"env by git-prod (desired)", "env by git-prod (live)"}))
      << report.dump(2);
  for (const json& d : report["status"]["drifts"]) {
    EXPECT_NE(d["action"], "ignored")
        << "an in-cluster ignore silenced a Git-bound category: " << d.dump();
  }
  EXPECT_TRUE(WaitFor([&] {
    auto env = Environment("prod-a");
    return env && env->contains("status") && (*env)["status"].contains("policies") &&
           (*env)["status"]["policies"]["revision"] == std::string(40, 'b');
  })) << log_text_.str();
}

TEST_F(ControllerGovernanceTest, AMissingGitBoundFolderStopsTheEnvironment) {
  api_.put(Workload("prod-a", "debug"), "kubectl-edit");
  api_.put(EnvironmentObject("prod-a", "prod", "prod-a", "enforce", "no-such-folder"));
  Start();
  ASSERT_TRUE(WaitFor([&] {
    auto env = Environment("prod-a");
    return env && env->contains("status") && env->at("status").contains("conditions") &&
           env->dump().find("PolicyLoadFailed") != std::string::npos;
  })) << log_text_.str();
  EXPECT_TRUE(api_.writes("apply deployments").empty());  // never acts on what failed to load
}

// podDisruptionBudget and networkPolicy on the live side read the cluster's PDBs and
// NetworkPolicies from the list+watch cache: creating them clears the live violations (the
// desired ones stay: Git still declares neither), with no per-object API call.
TEST_F(ControllerGovernanceTest, EnvironmentRulesReadTheLivePodDisruptionBudgetsAndPolicies) {
  api_.put(Workload("prod-a", "info"));
  api_.put(EnvironmentObject("prod-a", "prod", "prod-a"));
  api_.put(
      PolicyObject("prod-availability", {{"rules",
                                          {{"podDisruptionBudget", {{"requiredFromReplicas", 1}}},
                                           {"networkPolicy", {{"requireDefaultDeny", true}}}}}}));
  Start();
  using Lines = std::vector<std::string>;
  const Lines desired = {"podDisruptionBudget by prod-availability (desired)",
                         "networkPolicy by prod-availability (desired)"};
  Lines both = desired;
  both.push_back("podDisruptionBudget by prod-availability (live)");
  both.push_back("networkPolicy by prod-availability (live)");
  auto rules = [&] {
    auto report = Report("prod-a");
    bool written =
        report && report->contains("status") && (*report)["status"].contains("violations");
    return written ? Rules(*report) : Lines{"(not written)"};
  };
  ASSERT_TRUE(WaitFor([&] { return rules() == both; })) << rules().size() << log_text_.str();
  api_.put({{"apiVersion", "policy/v1"},
            {"kind", "PodDisruptionBudget"},
            {"metadata", {{"name", "checkout"}, {"namespace", "prod-a"}}},
            {"spec", {{"minAvailable", 1}, {"selector", json::object()}}}});
  api_.put({{"apiVersion", "networking.k8s.io/v1"},
            {"kind", "NetworkPolicy"},
            {"metadata", {{"name", "default-deny"}, {"namespace", "prod-a"}}},
            {"spec", {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}}}});
  ASSERT_TRUE(WaitFor([&] { return rules() == desired; })) << log_text_.str();
  for (const ApiCallCount& c : api_.call_counts()) {
    EXPECT_TRUE(c.verb != "get poddisruptionbudgets" && c.verb != "get networkpolicies")
        << c.verb << " ×" << c.count << ": the live half must read the cache";
  }
}

// The scheduled full validation runs at spec.validationInterval with no event in between
// (here shortened to 300ms), and records each pass in status.lastValidationTime.
TEST_F(ControllerGovernanceTest, ScheduledValidationRunsAtItsIntervalWithoutAnEvent) {
  options_.min_validation_interval = 100ms;
  api_.put(Workload("staging", "info"));
  json env = EnvironmentObject("staging", "staging", "staging");
  env["spec"]["validationInterval"] = "300ms";
  api_.put(env);
  // Every pass that is not scheduled (full, desired, incremental): only the first full one. A
  // late delivery of the first LIST as changes once ran an incremental pass here.
  std::atomic<int> scheduled{0}, others{0};
  std::mutex passes_mu;
  std::string passes;
  ControllerHooks hooks;
  hooks.on_evaluated = [&](const std::string&, std::string_view pass, size_t n) {
    (pass == "scheduled" ? scheduled : others)++;
    std::lock_guard l(passes_mu);
    passes += std::string(pass) + ":" + std::to_string(n) + " ";
  };
  controller_ = std::make_unique<Controller>(api_, git_, options_, log_, hooks);
  ASSERT_TRUE(controller_->start().ok());
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return scheduled >= 3; }, 5s)) << log_text_.str();
  auto took = std::chrono::steady_clock::now() - started;
  // Three scheduled passes after the first full one: not before three intervals.
  EXPECT_GE(took, 900ms);
  EXPECT_EQ(others.load(), 1) << passes << "\n" << log_text_.str();
  auto status = Environment("staging")->at("status");
  EXPECT_TRUE(status.contains("lastValidationTime")) << status.dump();
}

TEST(EnvironmentGovernanceSpec, LabelsPoliciesAndValidationInterval) {
  json object = EnvironmentObject("prod-a", "prod", "prod-a", "report", "governance");
  auto spec = parse_environment(object);
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_EQ(spec->labels, (Labels{{"plumbline.dev/env-type", "prod"}}));
  EXPECT_EQ(spec->policies_path, "governance");
  EXPECT_EQ(spec->validation_interval, std::chrono::hours(1));  // the default
  object["spec"]["validationInterval"] = "2h30m";
  EXPECT_EQ(parse_environment(object)->validation_interval, std::chrono::minutes(150));
  object["spec"]["validationInterval"] = "30s";
  auto too_often = parse_environment(object);
  ASSERT_FALSE(too_often.ok());
  EXPECT_NE(too_often.error().to_string().find("spec.validationInterval must be at least 1m"),
            std::string::npos)
      << too_often.error().to_string();
  object["spec"]["validationInterval"] = "1h";
  object["spec"]["policies"] = json::object();
  auto no_path = parse_environment(object);
  ASSERT_FALSE(no_path.ok());
  EXPECT_NE(no_path.error().to_string().find("spec.policies.path is required"), std::string::npos);
}

}  // namespace
}  // namespace plumbline
