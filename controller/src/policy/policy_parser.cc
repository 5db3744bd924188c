// ConsistencyPolicy parsing: strict, so a typo in a policy is an error rather than a rule that
// silently does nothing. Every error names file:line:column and the field path.
#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/path.h"
#include "plumbline/core/yaml.h"
#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

constexpr std::string_view kApiVersion = "plumbline.dev/v1alpha1";
constexpr std::string_view kKind = "ConsistencyPolicy";

// Where the fields of one document are; turns a JSON pointer into "file:line:col".
class Locator {
 public:
  Locator(const json& doc, SourceLocation origin, const FieldOrigins* fields,
          const std::vector<std::string_view>* lines)
      : doc_(doc), origin_(std::move(origin)), fields_(fields), lines_(lines) {}

  // The position of `key` inside the mapping at `parent` (or of the node at `parent` when
  // key is empty). yaml-cpp records the line of a value, and a block value starts below its
  // key, so the key's own line is searched for upwards from there.
  std::string where(const json::json_pointer& parent, std::string_view key = {}) const {
    SourceLocation at = origin_;
    if (fields_ != nullptr) {
      json::json_pointer target = key.empty() ? parent : parent / std::string(key);
      std::string canonical = path::from_pointer(doc_, target);
      if (auto found = fields_->find(canonical)) at = *std::move(found);
      if (!key.empty() && lines_ != nullptr && at.line > 0) locate_key(at, key);
    }
    return at.to_string();
  }

 private:
  void locate_key(SourceLocation& at, std::string_view key) const {
    for (int line = at.line; line >= 1 && line > at.line - 50; --line) {
      if (static_cast<size_t>(line) > lines_->size()) continue;
      std::string_view text = (*lines_)[static_cast<size_t>(line) - 1];
      for (std::string quote : {"", "\"", "'"}) {
        std::string needle = quote + std::string(key) + quote;
        size_t pos = text.find(needle);
        while (pos != std::string_view::npos) {
          size_t end = pos + needle.size();
          while (end < text.size() && text[end] == ' ') ++end;
          bool starts_token = pos == 0 || std::string_view(" \t{,-\"'").find(text[pos - 1]) !=
                                              std::string_view::npos;
          if (starts_token && end < text.size() && text[end] == ':') {
            at.line = line;
            at.column = static_cast<int>(pos) + 1;
            return;
          }
          pos = text.find(needle, pos + 1);
        }
      }
    }
  }

  const json& doc_;
  SourceLocation origin_;
  const FieldOrigins* fields_;
  const std::vector<std::string_view>* lines_;
};

std::string display(const json& doc, const json::json_pointer& ptr) {
  std::string p = path::from_pointer(doc, ptr);
  return p.empty() ? "the document" : p;
}

class Parser {
 public:
  Parser(const json& doc, const Locator& locator) : doc_(doc), loc_(locator) {}

