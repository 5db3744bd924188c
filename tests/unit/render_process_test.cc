// ProcessRenderer with fake "helm" shell scripts (--helm): what helm is given (arguments, a
// private copy of the chart, values files, a clean environment), and the three ways a renderer
// fails — hanging, flooding stdout, exiting non-zero — each stopped within its limit with an
// error naming it and no objects. The real helm: tests/integration/helm_render_test.cc.
#include "plumbline/process/render_process.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "temp_dir.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::TempDir;

MemoryTree chart() {
  return MemoryTree(std::map<std::string, std::string>{
      {"charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"},
      {"charts/web/values.yaml", "port: 80\n"},
      {"charts/web/templates/service.yaml", "kind: Service"},
      {"values/prod.yaml", "port: 8080\n"}});
}

// A fake helm: an executable shell script in `dir`.
std::string fake_helm(const TempDir& dir, const std::string& body) {
  dir.write("helm", "#!/bin/sh\n" + body);
  std::string path = (dir.path() / "helm").string();
  chmod(path.c_str(), 0755);
  return path;
}

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RenderProcess, HelmGetsAPrivateChartCopyValuesAndACleanEnvironment) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string log = (dir.path() / "log").string();
  // Records its arguments, environment and the files it was given, then prints a Service.
  std::string helm =
      fake_helm(dir, "printf '%s\\n' \"$@\" > " + log +
                         ".args\n"
                         "env | sort > " +
                         log +
                         ".env\n"
                         "cat \"$3/Chart.yaml\" > " +
                         log +
                         ".chart\n"
                         "cat \"$9\" > " +
                         log +
                         ".values0\n"
                         "ls -A \"$HOME\" > " +
                         log +
                         ".home\n"
                         "ulimit -v > " +
                         log +
                         ".memory\n"
                         "printf -- '---\\n# Source: web/templates/service.yaml\\n"
                         "apiVersion: v1\\nkind: Service\\nmetadata:\\n  name: web\\n'\n");
  setenv("PLUMBLINE_TEST_INHERITED", "must-not-pass", 1);
  ProcessRenderer runner({.helm = helm, .temp_dir = dir.path()});
  MemoryTree tree = chart();
  auto out = render(tree, "charts/web",
                    {.mode = RenderMode::kHelm,
                     .helm = {.release_name = "web-prod",
                              .namespace_name = "shop",
                              .values_files = {"values/prod.yaml"},
                              .values = json{{"port", 9090}}},
                     .external = &runner});
  unsetenv("PLUMBLINE_TEST_INHERITED");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].origin.to_string(), "charts/web/templates/service.yaml");

  std::vector<std::string> args;
  std::istringstream lines(read(log + ".args"));
  for (std::string line; std::getline(lines, line);) args.push_back(line);
  ASSERT_EQ(args.size(), 11u) << read(log + ".args");
  EXPECT_EQ(args[0], "template");
  EXPECT_EQ(args[1], "web-prod");
  EXPECT_TRUE(args[2].ends_with("/chart/web")) << args[2];
  EXPECT_EQ(std::vector<std::string>(args.begin() + 3, args.begin() + 7),
            (std::vector<std::string>{"--namespace", "shop", "--include-crds", "--no-hooks"}));
  EXPECT_EQ(args[7], "--values");
  EXPECT_EQ(args[9], "--values");
  EXPECT_TRUE(args[10].ends_with("/values-1.yaml")) << args[10];
  EXPECT_EQ(read(log + ".chart"), "apiVersion: v2\nname: web\nversion: 0.1.0\n");
  EXPECT_EQ(read(log + ".values0"), "port: 8080\n");
  EXPECT_EQ(read(log + ".home"), "");             // an empty HOME: no user repositories or plugins
  EXPECT_EQ(read(log + ".memory"), "4194304\n");  // RLIMIT_AS 4 GiB, in KiB

  const std::string env = "\n" + read(log + ".env");
  EXPECT_EQ(env.find("PLUMBLINE_TEST_INHERITED"), std::string::npos) << env;
  for (const char* name : {"HOME=", "HELM_CONFIG_HOME=", "HELM_CACHE_HOME=", "HELM_DATA_HOME=",
                           "HELM_PLUGINS=", "HTTPS_PROXY=http://127.0.0.1:9"}) {
    EXPECT_NE(env.find(std::string("\n") + name), std::string::npos) << name << "\n" << env;
  }
  // The private folder is gone afterwards.
  size_t left = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    left += entry.path().filename().string().starts_with("plumbline-render-");
  }
  EXPECT_EQ(left, 0u);
}

TEST(RenderProcess, AHangingHelmIsKilledAtItsTimeout) {
  TempDir dir;
  std::string helm = fake_helm(dir, "echo 'apiVersion: v1'\nsleep 30 & sleep 30\n");
  ProcessRenderer runner({.helm = helm, .timeout = 500ms, .temp_dir = dir.path()});
  MemoryTree tree = chart();
  Clock::time_point start = Clock::now();
  auto out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &runner});
  EXPECT_LT(Clock::now() - start, 5s);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(out.error().to_string(),
            "helm template of charts/web did not finish within 500 ms; it was killed with its "
            "process group");
}

