// `plumbline check` end to end: the demo's prod environment breaks prod-governance in exactly
// the planted places (exit 1, every format); a copy with them fixed passes (exit 0); a check
// that could check nothing is an error (exit 2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "integration/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<std::string> kCheck = {"check",
                                         "--repo",
                                         "manifests",
                                         "--path",
                                         "envs/prod",
                                         "--policy",
                                         "policies/samples/prod-governance.yaml",
                                         "--environment-label",
                                         "plumbline.dev/env-type=prod"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::set<std::string> violation_lines(const json& report) {
  std::set<std::string> out;
  for (const auto& v : report["violations"]) {
    std::string line = v["object"]["kind"].get<std::string>() + "/" +
                       v["object"]["name"].get<std::string>() + " " + v["rule"].get<std::string>() +
                       " " + v["path"].get<std::string>();
    if (v.contains("source")) {
      line += " @ " + v["source"]["file"].get<std::string>();
      if (v["source"].contains("line"))
        line += ":" + std::to_string(v["source"]["line"].get<int>());
    }
    out.insert(line);
  }
  return out;
}

TEST(CliCheck, DemoProdFindsExactlyThePlantedViolations) {
  CliRun run = plumbline(with(kCheck, {"--format", "json"}));
  ASSERT_EQ(run.status, 1) << run.out << run.err;
  json report = json::parse(run.out);
  EXPECT_EQ(report["check"], "desired-state");
  EXPECT_EQ(report["environment"], "prod");
  EXPECT_EQ(report["summary"]["objects"], 6);
  EXPECT_EQ(report["drifts"], json::array());
  EXPECT_EQ(
      violation_lines(report),
      (std::set<std::string>{
          "DaemonSet/log-shipper podSecurity spec.template.spec.volumes[name=varlog].hostPath @ "
          "base/log-shipper/daemonset.yaml:51",
          "StatefulSet/ledger podSecurity spec.template.spec.securityContext.seLinuxOptions.type "
          "@ base/ledger/statefulset.yaml:25",
          "DaemonSet/log-shipper podSecurity "
          "spec.template.spec.containers[name=shipper].securityContext.capabilities.add[DAC_READ_"
          "SEARCH] @ base/log-shipper/daemonset.yaml:43",
          "Deployment/checkout podSecurity "
          "spec.template.spec.securityContext.sysctls[name=net.core.somaxconn] @ "
          "base/checkout/deployment.yaml:26",
          "Deployment/checkout podDisruptionBudget spec.replicas @ envs/prod/kustomization.yaml:11",
          "StatefulSet/ledger podDisruptionBudget spec.replicas @ envs/prod/kustomization.yaml:13",
          "Namespace/shop-prod networkPolicy ",
      }))
      << run.out;
}

