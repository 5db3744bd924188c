// The helm and command renderers and kustomize's helmCharts with a fake ExternalRenderer: what
// is asked of helm (chart, release, namespace, values in order, flags), how its output is read
// (origins from `# Source:`, values lines), auto detection, and errors (no runner, a failed
// run, a chart kustomize would pull). The real helm: tests/integration/helm_render_test.cc.
#include <gtest/gtest.h>

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

// Records each run and answers with a fixed output (or an error).
class FakeRenderer : public ExternalRenderer {
 public:
  explicit FakeRenderer(std::string output) : output_(std::move(output)) {}
  Result<std::string> run(const FileTree&, const ExternalRun& run) const override {
    runs.push_back(run);
    if (fail) return invalid_input("helm template of " + run.chart_dir + " exited with status 1");
    return output_;
  }
  mutable std::vector<ExternalRun> runs;
  bool fail = false;

 private:
  std::string output_;
};

const char* kChartYaml = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
const char* kValues =
    "replicaCount: 2\n"
    "logLevel: info\n"
    "image:\n"
    "  tag: \"1.4\"\n"
    "resources:\n"
    "  limits:\n"
    "    memory: 256Mi\n";

// What `helm template` prints for the chart (two templates, one List).
const char* kHelmOutput =
    "---\n"
    "# Source: web/templates/service.yaml\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata:\n"
    "  name: web\n"
    "---\n"
    "# Source: web/templates/deployment.yaml\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  replicas: 3\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: app\n"
    "        image: registry.example/web:1.4\n"
    "        env:\n"
    "        - name: LOG_LEVEL\n"
    "          value: \"warn\"\n"
    "        - name: MODE\n"
    "          value: \"2\"\n"
    "        resources:\n"
    "          limits:\n"
    "            memory: 512Mi\n"
    "          requests:\n"
    "            memory: 512Mi\n";

MemoryTree chart_tree() {
  return MemoryTree(std::map<std::string, std::string>{
      {"charts/web/Chart.yaml", kChartYaml},
      {"charts/web/values.yaml", kValues},
      {"charts/web/values-prod.yaml",
       "replicaCount: 3\nlogLevel: warn\n"
       "resources:\n  limits:\n    memory: 512Mi\n"
       "  requests:\n    memory: 512Mi\n"},
      {"charts/web/templates/service.yaml", "kind: Service # a template"},
      {"charts/web/templates/deployment.yaml", "kind: Deployment # a template"}});
}

TEST(RenderHelmTest, AsksHelmForTheChartWithValuesInOrderAndFlags) {
  MemoryTree tree = chart_tree();
  FakeRenderer helm(kHelmOutput);
  RenderOptions options{.mode = RenderMode::kHelm,
                        .helm = {.namespace_name = "shop",
                                 .values_files = {"charts/web/values-prod.yaml"},
                                 .values = json{{"extra", true}}},
                        .external = &helm};
  auto out = render(tree, "charts/web/", options);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(helm.runs.size(), 1u);
  const ExternalRun& run = helm.runs[0];
  EXPECT_EQ(run.kind, ExternalRun::Kind::kHelm);
  EXPECT_EQ(run.chart_dir, "charts/web");
  EXPECT_EQ(run.release_name, "web");  // the folder's name by default
  EXPECT_EQ(run.namespace_name, "shop");
  ASSERT_EQ(run.values.size(), 2u);
  EXPECT_EQ(run.values[0].tree_path, "charts/web/values-prod.yaml");
  EXPECT_EQ(run.values[1].tree_path, "");
  EXPECT_EQ(run.values[1].text, R"({"extra":true})");
  EXPECT_EQ(run.flags, (std::vector<std::string>{"--include-crds", "--no-hooks"}));
  ASSERT_EQ(out->size(), 2u);
}

TEST(RenderHelmTest, ObjectsPointAtTheirTemplateAndValuesLines) {
  MemoryTree tree = chart_tree();
  FakeRenderer helm(kHelmOutput);
  RenderOptions options{.mode = RenderMode::kHelm,
                        .helm = {.values_files = {"charts/web/values-prod.yaml"}},
                        .external = &helm};
  auto out = render(tree, "charts/web", options);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  const Manifest& service = (*out)[0];
  const Manifest& deployment = (*out)[1];
  EXPECT_EQ(service.origin.to_string(), "charts/web/templates/service.yaml");
  EXPECT_EQ(deployment.origin.to_string(), "charts/web/templates/deployment.yaml");
  // replicas 3 and LOG_LEVEL warn come from values-prod.yaml, whose value overrides
  // values.yaml; the memory limit too (same key).
  EXPECT_EQ(deployment.locate("spec.replicas").to_string(), "charts/web/values-prod.yaml:1");
  EXPECT_EQ(deployment.locate("spec.template.spec.containers[name=app].env[name=LOG_LEVEL].value")
                .to_string(),
            "charts/web/values-prod.yaml:2");
  EXPECT_EQ(deployment.locate("spec.template.spec.containers[name=app].resources.limits.memory")
                .to_string(),
            "charts/web/values-prod.yaml:5");
  // Two leaves hold 512Mi under the same key: the one whose path ends the field's decides.
  EXPECT_EQ(deployment.locate("spec.template.spec.containers[name=app].resources.requests.memory")
                .to_string(),
            "charts/web/values-prod.yaml:7");
  // "2" of MODE matches no related key: the template, without a line.
  EXPECT_EQ(
      deployment.locate("spec.template.spec.containers[name=app].env[name=MODE].value").to_string(),
      "charts/web/templates/deployment.yaml");
  EXPECT_EQ(deployment.locate("spec.template.spec.containers[name=app].image").to_string(),
            "charts/web/templates/deployment.yaml");
}

