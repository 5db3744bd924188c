// diff/managed_fields.h — who owns a live field, from metadata.managedFields (fieldsV1).
#pragma once

#include <string>
#include <string_view>

#include "plumbline/core/object.h"

namespace plumbline::diff {

struct FieldOwner {
  std::string manager;  // empty when no manager owns the field or an ancestor of it
  std::string time;     // the managedFields entry's `time`
};

// The manager owning `canonical_path` in `live`. The most specific owner wins (a manager
// owning the leaf beats one owning only the enclosing list element); ties go to the latest
// write. fieldsV1 keys: `f:<field>`, `k:{"name":"app"}` for keyed list elements,
// `v:"SYS_ADMIN"` for set values, `.` for the element itself.
FieldOwner find_owner(const json& live, std::string_view canonical_path);

// Whether `manager` (any of its entries, Apply or Update) owns the field at `canonical_path`
// itself (a leaf, or a list element marked `.`), shared with others or not.
bool owns(const json& live, std::string_view manager, std::string_view canonical_path);

}  // namespace plumbline::diff
