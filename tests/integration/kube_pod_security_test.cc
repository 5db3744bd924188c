// The podSecurity rule against the real thing: every pod template below is created as a Pod
// (server-side dry run, one kubectl call per level) in a namespace labelled
// pod-security.kubernetes.io/enforce=<level>, and plumbline's verdict must equal Pod Security
// admission's on every template, for baseline and restricted.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "integration/kube_testenv.h"
#include "plumbline/core/yaml.h"
#include "plumbline/policy/policy.h"

namespace {

using plumbline::testing::KubeTestEnv;
using json = nlohmann::json;

struct Template {
  const char* name;
  const char* spec;  // the PodSpec, YAML
  const char* annotations = "{}";
};

// A pod that meets restricted, and variations of it; then the same checks on a bare pod.
#define RESTRICTED_POD \
  "securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}"
#define SAFE_CONTAINER                                                                          \
  "{name: c, image: busybox, securityContext: {allowPrivilegeEscalation: false, capabilities: " \
  "{drop: [ALL]}}}"

const std::vector<Template> kTemplates = {
    {"bare", "{containers: [{name: c, image: busybox}]}"},
    {"restricted", "{" RESTRICTED_POD ", containers: [" SAFE_CONTAINER "]}"},
    {"host-network", "{hostNetwork: true, " RESTRICTED_POD ", containers: [" SAFE_CONTAINER "]}"},
    {"host-pid", "{hostPID: true, containers: [{name: c, image: busybox}]}"},
    {"host-ipc", "{hostIPC: true, containers: [{name: c, image: busybox}]}"},
    {"host-network-false",
     "{hostNetwork: false, " RESTRICTED_POD ", containers: [" SAFE_CONTAINER "]}"},
    {"privileged",
     "{containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}"},
    {"privileged-false",
     "{" RESTRICTED_POD
     ", containers: [{name: c, image: busybox, securityContext: {privileged: false, "
     "allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}"},
    {"cap-net-admin",
     "{containers: [{name: c, image: busybox, securityContext: {capabilities: {add: "
     "[NET_ADMIN]}}}]}"},
    {"cap-chown",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [CHOWN]}}}]}"},
    {"cap-net-bind",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}}]}"},
    {"cap-drop-some",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: false, capabilities: {drop: [NET_RAW]}}}]}"},
    {"host-path",
     "{containers: [{name: c, image: busybox}], volumes: [{name: v, hostPath: {path: /var/log}}]}"},
    {"safe-volumes",
     "{" RESTRICTED_POD ", containers: [" SAFE_CONTAINER "], volumes: [{name: a, emptyDir: {}}, "
     "{name: b, configMap: {name: x}}, {name: s, secret: {secretName: x}}, {name: p, "
     "persistentVolumeClaim: {claimName: x}}]}"},
    {"projected-volumes",
     "{" RESTRICTED_POD ", containers: [" SAFE_CONTAINER "], volumes: [{name: p, projected: "
     "{sources: [{configMap: {name: x}}]}}, {name: d, downwardAPI: {items: [{path: l, "
     "fieldRef: {fieldPath: metadata.labels}}]}}, {name: c, csi: {driver: x.example}}]}"},
    {"nfs-volume",
     "{" RESTRICTED_POD ", containers: [" SAFE_CONTAINER "], volumes: [{name: n, nfs: {server: "
     "nfs.example, path: /}}]}"},
    {"host-port",
     "{containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 8080}]}]}"},
    {"container-port-only",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, ports: [{containerPort: 80}], "
     "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}"},
    {"apparmor-unconfined",
     "{containers: [{name: c, image: busybox, securityContext: {appArmorProfile: {type: "
     "Unconfined}}}]}"},
    {"apparmor-runtime-default",
     "{securityContext: {appArmorProfile: {type: RuntimeDefault}}, containers: [{name: c, image: "
     "busybox}]}"},
    {"apparmor-localhost",
     "{containers: [{name: c, image: busybox, securityContext: {appArmorProfile: {type: "
     "Localhost, localhostProfile: my-profile}}}]}"},
    {"apparmor-annotation-unconfined", "{containers: [{name: c, image: busybox}]}",
     "{container.apparmor.security.beta.kubernetes.io/c: unconfined}"},
    {"apparmor-annotation-default", "{containers: [{name: c, image: busybox}]}",
     "{container.apparmor.security.beta.kubernetes.io/c: runtime/default}"},
    {"selinux-spc",
     "{securityContext: {seLinuxOptions: {type: spc_t}}, containers: [{name: c, image: busybox}]}"},
    {"selinux-container-t",
     "{containers: [{name: c, image: busybox, securityContext: {seLinuxOptions: {type: "
     "container_t, level: 's0:c1,c2'}}}]}"},
    {"selinux-engine-t",
     "{containers: [{name: c, image: busybox, securityContext: {seLinuxOptions: {type: "
     "container_engine_t}}}]}"},
    {"selinux-user",
     "{containers: [{name: c, image: busybox, securityContext: {seLinuxOptions: {user: "
     "system_u}}}]}"},
    {"selinux-role",
     "{securityContext: {seLinuxOptions: {role: system_r}}, containers: [{name: c, image: "
     "busybox}]}"},
    {"proc-mount-unmasked",
     "{hostUsers: false, containers: [{name: c, image: busybox, securityContext: {procMount: "
     "Unmasked}}]}"},
    {"proc-mount-default",
     "{containers: [{name: c, image: busybox, securityContext: {procMount: Default}}]}"},
    {"seccomp-pod-unconfined",
     "{securityContext: {runAsNonRoot: true, seccompProfile: {type: Unconfined}}, containers: "
     "[" SAFE_CONTAINER "]}"},
    {"seccomp-container-unconfined",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: "
     "Unconfined}}}]}"},
    {"seccomp-pod-localhost",
     "{securityContext: {runAsNonRoot: true, seccompProfile: {type: Localhost, "
     "localhostProfile: p.json}}, containers: [" SAFE_CONTAINER "]}"},
    {"seccomp-container-only",
     "{securityContext: {runAsNonRoot: true}, containers: [{name: c, image: busybox, "
     "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, "
     "seccompProfile: {type: RuntimeDefault}}}]}"},
    {"seccomp-one-container-missing",
     "{securityContext: {runAsNonRoot: true}, containers: [{name: c, image: busybox, "
     "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, "
     "seccompProfile: {type: RuntimeDefault}}}, {name: d, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}"},
    {"sysctl-safe",
     "{securityContext: {sysctls: [{name: kernel.shm_rmid_forced, value: '1'}, {name: "
     "net.ipv4.ip_local_port_range, value: '1024 65000'}]}, containers: [{name: c, image: "
     "busybox}]}"},
    {"sysctl-unsafe",
     "{securityContext: {sysctls: [{name: kernel.msgmax, value: '65536'}]}, containers: [{name: "
     "c, image: busybox}]}"},
    {"sysctl-somaxconn",
     "{securityContext: {sysctls: [{name: net.core.somaxconn, value: '1024'}]}, containers: "
     "[{name: c, image: busybox}]}"},
    {"sysctl-tcp-rmem",
     "{securityContext: {sysctls: [{name: net.ipv4.tcp_rmem, value: '4096 87380 6291456'}]}, "
     "containers: [{name: c, image: busybox}]}"},
    {"sysctl-keepalive",
     "{securityContext: {sysctls: [{name: net.ipv4.tcp_keepalive_time, value: '600'}]}, "
     "containers: [{name: c, image: busybox}]}"},
    {"privilege-escalation",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: true, capabilities: {drop: [ALL]}}}]}"},
    {"privilege-escalation-unset",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: "
     "{capabilities: {drop: [ALL]}}}]}"},
    {"run-as-non-root-false",
     "{securityContext: {runAsNonRoot: false, seccompProfile: {type: RuntimeDefault}}, "
     "containers: [" SAFE_CONTAINER "]}"},
    {"run-as-non-root-container",
     "{securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: c, image: "
     "busybox, securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, "
     "capabilities: {drop: [ALL]}}}]}"},
    {"run-as-non-root-container-false",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: {runAsNonRoot: "
     "false, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}"},
    {"run-as-non-root-unset",
     "{securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [" SAFE_CONTAINER
     "]}"},
    {"run-as-user-0-pod",
     "{securityContext: {runAsNonRoot: true, runAsUser: 0, seccompProfile: {type: "
     "RuntimeDefault}}, containers: [" SAFE_CONTAINER "]}"},
    {"run-as-user-0-container",
     "{" RESTRICTED_POD ", containers: [{name: c, image: busybox, securityContext: {runAsUser: 0, "
     "allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}"},
    {"run-as-user-1000",
     "{securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: "
     "RuntimeDefault}}, containers: [" SAFE_CONTAINER "]}"},
    {"init-privileged",
     "{initContainers: [{name: i, image: busybox, securityContext: {privileged: true}}], "
     "containers: [{name: c, image: busybox}]}"},
    {"init-no-drop",
     "{" RESTRICTED_POD ", initContainers: [{name: i, image: busybox, securityContext: "
     "{allowPrivilegeEscalation: false}}], containers: [" SAFE_CONTAINER "]}"},
    {"probe-host",
     "{containers: [{name: c, image: busybox, livenessProbe: {httpGet: {host: example.com, port: "
     "80, path: /}}}]}"},
    {"probe-host-loopback",
     "{containers: [{name: c, image: busybox, readinessProbe: {tcpSocket: {host: 127.0.0.1, "
     "port: 80}}}]}"},
    {"lifecycle-host",
     "{containers: [{name: c, image: busybox, lifecycle: {preStop: {httpGet: {host: "
     "example.com, port: 80}}}}]}"},
    {"probe-no-host",
     "{containers: [{name: c, image: busybox, livenessProbe: {httpGet: {port: 80, path: /}}}]}"},
    {"windows-pod",
     "{os: {name: windows}, securityContext: {runAsNonRoot: true}, containers: [{name: c, image: "
     "busybox}]}"},
    {"user-namespace-root",
     "{hostUsers: false, " RESTRICTED_POD ", containers: [{name: c, image: busybox, "
     "securityContext: {runAsUser: 0, allowPrivilegeEscalation: false, capabilities: {drop: "
     "[ALL]}}}]}"},
};

