// Settling names at the top level: generator hash suffixes, references from pod specs (and a
// few other well-known fields) to renamed objects, and kustomize's legacy output order.
#include <algorithm>
#include <map>
#include <string>

#include "render/kustomize.h"

namespace plumbline::renderer {
namespace {

using Renames = std::map<std::string, std::map<std::string, std::string>>;  // kind -> old -> new

void follow(json& holder, const char* field, const Renames& renames, const char* kind) {
  if (!holder.is_object()) return;
  auto it = holder.find(field);
  if (it == holder.end() || !it->is_string()) return;
  auto by_kind = renames.find(kind);
  if (by_kind == renames.end()) return;
  auto renamed = by_kind->second.find(it->get<std::string>());
  if (renamed != by_kind->second.end()) *it = renamed->second;
}

json* child(json& node, const char* key) {
  if (!node.is_object()) return nullptr;
  auto it = node.find(key);
  return it == node.end() ? nullptr : &*it;
}

void update_containers(json* containers, const Renames& renames) {
  if (!containers || !containers->is_array()) return;
  for (auto& container : *containers) {
    if (json* env = child(container, "env"); env && env->is_array()) {
      for (auto& var : *env) {
        json* from = child(var, "valueFrom");
        if (!from) continue;
        if (json* ref = child(*from, "configMapKeyRef")) follow(*ref, "name", renames, "ConfigMap");
        if (json* ref = child(*from, "secretKeyRef")) follow(*ref, "name", renames, "Secret");
      }
    }
    if (json* env_from = child(container, "envFrom"); env_from && env_from->is_array()) {
      for (auto& source : *env_from) {
        if (json* ref = child(source, "configMapRef")) follow(*ref, "name", renames, "ConfigMap");
        if (json* ref = child(source, "secretRef")) follow(*ref, "name", renames, "Secret");
      }
    }
  }
}

void update_pod_spec(json* spec, const Renames& renames) {
  if (!spec || !spec->is_object()) return;
  for (const char* key : {"containers", "initContainers", "ephemeralContainers"}) {
    update_containers(child(*spec, key), renames);
  }
  follow(*spec, "serviceAccountName", renames, "ServiceAccount");
  if (json* secrets = child(*spec, "imagePullSecrets"); secrets && secrets->is_array()) {
    for (auto& secret : *secrets) follow(secret, "name", renames, "Secret");
  }
  if (json* volumes = child(*spec, "volumes"); volumes && volumes->is_array()) {
    for (auto& volume : *volumes) {
      if (json* cm = child(volume, "configMap")) follow(*cm, "name", renames, "ConfigMap");
      if (json* secret = child(volume, "secret")) follow(*secret, "secretName", renames, "Secret");
      if (json* pvc = child(volume, "persistentVolumeClaim")) {
        follow(*pvc, "claimName", renames, "PersistentVolumeClaim");
      }
      json* projected = child(volume, "projected");
      json* sources = projected ? child(*projected, "sources") : nullptr;
      if (!sources || !sources->is_array()) continue;
      for (auto& source : *sources) {
        if (json* cm = child(source, "configMap")) follow(*cm, "name", renames, "ConfigMap");
        if (json* secret = child(source, "secret")) follow(*secret, "name", renames, "Secret");
      }
    }
  }
}

// An Ingress names Services in its backends and Secrets in its TLS entries.
void update_ingress(json& object, const Renames& renames) {
  json* spec = child(object, "spec");
  if (!spec) return;
  auto backend = [&](json* holder) {
    if (!holder) return;
    if (json* service = child(*holder, "service")) follow(*service, "name", renames, "Service");
    follow(*holder, "serviceName", renames, "Service");
  };
  backend(child(*spec, "defaultBackend"));
  backend(child(*spec, "backend"));
  if (json* tls = child(*spec, "tls"); tls && tls->is_array()) {
    for (auto& entry : *tls) follow(entry, "secretName", renames, "Secret");
  }
  json* rules = child(*spec, "rules");
  if (!rules || !rules->is_array()) return;
  for (auto& rule : *rules) {
    json* http = child(rule, "http");
    json* paths = http ? child(*http, "paths") : nullptr;
    if (!paths || !paths->is_array()) continue;
    for (auto& path : *paths) backend(child(path, "backend"));
  }
}

// kustomize writes every object's annotations back as strings when it drops its own build
// annotations at the end, so `version: 2.4` set by a replacement comes out as "2.4".
void stringify_annotations(json& object) {
  json* meta = child(object, "metadata");
  json* annotations = meta ? child(*meta, "annotations") : nullptr;
  if (!annotations || !annotations->is_object()) return;
  for (auto& [key, value] : annotations->items()) {
    if (value.is_string()) continue;
    value = value.is_null() || value.is_structured() ? std::string{} : value.dump();
  }
}

json* pod_spec(json& object) {
  std::string kind = kind_of(object);
  json* spec = child(object, "spec");
  if (!spec) return nullptr;
  if (kind == "Pod") return spec;
  if (kind == "CronJob") {
    json* job = child(*spec, "jobTemplate");
    json* job_spec = job ? child(*job, "spec") : nullptr;
    json* tmpl = job_spec ? child(*job_spec, "template") : nullptr;
    return tmpl ? child(*tmpl, "spec") : nullptr;
  }
  json* tmpl = child(*spec, "template");
  return tmpl ? child(*tmpl, "spec") : nullptr;
}

// kustomize's legacy order: these kinds first, in this order; webhooks last; the rest by
// kind in between; ties by group/version/kind, namespace, name.
int kind_rank(const std::string& kind) {
  static const char* kFirst[] = {"Namespace",
                                 "ResourceQuota",
                                 "StorageClass",
                                 "CustomResourceDefinition",
                                 "ServiceAccount",
                                 "PodSecurityPolicy",
                                 "Role",
                                 "ClusterRole",
                                 "RoleBinding",
                                 "ClusterRoleBinding",
                                 "ConfigMap",
                                 "Secret",
                                 "Endpoints",
                                 "Service",
                                 "LimitRange",
                                 "PriorityClass",
                                 "PersistentVolume",
                                 "PersistentVolumeClaim",
                                 "Deployment",
                                 "StatefulSet",
                                 "CronJob",
                                 "PodDisruptionBudget"};
  constexpr int kCount = sizeof(kFirst) / sizeof(kFirst[0]);
  for (int i = 0; i < kCount; ++i) {
    if (kind == kFirst[i]) return i;
  }
  if (kind == "MutatingWebhookConfiguration") return kCount + 2;
  if (kind == "ValidatingWebhookConfiguration") return kCount + 3;
  return kCount + 1;
}

std::string gvk_key(const json& object) {
  std::string api_version = object.contains("apiVersion") && object["apiVersion"].is_string()
                                ? object["apiVersion"].get<std::string>()
                                : "";
  std::string group = api_group(api_version);
  std::string version = api_version.substr(
      api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
  return group + "_" + version + "_" + kind_of(object);
}

}  // namespace

void finalize(Resources& resources) {
  for (auto& resource : resources) {
    if (!resource.hash_suffix) continue;
    rename(resource,
           name_of(resource.manifest.object) + "-" + generator_hash(resource.manifest.object));
  }
  Renames renames;
  for (const auto& resource : resources) {
    const std::string kind = kind_of(resource.manifest.object);
    const std::string final_name = name_of(resource.manifest.object);
    for (const auto& old : resource.names) {
      if (old != final_name) renames[kind].emplace(old, final_name);
    }
  }
  for (auto& resource : resources) {
    json& object = resource.manifest.object;
    update_pod_spec(pod_spec(object), renames);
    stringify_annotations(object);
    if (kind_of(object) == "Ingress") update_ingress(object, renames);
    if (kind_of(object) == "StatefulSet") {
      if (json* spec = child(object, "spec")) follow(*spec, "serviceName", renames, "Service");
    }
    if (kind_of(object) == "RoleBinding" || kind_of(object) == "ClusterRoleBinding") {
      if (json* subjects = child(object, "subjects"); subjects && subjects->is_array()) {
        for (auto& subject : *subjects) {
          if (subject.is_object() && subject.value("kind", json("")) == "ServiceAccount") {
            follow(subject, "name", renames, "ServiceAccount");
          }
        }
      }
      if (json* role = child(object, "roleRef"); role && role->is_object()) {
        std::string kind = role->value("kind", json("")).is_string() ? role->value("kind", "") : "";
        if (kind == "Role") follow(*role, "name", renames, "Role");
        if (kind == "ClusterRole") follow(*role, "name", renames, "ClusterRole");
      }
    }
  }
  std::stable_sort(resources.begin(), resources.end(), [](const Resource& a, const Resource& b) {
    const json& x = a.manifest.object;
    const json& y = b.manifest.object;
    int rx = kind_rank(kind_of(x)), ry = kind_rank(kind_of(y));
    if (rx != ry) return rx < ry;
    std::string gx = gvk_key(x), gy = gvk_key(y);
    if (gx != gy) return gx < gy;
    if (namespace_of(x) != namespace_of(y)) return namespace_of(x) < namespace_of(y);
    return name_of(x) < name_of(y);
  });
}

}  // namespace plumbline::renderer
