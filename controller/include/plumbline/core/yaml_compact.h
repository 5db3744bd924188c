// plumbline/core/yaml_compact.h — manifests read from YAML straight into compact form.
//
// parse_yaml_documents builds each document as a whole JSON tree; a renderer that keeps the
// objects compact (plumbline/core/compact_manifest.h) then encodes the tree and frees it, and
// over 10,000 workloads most of its time goes to allocating and freeing those nodes. Here
// libyaml's events are written straight into the compact encoding, with the same field
// origins and the same YAML 1.1 typing, and no tree is built.
//
// Only plain manifests take this path. A text with anchors, aliases, "<<" merges, explicit
// scalar tags, duplicate keys, a document that is not a mapping with a non-empty apiVersion,
// kind and metadata.name, a `kind: List`, or anything the guards or libyaml refuse gives
// nullopt: the caller reads it with parse_yaml_documents, whose objects and errors are the
// reference (tests compare the two paths on every kind of input).
//
//   auto streamed = stream_yaml_manifests(text, "envs/prod/api.yaml");
//   if (!streamed) { /* parse_yaml_documents(text, file, {.field_origins = true}) */ }
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/task_runner.h"

namespace plumbline {

struct StreamedManifest {
  CompactManifest manifest;  // origin: the file and the line of the document's root
  // A containers / initContainers / ephemeralContainers / env field somewhere in the object is
  // not a list of mappings with a string name (env: and a string or null value): a shape the
  // API server may refuse, which the caller checks on the decoded object.
  bool suspect_shape = false;
};

// With a TaskRunner of concurrency N, a text of at least 2 × min_part_bytes is cut into up to
// N parts at document markers (split_yaml_stream) and the parts are read at once; if any part
// needs the tree path, the whole text does. The result is the same as one part's.
std::optional<std::vector<StreamedManifest>> stream_yaml_manifests(std::string_view text,
                                                                   const std::string& file,
                                                                   TaskRunner* tasks = nullptr,
                                                                   size_t min_part_bytes = size_t{1}
                                                                                           << 20);

// A part of a YAML stream that reads on its own as it reads in the whole.
struct YamlStreamPart {
  std::string_view text;
  int lines_before = 0;  // lines of the whole before the part
};
// Up to `parts` parts of at least min_part_bytes each, cut just before a document marker
// ("---" at the start of a line, then a blank) near equal sizes. One part (the whole) when the
// text is small, has no marker to cut at, or has what a cut could change: a directive, or a
// line break that is not '\n' or "\r\n".
std::vector<YamlStreamPart> split_yaml_stream(std::string_view text, size_t parts,
                                              size_t min_part_bytes);

}  // namespace plumbline
