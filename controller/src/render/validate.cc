#include "render/validate.h"

#include "plumbline/core/path.h"
#include "plumbline/core/workload.h"

namespace plumbline::renderer {
namespace {

// The API server rejects these shapes; catching them here names the file and line instead of
// reporting a drift against an object that could never have been applied.
Status check_containers(const Manifest& m, const json& pod, const std::string& pod_path) {
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    auto containers = pod.find(list);
    if (containers == pod.end() || containers->is_null()) continue;
    std::string list_path = path::field(pod_path, list);
    auto fail = [&](const std::string& field_path, const std::string& message) {
      return invalid_input(m.ref().to_string() + ": " + field_path + " " + message,
                           m.locate(field_path).to_string());
    };
    if (!containers->is_array()) return fail(list_path, "must be a list");
    for (const auto& c : *containers) {
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) {
        return fail(list_path, "has an element without a string name");
      }
      auto env = c.find("env");
      if (env == c.end() || env->is_null()) continue;
      // Paths are spelled only for a message: this runs on every container of every render.
      auto env_path = [&] {
        return path::field(path::keyed(list_path, "name", c["name"].get<std::string>()), "env");
      };
      if (!env->is_array()) return fail(env_path(), "must be a list");
      for (const auto& var : *env) {
        if (!var.is_object() || !var.contains("name") || !var["name"].is_string()) {
          return fail(env_path(), "has an element without a string name");
        }
        auto value = var.find("value");
        if (value != var.end() && !value->is_string() && !value->is_null()) {
          std::string v_path =
              path::field(path::keyed(env_path(), "name", var["name"].get<std::string>()), "value");
          // The value itself is never echoed: it may be a password (DB_PASSWORD: 84629173).
          return fail(v_path, std::string("must be a string, got a ") + value->type_name() +
                                  " (quote it in YAML)");
        }
      }
    }
  }
  return {};
}

}  // namespace

Status validate_desired(const ManifestSet& objects) {
  for (const auto& m : objects) {
    PL_RETURN_IF_ERROR(validate_identity(m.object, m.origin));
    if (auto pod = find_pod_spec(m.object))
      PL_RETURN_IF_ERROR(check_containers(m, *pod->spec, pod->path));
  }
  return {};
}

}  // namespace plumbline::renderer
