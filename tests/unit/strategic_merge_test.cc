// Strategic merge patch edge cases: merge keys, directives, null deletion, replaced lists.
#include <gtest/gtest.h>

#include "render/patch.h"

namespace plumbline::renderer {
namespace {

json merge(const json& base, const json& patch) {
  auto result = apply_strategic_merge(base, patch);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
  return result.ok() ? *result : json();
}

const json kPod = json::parse(R"({
  "spec": {"containers": [
    {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
     "ports": [{"containerPort": 8080}], "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
    {"name": "side", "image": "s:1"}],
   "tolerations": [{"key": "a", "operator": "Exists"}],
   "volumes": [{"name": "v", "emptyDir": {}}]}})");

TEST(StrategicMergeTest, MergesContainersAndEnvByName) {
  json out = merge(kPod, json::parse(R"({"spec": {"containers": [
      {"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}})"));
  const json& app = out["spec"]["containers"][0];
  EXPECT_EQ(app["image"], "a:1");
  // Patch order first, then the base elements the patch does not mention (as kubectl).
  EXPECT_EQ(app["env"], json::parse(R"([{"name":"B","value":"3"},{"name":"C","value":"4"},
                                        {"name":"A","value":"1"}])"));
  EXPECT_EQ(out["spec"]["containers"].size(), 2u);
}

TEST(StrategicMergeTest, PortsByContainerPortAndMountsByMountPath) {
  json out = merge(kPod, json::parse(R"({"spec": {"containers": [{"name": "app",
      "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090}],
      "volumeMounts": [{"mountPath": "/v", "readOnly": true}]}]}})"));
  const json& app = out["spec"]["containers"][0];
  EXPECT_EQ(app["ports"],
            json::parse(R"([{"containerPort":8080,"name":"http"},{"containerPort":9090}])"));
  EXPECT_EQ(app["volumeMounts"], json::parse(R"([{"name":"v","mountPath":"/v","readOnly":true}])"));
}

TEST(StrategicMergeTest, ServicePortsByPort) {
  json svc = json::parse(R"({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}})");
  json out = merge(svc, json::parse(R"({"spec": {"ports": [{"port": 80, "name": "http"}]}})"));
  EXPECT_EQ(out["spec"]["ports"], json::parse(R"([{"port":80,"targetPort":8080,"name":"http"}])"));
}

TEST(StrategicMergeTest, TolerationsAreReplaced) {
  json out = merge(kPod, json::parse(R"({"spec": {"tolerations": [{"key": "b"}]}})"));
  EXPECT_EQ(out["spec"]["tolerations"], json::parse(R"([{"key":"b"}])"));
}

TEST(StrategicMergeTest, DeleteDirectiveRemovesListElementAndKey) {
  json out = merge(kPod, json::parse(R"({"spec": {"containers": [
      {"name": "side", "$patch": "delete"},
      {"name": "app", "env": [{"name": "A", "$patch": "delete"}], "volumeMounts": null}]}})"));
  ASSERT_EQ(out["spec"]["containers"].size(), 1u);
  EXPECT_EQ(out["spec"]["containers"][0]["env"], json::parse(R"([{"name":"B","value":"2"}])"));
  EXPECT_FALSE(out["spec"]["containers"][0].contains("volumeMounts"));
}

TEST(StrategicMergeTest, DeleteOfMissingElementIsIgnored) {
  json out =
      merge(kPod, json::parse(R"({"spec": {"containers": [{"name": "x", "$patch": "delete"}]}})"));
  EXPECT_EQ(out, kPod);
}

TEST(StrategicMergeTest, ReplaceDirectiveOnMapAndList) {
  json out = merge(kPod, json::parse(R"({"spec": {
      "volumes": [{"$patch": "replace"}, {"name": "w", "emptyDir": {}}],
      "containers": [{"name": "app", "$patch": "replace", "image": "b:2"}]}})"));
  EXPECT_EQ(out["spec"]["volumes"], json::parse(R"([{"name":"w","emptyDir":{}}])"));
  EXPECT_EQ(out["spec"]["containers"][0], json::parse(R"({"name":"app","image":"b:2"})"));
}

TEST(StrategicMergeTest, NullDeletesAndNewMapsDropNulls) {
  json out = merge(json::parse(R"({"a": 1, "b": {"c": 2}})"),
                   json::parse(R"({"a": null, "d": {"e": null, "f": 1}})"));
  EXPECT_EQ(out, json::parse(R"({"b":{"c":2},"d":{"f":1}})"));
}

TEST(StrategicMergeTest, TopLevelDeleteYieldsNull) {
  auto out = apply_strategic_merge(kPod, json::parse(R"({"$patch": "delete"})"));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->is_null());
}

TEST(StrategicMergeTest, RejectsBadInput) {
  EXPECT_FALSE(apply_strategic_merge(kPod, json::array()).ok());
  EXPECT_FALSE(apply_strategic_merge(kPod, json::parse(R"({"$patch": "explode"})")).ok());
  EXPECT_FALSE(
      apply_strategic_merge(kPod, json::parse(R"({"spec": {"containers": [{"image": "x"}]}})"))
          .ok());
}

TEST(StrategicMergeTest, DeepNestingIsAnErrorNotACrash) {
  json patch = json::object();
  json* node = &patch;
  for (int i = 0; i < 1000; ++i) node = &((*node)["a"] = json::object());
  EXPECT_FALSE(apply_strategic_merge(json::object(), patch).ok());
}

// kustomize applies only `$patch`; the API server's other directives are copied as fields,
// exactly as `kubectl kustomize` prints them (conformance case smp-other-directives).
TEST(StrategicMergeTest, OnlyPatchIsADirective) {
  json out = merge(json::parse(R"({"finalizers": ["a", "b", "c"], "s": {"x": 1, "y": 2}})"),
                   json::parse(R"({"$deleteFromPrimitiveList/finalizers": ["b"],
                                   "s": {"$retainKeys": ["x"], "x": 3},
                                   "$setElementOrder/finalizers": ["c", "a"]})"));
  EXPECT_EQ(out, json::parse(R"({"finalizers": ["a", "b", "c"],
                                 "$deleteFromPrimitiveList/finalizers": ["b"],
                                 "$setElementOrder/finalizers": ["c", "a"],
                                 "s": {"$retainKeys": ["x"], "x": 3, "y": 2}})"));
}

}  // namespace
}  // namespace plumbline::renderer
