// plumbline/render.h — Git files -> the desired set of objects of one environment.
//
// `plain`: every *.yaml|*.yml|*.json below the path (multi-document, `kind: List` expanded).
// `kustomize`: a native kustomize (resources, namespace, namePrefix/Suffix, labels,
// commonLabels, commonAnnotations, images, replicas, patches SMP/JSON6902 with targets,
// patchesStrategicMerge, patchesJson6902, configMap/secretGenerator with hash suffixes and
// reference updates); output equals `kubectl kustomize` (tests check it).
// `auto`: kustomize where the path holds a kustomization.yaml|yml|Kustomization, else plain.
//
//   PL_ASSIGN_OR_RETURN(ManifestSet desired, render(*tree, "envs/prod", {}));
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "plumbline/file_tree.h"
#include "plumbline/object.h"

namespace plumbline {

enum class RenderMode { kAuto, kPlain, kKustomize };
std::optional<RenderMode> parse_render_mode(std::string_view text);
std::string_view to_string(RenderMode mode);

// Caps on one render, so that a hostile or broken repository gives an error instead of
// exhausting the process: files read (a kustomization read twice counts twice), bytes read,
// and objects in the result.
struct RenderLimits {
  size_t max_files = 20'000;
  size_t max_bytes = size_t{64} << 20;  // 64 MiB
  size_t max_objects = 50'000;
  // Optional: asked before each file is read; true ends the render with kTimeout. The caller's
  // deadline (the renderer has no clock): a render may run past it by one file's parse, which
  // the YAML budget bounds.
  std::function<bool()> out_of_time;
};

struct RenderOptions {
  RenderMode mode = RenderMode::kAuto;
  RenderLimits limits;
};

// Every object carries its origin (file and line) and, for kustomize, its base name
// (Manifest::base_name: the name before namePrefix/nameSuffix and generator hash suffixes).
// Errors name the file (and line) and never return a partial set. Every renderer refuses two
// objects with one id (API group, kind, namespace, name), naming both files, and reads each
// directory once (a symlink back to an ancestor is not a second copy of its files).
Result<ManifestSet> render(const FileTree& tree, std::string_view path,
                           const RenderOptions& options);

Result<ManifestSet> render_plain(const FileTree& tree, std::string_view path,
                                 const RenderLimits& limits = {});
Result<ManifestSet> render_kustomize(const FileTree& tree, std::string_view path,
                                     const RenderLimits& limits = {});

}  // namespace plumbline
