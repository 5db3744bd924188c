// Every rule, positive and negative, with exact paths and messages.
#include <gtest/gtest.h>

#include "plumbline/core/mask.h"
#include "plumbline/core/yaml.h"
#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

json deployment(const std::string& pod_yaml) {
  std::string text =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n"
      "spec:\n  template:\n    spec:\n" +
      pod_yaml;
  auto parsed = parse_yaml(text, "test.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? *parsed : json();
}

Policy with_rules(PolicyRules rules) {
  Policy p;
  p.name = "baseline";
  p.rules = std::move(rules);
  return p;
}

// "rule path: message" lines: compact to compare exactly.
std::vector<std::string> check(const json& object, const PolicyRules& rules,
                               StateSide side = StateSide::kDesired) {
  std::vector<std::string> out;
  for (const auto& v : check_rules(object, with_rules(rules), side)) {
    EXPECT_EQ(v.policy, "baseline");
    EXPECT_EQ(v.object.name, "api");
    EXPECT_EQ(v.state, side);
    out.push_back(v.rule + " " + v.path + ": " + v.message);
  }
  return out;
}

using Lines = std::vector<std::string>;
constexpr const char* kC = "spec.template.spec.containers[name=app]";

TEST(PolicyRules, RequireLimits) {
  PolicyRules r;
  r.require_limits = PolicyRules::RequireLimits{true, true};
  json ok = deployment(
      "      containers:\n      - name: app\n        resources: {limits: {cpu: 1, memory: 1Gi}}\n");
  EXPECT_EQ(check(ok, r), Lines{});
  json missing = deployment(
      "      initContainers:\n      - name: init\n        resources: {limits: {cpu: 1}}\n"
      "      containers:\n      - name: app\n        resources: {requests: {cpu: 1}}\n");
  EXPECT_EQ(check(missing, r),
            (Lines{"requireLimits spec.template.spec.initContainers[name=init].resources.limits."
                   "memory: container 'init' has no memory limit",
                   std::string("requireLimits ") + kC +
                       ".resources.limits.cpu: container 'app' has no CPU limit",
                   std::string("requireLimits ") + kC +
                       ".resources.limits.memory: container 'app' has no memory limit"}));
  r.require_limits = PolicyRules::RequireLimits{true, false};
  EXPECT_EQ(check(missing, r).size(), 1u);
}

TEST(PolicyRules, QosGuaranteed) {
  PolicyRules r;
  r.qos_class = "Guaranteed";
  // Requests equal by value ("1" == "1000m"), or omitted (default to the limits).
  json ok = deployment(
      "      containers:\n      - name: app\n        resources:\n"
      "          requests: {cpu: 1000m, memory: 1Gi}\n          limits: {cpu: 1, memory: 1024Mi}\n"
      "      - name: side\n        resources: {limits: {cpu: 100m, memory: 64Mi}}\n");
  EXPECT_EQ(check(ok, r), Lines{});
  json bad = deployment(
      "      containers:\n      - name: app\n        resources:\n"
      "          requests: {cpu: 500m, memory: 1Gi}\n          limits: {cpu: 1, memory: 1Gi}\n"
      "      - name: side\n        resources: {limits: {cpu: 100m}}\n");
  EXPECT_EQ(check(bad, r),
            (Lines{std::string("qosClass ") + kC +
                       ".resources: container 'app' is not Guaranteed: cpu request 500m differs "
                       "from limit 1",
                   "qosClass spec.template.spec.containers[name=side].resources: container 'side' "
                   "is not Guaranteed: has no memory limit"}));
}

TEST(PolicyRules, QosBurstableAndBestEffort) {
  json best_effort = deployment("      containers:\n      - name: app\n");
  json burstable =
      deployment("      containers:\n      - name: app\n        resources: {requests: {cpu: 1}}\n");
  json guaranteed = deployment(
      "      containers:\n      - name: app\n        resources: {limits: {cpu: 1, memory: 1Gi}}\n");
  PolicyRules r;
  r.qos_class = "Burstable";
  EXPECT_EQ(check(burstable, r), Lines{});
  EXPECT_EQ(
      check(best_effort, r),
      Lines{"qosClass spec.template.spec: QoS class is BestEffort, policy requires Burstable"});
  EXPECT_EQ(
      check(guaranteed, r),
      Lines{"qosClass spec.template.spec: QoS class is Guaranteed, policy requires Burstable"});
  r.qos_class = "BestEffort";
  EXPECT_EQ(check(best_effort, r), Lines{});
  EXPECT_EQ(
      check(burstable, r),
      Lines{"qosClass spec.template.spec: QoS class is Burstable, policy requires BestEffort"});
}

json go_app(const std::string& cpu, const std::string& memory, const std::string& env) {
  std::string resources = "        resources: {limits: {";
  if (!cpu.empty()) resources += "cpu: " + cpu;
  if (!memory.empty()) resources += std::string(cpu.empty() ? "" : ", ") + "memory: " + memory;
  resources += "}}\n";
  return deployment("      containers:\n      - name: app\n" + resources + "        env:\n" + env);
}

TEST(PolicyRules, Gomaxprocs) {
  PolicyRules r;
  r.gomaxprocs = PolicyRules::Gomaxprocs{1.0};
  std::string path = std::string(kC) + ".env[name=GOMAXPROCS].value";
  EXPECT_EQ(check(go_app("1", "", "        - {name: GOMAXPROCS, value: \"4\"}\n"), r),
            Lines{"gomaxprocs " + path + ": GOMAXPROCS=4 exceeds the CPU limit 1"});
  // ceil(1500m) = 2: two procs are fine, three are not; the limit is shown as written.
  EXPECT_EQ(check(go_app("1500m", "", "        - {name: GOMAXPROCS, value: \"2\"}\n"), r), Lines{});
  EXPECT_EQ(check(go_app("1500m", "", "        - {name: GOMAXPROCS, value: \"3\"}\n"), r),
            Lines{"gomaxprocs " + path + ": GOMAXPROCS=3 exceeds the CPU limit 1500m"});
  // No CPU limit: nothing to exceed.
  EXPECT_EQ(check(go_app("", "1Gi", "        - {name: GOMAXPROCS, value: \"64\"}\n"), r), Lines{});
  // valueFrom is not a literal value.
  EXPECT_EQ(check(go_app("1", "",
                         "        - name: GOMAXPROCS\n          valueFrom: {resourceFieldRef: "
                         "{resource: limits.cpu}}\n"),
                  r),
            Lines{});
  EXPECT_EQ(check(go_app("1", "", "        - {name: GOMAXPROCS, value: \"many\"}\n"), r),
            Lines{"gomaxprocs " + path + ": GOMAXPROCS=many is not a positive integer"});
  r.gomaxprocs = PolicyRules::Gomaxprocs{2.0};
  EXPECT_EQ(check(go_app("2", "", "        - {name: GOMAXPROCS, value: \"4\"}\n"), r), Lines{});
  EXPECT_EQ(check(go_app("2", "", "        - {name: GOMAXPROCS, value: \"5\"}\n"), r),
            Lines{"gomaxprocs " + path + ": GOMAXPROCS=5 exceeds the CPU limit 2"});
}

TEST(PolicyRules, Gomemlimit) {
  PolicyRules r;
  r.gomemlimit = PolicyRules::Gomemlimit{0.9};
  std::string path = std::string(kC) + ".env[name=GOMEMLIMIT].value";
  EXPECT_EQ(check(go_app("", "1Gi", "        - {name: GOMEMLIMIT, value: 1GiB}\n"), r),
            Lines{"gomemlimit " + path + ": GOMEMLIMIT=1GiB exceeds 90% of the memory limit 1Gi"});
  EXPECT_EQ(check(go_app("", "1Gi", "        - {name: GOMEMLIMIT, value: 900MiB}\n"), r), Lines{});
  // 0.9 × 1Gi = 966367641.6 bytes.
  EXPECT_EQ(check(go_app("", "1Gi", "        - {name: GOMEMLIMIT, value: \"966367641\"}\n"), r),
            Lines{});
  EXPECT_EQ(
      check(go_app("", "1Gi", "        - {name: GOMEMLIMIT, value: \"966367642B\"}\n"), r),
      Lines{"gomemlimit " + path + ": GOMEMLIMIT=966367642B exceeds 90% of the memory limit 1Gi"});
  EXPECT_EQ(
      check(go_app("", "1G", "        - {name: GOMEMLIMIT, value: 1000MiB}\n"), r),
      Lines{"gomemlimit " + path + ": GOMEMLIMIT=1000MiB exceeds 90% of the memory limit 1G"});
  EXPECT_EQ(check(go_app("", "1Gi", "        - {name: GOMEMLIMIT, value: \"off\"}\n"), r), Lines{});
  EXPECT_EQ(check(go_app("1", "", "        - {name: GOMEMLIMIT, value: 8GiB}\n"), r), Lines{});
  EXPECT_EQ(check(go_app("", "1Gi", "        - {name: GOMEMLIMIT, value: 1GB}\n"), r),
            Lines{"gomemlimit " + path + ": GOMEMLIMIT=1GB is not a valid Go memory limit"});
}

TEST(PolicyRules, Selinux) {
  PolicyRules r;
  r.selinux = PolicyRules::Selinux{{"container_t", "ledger_t"}};
  json ok = deployment(
      "      securityContext: {seLinuxOptions: {type: container_t}}\n"
      "      containers:\n      - name: app\n"
      "        securityContext: {seLinuxOptions: {type: ledger_t}}\n");
  EXPECT_EQ(check(ok, r), Lines{});
  json bad = deployment(
      "      securityContext: {seLinuxOptions: {type: spc_t}}\n"
      "      containers:\n      - name: app\n"
      "        securityContext: {seLinuxOptions: {level: \"s0:c1\", type: unconfined_t}}\n");
  EXPECT_EQ(check(bad, r),
            (Lines{"selinux spec.template.spec.securityContext.seLinuxOptions.type: SELinux type "
                   "'spc_t' is not allowed (allowed: container_t, ledger_t)",
                   std::string("selinux ") + kC +
                       ".securityContext.seLinuxOptions.type: SELinux type 'unconfined_t' is not "
                       "allowed (allowed: container_t, ledger_t)"}));
}

TEST(PolicyRules, Capabilities) {
  PolicyRules r;
  r.capabilities = PolicyRules::Capabilities{true, {"NET_BIND_SERVICE"}};
  json ok = deployment(
      "      containers:\n      - name: app\n        securityContext:\n"
      "          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n");
  EXPECT_EQ(check(ok, r), Lines{});
  json bad = deployment(
      "      containers:\n      - name: app\n        securityContext:\n"
      "          capabilities: {drop: [NET_RAW], add: [NET_BIND_SERVICE, SYS_ADMIN]}\n"
      "      - name: side\n");
  std::string caps = std::string(kC) + ".securityContext.capabilities";
  EXPECT_EQ(check(bad, r),
            (Lines{"capabilities " + caps + ".drop: container 'app' does not drop ALL capabilities",
                   "capabilities " + caps +
                       ".add[SYS_ADMIN]: container 'app' adds capability SYS_ADMIN (allowed: "
                       "NET_BIND_SERVICE)",
                   "capabilities spec.template.spec.containers[name=side].securityContext."
                   "capabilities.drop: container 'side' does not drop ALL capabilities"}));
  r.capabilities->require_drop_all = false;
  EXPECT_EQ(check(bad, r).size(), 1u);
}

TEST(PolicyRules, Sysctls) {
  PolicyRules r;
  r.sysctls = PolicyRules::Sysctls{{"net.core.somaxconn"}};
  json pod = deployment(
      "      securityContext:\n        sysctls:\n        - {name: net.core.somaxconn, value: "
      "\"1024\"}\n"
      "        - {name: kernel.msgmax, value: \"65536\"}\n      containers:\n      - name: app\n");
  EXPECT_EQ(check(pod, r),
            Lines{"sysctls spec.template.spec.securityContext.sysctls[name=kernel.msgmax]: sysctl "
                  "kernel.msgmax is not allowed"});
  r.sysctls->allowed.push_back("kernel.msgmax");
  EXPECT_EQ(check(pod, r), Lines{});
}

TEST(PolicyRules, EnvRequiredAndForbidden) {
  PolicyRules r;
  r.env = PolicyRules::Env{{"TZ"}, {"GODEBUG"}};
  json pod = deployment(
      "      containers:\n      - name: app\n        env:\n        - {name: TZ, value: UTC}\n"
      "      - name: side\n        env:\n        - {name: GODEBUG, value: \"madvdontneed=1\"}\n");
  EXPECT_EQ(check(pod, r),
            (Lines{"env spec.template.spec.containers[name=side].env[name=TZ]: container 'side' "
                   "does not set required env var TZ",
                   "env spec.template.spec.containers[name=side].env[name=GODEBUG]: container "
                   "'side' sets forbidden env var GODEBUG"}));
}

TEST(PolicyRules, LiveStateAndObjectsWithoutPods) {
  PolicyRules r;
  r.env = PolicyRules::Env{{"TZ"}, {}};
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "api"}}},
              {"spec", {{"containers", {{{"name", "app"}}}}}}};
  EXPECT_EQ(check(pod, r, StateSide::kLive),
            Lines{"env spec.containers[name=app].env[name=TZ]: container 'app' does not set "
                  "required env var TZ"});
  json config = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "api"}}}};
  EXPECT_EQ(check(config, r), Lines{});
  // Malformed shapes never throw.
  json weird = {{"apiVersion", "apps/v1"},
                {"kind", "Deployment"},
                {"metadata", {{"name", "api"}}},
                {"spec", {{"template", {{"spec", {{"containers", {1, "x", {{"env", 3}}}}}}}}}}};
  r.gomaxprocs = PolicyRules::Gomaxprocs{};
  r.capabilities = PolicyRules::Capabilities{true, {}};
  EXPECT_NO_THROW(check_rules(weird, with_rules(r), StateSide::kLive));
}

