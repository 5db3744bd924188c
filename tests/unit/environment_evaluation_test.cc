// EnvironmentEvaluation: the whole-environment report equals drift + policies computed at once,
// and a report kept up to date object by object equals a fresh evaluation of the same state.
#include "plumbline/evaluate/environment_evaluation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "../../bench/workload_generator.h"
#include "drift_test_util.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/process/thread_task_runner.h"
#include "plumbline/render/render.h"
#include "plumbline/report/report.h"
#include "plumbline/snapshot/snapshot.h"

namespace plumbline {
namespace {

using testing::manifest;
using testing::yaml;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<Policy> policies_of(std::string_view text) {
  auto parsed = parse_policies(text, "policy.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? *parsed : std::vector<Policy>{};
}

// One line per finding, in report order.
std::vector<std::string> lines(const DriftReport& report) {
  std::vector<std::string> out;
  for (const Drift& d : report.drifts) {
    out.push_back(d.object.name + " " + std::string(to_string(d.type)) + " " + d.path + " " +
                  d.desired.dump() + " -> " + d.live.dump() +
                  (d.action == Action::kIgnored ? " ignored by " + d.ignored_by : ""));
  }
  for (const Violation& v : report.violations) {
    out.push_back(v.object.name + " " + v.rule + " " + std::string(to_string(v.state)) + " " +
                  v.path);
  }
  return out;
}

constexpr std::string_view kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: app
        image: api:1
        resources:
          limits: {memory: 1Gi}
)";

json live_api(std::string_view memory, std::string_view api_version = "apps/v1") {
  json live = yaml(kDeployment);
  live["apiVersion"] = api_version;
  live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = memory;
  return live;
}

json labelled_extra(std::string_view name, std::string_view environment) {
  json live = yaml(kDeployment);
  live["metadata"]["name"] = name;
  live["metadata"]["labels"] = {{"plumbline.dev/environment", environment}};
  return live;
}

TEST(EnvironmentEvaluation, EachUpdateReEvaluatesExactlyThatObject) {
  DiffOptions options;
  options.environment = "prod";
  auto policies = policies_of(R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: limits}
spec:
  rules:
    requireLimits: {cpu: true}
)");
  EnvironmentEvaluation evaluation({manifest(kDeployment)}, policies, options);
  const ObjectRef api{"apps/v1", "Deployment", "shop", "api"};
  // Nothing live yet: the declared object is missing; Git itself lacks a CPU limit.
  EXPECT_EQ(
      lines(evaluation.report()),
      (std::vector<std::string>{"api object-missing  null -> null",
                                "api requireLimits desired spec.template.spec.containers[name="
                                "app].resources.limits.cpu"}));
  EXPECT_EQ(evaluation.report().objects, 1u);

  json changed = live_api("2Gi");
  evaluation.update_live(api, &changed);
  EXPECT_EQ(lines(evaluation.report()),
            (std::vector<std::string>{
                "api changed spec.template.spec.containers[name=app].resources.limits.memory "
                "\"1Gi\" -> \"2Gi\"",
                "api requireLimits desired "
                "spec.template.spec.containers[name=app].resources.limits.cpu",
                "api requireLimits live "
                "spec.template.spec.containers[name=app].resources.limits.cpu"}));
  EXPECT_EQ(evaluation.live_size(), 1u);

  // Another version of the same object (the version is not identity): set back to Git's value.
  json same = live_api("1Gi", "apps/v1beta2");
  evaluation.update_live({"apps/v1beta2", "Deployment", "shop", "api"}, &same);
  EXPECT_EQ(evaluation.report().drifts.size(), 0u);
  EXPECT_EQ(evaluation.live_size(), 1u);

  // A labelled object Git does not declare is object-extra; an unlabelled one is not ours.
  json extra = labelled_extra("worker", "prod");
  json foreign = labelled_extra("cron", "staging");
  evaluation.update_live({"apps/v1", "Deployment", "shop", "worker"}, &extra);
  evaluation.update_live({"apps/v1", "Deployment", "shop", "cron"}, &foreign);
  DriftReport report = evaluation.report();
  ASSERT_EQ(report.drifts.size(), 1u);
  EXPECT_EQ(report.drifts[0].type, DriftType::kObjectExtra);
  EXPECT_EQ(report.drifts[0].object.name, "worker");
  EXPECT_EQ(evaluation.live_size(), 3u);

