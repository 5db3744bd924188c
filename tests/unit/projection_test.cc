// The Projector: what is kept, errors, and the key property —
// drift and policy findings on projected objects equal those on whole objects.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "../../bench/workload_generator.h"
#include "plumbline/cache/live_store.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/diff/drift.h"
#include "plumbline/evaluate/environment_evaluation.h"
#include "plumbline/policy/policy.h"
#include "plumbline/process/thread_task_runner.h"
#include "plumbline/render/render.h"
#include "plumbline/report/report.h"
#include "plumbline/snapshot/snapshot.h"

namespace plumbline {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string fixture(const std::string& name) {
  return read_file(std::string(PLUMBLINE_FIXTURES_DIR) + "/live/" + name);
}

std::vector<json> live_snapshot(const std::string& env) {
  std::string file = std::string(PLUMBLINE_SOURCE_DIR) + "/manifests/live/" + env + ".yaml";
  auto live = parse_live_snapshot(read_file(file), file);
  EXPECT_TRUE(live.ok()) << live.error().to_string();
  return live.ok() ? *live : std::vector<json>{};
}

LiveObject project_ok(const Projector& projector, const json& object,
                      std::string_view api_version = {}, std::string_view kind = {}) {
  auto projected = projector.project(object.dump(), api_version, kind);
  EXPECT_TRUE(projected.ok()) << projected.error().to_string();
  return projected.ok() ? *projected : LiveObject{};
}

// ---------------------------------------------------------------------------------------------
// What is kept.

TEST(Projection, RealApiserverDeploymentKeepsOnlyInScopeFields) {
  std::vector<json> live = live_snapshot("prod");
  ASSERT_FALSE(live.empty());
  ASSERT_EQ(live[0]["metadata"]["name"], "checkout");
  LiveObject o = project_ok(Projector(), live[0]);
  EXPECT_EQ(o.ref, (ObjectRef{"apps/v1", "Deployment", "shop-prod", "checkout"}));
  EXPECT_EQ(o.uid, "f9c879cb-206a-4f0b-813f-6a4c7abf95ae");
  EXPECT_EQ(o.resource_version, "224");
  EXPECT_EQ(o.projection + "\n", fixture("checkout.projection.json"));
  // Dropped: status, annotations, probes, ports, strategy, defaults, creationTimestamp.
  json j = o.to_json();
  EXPECT_FALSE(j.contains("status"));
  EXPECT_FALSE(j["metadata"].contains("creationTimestamp"));
  EXPECT_FALSE(j["spec"].contains("replicas"));  // replicas is opt-in
  const json& app = j["spec"]["template"]["spec"]["containers"][0];
  EXPECT_FALSE(app.contains("ports"));
  EXPECT_FALSE(app.contains("image"));  // image is opt-in
  EXPECT_FALSE(app.contains("terminationMessagePath"));
  EXPECT_EQ(app["resources"]["limits"]["memory"], "2Gi");
}

TEST(Projection, OptInCategoriesAndNarrowScope) {
  std::vector<json> live = live_snapshot("prod");
  ASSERT_FALSE(live.empty());
  json j = project_ok(Projector(all_categories()), live[0]).to_json();
  EXPECT_EQ(j["spec"]["replicas"], 4);
  EXPECT_EQ(j["spec"]["template"]["metadata"]["labels"],
            (json{{"app.kubernetes.io/name", "checkout"}}));
  EXPECT_EQ(j["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example/shop/checkout:1.8.2");

  // Only resources: no env, no securityContext; container names stay; fieldsV1 pruned the same.
  LiveObject narrow = project_ok(Projector({Category::kResources}), live[0]);
  EXPECT_EQ(
      narrow.projection,
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"checkout",)"
      R"("namespace":"shop-prod","uid":"f9c879cb-206a-4f0b-813f-6a4c7abf95ae",)"
      R"("resourceVersion":"224","labels":{"app.kubernetes.io/name":"checkout",)"
      R"("app.kubernetes.io/part-of":"shop","plumbline.dev/environment":"prod"},)"
      R"("managedFields":[)"
      R"({"manager":"argocd-controller","operation":"Apply","time":"2026-11-23T09:49:10Z",)"
      R"("fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":)"
      R"({".":{},"f:resources":{"f:limits":{"f:cpu":{}},"f:requests":{"f:memory":{}}}}}}}}}},)"
      R"({"manager":"kubectl-edit","operation":"Update","time":"2026-11-23T09:49:10Z",)"
      R"("fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":)"
      R"({"f:resources":{"f:limits":{"f:memory":{}}}}}}}}}},)"
      R"({"manager":"vpa-recommender","operation":"Update","time":"2026-11-23T09:49:10Z",)"
      R"("fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":)"
      R"({"f:resources":{"f:requests":{"f:cpu":{}}}}}}}}}}]},)"
      R"("spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"limits":)"
      R"({"cpu":"2","memory":"2Gi"},"requests":{"cpu":"1200m","memory":"1Gi"}}}]}}}})");
}

