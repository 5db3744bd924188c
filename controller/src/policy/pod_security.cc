// The Pod Security Standards, field by field, as Pod Security admission ("latest") checks
// them; tests/integration/kube_pod_security_test.cc compares the verdict with a real
// apiserver's on every template it has.
#include "policy/pod_security.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "plumbline/core/object.h"
#include "plumbline/core/path.h"

namespace plumbline::policy_internal {
namespace {

bool is_true(const json* v) { return v != nullptr && v->is_boolean() && v->get<bool>(); }
bool is_false(const json* v) { return v != nullptr && v->is_boolean() && !v->get<bool>(); }

std::string text(const json* v) {
  if (v == nullptr) return "";
  return v->is_string() ? v->get<std::string>() : v->dump();
}

template <size_t N>
bool one_of(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

constexpr std::array<std::string_view, 13> kBaselineCapabilities = {
    "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};

constexpr std::array<std::string_view, 12> kSafeSysctls = {"kernel.shm_rmid_forced",
                                                           "net.ipv4.ip_local_port_range",
                                                           "net.ipv4.ip_unprivileged_port_start",
                                                           "net.ipv4.tcp_syncookies",
                                                           "net.ipv4.ping_group_range",
                                                           "net.ipv4.ip_local_reserved_ports",
                                                           "net.ipv4.tcp_keepalive_time",
                                                           "net.ipv4.tcp_fin_timeout",
                                                           "net.ipv4.tcp_keepalive_intvl",
                                                           "net.ipv4.tcp_keepalive_probes",
                                                           "net.ipv4.tcp_rmem",
                                                           "net.ipv4.tcp_wmem"};

constexpr std::array<std::string_view, 5> kSelinuxTypes = {"", "container_t", "container_init_t",
                                                           "container_kvm_t", "container_engine_t"};

constexpr std::array<std::string_view, 8> kRestrictedVolumes = {
    "configMap", "csi",   "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret"};

constexpr std::string_view kAppArmorAnnotation = "container.apparmor.security.beta.kubernetes.io/";

struct Container {
  const json* spec;
  std::string path;
  std::string name;
};

class PodSecurity {
 public:
  PodSecurity(const json& pod, const std::string& pod_path, const json* metadata,
              const std::string& metadata_path)
      : pod_(pod), pod_path_(pod_path), metadata_(metadata), metadata_path_(metadata_path) {
    for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
      const json* items = member_of(&pod_, list);
      if (items == nullptr || !items->is_array()) continue;
      for (const auto& c : *items) {
        if (!c.is_object()) continue;
        std::string name = text(member_of(&c, "name"));
        containers_.push_back({&c, path::keyed(path::field(pod_path_, list), "name", name), name});
      }
    }
    windows_ = text(member_of(member_of(&pod_, "os"), "name")) == "windows";
    user_namespace_ = is_false(member_of(&pod_, "hostUsers"));
  }

  std::vector<RuleFinding> run(bool restricted) {
    baseline();
    if (restricted) this->restricted();
    return std::move(out_);
  }

 private:
  void add(std::string path, std::string message) {
    out_.push_back({std::move(path), std::move(message)});
  }
  const json* pod_context() const { return member_of(&pod_, "securityContext"); }
  std::string pod_context_path() const { return pod_path_ + ".securityContext"; }
  static const json* context(const Container& c) { return member_of(c.spec, "securityContext"); }
  static std::string context_path(const Container& c) { return c.path + ".securityContext"; }
  static std::string who(const Container& c) { return "container '" + c.name + "'"; }

  // Each check once for the pod's security context and once per container's.
  template <typename F>
  void each_context(F&& check) {
    check(pod_context(), pod_context_path(), std::string("the pod"));
    for (const auto& c : containers_) check(context(c), context_path(c), who(c));
  }

  void baseline() {
    for (const char* field : {"hostNetwork", "hostPID", "hostIPC"}) {
      if (is_true(member_of(&pod_, field))) {
        add(pod_path_ + "." + field,
            std::string(field) + ": true shares a namespace of the node (baseline)");
      }
    }
    for (const auto& c : containers_) {
      if (is_true(member_of(context(c), "privileged"))) {
        add(context_path(c) + ".privileged", who(c) + " is privileged (baseline)");
      }
      const json* added = member_of(member_of(context(c), "capabilities"), "add");
      if (added != nullptr && added->is_array()) {
        for (const auto& cap : *added) {
          if (cap.is_string() && one_of(kBaselineCapabilities, cap.get<std::string>())) continue;
          add(path::element(context_path(c) + ".capabilities.add", text(&cap)),
              who(c) + " adds capability " + text(&cap) + " (baseline allows only the defaults)");
        }
      }
      const json* ports = member_of(c.spec, "ports");
      if (ports != nullptr && ports->is_array()) {
        for (const auto& port : *ports) {
          const json* host_port = member_of(&port, "hostPort");
          if (host_port == nullptr || (host_port->is_number() && host_port->get<double>() == 0))
            continue;
          const json* container_port = member_of(&port, "containerPort");
          std::string at = path::keyed(c.path + ".ports", "containerPort",
                                       container_port ? path::key_text(*container_port) : "");
          add(at + ".hostPort", who(c) + " uses hostPort " + text(host_port) + " (baseline)");
        }
      }
      // In a user namespace (hostUsers: false) an unmasked /proc exposes nothing of the node.
      std::string proc_mount = text(member_of(context(c), "procMount"));
      if (!proc_mount.empty() && proc_mount != "Default" && !user_namespace_) {
        add(context_path(c) + ".procMount",
            who(c) + " sets procMount " + proc_mount + " (baseline requires Default)");
      }
      probe_hosts(c);
    }
    const json* volumes = member_of(&pod_, "volumes");
    if (volumes != nullptr && volumes->is_array()) {
      for (const auto& v : *volumes) {
        if (member_of(&v, "hostPath") == nullptr) continue;
        add(path::keyed(pod_path_ + ".volumes", "name", text(member_of(&v, "name"))) + ".hostPath",
            "volume '" + text(member_of(&v, "name")) + "' is a hostPath (baseline)");
      }
    }
    each_context([&](const json* ctx, const std::string& at, const std::string& whom) {
      std::string apparmor = text(member_of(member_of(ctx, "appArmorProfile"), "type"));
      if (member_of(ctx, "appArmorProfile") != nullptr && apparmor != "RuntimeDefault" &&
          apparmor != "Localhost") {
        add(at + ".appArmorProfile.type",
            whom + " sets AppArmor profile " + apparmor + " (baseline)");
      }
      const json* selinux = member_of(ctx, "seLinuxOptions");
      if (std::string type = text(member_of(selinux, "type")); !one_of(kSelinuxTypes, type)) {
        add(at + ".seLinuxOptions.type", whom + " sets SELinux type " + type + " (baseline)");
      }
      for (const char* field : {"user", "role"}) {
        if (!text(member_of(selinux, field)).empty()) {
          add(at + ".seLinuxOptions." + field,
              whom + " sets an SELinux " + field + " (baseline forbids it)");
        }
      }
      if (text(member_of(member_of(ctx, "seccompProfile"), "type")) == "Unconfined") {
        add(at + ".seccompProfile.type", whom + " runs Unconfined by seccomp (baseline)");
      }
      if (is_true(member_of(member_of(ctx, "windowsOptions"), "hostProcess"))) {
        add(at + ".windowsOptions.hostProcess", whom + " is a Windows host process (baseline)");
      }
    });
    if (const json* annotations = member_of(metadata_, "annotations");
        annotations != nullptr && annotations->is_object()) {
      for (const auto& [key, value] : annotations->items()) {
        if (key.rfind(kAppArmorAnnotation, 0) != 0) continue;
        std::string profile = text(&value);
        if (profile.empty() || profile == "runtime/default" || profile.rfind("localhost/", 0) == 0)
          continue;
        add(path::field(path::field(metadata_path_, "annotations"), key),
            "annotation " + key + ": " + profile + " is a forbidden AppArmor profile (baseline)");
      }
    }
    const json* sysctls = member_of(pod_context(), "sysctls");
    if (sysctls != nullptr && sysctls->is_array()) {
      for (const auto& s : *sysctls) {
        std::string name = text(member_of(&s, "name"));
        if (one_of(kSafeSysctls, name)) continue;
        add(path::keyed(pod_context_path() + ".sysctls", "name", name),
            "sysctl " + name + " is not in the safe set (baseline)");
      }
    }
  }

  // Probes and lifecycle hooks must not reach another host (baseline since 1.34).
  void probe_hosts(const Container& c) {
    auto check = [&](const json* handler, const std::string& at) {
      for (const char* action : {"httpGet", "tcpSocket"}) {
        std::string host = text(member_of(member_of(handler, action), "host"));
        if (host.empty()) continue;
        add(at + "." + action + ".host",
            who(c) + " probes or hooks host " + host + " (baseline forbids a host)");
      }
    };
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      check(member_of(c.spec, probe), c.path + "." + probe);
    }
    for (const char* hook : {"postStart", "preStop"}) {
      check(member_of(member_of(c.spec, "lifecycle"), hook), c.path + ".lifecycle." + hook);
    }
  }

  void restricted() {
    const json* volumes = member_of(&pod_, "volumes");
    if (volumes != nullptr && volumes->is_array()) {
      for (const auto& v : *volumes) {
        if (!v.is_object()) continue;
        for (const auto& [key, value] : v.items()) {
          if (key == "name" || one_of(kRestrictedVolumes, key)) continue;
          add(path::keyed(pod_path_ + ".volumes", "name", text(member_of(&v, "name"))) + "." + key,
              "volume '" + text(member_of(&v, "name")) + "' is of type " + key +
                  " (restricted allows configMap, csi, downwardAPI, emptyDir, ephemeral, "
                  "persistentVolumeClaim, projected, secret)");
        }
      }
    }
    // In a user namespace root in the container is not root on the node: Pod Security
    // admission skips both run-as checks there.
    if (!user_namespace_) {
      run_as_non_root();
      each_context([&](const json* ctx, const std::string& at, const std::string& whom) {
        const json* user = member_of(ctx, "runAsUser");
        if (user != nullptr && user->is_number() && user->get<double>() == 0) {
          add(at + ".runAsUser", whom + " runs as user 0 (restricted)");
        }
      });
    }
    if (windows_) return;  // the rest does not apply to Windows pods
    std::string pod_seccomp = text(member_of(member_of(pod_context(), "seccompProfile"), "type"));
    bool pod_confined = pod_seccomp == "RuntimeDefault" || pod_seccomp == "Localhost";
    if (!pod_seccomp.empty() && !pod_confined && pod_seccomp != "Unconfined") {
      add(pod_context_path() + ".seccompProfile.type",
          "the pod sets seccomp profile " + pod_seccomp + " (restricted)");
    }
    for (const auto& c : containers_) {
      if (!is_false(member_of(context(c), "allowPrivilegeEscalation"))) {
        add(context_path(c) + ".allowPrivilegeEscalation",
            who(c) + " must set allowPrivilegeEscalation: false (restricted)");
      }
      std::string seccomp = text(member_of(member_of(context(c), "seccompProfile"), "type"));
      if (seccomp.empty() && !pod_confined) {
        add(context_path(c) + ".seccompProfile.type",
            who(c) +
                " has no seccomp profile: set RuntimeDefault or Localhost on the pod or the "
                "container (restricted)");
      } else if (!seccomp.empty() && seccomp != "RuntimeDefault" && seccomp != "Localhost" &&
                 seccomp != "Unconfined") {
        add(context_path(c) + ".seccompProfile.type",
            who(c) + " sets seccomp profile " + seccomp + " (restricted)");
      }
      const json* caps = member_of(context(c), "capabilities");
      const json* drop = member_of(caps, "drop");
      bool drops_all = drop != nullptr && drop->is_array() &&
                       std::any_of(drop->begin(), drop->end(),
                                   [](const json& d) { return d.is_string() && d == "ALL"; });
      if (!drops_all) {
        add(context_path(c) + ".capabilities.drop",
            who(c) + " must drop ALL capabilities (restricted)");
      }
      const json* added = member_of(caps, "add");
      if (added == nullptr || !added->is_array()) continue;
      for (const auto& cap : *added) {
        if (cap == "NET_BIND_SERVICE") continue;
        if (cap.is_string() && !one_of(kBaselineCapabilities, cap.get<std::string>())) continue;
        add(path::element(context_path(c) + ".capabilities.add", text(&cap)),
            who(c) + " adds capability " + text(&cap) +
                " (restricted allows only NET_BIND_SERVICE)");
      }
    }
  }

  // runAsNonRoot: true on the pod, or on every container; false anywhere is a violation.
  void run_as_non_root() {
    const json* pod_value = member_of(pod_context(), "runAsNonRoot");
    if (is_false(pod_value)) {
      add(pod_context_path() + ".runAsNonRoot", "the pod sets runAsNonRoot: false (restricted)");
    }
    bool pod_non_root = is_true(pod_value);
    for (const auto& c : containers_) {
      const json* value = member_of(context(c), "runAsNonRoot");
      if (is_false(value)) {
        add(context_path(c) + ".runAsNonRoot", who(c) + " sets runAsNonRoot: false (restricted)");
      } else if (value == nullptr && !pod_non_root) {
        add(context_path(c) + ".runAsNonRoot",
            who(c) +
                " must run as non-root: set runAsNonRoot: true on the pod or the container "
                "(restricted)");
      }
    }
  }

  const json& pod_;
  std::string pod_path_;
  const json* metadata_;
  std::string metadata_path_;
  bool windows_ = false;
  bool user_namespace_ = false;
  std::vector<Container> containers_;
  std::vector<RuleFinding> out_;
};

}  // namespace

std::vector<RuleFinding> pod_security_findings(const json& pod, const std::string& pod_path,
                                               const json* metadata,
                                               const std::string& metadata_path, bool restricted) {
  return PodSecurity(pod, pod_path, metadata, metadata_path).run(restricted);
}

}  // namespace plumbline::policy_internal
