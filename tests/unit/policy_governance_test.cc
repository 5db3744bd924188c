// The rules of environment types: Pod Security Standards, replicas, PodDisruptionBudgets,
// default-deny NetworkPolicies, hostNetwork, seccomp — exact paths and messages, and their
// parsing. (Agreement with the apiserver's own Pod Security admission is checked by
// tests/integration/kube_pod_security_test.cc.)
#include <gtest/gtest.h>

#include "plumbline/core/file_tree.h"
#include "plumbline/core/label_selector.h"
#include "plumbline/core/yaml.h"
#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

using Lines = std::vector<std::string>;

json parse(const std::string& text) {
  auto parsed = parse_yaml(text, "test.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? *parsed : json();
}

json deployment(const std::string& pod_yaml, const std::string& extra_spec = "") {
  return parse(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n"
      "spec:\n" +
      extra_spec + "  template:\n    metadata: {labels: {app: api}}\n    spec:\n" + pod_yaml);
}

Policy policy_of(const std::string& rules_yaml) {
  auto parsed = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: gov}\n"
      "spec:\n  rules:\n" +
          rules_yaml,
      "gov.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? parsed->front() : Policy{};
}

Lines check(const json& object, const Policy& policy) {
  Lines out;
  for (const auto& v : check_rules(object, policy, StateSide::kDesired)) {
    out.push_back(v.rule + " " + v.path + ": " + v.message);
  }
  return out;
}

constexpr const char* kRestrictedPod =
    "      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n"
    "      containers:\n      - name: app\n        image: x\n"
    "        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";

TEST(PolicyGovernance, RestrictedPodPassesBothLevels) {
  EXPECT_EQ(check(deployment(kRestrictedPod), policy_of("    podSecurity: {level: restricted}\n")),
            Lines{});
  EXPECT_EQ(check(deployment(kRestrictedPod), policy_of("    podSecurity: {level: baseline}\n")),
            Lines{});
}

TEST(PolicyGovernance, BaselineNamesEveryField) {
  json pod = deployment(
      "      hostNetwork: true\n      hostPID: true\n"
      "      securityContext:\n        sysctls: [{name: kernel.msgmax, value: '1'}]\n"
      "        seLinuxOptions: {type: spc_t}\n"
      "      containers:\n      - name: app\n        image: x\n"
      "        ports: [{containerPort: 80, hostPort: 8080}]\n"
      "        securityContext:\n          privileged: true\n"
      "          capabilities: {add: [NET_ADMIN, CHOWN]}\n"
      "          procMount: Unmasked\n          seccompProfile: {type: Unconfined}\n"
      "          appArmorProfile: {type: Unconfined}\n"
      "      volumes: [{name: logs, hostPath: {path: /var/log}}]\n");
  const std::string c = "spec.template.spec.containers[name=app]";
  const std::string s = " [Pod Security Standard baseline]";
  EXPECT_EQ(
      check(pod, policy_of("    podSecurity: {level: baseline}\n")),
      (Lines{
          "podSecurity spec.template.spec.hostNetwork: hostNetwork: true shares a namespace of "
          "the node (baseline)" +
              s,
          "podSecurity spec.template.spec.hostPID: hostPID: true shares a namespace of the node "
          "(baseline)" +
              s,
          "podSecurity " + c +
              ".securityContext.privileged: container 'app' is privileged "
              "(baseline)" +
              s,
          "podSecurity " + c +
              ".securityContext.capabilities.add[NET_ADMIN]: container 'app' "
              "adds capability NET_ADMIN (baseline allows only the defaults)" +
              s,
          "podSecurity " + c +
              ".ports[containerPort=80].hostPort: container 'app' uses hostPort "
              "8080 (baseline)" +
              s,
          "podSecurity " + c +
              ".securityContext.procMount: container 'app' sets procMount "
              "Unmasked (baseline requires Default)" +
              s,
          "podSecurity spec.template.spec.volumes[name=logs].hostPath: volume 'logs' is a "
          "hostPath (baseline)" +
              s,
          "podSecurity spec.template.spec.securityContext.seLinuxOptions.type: the pod sets "
          "SELinux type spc_t (baseline)" +
              s,
          "podSecurity " + c +
              ".securityContext.appArmorProfile.type: container 'app' sets "
              "AppArmor profile Unconfined (baseline)" +
              s,
          "podSecurity " + c +
              ".securityContext.seccompProfile.type: container 'app' runs "
              "Unconfined by seccomp (baseline)" +
              s,
          "podSecurity spec.template.spec.securityContext.sysctls[name=kernel.msgmax]: sysctl "
          "kernel.msgmax is not in the safe set (baseline)" +
              s,
      }));
}

