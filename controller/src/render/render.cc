// Renderer dispatch: picks plain, kustomize, helm or command for a path and names the mode in
// errors.
#include "plumbline/render/render.h"

#include "plumbline/render/parse_cache.h"
#include "render/helm.h"
#include "render/kustomize.h"
#include "render/validate.h"

namespace plumbline {

std::optional<RenderMode> parse_render_mode(std::string_view text) {
  if (text == "auto") return RenderMode::kAuto;
  if (text == "plain") return RenderMode::kPlain;
  if (text == "kustomize") return RenderMode::kKustomize;
  if (text == "helm") return RenderMode::kHelm;
  if (text == "command") return RenderMode::kCommand;
  return std::nullopt;
}

std::string_view to_string(RenderMode mode) {
  switch (mode) {
    case RenderMode::kAuto:
      return "auto";
    case RenderMode::kPlain:
      return "plain";
    case RenderMode::kKustomize:
      return "kustomize";
    case RenderMode::kHelm:
      return "helm";
    case RenderMode::kCommand:
      return "command";
  }
  return "auto";
}

namespace {

// auto: a kustomization first (it may inflate charts itself), then a chart, else plain.
Result<RenderMode> detect(const FileTree& tree, std::string_view path) {
  PL_ASSIGN_OR_RETURN(std::string normalized, join_tree_path("", path));
  PL_ASSIGN_OR_RETURN(auto file, renderer::find_kustomization(tree, normalized));
  if (file) return RenderMode::kKustomize;
  PL_ASSIGN_OR_RETURN(bool chart, renderer::has_chart(tree, normalized));
  return chart ? RenderMode::kHelm : RenderMode::kPlain;
}

// A plain render, compact: every file is validated as it is parsed (and held validated by the
// cache), so the set is not validated again.
Result<CompactManifestSet> render_plain_validated(const FileTree& tree, std::string_view path,
                                                  const RenderOptions& options) {
  PL_ASSIGN_OR_RETURN(
      CompactManifestSet objects,
      render_plain_compact(tree, path, options.limits, options.parse_cache, options.tasks));
  if (options.parse_cache != nullptr) options.parse_cache->render_done();
  return objects;
}

}  // namespace

Result<ManifestSet> render(const FileTree& tree, std::string_view path,
                           const RenderOptions& options) {
  RenderMode mode = options.mode;
  if (mode == RenderMode::kAuto) {
    PL_ASSIGN_OR_RETURN(mode, detect(tree, path));
  }
  if (mode == RenderMode::kPlain) {
    PL_ASSIGN_OR_RETURN(CompactManifestSet objects, render_plain_validated(tree, path, options));
    return materialize(objects);
  }
  Result<ManifestSet> objects = ManifestSet{};
  switch (mode) {
    case RenderMode::kKustomize:
      objects = render_kustomize(tree, path, options);
      break;
    case RenderMode::kHelm:
      objects = render_helm(tree, path, options);
      break;
    case RenderMode::kCommand:
    default:  // kAuto and kPlain are handled above
      objects = render_command(tree, path, options);
  }
  if (!objects) return objects;
  PL_RETURN_IF_ERROR(renderer::validate_desired(*objects));
  if (options.parse_cache != nullptr) options.parse_cache->render_done();
  return objects;
}

Result<CompactManifestSet> render_compact(const FileTree& tree, std::string_view path,
                                          const RenderOptions& options) {
  RenderMode mode = options.mode;
  if (mode == RenderMode::kAuto) {
    PL_ASSIGN_OR_RETURN(mode, detect(tree, path));
  }
  if (mode == RenderMode::kPlain) return render_plain_validated(tree, path, options);
  RenderOptions resolved = options;
  resolved.mode = mode;
  PL_ASSIGN_OR_RETURN(ManifestSet objects, render(tree, path, resolved));
  if (options.parse_cache == nullptr) return compact(std::move(objects));
  return compact(std::move(objects), options.parse_cache->manifests());
}

}  // namespace plumbline