TEST(Projection, PodCronJobAndUnknownKindsKeepTheirPodTemplate) {
  Projector projector;
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"namespace", "ns"}}},
              {"spec",
               {{"hostNetwork", true},
                {"nodeName", "n1"},
                {"containers", {{{"name", "a"}, {"env", {{{"name", "X"}, {"value", "1"}}}}}}}}},
              {"status", {{"phase", "Running"}}}};
  EXPECT_EQ(
      project_ok(projector, pod).projection,
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"},)"
      R"("spec":{"containers":[{"env":[{"name":"X","value":"1"}],"name":"a"}],"hostNetwork":true}})");

  json cron = {{"apiVersion", "batch/v1"},
               {"kind", "CronJob"},
               {"metadata", {{"name", "c"}}},
               {"spec",
                {{"schedule", "*/5 * * * *"},
                 {"jobTemplate",
                  {{"spec",
                    {{"backoffLimit", 2},
                     {"template",
                      {{"metadata", {{"labels", {{"a", "b"}}}}},
                       {"spec",
                        {{"restartPolicy", "Never"},
                         {"containers", {{{"name", "job"}, {"image", "x"}}}}}}}}}}}}}}};
  EXPECT_EQ(
      project_ok(projector, cron).projection,
      R"({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},)"
      R"("spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"job"}]}}}}}})");
  EXPECT_EQ(project_ok(Projector({Category::kLabels}), cron).projection,
            R"({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},)"
            R"("spec":{"jobTemplate":{"spec":{"template":{"metadata":{"labels":{"a":"b"}},)"
            R"("spec":{"containers":[{"name":"job"}]}}}}}})");

  // An unknown kind with a pod template, with an empty pod spec: the spec stays (it makes the
  // object a workload for find_pod_spec), an empty securityContext does not.
  json custom = {{"apiVersion", "example.dev/v1"},
                 {"kind", "Rollout"},
                 {"metadata", {{"name", "r"}}},
                 {"spec", {{"template", {{"spec", {{"securityContext", json::object()}}}}}}}};
  EXPECT_EQ(project_ok(projector, custom).projection,
            R"({"apiVersion":"example.dev/v1","kind":"Rollout","metadata":{"name":"r"},)"
            R"("spec":{"template":{"spec":{}}}})");
  // A kind without a pod template keeps only identity.
  json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", {{"name", "s"}, {"labels", {{"a", "b"}}}}},
                  {"spec", {{"ports", {{{"port", 80}}}}}}};
  EXPECT_EQ(project_ok(projector, service).projection,
            R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","labels":{"a":"b"}}})");
}

