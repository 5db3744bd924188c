// End to end: the plumbline binary on the bundled example and on bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "integration/cli_runner.h"
#include "plumbline/core/yaml.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<std::string> kProdDiff = {"diff",
                                            "--repo",
                                            "manifests",
                                            "--path",
                                            "envs/prod",
                                            "--live",
                                            "manifests/live/prod.yaml",
                                            "--live-kinds",
                                            "Deployment,StatefulSet,DaemonSet,CronJob",
                                            "--policy",
                                            "policies/samples/prod-baseline.yaml"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(Cli, DemoProdDiffFindsExactlyThePlantedDrift) {
  CliRun run = plumbline(with(kProdDiff, {"--format", "json"}));
  ASSERT_EQ(run.status, 1) << run.err;
  json report = json::parse(run.out);
  EXPECT_EQ(report["kind"], "DriftReport");
  EXPECT_EQ(report["environment"], "prod");
  std::set<std::string> found;
  for (const auto& d : report["drifts"]) {
    found.insert(d["object"]["name"].get<std::string>() + " " + d["path"].get<std::string>() + " " +
                 d["type"].get<std::string>() + " " + d["action"].get<std::string>());
  }
  std::set<std::string> expected = {
      "checkout spec.template.spec.containers[name=app].resources.limits.memory changed report",
      "checkout spec.template.spec.containers[name=app].env[name=LOG_LEVEL].value changed report",
      "checkout spec.template.spec.containers[name=app].env[name=GOMAXPROCS].value changed report",
      "checkout spec.template.spec.containers[name=app].env[name=DEBUG_PPROF] extra report",
      "checkout spec.template.spec.containers[name=app].resources.requests.cpu changed ignored",
      "checkout spec.template.spec.containers[name=app].env[name=OTEL_EXPORTER_OTLP_ENDPOINT] "
      "extra ignored",
      "ledger spec.template.spec.containers[name=ledger].securityContext.seccompProfile.type extra "
      "report",
      "ledger "
      "spec.template.spec.containers[name=ledger].securityContext.capabilities.add[SYS_ADMIN] "
      "extra report",
      "ledger spec.template.spec.containers[name=ledger].env[name=LEDGER_API_TOKEN] extra report",
  };
  EXPECT_EQ(found, expected) << run.out;
  EXPECT_EQ(report["summary"]["drifted"], 2);
  EXPECT_EQ(report["summary"]["drifts"], 7);
  std::set<std::string> rules;
  for (const auto& v : report["violations"]) {
    rules.insert(v["object"]["name"].get<std::string>() + " " + v["rule"].get<std::string>() + " " +
                 v["state"].get<std::string>());
  }
  EXPECT_EQ(rules, (std::set<std::string>{"checkout gomaxprocs live", "ledger capabilities live"}))
      << run.out;
}

TEST(Cli, SecretValueNeverAppearsInAnyFormat) {
  for (const char* format : {"text", "json", "markdown", "sarif"}) {
    CliRun run = plumbline(with(kProdDiff, {"--format", format}));
    EXPECT_EQ(run.status, 1) << format << run.err;
    EXPECT_EQ(run.out.find("tok-3f9a1c7e55d04b2a"), std::string::npos) << format;
    EXPECT_NE(run.out.find("<redacted sha256:"), std::string::npos) << format;
  }
}

TEST(Cli, StagingSnapshotIsConsistent) {
  CliRun run = plumbline({"diff", "--repo", "manifests", "--path", "envs/staging", "--live",
                          "manifests/live/staging.yaml", "--live-kinds",
                          "Deployment,StatefulSet,DaemonSet,CronJob", "--format", "json"});
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_EQ(json::parse(run.out)["summary"]["drifts"], 0);
}

