// plumbline/core/quantity.h — Kubernetes resource quantities compared by value.
//
// "1" == "1000m", "512Mi" == "536870912", "0.5" == "500m", "1G" != "1Gi".
//
//   if (auto q = Quantity::parse("512Mi")) q->millis() ...
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "plumbline/core/object.h"

namespace plumbline {

// GCC/Clang 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef __int128 Int128;

// An exact quantity, as a value in thousandths (milli-units) held in 128 bits so Ei and
// sub-milli values compare exactly; values that cannot be represented do not parse.
class Quantity {
 public:
  static std::optional<Quantity> parse(std::string_view text);
  // A JSON quantity: a string, or a number (YAML `cpu: 1`).
  static std::optional<Quantity> from_json(const json& value);

  // The value in milli-units rounded up (as Kubernetes does for MilliValue()).
  Int128 millis_ceil() const;
  double to_double() const;
  // Canonical text: "1", "500m", "512Mi"-style output is not attempted; used for messages.
  std::string to_string() const;

  auto operator<=>(const Quantity&) const = default;
  bool operator==(const Quantity&) const = default;

 private:
  // value = numerator / 10^9 (nano-units): covers Kubernetes' smallest suffix "n".
  Int128 nanos_ = 0;
};

// Two JSON values holding quantities are equal by value (false if either does not parse).
bool quantities_equal(const json& a, const json& b);

}  // namespace plumbline
