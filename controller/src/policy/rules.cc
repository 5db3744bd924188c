// Policy rules, checked per container of a pod template on the desired or the live state.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plumbline/core/mask.h"
#include "plumbline/core/object.h"
#include "plumbline/core/path.h"
#include "plumbline/core/quantity.h"
#include "plumbline/core/strings.h"
#include "plumbline/core/utf8.h"
#include "plumbline/core/workload.h"
#include "plumbline/policy/policy.h"
#include "policy/pod_security.h"

namespace plumbline {
namespace {

using Locate = std::function<SourceLocation(const std::string&)>;

std::string text_of(const json* v) {
  if (v == nullptr) return "";
  return v->is_string() ? v->get<std::string>() : to_json_text(*v);
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string listed(const std::vector<std::string>& list) {
  return list.empty() ? "none" : join(list, ", ");
}

// Literal env values (valueFrom references are not known from the manifest).
const json* env_entry(const json& container, std::string_view name) {
  const json* env = member_of(&container, "env");
  if (env == nullptr || !env->is_array()) return nullptr;
  for (const auto& e : *env) {
    const json* n = member_of(&e, "name");
    if (n != nullptr && n->is_string() && n->get_ref<const std::string&>() == name) return &e;
  }
  return nullptr;
}

// A Go memory limit: decimal bytes with an optional B/KiB/MiB/GiB/TiB suffix (runtime/debug).
std::optional<double> parse_go_bytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) return std::nullopt;
  double value = std::stod(std::string(text.substr(0, digits)));
  std::string_view suffix = text.substr(digits);
  const std::pair<std::string_view, double> units[] = {{"", 1},
                                                       {"B", 1},
                                                       {"KiB", 1024.0},
                                                       {"MiB", 1048576.0},
                                                       {"GiB", 1073741824.0},
                                                       {"TiB", 1099511627776.0}};
  for (const auto& [unit, factor] : units) {
    if (suffix == unit) return value * factor;
  }
  return std::nullopt;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", fraction * 100.0);
  return buf;
}

struct Container {
  const json* spec;
  std::string path;  // canonical path of the container element
  std::string name;
};

class Checker {
 public:
  Checker(const json& object, const Policy& policy, StateSide side, Locate locate)
      : ref_(ObjectRef::of(object)), policy_(policy), side_(side), locate_(std::move(locate)) {}

  std::vector<Violation> run(const json& object) {
    if (policy_.rules.replicas) replicas(object, *policy_.rules.replicas);
    auto pod = find_pod_spec(object);
    if (!pod) return std::move(out_);
    pod_ = pod->spec;
    pod_path_ = pod->path;
    for (const char* list : {"initContainers", "containers"}) {
      const json* items = member_of(pod_, list);
      if (items == nullptr || !items->is_array()) continue;
      for (const auto& c : *items) {
        if (!c.is_object()) continue;
        std::string name = text_of(member_of(&c, "name"));
        containers_.push_back({&c, path::keyed(path::field(pod_path_, list), "name", name), name});
      }
    }
    const PolicyRules& rules = policy_.rules;
    if (rules.require_limits) require_limits(*rules.require_limits);
    if (rules.qos_class) qos(*rules.qos_class);
    if (rules.gomaxprocs) gomaxprocs(*rules.gomaxprocs);
    if (rules.gomemlimit) gomemlimit(*rules.gomemlimit);
    if (rules.selinux) selinux(*rules.selinux);
    if (rules.capabilities) capabilities(*rules.capabilities);
    if (rules.sysctls) sysctls(*rules.sysctls);
    if (rules.env) env(*rules.env);
    if (rules.pod_security) pod_security(object, rules.pod_security->restricted);
    if (rules.host_network && !rules.host_network->allowed) host_network();
    if (rules.seccomp) seccomp(rules.seccomp->required);
    return std::move(out_);
  }

