// core/yaml_scalar.h — internal: how a plain (unquoted) YAML scalar is typed, the one rule for
// every builder of YAML values (core/yaml.cc's JSON trees, render/compact_documents.cc's
// compact encoding).
#pragma once

#include <string>

#include "plumbline/core/object.h"

namespace plumbline {

// Kubernetes' YAML reading (YAML 1.1 core): null, booleans (yes/on/...), integers (decimal,
// hex, octal, leading-zero octal), floats; anything else, or out of range, stays a string.
json resolve_plain_scalar(const std::string& text);

}  // namespace plumbline