  Result<Policy> parse() {
    json::json_pointer root;
    if (!doc_.is_object()) return fail(root, {}, "a ConsistencyPolicy must be a mapping");
    PL_RETURN_IF_ERROR(only(root, {"apiVersion", "kind", "metadata", "spec", "status"}));
    PL_ASSIGN_OR_RETURN(std::string api, required_string(root, "apiVersion"));
    if (api != kApiVersion) {
      return fail(root, "apiVersion",
                  "apiVersion must be " + std::string(kApiVersion) + " (got '" + api + "')");
    }
    PL_ASSIGN_OR_RETURN(std::string kind, required_string(root, "kind"));
    if (kind != kKind) {
      return fail(root, "kind", "kind must be " + std::string(kKind) + " (got '" + kind + "')");
    }
    Policy policy;
    json::json_pointer meta = root / "metadata";
    if (!doc_.contains("metadata") || !doc_.at("metadata").is_object()) {
      return fail(root, {}, "metadata.name is required");
    }
    // metadata is free-form: CRs read from the cluster carry uid, resourceVersion, labels, ...
    PL_ASSIGN_OR_RETURN(policy.name, required_string(meta, "name"));
    if (policy.name.empty()) return fail(meta, "name", "metadata.name must not be empty");
    if (!doc_.contains("spec")) return policy;
    json::json_pointer spec = root / "spec";
    PL_RETURN_IF_ERROR(expect_object(spec));
    PL_RETURN_IF_ERROR(only(spec, {"environments", "environmentSelector", "scope", "strict",
                                   "action", "ignore", "rules", "crossEnvironment"}));
    PL_ASSIGN_OR_RETURN(policy.environments, strings(spec, "environments"));
    if (has(spec, "environmentSelector")) {
      PL_RETURN_IF_ERROR(expect_object(spec / "environmentSelector"));
      auto selector = LabelSelector::from_json(doc_.at(spec / "environmentSelector"),
                                               loc_.where(spec, "environmentSelector"));
      if (!selector) {
        Error error = std::move(selector).error();
        return error.context("spec.environmentSelector");
      }
      policy.environment_selector = std::move(*selector);
    }
    PL_ASSIGN_OR_RETURN(policy.scope, categories(spec, "scope"));
    PL_ASSIGN_OR_RETURN(policy.strict, categories(spec, "strict"));
    PL_ASSIGN_OR_RETURN(auto action, one_of(spec, "action", {"report", "enforce"}));
    if (action == "enforce") policy.action = PolicyAction::kEnforce;
    if (action == "report") policy.action = PolicyAction::kReport;
    PL_ASSIGN_OR_RETURN(policy.ignore, ignores(spec / "ignore"));
    PL_ASSIGN_OR_RETURN(policy.rules, rules(spec / "rules"));
    if (has(spec, "crossEnvironment")) {
      json::json_pointer cross = spec / "crossEnvironment";
      PL_RETURN_IF_ERROR(expect_object(cross));
      PL_RETURN_IF_ERROR(only(cross, {"mayDiffer"}));
      PL_ASSIGN_OR_RETURN(policy.may_differ, categories(cross, "mayDiffer"));
    }
    return policy;
  }

 private:
  Error fail(const json::json_pointer& parent, std::string_view key, std::string message) const {
    return invalid_input(std::move(message), loc_.where(parent, key));
  }
  bool has(const json::json_pointer& parent, const char* key) const {
    return doc_.at(parent).contains(key);
  }
  std::string name(const json::json_pointer& parent, std::string_view key) const {
    std::string base = path::from_pointer(doc_, parent);
    return path::field(base, key);
  }

  Status expect_object(const json::json_pointer& at) const {
    if (doc_.at(at).is_object()) return {};
    return fail(at, {}, display(doc_, at) + ": expected a mapping, got " + doc_.at(at).type_name());
  }

