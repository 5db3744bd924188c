// render/patch.h — the two patch languages kustomize overlays use, on nlohmann::json.
//
// Internal to the renderer (and the fuzzer): strategic merge patch with the Kubernetes merge
// keys of the pod spec, and RFC 6902 JSON patch. Neither throws; bad input is an Error.
#pragma once

#include "plumbline/core/error.h"
#include "plumbline/core/object.h"

namespace plumbline::renderer {

// Applies a strategic merge patch. A top-level `$patch: delete` yields a null result, which
// the caller treats as "remove this object".
Result<json> apply_strategic_merge(const json& base, const json& patch);

// Applies an RFC 6902 operation list ([{op, path, value|from}, ...]).
Result<json> apply_json_patch(const json& document, const json& operations);

}  // namespace plumbline::renderer