json PodOf(const Template& t, const std::string& ns) {
  std::string yaml = std::string("apiVersion: v1\nkind: Pod\nmetadata: {name: ") + t.name +
                     ", namespace: " + ns + ", annotations: " + t.annotations +
                     "}\nspec: " + t.spec + "\n";
  auto parsed = plumbline::parse_yaml(yaml, t.name);
  EXPECT_TRUE(parsed.ok()) << t.name << ": " << parsed.error().to_string();
  return parsed.ok() ? *parsed : json();
}

// plumbline's verdict: the podSecurity findings of one Pod.
std::vector<std::string> PlumblineFindings(const json& pod, bool restricted) {
  plumbline::Policy policy;
  policy.name = "pss";
  policy.rules.pod_security = plumbline::PolicyRules::PodSecurity{restricted};
  std::vector<std::string> out;
  for (const auto& v : plumbline::check_rules(pod, policy, plumbline::StateSide::kDesired)) {
    out.push_back(v.path + ": " + v.message);
  }
  return out;
}

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

TEST(KubePodSecurity, PlumblineAgreesWithPodSecurityAdmissionOnEveryTemplate) {
  std::string error;
  // Real clusters allow privileged containers: Pod Security admission is what refuses them.
  auto env = KubeTestEnv::Start({"--allow-privileged=true"}, &error);
  ASSERT_NE(env, nullptr) << error;
  ASSERT_GE(kTemplates.size(), 40u);
  std::set<std::string> names;
  for (const auto& t : kTemplates) ASSERT_TRUE(names.insert(t.name).second) << t.name;

  size_t agreed = 0, compared = 0;
  std::string table;
  for (const char* level : {"baseline", "restricted"}) {
    std::string ns = std::string("pss-") + level;
    auto created = env->Kubectl({"create", "namespace", ns});
    ASSERT_EQ(created.exit_code, 0) << Describe(created);
    auto labelled = env->Kubectl({"label", "namespace", ns,
                                  std::string("pod-security.kubernetes.io/enforce=") + level,
                                  "pod-security.kubernetes.io/enforce-version=latest"});
    ASSERT_EQ(labelled.exit_code, 0) << Describe(labelled);

    json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
    for (const auto& t : kTemplates) list["items"].push_back(PodOf(t, ns));
    // kubectl goes on after a refused object: one call answers for every template.
    auto run = env->Kubectl({"create", "--dry-run=server", "-o", "name", "-f", "-"}, list.dump());
    std::set<std::string> admitted, refused;
    static const std::regex kAdmitted(R"(^pod/([a-z0-9-]+)$)");
    static const std::regex kRefused(
        R"re(pods "([a-z0-9-]+)" is forbidden: violates PodSecurity "[a-z]+:latest": (.*)$)re");
    std::map<std::string, std::string> reasons;
    std::smatch m;
    std::istringstream out(run.out), err(run.err);
    for (std::string line; std::getline(out, line);) {
      if (std::regex_search(line, m, kAdmitted)) admitted.insert(m[1]);
    }
    for (std::string line; std::getline(err, line);) {
      if (std::regex_search(line, m, kRefused)) {
        refused.insert(m[1]);
        reasons[m[1]] = m[2];
      } else if (!line.empty() && line.rfind("Warning: ", 0) != 0) {
        ADD_FAILURE() << level << ": an answer that is neither admitted nor a PodSecurity refusal "
                      << "(the template must be a valid Pod): " << line;
      }
    }
    for (const auto& t : kTemplates) {
      bool server_allows = admitted.count(t.name) > 0;
      ASSERT_TRUE(server_allows != (refused.count(t.name) > 0))
          << level << " " << t.name << ": no single answer from the apiserver\n"
          << Describe(run);
      auto findings = PlumblineFindings(PodOf(t, ns), std::string(level) == "restricted");
      bool plumbline_allows = findings.empty();
      ++compared;
      if (plumbline_allows == server_allows) ++agreed;
      std::string found;
      for (const auto& f : findings) found += "\n    " + f;
      EXPECT_EQ(plumbline_allows, server_allows)
          << level << " " << t.name << ": apiserver " << (server_allows ? "admits" : "refuses")
          << (server_allows ? "" : " (" + reasons[t.name] + ")") << ", plumbline "
          << (plumbline_allows ? "passes it" : "finds:") << found;
      table += std::string(level) + " " + t.name + ": " + (server_allows ? "admitted" : "refused") +
               "\n";
    }
  }
  std::cout << table << "agreement: " << agreed << " of " << compared << " verdicts ("
            << kTemplates.size() << " templates x 2 levels)\n";
  EXPECT_EQ(agreed, compared);
}

}  // namespace