 private:
  void add(const char* rule, std::string path, std::string message) {
    Violation v{ref_, rule, std::move(path), std::move(message), side_, policy_.name, {}};
    if (side_ == StateSide::kDesired && locate_) v.source = locate_(v.path);
    out_.push_back(std::move(v));
  }

  static const json* resource(const Container& c, const char* kind, const char* name) {
    return member_of(member_of(member_of(c.spec, "resources"), kind), name);
  }

  void require_limits(const PolicyRules::RequireLimits& r) {
    for (const auto& c : containers_) {
      std::string limits = c.path + ".resources.limits";
      if (r.cpu && resource(c, "limits", "cpu") == nullptr) {
        add("requireLimits", limits + ".cpu", "container '" + c.name + "' has no CPU limit");
      }
      if (r.memory && resource(c, "limits", "memory") == nullptr) {
        add("requireLimits", limits + ".memory", "container '" + c.name + "' has no memory limit");
      }
    }
  }

  // Why a container is not Guaranteed, empty when it is. Kubernetes defaults an omitted
  // request to the limit, so only explicit requests can differ.
  static std::string not_guaranteed(const Container& c) {
    for (const char* res : {"cpu", "memory"}) {
      const json* limit = resource(c, "limits", res);
      if (limit == nullptr) return std::string("has no ") + res + " limit";
      const json* request = resource(c, "requests", res);
      if (request != nullptr && !quantities_equal(*request, *limit)) {
        return std::string(res) + " request " + text_of(request) + " differs from limit " +
               text_of(limit);
      }
    }
    return {};
  }

  static bool sets_any(const Container& c) {
    for (const char* kind : {"requests", "limits"}) {
      for (const char* res : {"cpu", "memory"}) {
        if (resource(c, kind, res) != nullptr) return true;
      }
    }
    return false;
  }

  void qos(const std::string& wanted) {
    if (containers_.empty()) return;
    if (wanted == "Guaranteed") {
      for (const auto& c : containers_) {
        std::string why = not_guaranteed(c);
        if (!why.empty()) {
          add("qosClass", c.path + ".resources",
              "container '" + c.name + "' is not Guaranteed: " + why);
        }
      }
      return;
    }
    bool best_effort = std::none_of(containers_.begin(), containers_.end(), sets_any);
    bool guaranteed = std::all_of(containers_.begin(), containers_.end(),
                                  [](const Container& c) { return not_guaranteed(c).empty(); });
    std::string actual = best_effort ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    if (actual != wanted) {
      add("qosClass", pod_path_, "QoS class is " + actual + ", policy requires " + wanted);
    }
  }

  // The literal value of an env var, masked when its name looks secret.
  static std::string shown(std::string_view name, const std::string& value) {
    return is_secret_name(name) || url_has_credentials(value) ? redact(value) : value;
  }

  void gomaxprocs(const PolicyRules::Gomaxprocs& r) {
    for (const auto& c : containers_) {
      const json* e = env_entry(*c.spec, "GOMAXPROCS");
      const json* value = member_of(e, "value");
      if (value == nullptr || !value->is_string()) continue;
      std::string path = path::keyed(c.path + ".env", "name", "GOMAXPROCS") + ".value";
      const std::string& text = value->get_ref<const std::string&>();
      const json* limit = resource(c, "limits", "cpu");
      if (limit == nullptr) continue;  // no quota: the Go runtime default is fine
      auto q = Quantity::from_json(*limit);
      if (!q) continue;
      char* end = nullptr;
      long procs = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || procs < 1) {
        add("gomaxprocs", path,
            "GOMAXPROCS=" + shown("GOMAXPROCS", text) + " is not a positive integer");
        continue;
      }
      double cpus = std::ceil(static_cast<double>(q->millis_ceil()) / 1000.0);
      if (static_cast<double>(procs) > cpus * r.max_over_cpu_limit) {
        add("gomaxprocs", path,
            "GOMAXPROCS=" + shown("GOMAXPROCS", text) + " exceeds the CPU limit " + text_of(limit));
      }
    }
  }

