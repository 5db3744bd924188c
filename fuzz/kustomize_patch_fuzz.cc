// libFuzzer target: strategic merge and JSON 6902 patches on arbitrary YAML must never crash
// or throw. Input: a base object and a patch separated by a line "---PATCH---" (or split in
// half when absent); the patch is applied both as SMP and as JSON patch, and the whole input
// also runs through the kustomize renderer as a kustomization with an inline patch.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "../controller/src/render/patch.h"
#include "plumbline/core/yaml.h"
#include "plumbline/render/render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSeparator = "---PATCH---";
  std::string_view base_text = text.substr(0, size / 2);
  std::string_view patch_text = text.substr(size / 2);
  if (auto at = text.find(kSeparator); at != std::string_view::npos) {
    base_text = text.substr(0, at);
    patch_text = text.substr(at + kSeparator.size());
  }
  plumbline::YamlOptions options{.field_origins = false, .max_memory = size_t{1} << 20};
  auto base = plumbline::parse_yaml_documents(base_text, "base.yaml", options);
  auto patch = plumbline::parse_yaml_documents(patch_text, "patch.yaml", options);
  if (base && patch && !base->empty() && !patch->empty()) {
    const auto& b = (*base)[0].value;
    const auto& p = (*patch)[0].value;
    auto merged = plumbline::renderer::apply_strategic_merge(b, p);
    if (merged) (void)merged->dump();
    auto patched = plumbline::renderer::apply_json_patch(b, p);
    if (patched) (void)patched->dump();
  }
  // The same bytes through the renderer: resource file + kustomization with a patch file.
  plumbline::MemoryTree tree;
  tree.add("k/base.yaml", std::string(base_text));
  tree.add("k/patch.yaml", std::string(patch_text));
  tree.add("k/kustomization.yaml",
           "resources: [base.yaml]\nnamePrefix: p-\ncommonLabels: {a: b}\n"
           "images: [{name: x, newTag: '2'}]\n"
           "patches:\n- path: patch.yaml\n  target: {kind: '.*'}\n");
  auto rendered = plumbline::render_kustomize(tree, "k");
  // kInternal means an exception was caught at the boundary: a bug, so make it a crash.
  if (!rendered && rendered.error().code() == plumbline::ErrorCode::kInternal) __builtin_trap();
  return 0;
}