  // Deletions: the extra goes away, the declared one becomes missing again.
  evaluation.update_live({"apps/v1", "Deployment", "shop", "worker"}, nullptr);
  evaluation.update_live({"apps/v1", "Deployment", "shop", "cron"}, nullptr);
  evaluation.update_live(api, nullptr);
  evaluation.update_live({"apps/v1", "Deployment", "shop", "never-seen"}, nullptr);
  EXPECT_EQ(
      lines(evaluation.report()),
      (std::vector<std::string>{"api object-missing  null -> null",
                                "api requireLimits desired spec.template.spec.containers[name="
                                "app].resources.limits.cpu"}));
  EXPECT_EQ(evaluation.live_size(), 0u);
}

TEST(EnvironmentEvaluation, SetLiveReplacesEverything) {
  DiffOptions options;
  options.environment = "prod";
  EnvironmentEvaluation evaluation({manifest(kDeployment)}, {}, options);
  json extra = labelled_extra("worker", "prod");
  evaluation.update_live({"apps/v1", "Deployment", "shop", "worker"}, &extra);
  evaluation.set_live({live_api("3Gi")});
  EXPECT_EQ(lines(evaluation.report()),
            (std::vector<std::string>{
                "api changed spec.template.spec.containers[name=app].resources.limits.memory "
                "\"1Gi\" -> \"3Gi\""}));
  EXPECT_EQ(evaluation.live_size(), 1u);
}

// The controller's last good render and its evaluation hold one set of compact objects: the
// evaluation takes copies of the pointers, not of the objects.
TEST(EnvironmentEvaluation, SharesTheCompactDesiredStateItIsGiven) {
  CompactManifestSet held = compact({manifest(kDeployment)});
  EnvironmentEvaluation evaluation(held, {}, {});
  ASSERT_EQ(evaluation.desired().size(), 1u);
  EXPECT_EQ(&evaluation.desired()[0].ref(), &held[0].ref());
  evaluation.set_live({live_api("2Gi")});
  EXPECT_EQ(lines(evaluation.report()),
            (std::vector<std::string>{
                "api changed spec.template.spec.containers[name=app].resources.limits.memory "
                "\"1Gi\" -> \"2Gi\""}));
}

// The demo environments: the same findings as compute_drift + apply_policies, in the same
// order for drifts and desired-state violations; live-state violations ordered by object.
TEST(EnvironmentEvaluation, DemoEnvironmentsMatchDriftThenPolicies) {
  std::string file = std::string(PLUMBLINE_SOURCE_DIR) + "/policies/samples/prod-baseline.yaml";
  auto all = parse_policies(read_file(file), file);
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  for (std::string env : {"prod", "staging"}) {
    SCOPED_TRACE(env);
    auto tree = make_directory_tree(std::string(PLUMBLINE_SOURCE_DIR) + "/manifests");
    auto desired = render(*tree, "envs/" + env, {});
    ASSERT_TRUE(desired.ok()) << desired.error().to_string();
    std::string live_file = std::string(PLUMBLINE_SOURCE_DIR) + "/manifests/live/" + env + ".yaml";
    auto live = parse_live_snapshot(read_file(live_file), live_file);
    ASSERT_TRUE(live.ok()) << live.error().to_string();
    auto policies = policies_for(*all, env);
    DiffOptions options = diff_options_for(policies, env);

    DriftReport expected;
    expected.objects = desired->size();
    expected.drifts = compute_drift(*desired, *live, options);
    apply_policies(expected, policies, *desired, &*live);

    DriftReport got = evaluate_environment(*desired, *live, policies, options);
    EXPECT_EQ(got.objects, expected.objects);
    EXPECT_EQ(to_json(got)["drifts"], to_json(expected)["drifts"]);
    if (env == "prod") {
      EXPECT_GE(got.drifts.size(), 5u);
    }
    auto sorted = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(sorted(lines(got)), sorted(lines(expected)));
  }
}

// A live-state violation points at where Git declares the field, so every finding of a
// report (and every SARIF result) has a location in Git.
TEST(EnvironmentEvaluation, LiveViolationsPointAtTheDeclaringManifest) {
  auto policies = policies_of(R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: p}
spec:
  rules:
    capabilities: {allowedAdd: []}
)");
  Manifest desired = manifest(kDeployment);
  desired.origin = {"envs/prod/api.yaml", 1, 0};
  json live = live_api("1Gi");
  live["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
      {"capabilities", {{"add", {"SYS_ADMIN"}}}}};
  DriftReport report = evaluate_environment({desired}, {live}, policies, {});
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_EQ(report.violations[0].state, StateSide::kLive);
  EXPECT_EQ(report.violations[0].source.file, "envs/prod/api.yaml");
}

