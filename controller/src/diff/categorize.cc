// categorize(): the category of a canonical path. The walker (walker.cc) knows the category
// from its position and never calls this; this is the same table for callers holding only a
// path (policy ignore rules, the corrector). Tests check both agree on every finding.
#include <string_view>
#include <vector>

#include "plumbline/core/path.h"
#include "plumbline/core/workload.h"
#include "plumbline/diff/drift.h"

namespace plumbline {
namespace {

using path::Segment;

bool is_field(const std::vector<Segment>& segs, size_t i, std::string_view name) {
  return i < segs.size() && segs[i].kind == Segment::Kind::kField && segs[i].name == name;
}

template <size_t N>
bool one_of(std::string_view name, const std::string_view (&names)[N]) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

// The number of segments of `prefix` matched at the start of `segs`, or 0 if it does not match.
size_t match_prefix(const std::vector<Segment>& segs, std::string_view prefix) {
  size_t i = 0;
  while (!prefix.empty()) {
    size_t dot = prefix.find('.');
    std::string_view name = prefix.substr(0, dot);
    if (!is_field(segs, i, name)) return 0;
    ++i;
    prefix = dot == std::string_view::npos ? std::string_view{} : prefix.substr(dot + 1);
  }
  return i;
}

std::optional<Category> security_field(std::string_view name, bool pod_level) {
  if (name == "seLinuxOptions") return Category::kSelinux;
  if (name == "seccompProfile") return Category::kSeccomp;
  if (name == "appArmorProfile") return Category::kRuntime;
  if (pod_level) {
    static constexpr std::string_view kIdentity[] = {"runAsUser", "runAsGroup", "runAsNonRoot",
                                                     "fsGroup", "supplementalGroups"};
    if (name == "sysctls") return Category::kRuntime;
    if (one_of(name, kIdentity)) return Category::kIdentity;
    return std::nullopt;
  }
  static constexpr std::string_view kCapabilities[] = {"capabilities", "privileged",
                                                       "allowPrivilegeEscalation"};
  static constexpr std::string_view kIdentity[] = {"runAsUser", "runAsGroup", "runAsNonRoot",
                                                   "readOnlyRootFilesystem"};
  if (name == "procMount") return Category::kRuntime;
  if (one_of(name, kCapabilities)) return Category::kCapabilities;
  if (one_of(name, kIdentity)) return Category::kIdentity;
  return std::nullopt;
}

std::optional<Category> pod_field(const std::vector<Segment>& segs, size_t i) {
  static constexpr std::string_view kRuntime[] = {"runtimeClassName", "hostNetwork", "hostPID",
                                                  "hostIPC"};
  static constexpr std::string_view kContainers[] = {"containers", "initContainers",
                                                     "ephemeralContainers"};
  if (i >= segs.size() || segs[i].kind != Segment::Kind::kField) return std::nullopt;
  const std::string& name = segs[i].name;
  if (name == "resources") return Category::kResources;
  if (one_of(name, kRuntime)) return Category::kRuntime;
  if (name == "securityContext") {
    if (i + 1 >= segs.size() || segs[i + 1].kind != Segment::Kind::kField) return std::nullopt;
    return security_field(segs[i + 1].name, true);
  }
  if (!one_of(name, kContainers)) return std::nullopt;
  // containers[name=app].<field>
  if (i + 2 >= segs.size() || segs[i + 1].kind == Segment::Kind::kField ||
      segs[i + 2].kind != Segment::Kind::kField) {
    return std::nullopt;
  }
  const std::string& field = segs[i + 2].name;
  if (field == "resources") return Category::kResources;
  if (field == "env" || field == "envFrom") return Category::kEnv;
  if (field == "image") return Category::kImage;
  if (field == "securityContext") {
    if (i + 3 >= segs.size() || segs[i + 3].kind != Segment::Kind::kField) return std::nullopt;
    return security_field(segs[i + 3].name, false);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Category> categorize(std::string_view kind, std::string_view canonical_path) {
  auto parsed = path::parse(canonical_path);
  if (!parsed) return std::nullopt;
  const std::vector<Segment>& segs = *parsed;
  std::string_view pod = pod_spec_path(kind);
  if (pod.empty()) pod = "spec.template.spec";  // unknown kinds with a pod template

  if (segs.size() == 2 && is_field(segs, 0, "spec") && is_field(segs, 1, "replicas")) {
    return Category::kReplicas;
  }
  if (is_field(segs, 0, "metadata") && is_field(segs, 1, "labels")) return Category::kLabels;
  if (pod != "spec") {
    // The pod template's own labels: "spec.template.metadata.labels".
    std::string_view tmpl = pod.substr(0, pod.size() - std::string_view(".spec").size());
    size_t n = match_prefix(segs, tmpl);
    if (n > 0 && is_field(segs, n, "metadata") && is_field(segs, n + 1, "labels")) {
      return Category::kLabels;
    }
  }
  size_t n = match_prefix(segs, pod);
  if (n == 0) return std::nullopt;
  return pod_field(segs, n);
}

}  // namespace plumbline
