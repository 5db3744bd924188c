// plan_object_correction: the whole enforced part of Git (never just today's drift), ignored
// fields never sent, out-of-band additions removed by name, safe values in the same request.
#include "plumbline/correct/corrector.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

const ObjectRef kCheckout{"apps/v1", "Deployment", "shop-prod", "checkout"};
constexpr std::string_view kManager = "plumbline/prod";

Manifest Checkout() {
  Manifest m;
  m.object = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "checkout", "namespace": "shop-prod"},
    "spec": {"replicas": 3, "template": {"spec": {
      "securityContext": {"seccompProfile": {"type": "RuntimeDefault"},
                          "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
      "containers": [
        {"name": "app", "image": "app:1",
         "env": [{"name": "TZ", "value": "UTC"}, {"name": "DB_PASSWORD", "value": "s3cret"}],
         "resources": {"limits": {"memory": "1Gi", "cpu": "2"}, "requests": {"cpu": "1"}},
         "securityContext": {"allowPrivilegeEscalation": false,
                             "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}}}})");
  return m;
}

// The live object: Git's fields plus `changes`, merged; managedFields as given.
json Live(const json& changes = json::object(), const json& managed = json::array()) {
  json live = Checkout().object;
  live.merge_patch(changes);
  live["metadata"]["resourceVersion"] = "100";
  live["metadata"]["managedFields"] = managed;
  return live;
}

Drift At(const std::string& path, DriftType type = DriftType::kChanged,
         Action action = Action::kReport) {
  Drift d;
  d.object = kCheckout;
  d.path = path;
  d.type = type;
  d.action = action;
  d.desired = "<redacted>";  // reports hold masked values; requests never use them
  return d;
}

struct Fixture {
  DiffOptions options;
  std::vector<Policy> policies;
  CorrectionContext context() const {
    return {.options = options, .policies = policies, .field_manager = kManager};
  }
};

// Git's enforced part of the demo object, as every correction sends it.
const json kWholeConfiguration = json::parse(R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "checkout", "namespace": "shop-prod"},
  "spec": {"template": {"spec": {
    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"},
                        "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
    "containers": [{"name": "app",
      "resources": {"limits": {"memory": "1Gi", "cpu": "2"}, "requests": {"cpu": "1"}},
      "env": [{"name": "TZ", "value": "UTC"}, {"name": "DB_PASSWORD", "value": "s3cret"}],
      "securityContext": {"allowPrivilegeEscalation": false,
                          "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}}}})");

TEST(CorrectorTest, SendsTheWholeEnforcedPartOfGitWhateverDrifted) {
  Fixture f;
  const char* memory = "spec.template.spec.containers[name=app].resources.limits.memory";
  auto c = plan_object_correction(Checkout(), Live(), {At(memory)}, f.context());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  // Not image or replicas (out of scope); the secret's real value, never the masked one.
  EXPECT_EQ(c->apply, kWholeConfiguration) << c->apply.dump(2);
  EXPECT_TRUE(c->removal.is_null());
  EXPECT_EQ(c->fixes, std::vector<size_t>{0});

  // Another field drifting later gives the very same configuration: nothing owned is dropped.
  auto later = plan_object_correction(
      Checkout(), Live(), {At("spec.template.spec.containers[name=app].env[name=TZ].value")},
      f.context());
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->apply, c->apply);
}

TEST(CorrectorTest, IgnoredFieldsAreNeverSentUnlessPlumblineOwnsThem) {
  Fixture f;
  Policy vpa;
  vpa.name = "vpa";
  vpa.ignore.push_back(
      {.path = "", .categories = {Category::kResources}, .managers = {"vpa-recommender"}});
  vpa.ignore.push_back(
      {.path = "spec.template.spec.containers[*].env[name=TZ]", .categories = {}, .managers = {}});
  f.policies = {vpa};
  json managed = json::parse(R"([
    {"manager": "vpa-recommender", "operation": "Update", "fieldsV1": {"f:spec": {"f:template":
      {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:resources": {"f:requests":
      {"f:cpu": {}}}}}}}}}},
    {"manager": "plumbline/prod", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template":
      {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:env": {"k:{\"name\":\"TZ\"}":
      {".": {}, "f:name": {}, "f:value": {}}}}}}}}}}])");
  json live =
      Live(json::parse(R"({"spec": {"template": {"spec": {"containers": null}}}})"), managed);
  live["spec"]["template"]["spec"]["containers"] =
      Checkout().object["spec"]["template"]["spec"]["containers"];
  live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1500m";
  live["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "Europe/Paris";

  auto c = plan_object_correction(
      Checkout(), live, {At("spec.template.spec.containers[name=app].resources.limits.cpu")},
      f.context());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const json& app = c->apply["spec"]["template"]["spec"]["containers"][0];
  // The autoscaler keeps its requests: not sent, never taken over.
  EXPECT_FALSE(app["resources"].contains("requests")) << app.dump(2);
  // TZ is ignored, but plumbline owns it: sent with its live value, so it is not deleted.
  EXPECT_EQ(app["env"][0], json::parse(R"({"name": "TZ", "value": "Europe/Paris"})"));
  EXPECT_EQ(app["resources"]["limits"]["memory"], "1Gi");
}

