// Plain and auto rendering over an in-memory tree: order, lists, empty documents, identity
// errors naming file:line, and paths that try to leave the repository.
#include <gtest/gtest.h>

#include "plumbline/process/thread_task_runner.h"
#include "plumbline/render/render.h"

namespace plumbline {
namespace {

const char* kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n";

std::string config_map(const std::string& name) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
}

std::vector<std::string> names(const ManifestSet& set) {
  std::vector<std::string> out;
  for (const auto& m : set) out.push_back(m.object["metadata"]["name"].get<std::string>());
  return out;
}

TEST(RenderPlainTest, RecursiveSortedMultiDocumentWithLists) {
  (void)kConfigMap;
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/b.yaml", config_map("b") + "---\n---\n" + config_map("b2")},
      {"env/a/z.yml", config_map("z")},
      {"env/c.json", R"({"apiVersion":"v1","kind":"List","items":[
                       {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l1"}}]})"},
      {"env/readme.md", "not yaml: ["},
      {"other/x.yaml", config_map("x")}});
  auto out = render_plain(tree, "env");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(names(*out), (std::vector<std::string>{"z", "b", "b2", "l1"}));
  EXPECT_EQ((*out)[2].origin.file, "env/b.yaml");
  EXPECT_GT((*out)[2].origin.line, 1);
}

TEST(RenderPlainTest, MissingIdentityNamesFileAndLine) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/a.yaml", config_map("a") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"}});
  auto out = render_plain(tree, "env");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().to_string().find("env/a.yaml:6"), std::string::npos)
      << out.error().to_string();
  EXPECT_NE(out.error().to_string().find("metadata.name"), std::string::npos);
}

TEST(RenderPlainTest, PathsMayNotLeaveTheRoot) {
  MemoryTree tree(std::map<std::string, std::string>{{"env/a.yaml", config_map("a")}});
  auto out = render_plain(tree, "../env");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kPermissionDenied);
  auto kustomized = render(tree, "env/../../x", {});
  ASSERT_FALSE(kustomized.ok());
  EXPECT_EQ(kustomized.error().code(), ErrorCode::kPermissionDenied);
}

TEST(RenderPlainTest, KustomizeResourceEscapeIsPermissionDenied) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/kustomization.yaml", "resources:\n- ../../secret.yaml\n"}});
  auto out = render(tree, "env", {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(
      out.error().to_string(),
      "env/kustomization.yaml: resources[0]: path '../../secret.yaml' leaves the repository root");
}

TEST(RenderPlainTest, AutoPicksKustomizeOrPlain) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"k/kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: p-\n"},
      {"k/cm.yaml", config_map("a")},
      {"p/cm.yaml", config_map("a")}});
  auto k = render(tree, "k", {});
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  EXPECT_EQ(names(*k), (std::vector<std::string>{"p-a"}));
  EXPECT_EQ((*k)[0].base_name, "a");
  auto p = render(tree, "p", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(names(*p), (std::vector<std::string>{"a"}));
  // Forced plain reads kustomization.yaml as a manifest, which has no identity.
  auto forced = render(tree, "k", {RenderMode::kPlain});
  ASSERT_FALSE(forced.ok());
  EXPECT_NE(forced.error().to_string().find("k/kustomization.yaml"), std::string::npos);
}

TEST(RenderPlainTest, ParseRenderMode) {
  EXPECT_EQ(parse_render_mode("auto"), RenderMode::kAuto);
  EXPECT_EQ(parse_render_mode("plain"), RenderMode::kPlain);
  EXPECT_EQ(parse_render_mode("kustomize"), RenderMode::kKustomize);
  EXPECT_EQ(parse_render_mode("helm"), RenderMode::kHelm);
  EXPECT_EQ(parse_render_mode("command"), RenderMode::kCommand);
  EXPECT_EQ(parse_render_mode("jsonnet"), std::nullopt);
  EXPECT_EQ(to_string(RenderMode::kKustomize), "kustomize");
  EXPECT_EQ(to_string(RenderMode::kHelm), "helm");
}

