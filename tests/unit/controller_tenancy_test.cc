// Tenancy (DESIGN.md "Tenancy") on the in-memory API server: enforce mode writes only as a
// ServiceAccount (the Impersonate-User of every apply and removal patch), one the Environment
// names must consent, the apiserver's refusal of it is Forbidden, and a Git credential Secret
// serves only the Environments it lists. Each refusal: Ready=False with its reason, one Event
// on the Environment, and not one write to the workload.
#include <gtest/gtest.h>

#include "plumbline/reconcile/controller.h"
#include "support/fake_kube_client.h"
#include "unit/controller_test_util.h"

namespace plumbline {
namespace {

using namespace controller_test;

const ObjectRef kEnvironment{"plumbline.dev/v1alpha1", "Environment", "", "prod"};

json ServiceAccount(const std::string& name, const std::string& allowed) {
  json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata", {{"name", name}, {"namespace", "plumbline-system"}}}};
  if (!allowed.empty()) {
    sa["metadata"]["annotations"] = {{"plumbline.dev/allowed-environments", allowed}};
  }
  return sa;
}

json GitSecret(const std::string& allowed, const std::string& type = "Opaque") {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"type", type},
                 {"metadata", {{"name", "git-credentials"}, {"namespace", "plumbline-system"}}},
                 {"data", {{"token", "c2VjcmV0LXRva2Vu"}}}};  // "secret-token"
  if (!allowed.empty()) {
    secret["metadata"]["annotations"] = {{"plumbline.dev/allowed-environments", allowed}};
  }
  return secret;
}

class TenancyTest : public ControllerTest {
 protected:
  // Ready's status and reason ("" until the status is written), its message in *message.
  std::string Ready(std::string* message = nullptr) {
    std::optional<json> env = api_.object(kEnvironment);
    if (!env || !env->contains("status")) return "";
    for (const json& c : (*env)["status"]["conditions"]) {
      if (c["type"] != "Ready") continue;
      if (message != nullptr) *message = c.value("message", "");
      return c.value("status", "") + "/" + c.value("reason", "");
    }
    return "";
  }
  // The reasons of the Events raised on the Environment.
  std::vector<std::string> EnvironmentEvents() {
    std::vector<std::string> reasons;
    for (const json& e : api_.writes("create events")) {
      if (e["involvedObject"]["kind"] != "Environment") continue;
      EXPECT_EQ(e["metadata"]["namespace"], "default");
      reasons.push_back(e["reason"]);
    }
    return reasons;
  }
  // Waits for Ready=False with `reason`, then lets a few more reconciles run.
  void ExpectRefused(const std::string& reason, std::string* message = nullptr) {
    ASSERT_TRUE(WaitFor([&] { return Ready(message) == "False/" + reason; })) << Ready() << "\n"
                                                                              << log_text_.str();
    controller_->resync();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(Ready(message), "False/" + reason);
    EXPECT_EQ(EnvironmentEvents(), std::vector<std::string>{reason});
  }
};

TEST_F(TenancyTest, EveryCorrectionIsSentAsTheServiceAccount) {
  api_.put(Workload("2Gi", "debug"), "kubectl-edit");  // an apply and a removal patch
  json live = Workload("2Gi", "info");
  live["spec"]["template"]["spec"]["containers"][0]["env"].push_back(
      {{"name", "EXTRA"}, {"value", "1"}});
  api_.put(live, "kubectl-edit");
  api_.put(EnvironmentObject("prod"));
  Start();
  // Corrected, then (at once, on the watch event of the corrected object) Consistent.
  ASSERT_TRUE(WaitFor([&] {
    return !api_.writers("patch deployments").empty() &&
           (Ready() == "True/Corrected" || Ready() == "True/Consistent");
  })) << log_text_.str();
  const std::string writer = "system:serviceaccount:plumbline-system:plumbline-writer";
  EXPECT_EQ(api_.writers("apply deployments"), std::vector<std::string>{writer});
  EXPECT_EQ(api_.writers("patch deployments"), std::vector<std::string>{writer});
  // The controller's own writes (report, status, Events) stay its own.
  for (const std::string& w : api_.writers("apply driftreports")) EXPECT_EQ(w, "");
  EXPECT_TRUE(EnvironmentEvents().empty());
}