TEST(CorrectorTest, OutOfBandAdditionsAreRemovedOrResetInOneCorrection) {
  Fixture f;
  const std::string app = "spec.template.spec.containers[name=app]";
  std::vector<Drift> drifts = {
      At(app + ".env[name=DEBUG_PPROF]", DriftType::kExtra),
      At(app + ".securityContext.capabilities.add[SYS_ADMIN]", DriftType::kExtra),
      At(app + ".securityContext.privileged", DriftType::kExtra),
      At("spec.template.spec.hostNetwork", DriftType::kExtra),
      At(app + ".securityContext.seccompProfile.type", DriftType::kExtra),
      At("spec.template.spec.securityContext.sysctls[name=kernel.msgmax]", DriftType::kExtra),
      At(app + ".securityContext.runAsUser", DriftType::kExtra),
  };
  auto c = plan_object_correction(Checkout(), Live(), drifts, f.context());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->fixes, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6}));
  json expected = kWholeConfiguration;
  // Safe values in the apply itself: never privileged beside allowPrivilegeEscalation: false.
  expected["spec"]["template"]["spec"]["hostNetwork"] = false;
  expected["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = false;
  // capabilities.add and sysctls are atomic: Git's whole list replaces the live one.
  EXPECT_EQ(c->apply, expected) << c->apply.dump(2);
  // Named removals: the env var by its key, the loosened fields without a safe value.
  EXPECT_EQ(c->removal, json::parse(R"({"spec": {"template": {"spec": {"containers": [
      {"name": "app",
       "env": [{"name": "DEBUG_PPROF", "$patch": "delete"}],
       "securityContext": {"seccompProfile": null, "runAsUser": null}}]}}}})"))
      << c->removal.dump(2);
}

TEST(CorrectorTest, AnAtomicListGitDoesNotDeclareIsEmptied) {
  Fixture f;
  Manifest bare = Checkout();
  bare.object["spec"]["template"]["spec"]["containers"][0]["securityContext"].erase("capabilities");
  auto c = plan_object_correction(
      bare, Live(),
      {At("spec.template.spec.containers[name=app].securityContext.capabilities.add[SYS_ADMIN]",
          DriftType::kExtra)},
      f.context());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->apply["spec"]["template"]["spec"]["containers"][0]["securityContext"],
            json::parse(R"({"allowPrivilegeEscalation": false, "capabilities": {"add": []}})"));
}

TEST(CorrectorTest, WhatIsNotPlumblinesIsLeftAlone) {
  Fixture f;
  std::vector<Drift> drifts = {
      // A container Git does not declare (someone else's sidecar).
      At("spec.template.spec.containers[name=istio-proxy].env[name=X]", DriftType::kExtra),
      At("", DriftType::kObjectMissing),
      At("spec.template.spec.containers[name=app].resources.limits.cpu", DriftType::kChanged,
         Action::kIgnored),
  };
  auto c = plan_object_correction(Checkout(), Live(), drifts, f.context());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->fixes.empty());
  EXPECT_TRUE(c->removal.is_null());
}

TEST(CorrectorTest, AContestedFieldIsNoLongerSent) {
  Fixture f;
  const std::string app = "spec.template.spec.containers[name=app]";
  std::vector<Drift> drifts = {
      At(app + ".resources.limits.memory", DriftType::kChanged, Action::kContested),
      At(app + ".env[name=TZ].value", DriftType::kChanged, Action::kContested),
      At(app + ".resources.limits.cpu"),
  };
  auto c = plan_object_correction(Checkout(), Live(), drifts, f.context());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const json& container = c->apply["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["resources"]["limits"], json::parse(R"({"cpu": "2"})"));
  // Inside a whole list element, only the contested field is cut out; the key stays.
  EXPECT_EQ(container["env"][0], json::parse(R"({"name": "TZ"})"));
  EXPECT_EQ(c->fixes, std::vector<size_t>{2});
}

TEST(CorrectorTest, DriftsOfAnotherObjectAreAnError) {
  Fixture f;
  Drift other = At("spec.template.spec.containers[name=app].resources.limits.cpu");
  other.object.name = "ledger";
  auto c = plan_object_correction(Checkout(), Live(), {other}, f.context());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(
      c.error().message(),
      "drift of Deployment shop-prod/ledger in a correction of Deployment shop-prod/checkout");
}

TEST(CorrectorTest, OneFieldManagerPerEnvironment) {
  EXPECT_EQ(field_manager_for("prod"), "plumbline/prod");
  std::string manager = field_manager_for(std::string(200, 'e'));
  EXPECT_EQ(manager.size(), 128u);
  EXPECT_EQ(manager.substr(0, 10), "plumbline/");
  EXPECT_NE(manager, field_manager_for(std::string(199, 'e') + "f"));
}

}  // namespace
}  // namespace plumbline