TEST(RenderPlainTest, KustomizeBaseNamesStripPrefixAndHash) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"k/kustomization.yaml",
       "resources: [cm.yaml]\nnamePrefix: p-\nconfigMapGenerator:\n- name: gen\n  literals: "
       "[A=1]\n"},
      {"k/cm.yaml", config_map("a")}});
  auto out = render_kustomize(tree, "k");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 2u);
  for (const auto& m : *out) {
    std::string name = m.object["metadata"]["name"];
    EXPECT_EQ(name.rfind("p-" + m.base_name, 0), 0u) << name;
  }
}

}  // namespace
}  // namespace plumbline

namespace plumbline {
namespace {

std::string field_lines(const CompactManifest& m) {
  std::string out;
  m.fields()->for_each([&](std::string_view path, const SourceLocation& at) {
    out.append(path).append(" @ ").append(at.to_string()).push_back('\n');
  });
  return out;
}

class CountingRunner final : public TaskRunner {
 public:
  size_t concurrency() const override { return threads_.concurrency(); }
  void run(std::span<const std::function<void()>> work) override {
    tasks += work.size();
    threads_.run(work);
  }
  size_t tasks = 0;

 private:
  ThreadTaskRunner threads_{4};
};

// Files parsed side by side (and a large file in parts) render what one thread renders, in
// the same order, and fail with the same first error.
TEST(RenderPlainTest, ParsingOnSeveralThreadsRendersTheSameAndFailsWithTheSameError) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 300; ++i) {
    files["env/f" + std::to_string(1000 + i) + ".yaml"] = config_map("c" + std::to_string(i));
  }
  std::string large;  // past the size a file is cut into parts at (2 MiB)
  for (int i = 0; large.size() < (size_t{5} << 20); ++i) {
    large += config_map("large" + std::to_string(i)) + "data:\n  k: " + std::string(200, 'x') +
             "\n---\n";
  }
  files["env/f1150-large.yaml"] = large;
  CountingRunner threads;
  RenderLimits limits{.max_bytes = size_t{64} << 20};
  MemoryTree tree(files);
  auto one = render_plain_compact(tree, "env", limits);
  auto several = render_plain_compact(tree, "env", limits, nullptr, &threads);
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  ASSERT_TRUE(several.ok()) << several.error().to_string();
  ASSERT_GT(one->size(), 19'000U);
  ASSERT_EQ(one->size(), several->size());
  // Each of the 300 small files a task; the 5 MiB one in 5 parts (up to 4 per thread, of at
  // least 1 MiB).
  EXPECT_EQ(threads.tasks, 305U);
  for (size_t i = 0; i < one->size(); ++i) {
    ASSERT_EQ((*one)[i].ref(), (*several)[i].ref()) << i;
    ASSERT_EQ((*one)[i].origin().to_string(), (*several)[i].origin().to_string()) << i;
    ASSERT_EQ((*one)[i].object().dump(), (*several)[i].object().dump()) << i;
    ASSERT_EQ(field_lines((*one)[i]), field_lines((*several)[i])) << i;
  }
  // Two broken files in one batch: the first in file order is named, on any thread count.
  files["env/f1100.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n";
  files["env/f1200.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n";
  MemoryTree broken(files);
  auto error_one = render_plain_compact(broken, "env", limits);
  auto error_several = render_plain_compact(broken, "env", limits, nullptr, &threads);
  ASSERT_FALSE(error_one.ok());
  ASSERT_FALSE(error_several.ok());
  EXPECT_NE(error_one.error().to_string().find("env/f1100.yaml"), std::string::npos)
      << error_one.error().to_string();
  EXPECT_EQ(error_one.error().to_string(), error_several.error().to_string());
}

}  // namespace
}  // namespace plumbline
