// cache/projection_walk.h — private to the cache: the pieces of the Projector and the LIST /
// WATCH parsers (see plumbline/cache/live_store.h for what they do).
//
//   projection_schema.cc       which fields are kept (from core/field_table.h)
//   json_text.cc               minified JSON output and number validation
//   projection_walk.cc         the on-demand walk: copy a value, filter by the schema
//   projection_managed_fields.cc  managedFields pruned to the kept fields
//   projector.cc               one object -> LiveObject; projection_scope()
//   list_watch_parse.cc        LIST bodies and WATCH lines, projected or whole
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plumbline/cache/live_store.h"

namespace plumbline {

namespace od = simdjson::ondemand;

// ---------------------------------------------------------------------------------------------
// The schema: which fields of an object are kept.

struct ProjectionNode {
  enum class Kind {
    kAll,     // copied whole
    kFilter,  // an object: only the listed children
    kList,    // an array of objects, each filtered by `children` (fieldsV1: k: entries)
  };
  std::string_view name;
  Kind kind = Kind::kAll;
  std::vector<ProjectionNode> children;
  bool keep_empty = false;   // object form: written even when nothing inside is kept
  bool object_only = false;  // not looked up in fieldsV1 (container name: never a finding path)

  const ProjectionNode* child(std::string_view key) const {
    for (const ProjectionNode& c : children) {
      if (c.name == key) return &c;
    }
    return nullptr;
  }
};

struct Projector::Schema {
  // Whole objects (the controller's own resources): everything is copied.
  bool whole = false;
  // The `spec` of an object per pod-template shape, and for a kind not known when `spec` is
  // read (the union of the three shapes; find_pod_spec decides later which one counts).
  ProjectionNode spec_pod, spec_cronjob, spec_template, spec_unknown;
  ProjectionNode metadata_fields;  // f:metadata in fieldsV1 (labels, when in scope)
  // Kept metadata fields besides identity and managedFields: labels always, others in scope.
  ProjectionNode object_metadata;
  // fieldsV1 roots: {f:metadata, f:spec} for each spec shape.
  ProjectionNode fields_pod, fields_cronjob, fields_template, fields_unknown;

  const ProjectionNode& spec_for(std::string_view kind) const;
  const ProjectionNode& fields_for(std::string_view kind) const;
  // The node of a metadata field kept besides identity, or nullptr.
  const ProjectionNode* kept_metadata(std::string_view name) const;
};

std::shared_ptr<const Projector::Schema> build_schema(const bool (&in_scope)[16]);
std::shared_ptr<const Projector::Schema> whole_object_schema();

// ---------------------------------------------------------------------------------------------
// Minified JSON output (json_text.cc).

void put_string(std::string& out, std::string_view s);
// `"key":` after a comma unless `first`.
void open_key(std::string& out, std::string_view key, bool first);
// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool valid_number(std::string_view s);
std::string_view trim_right(std::string_view s);
std::string_view type_name(od::json_type t);  // "an array", "a string", …
std::string json_error_message(simdjson::error_code e);

// ---------------------------------------------------------------------------------------------
// Iteration: the one place that reads an object's fields or an array's elements and fails on
// bad JSON. `visit(key, value)` / `visit(index, value)` returns false to stop (a failure of its
// own, or "found what I wanted"); the result is the JSON error, if any.

template <typename Visit>
simdjson::error_code for_each_field(od::object& object, Visit&& visit) {
  for (auto f : object) {
    od::field fd;
    if (auto e = std::move(f).get(fd); e) return e;
    std::string_view key;
    if (auto e = fd.unescaped_key().get(key); e) return e;
    if (!visit(key, fd.value())) break;
  }
  return simdjson::SUCCESS;
}

template <typename Visit>
simdjson::error_code for_each_element(od::array& array, Visit&& visit) {
  size_t i = 0;
  for (auto element : array) {
    od::value value;
    if (auto e = std::move(element).get(value); e) return e;
    if (!visit(i++, value)) break;
  }
  return simdjson::SUCCESS;
}

// ---------------------------------------------------------------------------------------------
// One projection: the on-demand walk and its error (with the field path, built on the way out).

class Walk {
 public:
  // The message of the first failure; `path` is filled in as the failure unwinds.
  std::string message;
  std::vector<std::string> trail;  // innermost segment first

  bool fail(simdjson::error_code e) {
    message = json_error_message(e);
    return false;
  }
  bool fail(std::string m) {
    message = std::move(m);
    return false;
  }
  // Records that the failure happened under `segment` (a field name or "[i]").
  bool at(std::string_view segment) {
    trail.emplace_back(segment);
    return false;
  }
  std::string path() const;
  // "<message> at <path>" or just the message.
  std::string describe() const;

  // for_each_field / for_each_element whose visitor fails through this walk: false when the
  // JSON is bad (recorded here, at no field: the parser stopped there) or the visitor returned
  // false (it records its failure and where).
  template <typename Visit>
  bool each_field(od::object& object, Visit&& visit) {
    bool stopped = false;
    auto e = for_each_field(object, [&](std::string_view key, od::value value) {
      if (visit(key, value)) return true;
      stopped = true;
      return false;
    });
    return e ? fail(e) : !stopped;
  }
  template <typename Visit>
  bool each_element(od::array& array, Visit&& visit) {
    bool stopped = false;
    auto e = for_each_element(array, [&](size_t i, od::value value) {
      if (visit(i, value)) return true;
      stopped = true;
      return false;
    });
    return e ? fail(e) : !stopped;
  }

  // Copies any value, validating it, minified.
  bool copy(od::value v, std::string& out);
  // Object form: `"key":<projected>` unless the node drops it; `first` says whether a comma
  // is needed and becomes false once something is written.
  bool field(std::string_view key, od::value v, const ProjectionNode& node, std::string& out,
             bool& first);
  // fieldsV1 form of the same node.
  // `element`: `node` is a kList and `v` one of its k: entries (filtered by its children).
  bool fields_v1(std::string_view key, od::value v, const ProjectionNode& node, std::string& out,
                 bool& first, bool element = false);
  // A kept fieldsV1 subtree, copied whole except the key fields inside k: elements (f:name in
  // k:{"name":"X"}): elements are matched by key, so their key fields are never a finding's
  // path. `element_key` is the k: key `v` sits under, if any. `emptied`: `v` was a non-empty
  // object and nothing of it is left; the caller drops it (`{}` would read as an owned leaf).
  bool copy_fields(od::value v, std::string& out, std::string_view element_key, bool& emptied);
  // metadata.managedFields pruned to the fields under `root` (fieldsV1 form), as
  // `"managedFields":[...]` or nothing.
  bool managed_fields(od::value v, const ProjectionNode& root, std::string& out);
  // A string field into `to`; a non-string is an error naming the field.
  bool read_string(od::value v, std::string_view field, std::string& to);
};

// Inside Walk members: a failed simdjson call becomes the walk's failure.
#define PL_SJ(expr)                                 \
  do {                                              \
    if (auto pl_sj_error_ = (expr); pl_sj_error_) { \
      return fail(pl_sj_error_);                    \
    }                                               \
  } while (false)

// The projection of one object held by an on-demand value; shared by Projector::project(),
// parse_list() and parse_watch_event().
class ProjectionAccess {
 public:
  static Result<LiveObject> project(const Projector& projector, od::value value,
                                    std::string_view fallback_api_version,
                                    std::string_view fallback_kind);
};

}  // namespace plumbline