TEST(PolicyRules, DesiredViolationsCarryTheSourceLine) {
  YamlOptions options;
  options.field_origins = true;
  auto docs = parse_yaml_documents(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
      "    spec:\n      containers:\n      - name: app\n        resources: {limits: {cpu: 1}}\n"
      "        env:\n        - name: GOMAXPROCS\n          value: \"8\"\n",
      "envs/prod/api.yaml", options);
  ASSERT_TRUE(docs.ok());
  Manifest m{(*docs)[0].value, (*docs)[0].location, (*docs)[0].fields, ""};
  PolicyRules r;
  r.gomaxprocs = PolicyRules::Gomaxprocs{};
  auto violations = check_rules(m, with_rules(r));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].source.to_string(), "envs/prod/api.yaml:12");
  EXPECT_EQ(violations[0].state, StateSide::kDesired);
}

TEST(PolicyRules, SecretValuesNeverInMessages) {
  PolicyRules r;
  r.env = PolicyRules::Env{{}, {"DB_PASSWORD"}};
  r.gomaxprocs = PolicyRules::Gomaxprocs{};
  json pod = go_app("1", "", "        - {name: DB_PASSWORD, value: hunter2}\n");
  auto violations = check_rules(pod, with_rules(r), StateSide::kDesired);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].message, "container 'app' sets forbidden env var DB_PASSWORD");
  EXPECT_EQ(violations[0].message.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace plumbline
