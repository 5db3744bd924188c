// End to end: the plumbline binary on hostile input — bytes that are not UTF-8 in Git file
// names, and credentials in URLs and values that must never be printed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "integration/cli_runner.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kDeployment =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n"
    "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
    "        resources: {limits: {memory: %s}}\n";

std::string deployment(const std::string& memory) {
  std::string text = kDeployment;
  return text.replace(text.find("%s"), 2, memory);
}

class CliHostileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(temp_.ok()); }
  void write(const fs::path& path, const std::string& text) {
    temp_.write(path.lexically_relative(dir_), text);
  }
  // A Git repository at dir_/repo holding `files`, committed.
  fs::path commit(const std::vector<std::pair<std::string, std::string>>& files) {
    fs::path repo = dir_ / "repo";
    for (const auto& [path, text] : files) write(repo / path, text);
    std::string git = "git -C " + quote(repo.string()) +
                      " -c user.name=plumbline -c user.email=ci@plumbline.dev ";
    EXPECT_EQ(std::system(("git init -q -b main " + quote(repo.string())).c_str()), 0);
    EXPECT_EQ(std::system((git + "add -A && " + git + "commit -q -m v1").c_str()), 0);
    return repo;
  }
  plumbline::testing::TempDir temp_{"plumbline-hostile"};
  const fs::path& dir_ = temp_.path();
};

TEST_F(CliHostileTest, FileNameThatIsNotUtf8GivesValidJson) {
  fs::path repo = commit({{"env/api-\xff.yaml", deployment("512Mi")}});
  write(dir_ / "live.yaml", deployment("1Gi"));
  CliRun run = plumbline({"diff", "--repo", repo.string(), "--path", "env", "--live",
                          (dir_ / "live.yaml").string(), "--format", "json"});
  ASSERT_EQ(run.status, 1) << run.err;
  json report = json::parse(run.out);  // throws (fails the test) on invalid UTF-8
  ASSERT_EQ(report["drifts"].size(), 1u) << run.out;
  EXPECT_EQ(report["drifts"][0]["source"]["file"], "env/api-\xEF\xBF\xBD.yaml");
  for (const char* format : {"sarif", "text", "markdown"}) {
    CliRun other = plumbline({"diff", "--repo", repo.string(), "--path", "env", "--live",
                              (dir_ / "live.yaml").string(), "--format", format});
    EXPECT_EQ(other.status, 1) << format << ": " << other.err;
  }
}

}  // namespace