TEST(Projection, SecurityContextKeepsPerCategoryFields) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "d"}}},
            {"spec",
             {{"template",
               {{"spec",
                 {{"securityContext",
                   {{"runAsUser", 0},
                    {"fsGroupChangePolicy", "Always"},
                    {"seLinuxOptions", {{"type", "spc_t"}}}}},
                  {"initContainers",
                   {{{"name", "init"},
                     {"command", {"sh"}},
                     {"securityContext",
                      {{"privileged", true},
                       {"procMount", "Unmasked"},
                       {"windowsOptions", {{"runAsUserName", "x"}}}}}}}},
                  {"containers", {"not-an-object", {{"image", "no-name"}}}}}}}}}}};
  EXPECT_EQ(project_ok(Projector(), d).projection,
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},)"
            R"("spec":{"template":{"spec":{"containers":[{}],"initContainers":[{"name":"init",)"
            R"("securityContext":{"privileged":true,"procMount":"Unmasked"}}],)"
            R"("securityContext":{"runAsUser":0,"seLinuxOptions":{"type":"spc_t"}}}}}})");
  // Without identity and selinux, the pod securityContext has nothing left and goes.
  EXPECT_EQ(project_ok(Projector({Category::kCapabilities}), d).projection,
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},)"
            R"("spec":{"template":{"spec":{"containers":[{}],"initContainers":[{"name":"init",)"
            R"("securityContext":{"privileged":true}}]}}}})");
}

TEST(Projection, ManagedFieldsArePrunedWithoutChangingOwnership) {
  // kube-controller-manager: status only, owns nothing the cache keeps -> dropped.
  // a: owns the container element ('.') and its ports: the element keeps its '.', since an
  //    emptied element would read as a leaf (owned) in find_owner.
  // b: only a dropped field inside the element -> the element, and the entry, go.
  // c: a leaf at a kept field stays a leaf; a non-string time is left out.
  // d: inside kept env elements the key field (f:name) goes, being never a finding's path; an
  //    element left with nothing is dropped, not turned into an owned leaf.
  // The last entry has no manager -> dropped.
  const char* text = R"j({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d",
    "managedFields":[
      {"manager":"kube-controller-manager","operation":"Update","subresource":"status",
       "time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:replicas":{}}}},
      {"manager":"a","operation":"Apply","time":"2026-01-01T00:00:00Z","fieldsV1":{"f:spec":{
        "f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:name":{},
        "f:ports":{".":{}}}}}}}}},
      {"manager":"b","operation":"Update","fieldsV1":{"f:spec":{"f:template":{"f:spec":{
        "f:containers":{"k:{\"name\":\"app\"}":{"f:ports":{}}}}}}}},
      {"manager":"c","time":5,"fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:hostPID":{}}}}}},
      {"manager":"d","fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:containers":{
        "k:{\"name\":\"app\"}":{"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}},
        "k:{\"name\":\"B\"}":{"f:name":{}}}}}}}}}},
      {"fieldsV1":{"f:spec":{}}}]},
    "spec":{"template":{"spec":{"hostPID":true}}}})j";
  auto o = Projector().project(text);
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(
      o->projection,
      R"j({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","managedFields":[)j"
      R"j({"manager":"a","operation":"Apply","time":"2026-01-01T00:00:00Z","fieldsV1":)j"
      R"j({"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{}}}}}}}},)j"
      R"j({"manager":"c","fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:hostPID":{}}}}}},)j"
      R"j({"manager":"d","fieldsV1":{"f:spec":{"f:template":{"f:spec":{"f:containers":)j"
      R"j({"k:{\"name\":\"app\"}":{"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:value":{}}}}}}}}}}]},)j"
      R"j("spec":{"template":{"spec":{"hostPID":true}}}})j");
}

