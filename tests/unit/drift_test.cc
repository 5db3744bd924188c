#include "plumbline/diff/drift.h"

#include <gtest/gtest.h>

#include "plumbline/core/mask.h"
#include "plumbline/core/workload.h"
#include "unit/drift_test_util.h"

namespace plumbline {
namespace {

using testing::brief;
using testing::diff_object_checked;
using testing::yaml;

json deployment(const json& pod_spec, std::string_view kind = "Deployment") {
  json object = {
      {"apiVersion", "apps/v1"},
      {"kind", kind},
      {"metadata", {{"name", "api"}, {"namespace", "shop-prod"}}},
      {"spec",
       {{"replicas", 2},
        {"template", {{"metadata", {{"labels", {{"app", "api"}}}}}, {"spec", pod_spec}}}}}};
  return object;
}

std::vector<Drift> diff(const json& desired_pod, const json& live_pod,
                        const DiffOptions& options = {}) {
  Manifest m;
  m.object = deployment(desired_pod);
  m.origin = {"deploy.yaml", 1, 1};
  auto drifts = diff_object_checked(m, deployment(live_pod), options);
  for (const Drift& d : drifts) {
    // The walker and categorize() must agree on every finding.
    EXPECT_EQ(categorize("Deployment", d.path), d.category) << d.path;
    EXPECT_EQ(d.object.to_string(), "Deployment shop-prod/api");
  }
  return drifts;
}

constexpr const char* kP = "spec.template.spec.containers[name=app].";

TEST(Drift, ResourcesChangedMissingAndUndeclaredLiveNotCompared) {
  json desired = yaml(R"(
containers:
- name: app
  resources: {limits: {memory: 512Mi}, requests: {cpu: 100m, memory: 256Mi}}
)");
  json live = yaml(R"(
containers:
- name: app
  resources: {limits: {memory: 1Gi, cpu: "2"}, requests: {memory: 256Mi}}
)");
  EXPECT_EQ(brief(diff(desired, live)), json::parse(std::string(R"([
    [")") + kP + R"(resources.limits.memory", "resources", "changed", "512Mi", "1Gi"],
    [")" + kP + R"(resources.requests.cpu", "resources", "missing", "100m", null]])"));
}

TEST(Drift, StrictCategoryReportsUndeclaredLiveScalars) {
  json desired = yaml("containers: [{name: app, resources: {limits: {memory: 1Gi}}}]");
  json live = yaml("containers: [{name: app, resources: {limits: {memory: 1Gi, cpu: 2}}}]");
  DiffOptions strict;
  strict.strict = {Category::kResources};
  EXPECT_EQ(brief(diff(desired, live)), json::array());
  EXPECT_EQ(brief(diff(desired, live, strict)),
            json::parse(std::string(R"([[")") + kP +
                        R"(resources.limits.cpu", "resources", "extra", null, 2]])"));
}

TEST(Drift, QuantitiesCompareByValue) {
  json desired = yaml(R"(
containers:
- name: app
  resources: {limits: {cpu: 1, memory: 512Mi, ephemeral-storage: 1G}, requests: {cpu: "0.5"}}
)");
  json live = yaml(R"(
containers:
- name: app
  resources: {limits: {cpu: 1000m, memory: "536870912", ephemeral-storage: 1Gi}, requests: {cpu: 500m}}
)");
  EXPECT_EQ(
      brief(diff(desired, live)),
      json::parse(std::string(R"([[")") + kP +
                  R"(resources.limits.ephemeral-storage", "resources", "changed", "1G", "1Gi"]])"));
}

TEST(Drift, PodLevelResources) {
  json desired = yaml("resources: {limits: {cpu: 2}}\ncontainers: [{name: app}]");
  json live = yaml("resources: {limits: {cpu: 3}}\ncontainers: [{name: app}]");
  EXPECT_EQ(brief(diff(desired, live)),
            json::parse(
                R"([["spec.template.spec.resources.limits.cpu", "resources", "changed", 2, 3]])"));
}

