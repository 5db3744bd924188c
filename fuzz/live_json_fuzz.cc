// libFuzzer target: API server replies (LIST bodies, WATCH lines) are untrusted input. The
// simdjson projector must give an object or an Error for any bytes, never crash or hang, and
// whatever it projects must materialize.
#include <cstddef>
#include <cstdint>
#include <string>

#include "plumbline/cache/live_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const plumbline::Projector projector(plumbline::all_categories());
  plumbline::LiveStore store;
  if (auto page = plumbline::parse_list(text, projector); page.ok()) {
    for (const auto& item : page->items) (void)item.to_json();
    (void)store.replace(page->kind, "", std::move(page->items));
  }
  if (auto event = plumbline::parse_watch_event(text, projector); event.ok()) {
    (void)event->object.to_json();
    (void)store.apply(std::move(*event));
  }
  (void)store.materialize();
  return 0;
}
