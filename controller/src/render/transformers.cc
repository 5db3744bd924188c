// The builtin transformers of a layer: namespace, namePrefix/nameSuffix, labels and
// commonLabels (with selectors and templates), commonAnnotations, replicas, images.
#include <set>
#include <string>
#include <vector>

#include "render/kustomize.h"
#include "render/origins.h"

namespace plumbline::renderer {
namespace {

// Kinds kustomize treats as cluster-scoped (no namespace set) or never renames.
bool cluster_scoped(const std::string& kind) {
  static const std::set<std::string> kKinds = {"Namespace",
                                               "ClusterRole",
                                               "ClusterRoleBinding",
                                               "CustomResourceDefinition",
                                               "PersistentVolume",
                                               "StorageClass",
                                               "PriorityClass",
                                               "APIService",
                                               "MutatingWebhookConfiguration",
                                               "ValidatingWebhookConfiguration",
                                               "CSIDriver",
                                               "CSINode",
                                               "IngressClass",
                                               "RuntimeClass",
                                               "Node",
                                               "PodSecurityPolicy",
                                               "ComponentStatus",
                                               "VolumeAttachment",
                                               "ClusterIssuer"};
  return kKinds.count(kind) > 0;
}

// The object at a '/'-separated path; created (as a mapping) when `create`, else null.
json* at_path(json& object, const std::vector<std::string>& path, bool create) {
  json* node = &object;
  for (const auto& key : path) {
    if (!node->is_object()) {
      if (!create || !node->is_null()) return nullptr;
      *node = json::object();
    }
    auto it = node->find(key);
    if (it == node->end()) {
      if (!create) return nullptr;
      node = &(*node)[key];
      *node = json::object();
    } else {
      node = &*it;
    }
  }
  if (node->is_null() && create) *node = json::object();
  return node->is_object() ? node : nullptr;
}

void put_all(json* target, const json& values) {
  if (!target) return;
  for (const auto& [key, value] : values.items()) (*target)[key] = value;
}

struct FieldSpec {
  std::vector<std::string> path;
  bool create;
};

// Where labels go beyond metadata.labels, per kind (the fieldspecs kustomize documents).
std::vector<FieldSpec> selector_specs(const std::string& kind) {
  if (kind == "Service" || kind == "ReplicationController") return {{{"spec", "selector"}, true}};
  if (kind == "Deployment" || kind == "ReplicaSet" || kind == "DaemonSet" ||
      kind == "StatefulSet") {
    return {{{"spec", "selector", "matchLabels"}, true}};
  }
  if (kind == "Job") return {{{"spec", "selector", "matchLabels"}, false}};
  if (kind == "CronJob")
    return {{{"spec", "jobTemplate", "spec", "selector", "matchLabels"}, false}};
  if (kind == "PodDisruptionBudget") return {{{"spec", "selector", "matchLabels"}, false}};
  if (kind == "NetworkPolicy") return {{{"spec", "podSelector", "matchLabels"}, false}};
  return {};
}

std::vector<FieldSpec> template_specs(const std::string& kind, const char* field) {
  if (kind == "ReplicationController" || kind == "Deployment" || kind == "ReplicaSet" ||
      kind == "DaemonSet" || kind == "StatefulSet" || kind == "Job") {
    return {{{"spec", "template", "metadata", field}, true}};
  }
  if (kind == "CronJob") {
    return {{{"spec", "jobTemplate", "metadata", field}, true},
            {{"spec", "jobTemplate", "spec", "template", "metadata", field}, true}};
  }
  return {};
}

Result<json> string_map(const json& value, const std::string& field, const Layer& layer) {
  if (value.is_null()) return json::object();
  if (!value.is_object()) return invalid_input(field + ": must be a mapping", layer.file);
  json out = json::object();
  for (const auto& [key, item] : value.items()) {
    if (item.is_string()) {
      out[key] = item;
    } else if (item.is_number() || item.is_boolean()) {
      out[key] = item.dump();
    } else {
      return invalid_input(field + "." + key + ": must be a string", layer.file);
    }
  }
  return out;
}

void add_labels(json& object, const json& labels, bool selectors, bool templates) {
  if (labels.empty()) return;
  std::string kind = kind_of(object);
  put_all(at_path(object, {"metadata", "labels"}, true), labels);
  if (selectors) {
    for (const auto& spec : selector_specs(kind))
      put_all(at_path(object, spec.path, spec.create), labels);
    if (kind == "StatefulSet") {
      auto spec = object.find("spec");
      if (spec != object.end() && spec->is_object()) {
        auto claims = spec->find("volumeClaimTemplates");
        if (claims != spec->end() && claims->is_array()) {
          for (auto& claim : *claims) {
            if (claim.is_object()) put_all(at_path(claim, {"metadata", "labels"}, true), labels);
          }
        }
      }
    }
  }
  if (templates) {
    for (const auto& spec : template_specs(kind, "labels")) {
      put_all(at_path(object, spec.path, spec.create), labels);
    }
  }
}

bool is_true(const json& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && it->is_boolean() && it->get<bool>();
}

// Image references: "name[:tag][@digest]"; the tag colon comes after the last '/'.
struct ImageRef {
  std::string name, tag, digest;
};

ImageRef parse_image(const std::string& image) {
  ImageRef ref;
  std::string rest = image;
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  ref.name = rest;
  return ref;
}

void update_images(json& node, const std::vector<json>& images, int depth) {
  if (depth > 64) return;
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if ((key == "containers" || key == "initContainers" || key == "ephemeralContainers") &&
          value.is_array()) {
        for (auto& container : value) {
          if (!container.is_object()) continue;
          auto image = container.find("image");
          if (image == container.end() || !image->is_string()) continue;
          ImageRef ref = parse_image(image->get<std::string>());
          for (const auto& rule : images) {
            if (rule.value("name", "") != ref.name) continue;
            std::string name = rule.value("newName", ref.name);
            std::string text = name;
            if (rule.contains("digest")) {
              text += "@" + rule.value("digest", "");
            } else if (rule.contains("newTag")) {
              text += ":" + rule.value("newTag", "");
            } else {
              if (!ref.tag.empty()) text += ":" + ref.tag;
              if (!ref.digest.empty()) text += "@" + ref.digest;
            }
            *image = text;
            break;
          }
        }
      }
      update_images(value, images, depth + 1);
    }
  } else if (node.is_array()) {
    for (auto& item : node) update_images(item, images, depth + 1);
  }
}

