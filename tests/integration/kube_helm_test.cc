// helm/plumbline: the real helm (built from its Go module, tests/kube-testenv/build helm)
// lints the chart strictly and renders it with several value sets; the schema refuses bad
// values; the default rendering has the objects and exactly the RBAC of deploy/; every
// rendering is accepted by a real kube-apiserver (server-side dry run); and the enforce
// values really narrow what the controller's ServiceAccount may patch.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "integration/kube_testenv.h"
#include "plumbline/core/yaml.h"

namespace {

using plumbline::json;
using plumbline::testing::KubeTestEnv;
namespace fs = std::filesystem;

const std::string kSource = KubeTestEnv::SourceDir();
const std::string kChart = kSource + "/helm/plumbline";
const std::string kValues = kSource + "/tests/fixtures/helm";
const std::vector<std::string> kValueSets = {"", "enforce-off.yaml", "enforce-namespaces.yaml",
                                             "everything.yaml"};

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// The helm binary (built once and cached; a cold build takes ~4 min).
const std::string& Helm() {
  static const std::string path = [] {
    auto built = KubeTestEnv::Run({kSource + "/tests/kube-testenv/build", "helm"}, "", {}, 900);
    std::string out = built.exit_code == 0 ? built.out : "";
    out.erase(std::remove(out.begin(), out.end(), '\n'), out.end());
    return out;
  }();
  return path;
}

KubeTestEnv::Result RunHelm(std::vector<std::string> args) {
  args.insert(args.begin(), Helm());
  return KubeTestEnv::Run(args, "", {}, 120);
}

// `helm template plumbline` in plumbline-system with the value file (none: defaults).
KubeTestEnv::Result Template(const std::string& values, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"template", "plumbline", kChart, "-n", "plumbline-system"};
  if (!values.empty()) args.insert(args.end(), {"-f", kValues + "/" + values});
  args.insert(args.end(), extra.begin(), extra.end());
  return RunHelm(args);
}

std::vector<json> Documents(const std::string& yaml) {
  auto docs = plumbline::parse_yaml_documents(yaml, "rendered");
  EXPECT_TRUE(docs.ok()) << (docs.ok() ? "" : docs.error().message());
  std::vector<json> out;
  if (!docs.ok()) return out;
  for (const auto& d : docs.value())
    if (d.value.is_object()) out.push_back(d.value);
  return out;
}

std::string Key(const json& o) {
  return o.value("kind", "") + " " + o["metadata"].value("namespace", "") + "/" +
         o["metadata"].value("name", "");
}

// What each Role/ClusterRole grants, as (apiGroup, resource, verb) triples, and what each
// binding binds, by object.
using Grants = std::map<std::string, std::set<std::tuple<std::string, std::string, std::string>>>;
Grants RbacOf(const std::vector<json>& docs) {
  Grants grants;
  for (const json& o : docs) {
    const std::string kind = o.value("kind", "");
    if (kind == "Role" || kind == "ClusterRole") {
      auto& set = grants[Key(o)];
      for (const json& rule : o.value("rules", json::array()))
        for (const json& group : rule["apiGroups"])
          for (const json& resource : rule["resources"])
            for (const json& verb : rule["verbs"]) set.emplace(group, resource, verb);
    } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
      auto& set = grants[Key(o)];
      set.emplace("roleRef", o["roleRef"].value("kind", ""), o["roleRef"].value("name", ""));
      for (const json& s : o["subjects"])
        set.emplace(s.value("kind", ""), s.value("namespace", ""), s.value("name", ""));
    }
  }
  return grants;
}

