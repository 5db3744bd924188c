#include "plumbline/corrector.h"

#include "plumbline/path.h"

namespace plumbline {

bool correctable(const Drift& drift) {
  return !drift.path.empty() &&
         (drift.type == DriftType::kChanged || drift.type == DriftType::kMissing);
}

namespace {

// Adds the field at `path` of `desired` to `patch`, with the keys of keyed list elements on
// the way; a set element's path sets its whole list.
Status add_field(const json& desired, std::string_view path, json& patch) {
  PL_ASSIGN_OR_RETURN(std::vector<path::Segment> segments, path::parse(path));
  const json* from = &desired;
  json* to = &patch;
  for (size_t i = 0; i < segments.size(); ++i) {
    const path::Segment& seg = segments[i];
    bool last = i + 1 == segments.size();
    switch (seg.kind) {
      case path::Segment::Kind::kField: {
        if (!from->is_object() || !from->contains(seg.name)) {
          return not_found("Git does not declare " + std::string(path));
        }
        const json& next = (*from)[seg.name];
        // A set element follows: the list goes whole.
        bool list_whole =
            !last && segments[i + 1].kind == path::Segment::Kind::kElement && next.is_array();
        if (last || list_whole) {
          (*to)[seg.name] = next;
          return {};
        }
        if (!to->is_object()) *to = json::object();
        json& child = (*to)[seg.name];
        if (child.is_null()) child = next.is_array() ? json::array() : json::object();
        from = &next;
        to = &child;
        break;
      }
      case path::Segment::Kind::kKeyed: {
        if (!from->is_array()) return not_found("Git does not declare " + std::string(path));
        const json* element = nullptr;
        for (const json& e : *from) {
          if (e.is_object() && e.contains(seg.key) && path::key_text(e[seg.key]) == seg.value) {
            element = &e;
            break;
          }
        }
        if (element == nullptr) return not_found("Git does not declare " + std::string(path));
        if (last) {
          // The whole element (a missing container, env var, sysctl).
          to->push_back(*element);
          return {};
        }
        json* target = nullptr;
        for (json& e : *to) {
          if (e.is_object() && e.contains(seg.key) && e[seg.key] == (*element)[seg.key]) {
            target = &e;
          }
        }
        if (target == nullptr) {
          to->push_back({{seg.key, (*element)[seg.key]}});
          target = &to->back();
        }
        from = element;
        to = target;
        break;
      }
      case path::Segment::Kind::kElement:
        return Error(ErrorCode::kInternal, "unexpected list element in " + std::string(path));
    }
  }
  return {};
}

}  // namespace

Result<json> correction_patch(const Manifest& desired, const std::vector<Drift>& drifts) {
  ObjectRef ref = desired.ref();
  json patch = {
      {"apiVersion", ref.api_version}, {"kind", ref.kind}, {"metadata", {{"name", ref.name}}}};
  if (!ref.ns.empty()) patch["metadata"]["namespace"] = ref.ns;
  for (const Drift& drift : drifts) {
    if (drift.object != ref) {
      return invalid_input("drift of " + drift.object.to_string() + " in a patch of " +
                           ref.to_string());
    }
    if (!correctable(drift)) {
      return invalid_input("a " + std::string(to_string(drift.type)) + " drift at '" + drift.path +
                           "' is not corrected by apply");
    }
    Status added = add_field(desired.object, drift.path, patch);
    if (!added.ok()) return std::move(added).error().context(ref.to_string());
  }
  return patch;
}

}  // namespace plumbline
