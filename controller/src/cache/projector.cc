// The Projector: one whole API object (JSON text, or an on-demand value inside a LIST body or
// a WATCH line) -> the compact LiveObject the LiveCache keeps. simdjson on-demand reads the
// input once, front to back; only the kept fields are copied (validated and re-written
// minified), everything else is skipped without being materialized.
//
// What is kept is what the field table (core/field_table.h) lists for the categories in scope
// (projection_schema.cc), plus identity, metadata.labels and container names; managedFields
// are pruned to the same subtrees (projection_managed_fields.cc). A whole-object Projector
// keeps everything, through the same reader.
#include <algorithm>

#include "cache/projection_walk.h"
#include "plumbline/core/utf8.h"
#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

std::string describe_object(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string out(kind.empty() ? "object" : kind);
  if (name.empty()) return ns.empty() ? out : out + " in namespace " + std::string(ns);
  out += ' ';
  if (!ns.empty()) out.append(ns).append("/");
  return out.append(name);
}

// What is read of one object besides its identity, as `"key":value` runs.
struct Kept {
  std::string metadata;  // kept metadata fields (labels, …)
  std::string managed;   // `"managedFields":[...]`
  std::string spec;      // `"spec":{...}`
  std::string rest;      // whole objects: every other top-level field
  bool metadata_first = true, rest_first = true;
};

}  // namespace

Result<LiveObject> ProjectionAccess::project(const Projector& projector, od::value value,
                                             std::string_view fallback_api_version,
                                             std::string_view fallback_kind) {
  const Projector::Schema& schema = *projector.schema_;
  Walk walk;
  LiveObject out;
  ObjectRef& ref = out.ref;
  auto error = [&]() -> Error {
    return invalid_input(
        walk.describe(),
        describe_object(ref.kind.empty() ? fallback_kind : ref.kind, ref.ns, ref.name));
  };

  od::json_type type;
  if (auto e = value.type().get(type); e) {
    walk.fail(e);
    return error();
  }
  if (type != od::json_type::object) {
    walk.fail("expected a JSON object, got " + std::string(type_name(type)));
    return error();
  }
  od::object root;
  if (auto e = value.get_object().get(root); e) {
    walk.fail(e);
    return error();
  }
  bool has_metadata = false, has_api_version = false, has_kind = false;
  Kept kept;
  auto kind_now = [&] { return has_kind ? std::string_view(ref.kind) : fallback_kind; };
  // One metadata field: identity, kept fields, managedFields.
  auto metadata_field = [&](std::string_view name, od::value v) {
    if (name == "name") return walk.read_string(v, "metadata.name", ref.name);
    if (name == "namespace") return walk.read_string(v, "metadata.namespace", ref.ns);
    if (name == "uid") return walk.read_string(v, "metadata.uid", out.uid);
    if (name == "resourceVersion") {
      return walk.read_string(v, "metadata.resourceVersion", out.resource_version);
    }
    if (const ProjectionNode* node = schema.kept_metadata(name)) {
      return walk.field(name, v, *node, kept.metadata, kept.metadata_first) || walk.at("metadata");
    }
    if (name == "managedFields") {
      kept.managed.clear();
      return walk.managed_fields(v, schema.fields_for(kind_now()), kept.managed) ||
             walk.at("metadata");
    }
    return true;
  };
  bool read = walk.each_field(root, [&](std::string_view key, od::value v) {
    if (key == "apiVersion") {
      has_api_version = true;
      return walk.read_string(v, "apiVersion", ref.api_version);
    }
    if (key == "kind") {
      has_kind = true;
      return walk.read_string(v, "kind", ref.kind);
    }
    if (key == "metadata") {
      od::json_type meta_type;
      if (auto e = v.type().get(meta_type); e) return walk.fail(e);
      if (meta_type != od::json_type::object) {
        return walk.fail("metadata must be an object, got " + std::string(type_name(meta_type)));
      }
      has_metadata = true;
      od::object meta;
      if (auto e = v.get_object().get(meta); e) return walk.fail(e);
      return walk.each_field(meta, metadata_field);
    }
    if (key == "spec") {
      kept.spec.clear();
      bool first = true;
      return walk.field("spec", v, schema.spec_for(kind_now()), kept.spec, first);
    }
    if (schema.whole) return walk.field(key, v, schema.object_metadata, kept.rest, kept.rest_first);
    return true;
  });
  if (!read) return error();
  // Trailing garbage after the object is found by the caller (document end).
  if (!has_api_version) ref.api_version.assign(fallback_api_version);
  if (!has_kind) ref.kind.assign(fallback_kind);
  auto missing = [&](std::string what) {
    walk.trail.clear();
    walk.fail("missing " + std::move(what));
    return error();
  };
  if (ref.api_version.empty()) return missing("apiVersion");
  if (ref.kind.empty()) return missing("kind");
  if (!has_metadata || ref.name.empty()) return missing("metadata.name");

  std::string& p = out.projection;
  p.reserve(64 + ref.api_version.size() + ref.kind.size() + ref.name.size() + ref.ns.size() +
            out.uid.size() + out.resource_version.size() + kept.metadata.size() +
            kept.managed.size() + kept.spec.size() + kept.rest.size());
  p += "{\"apiVersion\":";
  put_string(p, ref.api_version);
  p += ",\"kind\":";
  put_string(p, ref.kind);
  p += ",\"metadata\":{\"name\":";
  put_string(p, ref.name);
  if (!ref.ns.empty()) {
    p += ",\"namespace\":";
    put_string(p, ref.ns);
  }
  if (!out.uid.empty()) {
    p += ",\"uid\":";
    put_string(p, out.uid);
  }
  if (!out.resource_version.empty()) {
    p += ",\"resourceVersion\":";
    put_string(p, out.resource_version);
  }
  if (!kept.metadata.empty()) (p += ',') += kept.metadata;
  if (!kept.managed.empty()) (p += ',') += kept.managed;
  p += '}';
  if (!kept.spec.empty()) (p += ',') += kept.spec;
  if (!kept.rest.empty()) (p += ',') += kept.rest;
  p += '}';
  p.shrink_to_fit();
  return out;
}

std::vector<Category> projection_scope(const std::vector<Policy>& policies) {
  std::vector<Category> scope = diff_options_for(policies, "").scope;
  auto need = [&](Category c) {
    if (std::find(scope.begin(), scope.end(), c) == scope.end()) scope.push_back(c);
  };
  for (const Policy& p : policies) {
    const PolicyRules& r = p.rules;
    if (r.require_limits || r.qos_class) need(Category::kResources);
    if (r.gomaxprocs || r.gomemlimit) {
      need(Category::kResources);
      need(Category::kEnv);
    }
    if (r.selinux) need(Category::kSelinux);
    if (r.capabilities) need(Category::kCapabilities);
    if (r.sysctls) need(Category::kRuntime);
    if (r.env) need(Category::kEnv);
  }
  std::vector<Category> ordered;
  for (Category c : all_categories()) {
    if (std::find(scope.begin(), scope.end(), c) != scope.end()) ordered.push_back(c);
  }
  return ordered;
}

Projector::Projector(std::vector<Category> scope) : scope_(std::move(scope)) {
  for (Category c : scope_) in_scope_[static_cast<size_t>(c)] = true;
  schema_ = build_schema(in_scope_);
}

Projector Projector::whole_objects() {
  Projector projector(all_categories());
  projector.schema_ = whole_object_schema();
  return projector;
}

}  // namespace plumbline