  void gomemlimit(const PolicyRules::Gomemlimit& r) {
    for (const auto& c : containers_) {
      const json* value = member_of(env_entry(*c.spec, "GOMEMLIMIT"), "value");
      if (value == nullptr || !value->is_string()) continue;
      const std::string& text = value->get_ref<const std::string&>();
      if (text == "off") continue;  // Go's way of saying "no soft limit"
      std::string path = path::keyed(c.path + ".env", "name", "GOMEMLIMIT") + ".value";
      const json* limit = resource(c, "limits", "memory");
      if (limit == nullptr) continue;
      auto q = Quantity::from_json(*limit);
      if (!q) continue;
      auto bytes = parse_go_bytes(text);
      if (!bytes) {
        add("gomemlimit", path,
            "GOMEMLIMIT=" + shown("GOMEMLIMIT", text) + " is not a valid Go memory limit");
        continue;
      }
      if (*bytes > q->to_double() * r.max_fraction_of_memory_limit) {
        add("gomemlimit", path,
            "GOMEMLIMIT=" + shown("GOMEMLIMIT", text) + " exceeds " +
                percent(r.max_fraction_of_memory_limit) + " of the memory limit " + text_of(limit));
      }
    }
  }

  void selinux_at(const json* context, const std::string& context_path,
                  const PolicyRules::Selinux& r) {
    const json* type = member_of(member_of(context, "seLinuxOptions"), "type");
    if (type == nullptr || !type->is_string()) return;
    if (contains(r.allowed_types, type->get_ref<const std::string&>())) return;
    add("selinux", context_path + ".seLinuxOptions.type",
        "SELinux type '" + type->get<std::string>() +
            "' is not allowed (allowed: " + listed(r.allowed_types) + ")");
  }

  void selinux(const PolicyRules::Selinux& r) {
    selinux_at(member_of(pod_, "securityContext"), pod_path_ + ".securityContext", r);
    for (const auto& c : containers_) {
      selinux_at(member_of(c.spec, "securityContext"), c.path + ".securityContext", r);
    }
  }

  void capabilities(const PolicyRules::Capabilities& r) {
    for (const auto& c : containers_) {
      std::string base = c.path + ".securityContext.capabilities";
      const json* caps = member_of(member_of(c.spec, "securityContext"), "capabilities");
      if (r.require_drop_all) {
        const json* drop = member_of(caps, "drop");
        bool all = drop != nullptr && drop->is_array() &&
                   std::any_of(drop->begin(), drop->end(),
                               [](const json& d) { return d.is_string() && d == "ALL"; });
        if (!all)
          add("capabilities", base + ".drop",
              "container '" + c.name + "' does not drop ALL capabilities");
      }
      const json* added = member_of(caps, "add");
      if (added == nullptr || !added->is_array()) continue;
      for (const auto& cap : *added) {
        std::string name = text_of(&cap);
        if (contains(r.allowed_add, name)) continue;
        add("capabilities", path::element(base + ".add", name),
            "container '" + c.name + "' adds capability " + name +
                " (allowed: " + listed(r.allowed_add) + ")");
      }
    }
  }

  void sysctls(const PolicyRules::Sysctls& r) {
    const json* list = member_of(member_of(pod_, "securityContext"), "sysctls");
    if (list == nullptr || !list->is_array()) return;
    for (const auto& s : *list) {
      std::string name = text_of(member_of(&s, "name"));
      if (contains(r.allowed, name)) continue;
      add("sysctls", path::keyed(pod_path_ + ".securityContext.sysctls", "name", name),
          "sysctl " + name + " is not allowed");
    }
  }

  void env(const PolicyRules::Env& r) {
    for (const auto& c : containers_) {
      std::string base = c.path + ".env";
      for (const auto& name : r.required) {
        if (env_entry(*c.spec, name) == nullptr) {
          add("env", path::keyed(base, "name", name),
              "container '" + c.name + "' does not set required env var " + name);
        }
      }
      for (const auto& name : r.forbidden) {
        if (env_entry(*c.spec, name) != nullptr) {
          add("env", path::keyed(base, "name", name),
              "container '" + c.name + "' sets forbidden env var " + name);
        }
      }
    }
  }

