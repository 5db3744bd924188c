// plumbline/diff/drift.h — the DriftEngine: field-scoped, normalized drift between Git and live.
//
// Pure: no I/O, no clocks. DESIGN.md "Drift semantics" is the contract: categories and scope,
// canonical paths, the types changed/missing/extra/object-missing/object-extra, quantities by
// value, keyed lists and sets order-insensitive, undeclared scalars not compared (except
// strict categories and the closed world of security fields), secrets masked, attribution
// from managedFields.
//
//   DiffOptions options{.scope = default_scope(), .environment = "prod"};
//   std::vector<Drift> drifts = compute_drift(desired, live, options);
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/object.h"

namespace plumbline {

struct DiffOptions {
  std::vector<Category> scope = default_scope();
  // Categories where a scalar the live side sets but Git does not declare is `extra` too.
  std::vector<Category> strict;
  MaskOptions mask;
  // Live objects carrying plumbline.dev/environment=<environment> but absent from Git are
  // reported as object-extra. Empty: no object-extra findings.
  std::string environment;
};

// The category of a canonical path inside an object of `kind`, nullopt when the field is in
// no category (never compared). E.g. "...containers[name=app].resources.limits.cpu" -> resources.
std::optional<Category> categorize(std::string_view kind, std::string_view canonical_path);

// Live objects are whole API objects (or projections holding at least the in-scope fields,
// identity and managedFields). Findings are sorted by object, then path.
std::vector<Drift> compute_drift(const ManifestSet& desired, const std::vector<json>& live,
                                 const DiffOptions& options);

// The order of findings in a report: by object, then path, then type.
void sort_drifts(std::vector<Drift>& drifts);

// The object-level findings, for callers that match objects themselves (EnvironmentEvaluation):
// `desired` has no live object; `live` has no desired one and is labelled
// plumbline.dev/environment=<options.environment> (nullopt otherwise, or when that is empty).
Drift object_missing(const Manifest& desired);
Drift object_missing(const ObjectRef& desired, const SourceLocation& origin);
std::optional<Drift> object_extra(const json& live, const DiffOptions& options);

// The in-scope fields Git declares in `desired`, each once, as the walk names them: a scalar
// leaf (…resources.limits.memory), a whole keyed-list element (…env[name=LOG_LEVEL]), a set
// element (…capabilities.add[NET_ADMIN]) or a whole atomic list (…envFrom). The corrector
// builds its apply configuration from these; the walk is the diff's, so what is compared and
// what is enforced are one table.
struct DeclaredField {
  std::string path;
  Category category = Category::kResources;
};
std::vector<DeclaredField> declared_fields(const json& desired, const DiffOptions& options);

// Drift of one object pair (used by compute_drift and by EnvironmentEvaluation per object).
std::vector<Drift> diff_object(const Manifest& desired, const json& live,
                               const DiffOptions& options);
// The same drifts as diff_object(desired.materialize(), <the live object>), read from the
// encodings (core/compact_encoding.h) without building either tree: the desired object as
// held, and `live` as LiveObject::encode wrote it. Owners are not named: attribute_owners.
std::vector<Drift> diff_encoded(const CompactManifest& desired, std::string_view live,
                                const DiffOptions& options);

// Whether a drift names who last wrote its live field: changed and extra drifts (a missing
// field or object has no live writer).
bool has_live_owner(const Drift& drift);
// Names the manager (and time) that last wrote the live field of each drift that has one,
// from `live`'s metadata.managedFields; others are left as they are. diff_object does it; an
// evaluation that diffed an object materialized without its managedFields does it again with
// them, only for the few objects that drifted.
void attribute_owners(std::span<Drift> drifts, const json& live);

}  // namespace plumbline
