#include "plumbline/core/mask.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <optional>
#include <type_traits>

#include "plumbline/core/digest.h"
#include "plumbline/core/strings.h"
#include "plumbline/core/utf8.h"
#include "plumbline/core/workload.h"

namespace plumbline {
namespace {

// A secret-looking name, or a value holding a URL with credentials whatever the name.
bool is_secret_value(const json& name, const json& value, const MaskOptions& options) {
  if (name.is_string() && is_secret_name(name.get_ref<const std::string&>(), options)) return true;
  return value.is_string() && url_has_credentials(value.get_ref<const std::string&>());
}

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// The one home of what mask_object hides: calls `secret(value)` for each value it redacts
// (Secret data, secret env values) and `last_applied(annotations)` when the annotation
// kubectl apply keeps (a full copy of the object) is there. `Json` is json or const json.
template <typename Json, typename Secret, typename LastApplied>
void for_each_masked(Json& object, const MaskOptions& options, const Secret& secret,
                     const LastApplied& last_applied) {
  if (!object.is_object()) return;
  if (object.value("kind", "") == "Secret") {
    for (const char* field : {"data", "stringData"}) {
      auto data = object.find(field);
      if (data == object.end() || !data->is_object()) continue;
      for (auto& [key, value] : data->items()) {
        if (!value.is_null()) secret(value);  // null stays null
      }
    }
  }
  auto metadata = object.find("metadata");
  if (metadata != object.end() && metadata->is_object()) {
    auto annotations = metadata->find("annotations");
    if (annotations != metadata->end() && annotations->is_object() &&
        annotations->contains(kLastApplied)) {
      last_applied(*annotations);
    }
  }
  Json* pod = nullptr;
  if constexpr (std::is_const_v<Json>) {
    std::optional<PodSpecRef> found = find_pod_spec(object);
    if (found) pod = found->spec;
  } else {
    pod = find_pod_spec_mut(object);
  }
  if (pod == nullptr) return;
  Json& spec = *pod;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    auto containers = spec.find(list);
    if (containers == spec.end() || !containers->is_array()) continue;
    for (auto& container : *containers) {
      if (!container.is_object()) continue;
      auto env = container.find("env");
      if (env == container.end() || !env->is_array()) continue;
      for (auto& var : *env) {
        if (!var.is_object() || !var.contains("name") || !var["name"].is_string()) continue;
        auto value = var.find("value");
        if (value != var.end() && !value->is_null() &&
            is_secret_value(var["name"], *value, options)) {
          secret(*value);
        }
      }
    }
  }
}

}  // namespace

bool is_secret_name(std::string_view name, const MaskOptions& options) {
  return std::any_of(
      options.secret_name_patterns.begin(), options.secret_name_patterns.end(),
      [&](const std::string& pattern) { return contains_ignoring_case(name, pattern); });
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
  for_each_masked(
      out, options, [](json& secret) { secret = redact_value(secret); },
      [](json& annotations) { annotations.erase(std::string(kLastApplied)); });
  return out;
}

bool holds_masked_value(const json& object, const MaskOptions& options) {
  bool holds = false;
  auto found = [&](const json&) { holds = true; };
  for_each_masked(object, options, found, found);
  return holds;
}

}  // namespace plumbline
