// bench/workload_generator.h — synthetic workloads for benchmarks.
//
// N Deployments with 3 containers and 20 env vars each, and their live counterparts as the
// API server returns them (defaults, managedFields, status), with drift planted in every
// tenth workload: a memory limit, an env var value, an added env var and an added capability.
#pragma once

#include <string>
#include <vector>

#include "plumbline/core/object.h"

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

// fieldsV1 (server-side apply's ownership tree) of every field a value sets: objects by `f:`
// keys, lists of named objects by `k:{"name":...}` elements marked `.`, ports by
// containerPort+protocol, other lists atomic (`{}`).
inline json fields_v1_of(const json& value) {
  json out = json::object();
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      const json& v = *it;
      json& f = out["f:" + it.key()];
      if (v.is_object()) {
        f = fields_v1_of(v);
        if (f.empty()) f = json::object();
      } else if (v.is_array() && !v.empty() && v[0].is_object() &&
                 (v[0].contains("name") || v[0].contains("containerPort"))) {
        f = json::object();
        for (const json& el : v) {
          json key = el.contains("name") ? json{{"name", el["name"]}}
                                         : json{{"containerPort", el["containerPort"]},
                                                {"protocol", el.value("protocol", "TCP")}};
          json entry = fields_v1_of(el);
          entry["."] = json::object();
          f["k:" + key.dump()] = std::move(entry);
        }
      } else {
        f = json::object();
      }
    }
  }
  return out;
}

// Turns the live objects of a GeneratedSet into what a real API server returns for them:
// defaulted fields (probes, ports, volume mounts, strategy, ...), annotations, a status with
// conditions and managedFields of two managers (argocd-controller applying the desired fields,
// kube-controller-manager updating status) plus kubectl-edit owning the planted drift.
inline void add_apiserver_detail(GeneratedSet& set) {
  for (size_t i = 0; i < set.live.size(); ++i) {
    json& live = set.live[i];
    const json& desired = set.desired[i].object;
    std::string name = live["metadata"]["name"];
    live["metadata"]["annotations"] = {{"deployment.kubernetes.io/revision", "3"}};
    live["metadata"]["generation"] = 3;
    json& spec = live["spec"];
    spec["progressDeadlineSeconds"] = 600;
    spec["revisionHistoryLimit"] = 10;
    spec["strategy"] = {{"type", "RollingUpdate"},
                        {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}};
    json& pod = spec["template"]["spec"];
    pod["volumes"] = json::array(
        {{{"name", "config"}, {"configMap", {{"name", name + "-config"}, {"defaultMode", 420}}}},
         {{"name", "tmp"}, {"emptyDir", json::object()}}});
    int port = 8080;
    for (auto& c : pod["containers"]) {
      c["ports"] = json::array({{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}});
      json probe = {{"httpGet", {{"path", "/healthz"}, {"port", port}, {"scheme", "HTTP"}}},
                    {"initialDelaySeconds", 5},
                    {"timeoutSeconds", 1},
                    {"periodSeconds", 10},
                    {"successThreshold", 1},
                    {"failureThreshold", 3}};
      c["livenessProbe"] = probe;
      probe["httpGet"]["path"] = "/readyz";
      c["readinessProbe"] = probe;
      c["volumeMounts"] = json::array({{{"name", "config"}, {"mountPath", "/etc/" + name}},
                                       {{"name", "tmp"}, {"mountPath", "/tmp"}}});
      ++port;
    }
    live["status"] = {
        {"observedGeneration", 3},
        {"replicas", 2},
        {"updatedReplicas", 2},
        {"readyReplicas", 2},
        {"availableReplicas", 2},
        {"conditions",
         json::array({{{"type", "Available"},
                       {"status", "True"},
                       {"lastUpdateTime", "2026-11-20T10:01:00Z"},
                       {"lastTransitionTime", "2026-11-20T10:01:00Z"},
                       {"reason", "MinimumReplicasAvailable"},
                       {"message", "Deployment has minimum availability."}},
                      {{"type", "Progressing"},
                       {"status", "True"},
                       {"lastUpdateTime", "2026-11-20T10:01:00Z"},
                       {"lastTransitionTime", "2026-11-20T10:00:00Z"},
                       {"reason", "NewReplicaSetAvailable"},
                       {"message",
                        "ReplicaSet \"" + name + "-6d4cf56db6\" has successfully progressed."}}})}};
    json desired_fields = desired;
    desired_fields.erase("apiVersion");
    desired_fields.erase("kind");
    desired_fields["metadata"].erase("name");
    desired_fields["metadata"].erase("namespace");
    json managed = json::array(
        {{{"manager", "argocd-controller"},
          {"operation", "Apply"},
          {"apiVersion", "apps/v1"},
          {"time", "2026-11-20T10:00:00Z"},
          {"fieldsType", "FieldsV1"},
          {"fieldsV1", fields_v1_of(desired_fields)}},
         {{"manager", "kube-controller-manager"},
          {"operation", "Update"},
          {"apiVersion", "apps/v1"},
          {"time", "2026-11-20T10:01:00Z"},
          {"fieldsType", "FieldsV1"},
          {"fieldsV1",
           {{"f:metadata",
             {{"f:annotations",
               {{".", json::object()}, {"f:deployment.kubernetes.io/revision", json::object()}}}}},
            {"f:status", fields_v1_of(live["status"])}}},
          {"subresource", "status"}}});
    if (i % 10 == 0) {  // the planted drift, written by hand
      managed.push_back(
          {{"manager", "kubectl-edit"},
           {"operation", "Update"},
           {"apiVersion", "apps/v1"},
           {"time", "2026-11-21T08:30:00Z"},
           {"fieldsType", "FieldsV1"},
           {"fieldsV1",
            {{"f:spec",
              {{"f:template",
                {{"f:spec",
                  {{"f:containers",
                    {{"k:{\"name\":\"c0\"}",
                      {{"f:env",
                        {{"k:{\"name\":\"SETTING_5\"}", {{"f:value", json::object()}}},
                         {"k:{\"name\":\"DEBUG_PPROF\"}",
                          {{".", json::object()},
                           {"f:name", json::object()},
                           {"f:value", json::object()}}}}},
                       {"f:resources", {{"f:limits", {{"f:memory", json::object()}}}}},
                       {"f:securityContext",
                        {{"f:capabilities", {{"f:add", json::object()}}}}}}}}}}}}}}}}}});
    }
    live["metadata"]["managedFields"] = std::move(managed);
  }
}

}  // namespace plumbline::bench
