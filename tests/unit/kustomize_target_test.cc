// kustomize patch targets: regular expressions match the whole value (as kustomize anchors
// them) and run in linear time, so a pathological pattern cannot stall a render.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

using ::testing::HasSubstr;

// A kustomization with ConfigMaps `names` and one JSON patch adding a label, aimed at `name`.
MemoryTree tree_with_target(const std::vector<std::string>& names, const std::string& target) {
  std::string resources;
  MemoryTree tree;
  for (const auto& name : names) {
    tree.add("k/" + name + ".yaml",
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n");
    resources += "- " + name + ".yaml\n";
  }
  tree.add("k/kustomization.yaml",
           "resources:\n" + resources + "patches:\n- target:\n    kind: ConfigMap\n    name: '" +
               target +
               "'\n  patch: |-\n    - op: add\n      path: /metadata/labels\n"
               "      value: {patched: 'yes'}\n");
  return tree;
}

std::vector<std::string> patched(const Result<ManifestSet>& out) {
  std::vector<std::string> names;
  for (const auto& m : *out) {
    if (m.object["metadata"].contains("labels"))
      names.push_back(m.object["metadata"]["name"].get<std::string>());
  }
  return names;
}

TEST(KustomizeTargetTest, PathologicalPatternIsLinear) {
  std::string name(38, 'a');
  auto tree = tree_with_target({name}, "(a|aa)*c");
  auto start = std::chrono::steady_clock::now();
  auto out = render(tree, "k", {});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_TRUE(patched(out).empty());
  // A backtracking matcher took 4.8 s here; RE2 takes microseconds.
  EXPECT_LT(took, std::chrono::milliseconds(500));
}

TEST(KustomizeTargetTest, PatternsMatchTheWholeName) {
  std::vector<std::string> names = {"api", "apix", "xapi", "web", "xweb"};
  auto out = render(tree_with_target(names, "api|web"), "k", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(patched(out), ::testing::UnorderedElementsAre("api", "web"));

  out = render(tree_with_target(names, "pi"), "k", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_TRUE(patched(out).empty());

  out = render(tree_with_target(names, "x.*"), "k", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(patched(out), ::testing::UnorderedElementsAre("xapi", "xweb"));
}

TEST(KustomizeTargetTest, BadPatternNamesTheField) {
  auto out = render(tree_with_target({"api"}, "(api"), "k", {});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("k/kustomization.yaml"));
  EXPECT_THAT(out.error().to_string(), HasSubstr("target.name: bad regular expression"));
}

// Selector strings in Kubernetes' syntax; a malformed one is an error naming what is wrong.
TEST(KustomizeTargetTest, SelectorSyntaxErrorsAreExact) {
  auto error_of = [](const std::string& selector) {
    MemoryTree tree;
    tree.add("k/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
    tree.add("k/kustomization.yaml",
             "resources: [cm.yaml]\npatches:\n- target:\n    labelSelector: '" + selector +
                 "'\n  patch: |-\n    - op: add\n      path: /data\n      value: {}\n");
    auto out = render(tree, "k", {});
    return out.ok() ? std::string("<ok>") : out.error().to_string();
  };
  const std::string at = "k/kustomization.yaml: patches[0].target.labelSelector: selector '";
  EXPECT_EQ(error_of("env in (prod"),
            at + "env in (prod': expected ',' or ')' in the values of 'env'");
  EXPECT_EQ(error_of("env in ()"), at + "env in ()': 'in' needs at least one value");
  EXPECT_EQ(error_of("env > 1"), at + "env > 1': the operators < and > are not supported");
  EXPECT_EQ(error_of("env is prod"),
            at + "env is prod': expected =, ==, !=, in or notin after 'env', got 'is'");
  EXPECT_EQ(error_of("-env=prod"), at + "-env=prod': invalid key '-env'");
  EXPECT_EQ(error_of("env=prod staging"),
            at + "env=prod staging': expected ',' after a requirement");
  EXPECT_EQ(error_of("env=pr@d"), at + "env=pr@d': invalid value 'pr@d'");
  EXPECT_EQ(error_of("env notin (x), !canary, app.kubernetes.io/name"), "<ok>");
}

}  // namespace
}  // namespace plumbline
