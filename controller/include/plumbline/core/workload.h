// plumbline/core/workload.h — where an object keeps its pod template.
//
// Pod: spec; Deployment/StatefulSet/DaemonSet/ReplicaSet/Job: spec.template.spec;
// CronJob: spec.jobTemplate.spec.template.spec; any other kind with spec.template.spec the same.
//
//   if (auto pod = find_pod_spec(object)) visit(*pod->spec, pod->path);
#pragma once

#include <optional>
#include <string>

#include "plumbline/core/object.h"

namespace plumbline {

struct PodSpecRef {
  const json* spec = nullptr;  // the PodSpec object
  std::string path;            // its canonical path: "spec.template.spec"
};

std::optional<PodSpecRef> find_pod_spec(const json& object);
// Mutable variant; nullptr when the object has no pod template.
json* find_pod_spec_mut(json& object);

// The canonical path prefix of the pod spec for a kind, "" when the kind has none.
std::string_view pod_spec_path(std::string_view kind);

}  // namespace plumbline
