// support/fake_field_sets.h — field ownership for the fake API server (fake_kube_client.cc).
#pragma once

#include <string>
#include <string_view>

#include "support/fake_kube_client.h"

namespace plumbline::testing {

// An object's own fields as fieldsV1 paths (identity and bookkeeping left out).
FakeKubeClient::FieldSet fields_of(const json& object);
// The node the first `n` steps of a field path name, or nullptr; `parent` and `last` (the
// last step) when asked for.
json* node_at(json& root, const FakeKubeClient::FieldPath& path, size_t n, json** parent = nullptr,
              std::string* last = nullptr);
// Deletes what a field path names (a field, or the list element its "." marks).
void erase_at(json& root, const FakeKubeClient::FieldPath& path);
// Server-side apply's merge: objects by key, merge lists by element key, the rest replaced.
void merge_into(json& live, const json& config, std::string_view name);
// A strategic-merge patch: `$patch: delete` by key in merge lists, null deletes a field.
void strategic_merge(json& live, const json& patch, std::string_view name);
// fieldsV1 JSON of a field set.
json fields_json(const FakeKubeClient::FieldSet& fields);

}  // namespace plumbline::testing
