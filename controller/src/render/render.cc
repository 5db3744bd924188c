// Renderer dispatch: picks plain or kustomize for a path and names the mode in errors.
#include "plumbline/render.h"

#include "render/kustomize.h"
#include "render/validate.h"

namespace plumbline {

std::optional<RenderMode> parse_render_mode(std::string_view text) {
  if (text == "auto") return RenderMode::kAuto;
  if (text == "plain") return RenderMode::kPlain;
  if (text == "kustomize") return RenderMode::kKustomize;
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
  }
  return "auto";
}

Result<ManifestSet> render(const FileTree& tree, std::string_view path,
                           const RenderOptions& options) {
  RenderMode mode = options.mode;
  if (mode == RenderMode::kAuto) {
    PL_ASSIGN_OR_RETURN(std::string normalized, join_tree_path("", path));
    PL_ASSIGN_OR_RETURN(auto file, renderer::find_kustomization(tree, normalized));
    mode = file ? RenderMode::kKustomize : RenderMode::kPlain;
  }
  auto objects = mode == RenderMode::kKustomize ? render_kustomize(tree, path, options.limits)
                                                : render_plain(tree, path, options.limits);
  if (!objects) return objects;
  PL_RETURN_IF_ERROR(renderer::validate_desired(*objects));
  return objects;
}

}  // namespace plumbline