// Policies for the generated workloads: strict env, an ignore by manager, rules on both sides.
constexpr std::string_view kBenchPolicy = R"(apiVersion: plumbline.dev/v1alpha1
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
    capabilities: {requireDropAll: true, allowedAdd: [NET_BIND_SERVICE]}
    env: {required: [TZ], forbidden: [GODEBUG]}
)";

// Generated workloads under kBenchPolicy, with their live state by object.
struct Generated {
  explicit Generated(size_t n)
      : set(bench::generate_workloads(n)),
        policies(policies_of(kBenchPolicy)),
        options(diff_options_for(policies, "bench")) {
    for (const json& o : set.live) live[ObjectRef::of(o)] = o;
  }
  std::vector<json> live_vector() const {
    std::vector<json> out;
    for (const auto& [ref, o] : live) out.push_back(o);
    return out;
  }
  bench::GeneratedSet set;
  std::vector<Policy> policies;
  DiffOptions options;
  std::map<ObjectRef, json> live;
};

// Random live changes applied one at a time give, after every step, the report of a fresh
// evaluation of the whole live state.
TEST(EnvironmentEvaluation, IncrementalUpdatesEqualAFreshEvaluation) {
  Generated generated(60);
  auto& [set, policies, options, live] = generated;
  auto live_vector = [&] { return generated.live_vector(); };
  EnvironmentEvaluation evaluation(set.desired, policies, options);
  evaluation.set_live(live_vector());

  std::mt19937 random(20261123);
  std::vector<ObjectRef> deleted;
  size_t drifts_seen = 0;
  for (int step = 0; step < 150; ++step) {
    auto pick = [&] { return std::next(live.begin(), random() % live.size())->first; };
    ObjectRef ref;
    switch (random() % 6) {
      case 0: {  // a memory limit
        ref = pick();
        live[ref]["spec"]["template"]["spec"]["containers"][random() % 3]["resources"]["limits"]
            ["memory"] = std::to_string(1 + random() % 4) + "Gi";
        break;
      }
      case 1: {  // a forbidden env var appears
        ref = pick();
        live[ref]["spec"]["template"]["spec"]["containers"][0]["env"].push_back(
            {{"name", "GODEBUG"}, {"value", "x=" + std::to_string(step)}});
        break;
      }
      case 2: {  // deleted
        ref = pick();
        live.erase(ref);
        deleted.push_back(ref);
        break;
      }
      case 3: {  // re-created as Git says, or an undeclared labelled object
        if (!deleted.empty()) {
          ref = deleted.back();
          deleted.pop_back();
          for (const Manifest& m : set.desired) {
            if (m.ref() == ref) live[ref] = m.object;
          }
        } else {
          json extra = set.live.front();
          extra["metadata"]["name"] = "extra-" + std::to_string(step);
          extra["metadata"]["labels"]["plumbline.dev/environment"] = "bench";
          ref = ObjectRef::of(extra);
          live[ref] = extra;
        }
        break;
      }
      case 4: {  // capabilities added
        ref = pick();
        live[ref]["spec"]["template"]["spec"]["containers"][1]["securityContext"]["capabilities"]
            ["add"] = {"SYS_ADMIN"};
        break;
      }
      default: {  // replicas scaled by an autoscaler
        ref = pick();
        live[ref]["spec"]["replicas"] = 2 + step % 5;
        break;
      }
    }
    auto it = live.find(ref);
    evaluation.update_live(ref, it == live.end() ? nullptr : &it->second);
    DriftReport incremental = evaluation.report();
    DriftReport fresh = evaluate_environment(set.desired, live_vector(), policies, options);
    ASSERT_EQ(to_json(incremental).dump(1), to_json(fresh).dump(1)) << "step " << step;
    ASSERT_EQ(evaluation.live_size(), live.size());
    drifts_seen = std::max(drifts_seen, incremental.drifts.size());
  }
  EXPECT_GT(drifts_seen, 30u) << "the mutations made drift";
}

