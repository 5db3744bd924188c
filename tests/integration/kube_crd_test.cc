// The plumbline CRDs (policies/crds/) against a real kube-apiserver: they install and become
// Established; every sample (policies/samples/) and valid fixture (tests/fixtures/crds/valid/)
// is accepted; every invalid fixture (tests/fixtures/crds/invalid/) is refused with the
// message its "# expect:" lines give; printer columns and defaults are there; a DriftReport
// status holds a real `plumbline diff --format json` report unchanged. And the CLI's strict
// policy parser agrees with the ConsistencyPolicy schema on every policy file and ignore path.
//
// Invalid fixture headers:
//   # expect: TEXT         kubectl's stderr contains TEXT (one or more lines)
//   # cli-expect: TEXT     ConsistencyPolicy only: `plumbline diff --policy FILE` exits 2
//                          and its stderr contains TEXT
//   # subresource: status  create the object (the apiserver drops .status on create), then
//                          apply its status through the status subresource: that must fail
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "integration/kube_testenv.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using plumbline::testing::KubeTestEnv;

const std::string kSource = PLUMBLINE_SOURCE_DIR;
const std::string kCrds = kSource + "/policies/crds";
const std::string kSamples = kSource + "/policies/samples";
const std::string kValid = kSource + "/tests/fixtures/crds/valid";
const std::string kInvalid = kSource + "/tests/fixtures/crds/invalid";
const std::vector<std::string> kCrdNames = {"crd/environments.plumbline.dev",
                                            "crd/consistencypolicies.plumbline.dev",
                                            "crd/driftreports.plumbline.dev"};

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> YamlFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The values of the "# KEY: value" header lines of a fixture.
std::vector<std::string> Header(const std::string& text, const std::string& key) {
  std::vector<std::string> values;
  std::istringstream in(text);
  const std::string prefix = "# " + key + ": ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) values.push_back(line.substr(prefix.size()));
  }
  return values;
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::vector<std::string> Lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// `plumbline diff` of the demo's prod environment with `policy_file` as its policy.
KubeTestEnv::Result DiffWithPolicy(const std::string& policy_file,
                                   const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv = {
      PLUMBLINE_BINARY, "diff",
      "--repo",         kSource + "/manifests",
      "--path",         "envs/prod",
      "--live",         kSource + "/manifests/live/prod.yaml",
      "--live-kinds",   "Deployment,StatefulSet,DaemonSet,CronJob",  // what the snapshot holds
      "--policy",       policy_file};
  argv.insert(argv.end(), more.begin(), more.end());
  return KubeTestEnv::Run(argv);
}

// A started apiserver with the CRDs installed and Established, and namespace plumbline-system.
std::unique_ptr<KubeTestEnv> StartWithCrds() {
  std::string error;
  auto env = KubeTestEnv::Start({}, &error);
  EXPECT_NE(env, nullptr) << error;
  if (env == nullptr) return nullptr;
  auto applied = env->Kubectl({"apply", "-f", kCrds});
  EXPECT_EQ(applied.exit_code, 0) << Describe(applied);
  for (const auto& crd : kCrdNames) {
    EXPECT_NE(applied.out.find("customresourcedefinition.apiextensions.k8s.io/" + crd.substr(4)),
              std::string::npos)
        << applied.out;
  }
  std::vector<std::string> wait = {"wait", "--for", "condition=established", "--timeout=60s"};
  wait.insert(wait.end(), kCrdNames.begin(), kCrdNames.end());
  auto established = env->Kubectl(wait, "", 90);
  EXPECT_EQ(established.exit_code, 0) << Describe(established);
  auto ns = env->Kubectl({"create", "namespace", "plumbline-system"});
  EXPECT_EQ(ns.exit_code, 0) << Describe(ns);
  if (::testing::Test::HasFailure()) return nullptr;
  return env;
}

