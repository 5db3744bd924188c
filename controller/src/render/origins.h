// render/origins.h — where each field of a rendered object was last written.
//
// A base manifest knows the line of every field it declares (Manifest::fields). A patch,
// generator or transformer that writes a field afterwards becomes its declaration site, so a
// drift's "declared at" names the overlay that set the value, not the base it overrode.
#pragma once

#include <string>

#include "plumbline/core/object.h"

namespace plumbline::renderer {

// Records, for every field that differs between `before` and the manifest's object now
// (changed, added; a replaced subtree as a whole), where it was written: the nearest entry of
// `written` (a strategic-merge patch's own field lines), else `site`. With `patch` (the
// document `written` describes), every scalar the patch declares is recorded too, changed or
// not: it was written last. Identity fields and merge keys are never recorded from a patch.
void record_writes(Manifest& manifest, const json& before, const SourceLocation& site,
                   const FieldOrigins* written = nullptr, const json* patch = nullptr);

// One field (and everything below it) written at `site`, e.g. spec.replicas by `replicas:`.
void record_write(Manifest& manifest, const std::string& path, const SourceLocation& site);

}  // namespace plumbline::renderer