TEST(PolicyGovernance, RestrictedAddsItsOwnChecks) {
  json pod = deployment(
      "      securityContext: {runAsUser: 0}\n"
      "      containers:\n      - name: app\n        image: x\n"
      "        securityContext: {capabilities: {add: [CHOWN]}}\n"
      "      volumes: [{name: data, nfs: {server: n, path: /}}]\n");
  const std::string c = "spec.template.spec.containers[name=app].securityContext";
  const std::string s = " [Pod Security Standard restricted]";
  EXPECT_EQ(check(pod, policy_of("    podSecurity: {level: restricted}\n")),
            (Lines{
                "podSecurity spec.template.spec.volumes[name=data].nfs: volume 'data' is of type "
                "nfs (restricted allows configMap, csi, downwardAPI, emptyDir, ephemeral, "
                "persistentVolumeClaim, projected, secret)" +
                    s,
                "podSecurity " + c +
                    ".runAsNonRoot: container 'app' must run as non-root: set "
                    "runAsNonRoot: true on the pod or the container (restricted)" +
                    s,
                "podSecurity spec.template.spec.securityContext.runAsUser: the pod runs as user 0 "
                "(restricted)" +
                    s,
                "podSecurity " + c +
                    ".allowPrivilegeEscalation: container 'app' must set "
                    "allowPrivilegeEscalation: false (restricted)" +
                    s,
                "podSecurity " + c +
                    ".seccompProfile.type: container 'app' has no seccomp "
                    "profile: set RuntimeDefault or Localhost on the pod or the container "
                    "(restricted)" +
                    s,
                "podSecurity " + c +
                    ".capabilities.drop: container 'app' must drop ALL "
                    "capabilities (restricted)" +
                    s,
                "podSecurity " + c +
                    ".capabilities.add[CHOWN]: container 'app' adds capability "
                    "CHOWN (restricted allows only NET_BIND_SERVICE)" +
                    s,
            }));
}

TEST(PolicyGovernance, AppArmorAnnotationOnTheTemplate) {
  json pod = parse(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
      "    metadata:\n      annotations:\n"
      "        container.apparmor.security.beta.kubernetes.io/app: unconfined\n"
      "    spec:\n      containers: [{name: app, image: x}]\n");
  EXPECT_EQ(check(pod, policy_of("    podSecurity: {level: baseline}\n")),
            (Lines{"podSecurity "
                   "spec.template.metadata.annotations['container.apparmor.security.beta."
                   "kubernetes.io/app']: annotation "
                   "container.apparmor.security.beta.kubernetes.io/app: unconfined is a "
                   "forbidden AppArmor profile (baseline) [Pod Security Standard baseline]"}));
}

TEST(PolicyGovernance, ReplicasHostNetworkSeccomp) {
  Policy p = policy_of(
      "    replicas: {min: 3}\n    hostNetwork: {allowed: false}\n"
      "    seccomp: {required: RuntimeDefault}\n");
  json pod = deployment(
      "      hostNetwork: true\n      containers:\n      - {name: app, image: x}\n"
      "      - name: side\n        image: x\n"
      "        securityContext: {seccompProfile: {type: RuntimeDefault}}\n",
      "  replicas: 2\n");
  EXPECT_EQ(check(pod, p),
            (Lines{"replicas spec.replicas: 2 replicas, policy requires at least 3",
                   "hostNetwork spec.template.spec.hostNetwork: the pod uses the node's network "
                   "(hostNetwork: true); the policy does not allow it",
                   "seccomp spec.template.spec.containers[name=app].securityContext."
                   "seccompProfile.type: container 'app' runs with seccomp profile unset "
                   "(Unconfined unless the kubelet defaults it), policy requires RuntimeDefault"}));
  json defaulted = deployment("      containers: [{name: app, image: x}]\n");
  EXPECT_EQ(check(defaulted, policy_of("    replicas: {min: 2}\n")),
            Lines{"replicas spec.replicas: 1 replica (the default), policy requires at least 2"});
  EXPECT_EQ(check(deployment(kRestrictedPod, "  replicas: 3\n"), p), Lines{});
}