TEST(Drift, EnvKeyedByNameOrderInsensitiveWithWholeElements) {
  json desired = yaml(R"(
containers:
- name: app
  env:
  - {name: A, value: "1"}
  - {name: LOG_LEVEL, value: info}
  - {name: EMPTY, value: ""}
  - {name: GONE, value: x}
  - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
)");
  json live = yaml(R"(
containers:
- name: app
  env:
  - {name: POD, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}}
  - {name: DEBUG_PPROF, value: "1"}
  - {name: EMPTY}
  - {name: LOG_LEVEL, value: debug}
  - {name: A, value: "1"}
)");
  EXPECT_EQ(
      brief(diff(desired, live)),
      json::parse(
          std::string(R"([
    [")") +
          kP +
          R"(env[name=DEBUG_PPROF]", "env", "extra", null, {"name": "DEBUG_PPROF", "value": "1"}],
    [")" + kP +
          R"(env[name=GONE]", "env", "missing", {"name": "GONE", "value": "x"}, null],
    [")" + kP +
          R"(env[name=LOG_LEVEL].value", "env", "changed", "info", "debug"]])"));
}

TEST(Drift, EnvFromIsComparedWhole) {
  json desired = yaml("containers: [{name: app, envFrom: [{configMapRef: {name: a}}]}]");
  json live = yaml("containers: [{name: app, envFrom: [{configMapRef: {name: b}}]}]");
  json none = yaml("containers: [{name: app}]");
  EXPECT_EQ(
      brief(diff(desired, live)),
      json::parse(
          std::string(R"([[")") + kP +
          R"(envFrom", "env", "changed", [{"configMapRef": {"name": "a"}}], [{"configMapRef": {"name": "b"}}]]])"));
  EXPECT_EQ(brief(diff(none, live)),
            json::parse(std::string(R"([[")") + kP +
                        R"(envFrom", "env", "extra", null, [{"configMapRef": {"name": "b"}}]]])"));
}

TEST(Drift, ServerDefaultsAreNeverDrift) {
  json desired = yaml(R"(
containers:
- name: app
  image: shop/api:1.0
  ports: [{containerPort: 8080}]
  env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
  resources: {limits: {cpu: 1}}
)");
  json live = yaml(R"(
containers:
- name: app
  image: shop/api:1.0
  imagePullPolicy: IfNotPresent
  terminationMessagePath: /dev/termination-log
  terminationMessagePolicy: File
  ports: [{containerPort: 8080, protocol: TCP}]
  env: [{name: POD, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}}]
  resources: {limits: {cpu: 1}, requests: {cpu: 1}}
  securityContext: {}
dnsPolicy: ClusterFirst
schedulerName: default-scheduler
restartPolicy: Always
terminationGracePeriodSeconds: 30
securityContext: {}
enableServiceLinks: true
preemptionPolicy: PreemptLowerPriority
priority: 0
serviceAccount: default
serviceAccountName: default
hostNetwork: false
)");
  DiffOptions all;
  all.scope = all_categories();
  EXPECT_EQ(brief(diff(desired, live, all)), json::array());
}

TEST(Drift, EveryPodTemplateLocation) {
  json pod = yaml("containers: [{name: app, resources: {limits: {memory: 1Gi}}}]");
  json live_pod = yaml("containers: [{name: app, resources: {limits: {memory: 2Gi}}}]");
  struct Case {
    const char* kind;
    json desired, live;
    const char* prefix;
  };
  json job = {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", "j"}}}};
  std::vector<Case> cases;
  for (const char* kind :
       {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "MyRollout"}) {
    cases.push_back(
        {kind, deployment(pod, kind), deployment(live_pod, kind), "spec.template.spec"});
  }
  json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}};
  json pd = p, pl = p;
  pd["spec"] = pod;
  pl["spec"] = live_pod;
  cases.push_back({"Pod", pd, pl, "spec"});
  json cj = {{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"metadata", {{"name", "c"}}}};
  json cd = cj, cl = cj;
  cd["spec"]["jobTemplate"]["spec"]["template"]["spec"] = pod;
  cl["spec"]["jobTemplate"]["spec"]["template"]["spec"] = live_pod;
  cases.push_back({"CronJob", cd, cl, "spec.jobTemplate.spec.template.spec"});
  for (const Case& c : cases) {
    Manifest m;
    m.object = c.desired;
    auto drifts = diff_object_checked(m, c.live, {});
    ASSERT_EQ(drifts.size(), 1u) << c.kind;
    EXPECT_EQ(drifts[0].path,
              std::string(c.prefix) + ".containers[name=app].resources.limits.memory")
        << c.kind;
    EXPECT_EQ(drifts[0].type, DriftType::kChanged);
    EXPECT_EQ(drifts[0].live, "2Gi");
    EXPECT_EQ(categorize(c.kind, drifts[0].path), Category::kResources) << c.kind;
  }
  // A kind without a pod template is never field-compared.
  Manifest cm;
  cm.object = yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: '1'}}");
  EXPECT_TRUE(
      diff_object_checked(
          cm, yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: '2'}}"), {})
          .empty());
}