  Status only(const json::json_pointer& at, std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : doc_.at(at).items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string in = at.empty() ? "the document" : display(doc_, at);
        return fail(at, key, "unknown field '" + key + "' in " + in);
      }
    }
    return {};
  }

  Error type_error(const json::json_pointer& parent, std::string_view key, const char* want) const {
    const json& v = doc_.at(parent).at(std::string(key));
    return fail(parent, key,
                name(parent, key) + ": expected " + want + ", got " + std::string(v.type_name()));
  }

  Result<std::string> required_string(const json::json_pointer& parent, const char* key) const {
    if (!has(parent, key)) return fail(parent, {}, name(parent, key) + " is required");
    const json& v = doc_.at(parent).at(key);
    if (!v.is_string()) return type_error(parent, key, "a string");
    return v.get<std::string>();
  }

  Result<std::string> one_of(const json::json_pointer& parent, const char* key,
                             std::initializer_list<std::string_view> values) const {
    if (!has(parent, key)) return std::string();
    const json& v = doc_.at(parent).at(key);
    if (!v.is_string()) return type_error(parent, key, "a string");
    const auto& s = v.get_ref<const std::string&>();
    if (std::find(values.begin(), values.end(), s) != values.end()) return s;
    std::string list;
    for (auto value : values) list += (list.empty() ? "" : ", ") + std::string(value);
    return fail(parent, key, name(parent, key) + ": must be one of " + list + " (got '" + s + "')");
  }

  Result<bool> boolean(const json::json_pointer& parent, const char* key) const {
    if (!has(parent, key)) return false;
    const json& v = doc_.at(parent).at(key);
    if (!v.is_boolean()) return type_error(parent, key, "a boolean");
    return v.get<bool>();
  }

  Result<double> positive(const json::json_pointer& parent, const char* key, double dflt) const {
    if (!has(parent, key)) return dflt;
    const json& v = doc_.at(parent).at(key);
    if (!v.is_number()) return type_error(parent, key, "a number");
    double d = v.get<double>();
    if (!(d > 0)) return fail(parent, key, name(parent, key) + ": must be greater than 0");
    return d;
  }

  // A required whole number from 1 to 10000 (replica counts).
  Result<long> count(const json::json_pointer& parent, const char* key) const {
    if (!has(parent, key)) return fail(parent, {}, name(parent, key) + " is required");
    const json& v = doc_.at(parent).at(key);
    if (!v.is_number_integer()) return type_error(parent, key, "a whole number");
    long n = v.get<long>();
    if (n < 1 || n > 10000) return fail(parent, key, name(parent, key) + ": must be 1 to 10000");
    return n;
  }

  // A fraction in (0, 1]: more than 1 would allow a Go heap limit above the container's own.
  Result<double> fraction(const json::json_pointer& parent, const char* key, double dflt) const {
    PL_ASSIGN_OR_RETURN(double d, positive(parent, key, dflt));
    if (d > 1) return fail(parent, key, name(parent, key) + ": must be at most 1");
    return d;
  }

  Result<std::vector<std::string>> strings(const json::json_pointer& parent,
                                           const char* key) const {
    std::vector<std::string> out;
    if (!has(parent, key)) return out;
    const json& v = doc_.at(parent).at(key);
    if (!v.is_array()) return type_error(parent, key, "a list of strings");
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) {
        json::json_pointer item = parent / std::string(key) / i;
        return fail(
            item, {},
            display(doc_, item) + ": expected a string, got " + std::string(v[i].type_name()));
      }
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  Result<std::vector<Category>> categories(const json::json_pointer& parent,
                                           const char* key) const {
    PL_ASSIGN_OR_RETURN(auto names, strings(parent, key));
    std::vector<Category> out;
    for (size_t i = 0; i < names.size(); ++i) {
      auto category = parse_category(names[i]);
      if (!category) {
        json::json_pointer item = parent / std::string(key) / i;
        return fail(item, {}, display(doc_, item) + ": unknown category '" + names[i] + "'");
      }
      if (std::find(out.begin(), out.end(), *category) == out.end()) out.push_back(*category);
    }
    return out;
  }

  Result<std::vector<IgnoreRule>> ignores(const json::json_pointer& at) const {
    std::vector<IgnoreRule> out;
    if (!doc_.at(at.parent_pointer()).contains(at.back())) return out;
    const json& list = doc_.at(at);
    if (!list.is_array()) return type_error(at.parent_pointer(), at.back(), "a list");
    for (size_t i = 0; i < list.size(); ++i) {
      json::json_pointer item = at / i;
      PL_RETURN_IF_ERROR(expect_object(item));
      PL_RETURN_IF_ERROR(only(item, {"path", "category", "categories", "managers"}));
      IgnoreRule rule;
      if (has(item, "path")) {
        PL_ASSIGN_OR_RETURN(rule.path, required_string(item, "path"));
        if (auto parsed = path::parse(rule.path); !parsed) {
          return fail(item, "path", name(item, "path") + ": " + parsed.error().message());
        }
      }
      if (has(item, "category") && has(item, "categories")) {
        return fail(item, "categories",
                    display(doc_, item) + ": set category or categories, not both");
      }
      if (has(item, "category")) {
        PL_ASSIGN_OR_RETURN(std::string text, required_string(item, "category"));
        auto category = parse_category(text);
        if (!category)
          return fail(item, "category",
                      name(item, "category") + ": unknown category '" + text + "'");
        rule.categories.push_back(*category);
      }
      PL_ASSIGN_OR_RETURN(auto cats, categories(item, "categories"));
      rule.categories.insert(rule.categories.end(), cats.begin(), cats.end());
      PL_ASSIGN_OR_RETURN(rule.managers, strings(item, "managers"));
      // An empty rule would silently ignore every drift: almost certainly a mistake.
      if (rule.path.empty() && rule.categories.empty() && rule.managers.empty()) {
        return fail(item, {},
                    display(doc_, item) + ": an ignore rule needs path, category or managers");
      }
      out.push_back(std::move(rule));
    }
    return out;
  }

  Result<PolicyRules> rules(const json::json_pointer& at) const {
    PolicyRules out;
    if (!doc_.at(at.parent_pointer()).contains(at.back())) return out;
    PL_RETURN_IF_ERROR(expect_object(at));
    PL_RETURN_IF_ERROR(
        only(at, {"requireLimits", "qosClass", "gomaxprocs", "gomemlimit", "selinux",
                  "capabilities", "sysctls", "env", "podSecurity", "replicas",
                  "podDisruptionBudget", "networkPolicy", "hostNetwork", "seccomp"}));
    auto section =
        [&](const char* key,
            std::initializer_list<std::string_view> fields) -> Result<json::json_pointer> {
      json::json_pointer p = at / key;
      PL_RETURN_IF_ERROR(expect_object(p));
      PL_RETURN_IF_ERROR(only(p, fields));
      return p;
    };
    if (has(at, "requireLimits")) {
      PL_ASSIGN_OR_RETURN(auto p, section("requireLimits", {"cpu", "memory"}));
      PolicyRules::RequireLimits r;
      PL_ASSIGN_OR_RETURN(r.cpu, boolean(p, "cpu"));
      PL_ASSIGN_OR_RETURN(r.memory, boolean(p, "memory"));
      out.require_limits = r;
    }
    if (has(at, "qosClass")) {
      PL_ASSIGN_OR_RETURN(out.qos_class,
                          one_of(at, "qosClass", {"Guaranteed", "Burstable", "BestEffort"}));
    }
    if (has(at, "gomaxprocs")) {
      PL_ASSIGN_OR_RETURN(auto p, section("gomaxprocs", {"maxOverCpuLimit"}));
      PolicyRules::Gomaxprocs r;
      PL_ASSIGN_OR_RETURN(r.max_over_cpu_limit, positive(p, "maxOverCpuLimit", 1.0));
      out.gomaxprocs = r;
    }
    if (has(at, "gomemlimit")) {
      PL_ASSIGN_OR_RETURN(auto p, section("gomemlimit", {"maxFractionOfMemoryLimit"}));
      PolicyRules::Gomemlimit r;
      PL_ASSIGN_OR_RETURN(r.max_fraction_of_memory_limit,
                          fraction(p, "maxFractionOfMemoryLimit", 1.0));
      out.gomemlimit = r;
    }
    if (has(at, "selinux")) {
      PL_ASSIGN_OR_RETURN(auto p, section("selinux", {"allowedTypes"}));
      PolicyRules::Selinux r;
      PL_ASSIGN_OR_RETURN(r.allowed_types, strings(p, "allowedTypes"));
      out.selinux = r;
    }
    if (has(at, "capabilities")) {
      PL_ASSIGN_OR_RETURN(auto p, section("capabilities", {"requireDropAll", "allowedAdd"}));
      PolicyRules::Capabilities r;
      PL_ASSIGN_OR_RETURN(r.require_drop_all, boolean(p, "requireDropAll"));
      PL_ASSIGN_OR_RETURN(r.allowed_add, strings(p, "allowedAdd"));
      out.capabilities = r;
    }
    if (has(at, "sysctls")) {
      PL_ASSIGN_OR_RETURN(auto p, section("sysctls", {"allowed"}));
      PolicyRules::Sysctls r;
      PL_ASSIGN_OR_RETURN(r.allowed, strings(p, "allowed"));
      out.sysctls = r;
    }
    if (has(at, "env")) {
      PL_ASSIGN_OR_RETURN(auto p, section("env", {"required", "forbidden"}));
      PolicyRules::Env r;
      PL_ASSIGN_OR_RETURN(r.required, strings(p, "required"));
      PL_ASSIGN_OR_RETURN(r.forbidden, strings(p, "forbidden"));
      out.env = r;
    }
    PL_RETURN_IF_ERROR(governance_rules(at, section, out));
    return out;
  }

  // The rules of environment types (production's baseline, a sandbox's allowances).
  template <typename Section>
  Status governance_rules(const json::json_pointer& at, Section& section, PolicyRules& out) const {
    if (has(at, "podSecurity")) {
      PL_ASSIGN_OR_RETURN(auto p, section("podSecurity", {"level"}));
      if (!has(p, "level")) return fail(p, {}, name(at, "podSecurity") + ".level is required");
      PL_ASSIGN_OR_RETURN(std::string level, one_of(p, "level", {"baseline", "restricted"}));
      out.pod_security = PolicyRules::PodSecurity{level == "restricted"};
    }
    if (has(at, "replicas")) {
      PL_ASSIGN_OR_RETURN(auto p, section("replicas", {"min"}));
      PL_ASSIGN_OR_RETURN(long min, count(p, "min"));
      out.replicas = PolicyRules::Replicas{min};
    }
    if (has(at, "podDisruptionBudget")) {
      PL_ASSIGN_OR_RETURN(auto p, section("podDisruptionBudget", {"requiredFromReplicas"}));
      PL_ASSIGN_OR_RETURN(long from, count(p, "requiredFromReplicas"));
      out.pod_disruption_budget = PolicyRules::PodDisruptionBudget{from};
    }
    if (has(at, "networkPolicy")) {
      PL_ASSIGN_OR_RETURN(auto p, section("networkPolicy", {"requireDefaultDeny"}));
      PL_ASSIGN_OR_RETURN(bool deny, boolean(p, "requireDefaultDeny"));
      out.network_policy = PolicyRules::NetworkPolicy{deny};
    }
    if (has(at, "hostNetwork")) {
      PL_ASSIGN_OR_RETURN(auto p, section("hostNetwork", {"allowed"}));
      if (!has(p, "allowed")) return fail(p, {}, name(at, "hostNetwork") + ".allowed is required");
      PL_ASSIGN_OR_RETURN(bool allowed, boolean(p, "allowed"));
      out.host_network = PolicyRules::HostNetwork{allowed};
    }
    if (has(at, "seccomp")) {
      PL_ASSIGN_OR_RETURN(auto p, section("seccomp", {"required"}));
      if (!has(p, "required")) return fail(p, {}, name(at, "seccomp") + ".required is required");
      PL_ASSIGN_OR_RETURN(std::string required,
                          one_of(p, "required", {"RuntimeDefault", "Localhost"}));
      out.seccomp = PolicyRules::Seccomp{required};
    }
    return {};
  }

  const json& doc_;
  const Locator& loc_;
};

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

Result<Policy> policy_from_json(const json& object, const SourceLocation& where) {
  Locator locator(object, where, nullptr, nullptr);
  Result<Policy> policy = Parser(object, locator).parse();
  if (policy) policy->origin = where;
  return policy;
}

Result<std::vector<Policy>> parse_policies(std::string_view text, std::string_view file) {
  YamlOptions options;
  options.field_origins = true;
  PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(text, file, options));
  std::vector<std::string_view> lines = split_lines(text);
  std::vector<Policy> policies;
  for (const auto& doc : docs) {
    if (doc.value.is_null()) continue;  // "---" separators with nothing between them
    Locator locator(doc.value, doc.location, doc.fields.get(), &lines);
    PL_ASSIGN_OR_RETURN(Policy policy, Parser(doc.value, locator).parse());
    policy.origin = doc.location;
    for (const auto& other : policies) {
      if (other.name == policy.name) {
        return invalid_input("duplicate ConsistencyPolicy '" + policy.name + "'",
                             locator.where(json::json_pointer("/metadata"), "name"));
      }
    }
    policies.push_back(std::move(policy));
  }
  if (policies.empty()) return invalid_input("no ConsistencyPolicy documents", std::string(file));
  return policies;
}

}  // namespace plumbline
