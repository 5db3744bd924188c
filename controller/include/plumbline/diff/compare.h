// plumbline/diff/compare.h — two environments of one repo, field by field.
//
// Objects match by kind and base name (Manifest::match_name); namespaces are not compared;
// references to same-environment objects (configMapKeyRef, secretKeyRef, envFrom, volumes)
// compare by base name, so prefixes and generator hash suffixes are never differences.
// Same categories, paths, normalization and masking as drift. `allowed` is left false here;
// the PolicyEngine sets it from crossEnvironment.mayDiffer.
#pragma once

#include "plumbline/core/findings.h"
#include "plumbline/diff/drift.h"

namespace plumbline {

EnvironmentComparison compare_environments(const ManifestSet& a, const ManifestSet& b,
                                           const DiffOptions& options);

}  // namespace plumbline