// A full pass on several threads gives the report of one thread, findings in the same order.
TEST(EnvironmentEvaluation, AFullPassOnSeveralThreadsGivesTheSameReport) {
  Generated generated(400);
  auto& [set, policies, options, live] = generated;
  live.erase(live.begin());  // one object missing
  json extra = set.live.front();
  extra["metadata"]["name"] = "extra";
  extra["metadata"]["labels"]["plumbline.dev/environment"] = "bench";
  live[ObjectRef::of(extra)] = extra;  // one undeclared
  DriftReport one = evaluate_environment(set.desired, generated.live_vector(), policies, options);
  ThreadTaskRunner threads(4);
  DriftReport several = evaluate_environment(compact(set.desired), generated.live_vector(),
                                             policies, options, &threads);
  EXPECT_GT(one.drifts.size(), 100U);
  EXPECT_GT(one.violations.size(), 10U);
  EXPECT_EQ(to_json(one).dump(1), to_json(several).dump(1));
}

// New commits: set_desired re-evaluates only the objects whose manifests changed (added,
// removed, edited, moved in their file) and its report equals a fresh evaluation each time,
// with live changes in between.
TEST(EnvironmentEvaluation, NewDesiredStatesEqualAFreshEvaluation) {
  Generated generated(40);
  auto& [set, policies, options, live] = generated;
  auto live_vector = [&] { return generated.live_vector(); };
  // A labelled object Git does not declare yet (object-extra until a commit declares it).
  json extra = set.live.front();
  extra["metadata"]["name"] = "later";
  extra["metadata"]["labels"]["plumbline.dev/environment"] = "bench";
  live[ObjectRef::of(extra)] = extra;
  auto lookup = [&](const ObjectRef& ref) -> std::optional<json> {
    for (const auto& [key, o] : live) {
      if (key.kind == ref.kind && key.ns == ref.ns && key.name == ref.name) return o;
    }
    return std::nullopt;
  };
  for (Manifest& m : set.desired) m.origin = {"all.yaml", 1, 1};
  ManifestSet desired = set.desired;
  EnvironmentEvaluation evaluation(desired, policies, options);
  evaluation.set_live(live_vector());
  auto containers = [](Manifest& m) -> json& {
    return m.object["spec"]["template"]["spec"]["containers"];
  };

  struct Commit {
    std::string what;
    std::function<void()> change;
    size_t evaluated;
  };
  std::vector<Commit> commits = {
      {"nothing changed", [] {}, 0},
      {"a memory limit",
       [&] { containers(desired[3])[0]["resources"]["limits"]["memory"] = "2Gi"; }, 1},
      {"a CPU limit removed (a desired-state violation)",
       [&] { containers(desired[5])[1]["resources"]["limits"].erase("cpu"); }, 1},
      {"an object removed", [&] { desired.erase(desired.begin() + 7); }, 1},
      {"the labelled extra declared",
       [&] {
         Manifest m = desired[0];
         m.object = extra;
         m.object["metadata"].erase("labels");
         desired.push_back(m);
       },
       1},
      {"a new object nobody runs",
       [&] {
         Manifest m = desired[0];
         m.object["metadata"]["name"] = "new";
         desired.insert(desired.begin() + 2, m);
       },
       1},
      {"a line moved", [&] { desired[10].origin.line = 40; }, 1},
      {"a forbidden env var and another image, two objects",
       [&] {
         containers(desired[11])[0]["env"].push_back({{"name", "GODEBUG"}, {"value", "x"}});
         containers(desired[12])[2]["image"] = "registry.example/other:2";
       },
       2},
      {"the same object twice in Git", [&] { desired.push_back(desired[13]); }, 1},
      {"the duplicate removed, another memory limit",
       [&] {
         desired.pop_back();
         containers(desired[3])[0]["resources"]["limits"]["memory"] = "768Mi";
       },
       2},
  };
  for (size_t step = 0; step < commits.size(); ++step) {
    commits[step].change();
    EXPECT_EQ(evaluation.set_desired(compact(desired), lookup), commits[step].evaluated)
        << commits[step].what;
    DriftReport fresh = evaluate_environment(desired, live_vector(), policies, options);
    ASSERT_EQ(to_json(evaluation.report()).dump(1), to_json(fresh).dump(1)) << commits[step].what;
    ASSERT_EQ(evaluation.live_size(), live.size()) << commits[step].what;
    // The cluster moves between commits: the watch's updates land on the new desired state.
    ObjectRef ref = ObjectRef::of(set.live[step + 1]);
    live[ref]["spec"]["replicas"] = 7;
    evaluation.update_live(ref, &live[ref]);
    fresh = evaluate_environment(desired, live_vector(), policies, options);
    ASSERT_EQ(to_json(evaluation.report()).dump(1), to_json(fresh).dump(1)) << commits[step].what;
  }
  EXPECT_GT(evaluation.report().violations.size(), 0u);
}

}  // namespace
}  // namespace plumbline
