// Governance with a real kube-apiserver and a real Git server: a ConsistencyPolicy selected by
// `plumbline.dev/env-type: prod` applies to every prod-typed Environment and to no other; a
// Git-bound policy set (Environment spec.policies) is read at the Environment's revision, and
// an in-cluster policy that ignores its category does not silence its drift; the
// podDisruptionBudget and networkPolicy rules read the cluster's PDBs and NetworkPolicies.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "integration/controller_fixture.h"

namespace {

using namespace plumbline::testing;

std::string EnvironmentYaml(const std::string& name, const std::string& type,
                            const std::string& path, const std::string& ns, int port,
                            const std::string& extra = "") {
  return "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: " + name +
         "\n  labels: {plumbline.dev/env-type: " + type +
         "}\nspec:\n  source: {url: \"git://127.0.0.1:" + std::to_string(port) +
         "/ops.git\", ref: main, path: " + path + "}\n  namespaces: [" + ns +
         "]\n  interval: 2s\n" + extra;
}

// "rule object (state)" of each live violation of a DriftReport.
std::set<std::string> LiveRulesOf(const json& report) {
  std::set<std::string> out;
  if (!report.is_object() || !report.contains("status")) return out;
  for (const json& v : report["status"].value("violations", json::array())) {
    if (v.value("state", "") != "live") continue;
    out.insert(v.value("rule", "") + " " + v["object"].value("kind", "") + "/" +
               v["object"].value("name", ""));
  }
  return out;
}

// "rule by policy" of each violation of a DriftReport.
std::set<std::string> RulesOf(const json& report) {
  std::set<std::string> out;
  if (!report.is_object() || !report.contains("status")) return out;
  for (const json& v : report["status"].value("violations", json::array())) {
    out.insert(v.value("rule", "") + " by " + v.value("policy", ""));
  }
  return out;
}

class KubeGovernanceTest : public KubeControllerTest {};

TEST_F(KubeGovernanceTest, TypeSelectionAndAGitBoundSetThatCannotBeRelaxed) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  // A Git-bound policy set next to the manifests: production needs 4 replicas (ledger has 3).
  fs::create_directories(dir_ / "work" / "governance");
  std::ofstream(dir_ / "work" / "governance" / "prod.yaml")
      << "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\n"
         "metadata: {name: git-prod}\nspec:\n  rules: {replicas: {min: 4}}\n";
  ASSERT_NO_FATAL_FAILURE(Commit("governance"));
  ASSERT_NO_FATAL_FAILURE(Push());
  const std::string head = Head();
  // A hand-made env drift on checkout (category env, which the Git-bound set compares).
  auto set_env =
      env_->Kubectl({"set", "env", "deployment/checkout", "-n", "shop-prod", "LOG_LEVEL=debug"});
  ASSERT_EQ(set_env.exit_code, 0) << Describe(set_env);

