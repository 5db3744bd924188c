// The CLI's canary sweep: unique strings planted in every place a secret can enter plumbline
// — the process-wide Git token and password, an SSH private key (PLUMBLINE_GIT_SSH_KEY and an
// env value), URL userinfo with '/' in the password, a query-string token, Secret data, DB_PASS,
// a numeric DB_PASSWORD, a DATABASE_URL with userinfo — then every command in every format
// (diff text/json/markdown/sarif, render, compare, check, pr-comment --dry-run) and a remote
// fetch into a cache; stdout, stderr, --output files and the cache's file names and contents
// must hold none of them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "canaries.h"
#include "integration/cli_runner.h"
#include "signing_keys.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using plumbline::testing::shell;
using plumbline::testing::trimmed;

std::string workload(const std::string& tag, const std::string& ssh_key) {
  return plumbline::testing::canary_workload("api", "shop", tag, ssh_key, "512Mi");
}

// Secret data both as stringData and as base64 data.
std::string secret(const std::string& tag) {
  return plumbline::testing::canary_secret("shop", tag) +
         "data: {token: " + trimmed(shell("printf CANARYsecretdata" + tag + " | base64 -w0")) +
         "}\n";
}

class CliCanaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.ok());
    key_file_ = (dir() / "id_canary").string();
    shell("ssh-keygen -q -t ed25519 -N '' -C canary -f " + key_file_);
    std::string key = plumbline::testing::SigningKeys::read(key_file_);
    ASSERT_NE(key.find("PRIVATE KEY"), std::string::npos);
    // A line of the key's body: unique, and what a leak of the key would show.
    size_t first = key.find('\n') + 1;
    canaries_ = {"CANARYproctoken", "CANARYprocpassword", "CANARYuser/info", "CANARYquery",
                 "CANARYdbpass",    "CANARYdburl",        "CANARYhook",      "CANARYsecret",
                 "84629173",        key.substr(first, 40)};
    repo_ = dir() / "repo";
    temp_.write("repo/envs/prod/app.yaml", workload("git", key));
    temp_.write("repo/envs/prod/secret.yaml", secret("git"));
    temp_.write("repo/envs/staging/app.yaml", workload("staging", key));
    temp_.write("repo/envs/bad/app.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n"
                "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
                "        env:\n        - {name: DB_PASSWORD, value: 84629173}\n");
    temp_.write("live.yaml", workload("live", key) + "---\n" + secret("live"));
    temp_.write("policy.yaml",
                "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\n"
                "metadata: {name: limits}\nspec:\n  environments: [prod, staging]\n  rules:\n"
                "    requireLimits: {cpu: true}\n    env: {forbidden: [DB_PASS]}\n");
    std::string git = "git -C " + repo_.string() + " -c user.name=t -c user.email=t@t ";
    shell("git init -q -b main " + repo_.string() + " && " + git + "add -A && " + git +
          "commit -q -m base && " + git + "branch base && " + git +
          "commit -q --allow-empty -m head");
    bare_ = dir() / "ops.git";
    shell("git clone -q --bare " + repo_.string() + " " + bare_.string());
    // Process-wide Git credentials, as a CI job would set them.
    setenv("PLUMBLINE_GIT_TOKEN", "CANARYproctoken", 1);
    setenv("PLUMBLINE_GIT_USERNAME", "CANARYuser", 1);
    setenv("PLUMBLINE_GIT_SSH_KEY", key_file_.c_str(), 1);
    setenv("GITHUB_TOKEN", "CANARYproctoken-gh", 1);
  }
  void TearDown() override {
    for (const char* v :
         {"PLUMBLINE_GIT_TOKEN", "PLUMBLINE_GIT_USERNAME", "PLUMBLINE_GIT_SSH_KEY", "GITHUB_TOKEN"})
      unsetenv(v);
  }
  const fs::path& dir() const { return temp_.path(); }

  // Every canary absent from `text` (named `what` in failures).
  void Sweep(const std::string& what, const std::string& text) {
    ++swept_;
    for (const std::string& canary : canaries_) {
      EXPECT_EQ(text.find(canary), std::string::npos) << what << " holds " << canary << ":\n"
                                                      << text.substr(0, 4000);
    }
  }
  void SweepRun(const std::string& what, const CliRun& run) {
    Sweep(what + " stdout", run.out);
    Sweep(what + " stderr", run.err);
  }
  // File names and contents below `root`.
  void SweepTree(const fs::path& root) {
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
      Sweep("file name", entry.path().string());
      if (entry.is_regular_file()) {
        Sweep(entry.path().string(), plumbline::testing::SigningKeys::read(entry.path().string()));
      }
    }
  }

  plumbline::testing::TempDir temp_{"plumbline-canary"};
  std::string key_file_;
  fs::path repo_, bare_;
  std::vector<std::string> canaries_;
  int swept_ = 0;
};

