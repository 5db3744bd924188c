// ConsistencyPolicy parsing: every field, and exact errors with file:line:column.
#include <gtest/gtest.h>

#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

constexpr const char* kFull = R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: prod-baseline}
spec:
  environments: [prod]
  scope: [resources, env, image]
  strict: [env]
  action: enforce
  ignore:
  - path: spec.template.spec.containers[*].env[name=OTEL_*]
  - category: resources
    managers: [vpa-recommender]
  - categories: [image, labels]
  rules:
    requireLimits: {cpu: true, memory: false}
    qosClass: Guaranteed
    gomaxprocs: {maxOverCpuLimit: 1.5}
    gomemlimit: {maxFractionOfMemoryLimit: 0.9}
    selinux: {allowedTypes: [container_t, ledger_t]}
    capabilities: {requireDropAll: true, allowedAdd: [NET_BIND_SERVICE]}
    sysctls: {allowed: [net.core.somaxconn]}
    env: {required: [TZ], forbidden: [GODEBUG]}
  crossEnvironment:
    mayDiffer: [replicas, resources]
)";

TEST(PolicyParser, ParsesEveryField) {
  auto parsed = parse_policies(kFull, "policies/prod.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_EQ(parsed->size(), 1u);
  const Policy& p = (*parsed)[0];
  EXPECT_EQ(p.name, "prod-baseline");
  EXPECT_EQ(p.environments, std::vector<std::string>{"prod"});
  EXPECT_EQ(p.scope,
            (std::vector<Category>{Category::kResources, Category::kEnv, Category::kImage}));
  EXPECT_EQ(p.strict, std::vector<Category>{Category::kEnv});
  EXPECT_EQ(p.action, PolicyAction::kEnforce);
  ASSERT_EQ(p.ignore.size(), 3u);
  EXPECT_EQ(p.ignore[0].path, "spec.template.spec.containers[*].env[name=OTEL_*]");
  EXPECT_TRUE(p.ignore[0].categories.empty());
  EXPECT_EQ(p.ignore[1].categories, std::vector<Category>{Category::kResources});
  EXPECT_EQ(p.ignore[1].managers, std::vector<std::string>{"vpa-recommender"});
  EXPECT_EQ(p.ignore[2].categories, (std::vector<Category>{Category::kImage, Category::kLabels}));
  const PolicyRules& r = p.rules;
  ASSERT_TRUE(r.require_limits);
  EXPECT_TRUE(r.require_limits->cpu);
  EXPECT_FALSE(r.require_limits->memory);
  EXPECT_EQ(r.qos_class, "Guaranteed");
  ASSERT_TRUE(r.gomaxprocs);
  EXPECT_DOUBLE_EQ(r.gomaxprocs->max_over_cpu_limit, 1.5);
  ASSERT_TRUE(r.gomemlimit);
  EXPECT_DOUBLE_EQ(r.gomemlimit->max_fraction_of_memory_limit, 0.9);
  ASSERT_TRUE(r.selinux);
  EXPECT_EQ(r.selinux->allowed_types, (std::vector<std::string>{"container_t", "ledger_t"}));
  ASSERT_TRUE(r.capabilities);
  EXPECT_TRUE(r.capabilities->require_drop_all);
  EXPECT_EQ(r.capabilities->allowed_add, std::vector<std::string>{"NET_BIND_SERVICE"});
  ASSERT_TRUE(r.sysctls);
  EXPECT_EQ(r.sysctls->allowed, std::vector<std::string>{"net.core.somaxconn"});
  ASSERT_TRUE(r.env);
  EXPECT_EQ(r.env->required, std::vector<std::string>{"TZ"});
  EXPECT_EQ(r.env->forbidden, std::vector<std::string>{"GODEBUG"});
  EXPECT_EQ(p.may_differ, (std::vector<Category>{Category::kReplicas, Category::kResources}));
  EXPECT_EQ(p.origin.file, "policies/prod.yaml");
  EXPECT_EQ(p.origin.line, 1);
}

TEST(PolicyParser, MinimalPolicyHasDefaults) {
  auto parsed = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n",
      "a.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  const Policy& p = (*parsed)[0];
  EXPECT_TRUE(p.environments.empty());
  EXPECT_TRUE(p.scope.empty());
  EXPECT_EQ(p.action, PolicyAction::kUnset);  // no opinion: does not narrow enforce mode
  EXPECT_FALSE(p.rules.require_limits);
  EXPECT_FALSE(p.rules.qos_class);
}

TEST(PolicyParser, SeveralDocumentsAndJson) {
  auto parsed = parse_policies(
      "---\napiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n"
      "---\n---\n"
      "{\"apiVersion\": \"plumbline.dev/v1alpha1\", \"kind\": \"ConsistencyPolicy\","
      " \"metadata\": {\"name\": \"b\"}, \"spec\": {\"environments\": [\"dev\"]}}\n",
      "p.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].name, "a");
  EXPECT_EQ((*parsed)[1].name, "b");
  EXPECT_EQ((*parsed)[1].environments, std::vector<std::string>{"dev"});
}

std::string error_of(const std::string& spec) {
  std::string text =
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata:\n  name: p\nspec:\n" +
      spec;
  auto parsed = parse_policies(text, "policies/prod.yaml");
  return parsed.ok() ? "(parsed)" : parsed.error().to_string();
}

TEST(PolicyParser, UnknownFieldNamesFileLineAndPath) {
  EXPECT_EQ(error_of("  rules:\n    qosClass: Guaranteed\n    requireLimit:\n      cpu: true\n"),
            "policies/prod.yaml:8:5: unknown field 'requireLimit' in spec.rules");
  EXPECT_EQ(error_of("  rules:\n    requireLimits: {cpu: true, mem: true}\n"),
            "policies/prod.yaml:7:32: unknown field 'mem' in spec.rules.requireLimits");
  EXPECT_EQ(error_of("  environment: [prod]\n"),
            "policies/prod.yaml:6:3: unknown field 'environment' in spec");
  EXPECT_EQ(error_of("  ignore:\n  - path: a.b\n    manager: [x]\n"),
            "policies/prod.yaml:8:5: unknown field 'manager' in spec.ignore[0]");
  EXPECT_EQ(error_of("  crossEnvironment: {mayDifer: [image]}\n"),
            "policies/prod.yaml:6:22: unknown field 'mayDifer' in spec.crossEnvironment");
}

TEST(PolicyParser, UnknownTopLevelField) {
  auto parsed = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\nspecs: "
      "{}\n",
      "x.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().to_string(), "x.yaml:4:1: unknown field 'specs' in the document");
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidInput);
}

TEST(PolicyParser, WrongTypesAndEnums) {
  EXPECT_EQ(error_of("  action: fix\n"),
            "policies/prod.yaml:6:3: spec.action: must be one of report, enforce (got 'fix')");
  EXPECT_EQ(error_of("  rules:\n    qosClass: Guaranted\n"),
            "policies/prod.yaml:7:5: spec.rules.qosClass: must be one of Guaranteed, Burstable, "
            "BestEffort (got 'Guaranted')");
  EXPECT_EQ(error_of("  scope: [resources, memory]\n"),
            "policies/prod.yaml:6: spec.scope[1]: unknown category 'memory'");
  EXPECT_EQ(error_of("  environments: prod\n"),
            "policies/prod.yaml:6:3: spec.environments: expected a list of strings, got string");
  EXPECT_EQ(error_of("  environments: [1]\n"),
            "policies/prod.yaml:6: spec.environments[0]: expected a string, got number");
  EXPECT_EQ(
      error_of("  rules:\n    requireLimits: {cpu: yes please}\n"),
      "policies/prod.yaml:7:21: spec.rules.requireLimits.cpu: expected a boolean, got string");
  EXPECT_EQ(
      error_of("  rules:\n    gomaxprocs: {maxOverCpuLimit: \"2\"}\n"),
      "policies/prod.yaml:7:18: spec.rules.gomaxprocs.maxOverCpuLimit: expected a number, got "
      "string");
  EXPECT_EQ(error_of("  rules:\n    gomemlimit: {maxFractionOfMemoryLimit: 0}\n"),
            "policies/prod.yaml:7:18: spec.rules.gomemlimit.maxFractionOfMemoryLimit: must be "
            "greater than 0");
  EXPECT_EQ(error_of("  rules:\n    gomemlimit: {maxFractionOfMemoryLimit: 1.5}\n"),
            "policies/prod.yaml:7:18: spec.rules.gomemlimit.maxFractionOfMemoryLimit: must be "
            "at most 1");
  EXPECT_EQ(error_of("  rules: [a]\n"),
            "policies/prod.yaml:6: spec.rules: expected a mapping, got array");
  EXPECT_EQ(error_of("  ignore:\n  - category: cpu\n"),
            "policies/prod.yaml:7:5: spec.ignore[0].category: unknown category 'cpu'");
  EXPECT_EQ(
      error_of("  ignore:\n  - {}\n"),
      "policies/prod.yaml:7: spec.ignore[0]: an ignore rule needs path, category or managers");
  EXPECT_EQ(error_of("  ignore:\n  - {category: env, categories: [env]}\n"),
            "policies/prod.yaml:7:21: spec.ignore[0]: set category or categories, not both");
}

TEST(PolicyParser, IdentityErrors) {
  auto no_name = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {labels: {}}\n",
      "a.yaml");
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.error().to_string(), "a.yaml:3: metadata.name is required");
  auto version = parse_policies(
      "apiVersion: plumbline.dev/v1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n", "a.yaml");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().to_string(),
            "a.yaml:1:1: apiVersion must be plumbline.dev/v1alpha1 (got 'plumbline.dev/v1')");
  auto kind = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: {name: a}\n", "a.yaml");
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.error().to_string(),
            "a.yaml:2:1: kind must be ConsistencyPolicy (got 'Environment')");
  auto duplicate = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n---\n"
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n",
      "a.yaml");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().to_string(), "a.yaml:7:12: duplicate ConsistencyPolicy 'a'");
  auto empty = parse_policies("---\n", "e.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "e.yaml: no ConsistencyPolicy documents");
  auto scalar = parse_policies("hello\n", "s.yaml");
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.error().to_string(), "s.yaml:1: a ConsistencyPolicy must be a mapping");
}

TEST(PolicyParser, FromJsonNamesTheObject) {
  json cr = {{"apiVersion", "plumbline.dev/v1alpha1"},
             {"kind", "ConsistencyPolicy"},
             {"metadata", {{"name", "a"}, {"uid", "123"}}},
             {"spec", {{"rules", {{"env", {{"required", "TZ"}}}}}}}};
  auto bad = policy_from_json(cr, SourceLocation{"ConsistencyPolicy a"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(),
            "ConsistencyPolicy a: spec.rules.env.required: expected a list of strings, got string");
  cr["spec"]["rules"]["env"]["required"] = {"TZ"};
  auto good = policy_from_json(cr, SourceLocation{"ConsistencyPolicy a"});
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->rules.env->required, std::vector<std::string>{"TZ"});
}

}  // namespace
}  // namespace plumbline