TEST(Drift, ClosedWorldSecurityFieldsAreExtra) {
  json desired = yaml(R"(
containers: [{name: app}]
initContainers: [{name: init}]
)");
  json live = yaml(R"(
hostNetwork: true
hostPID: true
hostIPC: true
securityContext: {runAsUser: 0, seccompProfile: {type: Unconfined}, seLinuxOptions: {type: spc_t, level: "s0:c1"}}
containers:
- name: app
  securityContext:
    privileged: true
    allowPrivilegeEscalation: true
    procMount: Unmasked
    capabilities: {add: [SYS_ADMIN]}
initContainers:
- name: init
  securityContext: {runAsUser: 0, seccompProfile: {type: Unconfined}}
)");
  const std::string c = "spec.template.spec.containers[name=app].securityContext.";
  const std::string i = "spec.template.spec.initContainers[name=init].securityContext.";
  const std::string s = "spec.template.spec.";
  EXPECT_EQ(
      brief(diff(desired, live)),
      json::
          parse(
              R"([
    [")" + c + R"(allowPrivilegeEscalation", "capabilities", "extra", null, true],
    [")" + c + R"(capabilities.add[SYS_ADMIN]", "capabilities", "extra", null, "SYS_ADMIN"],
    [")" + c + R"(privileged", "capabilities", "extra", null, true],
    [")" + c + R"(procMount", "runtime", "extra", null, "Unmasked"],
    [")" + s + R"(hostIPC", "runtime", "extra", null, true],
    [")" + s + R"(hostNetwork", "runtime", "extra", null, true],
    [")" + s + R"(hostPID", "runtime", "extra", null, true],
    [")" + i + R"(runAsUser", "identity", "extra", null, 0],
    [")" + i + R"(seccompProfile.type", "seccomp", "extra", null, "Unconfined"],
    [")" + s + R"(securityContext.runAsUser", "identity", "extra", null, 0],
    [")" + s + R"(securityContext.seLinuxOptions.type", "selinux", "extra", null, "spc_t"],
    [")" + s +
              R"(securityContext.seccompProfile.type", "seccomp", "extra", null, "Unconfined"]])"));
}

TEST(Drift, SafeUndeclaredSecurityValuesAreNotDrift) {
  json desired = yaml("containers: [{name: app}]");
  json live = yaml(R"(
hostNetwork: false
securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}, fsGroup: 2000}
containers:
- name: app
  securityContext: {privileged: false, allowPrivilegeEscalation: false, procMount: Default,
                    runAsNonRoot: true, readOnlyRootFilesystem: true}
)");
  EXPECT_EQ(brief(diff(desired, live)), json::array());
}

TEST(Drift, CapabilitiesAreSetsAndSecurityFieldsCompare) {
  json desired = yaml(R"(
securityContext:
  runAsUser: 1000
  supplementalGroups: [1, 2]
  seLinuxOptions: {type: container_t}
  seccompProfile: {type: RuntimeDefault}
  sysctls: [{name: net.core.somaxconn, value: "1024"}, {name: kernel.shm_rmid_forced, value: "1"}]
runtimeClassName: gvisor
containers:
- name: app
  securityContext:
    runAsUser: "1000"
    readOnlyRootFilesystem: true
    capabilities: {add: [NET_BIND_SERVICE, CHOWN], drop: [ALL]}
)");
  json live = yaml(R"(
securityContext:
  runAsUser: 1000
  supplementalGroups: [2, 1, 3]
  seLinuxOptions: {type: ledger_t}
  seccompProfile: {type: Localhost, localhostProfile: profiles/audit.json}
  sysctls: [{name: kernel.shm_rmid_forced, value: "1"}, {name: net.core.somaxconn, value: "4096"}]
runtimeClassName: runc
containers:
- name: app
  securityContext:
    runAsUser: 1000
    readOnlyRootFilesystem: false
    capabilities: {add: [CHOWN, NET_BIND_SERVICE, NET_ADMIN]}
)");
  const std::string c = "spec.template.spec.containers[name=app].securityContext.";
  const std::string s = "spec.template.spec.";
  EXPECT_EQ(
      brief(diff(desired, live)),
      json::parse(
          R"([
    [")" + c +
          R"(capabilities.add[NET_ADMIN]", "capabilities", "extra", null, "NET_ADMIN"],
    [")" + c +
          R"(capabilities.drop[ALL]", "capabilities", "missing", "ALL", null],
    [")" + c +
          R"(readOnlyRootFilesystem", "identity", "changed", true, false],
    [")" + s +
          R"(runtimeClassName", "runtime", "changed", "gvisor", "runc"],
    [")" + s +
          R"(securityContext.seLinuxOptions.type", "selinux", "changed", "container_t", "ledger_t"],
    [")" + s +
          R"(securityContext.seccompProfile.type", "seccomp", "changed", "RuntimeDefault", "Localhost"],
    [")" + s +
          R"(securityContext.supplementalGroups[3]", "identity", "extra", null, 3],
    [")" + s +
          R"(securityContext.sysctls[name=net.core.somaxconn].value", "runtime", "changed", "1024", "4096"]])"));
}