bool has_name(const Resource& resource, const std::string& name) {
  for (const auto& seen : resource.names) {
    if (seen == name) return true;
  }
  return false;
}

}  // namespace

Status apply_metadata_transformers(const Layer& layer, Resources& resources) {
  const json& spec = layer.spec;
  std::string ns = spec.value("namespace", json("")).is_string() ? spec.value("namespace", "") : "";
  if (!ns.empty()) {
    for (auto& resource : resources) {
      json& object = resource.manifest.object;
      std::string kind = kind_of(object);
      if (cluster_scoped(kind)) continue;
      object["metadata"]["namespace"] = ns;
      remember_id(resource);
      // Bindings to the "default" ServiceAccount follow the namespace, as in kustomize.
      if ((kind == "RoleBinding" || kind == "ClusterRoleBinding") && object.contains("subjects") &&
          object["subjects"].is_array()) {
        for (auto& subject : object["subjects"]) {
          if (subject.is_object() && subject.value("kind", json("")) == "ServiceAccount" &&
              subject.value("name", json("")) == "default") {
            subject["namespace"] = ns;
          }
        }
      }
    }
  }
  std::string prefix =
      spec.value("namePrefix", json("")).is_string() ? spec.value("namePrefix", "") : "";
  std::string suffix =
      spec.value("nameSuffix", json("")).is_string() ? spec.value("nameSuffix", "") : "";
  if (!prefix.empty() || !suffix.empty()) {
    for (auto& resource : resources) {
      std::string kind = kind_of(resource.manifest.object);
      if (kind == "Namespace" || kind == "CustomResourceDefinition" || kind == "APIService")
        continue;
      rename(resource, prefix + name_of(resource.manifest.object) + suffix);
    }
  }
  // labels (with their own selector/template switches), then commonLabels (everywhere).
  if (auto labels = spec.find("labels"); labels != spec.end() && labels->is_array()) {
    for (size_t i = 0; i < labels->size(); ++i) {
      const json& entry = (*labels)[i];
      std::string at = "labels[" + std::to_string(i) + "]";
      if (!entry.is_object()) return invalid_input(at + ": must be a mapping", layer.file);
      PL_ASSIGN_OR_RETURN(json pairs,
                          string_map(entry.value("pairs", json()), at + ".pairs", layer));
      bool selectors = is_true(entry, "includeSelectors");
      bool templates = selectors || is_true(entry, "includeTemplates");
      for (auto& resource : resources)
        add_labels(resource.manifest.object, pairs, selectors, templates);
    }
  }
  PL_ASSIGN_OR_RETURN(json common,
                      string_map(spec.value("commonLabels", json()), "commonLabels", layer));
  for (auto& resource : resources) add_labels(resource.manifest.object, common, true, true);
  PL_ASSIGN_OR_RETURN(json annotations, string_map(spec.value("commonAnnotations", json()),
                                                   "commonAnnotations", layer));
  if (!annotations.empty()) {
    for (auto& resource : resources) {
      json& object = resource.manifest.object;
      put_all(at_path(object, {"metadata", "annotations"}, true), annotations);
      for (const auto& field : template_specs(kind_of(object), "annotations")) {
        put_all(at_path(object, field.path, field.create), annotations);
      }
    }
  }
  return {};
}