TEST(Cli, CompareStagingWithProdFlagsOnlyWhatPoliciesDoNotAllow) {
  CliRun run =
      plumbline({"compare", "--repo", "manifests", "--path", "envs/staging", "--path", "envs/prod",
                 "--policy", "policies/samples/prod-baseline.yaml", "--format", "json"});
  ASSERT_EQ(run.status, 1) << run.err;
  json cmp = json::parse(run.out);
  std::set<std::string> not_allowed;
  for (const auto& d : cmp["differences"]) {
    if (!d["allowed"].get<bool>()) {
      not_allowed.insert(d["object"]["name"].get<std::string>() + " " +
                         d["path"].get<std::string>());
    }
  }
  // env differs (log level, memory limit for Go, the report bucket); resources may differ.
  EXPECT_EQ(not_allowed,
            (std::set<std::string>{
                "checkout spec.template.spec.containers[name=app].env[name=LOG_LEVEL].value",
                "checkout spec.template.spec.containers[name=app].env[name=GOMEMLIMIT].value",
                "report-builder "
                "spec.jobTemplate.spec.template.spec.containers[name=report].env[name=REPORT_"
                "BUCKET].value"}))
      << run.out;
  EXPECT_EQ(cmp["summary"]["allowed"], 7) << run.out;
}

