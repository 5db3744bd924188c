// Hostile repository layouts: symlink loops (read each directory once), duplicate object ids
// (refused by every renderer, naming both files) and the caps on files, bytes and objects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "plumbline/render/render.h"
#include "temp_dir.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string config_map(const std::string& name) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
}

class RenderOnDiskTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  void write(const std::string& path, const std::string& text) { dir_.write(path, text); }
  testing::TempDir dir_{"plumbline-render"};
  const fs::path& root_ = dir_.path();
};

TEST_F(RenderOnDiskTest, SymlinkToItsOwnDirectoryAddsNothing) {
  write("env/deploy.yaml", config_map("api"));
  fs::create_symlink(".", root_ / "env/x");
  auto tree = make_directory_tree(root_);
  auto out = render(*tree, "env", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].origin.file, "env/deploy.yaml");
}

TEST_F(RenderOnDiskTest, TwoLoopsFinishAtOnce) {
  write("env/deploy.yaml", config_map("api"));
  fs::create_symlink(".", root_ / "env/x");
  fs::create_symlink("..", root_ / "env/y");  // the repository root, which holds env again
  fs::create_symlink("../env", root_ / "env/z");
  auto tree = make_directory_tree(root_);
  auto start = std::chrono::steady_clock::now();
  auto out = render(*tree, "env", {});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(RenderOnDiskTest, KustomizationIncludingItselfThroughALinkIsACycle) {
  write("env/kustomization.yaml", "resources: [deploy.yaml, x]\n");
  write("env/deploy.yaml", config_map("api"));
  fs::create_symlink(".", root_ / "env/x");
  auto tree = make_directory_tree(root_);
  auto out = render(*tree, "env", {});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("cycle through 'x'"));
}

TEST(RenderDuplicatesTest, PlainRefusesOneIdInTwoFilesNamingBoth) {
  MemoryTree tree(std::map<std::string, std::string>{{"env/a.yaml", config_map("api")},
                                                     {"env/b/c.yaml", config_map("api")}});
  auto out = render(tree, "env", {.mode = RenderMode::kPlain});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("duplicate object ConfigMap api"));
  EXPECT_THAT(out.error().to_string(), HasSubstr("env/a.yaml"));
  EXPECT_THAT(out.error().to_string(), HasSubstr("env/b/c.yaml"));
  // Other groups, kinds or namespaces are other objects.
  MemoryTree distinct(std::map<std::string, std::string>{
      {"env/a.yaml", config_map("api")},
      {"env/b.yaml", config_map("api") + "  namespace: other\n"},
      {"env/c.yaml", "apiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: api}\n"}});
  auto ok = render_plain(distinct, "env");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->size(), 3u);
}

TEST(RenderDuplicatesTest, KustomizeNamesBothFiles) {
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/kustomization.yaml", "resources: [a.yaml, b.yaml]\n"},
      {"env/a.yaml", config_map("api")},
      {"env/b.yaml", config_map("api")}});
  auto out = render(tree, "env", {});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("already registered id"));
  EXPECT_THAT(out.error().to_string(), HasSubstr("env/a.yaml"));
  EXPECT_THAT(out.error().to_string(), HasSubstr("env/b.yaml"));
}

TEST(RenderLimitsTest, FilesBytesAndObjectsAreCapped) {
  MemoryTree tree(std::map<std::string, std::string>{{"env/a.yaml", config_map("a")},
                                                     {"env/b.yaml", config_map("b")},
                                                     {"env/c.yaml", config_map("c")}});
  RenderOptions files;
  files.limits.max_files = 2;
  auto out = render(tree, "env", files);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("more than 2 files"));

  RenderOptions bytes;
  bytes.limits.max_bytes = 100;
  out = render(tree, "env", bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("more than 100 bytes of files"));

  RenderOptions objects;
  objects.limits.max_objects = 2;
  out = render(tree, "env", objects);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("more than the limit of 2"));

  MemoryTree kustomized(std::map<std::string, std::string>{
      {"k/kustomization.yaml", "resources: [a.yaml]\n"},
      {"k/a.yaml", config_map("a") + "---\n" + config_map("b") + "---\n" + config_map("c")}});
  out = render(kustomized, "k", objects);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("more than the limit of 2"));
  EXPECT_TRUE(render(kustomized, "k", {}).ok());
}

// Each replacement copies the ConfigMap's data into itself, doubling it: 40 of them would need
// terabytes. The render stops at its replacement budget (64 MiB copied; ~2 s).
TEST(RenderLimits, ReplacementsThatDoubleAnObjectStopAtTheBudget) {
  std::string kustomization = "resources:\n- cm.yaml\nreplacements:\n";
  for (int i = 0; i < 40; ++i) {
    kustomization +=
        "- source: {kind: ConfigMap, name: big, fieldPath: data}\n"
        "  targets:\n"
        "  - select: {kind: ConfigMap}\n"
        "    fieldPaths: [metadata.annotations.copy" +
        std::to_string(i) +
        "]\n    options: {create: true}\n"
        "  - select: {kind: ConfigMap}\n"
        "    fieldPaths: [data.copy" +
        std::to_string(i) + "]\n    options: {create: true}\n";
  }
  MemoryTree tree(std::map<std::string, std::string>{
      {"env/kustomization.yaml", kustomization},
      {"env/cm.yaml", config_map("big") + "data:\n  blob: " + std::string(512 << 10, 'x') + "\n"}});
  auto start = std::chrono::steady_clock::now();
  auto out = render(tree, "env", {});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("replacements write more than 64 MiB"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace plumbline

namespace plumbline {
namespace {

// The caller's deadline (the controller's --render-timeout) ends a render before the next
// file is read, with kTimeout naming that file; the renderer itself reads no clock.
TEST(RenderDeadlineTest, ARenderPastItsDeadlineStopsBeforeTheNextFile) {
  MemoryTree tree;
  tree.add("env/a.yaml", config_map("a"));
  tree.add("env/b.yaml", config_map("b"));
  int asked = 0;
  RenderOptions options;
  options.limits.out_of_time = [&asked] { return ++asked > 1; };
  auto out = render(tree, "env", options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(out.error().to_string(), "env/b.yaml: the render ran past its deadline");
  options.limits.out_of_time = [] { return false; };
  EXPECT_TRUE(render(tree, "env", options).ok());
}

}  // namespace
}  // namespace plumbline
