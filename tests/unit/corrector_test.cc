// correction_patch: only the drifted fields, keys of list elements kept, unmasked Git values.
#include "plumbline/corrector.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

Manifest Checkout() {
  Manifest m;
  m.object = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "checkout", "namespace": "shop-prod"},
    "spec": {"replicas": 3, "template": {"spec": {
      "securityContext": {"seccompProfile": {"type": "RuntimeDefault"},
                          "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
      "containers": [
        {"name": "sidecar", "image": "proxy:1"},
        {"name": "app", "image": "app:1",
         "env": [{"name": "TZ", "value": "UTC"}, {"name": "DB_PASSWORD", "value": "s3cret"}],
         "resources": {"limits": {"memory": "1Gi", "cpu": "2"}},
         "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}}}})");
  return m;
}

Drift At(const std::string& path, DriftType type = DriftType::kChanged) {
  Drift d;
  d.object = {"apps/v1", "Deployment", "shop-prod", "checkout"};
  d.path = path;
  d.type = type;
  d.desired = "<redacted>";  // reports hold masked values; patches never use them
  return d;
}

TEST(CorrectorTest, OnlyTheDriftedFieldsWithTheirListKeys) {
  auto patch = correction_patch(
      Checkout(), {At("spec.template.spec.containers[name=app].resources.limits.memory"),
                   At("spec.template.spec.containers[name=app].env[name=DB_PASSWORD].value"),
                   At("spec.template.spec.securityContext.seccompProfile.type")});
  ASSERT_TRUE(patch.ok()) << patch.error().to_string();
  EXPECT_EQ(*patch, json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "checkout", "namespace": "shop-prod"},
    "spec": {"template": {"spec": {
      "containers": [{"name": "app", "resources": {"limits": {"memory": "1Gi"}},
                      "env": [{"name": "DB_PASSWORD", "value": "s3cret"}]}],
      "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}}}})"));
}

TEST(CorrectorTest, SetsAreSentWholeAndMissingElementsEntire) {
  auto patch = correction_patch(
      Checkout(),
      {At("spec.template.spec.containers[name=app].securityContext.capabilities.drop[ALL]",
          DriftType::kMissing),
       At("spec.template.spec.securityContext.sysctls[name=net.core.somaxconn]",
          DriftType::kMissing)});
  ASSERT_TRUE(patch.ok()) << patch.error().to_string();
  EXPECT_EQ((*patch)["spec"]["template"]["spec"]["containers"][0]["securityContext"],
            json::parse(R"({"capabilities": {"drop": ["ALL"]}})"));
  EXPECT_EQ((*patch)["spec"]["template"]["spec"]["securityContext"]["sysctls"],
            json::parse(R"([{"name": "net.core.somaxconn", "value": "1024"}])"));
}

TEST(CorrectorTest, ExtraAndObjectLevelDriftsAreNotCorrected) {
  Drift extra = At("spec.template.spec.hostNetwork", DriftType::kExtra);
  EXPECT_FALSE(correctable(extra));
  Drift missing_object = At("", DriftType::kObjectMissing);
  EXPECT_FALSE(correctable(missing_object));
  auto patch = correction_patch(Checkout(), {extra});
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().to_string(),
            "a extra drift at 'spec.template.spec.hostNetwork' is not corrected by apply");
}

TEST(CorrectorTest, FieldsGitDoesNotDeclareAreErrors) {
  auto patch = correction_patch(
      Checkout(), {At("spec.template.spec.containers[name=web].resources.limits.memory")});
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().to_string(),
            "Deployment shop-prod/checkout: Git does not declare "
            "spec.template.spec.containers[name=web].resources.limits.memory");
}

}  // namespace
}  // namespace plumbline