// Applies `object` (JSON) and then its .status through the status subresource, as the
// controller does (server-side apply, field manager plumbline).
void ApplyWithStatus(const KubeTestEnv& env, const json& object) {
  auto created = env.Kubectl({"apply", "-f", "-"}, object.dump());
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  auto status = env.Kubectl(
      {"apply", "--server-side", "--field-manager=plumbline", "--subresource=status", "-f", "-"},
      object.dump());
  ASSERT_EQ(status.exit_code, 0) << Describe(status);
}

TEST(KubeCrd, SchemasAcceptTheSamplesAndRefuseEachInvalidFixture) {
  auto env = StartWithCrds();
  ASSERT_NE(env, nullptr);

  // Every sample and valid fixture is accepted as it is (statuses go through the subresource).
  std::vector<std::string> accepted = YamlFiles(kSamples);
  for (const auto& f : YamlFiles(kValid)) accepted.push_back(f);
  ASSERT_GE(accepted.size(), 4u);
  for (const auto& file : accepted) {
    auto r = env->Kubectl({"apply", "-f", file});
    EXPECT_EQ(r.exit_code, 0) << file << "\n" << Describe(r);
    if (ReadFile(file).find("\nstatus:") != std::string::npos) {
      auto s = env->Kubectl({"apply", "--server-side", "--field-manager=plumbline",
                             "--subresource=status", "-f", file});
      EXPECT_EQ(s.exit_code, 0) << file << " status\n" << Describe(s);
    }
  }

  // Defaults of a minimal Environment (the values the controller assumes when absent).
  auto minimal = env->Kubectl({"apply", "-f", "-"}, R"({"apiVersion": "plumbline.dev/v1alpha1",
      "kind": "Environment", "metadata": {"name": "minimal"},
      "spec": {"source": {"url": "https://git.example.com/ops.git", "path": "envs/dev"},
               "namespaces": ["shop-dev"]}})");
  ASSERT_EQ(minimal.exit_code, 0) << Describe(minimal);
  auto got = env->Kubectl({"get", "environment", "minimal", "-o", "json"});
  ASSERT_EQ(got.exit_code, 0) << Describe(got);
  EXPECT_EQ(json::parse(got.out)["spec"],
            json::parse(R"({"source": {"url": "https://git.example.com/ops.git",
                "path": "envs/dev"}, "namespaces": ["shop-dev"], "interval": "1m",
                "mode": "report", "render": {"type": "auto"}, "suspend": false,
                "validationInterval": "1h",
                "correction": {"maxPerMinute": 10, "maxRounds": 3}})"));

  // Printer columns. Environment prod gets a status as the controller would write it.
  ApplyWithStatus(*env, json::parse(R"({"apiVersion": "plumbline.dev/v1alpha1",
      "kind": "Environment", "metadata": {"name": "prod"},
      "spec": {"source": {"url": "https://git.example.com/shop/plumbline-demo.git",
                          "path": "manifests/envs/prod"}, "namespaces": ["shop-prod"]},
      "status": {"revision": "d4799f44a2ae5f3bbace7df0029a2b66b1abc1aa",
                 "lastSyncTime": "2026-11-23T10:00:00Z", "observedGeneration": 1,
                 "summary": {"objects": 4, "drifted": 2, "drifts": 7, "violations": 2},
                 "conditions": [{"type": "Ready", "status": "True", "reason": "Synced",
                                 "message": "rendered and compared", "observedGeneration": 1,
                                 "lastTransitionTime": "2026-11-23T10:00:00Z"},
                                {"type": "Stale", "status": "False", "reason": "Fresh",
                                 "message": "", "lastTransitionTime": "2026-11-23T10:00:00Z"}]}})"));
  auto envs = env->Kubectl({"get", "environments"});
  ASSERT_EQ(envs.exit_code, 0) << Describe(envs);
  std::vector<std::string> rows = Lines(envs.out);
  ASSERT_GE(rows.size(), 3u) << envs.out;
  EXPECT_EQ(Words(rows[0]), (std::vector<std::string>{"NAME", "MODE", "REVISION", "DRIFTED",
                                                      "READY", "STATUS", "AGE"}));
  auto prod = env->Kubectl({"get", "env", "prod", "--no-headers"});  // the short name
  ASSERT_EQ(prod.exit_code, 0) << Describe(prod);
  std::vector<std::string> cells = Words(prod.out);
  ASSERT_EQ(cells.size(), 7u) << prod.out;
  EXPECT_EQ(std::vector<std::string>(cells.begin(), cells.begin() + 6),
            (std::vector<std::string>{"prod", "report", "d4799f44a2ae5f3bbace7df0029a2b66b1abc1aa",
                                      "2", "True", "Synced"}));

  auto policies = env->Kubectl({"get", "consistencypolicies", "prod-baseline"});
  ASSERT_EQ(policies.exit_code, 0) << Describe(policies);
  rows = Lines(policies.out);
  ASSERT_EQ(rows.size(), 2u) << policies.out;
  EXPECT_EQ(Words(rows[0]), (std::vector<std::string>{"NAME", "ACTION", "ENVIRONMENTS", "AGE"}));
  cells = Words(rows[1]);
  ASSERT_EQ(cells.size(), 4u) << rows[1];
  EXPECT_EQ(cells[1], "report");
  EXPECT_EQ(cells[2], R"(["prod","staging"])");

  auto reports = env->Kubectl({"get", "driftreports", "-n", "plumbline-system", "prod"});
  ASSERT_EQ(reports.exit_code, 0) << Describe(reports);
  rows = Lines(reports.out);
  ASSERT_EQ(rows.size(), 2u) << reports.out;
  EXPECT_EQ(Words(rows[0]), (std::vector<std::string>{"NAME", "ENVIRONMENT", "REVISION", "DRIFTED",
                                                      "DRIFTS", "VIOLATIONS", "AGE"}));
  cells = Words(rows[1]);
  ASSERT_EQ(cells.size(), 7u) << rows[1];
  EXPECT_EQ(cells[0], "prod");
  EXPECT_EQ(cells[1], "prod");
  EXPECT_EQ(cells[2].size(), 40u) << cells[2];  // a commit id

  auto all = env->Kubectl({"get", "plumbline", "-A", "-o", "name"});  // the category
  ASSERT_EQ(all.exit_code, 0) << Describe(all);
  for (const char* want :
       {"environment.plumbline.dev/prod", "consistencypolicy.plumbline.dev/prod-baseline",
        "driftreport.plumbline.dev/prod"})
    EXPECT_NE(all.out.find(want), std::string::npos) << want << " not in\n" << all.out;

  // Each invalid fixture is refused, with exactly the schema's message.
  std::vector<std::string> invalid = YamlFiles(kInvalid);
  ASSERT_GE(invalid.size(), 25u);
  for (const auto& file : invalid) {
    SCOPED_TRACE(file);
    const std::string text = ReadFile(file);
    const std::vector<std::string> expects = Header(text, "expect");
    ASSERT_FALSE(expects.empty()) << "no '# expect:' line";
    KubeTestEnv::Result r;
    if (!Header(text, "subresource").empty()) {
      auto created = env->Kubectl({"create", "-f", file});
      ASSERT_EQ(created.exit_code, 0) << Describe(created);
      r = env->Kubectl({"apply", "--server-side", "--field-manager=plumbline",
                        "--subresource=status", "-f", file});
    } else {
      r = env->Kubectl({"apply", "-f", file});
    }
    EXPECT_NE(r.exit_code, 0) << "accepted:\n" << Describe(r);
    for (const auto& want : expects) {
      EXPECT_NE(r.err.find(want), std::string::npos) << "want: " << want << "\n" << Describe(r);
    }
  }

  // Ignore paths: the schema's pattern and the parser's grammar (core/path.cc) agree.
  const std::vector<std::pair<std::string, bool>> paths = {
      {"spec.replicas", true},
      {"spec.template.spec.containers[*].env[name=OTEL_*]", true},
      {"metadata.annotations['example.com/owner']", true},
      {"['spec'].replicas", true},
      {R"(metadata.labels['it\'s'])", true},
      {R"(spec.args[--flag\]])", true},
      {"spec.containers[name=app][0]", true},
      {"spec.containers.[0]", true},
      {"spec.list[]", true},
      {"a[x]b", true},
      {"spec]", true},
      {"", false},
      {".spec", false},
      {"spec.", false},
      {"spec..replicas", false},
      {"[0].spec", false},
      {"spec.args[0", false},
      {"metadata.labels['x'", false},
      {"metadata.labels['x'y]", false},
      {R"(spec.args[\)", false},
  };
  const fs::path dir = env->state_dir();
  for (size_t i = 0; i < paths.size(); ++i) {
    const auto& [path, valid] = paths[i];
    SCOPED_TRACE("ignore path '" + path + "'");
    json policy = {{"apiVersion", "plumbline.dev/v1alpha1"},
                   {"kind", "ConsistencyPolicy"},
                   {"metadata", {{"name", "path-" + std::to_string(i)}}},
                   {"spec", {{"ignore", json::array({{{"path", path}}})}}}};
    auto kube = env->Kubectl({"apply", "--dry-run=server", "-f", "-"}, policy.dump());
    EXPECT_EQ(kube.exit_code == 0, valid) << Describe(kube);
    const std::string file = (dir / ("path-" + std::to_string(i) + ".json")).string();
    std::ofstream(file) << policy.dump() << "\n";  // JSON is YAML
    auto cli = DiffWithPolicy(file);
    EXPECT_EQ(cli.exit_code != 2, valid) << Describe(cli);
  }
}