TEST_F(TenancyTest, EnforceWithoutAServiceAccountIsRefused) {
  options_.default_service_account.clear();
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  std::string version = Checkout()["metadata"]["resourceVersion"];
  api_.put(EnvironmentObject("prod"));
  Start();
  std::string message;
  ExpectRefused("ServiceAccountRequired", &message);
  EXPECT_EQ(message,
            "enforce mode writes to workloads only as a ServiceAccount: set "
            "spec.serviceAccountName (the installer set no --default-service-account); drift is "
            "reported, not corrected");
  EXPECT_EQ(api_.calls("apply deployments"), 0);
  EXPECT_EQ(api_.calls("patch deployments"), 0);
  EXPECT_EQ(Checkout()["metadata"]["resourceVersion"], version);
  EXPECT_EQ((*Report())["status"]["drifts"][0]["action"], "report");
}

TEST_F(TenancyTest, ANamedServiceAccountMustListTheEnvironment) {
  struct Case {
    std::string name;
    std::optional<json> account;
    std::string message;
  } cases[] = {
      {"missing", std::nullopt,
       "ServiceAccount plumbline-system/shop-writer (spec.serviceAccountName) does not exist: "
       "enforce mode does not write as it; drift is reported, not corrected"},
      {"not annotated", ServiceAccount("shop-writer", ""),
       "ServiceAccount plumbline-system/shop-writer (spec.serviceAccountName) does not list "
       "Environment prod in its plumbline.dev/allowed-environments annotation: enforce mode does "
       "not write as it; drift is reported, not corrected"},
      {"another tenant's", ServiceAccount("shop-writer", "staging, prod-eu"),
       "ServiceAccount plumbline-system/shop-writer (spec.serviceAccountName) does not list "
       "Environment prod in its plumbline.dev/allowed-environments annotation: enforce mode does "
       "not write as it; drift is reported, not corrected"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeKubeClient api;
    api.put(Workload("2Gi", "info"), "kubectl-edit");
    if (c.account) api.put(*c.account);
    json env = EnvironmentObject("prod");
    env["spec"]["serviceAccountName"] = "shop-writer";
    api.put(env);
    std::ostringstream text;
    Logger log(text, LogLevel::kDebug);
    Controller controller(api, git_, options_, log);
    ASSERT_TRUE(controller.start().ok());
    std::string message;
    ASSERT_TRUE(WaitFor([&] {
      std::optional<json> e = api.object(kEnvironment);
      if (!e || !e->contains("status")) return false;
      for (const json& cond : (*e)["status"]["conditions"]) {
        if (cond["type"] == "Ready" && cond["reason"] == "ServiceAccountRefused") {
          message = cond["message"];
          return true;
        }
      }
      return false;
    })) << text.str();
    EXPECT_EQ(message, c.message);
    EXPECT_EQ(api.calls("apply deployments"), 0);
    std::vector<std::string> on_environment;
    for (const json& e : api.writes("create events")) {
      if (e["involvedObject"]["kind"] == "Environment") on_environment.push_back(e["reason"]);
    }
    EXPECT_EQ(on_environment, std::vector<std::string>{"ServiceAccountRefused"});
    controller.stop();
  }
}

TEST_F(TenancyTest, AConsentingServiceAccountWrites) {
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  api_.put(ServiceAccount("shop-writer", "staging, prod"));
  json env = EnvironmentObject("prod");
  env["spec"]["serviceAccountName"] = "shop-writer";
  api_.put(env);
  Start();
  ASSERT_TRUE(WaitFor([&] { return Memory(Checkout()) == "1Gi"; })) << log_text_.str();
  EXPECT_EQ(api_.writers("apply deployments"),
            std::vector<std::string>{"system:serviceaccount:plumbline-system:shop-writer"});
}

TEST_F(TenancyTest, TheApiServerRefusingTheServiceAccountIsForbidden) {
  api_.authorize = [](const std::string&, const std::string&, const ApiResource&,
                      std::string_view ns) { return ns != "shop"; };
  api_.put(Workload("2Gi", "info"), "kubectl-edit");
  std::string version = Checkout()["metadata"]["resourceVersion"];
  api_.put(EnvironmentObject("prod"));
  Start();
  std::string message;
  ExpectRefused("Forbidden", &message);
  EXPECT_EQ(message,
            "the API server refused the correction of Deployment shop/checkout as "
            "system:serviceaccount:plumbline-system:plumbline-writer: forbidden: "
            "deployments.apps \"checkout\" is forbidden: User "
            "\"system:serviceaccount:plumbline-system:plumbline-writer\" cannot patch resource "
            "\"deployments\" in the namespace \"shop\"");
  EXPECT_EQ(api_.calls("apply deployments"), 1);  // sent once, refused, backing off
  EXPECT_EQ(Checkout()["metadata"]["resourceVersion"], version);
  EXPECT_EQ(Memory(Checkout()), "2Gi");
}

TEST_F(TenancyTest, ASystemNamespaceIsRefusedVisibly) {
  json live = Workload("2Gi", "info");
  live["metadata"]["namespace"] = "kube-system";
  api_.put(live, "kubectl-edit");
  api_.put(EnvironmentObject("prod", "enforce", "kube-system"));
  git_.ns = "kube-system";
  Start();
  std::string message;
  ExpectRefused("NamespaceRefused", &message);
  EXPECT_EQ(message,
            "namespace kube-system: a system namespace, never corrected unless the installer "
            "allows it (--allow-system-namespaces); its drift is reported, not corrected");
  EXPECT_EQ(api_.calls("apply deployments"), 0);
}

TEST_F(TenancyTest, AGitSecretServesOnlyTheEnvironmentsItLists) {
  struct Case {
    std::string name;
    json secret;
    std::string message;  // "" = used
  } cases[] = {
      {"not annotated", GitSecret(""),
       "Secret plumbline-system/git-credentials: is not meant for Environment prod: its "
       "plumbline.dev/allowed-environments annotation must list it (comma-separated names)"},
      {"another Environment's", GitSecret("staging,production"),
       "Secret plumbline-system/git-credentials: is not meant for Environment prod: its "
       "plumbline.dev/allowed-environments annotation must list it (comma-separated names)"},
      {"a ServiceAccount token", GitSecret("prod", "kubernetes.io/service-account-token"),
       "Secret plumbline-system/git-credentials: is a ServiceAccount token (type "
       "kubernetes.io/service-account-token), not Git credentials: refused"},
      {"listed", GitSecret("staging, prod"), ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeKubeClient api;
    MemoryGit git;
    api.put(Workload("2Gi", "info"), "kubectl-edit");
    api.put(c.secret);
    json env = EnvironmentObject("prod", "report");
    env["spec"]["source"]["secretRef"] = {{"name", "git-credentials"}};
    api.put(env);
    std::ostringstream text;
    Logger log(text, LogLevel::kDebug);
    Controller controller(api, git, options_, log);
    ASSERT_TRUE(controller.start().ok());
    std::string reason, message;
    ASSERT_TRUE(WaitFor([&] {
      std::optional<json> e = api.object(kEnvironment);
      if (!e || !e->contains("status")) return false;
      for (const json& cond : (*e)["status"]["conditions"]) {
        if (cond["type"] == "Ready") {
          reason = cond["reason"];
          message = cond["message"];
        }
      }
      return true;
    })) << text.str();
    if (c.message.empty()) {
      EXPECT_EQ(reason, "DriftDetected");
      EXPECT_EQ(git.opens, 1);
      EXPECT_EQ(api.writes("create events").size(), 1u);  // the drift's, not a refusal
    } else {
      EXPECT_EQ(reason, "CredentialsRefused");
      EXPECT_EQ(message, c.message);
      EXPECT_EQ(git.opens, 0);
      ASSERT_EQ(api.writes("create events").size(), 1u);
      EXPECT_EQ(api.writes("create events")[0]["reason"], "CredentialsRefused");
    }
    EXPECT_EQ(text.str().find("secret-token"), std::string::npos);
    controller.stop();
  }
}

TEST_F(TenancyTest, ProcessWideCredentialsNeedTheirHost) {
  options_.git_auth.password = "secret-token";
  Controller controller(api_, git_, options_, log_);
  Status started = controller.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().message(),
            "process-wide Git credentials (PLUMBLINE_GIT_TOKEN, PLUMBLINE_GIT_PASSWORD or "
            "PLUMBLINE_GIT_SSH_KEY) need PLUMBLINE_GIT_HOST, the host they belong to; without it "
            "an Environment could send them to a host of its choice");
  options_.git_auth.host = "git.test";
  Controller bound(api_, git_, options_, log_);
  EXPECT_TRUE(bound.start().ok());
  bound.stop();
}

}  // namespace
}  // namespace plumbline
