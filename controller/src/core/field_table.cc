// The compared fields (see field_table.h). The order within a level is the walk order.
#include "plumbline/core/field_table.h"

#include <algorithm>
#include <array>

namespace plumbline {
namespace {

using C = Category;
using L = FieldLevel;
constexpr path::ListRule kByName{path::ListKind::kKeyed, "name"};
constexpr path::ListRule kSet{path::ListKind::kSet, {}};

constexpr ComparedField kTable[] = {
    {L::kObjectSpec, "replicas", C::kReplicas},
    {L::kMetadata, "labels", C::kLabels},
    {L::kPod, "resources", C::kResources},
    {L::kPod, "runtimeClassName", C::kRuntime},
    {L::kPod, "hostNetwork", C::kRuntime},
    {L::kPod, "hostPID", C::kRuntime},
    {L::kPod, "hostIPC", C::kRuntime},
    {L::kPodSecurity, "seLinuxOptions", C::kSelinux},
    {L::kPodSecurity, "seccompProfile", C::kSeccomp},
    {L::kPodSecurity, "appArmorProfile", C::kRuntime},
    {L::kPodSecurity, "sysctls", C::kRuntime, kByName},
    {L::kPodSecurity, "runAsUser", C::kIdentity},
    {L::kPodSecurity, "runAsGroup", C::kIdentity},
    {L::kPodSecurity, "runAsNonRoot", C::kIdentity},
    {L::kPodSecurity, "fsGroup", C::kIdentity},
    {L::kPodSecurity, "supplementalGroups", C::kIdentity, kSet},
    {L::kContainer, "resources", C::kResources},
    {L::kContainer, "env", C::kEnv, kByName},
    {L::kContainer, "envFrom", C::kEnv},
    {L::kContainer, "image", C::kImage},
    {L::kContainerSecurity, "seLinuxOptions", C::kSelinux},
    {L::kContainerSecurity, "seccompProfile", C::kSeccomp},
    {L::kContainerSecurity, "appArmorProfile", C::kRuntime},
    {L::kContainerSecurity, "procMount", C::kRuntime},
    {L::kContainerSecurity, "capabilities", C::kCapabilities},
    {L::kContainerSecurity, "privileged", C::kCapabilities},
    {L::kContainerSecurity, "allowPrivilegeEscalation", C::kCapabilities},
    {L::kContainerSecurity, "runAsUser", C::kIdentity},
    {L::kContainerSecurity, "runAsGroup", C::kIdentity},
    {L::kContainerSecurity, "runAsNonRoot", C::kIdentity},
    {L::kContainerSecurity, "readOnlyRootFilesystem", C::kIdentity},
};
constexpr bool grouped_by_level() {
  for (size_t i = 1; i < std::size(kTable); ++i) {
    if (kTable[i].level < kTable[i - 1].level) return false;
  }
  return true;
}
static_assert(grouped_by_level(), "compared_fields(level) returns one contiguous run");

constexpr std::array<std::string_view, 3> kContainerLists{"containers", "initContainers",
                                                          "ephemeralContainers"};

}  // namespace

std::span<const ComparedField> compared_fields() { return kTable; }

std::span<const ComparedField> compared_fields(FieldLevel level) {
  auto first = std::find_if(std::begin(kTable), std::end(kTable),
                            [&](const ComparedField& f) { return f.level == level; });
  auto last = std::find_if(first, std::end(kTable),
                           [&](const ComparedField& f) { return f.level != level; });
  return {first, last};
}

const ComparedField* find_compared_field(FieldLevel level, std::string_view name) {
  for (const ComparedField& f : compared_fields(level)) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::span<const std::string_view> container_lists() { return kContainerLists; }

bool is_container_list(std::string_view name) {
  return std::find(kContainerLists.begin(), kContainerLists.end(), name) != kContainerLists.end();
}

std::string_view level_parent(FieldLevel level) {
  switch (level) {
    case FieldLevel::kObjectSpec:
    case FieldLevel::kPod:
      return "spec";
    case FieldLevel::kMetadata:
      return "metadata";
    case FieldLevel::kPodSecurity:
    case FieldLevel::kContainerSecurity:
      return kSecurityContext;
    case FieldLevel::kContainer:
      return "container";
  }
  return {};
}

}  // namespace plumbline