std::string Dump(const Grants& grants) {
  std::ostringstream out;
  for (const auto& [object, set] : grants) {
    out << object << ":\n";
    for (const auto& [a, b, c] : set) out << "  " << a << " " << b << " " << c << "\n";
  }
  return out.str();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// deploy/ as kustomize renders it (kubectl's built-in kustomize; no server needed).
std::vector<json> DeployObjects() {
  auto r = KubeTestEnv::Run({"kubectl", "kustomize", kSource + "/deploy"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  return Documents(r.out);
}

TEST(HelmChartTest, LintsStrictlyWithEveryValueSet) {
  ASSERT_FALSE(Helm().empty()) << "tests/kube-testenv/build helm failed";
  for (const std::string& values : kValueSets) {
    std::vector<std::string> args = {"lint", "--strict", kChart, "-n", "plumbline-system"};
    if (!values.empty()) args.insert(args.end(), {"-f", kValues + "/" + values});
    auto lint = RunHelm(args);
    EXPECT_EQ(lint.exit_code, 0) << values << "\n" << Describe(lint);
    EXPECT_NE(lint.out.find("0 chart(s) failed"), std::string::npos) << lint.out;
    EXPECT_EQ(lint.out.find("[WARNING]"), std::string::npos) << lint.out;
    EXPECT_EQ(lint.out.find("[ERROR]"), std::string::npos) << lint.out;
  }
}

TEST(HelmChartTest, SchemaRefusesBadValues) {
  ASSERT_FALSE(Helm().empty());
  const std::vector<std::vector<std::string>> bad = {
      {"--set", "replicaCount=two"},
      {"--set", "enforce.allowd=false"},                    // a typo
      {"--set", "gitCredentials[0].name=git-credentials"},  // no credential
      {"--set", "logLevel=verbose"},
      {"--set", "extraArgs[0]=controller"},  // not a flag
      {"--set", "image.digest=latest"},
      // A Git Secret for no Environment in particular (plumbline.dev/allowed-environments).
      {"--set", "gitCredentials[0].name=git-credentials", "--set", "gitCredentials[0].token=t"},
      {"--set", "enforce.defaultServiceAccount=Not_A_Name"},
  };
  for (const auto& set : bad) {
    auto r = Template("", set);
    EXPECT_NE(r.exit_code, 0) << set[1] << "\n" << Describe(r);
    EXPECT_NE(r.err.find("values don't meet the specifications of the schema"), std::string::npos)
        << set[1] << "\n"
        << r.err;
  }
}

TEST(HelmChartTest, DefaultsRenderTheObjectsAndRbacOfDeploy) {
  ASSERT_FALSE(Helm().empty());
  auto rendered = Template("");
  ASSERT_EQ(rendered.exit_code, 0) << Describe(rendered);
  std::vector<json> chart = Documents(rendered.out);
  std::vector<json> deploy = DeployObjects();
  ASSERT_FALSE(deploy.empty());

  // The same objects (the namespace is helm's: `helm install -n … --create-namespace`).
  std::set<std::string> chart_keys, deploy_keys;
  for (const json& o : chart) chart_keys.insert(Key(o));
  for (const json& o : deploy)
    if (o.value("kind", "") != "Namespace") deploy_keys.insert(Key(o));
  EXPECT_EQ(chart_keys, deploy_keys);

  Grants chart_rbac = RbacOf(chart), deploy_rbac = RbacOf(deploy);
  EXPECT_EQ(chart_rbac.size(), 5u) << Dump(chart_rbac);
  EXPECT_EQ(chart_rbac, deploy_rbac) << "chart:\n"
                                     << Dump(chart_rbac) << "deploy/:\n"
                                     << Dump(deploy_rbac);

  // The pod runs the same way: security contexts, volumes, probes, resources, replicas.
  auto deployment = [](const std::vector<json>& docs) {
    for (const json& o : docs)
      if (o.value("kind", "") == "Deployment") return o;
    return json();
  };
  json a = deployment(chart), b = deployment(deploy);
  ASSERT_TRUE(a.is_object() && b.is_object());
  EXPECT_EQ(a["spec"]["replicas"], b["spec"]["replicas"]);
  const json& pa = a["spec"]["template"]["spec"];
  const json& pb = b["spec"]["template"]["spec"];
  EXPECT_EQ(pa["securityContext"], pb["securityContext"]);
  EXPECT_EQ(pa["volumes"], pb["volumes"]);
  EXPECT_EQ(pa["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
              ["podAffinityTerm"]["topologyKey"],
            pb["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
              ["podAffinityTerm"]["topologyKey"]);
  for (const char* field :
       {"securityContext", "resources", "readinessProbe", "livenessProbe", "volumeMounts", "ports"})
    EXPECT_EQ(pa["containers"][0][field], pb["containers"][0][field]) << field;
  json args_a = pa["containers"][0]["args"], args_b = pb["containers"][0]["args"];
  for (const json& arg : args_b)  // the chart adds --log-level
    EXPECT_NE(std::find(args_a.begin(), args_a.end(), arg), args_a.end()) << arg;
  EXPECT_EQ(pa["containers"][0]["image"], "plumbline:0.1.0");
}

TEST(HelmChartTest, ChartCrdsArePoliciesCrds) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(kSource + "/policies/crds")) {
    const std::string name = entry.path().filename().string();
    names.insert(name);
    EXPECT_EQ(ReadFile(entry.path()), ReadFile(kChart + "/crds/" + name))
        << name << " differs: cp policies/crds/*.yaml helm/plumbline/crds/";
  }
  for (const auto& entry : fs::directory_iterator(kChart + "/crds"))
    EXPECT_TRUE(names.count(entry.path().filename().string()))
        << entry.path() << " is not in policies/crds";
}

TEST(HelmChartTest, EnforceValuesNarrowWhatTheControllerMayPatch) {
  ASSERT_FALSE(Helm().empty());
  // Whatever the values, the controller patches no workload itself: enforce mode writes as a
  // ServiceAccount (impersonation) it may impersonate only in its own namespace.
  for (const std::string& values : kValueSets) {
    auto rendered = Template(values);
    ASSERT_EQ(rendered.exit_code, 0) << Describe(rendered);
    for (const auto& [object, set] : RbacOf(Documents(rendered.out))) {
      for (const auto& [group, resource, verb] : set) {
        if (group == "apps" || group == "batch") {
          EXPECT_NE(verb, "patch") << values << ": " << object << " " << resource;
        }
        if (verb == "impersonate") {
          EXPECT_EQ(object, "Role plumbline-system/plumbline-controller") << values;
          EXPECT_EQ(resource, "serviceaccounts") << values;
        }
      }
    }
  }
  auto off = Template("enforce-off.yaml");
  ASSERT_EQ(off.exit_code, 0) << Describe(off);
  auto some = Template("enforce-namespaces.yaml");
  ASSERT_EQ(some.exit_code, 0) << Describe(some);

  // The controller is told the same bounds, so drift elsewhere is reported, not a 403.
  auto args_of = [](const std::string& rendered) {
    for (const json& o : Documents(rendered)) {
      if (o.value("kind", "") == "Deployment") {
        return o["spec"]["template"]["spec"]["containers"][0]["args"];
      }
    }
    return json();
  };
  json off_args = args_of(off.out), some_args = args_of(some.out);
  EXPECT_NE(std::find(off_args.begin(), off_args.end(), "--no-enforce"), off_args.end())
      << off_args.dump();
  EXPECT_NE(
      std::find(some_args.begin(), some_args.end(), "--enforce-namespaces=shop-prod,shop-dev"),
      some_args.end())
      << some_args.dump();
  EXPECT_NE(std::find(some_args.begin(), some_args.end(), "--default-service-account=shop-writer"),
            some_args.end())
      << some_args.dump();
}

// Every rendering applies to a real apiserver (server-side dry run: admission, schemas,
// CRDs); the enforce ones, applied for real, give the ServiceAccount just those permissions.
TEST(HelmChartTest, RenderingsApplyToTheApiserver) {
  ASSERT_FALSE(Helm().empty());
  std::string error;
  auto env = KubeTestEnv::Start({}, &error);
  ASSERT_NE(env, nullptr) << error;
  for (const char* ns : {"plumbline-system", "shop-prod", "shop-dev", "shop-staging"}) {
    auto r = env->Kubectl({"create", "namespace", ns});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  auto crds = env->Kubectl({"apply", "--server-side", "-f", kChart + "/crds", "-f",
                            kValues + "/servicemonitor-crd.yaml"});
  ASSERT_EQ(crds.exit_code, 0) << Describe(crds);
  // kubectl wait fails at once ("accessor error") on a CRD whose status has no conditions yet.
  KubeTestEnv::Result established;
  for (int attempt = 0; attempt < 10; ++attempt) {
    established =
        env->Kubectl({"wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"});
    if (established.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(established.exit_code, 0) << Describe(established);

  for (const std::string& values : kValueSets) {
    auto rendered = Template(values);
    ASSERT_EQ(rendered.exit_code, 0) << values << "\n" << Describe(rendered);
    auto dry = env->Kubectl({"apply", "--dry-run=server", "-f", "-"}, rendered.out);
    EXPECT_EQ(dry.exit_code, 0) << (values.empty() ? "defaults" : values) << "\n" << Describe(dry);
  }

  // For real: the controller lists workloads everywhere and patches none; it impersonates
  // ServiceAccounts of its own namespace only; a namespace viewer reads plumbline's objects
  // there, and reportReaders reads one DriftReport of the controller's namespace.
  auto everything = Template("everything.yaml");
  ASSERT_EQ(everything.exit_code, 0) << Describe(everything);
  auto applied = env->Kubectl({"apply", "-f", "-"}, everything.out);
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  // kube-controller-manager (not in the test environment) fills view/edit/admin from the
  // ClusterRoles their aggregationRule selects; done here the same way, by label.
  for (const char* role : {"view", "edit", "admin"}) {
    auto got = env->Kubectl({"get", "clusterrole", role, "-o", "json"});
    ASSERT_EQ(got.exit_code, 0) << Describe(got);
    json aggregated = json::array();
    const json clusterrole = json::parse(got.out);  // kept: the loops below read into it
    for (const json& selector : clusterrole["aggregationRule"]["clusterRoleSelectors"]) {
      std::string labels;
      for (const auto& [key, value] : selector["matchLabels"].items()) {
        labels += (labels.empty() ? "" : ",") + key + "=" + value.get<std::string>();
      }
      auto selected = env->Kubectl({"get", "clusterroles", "-l", labels, "-o", "json"});
      ASSERT_EQ(selected.exit_code, 0) << Describe(selected);
      const json roles = json::parse(selected.out);
      for (const json& r : roles["items"]) {
        for (const json& rule : r.value("rules", json::array())) aggregated.push_back(rule);
      }
    }
    auto patched = env->Kubectl({"patch", "clusterrole", role, "--type=merge",
                                 "-p=" + json({{"rules", aggregated}}).dump()});
    ASSERT_EQ(patched.exit_code, 0) << Describe(patched);
  }
  auto viewer = env->Kubectl({"create", "rolebinding", "shop-viewer", "-n", "shop-prod",
                              "--clusterrole=view", "--user=shop-viewer"});
  ASSERT_EQ(viewer.exit_code, 0) << Describe(viewer);
  auto can_as = [&](const std::string& as, const std::vector<std::string>& what,
                    const std::string& ns) {
    std::vector<std::string> argv = {"auth", "can-i"};
    argv.insert(argv.end(), what.begin(), what.end());
    argv.insert(argv.end(), {"-n", ns, "--as=" + as});
    auto r = env->Kubectl(argv);
    return r.out.rfind("yes", 0) == 0;
  };
  const std::string sa = "system:serviceaccount:plumbline-system:plumbline-controller";
  auto can = [&](const std::string& verb, const std::string& what, const std::string& ns) {
    return can_as(sa, {verb, what}, ns);
  };
  for (const char* ns : {"shop-prod", "kube-system", "plumbline-system"}) {
    EXPECT_FALSE(can("patch", "deployments.apps", ns)) << ns;
    EXPECT_FALSE(can("patch", "cronjobs.batch", ns)) << ns;
    EXPECT_TRUE(can("list", "deployments.apps", ns)) << ns;
  }
  EXPECT_TRUE(can("impersonate", "serviceaccounts", "plumbline-system"));
  EXPECT_FALSE(can("impersonate", "serviceaccounts", "kube-system"));
  EXPECT_FALSE(can("impersonate", "serviceaccounts", "shop-prod"));
  EXPECT_TRUE(can("get", "secrets", "plumbline-system"));
  EXPECT_FALSE(can("get", "secrets", "shop-prod"));
  // App teams: `view` in shop-prod reads DriftReports there (aggregated), not elsewhere.
  EXPECT_TRUE(can_as("shop-viewer", {"list", "driftreports.plumbline.dev"}, "shop-prod"));
  EXPECT_TRUE(can_as("shop-viewer", {"get", "driftreports.plumbline.dev"}, "shop-prod"));
  EXPECT_FALSE(can_as("shop-viewer", {"patch", "driftreports.plumbline.dev"}, "shop-prod"));
  EXPECT_FALSE(can_as("shop-viewer", {"list", "driftreports.plumbline.dev"}, "shop-dev"));
  // reportReaders: the shop team reads the prod report, no other.
  EXPECT_TRUE(
      can_as("alice", {"get", "driftreport/prod", "--as-group=shop-team"}, "plumbline-system"));
  EXPECT_FALSE(
      can_as("alice", {"get", "driftreport/staging", "--as-group=shop-team"}, "plumbline-system"));
  EXPECT_FALSE(
      can_as("alice", {"list", "driftreports", "--as-group=shop-team"}, "plumbline-system"));
}

}  // namespace
