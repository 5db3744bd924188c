// render/validate.h — checks on the rendered desired state that the API server would refuse.
#pragma once

#include "plumbline/core/object.h"

namespace plumbline::renderer {

// Identity fields, container lists with string names, env entries with string names and
// string values. Errors name the file:line, the object and the canonical field path.
Status validate_desired(const ManifestSet& objects);

}  // namespace plumbline::renderer