ManifestSet manifests(const std::vector<std::string>& docs) {
  ManifestSet out;
  for (const auto& d : docs) out.push_back(Manifest{parse(d), {"env.yaml", 1, 1}, nullptr, ""});
  return out;
}

TEST(PolicyGovernance, PodDisruptionBudgetAndDefaultDeny) {
  Policy p = policy_of(
      "    podDisruptionBudget: {requiredFromReplicas: 2}\n"
      "    networkPolicy: {requireDefaultDeny: true}\n");
  const std::string web =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n"
      "spec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: web, tier: front}}\n"
      "    spec: {containers: [{name: c, image: x}]}\n";
  const std::string db =
      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: b}\n"
      "spec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: db}}\n"
      "    spec: {containers: [{name: c, image: x}]}\n";
  const std::string single =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: one, namespace: b}\n"
      "spec:\n  template:\n    spec: {containers: [{name: c, image: x}]}\n";
  const std::string web_pdb =
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\n"
      "spec:\n  minAvailable: 1\n  selector:\n    matchExpressions:\n"
      "    - {key: app, operator: In, values: [web]}\n";
  const std::string wrong_ns_pdb =
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: db, namespace: a}\n"
      "spec: {minAvailable: 1, selector: {matchLabels: {app: db}}}\n";
  const std::string deny =
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: "
      "a}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";
  const std::string allow =
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow, "
      "namespace: b}\nspec: {podSelector: {}, ingress: [{}]}\n";
  Lines found;
  for (const auto& v : environment_violations(
           manifests({web, db, single, web_pdb, wrong_ns_pdb, deny, allow}), {p})) {
    found.push_back(v.object.kind + "/" + v.object.name + " " + v.rule + " " + v.path + ": " +
                    v.message + " (" + v.policy + ")");
  }
  EXPECT_EQ(found, (Lines{"StatefulSet/db podDisruptionBudget spec.replicas: 2 replicas and no "
                          "PodDisruptionBudget selects its pods (policy requires one from 2 "
                          "replicas) (gov)",
                          "Namespace/b networkPolicy : namespace b has no default-deny "
                          "NetworkPolicy (podSelector: {}, no ingress rules) (gov)"}));
  EXPECT_TRUE(environment_violations(manifests({web, db}), {policy_of("    replicas: {min: 1}\n")})
                  .empty());
  // The controller's compact desired state gives the same findings (and, without such rules,
  // none without decoding anything).
  Lines compact_found;
  for (const auto& v : environment_violations(
           compact(manifests({web, db, single, web_pdb, wrong_ns_pdb, deny, allow})), {p})) {
    compact_found.push_back(v.object.kind + "/" + v.object.name + " " + v.rule + " " + v.path +
                            ": " + v.message + " (" + v.policy + ")");
  }
  EXPECT_EQ(compact_found, found);
  EXPECT_TRUE(
      environment_violations(compact(manifests({web, db})), {policy_of("    replicas: {min: 1}\n")})
          .empty());
}

// The live half: the same rules on live objects, for the environment's namespaces (one with no
// workload at all still needs its default-deny policy), reported as live without a line.
TEST(PolicyGovernance, PodDisruptionBudgetAndDefaultDenyOnTheLiveState) {
  Policy p = policy_of(
      "    podDisruptionBudget: {requiredFromReplicas: 2}\n"
      "    networkPolicy: {requireDefaultDeny: true}\n");
  auto object = [](const std::string& yaml) {
    return manifests({yaml}).front().object;  // parsed as a live object would arrive
  };
  json web = object(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n"
      "spec: {replicas: 3, template: {metadata: {labels: {app: web}}, spec: {}}}\n");
  json db = object(
      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: a}\n"
      "spec: {replicas: 2, template: {metadata: {labels: {app: db}}, spec: {}}}\n");
  json web_pdb = object(
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\n"
      "spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n");
  json broken_pdb = object(  // an invalid selector selects nothing
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: db, namespace: a}\n"
      "spec: {minAvailable: 1, selector: {matchExpressions: [{key: app, operator: Bogus}]}}\n");
  json deny = object(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: "
      "a}\nspec: {podSelector: {}}\n");
  Lines found;
  for (const auto& v :
       live_environment_violations({web, db, web_pdb, broken_pdb, deny}, {"a", "empty"}, {p})) {
    found.push_back(v.object.kind + "/" + v.object.name + " " + v.rule + " " +
                    std::string(to_string(v.state)) + (v.source.known() ? " at a line" : ""));
  }
  EXPECT_EQ(found, (Lines{"StatefulSet/db podDisruptionBudget live",
                          "Namespace/empty networkPolicy live"}));
  EXPECT_TRUE(live_environment_violations({web, db}, {"a"}, {policy_of("    replicas: {min: 1}\n")})
                  .empty());
}

