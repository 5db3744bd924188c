// plumbline/snapshot/snapshot.h — the live state from a file (`plumbline diff --live FILE`).
//
// Accepts `kubectl get -o yaml|json` output: a List (kind List or *List with items), a single
// object, or multi-document YAML. Server noise (managedFields, status, defaults) is kept as
// is; the DriftEngine ignores what it must.
#pragma once

#include <string_view>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/object.h"
#include "plumbline/core/task_runner.h"

namespace plumbline {

Result<std::vector<json>> parse_live_snapshot(std::string_view text, std::string_view file);

// The same objects, kept as the LiveCache keeps them (live_store.h): a JSON List (`kubectl
// get -o json`) is read one item at a time with simdjson and projected to the fields of
// `scope` (which give the same drift and policy findings as whole objects), never held as a
// whole tree. Any other input, and any List the projector refuses, is read by
// parse_live_snapshot (so errors are the same) and its objects are kept whole (as JSON text).
// With `tasks`, a List's items are projected side by side (the same objects, in order).
Result<std::vector<LiveObject>> parse_live_snapshot_projected(std::string_view text,
                                                              std::string_view file,
                                                              const std::vector<Category>& scope,
                                                              TaskRunner* tasks = nullptr);

}  // namespace plumbline
