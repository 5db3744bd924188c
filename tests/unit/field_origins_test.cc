// FieldOrigins: the compact path -> declaration site table every renderer fills.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline {
namespace {

std::vector<std::string> entries(const FieldOrigins& origins) {
  std::vector<std::string> out;
  origins.for_each([&](std::string_view path, const SourceLocation& at) {
    out.push_back(std::string(path) + " " + at.to_string());
  });
  return out;
}

TEST(FieldOrigins, BuilderSortsAndKeepsTheFirstOfAPath) {
  FieldOrigins::Builder builder;
  builder.add("spec.replicas", "base/deploy.yaml", 12);
  builder.add("metadata.name", "base/deploy.yaml", 4);
  builder.add("spec.replicas", "base/deploy.yaml", 30);  // a "<<" merge's second sighting
  builder.add("spec", "base/deploy.yaml", 11, 3);
  FieldOrigins origins = std::move(builder).build();
  EXPECT_EQ(entries(origins), (std::vector<std::string>{"metadata.name base/deploy.yaml:4",
                                                        "spec base/deploy.yaml:11:3",
                                                        "spec.replicas base/deploy.yaml:12"}));
  EXPECT_EQ(origins.find("spec.replicas")->to_string(), "base/deploy.yaml:12");
  EXPECT_FALSE(origins.find("spec.template"));
  EXPECT_TRUE(origins.contains("spec"));
}

TEST(FieldOrigins, SetReplacesOrInsertsInOrder) {
  FieldOrigins origins;
  origins.set("spec.template.spec.containers[name=app].image", {"base/deploy.yaml", 20, 0});
  origins.set("spec.replicas", {"base/deploy.yaml", 8, 0});
  origins.set("spec.replicas", {"overlays/prod/replicas.yaml", 5, 0});
  EXPECT_EQ(entries(origins),
            (std::vector<std::string>{
                "spec.replicas overlays/prod/replicas.yaml:5",
                "spec.template.spec.containers[name=app].image base/deploy.yaml:20",
            }));
}

TEST(FieldOrigins, EraseBelowKeepsTheFieldAndItsSiblings) {
  FieldOrigins origins;
  for (std::string path : {"spec.template", "spec.template.metadata", "spec.template[0]",
                           "spec.templates", "spec.template.spec.containers[name=app]"}) {
    origins.set(path, {"a.yaml", 1, 0});
  }
  origins.erase_below("spec.template");
  EXPECT_EQ(entries(origins),
            (std::vector<std::string>{"spec.template a.yaml:1", "spec.templates a.yaml:1"}));
}

TEST(FieldOrigins, NearestOriginWalksUpToADeclaredAncestor) {
  FieldOrigins origins;
  origins.set("spec.template.spec.containers[name=app]", {"base/deploy.yaml", 20, 0});
  origins.set("spec", {"base/deploy.yaml", 7, 0});
  EXPECT_EQ(nearest_origin(origins, "spec.template.spec.containers[name=app].env[name=A].value")
                ->to_string(),
            "base/deploy.yaml:20");
  EXPECT_EQ(nearest_origin(origins, "spec.replicas")->to_string(), "base/deploy.yaml:7");
  EXPECT_FALSE(nearest_origin(origins, "metadata.labels"));
}

// The table against a plain map doing the same changes one at a time: same entries, same
// lookups, across restart points (more than 16 entries) and shared prefixes.
TEST(FieldOrigins, MatchesAMapUnderRandomChanges) {
  const std::vector<std::string> paths = {
      "spec",
      "spec.replicas",
      "spec.template",
      "spec.template.spec",
      "spec.template.spec.containers[name=app]",
      "spec.template.spec.containers[name=app].image",
      "spec.template.spec.containers[name=app].env[name=A]",
      "spec.template.spec.containers[name=app].env[name=A].value",
      "spec.template.spec.containers[name=app].env[name=B].value",
      "spec.template.spec.containers[name=side].image",
      "spec.templates",
      "metadata",
      "metadata.labels",
      "metadata.labels.app",
      "metadata.name",
      "a",
      "a.b",
      "a.b[0]",
      "a.b[1].c",
      "a.bc",
      "kind"};
  const std::vector<std::string> files = {"base/deploy.yaml", "overlays/prod/patch.yaml", "x.yaml"};
  auto below = [](const std::string& p, const std::string& root) {
    return p.size() > root.size() && p.compare(0, root.size(), root) == 0 &&
           (p[root.size()] == '.' || p[root.size()] == '[');
  };
  std::mt19937 random(7);
  auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
  for (int round = 0; round < 200; ++round) {
    std::map<std::string, std::string> model;
    FieldOrigins::Builder builder;
    for (int i = 0; i < 30; ++i) {
      const std::string& path = paths[pick(paths.size())];
      SourceLocation at{files[pick(files.size())], static_cast<int>(pick(300)), 0};
      builder.add(path, at.file, at.line);
      model.emplace(path, at.to_string());  // the first of a path wins
    }
    FieldOrigins origins = std::move(builder).build();
    for (int step = 0; step < 6; ++step) {
      FieldOrigins::Writes writes;
      for (size_t i = 0, n = 1 + pick(4); i < n; ++i) {
        writes.emplace_back(paths[pick(paths.size())],
                            SourceLocation{files[pick(files.size())], static_cast<int>(pick(300)),
                                           static_cast<int>(pick(3))});
      }
      switch (pick(4)) {
        case 0:
          origins.set(writes[0].first, writes[0].second);
          model[writes[0].first] = writes[0].second.to_string();
          break;
        case 1:
          origins.erase_below(writes[0].first);
          std::erase_if(model, [&](const auto& e) { return below(e.first, writes[0].first); });
          break;
        case 2:
          for (const auto& [path, at] : writes) {
            std::erase_if(model, [&](const auto& e) { return below(e.first, path); });
            model[path] = at.to_string();
          }
          origins.replace_subtrees(writes);
          break;
        default:
          for (const auto& [path, at] : writes) model[path] = at.to_string();
          origins.set_all(writes);
      }
      std::vector<std::string> expected;
      for (const auto& [path, at] : model) expected.push_back(path + " " + at);
      ASSERT_EQ(entries(origins), expected) << "round " << round << " step " << step;
      ASSERT_EQ(origins.size(), model.size());
      for (const std::string& path : paths) {
        auto found = origins.find(path);
        auto it = model.find(path);
        ASSERT_EQ(found.has_value(), it != model.end()) << path;
        if (found) {
          EXPECT_EQ(found->to_string(), it->second) << path;
        }
      }
    }
  }
}

}  // namespace
}  // namespace plumbline
