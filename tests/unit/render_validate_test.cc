#include <gtest/gtest.h>

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

TEST(RenderValidate, NonStringEnvValueNamesFileLineAndField) {
  MemoryTree tree(std::map<std::string, std::string>{{"env/d.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: PORT
          value: 8080
)"}});
  auto objects = render(tree, "env", {.mode = RenderMode::kPlain});
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(
      objects.error().to_string(),
      "env/d.yaml:12: Deployment web: spec.template.spec.containers[name=app].env[name=PORT].value "
      "must be a string, got a number (quote it in YAML)");
}

TEST(RenderValidate, ContainerWithoutNameIsAnError) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/p.yaml",
       "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - image: x\n"}});
  auto objects = render(tree, "env", {.mode = RenderMode::kPlain});
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(objects.error().to_string(),
            "env/p.yaml:6: Pod p: spec.containers has an element without a string name");
}

TEST(RenderValidate, QuotedValuesPass) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/d.yaml",
       "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
       "  - name: app\n    env:\n    - {name: PORT, value: \"8080\"}\n    - {name: EMPTY}\n"}});
  auto objects = render(tree, "env", {.mode = RenderMode::kPlain});
  ASSERT_TRUE(objects.ok()) << objects.error().to_string();
  EXPECT_EQ(objects->size(), 1u);
}

}  // namespace
}  // namespace plumbline
