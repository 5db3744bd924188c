// Tenancy against a real kube-apiserver with real RBAC (DESIGN.md "Tenancy"): the controller
// runs as deploy/'s ServiceAccount (no `patch` on workloads; `impersonate` only in its own
// namespace) and enforce mode writes as the ServiceAccount an Environment names. Each
// escalation attempt — a ServiceAccount without rights in the target namespace, one that does
// not consent, kube-system, another Environment's Git Secret, a ServiceAccount token Secret, a
// file:// source — is refused with Ready=False and its reason, one Event on the Environment,
// and not one write to the workloads (resourceVersion and managedFields unchanged). Then an
// Environment with a consenting, entitled ServiceAccount and its own Secret corrects.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "integration/controller_fixture.h"

namespace {

using namespace plumbline::testing;
using namespace std::chrono_literals;

// Tenants' ServiceAccounts in the controller's namespace, and what their RBAC allows.
const char* kTenants = R"(
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: workload-patcher}
rules:
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets, replicasets]
  verbs: [patch]
---
# shop-writer may patch in shop-prod only, and serves Environment shop only.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop-writer
  namespace: plumbline-system
  annotations: {plumbline.dev/allowed-environments: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shop-writer, namespace: shop-prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: workload-patcher}
subjects: [{kind: ServiceAccount, name: shop-writer, namespace: plumbline-system}]
---
# team-b-writer consents to attack-rbac but may patch in team-b only.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: team-b-writer
  namespace: plumbline-system
  annotations: {plumbline.dev/allowed-environments: attack-rbac}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-b-writer, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: workload-patcher}
subjects: [{kind: ServiceAccount, name: team-b-writer, namespace: plumbline-system}]
---
# cluster-writer may patch everywhere, kube-system included.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: cluster-writer
  namespace: plumbline-system
  annotations: {plumbline.dev/allowed-environments: attack-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-writer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: workload-patcher}
subjects: [{kind: ServiceAccount, name: cluster-writer, namespace: plumbline-system}]
---
apiVersion: v1
kind: Secret
metadata:
  name: sa-token
  namespace: plumbline-system
  annotations:
    kubernetes.io/service-account.name: plumbline-controller
    plumbline.dev/allowed-environments: attack-token
type: kubernetes.io/service-account-token
)";

// A Deployment in kube-system that Git declares with another memory limit.
const char* kSystemDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: dns, namespace: kube-system}
spec:
  selector: {matchLabels: {app: dns}}
  template:
    metadata: {labels: {app: dns}}
    spec:
      containers:
      - name: dns
        image: dns:1
        resources: {limits: {memory: MEMORY}}
)";

class KubeTenancyTest : public KubeControllerTest {
 protected:
  // An enforce-mode Environment; `spec` and `source` add fields.
  void ApplyEnv(const std::string& name, const std::string& spec, const std::string& source = "",
                const std::string& path = "manifests/envs/prod",
                const std::string& namespaces = "[shop-prod]", std::string url = "") {
    if (url.empty()) url = "git://127.0.0.1:" + std::to_string(port_) + "/ops.git";
    auto r = env_->Kubectl(
        {"apply", "-f", "-"},
        "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: "
        "{name: " +
            name + "}\nspec:\n  source: {url: \"" + url + "\", ref: main, path: " + path + source +
            "}\n  namespaces: " + namespaces + "\n  interval: 2s\n  mode: enforce\n" + spec);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  // Ready's reason once it is False with one (its message in *message).
  bool WaitRefused(const std::string& name, const std::string& reason, std::string* message) {
    return WaitFor(
        [&] {
          json env = Get({"environment", name});
          if (ConditionOf(env, "Ready", message) != "False") return false;
          for (const json& c : env["status"]["conditions"]) {
            if (c["type"] == "Ready") return c.value("reason", "") == reason;
          }
          return false;
        },
        30s);
  }
  // The reasons of the Events on Environment `name`.
  std::vector<std::string> EventReasons(const std::string& name) {
    json events = Get({"events", "-n", "default", "--field-selector",
                       "involvedObject.kind=Environment,involvedObject.name=" + name});
    std::vector<std::string> reasons;
    if (!events.is_object()) return {"<no answer>"};
    for (const json& e : events["items"]) reasons.push_back(e.value("reason", ""));
    return reasons;
  }
  // What a write would change: the version and the managers of a workload.
  std::string Fingerprint(const std::string& ns, const std::string& name) {
    json object = Get({"deployment", name, "-n", ns, "--show-managed-fields"});
    if (!object.is_object()) return "<missing>";
    return object["metadata"].value("resourceVersion", "") + " " +
           object["metadata"]["managedFields"].dump();
  }
};

TEST_F(KubeTenancyTest, EscalationsAreRefusedVisiblyWithoutAWrite) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  auto deployed = env_->Kubectl({"apply", "-k", kSource + "/deploy"});
  ASSERT_EQ(deployed.exit_code, 0) << Describe(deployed);
  auto tenants = env_->Kubectl({"apply", "-f", "-"}, kTenants);
  ASSERT_EQ(tenants.exit_code, 0) << Describe(tenants);
  ASSERT_NO_FATAL_FAILURE(ApplyGitSecret("shop-git", {{"token", "unused-by-git-daemon"}}, "shop"));