TEST(PolicyGovernance, ParserRefusesBadValues) {
  auto bad = [](const std::string& rules) {
    auto parsed = parse_policies(
        "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: gov}\n"
        "spec:\n  rules:\n" +
            rules,
        "gov.yaml");
    return parsed.ok() ? std::string("ok") : parsed.error().to_string();
  };
  EXPECT_EQ(bad("    podSecurity: {level: strict}\n"),
            "gov.yaml:6:19: spec.rules.podSecurity.level: must be one of baseline, restricted "
            "(got 'strict')");
  EXPECT_NE(bad("    podSecurity: {}\n").find("spec.rules.podSecurity.level is required"),
            std::string::npos);
  EXPECT_NE(bad("    replicas: {min: 0}\n").find("spec.rules.replicas.min: must be 1 to 10000"),
            std::string::npos);
  EXPECT_NE(bad("    replicas: {min: 2.5}\n").find("expected a whole number"), std::string::npos);
  EXPECT_NE(bad("    seccomp: {required: Unconfined}\n").find("must be one of RuntimeDefault"),
            std::string::npos);
  EXPECT_NE(bad("    hostNetwork: {allow: true}\n").find("unknown field 'allow'"),
            std::string::npos);
}

Policy parsed(const std::string& spec_yaml, const std::string& name = "p") {
  auto policies = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: " + name +
          "}\nspec:\n" + spec_yaml,
      "p.yaml");
  EXPECT_TRUE(policies.ok()) << policies.error().to_string();
  return policies.ok() ? policies->front() : Policy{};
}

TEST(PolicyGovernance, EnvironmentSelectorPicksByType) {
  Policy prod = parsed(
      "  environmentSelector:\n    matchLabels: {plumbline.dev/env-type: prod}\n"
      "  rules: {replicas: {min: 3}}\n",
      "prod");
  Policy named_and_typed = parsed(
      "  environments: [prod-eu]\n"
      "  environmentSelector: {matchExpressions: [{key: plumbline.dev/env-type, operator: In, "
      "values: [prod]}]}\n",
      "named");
  Policy everywhere = parsed("  rules: {replicas: {min: 1}}\n", "all");
  std::vector<Policy> all = {prod, named_and_typed, everywhere};
  auto names = [&](std::string_view env, const Labels& labels) {
    std::vector<std::string> out;
    for (const auto& p : policies_for(all, env, labels)) out.push_back(p.name);
    return out;
  };
  const Labels prod_type = {{"plumbline.dev/env-type", "prod"}};
  EXPECT_EQ(names("prod-eu", prod_type), (Lines{"prod", "named", "all"}));
  EXPECT_EQ(names("prod-us", prod_type), (Lines{"prod", "all"}));
  EXPECT_EQ(names("prod-eu", {{"plumbline.dev/env-type", "staging"}}), (Lines{"all"}));
  EXPECT_EQ(names("sandbox", {}), (Lines{"all"}));
  auto bad = parse_policies(
      "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: p}\n"
      "spec:\n  environmentSelector: {matchExpressions: [{key: a, operator: Is}]}\n",
      "p.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("operator: must be In, NotIn, Exists or DoesNotExist"),
            std::string::npos)
      << bad.error().to_string();
}

