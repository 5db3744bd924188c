// Environment resources: the spec as the controller reads it, and exact errors.
#include "plumbline/environment.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

json Prod() {
  return json::parse(R"({
    "apiVersion": "plumbline.dev/v1alpha1", "kind": "Environment",
    "metadata": {"name": "prod", "generation": 3},
    "spec": {"source": {"url": "https://git.example/ops.git", "ref": "main",
                        "path": "envs/prod", "secretRef": {"name": "git-credentials"}},
             "render": {"type": "kustomize"}, "namespaces": ["shop-prod"],
             "interval": "1m30s", "mode": "enforce",
             "correction": {"maxPerMinute": 5, "maxRounds": 2}}})");
}

TEST(EnvironmentTest, ReadsEveryField) {
  auto env = parse_environment(Prod());
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  EXPECT_EQ(env->name, "prod");
  EXPECT_EQ(env->generation, 3);
  EXPECT_EQ(env->source.url, "https://git.example/ops.git");
  EXPECT_EQ(env->source.ref, "main");
  EXPECT_EQ(env->source.path, "envs/prod");
  EXPECT_EQ(env->source.secret_name, "git-credentials");
  EXPECT_EQ(env->render, "kustomize");
  EXPECT_EQ(env->namespaces, std::vector<std::string>{"shop-prod"});
  EXPECT_EQ(env->interval, std::chrono::seconds(90));
  EXPECT_EQ(env->mode, EnvironmentMode::kEnforce);
  EXPECT_EQ(env->correction.max_per_minute, 5);
  EXPECT_EQ(env->correction.max_rounds, 2);
}

TEST(EnvironmentTest, Defaults) {
  json object = Prod();
  object["spec"].erase("interval");
  object["spec"].erase("mode");
  object["spec"].erase("correction");
  object["spec"].erase("render");
  auto env = parse_environment(object);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->interval, std::chrono::minutes(1));
  EXPECT_EQ(env->mode, EnvironmentMode::kReport);
  EXPECT_EQ(env->render, "auto");
  EXPECT_EQ(env->correction.max_per_minute, 10);
  EXPECT_EQ(env->correction.max_rounds, 3);
}

TEST(EnvironmentTest, ErrorsNameTheField) {
  struct Case {
    std::string pointer;
    json value;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"/spec/mode", "fix",
            "Environment prod: spec.mode must be report or enforce, got 'fix'"},
           {"/spec/interval", "soon",
            "Environment prod: spec.interval: duration 'soon' must look like 30s, 1m, 1h30m or "
            "250ms"},
           {"/spec/interval", "500ms",
            "Environment prod: spec.interval must be at least 1s, got 500ms"},
           {"/spec/namespaces", json::array(),
            "Environment prod: spec.namespaces must list at least one namespace"},
           {"/spec/source/url", "", "Environment prod: spec.source.url is required"},
           {"/spec/source/path", 7, "Environment prod: spec.source.path must be a string"},
           {"/spec/render/type", "command",
            "Environment prod: spec.render.type 'command' is not supported by this controller "
            "(auto, plain, kustomize)"},
           {"/spec/correction/maxRounds", 0,
            "Environment prod: spec.correction.maxRounds must be at least 1, got 0"},
       }) {
    json object = Prod();
    object[json::json_pointer(c.pointer)] = c.value;
    auto env = parse_environment(object);
    ASSERT_FALSE(env.ok()) << c.pointer;
    EXPECT_EQ(env.error().to_string(), c.error);
  }
}

TEST(EnvironmentTest, Durations) {
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*parse_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_FALSE(parse_duration("1d").ok());
  EXPECT_FALSE(parse_duration("10").ok());
  EXPECT_FALSE(parse_duration("s").ok());
}

}  // namespace
}  // namespace plumbline
