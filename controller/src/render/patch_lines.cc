// The lines of a patch's fields and operations, shifted into the kustomization for inline
// patches.
#include "render/patch_lines.h"

#include <string>

namespace plumbline::renderer {
namespace {

// 1-based lines of the entries of the block sequence that starts at or after `first_line`
// ("- op: replace" lines at the sequence's indentation), up to the next document.
std::vector<int> sequence_entry_lines(std::string_view text, int first_line) {
  std::vector<int> out;
  size_t indent = std::string_view::npos;
  int line = 1;
  for (size_t start = 0; start <= text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view row = text.substr(start, end - start);
    start = end + 1;
    if (line < first_line) continue;
    if (row.rfind("---", 0) == 0 && line > first_line) break;
    size_t at = row.find_first_not_of(' ');
    if (at == std::string_view::npos || row[at] != '-') continue;
    if (at + 1 < row.size() && row[at + 1] != ' ') continue;
    if (indent == std::string_view::npos) indent = at;
    if (at == indent) out.push_back(line);
  }
  return out;
}

}  // namespace

PatchDocument located_patch(YamlDocument document, std::string_view text, int line_offset) {
  PatchDocument out;
  auto shift = [&](SourceLocation at) {
    if (line_offset > 0 && at.line > 0) at.line += line_offset;
    return at;
  };
  out.location = shift(document.location);
  if (document.fields && line_offset > 0) {
    FieldOrigins::Builder shifted;
    document.fields->for_each([&](std::string_view path, const SourceLocation& at) {
      SourceLocation moved = shift(at);
      shifted.add(path, moved.file, moved.line, moved.column);
    });
    out.fields = std::make_shared<const FieldOrigins>(std::move(shifted).build());
  } else {
    out.fields = std::move(document.fields);
  }
  if (document.value.is_array()) {
    std::vector<int> lines = sequence_entry_lines(text, document.location.line);
    if (lines.size() == document.value.size()) {
      for (int line : lines) out.operations.push_back(shift({document.location.file, line, 0}));
    }
  }
  out.value = std::move(document.value);
  return out;
}

}  // namespace plumbline::renderer
