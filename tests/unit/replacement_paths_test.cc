// kustomize replacement field paths: splitting, source lookup, target matching and creation.
#include "render/replacement_paths.h"

#include <gtest/gtest.h>

namespace plumbline::renderer {
namespace {

using Parts = std::vector<std::string>;

TEST(ReplacementPaths, SplitsKeepingBracketsAndEscapedDots) {
  EXPECT_EQ(split_field_path("spec.template.spec.containers.[name=app.v1].image"),
            (Parts{"spec", "template", "spec", "containers", "[name=app.v1]", "image"}));
  EXPECT_EQ(split_field_path("metadata.annotations.[app.kubernetes.io/version]"),
            (Parts{"metadata", "annotations", "app.kubernetes.io/version"}));
  EXPECT_EQ(split_field_path("metadata.labels.a\\.b"), (Parts{"metadata", "labels", "a.b"}));
  EXPECT_EQ(split_field_path(".spec.replicas"), (Parts{"spec", "replicas"}));
}

TEST(ReplacementPaths, LookupFollowsExactElementMatchesAndIndexes) {
  json object = json::parse(R"({"spec":{"containers":[{"name":"app-x","image":"x"},
      {"name":"app","image":"a","args":["--a","--b"]}]}})");
  auto found = lookup_field(object, split_field_path("spec.containers.[name=app].image"));
  ASSERT_TRUE(found.ok());
  ASSERT_NE(*found, nullptr);
  EXPECT_EQ(**found, "a");
  found = lookup_field(object, split_field_path("spec.containers.1.args.-"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(**found, "--b");
  found = lookup_field(object, split_field_path("spec.containers.[name=web].image"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, nullptr);
  EXPECT_FALSE(lookup_field(object, split_field_path("spec.containers.*.image")).ok());
}

TEST(ReplacementPaths, TargetElementsMatchByUnanchoredExpression) {
  json object = json::parse(R"({"c":[{"name":"app"},{"name":"app-metrics"},{"name":"web"}]})");
  std::vector<FieldMatch> out;
  ASSERT_TRUE(
      match_fields(object, split_field_path("c.[name=app].image"), CreateKind::kNone, out).ok());
  EXPECT_TRUE(out.empty());  // no image field and nothing to create
  ASSERT_TRUE(
      match_fields(object, split_field_path("c.[name=app].name"), CreateKind::kNone, out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].pointer.to_string(), "/c/0/name");
  EXPECT_EQ(out[1].pointer.to_string(), "/c/1/name");
}

TEST(ReplacementPaths, CreatesMissingFieldsAndElements) {
  json object = json::parse(R"({"spec":{"containers":[{"name":"app"}]}})");
  std::vector<FieldMatch> out;
  ASSERT_TRUE(match_fields(object,
                           split_field_path("spec.containers.[name=app].env.[name=X].value"),
                           CreateKind::kScalar, out)
                  .ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].created);
  EXPECT_EQ(object["spec"]["containers"][0]["env"], json::parse(R"([{"name":"X","value":null}])"));
  out.clear();
  ASSERT_TRUE(match_fields(object, split_field_path("spec.containers.0.ports.0.containerPort"),
                           CreateKind::kScalar, out)
                  .ok());
  EXPECT_EQ(object["spec"]["containers"][0]["ports"], json::parse(R"([{"containerPort":null}])"));
  out.clear();
  auto bad =
      match_fields(object, split_field_path("spec.containers.5.image"), CreateKind::kScalar, out);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "index 5 specified but only 1 elements found");
}

TEST(ReplacementPaths, PlainScalarsReadBackByTheirText) {
  EXPECT_EQ(plain_scalar("8080"), json(8080));
  EXPECT_EQ(plain_scalar("true"), json(true));
  EXPECT_EQ(plain_scalar("2.4"), json(2.4));
  EXPECT_EQ(plain_scalar("a: b"), json("a: b"));
  EXPECT_EQ(plain_scalar("#x"), json("#x"));
}

}  // namespace
}  // namespace plumbline::renderer
