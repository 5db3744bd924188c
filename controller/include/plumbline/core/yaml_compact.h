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

namespace plumbline {

struct StreamedManifest {
  CompactManifest manifest;  // origin: the file and the line of the document's root
  // A containers / initContainers / ephemeralContainers / env field somewhere in the object is
  // not a list of mappings with a string name (env: and a string or null value): a shape the
  // API server may refuse, which the caller checks on the decoded object.
  bool suspect_shape = false;
};

std::optional<std::vector<StreamedManifest>> stream_yaml_manifests(std::string_view text,
                                                                   const std::string& file);

}  // namespace plumbline
