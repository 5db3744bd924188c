// render/replacement_paths.h — kustomize's field paths for replacements:
//   spec.template.spec.containers.[name=app].env.[name=X].value
// A part is a field, a list index, `[field=value]` (a list element by one field), `[=value]`
// (a scalar element), or `*` (every element); `[a.b]` or `a\.b` keep a dot inside a key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/core/object.h"

namespace plumbline::renderer {

// Splits a field path into its parts, keeping bracketed parts whole.
std::vector<std::string> split_field_path(std::string_view path);

// A replacement's source value: fields, indexes, `-` (the last element), [field=value] (the
// first element whose field equals value). nullptr when any part is missing.
Result<const json*> lookup_field(const json& object, const std::vector<std::string>& parts);

// What a missing target field is created as (options.create): the kind of the value.
enum class CreateKind { kNone, kScalar, kMapping, kSequence };

struct FieldMatch {
  json::json_pointer pointer;
  bool created = false;  // a scalar leaf made for the value: its type follows the value's text
};

// Every field a target path names. [field=value] matches value as an unanchored regular
// expression and `*` every element, as kustomize's path matcher does; with `create`, missing
// fields and list elements are added on the way.
Status match_fields(json& object, const std::vector<std::string>& parts, CreateKind create,
                    std::vector<FieldMatch>& out);

// The value of a plain, untagged YAML scalar with this text ("8080" reads back as a number):
// what a field kustomize creates from a value's text holds.
json plain_scalar(const std::string& text);

// A scalar's text as YAML would print it ("3", "true", "" for null).
std::string scalar_text(const json& value);

}  // namespace plumbline::renderer