TEST(KubeCrd, DriftReportStatusHoldsARealReport) {
  auto env = StartWithCrds();
  ASSERT_NE(env, nullptr);

  auto diff = DiffWithPolicy(kSamples + "/prod-baseline.yaml", {"--format", "json"});
  ASSERT_EQ(diff.exit_code, 1) << Describe(diff);
  json report = json::parse(diff.out);
  ASSERT_EQ(report["kind"], "DriftReport");
  ASSERT_FALSE(report["drifts"].empty());
  ASSERT_FALSE(report["violations"].empty());
  json status = report;
  status.erase("apiVersion");
  status.erase("kind");
  status["lastUpdateTime"] = "2026-11-23T10:00:00Z";
  status["observedGeneration"] = 1;
  status["conditions"] = json::parse(R"([{"type": "Ready", "status": "True",
      "reason": "Reported", "message": "", "lastTransitionTime": "2026-11-23T10:00:00Z"}])");
  json report_object = {{"apiVersion", "plumbline.dev/v1alpha1"},
                        {"kind", "DriftReport"},
                        {"metadata", {{"name", "prod"}, {"namespace", "plumbline-system"}}},
                        {"spec", {{"environment", "prod"}}},
                        {"status", status}};
  ApplyWithStatus(*env, report_object);
  auto got = env->Kubectl({"get", "driftreport", "prod", "-n", "plumbline-system", "-o", "json"});
  ASSERT_EQ(got.exit_code, 0) << Describe(got);
  EXPECT_EQ(json::parse(got.out)["status"], status);  // nothing pruned, nulls kept

  // An update: desired/live of every JSON type, object-level findings (empty path), the
  // enforce-mode actions and a bounded report's omitted counts.
  json drifts = status["drifts"];
  const json object = drifts[0]["object"];
  auto add = [&](const char* type, json desired, json live, const char* action) {
    drifts.push_back({{"object", object},
                      {"path", std::string(type).rfind("object-", 0) == 0 ? "" : "spec.x"},
                      {"category", "runtime"},
                      {"type", type},
                      {"desired", desired},
                      {"live", live},
                      {"action", action}});
  };
  add("changed", 3, 5, "would-correct");
  add("changed", true, false, "corrected");
  add("changed", 0.25, json::array({1, "a", nullptr, json::object()}), "failed");
  drifts.back()["failure"] = "admission webhook denied the patch";
  add("extra", nullptr, {{"nested", {{"null", nullptr}, {"list", json::array()}}}}, "report");
  add("object-missing", {{"kind", "Service"}}, nullptr, "report");
  add("object-extra", nullptr, nullptr, "report");
  add("changed", "512Mi", "1Gi", "contested");
  drifts.back()["contestedBy"] = "vpa-recommender";
  drifts.back()["liveManager"] = "vpa-recommender";
  status["drifts"] = drifts;
  status["summary"]["drifts"] = 14;
  status["summary"]["omitted"] = {{"drifts", 120}, {"violations", 3}};
  status["source"]["revision"] = "fedcba9876543210fedcba9876543210fedcba98";
  status["observedGeneration"] = 2;
  report_object["status"] = status;
  auto updated = env->Kubectl(
      {"apply", "--server-side", "--field-manager=plumbline", "--subresource=status", "-f", "-"},
      report_object.dump());
  ASSERT_EQ(updated.exit_code, 0) << Describe(updated);
  got = env->Kubectl({"get", "driftreport", "prod", "-n", "plumbline-system", "-o", "json"});
  ASSERT_EQ(got.exit_code, 0) << Describe(got);
  EXPECT_EQ(json::parse(got.out)["status"], status);

  auto row = env->Kubectl({"get", "driftreport", "prod", "-n", "plumbline-system", "--no-headers"});
  ASSERT_EQ(row.exit_code, 0) << Describe(row);
  std::vector<std::string> cells = Words(row.out);
  ASSERT_EQ(cells.size(), 7u) << row.out;
  EXPECT_EQ(std::vector<std::string>(cells.begin(), cells.begin() + 6),
            (std::vector<std::string>{"prod", "prod", "fedcba9876543210fedcba9876543210fedcba98",
                                      std::to_string(status["summary"]["drifted"].get<int>()), "14",
                                      std::to_string(report["violations"].size())}));

  // A status update through the main resource is ignored (the status subresource owns it).
  report_object["status"]["summary"]["drifts"] = 99;
  auto main_update = env->Kubectl(
      {"apply", "--server-side", "--field-manager=plumbline", "--force-conflicts", "-f", "-"},
      report_object.dump());
  ASSERT_EQ(main_update.exit_code, 0) << Describe(main_update);
  auto drifts_now = env->Kubectl({"get", "driftreport", "prod", "-n", "plumbline-system", "-o",
                                  "jsonpath={.status.summary.drifts}"});
  EXPECT_EQ(drifts_now.out, "14") << Describe(drifts_now);
}

