// render/compact_documents.h — internal: one manifest file read straight into compact form.
//
// The stream path (plumbline/core/yaml_compact.h) where it takes the file, else the tree path
// (append_documents), whose objects, origins and errors are the reference.
#pragma once

#include <string>
#include <string_view>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/task_runner.h"

namespace plumbline::renderer {

// The objects of one YAML/JSON file as append_documents reads them (documents in order,
// `kind: List` expanded, identities checked, field origins recorded), checked as
// validate_desired checks them, and held compact. With `tasks`, a text of at least
// 2 × min_part_bytes is read in parts at once (stream_yaml_manifests).
Result<CompactManifestSet> parse_manifest_file(std::string_view text, const std::string& file,
                                               TaskRunner* tasks = nullptr,
                                               size_t min_part_bytes = size_t{1} << 20);

// The same through the tree path only (the reference the stream path is tested against).
Result<CompactManifestSet> parse_manifest_file_as_trees(std::string_view text,
                                                        const std::string& file);

}  // namespace plumbline::renderer
