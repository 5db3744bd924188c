// Manifest files read straight into the compact encoding (see compact_documents.h).
#include "render/compact_documents.h"

#include <utility>

#include "plumbline/core/yaml_compact.h"
#include "render/kustomize.h"
#include "render/validate.h"

namespace plumbline::renderer {

Result<CompactManifestSet> parse_manifest_file_as_trees(std::string_view text,
                                                        const std::string& file) {
  ManifestSet trees;
  PL_RETURN_IF_ERROR(append_documents(text, file, trees));
  PL_RETURN_IF_ERROR(validate_desired(trees));
  return compact(std::move(trees));
}

Result<CompactManifestSet> parse_manifest_file(std::string_view text, const std::string& file,
                                               TaskRunner* tasks, size_t min_part_bytes) {
  std::optional<std::vector<StreamedManifest>> streamed =
      stream_yaml_manifests(text, file, tasks, min_part_bytes);
  if (!streamed) return parse_manifest_file_as_trees(text, file);
  CompactManifestSet out;
  out.reserve(streamed->size());
  for (StreamedManifest& s : *streamed) {
    if (s.suspect_shape) PL_RETURN_IF_ERROR(validate_desired({s.manifest.materialize()}));
    out.push_back(std::move(s.manifest));
  }
  return out;
}

}  // namespace plumbline::renderer