TEST(RenderProcess, AFloodingHelmIsKilledAtTheOutputCap) {
  TempDir dir;
  std::string helm = fake_helm(dir, "while :; do echo 'apiVersion: v1 # more and more'; done\n");
  ProcessRenderer runner({.helm = helm, .max_output_bytes = 1 << 20, .temp_dir = dir.path()});
  MemoryTree tree = chart();
  Clock::time_point start = Clock::now();
  auto out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &runner});
  EXPECT_LT(Clock::now() - start, 10s);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(),
            "helm template of charts/web wrote more than 1048576 bytes to stdout; it was killed "
            "with its process group");
}

TEST(RenderProcess, AFailingHelmIsNamedWithItsStatusAndTheEndOfItsStderrMasked) {
  TempDir dir;
  std::string helm =
      fake_helm(dir,
                "echo 'apiVersion: v1'\necho 'kind: ConfigMap'\n"
                "for i in 1 2 3 4 5 6; do echo \"line $i\" >&2; done\n"
                "echo 'Error: fetching https://user:hunter2@charts.example/index.yaml' >&2\n"
                "echo 'render failed: DB_PASSWORD=hunter2 at templates/x.yaml:3' >&2\n"
                "exit 1\n");
  ProcessRenderer runner({.helm = helm, .temp_dir = dir.path()});
  MemoryTree tree = chart();
  auto out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &runner});
  ASSERT_FALSE(out.ok());
  const std::string text = out.error().to_string();
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.rfind("helm template of charts/web exited with status 1; its stderr ended "
                       "with: line 4 | line 5 | line 6 | Error: fetching "
                       "https://charts.example/index.yaml | render failed: DB_PASSWORD=<redacted "
                       "sha256:",
                       0),
            0u)
      << text;
  EXPECT_TRUE(text.ends_with("> at templates/x.yaml:3")) << text;
}

TEST(RenderProcess, MissingHelmIsNamed) {
  TempDir dir;
  ProcessRenderer runner({.helm = "plumbline-no-such-helm", .temp_dir = dir.path()});
  MemoryTree tree = chart();
  auto out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &runner});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(),
            "cannot run helm template of charts/web: plumbline-no-such-helm is not on PATH: No "
            "such file or directory");
}

TEST(RenderProcess, CommandsRunOnlyWhenAllowedInACopyOfTheTree) {
  TempDir dir;
  MemoryTree tree(std::map<std::string, std::string>{
      {"base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n"},
      {"envs/prod/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"}});
  RenderOptions options{
      .mode = RenderMode::kCommand,
      .command = {"/bin/sh", "-c", "cat ../../base/cm.yaml; echo ---; cat extra.yaml"}};
  ProcessRenderer refused({.temp_dir = dir.path()});
  options.external = &refused;
  auto out = render(tree, "envs/prod", options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(out.error().to_string(),
            "envs/prod: render commands are not allowed here (the installer allows them with "
            "--allow-render-commands)");

  ProcessRenderer allowed({.allow_commands = true, .temp_dir = dir.path()});
  options.external = &allowed;
  out = render(tree, "envs/prod", options);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].object["metadata"]["name"], "extra");
  EXPECT_EQ((*out)[1].origin.to_string(), "envs/prod");

  options.command = {"/bin/sh", "-c", "echo 'kind: ConfigMap'; echo broken >&2; exit 3"};
  out = render(tree, "envs/prod", options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(),
            "the render command /bin/sh exited with status 3; its stderr ended with: broken");
}

TEST(RenderProcess, TheCopyIsBoundedAndHoldsNoSymlink) {
  TempDir dir;
  dir.write("repo/charts/web/Chart.yaml", "name: web\n");
  dir.write("repo/charts/web/big.txt", std::string(4096, 'x'));
  dir.write("outside/secret.txt", "secret\n");
  std::filesystem::create_symlink("../../../outside/secret.txt",
                                  dir.path() / "repo/charts/web/escape.txt");
  FileTreePtr tree = make_directory_tree(dir.path() / "repo");
  Status copied = copy_tree(*tree, "charts/web", dir.path() / "copy", 1 << 20, 100);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().code(), ErrorCode::kPermissionDenied) << copied.error().to_string();
  std::filesystem::remove(dir.path() / "repo/charts/web/escape.txt");
  std::filesystem::create_symlink("big.txt", dir.path() / "repo/charts/web/inside.txt");
  std::filesystem::remove_all(dir.path() / "copy");
  copied = copy_tree(*tree, "charts/web", dir.path() / "copy", 1 << 20, 100);
  ASSERT_TRUE(copied.ok()) << copied.error().to_string();
  EXPECT_FALSE(std::filesystem::is_symlink(dir.path() / "copy/inside.txt"));
  EXPECT_EQ(read(dir.path() / "copy/inside.txt").size(), 4096u);

  std::filesystem::remove_all(dir.path() / "copy");
  copied = copy_tree(*tree, "charts/web", dir.path() / "copy", 5000, 100);
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.error().to_string().find("more than 5000 bytes to copy for the renderer"),
            std::string::npos)
      << copied.error().to_string();
}

}  // namespace
}  // namespace plumbline
