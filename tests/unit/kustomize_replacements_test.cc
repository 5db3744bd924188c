// kustomize replacements: malformed declarations are errors naming the entry (kustomize rejects
// them too), never a partial render.
#include <gtest/gtest.h>

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

const char* kDeployment = R"(apiVersion: apps/v1
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
)";

std::string render_error(const std::string& replacements,
                         const std::string& file_text = "source: {kind: Deployment}\n") {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/kustomization.yaml", "resources:\n- d.yaml\nreplacements:\n" + replacements},
      {"env/d.yaml", kDeployment},
      {"env/r.yaml", file_text}});
  auto out = render(tree, "env", {});
  return out.ok() ? "rendered" : out.error().to_string();
}

TEST(KustomizeReplacements, MalformedDeclarationsAreErrors) {
  const std::string at = "env/kustomization.yaml: replacements[0]: ";
  EXPECT_EQ(render_error("- path: r.yaml\n  targets: []\n"),
            at + "cannot specify both path and inline replacement");
  EXPECT_EQ(render_error("- path: r.yaml\n  paht: x\n"), at + "unknown field 'paht'");
  EXPECT_EQ(render_error("- sourceValue: x\n"),
            at + "replacements must specify a source and at least one target");
  EXPECT_EQ(render_error("- sourceValue: x\n  source: {kind: Deployment}\n  targets: []\n"),
            at + "value and resource selectors are mutually exclusive");
  EXPECT_EQ(render_error("- sourceValue: x\n  targets:\n  - fieldPaths: [spec.replicas]\n"),
            at + "targets[0]: target must specify resources to select");
  EXPECT_EQ(render_error("- sourceValue: x\n  targets:\n  - select: {kind: Deployment}\n"
                         "    options: {delimiter: 1}\n"),
            at + "targets[0].options.delimiter: must be a string");
  EXPECT_EQ(render_error("- source: {kind: Deployment, fieldPath: spec.replicas,"
                         " options: {delimiter: '.', index: 3}}\n"
                         "  targets:\n  - select: {kind: Deployment}\n"),
            at + "source: options.index 3 is out of bounds for value 1");
  EXPECT_EQ(render_error("- path: r.yaml\n", "source: {kind: Deployment}\n"),
            "env/r.yaml: replacements must specify a source and at least one target");
}

TEST(KustomizeReplacements, SourceOptionsSplitTheValue) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/kustomization.yaml",
       "resources:\n- d.yaml\nreplacements:\n"
       "- source: {kind: Deployment, fieldPath: 'spec.template.spec.containers.[name=app].image',"
       " options: {delimiter: ':', index: 1}}\n"
       "  targets:\n  - select: {kind: Deployment}\n"
       "    fieldPaths: [metadata.labels.version]\n    options: {create: true}\n"},
      {"env/d.yaml", kDeployment}});
  auto out = render(tree, "env", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0].object["metadata"]["labels"]["version"], 1);  // created: read as YAML
}

}  // namespace
}  // namespace plumbline
