// Enforce mode against a real kube-apiserver (DESIGN.md "Enforcement: the ownership model"):
// corrections keep what plumbline owns, restore values rather than strip them, remove
// out-of-band additions in one correction each, follow Git removing a field, leave ignored
// fields to their managers, back off from a refused correction, and never write an object
// two Environments claim.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "integration/controller_fixture.h"

namespace {

using namespace plumbline::testing;
using namespace std::chrono_literals;

const char* kCheckout = "deployment/checkout";

class KubeEnforceTest : public KubeControllerTest {
 protected:
  json Checkout() {
    return Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  }
  json App() { return Checkout()["spec"]["template"]["spec"]["containers"][0]; }

  // kubectl as another field manager: a JSON patch of the checkout Deployment.
  void PatchAs(const std::string& manager, const std::string& patch) {
    auto r = env_->Kubectl({"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
                            "--field-manager=" + manager, "-p=" + patch});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  void SetMemoryLimitAs(const std::string& manager, const std::string& value) {
    PatchAs(
        manager,
        R"([{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":")" +
            value + R"("}])");
  }
  void Kubectl(const std::vector<std::string>& args) {
    auto r = env_->Kubectl(args);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  // The value of env var `name` of the app container; "<absent>" or "<no value>".
  std::string Env(const std::string& name) {
    json app = App();
    if (!app.contains("env")) return "<absent>";
    for (const json& e : app["env"]) {
      if (e.value("name", "") == name)
        return e.contains("value") ? e["value"].get<std::string>() : "<no value>";
    }
    return "<absent>";
  }

  // What a field manager owns of the app container (fieldsV1), merged over its entries.
  json OwnedByPlumbline(const std::string& manager = "plumbline/prod") {
    json owned = json::object();
    const json object = Checkout();
    for (const json& entry : object["metadata"]["managedFields"]) {
      if (entry.value("manager", "") != manager) continue;
      owned.merge_patch(entry["fieldsV1"]);
    }
    return owned;
  }

  // The report's drifts that are not ignored.
  std::vector<std::string> OpenDrifts(const std::string& environment = "prod") {
    json report = Get({"driftreport", environment, "-n", "plumbline-system"});
    if (!report.is_object() || !report.contains("status") || !report["status"].contains("drifts")) {
      return {"<no report>"};
    }
    json open = json::object();
    open["drifts"] = json::array();
    for (const json& d : report["status"]["drifts"]) {
      if (d.value("action", "") != "ignored") open["drifts"].push_back(d);
    }
    return DriftLines(open);
  }

  // Log lines of one message ("corrected", "correction failed") for the checkout Deployment.
  static int Count(const std::string& log, const std::string& msg) {
    int n = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      json entry = json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("msg", "") == msg &&
          entry.value("object", "").find("checkout") != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

  int EventsWithReason(const std::string& reason) {
    json e = Get({"events", "-n", "shop-prod", "--field-selector", "reason=" + reason});
    return e.is_object() ? static_cast<int>(e["items"].size()) : -1;
  }
};

TEST_F(KubeEnforceTest, CorrectionsKeepWhatPlumblineOwnsAndRestoreValues) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  // Field A drifts; plumbline corrects it.
  ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("autoscaler", "2Gi"));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n  correction: {maxRounds: 10}\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, 60s)) << controller.Log();

  // Field B drifts (kubectl set env, another manager); its correction keeps A.
  ASSERT_NO_FATAL_FAILURE(
      Kubectl({"set", "env", kCheckout, "-n", "shop-prod", "-c", "app", "LOG_LEVEL=trace"}));
  ASSERT_TRUE(WaitFor([&] { return Env("LOG_LEVEL") == "info"; }, 30s)) << Env("LOG_LEVEL") << "\n"
                                                                        << controller.Log();
  EXPECT_EQ(MemoryLimit(*env_), "1Gi");
  // plumbline owns both afterwards, the value included (never a bare {"name": "LOG_LEVEL"}).
  json app =
      OwnedByPlumbline()["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
  EXPECT_TRUE(app["f:resources"]["f:limits"].contains("f:memory"))
      << Checkout()["metadata"]["managedFields"].dump(2);
  EXPECT_TRUE(app["f:env"]["k:{\"name\":\"LOG_LEVEL\"}"].contains("f:value")) << app.dump(2);
  ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 20s))
      << ::testing::PrintToString(OpenDrifts());
  EXPECT_EQ(Count(controller.Log(), "corrected"), 2) << controller.Log();
  EXPECT_EQ(controller.Stop(), 0);
}

