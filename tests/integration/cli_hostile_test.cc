// End to end: the plumbline binary on hostile input — bytes that are not UTF-8 in Git file
// names, and credentials in URLs and values that must never be printed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// Every place a repository URL shows up: the progress line, the error, the cache's names.
TEST_F(CliHostileTest, RepositoryCredentialsAreNeverPrinted) {
  write(dir_ / "live.yaml", deployment("1Gi"));
  for (const std::string& repo : {std::string("https://deploy:CANARY1@127.0.0.1:9/ops.git"),
                                  std::string("https://CANARY2@127.0.0.1:9/ops.git"),
                                  std::string("https://deploy:CANARY3/x@127.0.0.1:9/ops.git"),
                                  std::string("https://127.0.0.1:9/ops.git?token=CANARY4")}) {
    fs::path cache = dir_ / "cache";
    CliRun run =
        plumbline({"diff", "--repo", repo, "--path", "env", "--live", (dir_ / "live.yaml").string(),
                   "--cache-dir", cache.string(), "--timeout", "5s"});
    EXPECT_EQ(run.status, 2) << repo;
    EXPECT_EQ(run.err.find("CANARY"), std::string::npos) << run.err;
    EXPECT_EQ(run.out.find("CANARY"), std::string::npos) << run.out;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(cache, ec)) {
      EXPECT_EQ(entry.path().string().find("CANARY"), std::string::npos) << entry.path();
    }
  }
}

TEST_F(CliHostileTest, RenderErrorsNeverEchoValues) {
  std::string text = deployment("512Mi");
  text += "        env:\n        - {name: DB_PASSWORD, value: 84629173}\n";
  write(dir_ / "env/deploy.yaml", text);
  write(dir_ / "live.yaml", deployment("1Gi"));
  CliRun run = plumbline(
      {"diff", "--repo", dir_.string(), "--path", "env", "--live", (dir_ / "live.yaml").string()});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("env[name=DB_PASSWORD].value must be a string"), std::string::npos)
      << run.err;
  EXPECT_EQ(run.err.find("84629173"), std::string::npos) << run.err;
}

TEST_F(CliHostileTest, CredentialsInEnvUrlsAndLooselyNamedSecretsAreMasked) {
  auto with_env = [](const std::string& password) {
    return deployment("512Mi") + "        env:\n" +
           "        - {name: DATABASE_URL, value: 'postgres://app:" + password + "@db/shop'}\n" +
           "        - {name: DB_PASS, value: 'pass-" + password + "'}\n" +
           "        - {name: MYSQL_PWD, value: 'pwd-" + password + "'}\n";
  };
  write(dir_ / "env/deploy.yaml", with_env("CANARY5"));
  write(dir_ / "live.yaml", with_env("CANARY6"));
  for (const char* format : {"json", "text", "markdown", "sarif"}) {
    CliRun run = plumbline({"diff", "--repo", dir_.string(), "--path", "env", "--live",
                            (dir_ / "live.yaml").string(), "--format", format});
    EXPECT_EQ(run.status, 1) << format << ": " << run.err;
    EXPECT_EQ(run.out.find("CANARY"), std::string::npos) << format << ":\n" << run.out;
    EXPECT_NE(run.out.find("DATABASE_URL"), std::string::npos) << format;
  }
  CliRun render = plumbline({"render", "--repo", dir_.string(), "--path", "env"});
  EXPECT_EQ(render.status, 0) << render.err;
  EXPECT_EQ(render.out.find("CANARY"), std::string::npos) << render.out;
}

// --cache-dir keeps the parses of Git files for the next run. A later run reuses them and
// reports the same; a cache file that was altered is set aside, never trusted; a value
// plumbline masks never reaches the file.
TEST_F(CliHostileTest, TheParseCacheIsReusedNeverTrustedWhenAlteredAndHoldsNoSecret) {
  std::string with_secret = deployment("512Mi");
  with_secret.replace(with_secret.find("name: api"), 9, "name: db");
  with_secret += "        env: [{name: DB_PASSWORD, value: CANARYdbpass}]\n";
  fs::path repo = commit({{"env/api.yaml", deployment("512Mi")}, {"env/db.yaml", with_secret}});
  write(dir_ / "live.yaml", deployment("1Gi"));
  const fs::path cache = dir_ / "cache";
  const std::vector<std::string> diff = {"diff",
                                         "--repo",
                                         repo.string(),
                                         "--path",
                                         "env",
                                         "--live",
                                         (dir_ / "live.yaml").string(),
                                         "--cache-dir",
                                         cache.string(),
                                         "--format",
                                         "json"};
  CliRun first = plumbline(diff);
  ASSERT_EQ(first.status, 1) << first.err;
  EXPECT_EQ(first.err.find("parse cache"), std::string::npos) << first.err;
  ASSERT_EQ(json::parse(first.out)["drifts"].size(), 2u) << first.out;  // api: memory; db: missing

  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(cache / "parses")) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  ASSERT_EQ(files.size(), 1u);
  std::string bytes;
  {
    std::ifstream in(files[0], std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_EQ(bytes.find("CANARYdbpass"), std::string::npos);
  EXPECT_NE(bytes.find("env/api.yaml"), std::string::npos);

  CliRun second = plumbline(diff);
  EXPECT_EQ(second.status, 1) << second.err;
  EXPECT_NE(second.err.find("plumbline: 1 of 2 files of env reused from the parse cache"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.out, first.out);

  bytes[bytes.size() - 5] ^= 0x01;
  write(files[0], bytes);
  CliRun altered = plumbline(diff);
  EXPECT_EQ(altered.status, 1) << altered.err;
  EXPECT_NE(altered.err.find("plumbline: parse cache set aside (its digest does not match its "
                             "content)"),
            std::string::npos)
      << altered.err;
  EXPECT_EQ(altered.err.find("reused"), std::string::npos) << altered.err;
  EXPECT_EQ(altered.out, first.out);
  CliRun after = plumbline(diff);  // the altered file was replaced
  EXPECT_NE(after.err.find("1 of 2 files of env reused"), std::string::npos) << after.err;
  EXPECT_EQ(after.out, first.out);
}

}  // namespace