Status apply_replicas_and_images(const Layer& layer, Resources& resources) {
  const json& spec = layer.spec;
  if (auto replicas = spec.find("replicas"); replicas != spec.end() && replicas->is_array()) {
    for (size_t i = 0; i < replicas->size(); ++i) {
      const json& entry = (*replicas)[i];
      std::string at = "replicas[" + std::to_string(i) + "]";
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
        return invalid_input(at + ": needs a name", layer.file);
      }
      auto count = entry.find("count");
      if (count == entry.end() || !count->is_number_integer()) {
        return invalid_input(at + ".count: must be an integer", layer.file);
      }
      std::string name = entry["name"].get<std::string>();
      for (auto& resource : resources) {
        if (!has_name(resource, name)) continue;
        json& object = resource.manifest.object;
        std::string kind = kind_of(object);
        if (kind != "Deployment" && kind != "ReplicaSet" && kind != "StatefulSet" &&
            kind != "ReplicationController" &&
            !(object.contains("spec") && object["spec"].is_object() &&
              object["spec"].contains("replicas"))) {
          continue;
        }
        if (object.contains("spec") && !object["spec"].is_object()) continue;
        object["spec"]["replicas"] = *count;
        record_write(resource.manifest, "spec.replicas", layer.at(at + ".count"));
      }
    }
  }
  if (auto images = spec.find("images"); images != spec.end() && images->is_array()) {
    std::vector<json> rules;
    for (size_t i = 0; i < images->size(); ++i) {
      const json& entry = (*images)[i];
      std::string at = "images[" + std::to_string(i) + "]";
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
        return invalid_input(at + ": needs a name", layer.file);
      }
      json rule = {{"name", entry["name"]}};
      for (const char* key : {"newName", "newTag", "digest"}) {
        auto it = entry.find(key);
        if (it == entry.end() || it->is_null()) continue;
        if (it->is_number()) {
          rule[key] = it->dump();
        } else if (it->is_string()) {
          rule[key] = *it;
        } else {
          return invalid_input(at + "." + key + ": must be a string", layer.file);
        }
      }
      rules.push_back(std::move(rule));
    }
    SourceLocation site = layer.at(rules.size() == 1 ? "images[0]" : "images");
    for (auto& resource : resources) {
      json before = resource.manifest.object;
      update_images(resource.manifest.object, rules, 0);
      if (before != resource.manifest.object) record_writes(resource.manifest, before, site);
    }
  }
  return {};
}

}  // namespace plumbline::renderer
