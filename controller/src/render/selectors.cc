// Resource selection for patch and replacement targets.
#include "render/selectors.h"

#include <set>

namespace plumbline::renderer {
namespace {

json metadata_map(const json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return json::object();
  auto it = meta->find(field);
  return it != meta->end() ? *it : json::object();
}

}  // namespace

Result<TargetPattern> TargetPattern::compile(const std::string& pattern, const std::string& at,
                                             const std::string& file) {
  if (pattern.empty()) return TargetPattern(nullptr);
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return invalid_input(at + ": bad regular expression: " + re->error(), file);
  return TargetPattern(std::move(re));
}

bool selector_matches(const std::string& selector, const json& labels) {
  size_t start = 0;
  while (start <= selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string term = selector.substr(start, end - start);
    start = end + 1;
    term.erase(0, term.find_first_not_of(' '));
    term.erase(term.find_last_not_of(' ') + 1);
    if (term.empty()) continue;
    auto value_of = [&](const std::string& key) -> const json* {
      if (!labels.is_object()) return nullptr;
      auto it = labels.find(key);
      return it == labels.end() ? nullptr : &*it;
    };
    if (auto ne = term.find("!="); ne != std::string::npos) {
      const json* v = value_of(term.substr(0, ne));
      if (v && *v == term.substr(ne + 2)) return false;
    } else if (auto eq = term.find('='); eq != std::string::npos) {
      size_t value_at = term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;
      const json* v = value_of(term.substr(0, eq));
      if (!v || *v != term.substr(value_at)) return false;
    } else if (term[0] == '!') {
      if (value_of(term.substr(1))) return false;
    } else if (!value_of(term)) {
      return false;
    }
  }
  return true;
}

Result<ResourceSelector> ResourceSelector::compile(const json& target, const std::string& at,
                                                   const std::string& file) {
  if (!target.is_object()) return invalid_input(at + ": must be a mapping", file);
  for (const auto& [key, value] : target.items()) {
    static const std::set<std::string> kKnown = {
        "group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"};
    if (!kKnown.count(key)) return invalid_input(at + ": unknown field '" + key + "'", file);
    if (!value.is_string()) return invalid_input(at + "." + key + ": must be a string", file);
  }
  auto pattern = [&](const char* key) {
    return TargetPattern::compile(target.value(key, std::string{}), at + "." + key, file);
  };
  PL_ASSIGN_OR_RETURN(TargetPattern group, pattern("group"));
  PL_ASSIGN_OR_RETURN(TargetPattern version, pattern("version"));
  PL_ASSIGN_OR_RETURN(TargetPattern kind, pattern("kind"));
  PL_ASSIGN_OR_RETURN(TargetPattern name, pattern("name"));
  PL_ASSIGN_OR_RETURN(TargetPattern ns, pattern("namespace"));
  ResourceSelector out(std::move(group), std::move(version), std::move(kind), std::move(name),
                       std::move(ns));
  out.labels_ = target.value("labelSelector", std::string{});
  out.annotations_ = target.value("annotationSelector", std::string{});
  return out;
}

bool ResourceSelector::has_id() const {
  return !group_.empty() || !version_.empty() || !kind_.empty() || !name_.empty() ||
         !namespace_.empty();
}

namespace {

bool group_version_match(const TargetPattern& group, const TargetPattern& version,
                         const json& object) {
  std::string api_version = object.value("apiVersion", json("")).is_string()
                                ? object.value("apiVersion", std::string{})
                                : std::string{};
  std::string version_part = api_version.substr(
      api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
  return group.matches(api_group(api_version)) && version.matches(version_part);
}

}  // namespace

bool ResourceSelector::matches_any_id(const Resource& resource) const {
  const json& object = resource.manifest.object;
  if (!group_version_match(group_, version_, object) || !kind_.matches(kind_of(object))) {
    return false;
  }
  for (size_t i = 0; i < resource.names.size(); ++i) {
    const std::string& ns =
        i < resource.namespaces.size() ? resource.namespaces[i] : namespace_of(object);
    if (name_.matches(resource.names[i]) && namespace_.matches(ns)) return true;
  }
  return false;
}

bool ResourceSelector::matches_id(const Resource& resource) const {
  const json& object = resource.manifest.object;
  std::string api_version = object.value("apiVersion", json("")).is_string()
                                ? object.value("apiVersion", std::string{})
                                : std::string{};
  std::string group = api_group(api_version);
  std::string version = api_version.substr(
      api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
  if (!group_.matches(group) || !version_.matches(version)) return false;
  if (!kind_.matches(kind_of(object)) || !namespace_.matches(namespace_of(object))) return false;
  if (name_.empty()) return true;
  for (const auto& name : resource.names) {
    if (name_.matches(name)) return true;
  }
  return false;
}

bool ResourceSelector::matches_metadata(const json& object) const {
  if (!labels_.empty() && !selector_matches(labels_, metadata_map(object, "labels"))) return false;
  return annotations_.empty() ||
         selector_matches(annotations_, metadata_map(object, "annotations"));
}

}  // namespace plumbline::renderer