TEST(Cli, RenderPrintsMaskedYaml) {
  CliRun run = plumbline({"render", "--repo", "manifests", "--path", "envs/prod"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("name: checkout-config-"), std::string::npos);
  EXPECT_NE(run.out.find("namespace: shop-prod"), std::string::npos);
  // Written object by object on several threads: the stream one thread writes, documents in
  // render order, each the masked object's YAML.
  CliRun one = plumbline({"render", "--repo", "manifests", "--path", "envs/prod", "--jobs", "1"});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(one.out, run.out);
  CliRun four = plumbline({"render", "--repo", "manifests", "--path", "envs/prod", "--jobs", "4"});
  EXPECT_EQ(four.out, run.out);
  auto documents = plumbline::parse_yaml_documents(run.out, "out.yaml");
  ASSERT_TRUE(documents.ok()) << documents.error().to_string();
  std::vector<json> objects;
  for (const auto& d : *documents) objects.push_back(d.value);
  ASSERT_GT(objects.size(), 5U);
  EXPECT_EQ(plumbline::to_yaml_stream(objects), run.out);
  CliRun bad = plumbline({"render", "--repo", "manifests", "--path", "envs/prod", "--jobs", "0"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err, "plumbline: error: --jobs must be a number from 1 to 64, got '0'\n");
  // Every count option says its range the same way.
  for (const auto& [flag, value, range] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--jobs", "2x", "1 to 64"},
           {"--jobs", "65", "1 to 64"},
           {"--max-render-files", "0", "1 to 10000000"},
           {"--max-render-objects", "-3", "1 to 10000000"}}) {
    CliRun run = plumbline({"render", "--repo", "manifests", "--path", "envs/prod", flag, value});
    EXPECT_EQ(run.status, 2) << flag << " " << value;
    EXPECT_EQ(run.err, "plumbline: error: " + flag + " must be a number from " + range + ", got '" +
                           value + "'\n");
  }
}

TEST(Cli, RenderLimitsAreFlagsAndTheirErrorsNameThem) {
  CliRun objects = plumbline(
      {"render", "--repo", "manifests", "--path", "envs/prod", "--max-render-objects", "2"});
  EXPECT_EQ(objects.status, 2);
  EXPECT_NE(objects.err.find("objects, more than the limit of 2 (--max-render-objects raises it)"),
            std::string::npos)
      << objects.err;
  CliRun files = plumbline(
      {"render", "--repo", "manifests", "--path", "envs/prod", "--max-render-files", "1"});
  EXPECT_EQ(files.status, 2);
  EXPECT_NE(files.err.find("--max-render-files raises the limit"), std::string::npos) << files.err;
  CliRun bytes = plumbline(
      {"render", "--repo", "manifests", "--path", "envs/prod", "--max-render-bytes", "1Ki"});
  EXPECT_EQ(bytes.status, 2);
  EXPECT_EQ(bytes.err,
            "plumbline: error: --max-render-bytes must be a size like 512Mi or 2Gi (at least 1Mi), "
            "got '1Ki'\n");
  CliRun raised =
      plumbline({"render", "--repo", "manifests", "--path", "envs/prod", "--max-render-bytes",
                 "1Gi", "--max-render-files", "100000", "--max-render-objects", "100000"});
  EXPECT_EQ(raised.status, 0) << raised.err;
}

TEST(Cli, ErrorsExitTwoWithAClearMessage) {
  fs::path dir = fs::temp_directory_path() / ("plumbline-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir / "env");
  std::ofstream(dir / "env" / "bad.yaml")
      << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [1, 2\n";
  std::ofstream(dir / "live.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
  std::ofstream(dir / "policy.yaml")
      << "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\n"
         "metadata: {name: p}\nspec:\n  rules:\n    requireLimit: {cpu: true}\n";

  CliRun bad_yaml = plumbline(
      {"diff", "--repo", dir.string(), "--path", "env", "--live", (dir / "live.yaml").string()});
  EXPECT_EQ(bad_yaml.status, 2);
  EXPECT_NE(bad_yaml.err.find("bad.yaml:"), std::string::npos) << bad_yaml.err;
  EXPECT_NE(bad_yaml.err.find("invalid YAML"), std::string::npos) << bad_yaml.err;

  CliRun bad_policy =
      plumbline({"diff", "--repo", "manifests", "--path", "envs/prod", "--live",
                 "manifests/live/prod.yaml", "--policy", (dir / "policy.yaml").string()});
  EXPECT_EQ(bad_policy.status, 2);
  EXPECT_NE(bad_policy.err.find("policy.yaml:6:5"), std::string::npos) << bad_policy.err;
  EXPECT_NE(bad_policy.err.find("requireLimit"), std::string::npos) << bad_policy.err;

  CliRun escape = plumbline({"render", "--repo", "manifests", "--path", "../controller"});
  EXPECT_EQ(escape.status, 2);
  EXPECT_NE(escape.err.find("leaves the repository"), std::string::npos) << escape.err;

  CliRun missing_live =
      plumbline({"diff", "--repo", "manifests", "--path", "envs/prod", "--live", "nope.yaml"});
  EXPECT_EQ(missing_live.status, 2);
  EXPECT_EQ(missing_live.err, "plumbline: error: nope.yaml: cannot open file\n");

  // The live file is read before the render (to free its text early), yet a render error is
  // still the one reported.
  CliRun both_bad = plumbline(
      {"diff", "--repo", dir.string(), "--path", "env", "--live", (dir / "nope.yaml").string()});
  EXPECT_EQ(both_bad.status, 2);
  EXPECT_NE(both_bad.err.find("bad.yaml:"), std::string::npos) << both_bad.err;
  EXPECT_EQ(both_bad.err.find("cannot open file"), std::string::npos) << both_bad.err;

  CliRun flag = plumbline({"diff", "--repo", "manifests", "--pathh", "x"});
  EXPECT_EQ(flag.status, 2);
  EXPECT_EQ(flag.err,
            "plumbline: error: unknown flag --pathh for `plumbline diff` (see `plumbline diff "
            "--help`)\n");

  CliRun not_list = plumbline({"diff", "--repo", "manifests", "--path", "envs/prod", "--live",
                               (dir / "env" / "bad.yaml").string()});
  EXPECT_EQ(not_list.status, 2);
  fs::remove_all(dir);
}

TEST(Cli, HelpTeaches) {
  CliRun run = plumbline({"diff", "--help"});
  EXPECT_EQ(run.status, 0);
  EXPECT_NE(run.out.find("Exit status: 0 consistent, 1 drift or policy violations, 2 error"),
            std::string::npos);
  EXPECT_NE(run.out.find("--live-kinds"), std::string::npos);
  EXPECT_NE(run.out.find("--allow-empty"), std::string::npos);
  CliRun unknown = plumbline({"help", "dif"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("no help for 'dif'"), std::string::npos) << unknown.err;
}

// "declared at" names the overlay that set the value, not the base it overrode.
TEST(Cli, DeclaredAtIsTheOverlayThatSetTheValue) {
  CliRun run = plumbline(with(kProdDiff, {"--format", "json"}));
  ASSERT_EQ(run.status, 1) << run.err;
  bool found = false;
  const json report = json::parse(run.out);
  for (const auto& d : report["drifts"]) {
    if (d["path"] != "spec.template.spec.containers[name=app].env[name=GOMAXPROCS].value") continue;
    found = true;
    EXPECT_EQ(d["source"], (json{{"file", "envs/prod/checkout-resources.yaml"}, {"line", 13}}));
  }
  EXPECT_TRUE(found) << run.out;
  CliRun text = plumbline(kProdDiff);
  EXPECT_NE(text.out.find("declared at envs/prod/checkout-resources.yaml:13"), std::string::npos);
  CliRun markdown = plumbline(with(kProdDiff, {"--format", "markdown"}));
  EXPECT_NE(markdown.out.find("`envs/prod/checkout-resources.yaml:13`"), std::string::npos);
}

// A check that compared nothing, or left kinds out unannounced, must not pass.
TEST(Cli, NoAccidentalPass) {
  std::vector<std::string> unannounced(kProdDiff.begin(), kProdDiff.end());
  unannounced.erase(unannounced.begin() + 7, unannounced.begin() + 9);  // --live-kinds KINDS
  CliRun uncovered = plumbline(unannounced);
  EXPECT_EQ(uncovered.status, 2);
  EXPECT_NE(uncovered.err.find("the live snapshot has no ConfigMap, Service objects"),
            std::string::npos)
      << uncovered.err;
  EXPECT_NE(uncovered.err.find("--live-kinds"), std::string::npos);

  fs::path dir = fs::temp_directory_path() / ("plumbline-cli-empty-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "empty.json") << R"({"apiVersion": "v1", "kind": "List", "items": []})";
  std::vector<std::string> empty = {"diff",
                                    "--repo",
                                    "manifests",
                                    "--path",
                                    "envs/prod",
                                    "--live",
                                    (dir / "empty.json").string(),
                                    "--live-kinds",
                                    "CronTab"};
  CliRun nothing = plumbline(empty);
  EXPECT_EQ(nothing.status, 2);
  EXPECT_NE(nothing.err.find("nothing to compare"), std::string::npos) << nothing.err;
  CliRun allowed = plumbline(with(empty, {"--allow-empty", "--format", "json"}));
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  EXPECT_EQ(json::parse(allowed.out)["uncompared"].size(), 6u) << allowed.out;
  fs::remove_all(dir);

  // Uncompared objects are in the report; a policy for no environment here is a warning.
  CliRun listed = plumbline(
      {"diff", "--repo", "manifests", "--path", "envs/dev", "--live", "manifests/live/prod.yaml",
       "--live-kinds", "Deployment,StatefulSet,DaemonSet,CronJob", "--environment", "dev",
       "--policy", "policies/samples/prod-baseline.yaml", "--format", "json"});
  ASSERT_NE(listed.status, 2) << listed.err;
  json report = json::parse(listed.out);
  std::set<std::string> kinds;
  for (const auto& u : report["uncompared"]) kinds.insert(u["object"]["kind"]);
  EXPECT_EQ(kinds, (std::set<std::string>{"ConfigMap", "Service"})) << listed.out;
  ASSERT_TRUE(report["warnings"].is_array()) << listed.out;
  EXPECT_EQ(report["warnings"][0],
            "policy prod-baseline applies to prod, staging, not to dev: it was not used");
}

TEST(Cli, UnusedIgnoreIsAWarning) {
  CliRun run = plumbline({"diff", "--repo", "manifests", "--path", "envs/staging", "--live",
                          "manifests/live/staging.yaml", "--live-kinds",
                          "Deployment,StatefulSet,DaemonSet,CronJob", "--policy",
                          "policies/samples/prod-baseline.yaml", "--format", "json"});
  ASSERT_NE(run.status, 2) << run.err;
  json report = json::parse(run.out);
  ASSERT_TRUE(report["warnings"].is_array()) << run.out;
  EXPECT_NE(report["warnings"].dump().find("matched no finding"), std::string::npos);
}

// The CI examples are valid YAML, run `plumbline diff`, upload its SARIF and run
// `plumbline pr-comment` on pull requests.
TEST(Cli, CiExamplesRunDiffAndUploadSarif) {
  for (const char* name : {"github-actions.yaml", "gitlab-ci.yaml"}) {
    SCOPED_TRACE(name);
    std::ifstream in(std::string(PLUMBLINE_SOURCE_DIR) + "/deploy/ci/" + name);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    auto parsed = plumbline::parse_yaml(text, name);
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_TRUE(parsed->is_object());
    for (const char* needle :
         {"plumbline diff", "--format \"$format\"", ".sarif", "plumbline pr-comment --repo ."}) {
      EXPECT_NE(text.find(needle), std::string::npos) << needle;
    }
  }
}

}  // namespace