  // Workloads with a replica count; an omitted count is the API default, 1.
  void replicas(const json& object, const PolicyRules::Replicas& r) {
    static const std::vector<std::string> kScaled = {"Deployment", "StatefulSet", "ReplicaSet"};
    if (!contains(kScaled, ref_.kind)) return;
    const json* value = member_of(member_of(&object, "spec"), "replicas");
    long count = value != nullptr && value->is_number_integer() ? value->get<long>() : 1;
    if (count >= r.min) return;
    add("replicas", "spec.replicas",
        std::to_string(count) + (value == nullptr ? " replica (the default)" : " replicas") +
            ", policy requires at least " + std::to_string(r.min));
  }

  // The template's metadata sits beside its spec ("spec.template.spec" → "spec.template").
  void pod_security(const json& object, bool restricted) {
    std::string meta_path =
        pod_path_ == "spec" ? "metadata" : pod_path_.substr(0, pod_path_.rfind('.')) + ".metadata";
    const json* meta = &object;
    size_t start = 0;
    while (meta != nullptr && start <= meta_path.size()) {
      size_t dot = meta_path.find('.', start);
      if (dot == std::string::npos) dot = meta_path.size();
      meta = member_of(meta, meta_path.substr(start, dot - start).c_str());
      start = dot + 1;
    }
    const char* level = restricted ? "restricted" : "baseline";
    for (auto& f :
         policy_internal::pod_security_findings(*pod_, pod_path_, meta, meta_path, restricted)) {
      add("podSecurity", std::move(f.path), f.message + " [Pod Security Standard " + level + "]");
    }
  }

  void host_network() {
    if (const json* v = member_of(pod_, "hostNetwork"); v != nullptr && v->is_boolean() && *v) {
      add("hostNetwork", pod_path_ + ".hostNetwork",
          "the pod uses the node's network (hostNetwork: true); the policy does not allow it");
    }
  }

  // Every container runs with the required profile type: its own, else the pod's.
  void seccomp(const std::string& required) {
    std::string pod_type =
        text_of(member_of(member_of(member_of(pod_, "securityContext"), "seccompProfile"), "type"));
    for (const auto& c : containers_) {
      const json* own =
          member_of(member_of(member_of(c.spec, "securityContext"), "seccompProfile"), "type");
      std::string type = own != nullptr ? text_of(own) : pod_type;
      if (type == required) continue;
      std::string at = own != nullptr || pod_type.empty()
                           ? c.path + ".securityContext.seccompProfile.type"
                           : pod_path_ + ".securityContext.seccompProfile.type";
      add("seccomp", at,
          "container '" + c.name + "' runs with seccomp profile " +
              (type.empty() ? std::string("unset (Unconfined unless the kubelet defaults it)")
                            : type) +
              ", policy requires " + required);
    }
  }

  ObjectRef ref_;
  const Policy& policy_;
  StateSide side_;
  Locate locate_;
  const json* pod_ = nullptr;
  std::string pod_path_;
  std::vector<Container> containers_;
  std::vector<Violation> out_;
};

}  // namespace

std::vector<Violation> check_rules(const json& object, const Policy& policy, StateSide side,
                                   const SourceLocation& source) {
  Locate locate;
  if (source.known()) locate = [&source](const std::string&) { return source; };
  return Checker(object, policy, side, std::move(locate)).run(object);
}

std::vector<Violation> check_rules(const Manifest& manifest, const Policy& policy) {
  Locate locate = [&manifest](const std::string& p) { return manifest.locate(p); };
  return Checker(manifest.object, policy, StateSide::kDesired, std::move(locate))
      .run(manifest.object);
}

}  // namespace plumbline
