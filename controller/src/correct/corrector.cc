// plan_object_correction: the apply configuration and the removal patch of one object
// (plumbline/correct/corrector.h states the ownership model this follows).
#include "plumbline/correct/corrector.h"

#include <algorithm>
#include <optional>

#include "plumbline/core/digest.h"
#include "plumbline/core/path.h"
#include "plumbline/diff/managed_fields.h"

namespace plumbline {
namespace {

using path::Segment;
using Segments = std::vector<Segment>;

// Closed-world fields (diff::closed_world) whose safe value does not depend on the workload:
// set in the apply configuration. The others (runAsUser, seccomp and SELinux types) are
// removed, which restores what Git declares: nothing.
std::optional<json> safe_value(std::string_view name) {
  if (name == "privileged" || name == "allowPrivilegeEscalation" || name == "hostNetwork" ||
      name == "hostPID" || name == "hostIPC") {
    return json(false);
  }
  if (name == "procMount") return json("Default");
  return std::nullopt;
}

bool matches_segment(const json& node, const Segment& seg) {
  if (seg.kind == Segment::Kind::kKeyed) {
    return node.is_object() && node.contains(seg.key) && path::key_text(node[seg.key]) == seg.value;
  }
  return path::key_text(node) == seg.value;
}

// The node at the first `n` segments of `segs` inside `root`, or nullptr.
template <typename Json>
Json* find_at(Json& root, const Segments& segs, size_t n) {
  Json* node = &root;
  for (size_t i = 0; i < n; ++i) {
    const Segment& seg = segs[i];
    if (seg.kind == Segment::Kind::kField) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(seg.name);
      if (it == node->end()) return nullptr;
      node = &*it;
      continue;
    }
    if (!node->is_array()) return nullptr;
    Json* next = nullptr;
    for (Json& element : *node) {
      if (matches_segment(element, seg)) {
        next = &element;
        break;
      }
    }
    if (next == nullptr) return nullptr;
    node = next;
  }
  return node;
}

// The node at the first `n` segments inside `root`, created on the way: objects for fields,
// list elements carrying their key (typed as in `source`, which holds the element).
Result<json*> ensure_at(json& root, const json& source, const Segments& segs, size_t n) {
  json* node = &root;
  for (size_t i = 0; i < n; ++i) {
    const Segment& seg = segs[i];
    if (seg.kind == Segment::Kind::kField) {
      if (node->is_null()) *node = json::object();
      if (!node->is_object()) return Error(ErrorCode::kInternal, "not an object at " + seg.name);
      node = &(*node)[seg.name];
      continue;
    }
    if (seg.kind == Segment::Kind::kElement) {
      return Error(ErrorCode::kInternal, "a set element is not a parent of anything");
    }
    if (node->is_null()) *node = json::array();
    if (!node->is_array()) return Error(ErrorCode::kInternal, "not a list at " + seg.value);
    json* next = nullptr;
    for (json& element : *node) {
      if (matches_segment(element, seg)) next = &element;
    }
    if (next == nullptr) {
      const json* typed = find_at(source, segs, i + 1);
      json key = typed != nullptr && typed->is_object() && typed->contains(seg.key)
                     ? (*typed)[seg.key]
                     : json(seg.value);
      node->push_back({{seg.key, key}});
      next = &node->back();
    }
    node = next;
  }
  return node;
}

// Sets the node at `segs` (a field, or a set element meaning its whole list) to `value`.
Status set_at(json& root, const json& source, const Segments& segs, json value) {
  size_t n = segs.size();
  if (n > 0 && segs.back().kind == Segment::Kind::kElement) --n;  // the list
  if (n == 0) return Error(ErrorCode::kInternal, "an empty path has no field to set");
  if (segs[n - 1].kind != Segment::Kind::kField) {
    // A keyed element: its parent list gets the element.
    PL_ASSIGN_OR_RETURN(json * parent, ensure_at(root, source, segs, n - 1));
    if (parent->is_null()) *parent = json::array();
    for (json& element : *parent) {
      if (matches_segment(element, segs[n - 1])) {
        element = std::move(value);
        return {};
      }
    }
    parent->push_back(std::move(value));
    return {};
  }
  PL_ASSIGN_OR_RETURN(json * parent, ensure_at(root, source, segs, n - 1));
  if (parent->is_null()) *parent = json::object();
  (*parent)[segs[n - 1].name] = std::move(value);
  return {};
}

// Removes the node at `segs` from `root` if it is there.
void erase_at(json& root, const Segments& segs) {
  if (segs.empty()) return;
  json* parent = find_at(root, segs, segs.size() - 1);
  if (parent == nullptr) return;
  const Segment& last = segs.back();
  if (last.kind == Segment::Kind::kField) {
    if (parent->is_object()) parent->erase(last.name);
    return;
  }
  if (!parent->is_array()) return;
  for (size_t i = 0; i < parent->size(); ++i) {
    if (matches_segment((*parent)[i], last)) {
      parent->erase(i);
      return;
    }
  }
}

bool is_prefix(const Segments& prefix, const Segments& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

// Extras inside a container Git does not declare (a sidecar someone else manages) are not
// plumbline's to remove.
bool container_declared(const json& desired, const Segments& segs) {
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    const Segment& seg = segs[i];
    if (seg.kind == Segment::Kind::kField &&
        (seg.name == "containers" || seg.name == "initContainers" ||
         seg.name == "ephemeralContainers")) {
      return find_at(desired, segs, i + 2) != nullptr;
    }
  }
  return true;
}

json identity(const ObjectRef& ref) {
  json object = {
      {"apiVersion", ref.api_version}, {"kind", ref.kind}, {"metadata", {{"name", ref.name}}}};
  if (!ref.ns.empty()) object["metadata"]["namespace"] = ref.ns;
  return object;
}

}  // namespace

