// libFuzzer target: a WATCH stream is a sequence of JSON lines from the API server, each
// applied to the LiveStore in order. Any sequence leaves the store consistent: every event
// parses or is an Error, and the store materializes afterwards.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plumbline/cache/live_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  const plumbline::Projector projector(plumbline::all_categories());
  plumbline::LiveStore store;
  while (!stream.empty()) {
    size_t eol = stream.find('\n');
    std::string line(stream.substr(0, eol));
    stream = eol == std::string_view::npos ? std::string_view{} : stream.substr(eol + 1);
    auto event = plumbline::parse_watch_event(line, projector);
    if (!event) {
      if (event.error().code() == plumbline::ErrorCode::kInternal) __builtin_trap();
      continue;
    }
    (void)event->object.to_json();
    (void)store.apply(std::move(*event));
  }
  for (const auto& object : store.materialize()) (void)object.dump();
  return 0;
}
