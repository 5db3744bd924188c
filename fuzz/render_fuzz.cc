// libFuzzer target: a whole repository folder is untrusted input. The input is a set of files,
// each introduced by a line "#file <path>" (no marker: the whole input is k/kustomization.yaml);
// the folder k/ is rendered by the kustomize, plain and auto renderers under small limits.
// Any bytes give a ManifestSet or an Error; kInternal (an exception caught at the boundary)
// is a bug and crashes the run.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plumbline/core/file_tree.h"
#include "plumbline/render/render.h"

namespace {

plumbline::MemoryTree tree_from(std::string_view text) {
  constexpr std::string_view kMarker = "#file ";
  plumbline::MemoryTree tree;
  if (!text.starts_with(kMarker)) {
    tree.add("k/kustomization.yaml", std::string(text));
    return tree;
  }
  while (text.starts_with(kMarker)) {
    size_t eol = text.find('\n');
    std::string_view path =
        text.substr(kMarker.size(),
                    eol == std::string_view::npos ? std::string_view::npos : eol - kMarker.size());
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    size_t next = text.find("\n#file ");
    std::string_view content = text.substr(0, next);
    text = next == std::string_view::npos ? std::string_view{} : text.substr(next + 1);
    if (!path.empty()) tree.add(std::string(path), std::string(content));
  }
  return tree;
}

void check(const plumbline::Result<plumbline::ManifestSet>& rendered) {
  if (!rendered && rendered.error().code() == plumbline::ErrorCode::kInternal) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const plumbline::MemoryTree tree =
      tree_from(std::string_view(reinterpret_cast<const char*>(data), size));
  plumbline::RenderLimits limits;
  limits.max_files = 64;
  limits.max_bytes = size_t{1} << 20;
  limits.max_objects = 256;
  check(plumbline::render_kustomize(tree, "k", limits));
  check(plumbline::render_plain(tree, "k", limits));
  plumbline::RenderOptions options;
  options.limits = limits;
  check(plumbline::render(tree, "k", options));
  return 0;
}
