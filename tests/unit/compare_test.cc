#include "plumbline/diff/compare.h"

#include <gtest/gtest.h>

#include "plumbline/core/mask.h"
#include "unit/drift_test_util.h"

namespace plumbline {
namespace {

using testing::manifest;

json brief(const EnvironmentComparison& c) {
  json out = json::array();
  for (const Difference& d : c.differences) {
    EXPECT_FALSE(d.allowed);
    out.push_back({d.kind, d.name, d.path, std::string(to_string(d.category)),
                   std::string(to_string(d.type)), d.a, d.b});
  }
  return out;
}

// One environment's rendering: a namePrefix, a namespace and a generated ConfigMap with a
// hash suffix, referenced from env, envFrom and volumes.
ManifestSet environment(const std::string& env, const std::string& hash, const std::string& memory,
                        const std::string& extra_env = "") {
  ManifestSet set;
  set.push_back(manifest(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: )" + env + R"(-api, namespace: shop-)" +
                             env + R"(}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: app
        image: shop/api:1.0
        resources: {limits: {memory: )" +
                             memory + R"(}}
        env:
        - {name: LOG_LEVEL, value: info}
        - name: DB_HOST
          valueFrom: {configMapKeyRef: {name: )" +
                             env + "-api-config-" + hash + R"(, key: host}}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: )" +
                             env + R"(-db, key: password}}
        )" + extra_env + R"(
        envFrom:
        - configMapRef: {name: )" +
                             env + "-api-config-" + hash + R"(}
      volumes:
      - name: cfg
        configMap: {name: )" +
                             env + "-api-config-" + hash + R"(}
      - name: creds
        secret: {secretName: )" +
                             env + R"(-db}
      - name: all
        projected:
          sources:
          - configMap: {name: )" +
                             env + "-api-config-" + hash + R"(}
          - secret: {name: )" +
                             env + R"(-db}
)",
                         "api"));
  set.push_back(manifest("{apiVersion: v1, kind: ConfigMap, metadata: {name: " + env +
                             "-api-config-" + hash + ", namespace: shop-" + env +
                             "}, data: {host: db." + env + "}}",
                         "api-config"));
  set.push_back(manifest("{apiVersion: v1, kind: Secret, metadata: {name: " + env +
                             "-db, namespace: shop-" + env + "}, data: {password: cHc=}}",
                         "db"));
  return set;
}

TEST(Compare, PrefixesHashSuffixesAndNamespacesAreNotDifferences) {
  auto result = compare_environments(environment("staging", "7h2k9f", "1Gi"),
                                     environment("prod", "c8m4b2", "1Gi"), {});
  EXPECT_EQ(brief(result), json::array());
  EXPECT_EQ(result.objects_a, 3u);
  EXPECT_EQ(result.objects_b, 3u);
}

TEST(Compare, ChangedAndOnlyInEitherSide) {
  auto a = environment("staging", "aaaa", "1Gi", "- {name: DEBUG, value: '1'}");
  auto b = environment("prod", "bbbb", "1073741824");  // same quantity by value
  b[0].object["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "warn";
  b[0].object["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
      {"runAsUser", 1000}, {"readOnlyRootFilesystem", true}};
  b[0].object["spec"]["replicas"] = 6;
  a.push_back(manifest("{apiVersion: apps/v1, kind: Deployment, metadata: {name: staging-debug}}",
                       "debug"));
  b.push_back(manifest("{apiVersion: v1, kind: Service, metadata: {name: prod-api}}", "api"));
  auto result = compare_environments(a, b, {});
  const std::string c = "spec.template.spec.containers[name=app].";
  EXPECT_EQ(
      brief(result),
      json::parse(
          R"([
    ["Deployment", "api", ")" +
          c + R"(env[name=DEBUG]", "env", "only-in-a", {"name": "DEBUG", "value": "1"}, null],
    ["Deployment", "api", ")" +
          c + R"(env[name=LOG_LEVEL].value", "env", "changed", "info", "warn"],
    ["Deployment", "api", ")" +
          c + R"(securityContext.readOnlyRootFilesystem", "identity", "only-in-b", null, true],
    ["Deployment", "api", ")" +
          c + R"(securityContext.runAsUser", "identity", "only-in-b", null, 1000],
    ["Deployment", "debug", "", "resources", "only-in-a", "staging-debug", null],
    ["Service", "api", "", "resources", "only-in-b", null, "prod-api"]])"));
  ASSERT_FALSE(result.differences.empty());
  EXPECT_EQ(result.differences[0].source_a.file, "test.yaml");
  EXPECT_EQ(result.differences[0].source_b.file, "test.yaml");

  DiffOptions with_replicas;
  with_replicas.scope = {Category::kReplicas};
  auto replicas = compare_environments(a, b, with_replicas);
  ASSERT_EQ(replicas.differences.size(), 3u);  // replicas + the two whole objects
  EXPECT_EQ(replicas.differences[0].path, "spec.replicas");
  EXPECT_EQ(replicas.differences[0].a, 2);
  EXPECT_EQ(replicas.differences[0].b, 6);
}

TEST(Compare, ReferenceToADifferentObjectIsADifference) {
  auto a = environment("staging", "aaaa", "1Gi");
  auto b = environment("prod", "bbbb", "1Gi");
  // prod points DB_HOST at a ConfigMap outside the environment: a real difference.
  b[0].object["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["configMapKeyRef"]
             ["name"] = "shared-config";
  auto result = compare_environments(a, b, {});
  EXPECT_EQ(brief(result), json::parse(R"([["Deployment", "api",
    "spec.template.spec.containers[name=app].env[name=DB_HOST].valueFrom.configMapKeyRef.name",
    "env", "changed", "api-config", "shared-config"]])"));
}

TEST(Compare, SecretValuesAreMasked) {
  auto a = environment("staging", "aaaa", "1Gi", "- {name: API_TOKEN, value: staging-tok}");
  auto b = environment("prod", "bbbb", "1Gi", "- {name: API_TOKEN, value: prod-tok}");
  auto result = compare_environments(a, b, {});
  EXPECT_EQ(brief(result),
            json::parse(R"([["Deployment", "api",
    "spec.template.spec.containers[name=app].env[name=API_TOKEN].value", "env", "changed", ")" +
                        redact("staging-tok") + R"(", ")" + redact("prod-tok") + R"("]])"));
}

TEST(Compare, CategoriesAndNormalizationMatchDrift) {
  ManifestSet a = {manifest(R"(
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      dnsPolicy: ClusterFirst
      containers:
      - name: pg
        imagePullPolicy: Always
        resources: {requests: {cpu: "0.5"}}
        securityContext: {capabilities: {drop: [ALL, NET_RAW]}}
)")};
  ManifestSet b = {manifest(R"(
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      containers:
      - name: pg
        resources: {requests: {cpu: 500m}}
        securityContext: {capabilities: {drop: [NET_RAW, ALL]}}
)")};
  // dnsPolicy and imagePullPolicy are in no category; cpu and the set compare by value.
  EXPECT_EQ(brief(compare_environments(a, b, {})), json::array());
}

}  // namespace
}  // namespace plumbline