TEST(PolicyGovernance, InClusterPoliciesNeverRelaxAGitBoundSet) {
  Policy git = parsed(
      "  action: enforce\n  scope: [env, resources]\n"
      "  ignore: [{path: 'spec.template.spec.containers[*].env[name=OTEL_*]'}]\n");
  git.git_bound = true;
  Policy cluster = parsed("  action: report\n  ignore: [{category: env}, {category: image}]\n");
  auto drift = [](Category c, const std::string& path) {
    Drift d;
    d.category = c;
    d.path = path;
    return d;
  };
  std::vector<Drift> drifts = {
      drift(Category::kEnv, "spec.template.spec.containers[name=a].env[name=LOG_LEVEL].value"),
      drift(Category::kEnv, "spec.template.spec.containers[name=a].env[name=OTEL_X]"),
      drift(Category::kImage, "spec.template.spec.containers[name=a].image")};
  mark_ignored(drifts, {git, cluster});
  EXPECT_EQ(drifts[0].action, Action::kReport);   // the in-cluster ignore does not reach env
  EXPECT_EQ(drifts[1].action, Action::kIgnored);  // the Git-bound ignore applies
  EXPECT_EQ(drifts[1].ignored_by, "p");
  EXPECT_EQ(drifts[2].action, Action::kIgnored);  // image: no Git-bound policy compares it
  // Without the Git-bound set the in-cluster ignore works as before.
  std::vector<Drift> alone = {drifts[0]};
  alone[0].action = Action::kReport;
  mark_ignored(alone, {cluster});
  EXPECT_EQ(alone[0].action, Action::kIgnored);

  EXPECT_FALSE(narrowed_to_report({git, cluster}));  // a Git-bound enforce wins
  EXPECT_TRUE(narrowed_to_report({cluster}));
  Policy git_report = git;
  git_report.action = PolicyAction::kReport;
  EXPECT_TRUE(narrowed_to_report({git_report}));
  Policy git_silent = git;
  git_silent.action = PolicyAction::kUnset;
  EXPECT_TRUE(narrowed_to_report({git_silent, cluster}));  // no Git-bound enforce to defend
}

TEST(PolicyGovernance, PolicyFolderIsReadFromTheTree) {
  MemoryTree tree;
  tree.add("policies/prod/a.yaml",
           "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n");
  tree.add("policies/prod/README.md", "not a policy");
  tree.add("policies/prod/b.yml",
           "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: b}\n");
  auto loaded = load_policy_folder(tree, "policies/prod");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].name, "a");
  EXPECT_TRUE((*loaded)[0].git_bound);
  EXPECT_EQ((*loaded)[1].origin.file, "policies/prod/b.yml");
  tree.add("policies/prod/c.yaml",
           "apiVersion: plumbline.dev/v1alpha1\nkind: ConsistencyPolicy\nmetadata: {name: a}\n");
  auto duplicate = load_policy_folder(tree, "policies/prod");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().to_string().find("duplicate ConsistencyPolicy 'a' (also in "
                                               "policies/prod/a.yaml)"),
            std::string::npos)
      << duplicate.error().to_string();
  EXPECT_FALSE(load_policy_folder(tree, "policies/none").ok());
  EXPECT_FALSE(load_policy_folder(tree, "../outside").ok());
  MemoryTree empty;
  empty.add("policies/x/README.md", "");
  auto nothing = load_policy_folder(empty, "policies/x");
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(nothing.error().to_string().find("no ConsistencyPolicy file"), std::string::npos);
}

TEST(LabelSelector, MatchesAsTheApiDoes) {
  auto sel = LabelSelector::from_json(
      parse("matchLabels: {env-type: prod}\nmatchExpressions:\n"
            "- {key: region, operator: NotIn, values: [eu]}\n- {key: tier, operator: Exists}\n"),
      "s");
  ASSERT_TRUE(sel.ok()) << sel.error().to_string();
  EXPECT_TRUE(sel->matches({{"env-type", "prod"}, {"tier", "1"}}));
  EXPECT_FALSE(sel->matches({{"env-type", "prod"}, {"tier", "1"}, {"region", "eu"}}));
  EXPECT_FALSE(sel->matches({{"env-type", "staging"}, {"tier", "1"}}));
  EXPECT_TRUE(LabelSelector::from_json(parse("{}"), "s")->matches({}));
  auto bad = LabelSelector::from_json(
      parse("matchExpressions: [{key: a, operator: Exists, values: [x]}]"), "policy.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(), "policy.yaml: matchExpressions[0]: Exists takes no values");
}

}  // namespace
}  // namespace plumbline
