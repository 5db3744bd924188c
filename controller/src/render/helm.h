// render/helm.h — internal: reading what an external renderer (helm, a command) printed, and
// pointing its objects back at files of the repository.
//
// Helm's output cannot be traced to template lines (a template is text until it is executed),
// so an object's origin is the template file named by helm's `# Source:` comment, without a
// line. A field whose value comes straight from a values file points at that values line
// instead, when it can be found simply (values_origins.cc says how).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plumbline/core/file_tree.h"
#include "plumbline/core/object.h"
#include "plumbline/render/render.h"

namespace plumbline::renderer {

// Whether the directory holds a Chart.yaml.
Result<bool> has_chart(const FileTree& tree, const std::string& dir);

// "web" of "charts/web".
std::string last_component(const std::string& dir);

// One leaf of the values helm was given, where it was declared.
struct ValuesLeaf {
  std::string path;      // canonical path inside the values ("image.tag")
  std::string key;       // the last map key ("tag")
  json value;            // a scalar
  SourceLocation where;  // the values file and line
};

// The leaves of the values files of `run` (later files win; leaves an inline text sets or
// replaces are dropped: they have no line in the repository). Files that are not a mapping
// are skipped here (helm itself reports them).
Result<std::vector<ValuesLeaf>> values_leaves(const FileTree& tree, const ExternalRun& run);

// Per-field origins of a rendered object: each scalar leaf whose value equals exactly one
// values leaf with a related key name ("replicas" and "replicaCount", an env entry named
// LOG_LEVEL and "logLevel"). nullptr when no field matched.
std::shared_ptr<const FieldOrigins> values_origins(const json& object,
                                                   const std::vector<ValuesLeaf>& leaves);

// Parses a renderer's stdout with the loader of plain files (`kind: List` expanded, identity
// checked, the YAML guards). `display` names the stream in errors ("helm template of
// charts/web"). With `chart_dir` set, each object's origin is the tree file its `# Source:`
// comment names (else the chart folder); without, `origin_dir`.
Result<ManifestSet> read_rendered_stream(const FileTree& tree, std::string_view text,
                                         const std::string& display, const std::string& chart_dir,
                                         const std::string& origin_dir);

// helm through `external` with the run's values, origins set as above.
Result<ManifestSet> run_helm(const FileTree& tree, const ExternalRun& run,
                             const ExternalRenderer* external);

}  // namespace plumbline::renderer
