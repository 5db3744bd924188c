#include "plumbline/core/mask.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include "plumbline/core/digest.h"
#include "plumbline/core/utf8.h"
#include "plumbline/core/workload.h"

namespace plumbline {
namespace {

// A secret-looking name, or a value holding a URL with credentials whatever the name.
bool is_secret_value(const json& name, const json& value, const MaskOptions& options) {
  if (name.is_string() && is_secret_name(name.get_ref<const std::string&>(), options)) return true;
  return value.is_string() && url_has_credentials(value.get_ref<const std::string&>());
}

void mask_containers(json& pod, const MaskOptions& options) {
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    auto containers = pod.find(list);
    if (containers == pod.end() || !containers->is_array()) continue;
    for (auto& container : *containers) {
      if (!container.is_object()) continue;
      auto env = container.find("env");
      if (env == container.end() || !env->is_array()) continue;
      for (auto& var : *env) {
        if (!var.is_object() || !var.contains("name") || !var["name"].is_string()) continue;
        if (var.contains("value") && is_secret_value(var["name"], var["value"], options)) {
          var["value"] = redact_value(var["value"]);
        }
      }
    }
  }
}

}  // namespace

bool is_secret_name(std::string_view name, const MaskOptions& options) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& pattern : options.secret_name_patterns) {
    std::string p = pattern;
    std::transform(p.begin(), p.end(), p.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!p.empty() && upper.find(p) != std::string::npos) return true;
  }
  return false;
}

std::string redact(std::string_view value) {
  return "<redacted sha256:" + sha256_hex(value, 8) + ">";
}

json redact_value(const json& value) {
  if (value.is_null()) return value;
  return redact(value.is_string() ? value.get_ref<const std::string&>() : to_json_text(value));
}

json mask_object(const json& object, const MaskOptions& options) {
  json out = object;
  if (!out.is_object()) return out;
  if (out.value("kind", "") == "Secret") {
    for (const char* field : {"data", "stringData"}) {
      auto data = out.find(field);
      if (data == out.end() || !data->is_object()) continue;
      for (auto& [key, value] : data->items()) value = redact_value(value);
    }
  }
  // kubectl apply keeps a full copy of the object (secret values included) here.
  if (out.contains("metadata") && out["metadata"].is_object() &&
      out["metadata"].contains("annotations") && out["metadata"]["annotations"].is_object()) {
    out["metadata"]["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
  }
  if (json* pod = find_pod_spec_mut(out)) mask_containers(*pod, options);
  return out;
}

}  // namespace plumbline