TEST_F(KubeEnforceTest, OutOfBandAdditionsAreRemovedInOneCorrectionEach) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n  correction: {maxRounds: 10}\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 60s))
      << ::testing::PrintToString(OpenDrifts()) << controller.Log();
  int corrections = Count(controller.Log(), "corrected");

  auto security = [&] { return App()["securityContext"]; };
  struct Step {
    std::string what;
    std::function<void()> make;
    std::function<bool()> undone;
  };
  const std::string app = "/spec/template/spec/containers/0";
  std::vector<Step> steps = {
      {"an env var added by kubectl set env",
       [&] {
         Kubectl({"set", "env", kCheckout, "-n", "shop-prod", "-c", "app", "DEBUG_PPROF=1"});
       },
       [&] { return Env("DEBUG_PPROF") == "<absent>"; }},
      {"a capability added",
       [&] {
         PatchAs("debugger", R"([{"op":"add","path":")" + app +
                                 R"(/securityContext/capabilities/add","value":["SYS_ADMIN"]}])");
       },
       [&] {
         json caps = security()["capabilities"];
         return !caps.contains("add") || caps["add"].empty();
       }},
      // privileged: true is only valid beside allowPrivilegeEscalation: true; the correction
      // resets both in one request (else the API server refuses it with a 422).
      {"privileged: true (and allowPrivilegeEscalation: true)",
       [&] {
         PatchAs(
             "debugger",
             R"([{"op":"replace","path":")" + app +
                 R"(/securityContext/allowPrivilegeEscalation","value":true},{"op":"add","path":")" +
                 app + R"(/securityContext/privileged","value":true},{"op":"replace","path":")" +
                 app + R"(/image","value":"registry.example/shop/checkout:debug"}])");
       },
       [&] {
         json s = security();
         return s.value("privileged", true) == false &&
                s.value("allowPrivilegeEscalation", true) == false;
       }},
      // hostNetwork: true is only valid without namespaced sysctls; again one request restores
      // Git's sysctls and resets hostNetwork.
      {"hostNetwork: true (and the sysctls removed)",
       [&] {
         PatchAs("debugger",
                 R"([{"op":"remove","path":"/spec/template/spec/securityContext/sysctls"},)"
                 R"({"op":"add","path":"/spec/template/spec/hostNetwork","value":true}])");
       },
       [&] {
         json pod = Checkout()["spec"]["template"]["spec"];
         // false is the API's default, so it may read as absent.
         return pod.value("hostNetwork", false) == false &&
                pod["securityContext"].contains("sysctls");
       }},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.what);
    ASSERT_NO_FATAL_FAILURE(step.make());
    ASSERT_TRUE(WaitFor(step.undone, 30s)) << App().dump(2) << controller.Log();
    ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 20s))
        << ::testing::PrintToString(OpenDrifts());
    EXPECT_EQ(Count(controller.Log(), "corrected"), ++corrections) << controller.Log();
  }
  // The other manager's unrelated field stays.
  EXPECT_EQ(App()["image"], "registry.example/shop/checkout:debug");
  EXPECT_EQ(controller.Stop(), 0);
}

TEST_F(KubeEnforceTest, GitRemovingAnEnforcedEnvVarRemovesItLive) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(
      Kubectl({"set", "env", kCheckout, "-n", "shop-prod", "-c", "app", "LOG_LEVEL=trace"}));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return Env("LOG_LEVEL") == "info"; }, 60s)) << controller.Log();
  ASSERT_TRUE(OwnedByPlumbline()["f:spec"]["f:template"]["f:spec"]["f:containers"]
                                ["k:{\"name\":\"app\"}"]["f:env"]
                                    .contains("k:{\"name\":\"LOG_LEVEL\"}"));

  // Git stops declaring it.
  ASSERT_NO_FATAL_FAILURE(Replace(dir_ / "work/manifests/base/checkout/deployment.yaml",
                                  "        - name: LOG_LEVEL\n          value: info\n", ""));
  Commit("checkout: no LOG_LEVEL");
  Push();
  ASSERT_TRUE(WaitFor([&] { return Env("LOG_LEVEL") == "<absent>"; }, 30s))
      << App().dump(2) << controller.Log();
  EXPECT_EQ(Env("TZ"), "UTC");
  ASSERT_TRUE(WaitFor([&] { return OpenDrifts().empty(); }, 20s))
      << ::testing::PrintToString(OpenDrifts());
  EXPECT_EQ(controller.Stop(), 0);
}