TEST(Projection, StringsAndNumbersSurviveExactly) {
  json d = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", "p\"q"}, {"labels", {{"k", "tab\there \u00e9 \\ \x01"}}}}},
            {"spec",
             {{"securityContext", {{"runAsUser", 1000}, {"runAsGroup", -1}}},
              {"resources", {{"limits", {{"cpu", 0.5}, {"memory", 1e9}}}}}}}};
  LiveObject o = project_ok(Projector(), d);
  EXPECT_EQ(o.ref.name, "p\"q");
  EXPECT_EQ(o.to_json()["metadata"]["labels"], d["metadata"]["labels"]);
  EXPECT_EQ(o.to_json()["spec"], d["spec"]);
  // Whitespace in the input does not reach the projection.
  auto spaced = Projector().project(
      "{ \"apiVersion\" : \"v1\" ,\n \"kind\":\"Pod\", \"metadata\" : { \"name\" : \"p\" } ,"
      " \"spec\" : { \"hostIPC\" : false , \"resources\" : { \"limits\" : { \"cpu\" : 2 } } } }");
  ASSERT_TRUE(spaced.ok()) << spaced.error().to_string();
  EXPECT_EQ(spaced->projection, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},)"
                                R"("spec":{"hostIPC":false,"resources":{"limits":{"cpu":2}}}})");
}

TEST(Projection, SpecBeforeKindUsesEveryTemplateShape) {
  auto o = Projector().project(
      R"({"spec":{"replicas":3,"template":{"spec":{"hostPID":true,"dnsPolicy":"x"}}},)"
      R"("metadata":{"name":"late"},"kind":"Deployment","apiVersion":"apps/v1"})");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->projection,
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"late"},)"
            R"("spec":{"template":{"spec":{"hostPID":true}}}})");
}

// ---------------------------------------------------------------------------------------------
// Errors.

TEST(Projection, BadInputErrorsNameTheObjectAndField) {
  Projector p;
  auto truncated = p.project(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{)");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(truncated.error().to_string(),
            "Pod p: invalid JSON (truncated or malformed): The JSON document has an improper "
            "structure: missing or superfluous commas, braces, missing keys, etc.");

  auto no_name =
      p.project(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"shop"}})");
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.error().to_string(), "Deployment in namespace shop: missing metadata.name");

  auto no_metadata = p.project(R"({"apiVersion":"apps/v1","kind":"Deployment"})");
  ASSERT_FALSE(no_metadata.ok());
  EXPECT_EQ(no_metadata.error().to_string(), "Deployment: missing metadata.name");

  auto no_kind = p.project(R"({"apiVersion":"apps/v1","metadata":{"name":"x"}})");
  ASSERT_FALSE(no_kind.ok());
  EXPECT_EQ(no_kind.error().to_string(), "object x: missing kind");

  auto bad_name = p.project(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":7}})");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().to_string(), "Pod: metadata.name must be a string, got a number");

  auto bad_number = p.project(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":01}}}]}})");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.error().to_string(),
            "Pod p: invalid JSON: bad number '01' at spec.containers[0].resources.limits.cpu");

  auto not_object = p.project("[1,2]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().to_string(), "object: expected a JSON object, got an array");

  auto trailing = p.project(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}} x)");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().to_string(),
            "Pod p: invalid JSON: trailing content after the document");

  auto empty = p.project("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "object: invalid JSON: Empty: no JSON found");
}