TEST(Drift, OptInCategories) {
  json desired = yaml("containers: [{name: app, image: 'api:1.0'}]");
  json live = yaml("containers: [{name: app, image: 'api:1.1'}]");
  Manifest m;
  m.object = deployment(desired);
  m.object["metadata"]["labels"] = {{"team", "shop"}};
  json l = deployment(live);
  l["spec"]["replicas"] = 5;
  l["metadata"]["labels"] = {{"team", "ops"}, {"pod-template-hash", "x"}};
  l["spec"]["template"]["metadata"]["labels"]["app"] = "api2";
  EXPECT_TRUE(diff_object_checked(m, l, {}).empty());
  DiffOptions all;
  all.scope = all_categories();
  EXPECT_EQ(brief(diff_object_checked(m, l, all)), json::parse(R"([
    ["metadata.labels.team", "labels", "changed", "shop", "ops"],
    ["spec.replicas", "replicas", "changed", 2, 5],
    ["spec.template.metadata.labels.app", "labels", "changed", "api", "api2"],
    ["spec.template.spec.containers[name=app].image", "image", "changed", "api:1.0", "api:1.1"]])"));
}

TEST(Drift, ContainersMatchByNameAcrossLists) {
  json desired = yaml(R"(
containers:
- {name: side, resources: {limits: {cpu: 1}}}
- {name: app, resources: {limits: {cpu: 2}}}
ephemeralContainers: [{name: dbg, env: [{name: X, value: "1"}]}]
)");
  json live = yaml(R"(
containers:
- {name: app, resources: {limits: {cpu: 2}}}
- {name: side, resources: {limits: {cpu: 1}}}
- {name: injected, env: [{name: MESH, value: "on"}]}
)");
  EXPECT_EQ(brief(diff(desired, live)), json::parse(R"([
    ["spec.template.spec.containers[name=injected].env[name=MESH]", "env", "extra", null, {"name": "MESH", "value": "on"}],
    ["spec.template.spec.ephemeralContainers[name=dbg].env[name=X]", "env", "missing", {"name": "X", "value": "1"}, null]])"));
}

TEST(Drift, SecretEnvValuesAreMasked) {
  json desired = yaml(R"(
containers:
- name: app
  env:
  - {name: DB_PASSWORD, value: hunter2}
  - {name: API_TOKEN, value: tok-old}
  - {name: STRIPE_KEY, valueFrom: {secretKeyRef: {name: stripe, key: key}}}
)");
  json live = yaml(R"(
containers:
- name: app
  env:
  - {name: DB_PASSWORD, value: hunter3}
  - {name: STRIPE_KEY, valueFrom: {secretKeyRef: {name: stripe-v2, key: key}}}
  - {name: GITHUB_TOKEN, value: ghp_secret}
)");
  auto drifts = diff(desired, live);
  EXPECT_EQ(
      brief(drifts),
      json::parse(
          std::string(R"([
    [")") +
          kP + R"(env[name=API_TOKEN]", "env", "missing", {"name": "API_TOKEN", "value": ")" +
          redact("tok-old") + R"("}, null],
    [")" + kP +
          R"(env[name=DB_PASSWORD].value", "env", "changed", ")" + redact("hunter2") + R"(", ")" +
          redact("hunter3") + R"("],
    [")" + kP +
          R"(env[name=GITHUB_TOKEN]", "env", "extra", null, {"name": "GITHUB_TOKEN", "value": ")" +
          redact("ghp_secret") + R"("}],
    [")" + kP +
          R"(env[name=STRIPE_KEY].valueFrom.secretKeyRef.name", "env", "changed", "stripe", "stripe-v2"]])"));
  EXPECT_EQ(redact("hunter2").rfind("<redacted sha256:", 0), 0u);
  std::string all = testing::to_json(drifts).dump();
  for (const char* raw : {"hunter2", "hunter3", "tok-old", "ghp_secret"}) {
    EXPECT_EQ(all.find(raw), std::string::npos) << raw;
  }
  DiffOptions custom;
  custom.mask.secret_name_patterns = {"LEVEL"};
  auto custom_drifts =
      diff(yaml("containers: [{name: app, env: [{name: LOG_LEVEL, value: a}]}]"),
           yaml("containers: [{name: app, env: [{name: LOG_LEVEL, value: b}]}]"), custom);
  ASSERT_EQ(custom_drifts.size(), 1u);
  EXPECT_EQ(custom_drifts[0].desired, redact("a"));
}

