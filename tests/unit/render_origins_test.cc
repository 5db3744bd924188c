// "declared at": after a kustomize overlay, each field points at the file and line that
// wrote it last — a strategic-merge patch, a JSON 6902 operation, the replicas or images
// transformer — and at the base only when nothing overrode it.
#include <gtest/gtest.h>

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

const char* kBase = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: app
        image: api:1
        env:
        - name: GOMAXPROCS
          value: "1"
        - name: LOG_LEVEL
          value: info
        - name: REGION
          value: eu
        resources:
          limits:
            cpu: "1"
)";

const char* kOverlay = R"(resources:
- ../base
replicas:
- name: api
  count: 4
images:
- name: api
  newTag: "2"
patches:
- path: resources.yaml
- target:
    kind: Deployment
    name: api
  patch: |-
    - op: replace
      path: /spec/template/spec/containers/0/env/1/value
      value: debug
    - op: add
      path: /spec/template/spec/containers/0/env/-
      value: {name: TZ, value: UTC}
)";

const char* kResources = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
      - name: app
        resources:
          limits: {cpu: "2"}
        env:
        - {name: GOMAXPROCS, value: "2"}
)";

TEST(RenderOrigins, DeclaredAtIsTheLastWriter) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"base/kustomization.yaml", "resources:\n- deployment.yaml\n"},
      {"base/deployment.yaml", kBase},
      {"prod/kustomization.yaml", kOverlay},
      {"prod/resources.yaml", kResources}});
  auto out = render(tree, "prod", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 1u);
  const Manifest& m = (*out)[0];
  auto at = [&](const std::string& path) { return m.locate(path).to_string(); };
  const std::string app = "spec.template.spec.containers[name=app].";
  EXPECT_EQ(at(app + "env[name=GOMAXPROCS].value"), "prod/resources.yaml:12");  // patch file
  EXPECT_EQ(at(app + "resources.limits.cpu"), "prod/resources.yaml:10");
  EXPECT_EQ(at(app + "env[name=LOG_LEVEL].value"), "prod/kustomization.yaml:15");  // 6902 op
  EXPECT_EQ(at(app + "env[name=TZ]"), "prod/kustomization.yaml:18");
  EXPECT_EQ(at(app + "env[name=TZ].value"), "prod/kustomization.yaml:18");
  EXPECT_EQ(at("spec.replicas"), "prod/kustomization.yaml:5");               // replicas transformer
  EXPECT_EQ(at(app + "image"), "prod/kustomization.yaml:7");                 // images transformer
  EXPECT_EQ(at(app + "env[name=REGION].value"), "base/deployment.yaml:18");  // not overridden
  EXPECT_EQ(m.origin.file, "base/deployment.yaml");
}

// A replacement's value is declared at the fieldPaths line that wrote it (inline, or in its
// `path:` file); a component's patch is declared in the component, not the overlay using it.
TEST(RenderOrigins, ReplacementsAndComponentPatchesAreTheLastWriter) {
  const char* overlay = R"(resources:
- ../base
- settings.yaml
components:
- ../features/debug
replacements:
- source:
    kind: ConfigMap
    name: settings
    fieldPath: data.region
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.[name=app].env.[name=REGION].value
    - metadata.annotations.region
    options:
      create: true
- path: replicas.yaml
)";
  const char* replicas = R"(- source:
    kind: ConfigMap
    name: settings
    fieldPath: data.replicas
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.replicas
)";
  const char* component = R"(apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec:
      template:
        spec:
          containers:
          - name: app
            env:
            - name: LOG_LEVEL
              value: debug
)";
  MemoryTree tree(std::map<std::string, std::string>{
      {"base/kustomization.yaml", "resources:\n- deployment.yaml\n"},
      {"base/deployment.yaml", kBase},
      {"features/debug/kustomization.yaml", component},
      {"prod/kustomization.yaml", overlay},
      {"prod/replicas.yaml", replicas},
      {"prod/settings.yaml",
       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  region: us\n"
       "  replicas: \"3\"\n"}});
  auto out = render(tree, "prod", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 2u);
  const Manifest& m = (*out)[1];
  ASSERT_EQ(m.object["kind"], "Deployment");
  auto at = [&](const std::string& path) { return m.locate(path).to_string(); };
  const std::string app = "spec.template.spec.containers[name=app].";
  EXPECT_EQ(m.object["spec"]["replicas"], 3);
  EXPECT_EQ(at(app + "env[name=REGION].value"), "prod/kustomization.yaml:15");
  EXPECT_EQ(at("metadata.annotations.region"), "prod/kustomization.yaml:16");
  EXPECT_EQ(at("spec.replicas"), "prod/replicas.yaml:9");
  EXPECT_EQ(at(app + "env[name=LOG_LEVEL].value"), "features/debug/kustomization.yaml:16");
  EXPECT_EQ(at(app + "env[name=GOMAXPROCS].value"), "base/deployment.yaml:14");
}

}  // namespace
}  // namespace plumbline
