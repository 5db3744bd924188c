// plumbline/corrector.h — correction of drift by server-side apply (pure part).
//
// Only the drifted fields are sent, with their values from Git (never the masked values of
// the report), under the field manager `plumbline`: SSA then owns exactly those fields and
// leaves every other field and manager alone. Keyed list elements carry their key
// (containers[name=app] -> {"name": "app", …}); a set or atomic list is sent whole, as Git
// declares it, because the API replaces such lists as one value.
//
//   PL_ASSIGN_OR_RETURN(json patch, correction_patch(manifest, drifts_of_that_object));
//   client.apply(deployments, patch, {.field_manager = "plumbline", .force = true});
#pragma once

#include <vector>

#include "plumbline/error.h"
#include "plumbline/findings.h"
#include "plumbline/object.h"

namespace plumbline {

// changed or missing fields that Git declares. `extra` (a field Git does not declare) would
// need a removal SSA cannot express for another manager's field; object-level findings are
// not corrected either.
bool correctable(const Drift& drift);

// The apply patch for one object: apiVersion, kind, metadata.name/namespace and the drifted
// fields with their desired values. Drifts of other objects or not correctable: an error.
Result<json> correction_patch(const Manifest& desired, const std::vector<Drift>& drifts);

}  // namespace plumbline