  for (const std::string& yaml :
       {EnvironmentYaml("prod", "prod", "manifests/envs/prod", "shop-prod", port_,
                        "  policies: {path: governance}\n"),
        EnvironmentYaml("prod-copy", "prod", "manifests/envs/dev", "shop-dev", port_),
        EnvironmentYaml("staging", "staging", "manifests/envs/staging", "shop-staging", port_)}) {
    auto applied = env_->Kubectl({"apply", "-f", "-"}, yaml);
    ASSERT_EQ(applied.exit_code, 0) << Describe(applied) << yaml;
  }
  // In the cluster: a rule for prod-typed environments, and a policy that tries to ignore
  // every env drift everywhere.
  auto policies = env_->Kubectl(
      {"apply", "-f", "-"},
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: "
      "prod-type}\nspec:\n  environmentSelector:\n    matchLabels: {plumbline.dev/env-type: "
      "prod}\n  rules: {hostNetwork: {allowed: false}, replicas: {min: 2}}\n---\n"
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: relax}\n"
      "spec:\n  ignore: [{category: env}]\n");
  ASSERT_EQ(policies.exit_code, 0) << Describe(policies);

  Background controller(ControllerArgs("cache", {"--log-level", "debug"}),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());
  json prod, copy, staging;
  ASSERT_TRUE(WaitFor(
      [&] {
        prod = Get({"driftreport", "prod", "-n", "plumbline-system"});
        copy = Get({"driftreport", "prod-copy", "-n", "plumbline-system"});
        staging = Get({"driftreport", "staging", "-n", "plumbline-system"});
        return ReportRevision(prod) == head && ReportRevision(copy) == head &&
               ReportRevision(staging) == head;
      },
      std::chrono::seconds(60)))
      << controller.Log();

  // Selected by type: both prod-typed Environments (dev's manifests have 1 replica each),
  // never staging; the Git-bound rule only where it is bound.
  EXPECT_EQ(RulesOf(prod), (std::set<std::string>{"replicas by git-prod"})) << prod.dump(2);
  EXPECT_EQ(RulesOf(copy), (std::set<std::string>{"replicas by prod-type"})) << copy.dump(2);
  EXPECT_EQ(RulesOf(staging), (std::set<std::string>{})) << staging.dump(2);
  EXPECT_EQ(prod["status"]["policySource"]["revision"], head) << prod.dump(2);
  EXPECT_EQ(prod["status"]["policySource"]["path"], "governance");

  // The in-cluster ignore does not silence the env drift the Git-bound set compares...
  bool log_level_reported = false;
  for (const json& d : prod["status"]["drifts"]) {
    if (d.value("path", "").find("env[name=LOG_LEVEL]") != std::string::npos) {
      EXPECT_EQ(d["action"], "report") << d.dump();
      log_level_reported = true;
    }
  }
  EXPECT_TRUE(log_level_reported) << prod.dump(2);

  json env = Get({"environment", "prod"});
  EXPECT_EQ(env["status"]["policies"]["revision"], head) << env.dump(2);
  EXPECT_TRUE(env["status"].contains("lastValidationTime")) << env.dump(2);
}

// The live half of the environment-wide rules: the demo's prod runs checkout (4 replicas) and
// ledger (3) with no PodDisruptionBudget and shop-prod has no default-deny NetworkPolicy. A
// PDB for checkout and a default-deny policy created with kubectl clear those live violations
// (through the watch, no poll); ledger's remains.
TEST_F(KubeGovernanceTest, LivePodDisruptionBudgetsAndNetworkPoliciesAreReadFromTheCluster) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("", "", "", "prod", "1h"));
  auto policy = env_->Kubectl(
      {"apply", "-f", "-"},
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: "
      "availability}\nspec:\n  rules:\n    podDisruptionBudget: {requiredFromReplicas: 2}\n"
      "    networkPolicy: {requireDefaultDeny: true}\n");
  ASSERT_EQ(policy.exit_code, 0) << Describe(policy);
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());
  const std::set<std::string> before = {"networkPolicy Namespace/shop-prod",
                                        "podDisruptionBudget Deployment/checkout",
                                        "podDisruptionBudget StatefulSet/ledger"};
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return LiveRulesOf(report) == before;
      },
      std::chrono::seconds(60)))
      << report.dump(2) << controller.Log();

  auto created = env_->Kubectl(
      {"apply", "-f", "-"},
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: checkout, namespace: "
      "shop-prod}\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels: "
      "{app.kubernetes.io/name: checkout}\n---\napiVersion: networking.k8s.io/v1\nkind: "
      "NetworkPolicy\nmetadata: {name: default-deny, namespace: shop-prod}\nspec:\n  "
      "podSelector: {}\n  policyTypes: [Ingress]\n");
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  auto applied_at = std::chrono::steady_clock::now();
  // The Environment polls Git hourly: only the watch of PDBs and NetworkPolicies can do this.
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return LiveRulesOf(report) ==
               std::set<std::string>{"podDisruptionBudget StatefulSet/ledger"};
      },
      std::chrono::seconds(30)))
      << report.dump(2) << controller.Log();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - applied_at);
  std::cout << "live PDB + NetworkPolicy to updated DriftReport: " << took.count() << " ms\n";
}

}  // namespace