TEST(Projection, DamagedInputNeverCrashesAndNeverYieldsInvalidJson) {
  std::vector<json> live = live_snapshot("prod");
  ASSERT_FALSE(live.empty());
  const std::string text = live[0].dump();
  Projector projector;
  auto check = [&](const std::string& input) {
    auto o = projector.project(input);
    if (!o.ok()) {
      EXPECT_FALSE(o.error().message().empty());
      return;
    }
    json parsed = json::parse(o->projection, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << o->projection;
    EXPECT_EQ(o->to_json(), parsed);
  };
  size_t failures = 0;
  for (size_t n = 0; n < text.size(); n += 5) {
    auto o = projector.project(text.substr(0, n));
    failures += !o.ok();
  }
  EXPECT_EQ(failures, (text.size() + 4) / 5);  // every proper prefix is an error
  for (size_t i = 0; i < text.size(); i += 11) {
    for (char c : std::string("\"{}[],:0a\\ -")) {
      std::string damaged = text;
      damaged[i] = c;
      check(damaged);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The key property: findings on projections equal findings on whole objects.

std::vector<json> projected(const std::vector<json>& live, const Projector& projector) {
  std::vector<json> out;
  for (const json& object : live) out.push_back(project_ok(projector, object).to_json());
  return out;
}

json report_of(const ManifestSet& desired, const std::vector<json>& live,
               const std::vector<Policy>& policies, const DiffOptions& options) {
  DriftReport report;
  report.environment = options.environment;
  report.objects = desired.size();
  report.drifts = compute_drift(desired, live, options);
  apply_policies(report, policies, desired, &live);
  return to_json(report);
}

void expect_same_reports(const ManifestSet& desired, const std::vector<json>& live,
                         const std::vector<Policy>& policies, const DiffOptions& options,
                         const Projector& projector, size_t min_drifts) {
  json whole = report_of(desired, live, policies, options);
  json compact = report_of(desired, projected(live, projector), policies, options);
  EXPECT_GE(whole["drifts"].size(), min_drifts);
  EXPECT_EQ(whole.dump(1), compact.dump(1));
  // Evaluated as `diff --live FILE` and the controller's full pass do: each projection
  // materialized without its managedFields, read again only where a drift needs its owner.
  std::vector<LiveObject> objects;
  for (const json& object : live) objects.push_back(project_ok(projector, object));
  DriftReport from_whole = evaluate_environment(desired, live, policies, options);
  DriftReport from_projected = evaluate_environment_projected(desired, objects, policies, options);
  EXPECT_EQ(to_json(from_whole).dump(1), to_json(from_projected).dump(1));
}

struct Demo {
  ManifestSet desired;
  std::vector<json> live;
  std::vector<Policy> policies;
};

Demo demo(const std::string& env) {
  Demo d;
  auto tree = make_directory_tree(std::string(PLUMBLINE_SOURCE_DIR) + "/manifests");
  auto rendered = render(*tree, "envs/" + env, {});
  EXPECT_TRUE(rendered.ok()) << rendered.error().to_string();
  if (rendered.ok()) d.desired = std::move(*rendered);
  d.live = live_snapshot(env);
  std::string file = std::string(PLUMBLINE_SOURCE_DIR) + "/policies/samples/prod-baseline.yaml";
  auto policies = parse_policies(read_file(file), file);
  EXPECT_TRUE(policies.ok()) << policies.error().to_string();
  if (policies.ok()) d.policies = policies_for(*policies, env);
  // Like `plumbline diff --live FILE`: only the kinds the snapshot holds.
  std::set<std::string> kinds;
  for (const json& o : d.live) kinds.insert(o.value("kind", ""));
  std::erase_if(d.desired,
                [&](const Manifest& m) { return !kinds.count(m.object.value("kind", "")); });
  return d;
}

TEST(ProjectionEquivalence, DemoEnvironmentsGiveTheSameReport) {
  for (auto [env, min_drifts] : {std::pair{"prod", 5}, std::pair{"staging", 0}}) {
    SCOPED_TRACE(env);
    Demo d = demo(env);
    ASSERT_FALSE(d.desired.empty());
    ASSERT_FALSE(d.live.empty());
    DiffOptions options = diff_options_for(d.policies, env);
    expect_same_reports(d.desired, d.live, d.policies, options,
                        Projector(projection_scope(d.policies)), min_drifts);
  }
}

TEST(ProjectionEquivalence, EveryCategoryStrictAndObjectExtra) {
  Demo d = demo("prod");
  DiffOptions options;
  options.scope = all_categories();
  options.strict = all_categories();
  options.environment = "prod";
  // One desired object less: its live object carries the environment label -> object-extra.
  ASSERT_GT(d.desired.size(), 1u);
  d.desired.pop_back();
  expect_same_reports(d.desired, d.live, d.policies, options, Projector(all_categories()), 10);
  // And with no policies, default scope, the default Projector.
  DiffOptions defaults;
  defaults.environment = "prod";
  expect_same_reports(d.desired, d.live, {}, defaults, Projector(), 5);
}

TEST(ProjectionEquivalence, GeneratedWorkloadsGiveTheSameReport) {
  bench::GeneratedSet set = bench::generate_workloads(200);
  bench::add_apiserver_detail(set);
  auto policies = parse_policies(R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: bench}
spec:
  scope: [resources, env, capabilities, image, replicas, labels]
  strict: [env]
  ignore:
  - category: resources
    managers: [kubectl-edit]
  rules:
    requireLimits: {cpu: true, memory: true}
    qosClass: Guaranteed
    gomaxprocs: {maxOverCpuLimit: 1.0}
    capabilities: {requireDropAll: true, allowedAdd: [NET_BIND_SERVICE]}
    env: {required: [TZ], forbidden: [GODEBUG]}
)",
                                 "bench-policy.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().to_string();
  DiffOptions options = diff_options_for(*policies, "bench");
  Projector projector(projection_scope(*policies));
  expect_same_reports(set.desired, set.live, *policies, options, projector, set.planted_drifts);
  // Attribution survived the pruning: the planted drifts name kubectl-edit.
  auto drifts = compute_drift(set.desired, projected(set.live, projector), options);
  size_t by_hand = 0;
  for (const Drift& d : drifts) by_hand += d.live_manager == "kubectl-edit";
  EXPECT_EQ(by_hand, set.planted_drifts);
}

TEST(ProjectionScope, CoversTheRulesOfPolicies) {
  auto policies = parse_policies(R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: p}
spec:
  scope: [image]
  rules:
    gomaxprocs: {maxOverCpuLimit: 1.0}
    sysctls: {allowed: []}
)",
                                 "p.yaml");
  ASSERT_TRUE(policies.ok()) << policies.error().to_string();
  EXPECT_EQ(projection_scope(*policies),
            (std::vector<Category>{Category::kResources, Category::kEnv, Category::kRuntime,
                                   Category::kImage}));
  EXPECT_EQ(projection_scope({}), default_scope());
}

}  // namespace
}  // namespace plumbline

