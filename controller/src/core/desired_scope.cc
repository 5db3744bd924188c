#include "plumbline/core/desired_scope.h"

namespace plumbline {

bool namespace_unset(const json& object) {
  if (!object.is_object()) return false;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || metadata->is_null()) return true;
  if (!metadata->is_object()) return false;  // not ours to repair: validation reports it
  auto ns = metadata->find("namespace");
  return ns == metadata->end() || !ns->is_string() || ns->get_ref<const std::string&>().empty();
}

void default_namespaces(ManifestSet& objects, const std::string& ns,
                        const std::function<bool(const json& object)>& namespaced) {
  for (Manifest& m : objects) {
    if (!namespace_unset(m.object) || !namespaced(m.object)) continue;
    m.object["metadata"]["namespace"] = ns;
  }
}

void default_namespaces(CompactManifestSet& objects, const std::string& ns,
                        const std::function<bool(const ObjectRef& ref)>& namespaced) {
  for (CompactManifest& m : objects) {
    if (!m.ref().ns.empty() || !namespaced(m.ref())) continue;
    Manifest object = m.materialize();  // only these few are decoded and encoded again
    if (!namespace_unset(object.object)) continue;
    object.object["metadata"]["namespace"] = ns;
    m = CompactManifest(object);
  }
}

bool KindCoverage::covers(const json& object) const {
  auto kind = object.is_object() ? object.find("kind") : object.end();
  std::string_view name;
  if (object.is_object() && kind != object.end() && kind->is_string()) {
    name = kind->get_ref<const std::string&>();
  }
  return covers_kind(name);
}

}  // namespace plumbline