const char* kManagedLive = R"(
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop-prod
  managedFields:
  - manager: argocd-controller
    operation: Apply
    time: "2026-11-01T09:00:00Z"
    fieldsV1:
      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                .: {}
                f:env:
                  k:{"name":"LOG_LEVEL"}:
                    .: {}
                    f:name: {}
                    f:value: {}
                f:resources: {f:limits: {f:memory: {}}}
                f:securityContext:
                  f:capabilities:
                    f:add:
                      v:"CHOWN": {}
  - manager: kubectl-edit
    operation: Update
    time: "2026-11-20T14:03:11Z"
    fieldsV1:
      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                f:resources:
                  f:limits:
                    f:memory: {}
  - manager: kubectl-set
    operation: Update
    time: "2026-11-21T08:00:00Z"
    fieldsV1:
      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                f:env:
                  k:{"name":"DEBUG_PPROF"}:
                    .: {}
                    f:name: {}
                    f:value: {}
                f:securityContext:
                  f:capabilities:
                    f:add:
                      v:"SYS_ADMIN": {}
spec:
  template:
    spec:
      containers:
      - name: app
        env: [{name: LOG_LEVEL, value: debug}, {name: DEBUG_PPROF, value: "1"}]
        resources: {limits: {memory: 1Gi}}
        securityContext: {capabilities: {add: [CHOWN, SYS_ADMIN]}}
)";

TEST(Drift, AttributionFromManagedFields) {
  Manifest m;
  m.object = yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop-prod}
spec:
  template:
    spec:
      containers:
      - name: app
        env: [{name: LOG_LEVEL, value: info}, {name: GONE, value: x}]
        resources: {limits: {memory: 512Mi}}
        securityContext: {capabilities: {add: [CHOWN]}}
)");
  auto drifts = diff_object_checked(m, yaml(kManagedLive), {});
  json got = json::array();
  for (const Drift& d : drifts) {
    got.push_back({d.path, std::string(to_string(d.type)), d.live_manager, d.live_changed_at});
  }
  EXPECT_EQ(
      got,
      json::parse(
          std::string(R"([
    [")") +
          kP + R"(env[name=DEBUG_PPROF]", "extra", "kubectl-set", "2026-11-21T08:00:00Z"],
    [")" + kP +
          R"(env[name=GONE]", "missing", "", ""],
    [")" + kP +
          R"(env[name=LOG_LEVEL].value", "changed", "argocd-controller", "2026-11-01T09:00:00Z"],
    [")" + kP +
          R"(resources.limits.memory", "changed", "kubectl-edit", "2026-11-20T14:03:11Z"],
    [")" + kP +
          R"(securityContext.capabilities.add[SYS_ADMIN]", "extra", "kubectl-set", "2026-11-21T08:00:00Z"]])"));
}

TEST(Drift, ComputeDriftMatchesObjectsAndReportsMissingAndExtra) {
  ManifestSet desired;
  desired.push_back(testing::manifest(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {spec: {containers: [{name: app, resources: {limits: {cpu: 1}}}]}}}
)"));
  desired.push_back(testing::manifest(
      "{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: shop}, data: {a: b}}"));
  desired.push_back(
      testing::manifest("{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}}"));
  std::vector<json> live = {
      yaml(R"(
apiVersion: apps/v1beta2
kind: Deployment
metadata: {name: web, namespace: shop, uid: x, resourceVersion: "9"}
spec: {template: {spec: {containers: [{name: app, resources: {limits: {cpu: 2}}}]}}}
status: {replicas: 3}
)"),
      yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: shop}, data: {a: "
           "c}}"),
      yaml(R"({apiVersion: apps/v1, kind: Deployment, metadata: {name: stray, namespace: shop,
               labels: {plumbline.dev/environment: prod}}})"),
      yaml(R"({apiVersion: apps/v1, kind: Deployment, metadata: {name: other, namespace: shop,
               labels: {plumbline.dev/environment: staging}}})"),
      yaml("{apiVersion: v1, kind: Service, metadata: {name: web, namespace: other}}"),
  };
  DiffOptions options;
  options.environment = "prod";
  auto drifts = compute_drift(desired, live, options);
  json got = json::array();
  for (const Drift& d : drifts) {
    got.push_back({d.object.to_string(), d.path, std::string(to_string(d.type)), d.source.file});
  }
  EXPECT_EQ(got, json::parse(R"([
    ["Deployment shop/stray", "", "object-extra", ""],
    ["Deployment shop/web", "spec.template.spec.containers[name=app].resources.limits.cpu", "changed", "test.yaml"],
    ["Service shop/web", "", "object-missing", "test.yaml"]])"));
  options.environment.clear();
  EXPECT_EQ(compute_drift(desired, live, options).size(), 2u);
}