TEST_F(KubeEnforceTest, IgnoredFieldsStayWithTheirManager) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  const std::string policy =
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: vpa}\n"
      "spec:\n  ignore:\n  - category: resources\n    managers: [vpa-recommender]\n";
  ASSERT_EQ(env_->Kubectl({"apply", "-f", "-"}, policy).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(PatchAs(
      "vpa-recommender",
      R"([{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests/cpu","value":"300m"}])"));
  ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", "2Gi"));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, 60s)) << controller.Log();
  EXPECT_EQ(App()["resources"]["requests"]["cpu"], "300m");
  json app =
      OwnedByPlumbline()["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
  EXPECT_FALSE(app["f:resources"].contains("f:requests") &&
               app["f:resources"]["f:requests"].contains("f:cpu"))
      << app.dump(2);
  std::this_thread::sleep_for(5s);  // several polls: still the autoscaler's
  EXPECT_EQ(App()["resources"]["requests"]["cpu"], "300m");
  EXPECT_EQ(controller.Stop(), 0);
}

TEST_F(KubeEnforceTest, ARefusedCorrectionFailsOnceAndBacksOff) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  // An admission policy that refuses Git's memory limit on updates (a 422, like any invalid
  // correction the API server will not take).
  const std::string admission = R"yaml(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: frozen-memory}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.template.spec.containers.all(c, !has(c.resources.limits) || !('memory' in c.resources.limits) || c.resources.limits['memory'] != '1Gi')"
    message: memory limits of 1Gi are frozen
    reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: frozen-memory}
spec: {policyName: frozen-memory, validationActions: [Deny]}
)yaml";
  ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", "2Gi"));
  ASSERT_EQ(env_->Kubectl({"apply", "-f", "-"}, admission).exit_code, 0);
  // The policy is in force once a dry-run of the correction is refused.
  ASSERT_TRUE(WaitFor(
      [&] {
        return env_->Kubectl(
                       {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
                        "--dry-run=server",
                        R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"1Gi"}])"})
                   .exit_code != 0;
      },
      30s));

  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n", "", "", "prod", "20s"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(WaitFor([&] { return Count(controller.Log(), "correction failed") >= 1; }, 60s))
      << controller.Log();
  auto first = std::chrono::steady_clock::now();
  json report;
  ASSERT_TRUE(WaitForDriftAction("failed", &report, 20s)) << report.dump(2);
  for (const json& d : report["status"]["drifts"]) {
    if (d.value("action", "") != "failed") continue;
    EXPECT_NE(d.value("failure", "").find("memory limits of 1Gi are frozen"), std::string::npos)
        << d.dump(2);
  }
  // Backoff 5 s, 10 s, then the 20 s interval: tries at 0, 5, 15 within 25 s, never every poll.
  std::this_thread::sleep_until(first + 25s);
  int attempts = Count(controller.Log(), "correction failed");
  std::printf("[ figures  ] %d attempts in the 25 s after a refusal\n", attempts);
  EXPECT_GE(attempts, 2) << controller.Log();
  EXPECT_LE(attempts, 3) << controller.Log();
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");
  EXPECT_EQ(EventsWithReason("DriftCorrectionFailed"), 1);
  EXPECT_EQ(controller.Stop(), 0);
}

TEST_F(KubeEnforceTest, TwoEnvironmentsClaimingOneObjectBothReportItAndNeitherWrites) {
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(SetMemoryLimitAs("human", "2Gi"));
  const std::string version = Checkout()["metadata"]["resourceVersion"];
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n", "", "", "prod"));
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n", "", "", "prod-copy"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  auto conflicted = [&](const std::string& environment) {
    json report = Get({"driftreport", environment, "-n", "plumbline-system"});
    if (!report.is_object() || !report["status"].contains("violations")) return false;
    for (const json& v : report["status"]["violations"]) {
      if (v.value("rule", "") == "environmentConflict" &&
          v["object"].value("name", "") == "checkout") {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return conflicted("prod") && conflicted("prod-copy"); }, 60s))
      << controller.Log();
  std::this_thread::sleep_for(5s);  // several polls of both
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");
  EXPECT_EQ(Checkout()["metadata"]["resourceVersion"], version);  // zero writes
  EXPECT_EQ(Count(controller.Log(), "corrected"), 0);
  EXPECT_GE(EventsWithReason("EnvironmentConflict"), 1);
  EXPECT_EQ(controller.Stop(), 0);
}

}  // namespace
