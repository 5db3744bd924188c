// libFuzzer target, differential: a manifest file read by the stream path (YAML events straight
// into compact form) must give what the tree path gives — the same objects, types, origins and
// field origins (listed and looked up), or the same error, whole and cut into parts at its document
// markers. Any difference traps.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "render/compact_documents.h"

namespace {

std::string origins_of(const plumbline::CompactManifest& m) {
  std::string out;
  if (m.fields() == nullptr) return out;
  m.fields()->for_each([&](std::string_view path, const plumbline::SourceLocation& at) {
    out.append(path).append(at.to_string()).push_back('\n');
  });
  return out;
}

// Every path `b` has an origin for, and a path below it, are located the same in `a` (the
// stream path finds a path by walking its object's encoding).
bool same_lookups(const plumbline::CompactManifest& a, const plumbline::CompactManifest& b) {
  bool same = true;
  if (b.fields() == nullptr) return true;
  b.fields()->for_each([&](std::string_view path, const plumbline::SourceLocation&) {
    std::string below = std::string(path) + "[name=x].y";
    same = same && a.locate(path).to_string() == b.locate(path).to_string() &&
           a.locate(below).to_string() == b.locate(below).to_string();
  });
  return same;
}

// Cuts a stream into as many parts as it may and runs them one after the other.
class PartsRunner final : public plumbline::TaskRunner {
 public:
  size_t concurrency() const override { return 16; }
  void run(std::span<const std::function<void()>> tasks) override {
    for (const auto& task : tasks) task();
  }
};

void expect_same(std::string_view text, plumbline::TaskRunner* tasks);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  PartsRunner parts;
  expect_same(text, nullptr);
  expect_same(text, &parts);
  return 0;
}

namespace {

void expect_same(std::string_view text, plumbline::TaskRunner* tasks) {
  auto streamed = plumbline::renderer::parse_manifest_file(text, "f.yaml", tasks, 1);
  auto trees = plumbline::renderer::parse_manifest_file_as_trees(text, "f.yaml");
  if (streamed.ok() != trees.ok()) __builtin_trap();
  if (!trees.ok()) {
    if (streamed.error().to_string() != trees.error().to_string()) __builtin_trap();
    return;
  }
  if (streamed->size() != trees->size()) __builtin_trap();
  for (size_t i = 0; i < trees->size(); ++i) {
    const auto& a = (*streamed)[i];
    const auto& b = (*trees)[i];
    if (a.object().dump() != b.object().dump() || !(a.ref() == b.ref()) ||
        a.origin().to_string() != b.origin().to_string() || origins_of(a) != origins_of(b) ||
        !same_lookups(a, b)) {
      __builtin_trap();
    }
  }
}

}  // namespace