TEST(RenderHelmTest, InlineValuesTakeAValueAwayFromItsFile) {
  MemoryTree tree = chart_tree();
  FakeRenderer helm(kHelmOutput);
  RenderOptions options{.mode = RenderMode::kHelm,
                        .helm = {.values_files = {"charts/web/values-prod.yaml"},
                                 .values = json{{"replicaCount", 3}}},
                        .external = &helm};
  auto out = render(tree, "charts/web", options);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[1].locate("spec.replicas").to_string(), "charts/web/templates/deployment.yaml");
}

TEST(RenderHelmTest, AutoFindsAChartAfterAKustomization) {
  MemoryTree tree = chart_tree();
  FakeRenderer helm(kHelmOutput);
  auto out = render(tree, "charts/web", {.external = &helm});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(helm.runs.size(), 1u);
  tree.add("charts/web/kustomization.yaml", "resources: []\n");
  out = render(tree, "charts/web", {.external = &helm});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(helm.runs.size(), 1u);  // kustomize, not helm
  EXPECT_TRUE(out->empty());
}

TEST(RenderHelmTest, ErrorsNameWhatIsMissingAndKeepNothing) {
  MemoryTree tree = chart_tree();
  auto out = render(tree, "charts/web", {.mode = RenderMode::kHelm});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(),
            "charts/web: rendering the Helm chart needs helm, and this caller runs no programs");

  FakeRenderer helm(kHelmOutput);
  out = render(tree, "charts", {.mode = RenderMode::kHelm, .external = &helm});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(), "charts: no Chart.yaml in 'charts'");

  out = render(
      tree, "charts/web",
      {.mode = RenderMode::kHelm, .helm = {.values_files = {"nope.yaml"}}, .external = &helm});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(), "nope.yaml: no values file 'nope.yaml' in the repository");

  helm.fail = true;
  out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &helm});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(), "helm template of charts/web exited with status 1");
}

TEST(RenderHelmTest, OutputGoesThroughThePlainLoaderChecks) {
  MemoryTree tree = chart_tree();
  FakeRenderer helm(
      "---\n# Source: web/templates/x.yaml\napiVersion: v1\nkind: ConfigMap\n"
      "metadata: {}\n");
  auto out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &helm});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().to_string().find("helm template of charts/web:3"), std::string::npos)
      << out.error().to_string();
  FakeRenderer twice(std::string(kHelmOutput) +
                     "---\napiVersion: v1\nkind: Service\n"
                     "metadata:\n  name: web\n");
  out = render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &twice});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().to_string().find("duplicate object Service web"), std::string::npos)
      << out.error().to_string();
}

TEST(RenderCommandTest, RunsTheCommandInItsFolderAndReadsAStream) {
  MemoryTree tree(std::map<std::string, std::string>{{"envs/j/main.jsonnet", "{}"}});
  FakeRenderer command(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
      "  metadata:\n    name: b\n");
  RenderOptions options{.mode = RenderMode::kCommand,
                        .command = {"jsonnet", "-y", "main.jsonnet"},
                        .external = &command};
  auto out = render(tree, "envs/j", options);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(command.runs.size(), 1u);
  EXPECT_EQ(command.runs[0].kind, ExternalRun::Kind::kCommand);
  EXPECT_EQ(command.runs[0].argv, (std::vector<std::string>{"jsonnet", "-y", "main.jsonnet"}));
  EXPECT_EQ(command.runs[0].dir, "envs/j");
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].origin.to_string(), "envs/j");

  auto none = render(tree, "envs/j", {.mode = RenderMode::kCommand, .external = &command});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().to_string(), "render type command needs a command to run");
}

MemoryTree helm_charts_tree(const std::string& kustomization) {
  MemoryTree tree = chart_tree();
  tree.add("envs/prod/kustomization.yaml", kustomization);
  tree.add("envs/prod/values-prod.yaml", "logLevel: warn\n");
  return tree;
}

