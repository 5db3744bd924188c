// plumbline/core/field_table.h — the one table of compared fields.
//
// Every field plumbline compares, with where it sits (its level), its drift category and, for
// a list, how its elements are matched. Three readers derive from it and from nothing else:
// the diff walker (which fields to descend into, and their category), categorize() (the
// category of a canonical path) and the LiveCache's projection schema (which fields a cached
// object keeps). A field added here is projected, walked, categorized and reported.
//
//   for (const ComparedField& f : compared_fields(FieldLevel::kContainer)) visit(f.name);
#pragma once

#include <span>
#include <string_view>

#include "plumbline/core/findings.h"
#include "plumbline/core/path.h"

namespace plumbline {

enum class FieldLevel {
  kObjectSpec,         // the object's spec: spec.replicas (a leaf, compared whole)
  kMetadata,           // the object's and its pod template's metadata: labels
  kPod,                // the pod spec: spec.template.spec.<name>
  kPodSecurity,        // the pod spec's securityContext.<name>
  kContainer,          // each element of a container list: containers[name=app].<name>
  kContainerSecurity,  // a container's securityContext.<name>
};

struct ComparedField {
  FieldLevel level;
  std::string_view name;
  Category category;
  // How a list value is compared: kKeyed with its key (env by name), kSet, or kAtomic (also
  // for scalars and maps). path::list_rule() answers from here for these names.
  path::ListRule list = {};
};

// All compared fields, grouped by level in the order of FieldLevel (the walk order).
std::span<const ComparedField> compared_fields();
// The fields of one level.
std::span<const ComparedField> compared_fields(FieldLevel level);
// The field of `level` called `name`, or nullptr.
const ComparedField* find_compared_field(FieldLevel level, std::string_view name);

// The pod spec's lists of containers (containers, initContainers, ephemeralContainers); their
// elements are matched by name and hold the kContainer fields.
std::span<const std::string_view> container_lists();
inline constexpr std::string_view kContainerKey = "name";
bool is_container_list(std::string_view name);

// The parent field name a level's fields are walked under ("spec", "metadata",
// "securityContext", "container"), as list rules and closed-world rules see it.
std::string_view level_parent(FieldLevel level);
// kPodSecurity and kContainerSecurity sit one field below their pod spec or container.
inline constexpr std::string_view kSecurityContext = "securityContext";
constexpr bool is_security_level(FieldLevel level) {
  return level == FieldLevel::kPodSecurity || level == FieldLevel::kContainerSecurity;
}

}  // namespace plumbline
