// plumbline/snapshot.h — the live state from a file (`plumbline diff --live FILE`).
//
// Accepts `kubectl get -o yaml|json` output: a List (kind List or *List with items), a single
// object, or multi-document YAML. Server noise (managedFields, status, defaults) is kept as
// is; the DriftEngine ignores what it must.
#pragma once

#include <string_view>
#include <vector>

#include "plumbline/object.h"

namespace plumbline {

Result<std::vector<json>> parse_live_snapshot(std::string_view text, std::string_view file);

}  // namespace plumbline
