#include "plumbline/core/workload.h"

#include "plumbline/core/object.h"

namespace plumbline {
std::string_view pod_spec_path(std::string_view kind) {
  if (kind == "Pod") return "spec";
  if (kind == "CronJob") return "spec.jobTemplate.spec.template.spec";
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet" || kind == "Job" || kind == "ReplicationController") {
    return "spec.template.spec";
  }
  return {};
}

std::optional<PodSpecRef> find_pod_spec(const json& object) {
  const json* kind = member_of(&object, "kind");
  std::string_view kind_name;
  if (kind && kind->is_string()) kind_name = kind->get_ref<const std::string&>();
  const json* spec = member_of(&object, "spec");
  if (kind_name == "Pod") {
    if (spec && spec->is_object()) return PodSpecRef{spec, "spec"};
    return std::nullopt;
  }
  if (kind_name == "CronJob") {
    const json* pod =
        member_of(member_of(member_of(member_of(spec, "jobTemplate"), "spec"), "template"), "spec");
    if (pod && pod->is_object()) return PodSpecRef{pod, "spec.jobTemplate.spec.template.spec"};
    return std::nullopt;
  }
  // Known workloads and any unknown kind with spec.template.spec.
  const json* pod = member_of(member_of(spec, "template"), "spec");
  if (pod && pod->is_object()) return PodSpecRef{pod, "spec.template.spec"};
  return std::nullopt;
}

json* find_pod_spec_mut(json& object) {
  auto ref = find_pod_spec(object);
  return ref ? const_cast<json*>(ref->spec) : nullptr;  // NOLINT: same object, non-const access
}

}  // namespace plumbline
