// libFuzzer target: resource quantities come from Git and from the API. Any text parses or
// not without overflow (UBSan checks the 128-bit arithmetic); a quantity that parses prints a
// text that parses back to the same value, and compares equal to itself as JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plumbline/core/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto quantity = plumbline::Quantity::parse(text);
  if (!quantity) return 0;
  (void)quantity->millis_ceil();
  (void)quantity->to_double();
  const std::string printed = quantity->to_string();
  auto again = plumbline::Quantity::parse(printed);
  if (!again || *again != *quantity) __builtin_trap();
  const plumbline::json value = std::string(text);
  if (!plumbline::quantities_equal(value, value)) __builtin_trap();
  return 0;
}
