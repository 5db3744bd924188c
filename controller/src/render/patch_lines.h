// render/patch_lines.h — a patch document with the lines that write each of its fields, so a
// field the patch sets is "declared at" the patch's line (DESIGN.md: declared at).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"
#include "plumbline/core/yaml.h"

namespace plumbline::renderer {

struct PatchDocument {
  json value;
  std::shared_ptr<const FieldOrigins> fields;  // strategic merge: the line of each field
  std::vector<SourceLocation> operations;      // JSON 6902: the line of each operation
  SourceLocation location;                     // the document's first line
};

// `text` is the patch text the document was parsed from. `line_offset` > 0: the text is inline
// in a kustomization, as a block scalar whose first line follows line `line_offset`.
PatchDocument located_patch(YamlDocument document, std::string_view text, int line_offset);

}  // namespace plumbline::renderer