TEST(CliCheck, EveryFormatShowsTheViolations) {
  CliRun text = plumbline(with(kCheck, {"--color", "never"}));
  EXPECT_EQ(text.status, 1) << text.err;
  EXPECT_NE(text.out.find("desired state only: 6 objects, 7 violations"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("VIOLATIONS: 7 violations in 4 objects"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(base/log-shipper/daemonset.yaml:51)"), std::string::npos) << text.out;

  CliRun markdown = plumbline(with(kCheck, {"--format", "markdown"}));
  EXPECT_EQ(markdown.status, 1);
  EXPECT_NE(markdown.out.find("Policy violations in the desired state."), std::string::npos)
      << markdown.out;
  EXPECT_NE(markdown.out.find("`envs/prod/kustomization.yaml:13`"), std::string::npos)
      << markdown.out;

  CliRun sarif = plumbline(with(kCheck, {"--format", "sarif"}));
  EXPECT_EQ(sarif.status, 1);
  json doc = json::parse(sarif.out);
  const json& sarif_run = doc["runs"][0];
  EXPECT_EQ(sarif_run["automationDetails"]["id"], "plumbline/check/prod/");
  std::set<std::string> locations;
  for (const auto& r : sarif_run["results"]) {
    const json& loc = r["locations"][0]["physicalLocation"];
    locations.insert(r["ruleId"].get<std::string>() + " " +
                     loc["artifactLocation"]["uri"].get<std::string>() + ":" +
                     std::to_string(loc.value("region", json::object()).value("startLine", 0)));
  }
  EXPECT_EQ(locations.size(), 7u) << sarif.out;
  EXPECT_TRUE(locations.count("policy/podSecurity base/log-shipper/daemonset.yaml:51"))
      << sarif.out;
  // The namespace has no manifest of its own: the alert is on the environment's kustomization.
  EXPECT_TRUE(locations.count("policy/networkPolicy envs/prod/kustomization.yaml:0") ||
              locations.count("policy/networkPolicy envs/prod/kustomization.yaml:1"))
      << sarif.out;
}

void replace(const fs::path& file, const std::string& from, const std::string& to) {
  std::ifstream in(file);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << file << " lacks: " << from;
  text.replace(at, from.size(), to);
  std::ofstream(file, std::ios::trunc) << text;
}

TEST(CliCheck, FixedTreePasses) {
  fs::path dir = fs::temp_directory_path() / ("plumbline-check-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(fs::path(PLUMBLINE_SOURCE_DIR) / "manifests", dir, fs::copy_options::recursive);
  replace(dir / "base/log-shipper/daemonset.yaml", "        hostPath:\n          path: /var/log\n",
          "        emptyDir: {}\n");
  replace(dir / "base/log-shipper/daemonset.yaml",
          "            add:\n            - DAC_READ_SEARCH\n", "");
  replace(dir / "base/checkout/deployment.yaml",
          "        sysctls:\n        - name: net.core.somaxconn\n          value: \"1024\"\n", "");
  replace(dir / "base/ledger/statefulset.yaml", "type: ledger_t", "type: container_t");
  replace(dir / "envs/prod/kustomization.yaml", "- ../../base\n",
          "- ../../base\n- guardrails.yaml\n");
  std::ofstream(dir / "envs/prod/guardrails.yaml") << R"(apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: checkout}
spec:
  minAvailable: 2
  selector: {matchLabels: {app.kubernetes.io/name: checkout}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: ledger}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app.kubernetes.io/name: ledger}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
)";
  CliRun run = plumbline({"check", "--repo", dir.string(), "--path", "envs/prod", "--policy",
                          "policies/samples/prod-governance.yaml", "--environment-label",
                          "plumbline.dev/env-type=prod", "--color", "never"});
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("OK: the desired state of prod meets its policies (9 objects)"),
            std::string::npos)
      << run.out;
  fs::remove_all(dir);
}

std::string sh(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  EXPECT_EQ(::pclose(pipe), 0) << command;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// The policy folder is read at the commit of --ref, like the manifests: a later commit that
// relaxes the policy does not change what an older revision is checked against.
TEST(CliCheck, GitPoliciesAreReadAtTheSameRevision) {
  fs::path dir = fs::temp_directory_path() / ("plumbline-check-git-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(fs::path(PLUMBLINE_SOURCE_DIR) / "manifests", dir / "manifests",
           fs::copy_options::recursive);
  fs::create_directories(dir / "governance");
  auto write_policy = [&](int min) {
    std::ofstream(dir / "governance" / "prod.yaml", std::ios::trunc)
        << "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\n"
           "metadata: {name: git-replicas}\nspec:\n  rules: {replicas: {min: "
        << min << "}}\n";
  };
  std::string git = "git -C '" + dir.string() + "' -c user.name=t -c user.email=t@example ";
  write_policy(4);
  sh(git + "init -q -b main && " + git + "add -A && " + git + "commit -q -m strict");
  std::string strict = sh(git + "rev-parse HEAD");
  write_policy(3);
  sh(git + "commit -q -am relaxed");

  CliRun old =
      plumbline({"check", "--repo", dir.string(), "--ref", strict, "--path", "manifests/envs/prod",
                 "--git-policies", "governance", "--format", "json"});
  ASSERT_EQ(old.status, 1) << old.out << old.err;
  json report = json::parse(old.out);
  EXPECT_EQ(report["source"]["revision"], strict);
  EXPECT_EQ(report["policySource"]["revision"], strict);
  EXPECT_EQ(report["policySource"]["path"], "governance");
  EXPECT_EQ(violation_lines(report),
            (std::set<std::string>{"StatefulSet/ledger replicas spec.replicas @ "
                                   "manifests/envs/prod/kustomization.yaml:13"}))
      << old.out;
  CliRun head = plumbline({"check", "--repo", dir.string(), "--path", "manifests/envs/prod",
                           "--git-policies", "governance", "--color", "never"});
  EXPECT_EQ(head.status, 0) << head.out << head.err;
  EXPECT_NE(head.out.find("policies from Git: governance @ "), std::string::npos) << head.out;
  fs::remove_all(dir);
}

TEST(CliCheck, NeverPassesByAccident) {
  CliRun no_policy = plumbline({"check", "--repo", "manifests", "--path", "envs/prod"});
  EXPECT_EQ(no_policy.status, 2);
  EXPECT_NE(no_policy.err.find("check needs at least one --policy FILE"), std::string::npos)
      << no_policy.err;

  // prod-governance selects prod-typed environments: without the label, nothing applies.
  CliRun untyped = plumbline({"check", "--repo", "manifests", "--path", "envs/prod", "--policy",
                              "policies/samples/prod-governance.yaml"});
  EXPECT_EQ(untyped.status, 2);
  EXPECT_NE(untyped.err.find("no policy applies to environment prod"), std::string::npos)
      << untyped.err;
  CliRun staging = plumbline({"check", "--repo", "manifests", "--path", "envs/staging", "--policy",
                              "policies/samples/prod-governance.yaml", "--environment-label",
                              "plumbline.dev/env-type=staging"});
  EXPECT_EQ(staging.status, 2) << staging.out;

  fs::path dir =
      fs::temp_directory_path() / ("plumbline-check-empty-" + std::to_string(::getpid()));
  fs::create_directories(dir / "env");
  std::ofstream(dir / "env" / "README.md") << "nothing here\n";
  CliRun empty = plumbline({"check", "--repo", dir.string(), "--path", "env", "--policy",
                            "policies/samples/prod-governance.yaml", "--environment-label",
                            "plumbline.dev/env-type=prod"});
  EXPECT_EQ(empty.status, 2);
  EXPECT_NE(empty.err.find("nothing to check: env renders no object"), std::string::npos)
      << empty.err;
  fs::remove_all(dir);

  // A policy with only scope and ignores checks nothing.
  fs::path ignore_only = dir.string() + "-policy.yaml";
  std::ofstream(ignore_only) << "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\n"
                                "metadata: {name: quiet}\nspec:\n  ignore: [{category: env}]\n";
  CliRun no_rules = plumbline(
      {"check", "--repo", "manifests", "--path", "envs/prod", "--policy", ignore_only.string()});
  EXPECT_EQ(no_rules.status, 2) << no_rules.out;
  EXPECT_NE(no_rules.err.find("the policies that apply to environment prod have no rules"),
            std::string::npos)
      << no_rules.err;
  fs::remove(ignore_only);
}

// `compare` selects each environment's policies by its own labels (ENV:KEY=VALUE): the
// prod-typed policy's desired-state rules apply to prod's side only; a label for an
// environment the command does not read is an error, not a silent non-match.
TEST(CliCheck, CompareSelectsPoliciesByEachEnvironmentsLabels) {
  const std::vector<std::string> compare = {
      "compare",   "--repo",       "manifests",
      "--path",    "envs/staging", "--path",
      "envs/prod", "--policy",     "policies/samples/prod-governance.yaml",
      "--format",  "json"};
  CliRun typed =
      plumbline(with(compare, {"--environment-label", "staging:plumbline.dev/env-type=staging",
                               "--environment-label", "prod:plumbline.dev/env-type=prod"}));
  ASSERT_EQ(typed.status, 1) << typed.out << typed.err;
  // The namespace of a violation (a Namespace's own name for the NetworkPolicy rule).
  auto where = [](const json& v) {
    std::string ns = v["object"].value("namespace", "");
    return ns.empty() ? v["object"].value("name", "") : ns;
  };
  json report = json::parse(typed.out);
  std::set<std::string> objects;
  for (const auto& v : report["violations"]) {
    EXPECT_EQ(v["policy"], "prod-governance") << v.dump();
    objects.insert(where(v));
  }
  EXPECT_EQ(objects, (std::set<std::string>{"shop-prod"})) << typed.out;
  EXPECT_FALSE(report.contains("warnings")) << typed.out;
  // Unprefixed: a label of both environments; prod-governance then checks staging too.
  CliRun both = plumbline(with(compare, {"--environment-label", "plumbline.dev/env-type=prod"}));
  ASSERT_EQ(both.status, 1) << both.out << both.err;
  std::set<std::string> both_objects;
  json both_report = json::parse(both.out);
  for (const auto& v : both_report["violations"]) both_objects.insert(where(v));
  EXPECT_EQ(both_objects, (std::set<std::string>{"shop-prod", "shop-staging"})) << both.out;
  // Without labels the policy applies to neither: a warning in the report itself.
  CliRun untyped = plumbline(compare);
  json plain = json::parse(untyped.out);
  EXPECT_EQ(plain["violations"], json::array()) << untyped.out;
  EXPECT_EQ(plain["warnings"],
            json::array({"policy prod-governance: its environmentSelector does not match the "
                         "labels of prod, staging (--environment-label): it was not used"}))
      << untyped.out;
  CliRun typo =
      plumbline(with(compare, {"--environment-label", "prd:plumbline.dev/env-type=prod"}));
  EXPECT_EQ(typo.status, 2);
  EXPECT_NE(typo.err.find("--environment-label prd:… names no environment of this command "
                          "(prod, staging)"),
            std::string::npos)
      << typo.err;
  CliRun malformed = plumbline(with(compare, {"--environment-label", "prod:=x"}));
  EXPECT_EQ(malformed.status, 2);
  EXPECT_NE(malformed.err.find("--environment-label must be KEY=VALUE or ENVIRONMENT:KEY=VALUE"),
            std::string::npos)
      << malformed.err;
}

TEST(CliCheck, HelpTeaches) {
  CliRun run = plumbline({"check", "--help"});
  EXPECT_EQ(run.status, 0);
  EXPECT_NE(run.out.find("Usage:\n  plumbline check --repo REPO --path PATH --policy FILE"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("A check never passes by accident."), std::string::npos);
  CliRun overview = plumbline({"--help"});
  EXPECT_NE(overview.out.find("plumbline check    --repo REPO --path PATH --policy F"),
            std::string::npos)
      << overview.out;
}

}  // namespace
