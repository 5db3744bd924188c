#include <gtest/gtest.h>

#include "plumbline/diff/drift.h"

namespace plumbline {
namespace {

struct Case {
  const char* kind;
  const char* path;
  std::optional<Category> expected;
};

TEST(Categorize, EveryCategoryAtEveryLevel) {
  using C = Category;
  const std::string d = "spec.template.spec.";
  const std::string c = d + "containers[name=app].";
  const std::vector<std::pair<std::string, std::optional<Category>>> cases = {
      {c + "resources.limits.memory", C::kResources},
      {c + "resources.requests.cpu", C::kResources},
      {d + "resources.limits.cpu", C::kResources},
      {c + "env[name=LOG_LEVEL].value", C::kEnv},
      {c + "env[name=DEBUG_PPROF]", C::kEnv},
      {c + "envFrom", C::kEnv},
      {c + "securityContext.seLinuxOptions.type", C::kSelinux},
      {d + "securityContext.seLinuxOptions.level", C::kSelinux},
      {c + "securityContext.seccompProfile.type", C::kSeccomp},
      {d + "securityContext.seccompProfile.localhostProfile", C::kSeccomp},
      {c + "securityContext.capabilities.add[SYS_ADMIN]", C::kCapabilities},
      {c + "securityContext.capabilities.drop[ALL]", C::kCapabilities},
      {c + "securityContext.privileged", C::kCapabilities},
      {c + "securityContext.allowPrivilegeEscalation", C::kCapabilities},
      {c + "securityContext.runAsUser", C::kIdentity},
      {c + "securityContext.runAsGroup", C::kIdentity},
      {c + "securityContext.runAsNonRoot", C::kIdentity},
      {c + "securityContext.readOnlyRootFilesystem", C::kIdentity},
      {d + "securityContext.runAsUser", C::kIdentity},
      {d + "securityContext.fsGroup", C::kIdentity},
      {d + "securityContext.supplementalGroups[1000]", C::kIdentity},
      {d + "securityContext.sysctls[name=net.core.somaxconn].value", C::kRuntime},
      {d + "runtimeClassName", C::kRuntime},
      {d + "hostNetwork", C::kRuntime},
      {d + "hostPID", C::kRuntime},
      {d + "hostIPC", C::kRuntime},
      {c + "securityContext.procMount", C::kRuntime},
      {c + "securityContext.appArmorProfile.type", C::kRuntime},
      {d + "securityContext.appArmorProfile.type", C::kRuntime},
      {c + "image", C::kImage},
      {"spec.replicas", C::kReplicas},
      {"metadata.labels.team", C::kLabels},
      {"metadata.labels['app.kubernetes.io/name']", C::kLabels},
      {"spec.template.metadata.labels.app", C::kLabels},
      {d + "initContainers[name=init].resources.limits.cpu", C::kResources},
      {d + "ephemeralContainers[name=dbg].env[name=X]", C::kEnv},
      // Never compared: outside every category.
      {c + "imagePullPolicy", std::nullopt},
      {c + "ports[containerPort=8080].protocol", std::nullopt},
      {d + "dnsPolicy", std::nullopt},
      {d + "securityContext.fsGroupChangePolicy", std::nullopt},
      {c + "securityContext.capabilitiesX", std::nullopt},
      {d + "containers", std::nullopt},
      {"status.replicas", std::nullopt},
      {"metadata.annotations.x", std::nullopt},
      {"metadata.managedFields", std::nullopt},
      {"spec.template.spec.securityContext.privileged", std::nullopt},  // container-only field
      {"", std::nullopt},
      {"spec..x[", std::nullopt},
  };
  for (const auto& [path, expected] : cases) {
    EXPECT_EQ(categorize("Deployment", path), expected) << path;
  }
}

TEST(Categorize, PodTemplateLocationDependsOnKind) {
  EXPECT_EQ(categorize("Pod", "spec.containers[name=a].resources.limits.cpu"),
            Category::kResources);
  EXPECT_EQ(categorize("Pod", "spec.template.spec.containers[name=a].resources.limits.cpu"),
            std::nullopt);
  EXPECT_EQ(categorize("Pod", "metadata.labels.app"), Category::kLabels);
  EXPECT_EQ(categorize("CronJob", "spec.jobTemplate.spec.template.spec.hostPID"),
            Category::kRuntime);
  EXPECT_EQ(categorize("CronJob", "spec.jobTemplate.spec.template.metadata.labels.app"),
            Category::kLabels);
  EXPECT_EQ(categorize("CronJob", "spec.template.spec.hostPID"), std::nullopt);
  for (const char* kind : {"StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"}) {
    EXPECT_EQ(categorize(kind, "spec.template.spec.containers[name=a].env[name=B].value"),
              Category::kEnv)
        << kind;
  }
}

}  // namespace
}  // namespace plumbline
