// declared_fields(): Git's in-scope fields, found by walking the desired object against an
// object that declares nothing (compare mode reports everything one side has).
#include "diff/walker.h"
#include "plumbline/diff/drift.h"

namespace plumbline {

std::vector<DeclaredField> declared_fields(const json& desired, const DiffOptions& options) {
  diff::Walker walker(options, diff::Mode::kCompare);
  json nothing = json::object();
  if (desired.is_object() && desired.contains("kind")) nothing["kind"] = desired["kind"];
  std::vector<diff::RawFinding> found;
  walker.walk_object(diff::JsonNode(&desired), diff::JsonNode(&nothing), found);
  std::vector<DeclaredField> out;
  out.reserve(found.size());
  for (diff::RawFinding& f : found) out.push_back({std::move(f.path), f.category});
  return out;
}

}  // namespace plumbline
