// libFuzzer target: the YAML -> JSON loader and the live-snapshot reader must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plumbline/core/yaml.h"
#include "plumbline/snapshot/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto docs = plumbline::parse_yaml_documents(
      text, "fuzz.yaml", {.field_origins = true, .max_memory = size_t{12} << 20});
  if (docs) {
    for (const auto& doc : *docs) (void)plumbline::to_yaml(doc.value);
  }
  (void)plumbline::parse_live_snapshot(text, "fuzz.yaml");
  return 0;
}
