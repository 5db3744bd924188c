// Charts rendered by the real helm (tests/kube-testenv/build helm) through the plumbline
// binary: `--render helm` gives exactly helm template's objects; the same chart through a
// kustomize helmCharts field gives the same objects, and the same as `kubectl kustomize
// --enable-helm` with that helm; the demo's chart (manifests/charts/payments) diffed against
// its live snapshot finds the planted drift and nothing else, pointing at the values line;
// fake helms that hang, flood or fail end the run with an error naming helm and no report.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "integration/kube_testenv.h"
#include "plumbline/core/yaml.h"
#include "temp_dir.h"

namespace {

using plumbline::json;
using plumbline::testing::KubeTestEnv;
using plumbline::testing::TempDir;
namespace fs = std::filesystem;

const std::string kSource = KubeTestEnv::SourceDir();
const std::string kChart = kSource + "/manifests/charts/payments";

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string Built(const std::string& tool) {
  auto built = KubeTestEnv::Run({kSource + "/tests/kube-testenv/build", tool}, "", {}, 900);
  std::string out = built.exit_code == 0 ? built.out : "";
  out.erase(std::remove(out.begin(), out.end(), '\n'), out.end());
  return out;
}

const std::string& Helm() {
  static const std::string path = Built("helm");
  return path;
}

KubeTestEnv::Result Plumbline(std::vector<std::string> args, int timeout_s = 120) {
  args.insert(args.begin(), PLUMBLINE_BINARY);
  return KubeTestEnv::Run(args, "", {}, timeout_s);
}

// The objects of a YAML stream, sorted (helm and kustomize order them differently).
std::vector<json> Objects(const std::string& text) {
  auto docs = plumbline::parse_yaml_documents(text, "output");
  std::vector<json> out;
  if (!docs.ok()) return out;
  for (auto& d : *docs) {
    if (!d.value.is_null()) out.push_back(std::move(d.value));
  }
  std::sort(out.begin(), out.end(),
            [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return out;
}

// A repository folder (not Git) with the demo chart inside a kustomization that inflates it,
// as kustomize wants it (charts below the kustomization: its load restrictions).
void WriteHelmChartsRepo(const TempDir& dir) {
  fs::create_directories(dir.path() / "app/charts");
  fs::copy(kChart, dir.path() / "app/charts/payments", fs::copy_options::recursive);
  dir.write("app/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\n"
            "kind: Kustomization\n"
            "helmCharts:\n"
            "- name: payments\n"
            "  releaseName: payments\n"
            "  namespace: shop-prod\n"
            "  includeCRDs: true\n"
            "  skipHooks: true\n"
            "  additionalValuesFiles:\n"
            "  - charts/payments/values-prod.yaml\n");
}

std::vector<std::string> HelmFlags() {
  return {"--helm",         Helm(),     "--helm-values",    "app/charts/payments/values-prod.yaml",
          "--helm-release", "payments", "--helm-namespace", "shop-prod"};
}

TEST(HelmRender, RenderHelmGivesExactlyHelmTemplatesObjects) {
  ASSERT_FALSE(Helm().empty()) << "tests/kube-testenv/build helm failed";
  TempDir dir;
  WriteHelmChartsRepo(dir);
  std::vector<std::string> args = {
      "render", "--repo", dir.path().string(), "--path", "app/charts/payments", "--render",
      "helm",   "--quiet"};
  for (const auto& f : HelmFlags()) args.push_back(f);
  auto start = std::chrono::steady_clock::now();
  auto ours = Plumbline(args);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(ours.exit_code, 0) << Describe(ours);
  std::printf("[ figure ] plumbline render --render helm of the demo chart: %.2f s\n", seconds);
  auto helm =
      KubeTestEnv::Run({Helm(), "template", "payments", kChart, "--namespace", "shop-prod",
                        "--include-crds", "--no-hooks", "-f", kChart + "/values-prod.yaml"});
  ASSERT_EQ(helm.exit_code, 0) << Describe(helm);
  std::vector<json> want = Objects(helm.out);
  ASSERT_EQ(want.size(), 2u) << helm.out;
  EXPECT_EQ(Objects(ours.out), want) << ours.out;

  // auto recognizes the chart by its Chart.yaml.
  args[6] = "auto";
  auto detected = Plumbline(args);
  ASSERT_EQ(detected.exit_code, 0) << Describe(detected);
  EXPECT_EQ(Objects(detected.out), want);
}

TEST(HelmRender, KustomizeHelmChartsGivesTheSameObjectsAsRenderHelmAndKubectl) {
  ASSERT_FALSE(Helm().empty()) << "tests/kube-testenv/build helm failed";
  TempDir dir;
  WriteHelmChartsRepo(dir);
  std::vector<std::string> helm_args = {
      "render", "--repo", dir.path().string(), "--path", "app/charts/payments", "--render",
      "helm",   "--quiet"};
  for (const auto& f : HelmFlags()) helm_args.push_back(f);
  auto direct = Plumbline(helm_args);
  ASSERT_EQ(direct.exit_code, 0) << Describe(direct);
  auto kustomized = Plumbline(
      {"render", "--repo", dir.path().string(), "--path", "app", "--helm", Helm(), "--quiet"});
  ASSERT_EQ(kustomized.exit_code, 0) << Describe(kustomized);
  std::vector<json> ours = Objects(kustomized.out);
  ASSERT_EQ(ours.size(), 2u);
  EXPECT_EQ(ours, Objects(direct.out));

  // The real kustomize (kubectl's) with the same helm.
  std::string kubectl = Built("kubectl");
  ASSERT_FALSE(kubectl.empty()) << "tests/kube-testenv/build kubectl failed";
  auto real = KubeTestEnv::Run({kubectl, "kustomize", "--enable-helm", "--helm-command", Helm(),
                                (dir.path() / "app").string()});
  ASSERT_EQ(real.exit_code, 0) << Describe(real);
  EXPECT_EQ(ours, Objects(real.out)) << real.out;
}

TEST(HelmRender, DemoChartFindsThePlantedDriftAndNothingElse) {
  ASSERT_FALSE(Helm().empty()) << "tests/kube-testenv/build helm failed";
  auto r = Plumbline({"diff",
                      "--repo",
                      kSource,
                      "--path",
                      "manifests/charts/payments",
                      "--render",
                      "helm",
                      "--helm",
                      Helm(),
                      "--helm-values",
                      "manifests/charts/payments/values-prod.yaml",
                      "--helm-namespace",
                      "shop-prod",
                      "--live",
                      kSource + "/manifests/live/payments.yaml",
                      "--live-kinds",
                      "Deployment",
                      "--format",
                      "json",
                      "--quiet"});
  ASSERT_EQ(r.exit_code, 1) << Describe(r);
  json report = json::parse(r.out);
  ASSERT_EQ(report["summary"]["drifts"], 1) << report.dump(2);
  const json& drift = report["drifts"][0];
  EXPECT_EQ(drift["object"]["name"], "payments") << drift.dump(2);
  EXPECT_EQ(drift["path"], "spec.template.spec.containers[name=app].env[name=LOG_LEVEL].value");
  EXPECT_EQ(drift["desired"], "warn");
  EXPECT_EQ(drift["live"], "debug");
  EXPECT_EQ(drift["source"]["file"], "manifests/charts/payments/values-prod.yaml");
  EXPECT_EQ(drift["source"]["line"], 3);
}

// A fake helm (a shell script given with --helm) and what the CLI makes of it.
KubeTestEnv::Result WithFakeHelm(const TempDir& dir, const std::string& body,
                                 std::vector<std::string> extra = {}) {
  dir.write("fake-helm", "#!/bin/sh\n" + body);
  fs::permissions(dir.path() / "fake-helm", fs::perms::owner_all);
  std::vector<std::string> args = {"diff",
                                   "--repo",
                                   kSource,
                                   "--path",
                                   "manifests/charts/payments",
                                   "--render",
                                   "helm",
                                   "--helm",
                                   (dir.path() / "fake-helm").string(),
                                   "--live",
                                   kSource + "/manifests/live/payments.yaml",
                                   "--live-kinds",
                                   "Deployment",
                                   "--format",
                                   "json",
                                   "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Plumbline(args);
}

TEST(HelmRender, HangingFloodingAndFailingHelmsEndTheRunWithNoReport) {
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  auto hang = WithFakeHelm(dir, "printf 'apiVersion: apps/v1\\nkind: Deployment\\n'\nsleep 60\n",
                           {"--render-timeout", "2s"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(hang.exit_code, 2) << Describe(hang);
  EXPECT_EQ(hang.out, "");
  EXPECT_NE(hang.err.find("helm template of manifests/charts/payments did not finish within 2 s"),
            std::string::npos)
      << hang.err;

  auto flood = WithFakeHelm(dir, "yes 'apiVersion: v1'\n");
  EXPECT_EQ(flood.exit_code, 2) << Describe(flood);
  EXPECT_EQ(flood.out, "");
  EXPECT_NE(flood.err.find("helm template of manifests/charts/payments wrote more than 67108864 "
                           "bytes to stdout"),
            std::string::npos)
      << flood.err;

  auto fail = WithFakeHelm(
      dir, "cat " + kSource +
               "/manifests/live/payments.yaml\n"
               "echo 'Error: template: payments/templates/deployment.yaml:9: boom' >&2\n"
               "exit 1\n");
  EXPECT_EQ(fail.exit_code, 2) << Describe(fail);
  EXPECT_EQ(fail.out, "");
  EXPECT_NE(fail.err.find("helm template of manifests/charts/payments exited with status 1; its "
                          "stderr ended with: Error: template: "
                          "payments/templates/deployment.yaml:9: boom"),
            std::string::npos)
      << fail.err;
}

}  // namespace
