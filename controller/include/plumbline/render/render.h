// plumbline/render/render.h — Git files -> the desired set of objects of one environment.
//
// `plain`: every *.yaml|*.yml|*.json below the path (multi-document, `kind: List` expanded).
// `kustomize`: a native kustomize (resources and remote bases, namespace, namePrefix/Suffix,
// labels, commonLabels, commonAnnotations, images, replicas, patches SMP/JSON6902 with targets,
// patchesStrategicMerge, patchesJson6902, configMap/secretGenerator with hash suffixes and
// reference updates); output equals `kubectl kustomize` (tests check it).
// `helm`: the chart folder at the path rendered by the real helm (`helm template`), through
// RenderOptions::external; kustomize's `helmCharts` take the same path.
// `command`: any other renderer (RenderOptions::command) run by RenderOptions::external in a
// copy of the tree; its stdout is read as a YAML stream.
// `auto`: kustomize where the path holds a kustomization.yaml|yml|Kustomization, helm where it
// holds a Chart.yaml, else plain.
//
// The renderers never run a program themselves: helm and commands go through the
// ExternalRenderer the caller passes (plumbline/process/render_process.h runs them as child
// processes; tests pass a fake). Without one, a render that needs it is an error.
//
//   PL_ASSIGN_OR_RETURN(ManifestSet desired, render(*tree, "envs/prod", {}));
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/core/object.h"
#include "plumbline/core/task_runner.h"
#include "plumbline/render/remote_base.h"

namespace plumbline {

class ParseCache;

enum class RenderMode { kAuto, kPlain, kKustomize, kHelm, kCommand };
std::optional<RenderMode> parse_render_mode(std::string_view text);
std::string_view to_string(RenderMode mode);

// Caps on one render, so that a hostile or broken repository gives an error instead of
// exhausting the process: files read (a kustomization read twice counts twice), bytes read,
// and objects in the result.
struct RenderLimits {
  size_t max_files = 20'000;
  size_t max_bytes = size_t{64} << 20;  // 64 MiB
  size_t max_objects = 50'000;
  // kustomize remote bases: how many a render may list (each listing counts; one repository
  // at one ref is fetched once) and how deep they may nest (a remote base listing another).
  // Their files count against max_files and max_bytes.
  size_t max_remote_bases = 16;
  size_t max_remote_depth = 3;
  // Optional: asked before each file is read; true ends the render with kTimeout. The caller's
  // deadline (the renderer has no clock): a render may run past it by the parse of what was
  // read before — one file, or for a plain render one batch (≤ 256 files and 16 MiB, or one
  // larger file) — which the byte budget bounds.
  std::function<bool()> out_of_time;
};

// One run of an external renderer over files of the tree.
struct ExternalRun {
  enum class Kind { kHelm, kCommand };
  Kind kind = Kind::kHelm;
  // kHelm: `helm template <release_name> <chart_dir> --namespace <ns> <flags> -f <values>...`.
  std::string chart_dir;  // tree path of the chart folder
  std::string release_name;
  std::string namespace_name;  // "": helm's own default
  // Values in helm's order (later wins): a file of the tree, or a YAML/JSON text.
  struct Values {
    std::string tree_path;  // set: this file of the tree
    std::string text;       // else: this text
  };
  std::vector<Values> values;
  std::vector<std::string> flags;  // "--include-crds", "--skip-tests", "--no-hooks", ...
  // kCommand: argv run in the folder `dir` of a copy of the tree.
  std::vector<std::string> argv;
  std::string dir;
};

class ExternalRenderer {
 public:
  virtual ~ExternalRenderer() = default;
  // What the program wrote to stdout (a YAML stream). Errors name the program and say why
  // (its exit status and the last lines of its stderr, a timeout, too much output); nothing
  // of a failed run is returned.
  virtual Result<std::string> run(const FileTree& tree, const ExternalRun& run) const = 0;
};

// Environment spec.render for type helm (and --values/--set-json-like CLI flags).
struct HelmOptions {
  std::string release_name;               // "": the chart's name
  std::string namespace_name;             // "": helm's default
  std::vector<std::string> values_files;  // tree paths, relative to the repository root
  json values;                            // inline values (an object or null), applied last
};

struct RenderOptions {
  RenderMode mode = RenderMode::kAuto;
  RenderLimits limits;
  HelmOptions helm;
  std::vector<std::string> command;  // kCommand: the program and its arguments
  const ExternalRenderer* external = nullptr;
  // Fetches kustomize remote bases (plumbline/render/remote_base.h); without one, a remote
  // base is an error.
  RemoteBaseFetcher* remote_bases = nullptr;
  // Out, when set: what the report should say that is no error (a remote base whose ref is
  // not pinned), in the order met.
  std::vector<std::string>* warnings = nullptr;
  // Optional: parses of earlier renders by file content (plumbline/render/parse_cache.h), used
  // for the files of a tree that knows content ids (a Git commit); render_done() is called
  // after a render that succeeded.
  ParseCache* parse_cache = nullptr;
  // Optional: runs a plain render's parsing at once on several threads (the caller's; the
  // renderers start none). Without one, everything runs on the calling thread.
  TaskRunner* tasks = nullptr;
};

// Every object carries its origin (file and line) and, for kustomize, its base name
// (Manifest::base_name: the name before namePrefix/nameSuffix and generator hash suffixes).
// Errors name the file (and line) and never return a partial set. Every renderer refuses two
// objects with one id (API group, kind, namespace, name), naming both files, and reads each
// directory once (a symlink back to an ancestor is not a second copy of its files).
Result<ManifestSet> render(const FileTree& tree, std::string_view path,
                           const RenderOptions& options);

// The same render held compact (plumbline/core/compact_manifest.h), for the controller and
// `plumbline diff`: a plain render reads each file straight into compact form, without JSON
// trees, and shares the objects of files the parse cache holds; the other modes render as
// render() does and are encoded after (sharing the cache's bytes where they are the same).
Result<CompactManifestSet> render_compact(const FileTree& tree, std::string_view path,
                                          const RenderOptions& options);

Result<ManifestSet> render_plain(const FileTree& tree, std::string_view path,
                                 const RenderLimits& limits = {}, ParseCache* cache = nullptr);
// With `tasks`, files are parsed side by side and a large file in parts (the objects, their
// order and the errors are the same as without).
Result<CompactManifestSet> render_plain_compact(const FileTree& tree, std::string_view path,
                                                const RenderLimits& limits = {},
                                                ParseCache* cache = nullptr,
                                                TaskRunner* tasks = nullptr);
Result<ManifestSet> render_kustomize(const FileTree& tree, std::string_view path,
                                     const RenderLimits& limits = {},
                                     const ExternalRenderer* external = nullptr);
// With options.external, options.remote_bases and options.warnings (options.mode unused).
Result<ManifestSet> render_kustomize(const FileTree& tree, std::string_view path,
                                     const RenderOptions& options);
// The chart folder at `path` through options.external (helm) and options.helm.
Result<ManifestSet> render_helm(const FileTree& tree, std::string_view path,
                                const RenderOptions& options);
// options.command through options.external, run in the folder `path`.
Result<ManifestSet> render_command(const FileTree& tree, std::string_view path,
                                   const RenderOptions& options);

}  // namespace plumbline