std::string field_manager_for(std::string_view environment) {
  constexpr size_t kMax = 128;  // the API's limit on fieldManager
  std::string manager = "plumbline/" + std::string(environment);
  if (manager.size() <= kMax) return manager;
  return manager.substr(0, kMax - 13) + "-" + sha256_hex(environment, 12);
}

Result<ObjectCorrection> plan_object_correction(const Manifest& desired, const json& live,
                                                const std::vector<Drift>& drifts,
                                                const CorrectionContext& context) {
  const ObjectRef ref = desired.ref();
  ObjectCorrection out{.apply = identity(ref), .removal = nullptr, .fixes = {}};
  for (const Drift& d : drifts) {
    if (d.object != ref) {
      return invalid_input("drift of " + d.object.to_string() + " in a correction of " +
                           ref.to_string());
    }
  }

  // Released: contested fields (another manager keeps setting them) are not sent.
  std::vector<Segments> released;
  for (const Drift& d : drifts) {
    if (d.action != Action::kContested || d.path.empty()) continue;
    PL_ASSIGN_OR_RETURN(Segments segs, path::parse(d.path));
    released.push_back(std::move(segs));
  }

  // Git's enforced fields.
  std::vector<Segments> below;  // released paths inside a declared field: cut out after
  for (const DeclaredField& field : declared_fields(desired.object, context.options)) {
    PL_ASSIGN_OR_RETURN(Segments segs, path::parse(field.path));
    bool skip = false;
    for (const Segments& r : released) {
      if (is_prefix(r, segs))
        skip = true;
      else if (is_prefix(segs, r))
        below.push_back(r);
    }
    if (skip) continue;
    std::vector<Drift> probe(1);
    probe[0].object = ref;
    probe[0].path = field.path;
    probe[0].category = field.category;
    probe[0].live_manager = diff::find_owner(live, field.path).manager;
    mark_ignored(probe, context.policies);
    const json* source = &desired.object;
    if (probe[0].action == Action::kIgnored) {
      // Never taken over; but one plumbline already owns keeps its live value, so that
      // ignoring a field never makes the API server delete it.
      if (!diff::owns(live, context.field_manager, field.path)) continue;
      source = &live;
    }
    const json* value = find_at(*source, segs, segs.size());
    if (value == nullptr) continue;
    if (segs.back().kind == Segment::Kind::kElement) {
      value = find_at(*source, segs, segs.size() - 1);  // a set goes whole
    }
    PL_RETURN_IF_ERROR(set_at(out.apply, *source, segs, *value));
  }
  for (const Segments& r : below) erase_at(out.apply, r);

  // What each finding needs.
  for (size_t i = 0; i < drifts.size(); ++i) {
    const Drift& d = drifts[i];
    if (d.action != Action::kReport || d.path.empty()) continue;
    PL_ASSIGN_OR_RETURN(Segments segs, path::parse(d.path));
    if (d.type == DriftType::kChanged || d.type == DriftType::kMissing) {
      // Git's value is in the configuration unless a policy keeps it out.
      if (find_at(out.apply, segs, segs.size()) != nullptr ||
          (segs.back().kind == Segment::Kind::kElement &&
           find_at(out.apply, segs, segs.size() - 1) != nullptr)) {
        out.fixes.push_back(i);
      }
      continue;
    }
    if (d.type != DriftType::kExtra || !container_declared(desired.object, segs)) continue;
    const Segment& last = segs.back();
    const size_t n = segs.size();
    if (last.kind != Segment::Kind::kField) {
      // A list element: the list is the field before it.
      const path::ApiList list = path::api_list(segs[n - 2].name);
      if (!list.merge) {
        if (find_at(out.apply, segs, n - 1) == nullptr) {
          Segments list_path(segs.begin(), segs.end() - 1);
          PL_RETURN_IF_ERROR(set_at(out.apply, desired.object, list_path, json::array()));
        }
        out.fixes.push_back(i);
      } else if (last.kind == Segment::Kind::kKeyed && last.key == list.key) {
        if (out.removal.is_null()) out.removal = json::object();
        Segments list_path(segs.begin(), segs.end() - 1);
        PL_ASSIGN_OR_RETURN(json * target, ensure_at(out.removal, live, list_path, n - 1));
        if (target->is_null()) *target = json::array();
        const json* element = find_at(live, segs, n);
        json key = element != nullptr && element->contains(last.key) ? (*element)[last.key]
                                                                     : json(last.value);
        target->push_back({{last.key, key}, {"$patch", "delete"}});
        out.fixes.push_back(i);
      }
      continue;
    }
    const json* live_value = find_at(live, segs, n);
    if (live_value != nullptr && live_value->is_array() && !path::api_list(last.name).merge) {
      PL_RETURN_IF_ERROR(set_at(out.apply, desired.object, segs, json::array()));
      out.fixes.push_back(i);
      continue;
    }
    if (live_value != nullptr && live_value->is_structured()) continue;
    if (std::optional<json> safe = safe_value(last.name)) {
      PL_RETURN_IF_ERROR(set_at(out.apply, desired.object, segs, *safe));
      out.fixes.push_back(i);
      continue;
    }
    // Removed. A seccomp profile without its type is invalid: the profile goes.
    Segments field = segs;
    if (n >= 2 && last.name == "type" && segs[n - 2].kind == Segment::Kind::kField &&
        segs[n - 2].name == "seccompProfile") {
      field.pop_back();
    }
    if (out.removal.is_null()) out.removal = json::object();
    PL_RETURN_IF_ERROR(set_at(out.removal, live, field, nullptr));
    out.fixes.push_back(i);
  }
  return out;
}

}  // namespace plumbline
