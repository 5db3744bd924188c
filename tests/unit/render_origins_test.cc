// "declared at": after a kustomize overlay, each field points at the file and line that
// wrote it last — a strategic-merge patch, a JSON 6902 operation, the replicas or images
// transformer — and at the base only when nothing overrode it.
#include <gtest/gtest.h>

#include "plumbline/render.h"

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

}  // namespace
}  // namespace plumbline
