#include "plumbline/core/path.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

const json kPod = json::parse(R"({"spec":{"template":{"spec":{"containers":[
  {"name":"side","ports":[{"containerPort":9090}]},
  {"name":"app","env":[{"name":"A","value":"1"}],"securityContext":{"capabilities":{"add":["NET_ADMIN","SYS_ADMIN"]}}}]}}},
  "metadata":{"labels":{"app.kubernetes.io/name":"x"}}})");

TEST(Path, FromPointerUsesKeysAndSets) {
  EXPECT_EQ(
      path::from_pointer(kPod, json::json_pointer("/spec/template/spec/containers/1/env/0/value")),
      "spec.template.spec.containers[name=app].env[name=A].value");
  EXPECT_EQ(path::from_pointer(
                kPod, json::json_pointer(
                          "/spec/template/spec/containers/1/securityContext/capabilities/add/1")),
            "spec.template.spec.containers[name=app].securityContext.capabilities.add[SYS_ADMIN]");
  EXPECT_EQ(
      path::from_pointer(kPod, json::json_pointer("/spec/template/spec/containers/0/ports/0")),
      "spec.template.spec.containers[name=side].ports[containerPort=9090]");
  EXPECT_EQ(
      path::from_pointer(kPod, json::json_pointer("/metadata/labels/app.kubernetes.io~1name")),
      "metadata.labels['app.kubernetes.io/name']");
}

TEST(Path, ResolveIsTheInverse) {
  for (const char* p : {"/spec/template/spec/containers/1/env/0/value",
                        "/spec/template/spec/containers/1/securityContext/capabilities/add/1",
                        "/metadata/labels/app.kubernetes.io~1name"}) {
    json::json_pointer ptr(p);
    auto back = path::resolve(kPod, path::from_pointer(kPod, ptr));
    ASSERT_TRUE(back.has_value()) << p;
    EXPECT_EQ(*back, ptr);
  }
  EXPECT_FALSE(path::resolve(kPod, "spec.template.spec.containers[name=nope]").has_value());
}

TEST(Path, PatternsMatchWildcardsAndDescendants) {
  EXPECT_TRUE(
      path::matches("spec.template.spec.containers[*].env[name=OTEL_*]",
                    "spec.template.spec.containers[name=app].env[name=OTEL_ENDPOINT].value"));
  EXPECT_FALSE(path::matches("spec.template.spec.containers[*].env[name=OTEL_*]",
                             "spec.template.spec.containers[name=app].env[name=LOG_LEVEL]"));
  EXPECT_TRUE(path::matches("spec.*.spec.containers[name=app]",
                            "spec.template.spec.containers[name=app].image"));
  EXPECT_FALSE(path::matches("spec.template.spec.containers[name=app].resources",
                             "spec.template.spec.containers[name=app]"));
}

TEST(Path, ParseRejectsBrokenSyntax) {
  auto bad = path::parse("spec.containers[name=app");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "unterminated '[' at offset 24 in path 'spec.containers[name=app'");
  EXPECT_FALSE(path::parse("").ok());
  EXPECT_FALSE(path::parse("a..b").ok());
}

}  // namespace
}  // namespace plumbline