TEST(KustomizeHelmChartsTest, InflatesAChartOfTheRepositoryLikeKustomize) {
  MemoryTree tree = helm_charts_tree(
      "namespace: shop\n"
      "helmGlobals:\n  chartHome: ../../charts\n"
      "helmCharts:\n"
      "- name: web\n  releaseName: web\n  namespace: shop\n  includeCRDs: true\n"
      "  skipTests: true\n  kubeVersion: \"1.31\"\n"
      "  valuesInline:\n    replicaCount: 3\n    image: {pullPolicy: Always}\n"
      "  additionalValuesFiles: [values-prod.yaml]\n");
  FakeRenderer helm(kHelmOutput);
  auto out = render(tree, "envs/prod", {.external = &helm});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(helm.runs.size(), 1u);
  const ExternalRun& run = helm.runs[0];
  EXPECT_EQ(run.chart_dir, "charts/web");
  EXPECT_EQ(run.release_name, "web");
  EXPECT_EQ(run.namespace_name, "shop");
  // One merged values file (inline over the chart's values.yaml), then the additional ones.
  ASSERT_EQ(run.values.size(), 2u);
  EXPECT_EQ(json::parse(run.values[0].text), json::parse(R"({"replicaCount": 3, "logLevel": "info",
                            "image": {"tag": "1.4", "pullPolicy": "Always"},
                            "resources": {"limits": {"memory": "256Mi"}}})"));
  EXPECT_EQ(run.values[1].tree_path, "envs/prod/values-prod.yaml");
  EXPECT_EQ(run.flags,
            (std::vector<std::string>{"--kube-version", "1.31", "--include-crds", "--skip-tests"}));
  // The objects went through the kustomization's transformers.
  ASSERT_EQ(out->size(), 2u);
  for (const Manifest& m : *out) EXPECT_EQ(m.object["metadata"]["namespace"], "shop");
  EXPECT_EQ((*out)[1].origin.to_string(), "charts/web/templates/deployment.yaml");
}

TEST(KustomizeHelmChartsTest, RefusesWhatItCannotRenderTheSameWay) {
  struct Case {
    std::string kustomization, error;
  };
  const std::vector<Case> cases = {
      {"helmCharts:\n- name: redis\n  repo: https://charts.example/\n  version: 1.2.3\n"
       "  releaseName: r\n",
       "envs/prod/kustomization.yaml: helmCharts[0]: chart 'redis' is not in the repository at "
       "'envs/prod/charts/redis-1.2.3/redis'; plumbline does not pull charts from "
       "'https://charts.example/' (commit the chart there, e.g. with helm pull --untar)"},
      {"helmCharts:\n- name: web\n  releaseName: w\n",
       "envs/prod/kustomization.yaml: helmCharts[0]: no chart found at 'envs/prod/charts/web' and "
       "no repo to pull it from"},
      {"helmGlobals: {chartHome: ../../charts}\nhelmCharts:\n- name: web\n",
       "envs/prod/kustomization.yaml: helmCharts[0].releaseName: required (without it kustomize "
       "has helm make up a random release name, so no two renders would agree)"},
      {"helmGlobals: {chartHome: ../../charts}\nhelmCharts:\n- name: web\n  releaseName: w\n"
       "  valuesFile: https://example.com/v.yaml\n",
       "envs/prod/kustomization.yaml: helmCharts[0].valuesFile: remote file "
       "'https://example.com/v.yaml' is not supported"},
      {"helmGlobals: {chartHome: ../../../x}\nhelmCharts:\n- name: web\n  releaseName: w\n",
       "envs/prod/kustomization.yaml: helmCharts[0]: chart 'web' leaves the repository root"},
      {"helmCharts:\n- name: web\n  releaseName: w\n  debug: true\n",
       "envs/prod/kustomization.yaml: helmCharts[0]: unknown field 'debug'"},
  };
  for (const Case& c : cases) {
    MemoryTree tree = helm_charts_tree(c.kustomization);
    FakeRenderer helm(kHelmOutput);
    auto out = render(tree, "envs/prod", {.external = &helm});
    ASSERT_FALSE(out.ok()) << c.kustomization;
    EXPECT_EQ(out.error().to_string(), c.error);
    EXPECT_TRUE(helm.runs.empty());
  }
}

TEST(KustomizeHelmChartsTest, AFailedRunFailsTheWholeRender) {
  MemoryTree tree = helm_charts_tree(
      "resources: []\nhelmGlobals: {chartHome: ../../charts}\n"
      "helmCharts:\n- name: web\n  releaseName: web\n");
  FakeRenderer helm(kHelmOutput);
  helm.fail = true;
  auto out = render(tree, "envs/prod", {.external = &helm});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(),
            "envs/prod/kustomization.yaml: helmCharts[0]: helm template of charts/web exited "
            "with status 1");
}

}  // namespace
}  // namespace plumbline
