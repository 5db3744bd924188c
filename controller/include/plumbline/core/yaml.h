// plumbline/core/yaml.h — YAML in, JSON out (and JSON back to YAML for `plumbline render`).
//
// YAML is only a reader format: every document becomes nlohmann::json with the scalar typing
// Kubernetes uses (plain `true`/`yes`/`on`, ints, floats and `null` are typed; quoted scalars
// are strings). Errors name the file, line and column.
//
//   PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(text, "base/deploy.yaml"));
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline {

struct YamlOptions {
  // Record where each field is declared (canonical path -> line); costs time and memory,
  // so only the Git side asks for it.
  bool field_origins = false;
  // Upper bound on the memory the parsed documents of one file take, estimated per node as it
  // is built (aliases can expand a 401-byte file into gigabytes). Counted across the whole
  // file, not per document; the file's own size is allowed on top (see yaml_node_cost).
  size_t max_memory = size_t{256} << 20;
};

struct YamlDocument {
  json value;               // null for an empty document ("---" with nothing after it)
  SourceLocation location;  // file and the line the document starts on
  std::shared_ptr<const FieldOrigins> fields;  // when YamlOptions::field_origins
};

// Parses every document of a (multi-document) YAML or JSON text.
Result<std::vector<YamlDocument>> parse_yaml_documents(std::string_view text, std::string_view file,
                                                       const YamlOptions& options = {});

// Parses exactly one document (empty text is an error).
Result<json> parse_yaml(std::string_view text, std::string_view file);

// Emits YAML that parses back to the same JSON (strings that would read as another type are
// quoted). Keys are sorted (nlohmann::json objects are ordered maps).
std::string to_yaml(const json& value);
// Several documents separated by "---".
std::string to_yaml_stream(const std::vector<json>& documents);

}  // namespace plumbline