// No apiserver: the CLI reads every ConsistencyPolicy the schema accepts, and refuses each
// invalid policy fixture with its own message (the parser is stricter about nothing).
TEST(KubeCrd, CliPolicyParserAgreesWithTheSchema) {
  std::vector<std::string> accepted;
  for (const auto& dir : {kSamples, kValid}) {
    for (const auto& file : YamlFiles(dir)) {
      if (ReadFile(file).find("kind: ConsistencyPolicy") != std::string::npos)
        accepted.push_back(file);
    }
  }
  ASSERT_GE(accepted.size(), 2u);
  for (const auto& file : accepted) {
    auto r = DiffWithPolicy(file);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << file << "\n" << Describe(r);
  }
  size_t refused = 0;
  for (const auto& file : YamlFiles(kInvalid)) {
    const std::string text = ReadFile(file);
    if (text.find("kind: ConsistencyPolicy") == std::string::npos) continue;
    SCOPED_TRACE(file);
    const std::vector<std::string> expects = Header(text, "cli-expect");
    ASSERT_FALSE(expects.empty()) << "a policy fixture needs a '# cli-expect:' line";
    auto r = DiffWithPolicy(file);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    for (const auto& want : expects) {
      EXPECT_NE(r.err.find(want), std::string::npos) << "want: " << want << "\n" << Describe(r);
    }
    ++refused;
  }
  EXPECT_GE(refused, 12u);
}

}  // namespace