namespace plumbline {
namespace {

// A JSON List's items projected side by side are the items projected one by one, in order;
// an item the projector refuses sends the whole List to the YAML reader either way.
TEST(Projection, AListProjectedOnSeveralThreadsIsTheListProjectedOnOne) {
  std::vector<json> live = live_snapshot("prod");
  ASSERT_FALSE(live.empty());
  json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
  for (int i = 0; i < 300; ++i) {
    json item = live[static_cast<size_t>(i) % live.size()];
    item["metadata"]["name"] = "object-" + std::to_string(i);
    list["items"].push_back(std::move(item));
  }
  ThreadTaskRunner threads(4);
  auto expect_same = [&](const std::string& text, bool projected) {
    auto one = parse_live_snapshot_projected(text, "live.json", all_categories());
    auto several = parse_live_snapshot_projected(text, "live.json", all_categories(), &threads);
    ASSERT_TRUE(one.ok()) << one.error().to_string();
    ASSERT_TRUE(several.ok()) << several.error().to_string();
    ASSERT_EQ(one->size(), 300U);
    ASSERT_EQ(several->size(), 300U);
    for (size_t i = 0; i < 300; ++i) {
      EXPECT_EQ((*one)[i].ref.name, "object-" + std::to_string(i));
      EXPECT_EQ((*one)[i].ref, (*several)[i].ref) << i;
      EXPECT_EQ((*one)[i].projection, (*several)[i].projection) << i;
    }
    // Projected: no creationTimestamp kept; the YAML reader's way keeps whole objects.
    EXPECT_EQ((*one)[0].projection.find("creationTimestamp") == std::string::npos, projected);
  };
  expect_same(list.dump(), true);
  // An item without its kind: the projector refuses it; the YAML reader takes it from the
  // typed List's kind, and keeps every object whole.
  list["kind"] = "DeploymentList";
  list["apiVersion"] = "apps/v1";
  list["items"][250].erase("kind");
  expect_same(list.dump(), false);
}

}  // namespace
}  // namespace plumbline
