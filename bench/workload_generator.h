// bench/workload_generator.h — synthetic workloads for benchmarks.
//
// N Deployments with 3 containers and 20 env vars each, and their live counterparts as the
// API server returns them (defaults, managedFields, status), with drift planted in every
// tenth workload: a memory limit, an env var value, an added env var and an added capability.
#pragma once

#include <string>
#include <vector>

#include "plumbline/object.h"

namespace plumbline::bench {

struct GeneratedSet {
  ManifestSet desired;
  std::vector<json> live;
  size_t planted_drifts = 0;
};

inline json make_container(size_t workload, int index) {
  json env = json::array();
  for (int e = 0; e < 20; ++e) {
    env.push_back({{"name", "SETTING_" + std::to_string(e)},
                   {"value", "value-" + std::to_string(workload % 97) + "-" + std::to_string(e)}});
  }
  env[0] = {{"name", "GOMAXPROCS"}, {"value", "1"}};
  env[1] = {{"name", "TZ"}, {"value", "UTC"}};
  return {{"name", "c" + std::to_string(index)},
          {"image",
           "registry.example/svc-" + std::to_string(workload) + ":1.0." + std::to_string(index)},
          {"env", env},
          {"resources",
           {{"requests", {{"cpu", "250m"}, {"memory", "256Mi"}}},
            {"limits", {{"cpu", "1"}, {"memory", "512Mi"}}}}},
          {"securityContext",
           {{"allowPrivilegeEscalation", false},
            {"readOnlyRootFilesystem", true},
            {"capabilities", {{"drop", {"ALL"}}}}}}};
}

inline GeneratedSet generate_workloads(size_t n) {
  GeneratedSet out;
  out.desired.reserve(n);
  out.live.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string name = "svc-" + std::to_string(i);
    json containers =
        json::array({make_container(i, 0), make_container(i, 1), make_container(i, 2)});
    json object = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", name}, {"namespace", "bench"}, {"labels", {{"app", name}}}}},
        {"spec",
         {{"replicas", 2},
          {"selector", {{"matchLabels", {{"app", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", name}}}}},
            {"spec",
             {{"securityContext",
               {{"runAsNonRoot", true}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
              {"containers", containers}}}}}}}};
    json live = object;
    live["metadata"]["uid"] = "0b5d6c1e-" + std::to_string(i);
    live["metadata"]["resourceVersion"] = std::to_string(1000 + i);
    live["metadata"]["generation"] = 1;
    live["metadata"]["creationTimestamp"] = "2026-11-20T10:00:00Z";
    live["metadata"]["managedFields"] =
        json::array({{{"manager", "argocd-controller"},
                      {"operation", "Apply"},
                      {"apiVersion", "apps/v1"},
                      {"time", "2026-11-20T10:00:00Z"},
                      {"fieldsType", "FieldsV1"},
                      {"fieldsV1", {{"f:spec", {{"f:replicas", json::object()}}}}}}});
    live["status"] = {{"replicas", 2}, {"readyReplicas", 2}, {"observedGeneration", 1}};
    auto& pod = live["spec"]["template"]["spec"];
    pod["dnsPolicy"] = "ClusterFirst";
    pod["restartPolicy"] = "Always";
    pod["schedulerName"] = "default-scheduler";
    pod["terminationGracePeriodSeconds"] = 30;
    for (auto& c : pod["containers"]) {
      c["imagePullPolicy"] = "IfNotPresent";
      c["terminationMessagePath"] = "/dev/termination-log";
      c["terminationMessagePolicy"] = "File";
      c["resources"]["limits"]["cpu"] = "1000m";  // same value, other spelling: no drift
    }
    if (i % 10 == 0) {
      auto& app = pod["containers"][0];
      app["resources"]["limits"]["memory"] = "1Gi";
      app["env"][5]["value"] = "changed-by-hand";
      app["env"].push_back({{"name", "DEBUG_PPROF"}, {"value", "1"}});
      app["securityContext"]["capabilities"]["add"] = json::array({"SYS_ADMIN"});
      out.planted_drifts += 4;
    }
    out.desired.push_back(
        Manifest{std::move(object), {"bench/" + name + ".yaml", 1, 0}, nullptr, {}});
    out.live.push_back(std::move(live));
  }
  return out;
}

}  // namespace plumbline::bench