TEST_F(CliCanaryTest, NoSecretInAnyOutput) {
  const std::string live = (dir() / "live.yaml").string(), repo = repo_.string();
  for (const char* format : {"text", "json", "markdown", "sarif"}) {
    std::string out = (dir() / (std::string("report.") + format)).string();
    CliRun run = plumbline({"diff", "--repo", repo, "--path", "envs/prod", "--live", live,
                            "--live-kinds", "Deployment", "--format", format, "--color", "always"});
    EXPECT_EQ(run.status, 1) << format << ": " << run.err;
    EXPECT_NE(run.out.find("DB_PASS"), std::string::npos) << format;  // the drift is reported
    SweepRun(std::string("diff --format ") + format, run);
    CliRun to_file = plumbline({"diff", "--repo", repo, "--path", "envs/prod", "--live", live,
                                "--live-kinds", "Deployment", "--format", format, "--output", out});
    EXPECT_EQ(to_file.status, 1) << to_file.err;
    SweepRun("diff --output", to_file);
    Sweep(out, plumbline::testing::SigningKeys::read(out));
  }
  CliRun render = plumbline({"render", "--repo", repo, "--path", "envs/prod"});
  EXPECT_EQ(render.status, 0) << render.err;
  EXPECT_NE(render.out.find("kind: Secret"), std::string::npos);
  SweepRun("render", render);
  CliRun bad = plumbline({"render", "--repo", repo, "--path", "envs/bad"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("DB_PASSWORD"), std::string::npos) << bad.err;
  SweepRun("render of a numeric DB_PASSWORD", bad);
  CliRun bad_diff =
      plumbline({"diff", "--repo", repo, "--path", "envs/bad", "--live", live, "--format", "json"});
  EXPECT_EQ(bad_diff.status, 2);
  SweepRun("diff of a numeric DB_PASSWORD", bad_diff);
  for (const char* format : {"text", "json", "markdown", "sarif"}) {
    CliRun compare = plumbline({"compare", "--repo", repo, "--path", "envs/prod", "--path",
                                "envs/staging", "--format", format, "--scope", "env"});
    EXPECT_EQ(compare.status, 1) << compare.err;
    SweepRun(std::string("compare --format ") + format, compare);
    CliRun check = plumbline({"check", "--repo", repo, "--path", "envs/prod", "--policy",
                              (dir() / "policy.yaml").string(), "--format", format});
    EXPECT_EQ(check.status, 1) << check.err << check.out;
    SweepRun(std::string("check --format ") + format, check);
  }
  CliRun comment = plumbline(
      {"pr-comment", "--repo",       repo,         "--base",     "base",         "--head",
       "main",       "--path",       "envs/prod",  "--path",     "envs/staging", "--live",
       live,         "--live-kinds", "Deployment", "--provider", "github",       "--repository",
       "org/ops",    "--pr",         "7",          "--dry-run"});
  EXPECT_EQ(comment.status, 0) << comment.err;
  SweepRun("pr-comment --dry-run", comment);

  // Remote sources: a fetch through the cache, and URLs with credentials that fail.
  const fs::path cache = dir() / "cache";
  CliRun fetched = plumbline({"render", "--repo", "file://" + bare_.string(), "--path", "envs/prod",
                              "--cache-dir", cache.string()});
  EXPECT_EQ(fetched.status, 0) << fetched.err;
  SweepRun("render of file://", fetched);
  for (const std::string& url :
       {std::string("https://deploy:CANARYuser/info@127.0.0.1:9/ops.git"),
        std::string("https://CANARYproctoken@127.0.0.1:9/ops.git"),
        std::string("https://127.0.0.1:9/ops.git?token=CANARYquery"),
        std::string("http://deploy:CANARYuser/info@127.0.0.1:9/ops.git?x=CANARYquery"),
        std::string("ssh://git:CANARYuser/info@127.0.0.1:9/ops.git")}) {
    for (const char* command : {"render", "diff"}) {
      std::vector<std::string> args = {command,     "--repo",      url,           "--path",
                                       "envs/prod", "--cache-dir", cache.string()};
      if (std::string(command) == "diff") args.insert(args.end(), {"--live", live});
      CliRun run = plumbline(args);
      EXPECT_EQ(run.status, 2) << url;
      SweepRun(std::string(command) + " " + url.substr(0, 8), run);
    }
  }
  SweepTree(cache);
  std::printf("[ canaries ] %zu canaries, %d outputs and files swept\n", canaries_.size(), swept_);
}

}  // namespace