  // Git declares dns in kube-system with 128Mi; the cluster runs it with 256Mi.
  std::string dns = kSystemDeployment;
  dns.replace(dns.find("MEMORY"), 6, "128Mi");
  fs::create_directories(dir_ / "work/manifests/envs/system");
  std::ofstream(dir_ / "work/manifests/envs/system/dns.yaml") << dns;
  Commit("dns");
  Push();
  dns = kSystemDeployment;
  dns.replace(dns.find("MEMORY"), 6, "256Mi");
  auto system = env_->Kubectl({"apply", "-f", "-"}, dns);
  ASSERT_EQ(system.exit_code, 0) << Describe(system);

  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto drifted = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json", "--field-manager=human",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
  ASSERT_EQ(drifted.exit_code, 0) << Describe(drifted);
  const std::string checkout_before = Fingerprint("shop-prod", "checkout");
  const std::string dns_before = Fingerprint("kube-system", "dns");

  std::string error;
  const std::string kubeconfig =
      env_->ServiceAccountKubeconfig("plumbline-system", "plumbline-controller", &error);
  ASSERT_FALSE(kubeconfig.empty()) << error;
  Background controller(ControllerArgs("cache", {}, kubeconfig),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  struct Attempt {
    std::string name, reason, message;  // message: a part of Ready's message
    std::string spec, source, path = "manifests/envs/prod", namespaces = "[shop-prod]", url;
  } attempts[] = {
      {"attack-rbac", "Forbidden",
       "User \"system:serviceaccount:plumbline-system:team-b-writer\" cannot patch resource "
       "\"deployments\"",
       "  serviceAccountName: team-b-writer\n"},
      {"attack-sa", "ServiceAccountRefused",
       "ServiceAccount plumbline-system/shop-writer (spec.serviceAccountName) does not list "
       "Environment attack-sa in its plumbline.dev/allowed-environments annotation",
       "  serviceAccountName: shop-writer\n"},
      {"attack-system", "NamespaceRefused",
       "namespace kube-system: a system namespace, never corrected unless the installer allows "
       "it (--allow-system-namespaces)",
       "  serviceAccountName: cluster-writer\n", "", "manifests/envs/system", "[kube-system]"},
      {"attack-secret", "CredentialsRefused",
       "Secret plumbline-system/shop-git: is not meant for Environment attack-secret",
       "  serviceAccountName: shop-writer\n", ", secretRef: {name: shop-git}"},
      {"attack-token", "CredentialsRefused",
       "Secret plumbline-system/sa-token: is a ServiceAccount token (type "
       "kubernetes.io/service-account-token), not Git credentials: refused",
       "  serviceAccountName: shop-writer\n", ", secretRef: {name: sa-token}"},
      {"attack-file", "SourceRefused", "local paths and file:// URLs are refused",
       "  serviceAccountName: shop-writer\n", "", "manifests/envs/prod", "[shop-prod]",
       "file://" + (dir_ / "srv" / "ops.git").string()},
  };
  for (const Attempt& a : attempts) {
    SCOPED_TRACE(a.name);
    auto start = std::chrono::steady_clock::now();
    ASSERT_NO_FATAL_FAILURE(ApplyEnv(a.name, a.spec, a.source, a.path, a.namespaces, a.url));
    std::string message;
    ASSERT_TRUE(WaitRefused(a.name, a.reason, &message))
        << message << "\n"
        << Get({"environment", a.name}).dump(2) << controller.Log();
    EXPECT_NE(message.find(a.message), std::string::npos) << message;
    // Refused again at later reconciles (2 s interval), still with one Event.
    std::this_thread::sleep_for(2500ms);
    EXPECT_TRUE(WaitRefused(a.name, a.reason, &message));
    EXPECT_EQ(EventReasons(a.name), std::vector<std::string>{a.reason});
    EXPECT_EQ(Fingerprint("shop-prod", "checkout"), checkout_before);
    EXPECT_EQ(Fingerprint("kube-system", "dns"), dns_before);
    std::printf(
        "[ refused  ] %s: %s (%.1f s)\n", a.name.c_str(), a.reason.c_str(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() - 2.5);
    auto deleted = env_->Kubectl({"delete", "environment", a.name});
    ASSERT_EQ(deleted.exit_code, 0) << Describe(deleted);
  }
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");
  EXPECT_EQ(controller.Log().find("unused-by-git-daemon"), std::string::npos);

  // The allowed case: its own ServiceAccount (entitled in shop-prod) and its own Secret.
  ASSERT_NO_FATAL_FAILURE(
      ApplyEnv("shop", "  serviceAccountName: shop-writer\n", ", secretRef: {name: shop-git}"));
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, 30s))
      << Get({"environment", "shop"}).dump(2) << controller.Log();
  json checkout = Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  bool managed = false;
  for (const json& m : checkout["metadata"]["managedFields"]) {
    managed = managed || m.value("manager", "") == "plumbline/shop";
  }
  EXPECT_TRUE(managed) << checkout["metadata"]["managedFields"].dump(2);
  EXPECT_TRUE(WaitFor(
      [&] {
        return ConditionOf(Get({"environment", "shop"}), "Ready", nullptr) == "True";
      },
      30s));
  EXPECT_TRUE(EventReasons("shop").empty());
  // The controller itself could not have written it.
  auto can = env_->Kubectl({"auth", "can-i", "patch", "deployments.apps", "-n", "shop-prod",
                            "--as=system:serviceaccount:plumbline-system:plumbline-controller"});
  EXPECT_EQ(can.out.substr(0, 2), "no") << Describe(can);
}

}  // namespace
