// plumbline/correct/corrector.h — the requests that correct one object (pure: no I/O).
//
// The ownership model (DESIGN.md "Enforcement"): the apply configuration is always the whole
// in-scope, not-ignored part of Git's object — every field of the enforced categories Git
// declares, with the keys of the list elements on the way — never just today's drift. Server-
// side apply then keeps every field plumbline owns across corrections, and removes a field
// only when Git stops declaring it (and no other manager owns it). On top of Git's fields the
// configuration carries the safe value of each closed-world field someone loosened by hand
// (privileged, allowPrivilegeEscalation, hostNetwork/PID/IPC: false; procMount: Default) and
// Git's whole list (or an empty one) for an atomic list that gained an element
// (capabilities.add/drop, sysctls, supplementalGroups, envFrom) — in the same request, so the
// API server never sees a half-corrected, invalid object.
//
// What apply cannot take away — an element another manager added to a merge list (an env var
// from `kubectl set env`), a loosened field without a safe value (seccomp Unconfined, runAsUser
// 0, an SELinux type, a scalar of a strict category) — goes into a strategic-merge patch that
// names it: `$patch: delete` by the list key, or null for a field. Never by index.
//
// Fields a policy ignores are never sent (an autoscaler keeps its requests), except those
// plumbline already owns, which are sent with their live value so that ignoring a field never
// deletes it. Contested fields (another manager keeps changing them) are not sent either.
//
//   PL_ASSIGN_OR_RETURN(ObjectCorrection c, plan_object_correction(manifest, live, drifts, ctx));
//   client.apply(resource, c.apply, {.field_manager = ctx.field_manager, .force = true});
//   if (!c.removal.is_null()) client.patch(resource, ns, name, c.removal, {...});
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/object.h"
#include "plumbline/diff/drift.h"
#include "plumbline/policy/policy.h"

namespace plumbline {

// The field manager of an Environment's writes: "plumbline/<environment>" (names too long for
// the API's 128 characters end in a digest of the whole name).
std::string field_manager_for(std::string_view environment);

struct CorrectionContext {
  const DiffOptions& options;           // the environment's scope (what is enforced)
  const std::vector<Policy>& policies;  // their ignore rules
  std::string_view field_manager;
};

struct ObjectCorrection {
  json apply;    // the apply configuration (apiVersion, kind, metadata.name/namespace, fields)
  json removal;  // a strategic-merge patch of out-of-band additions; null when there is none
  // Indexes (into the drifts given) of the findings these requests correct; empty: nothing to
  // send. The others stay as they are (object-level findings, extras in containers Git does
  // not declare, lists without a safe way to shrink them).
  std::vector<size_t> fixes;
};

// `live` is the cached object (with managedFields); `drifts` its findings after policies
// (action report = to correct, ignored / contested = never sent).
Result<ObjectCorrection> plan_object_correction(const Manifest& desired, const json& live,
                                                const std::vector<Drift>& drifts,
                                                const CorrectionContext& context);

}  // namespace plumbline