TEST(Drift, SourceComesFromFieldOrigins) {
  auto fields = std::make_shared<FieldOrigins>();
  fields->set("spec.template.spec.containers[name=app].resources", {"base/deploy.yaml", 20, 9});
  Manifest m;
  m.object = deployment(yaml("containers: [{name: app, resources: {limits: {cpu: 1}}}]"));
  m.origin = {"base/deploy.yaml", 1, 1};
  m.fields = fields;
  auto drifts = diff_object_checked(
      m, deployment(yaml("containers: [{name: app, resources: {limits: {cpu: 2}}}]")), {});
  ASSERT_EQ(drifts.size(), 1u);
  EXPECT_EQ(drifts[0].source.to_string(), "base/deploy.yaml:20:9");
}

TEST(Drift, ScopeLimitsCategories) {
  json desired = yaml(
      "containers: [{name: app, resources: {limits: {cpu: 1}}, env: [{name: A, value: '1'}]}]");
  json live = yaml(
      "containers: [{name: app, resources: {limits: {cpu: 2}}, env: [{name: A, value: '2'}]}]");
  DiffOptions env_only;
  env_only.scope = {Category::kEnv};
  EXPECT_EQ(brief(diff(desired, live, env_only)),
            json::parse(std::string(R"([[")") + kP +
                        R"(env[name=A].value", "env", "changed", "1", "2"]])"));
}

// Numbers equal as nlohmann compares them (signed, unsigned and float), on both paths a pass
// takes (diff_object_checked): a container named 7 in Git is the live one named 7, and 2 is
// 2.0 whatever typed it; only a value that differs drifts.
TEST(Drift, NumbersOfAnyTypeCompareByValue) {
  json desired = {
      {"containers",
       {{{"name", "app"},
         {"resources",
          {{"limits", {{"cpu", std::int64_t{1}}, {"memory", std::uint64_t{1073741824}}}},
           {"requests", {{"cpu", 2.0}, {"memory", -0.0}, {"ephemeral-storage", 2.5}}}}}},
        {{"name", std::int64_t{7}}, {"resources", {{"limits", {{"cpu", std::int64_t{3}}}}}}}}}};
  json live = {{"containers",
                {{{"name", "app"},
                  {"resources",
                   {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}},
                    {"requests",
                     {{"cpu", std::uint64_t{2}},
                      {"memory", std::uint64_t{0}},
                      {"ephemeral-storage", std::uint64_t{2}}}}}}},
                 {{"name", std::uint64_t{7}}, {"resources", {{"limits", {{"cpu", 4.0}}}}}}}}};
  json expected = {
      {"spec.template.spec.containers[name=7].resources.limits.cpu", "resources", "changed", 3,
       4.0},
      {std::string(kP) + "resources.requests.ephemeral-storage", "resources", "changed", 2.5, 2}};
  EXPECT_EQ(brief(diff(desired, live)), expected);
}

// A live encoding of nothing reads as no live object, as a null one does on trees (and is not
// read past its end).
TEST(Drift, AnEmptyLiveEncodingIsNoObject) {
  Manifest m;
  m.object = deployment(yaml("containers: [{name: app, resources: {limits: {cpu: 1}}}]"));
  m.origin = {"deploy.yaml", 1, 1};
  std::vector<Drift> on_trees = diff_object(m, json(), {});
  ASSERT_FALSE(on_trees.empty());
  EXPECT_EQ(testing::to_json(diff_encoded(CompactManifest(m), std::string_view(), {})),
            testing::to_json(on_trees));
}

}  // namespace
}  // namespace plumbline
