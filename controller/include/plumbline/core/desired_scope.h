// plumbline/core/desired_scope.h — where desired objects land and which of them are compared.
// One rule for the CLI (`diff --live FILE|cluster`) and the controller, so both agree.
//
//   default_namespaces(desired, "shop-prod", namespaced);     // as kubectl apply would
//   KindCoverage watched{{"Deployment", "StatefulSet"}};
//   if (watched.covers(m.object)) compared.push_back(m);      // else not compared
#pragma once

#include <functional>
#include <set>
#include <string>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/object.h"

namespace plumbline {

// Whether an object's metadata.namespace is unset: missing, null or another non-string, or "".
bool namespace_unset(const json& object);

// Objects without a namespace get `ns`, as kubectl apply puts them in its default namespace:
// every object with an unset namespace for which `namespaced(object)` holds. Objects of
// cluster-scoped kinds are left alone.
void default_namespaces(ManifestSet& objects, const std::string& ns,
                        const std::function<bool(const json& object)>& namespaced);
// The same over compact objects: only those without a namespace are decoded.
void default_namespaces(CompactManifestSet& objects, const std::string& ns,
                        const std::function<bool(const ObjectRef& ref)>& namespaced);

// Compare only the kinds we can see: a desired object is compared when the live side can show
// its kind (the kinds a snapshot holds or --live-kinds names, the kinds the controller
// watches); the others are not compared (and, in the CLI, listed as such).
struct KindCoverage {
  std::set<std::string> kinds;
  bool covers(const json& object) const;
  bool covers_kind(std::string_view kind) const { return kinds.count(std::string(kind)) > 0; }
};

}  // namespace plumbline
