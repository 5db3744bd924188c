// plumbline/core/rfc3339.h — timestamps as the Kubernetes API writes and reads them: the one home
// of RFC 3339 formatting and parsing.
//
//   rfc3339(std::chrono::system_clock::now())    -> "2026-12-02T15:19:01Z"      (metav1.Time)
//   rfc3339(now, 3)                              -> "2026-12-02T15:19:01.250Z"  (log lines)
//   rfc3339(now, 6)                              -> "2026-12-02T15:19:01.250123Z" (MicroTime)
//   parse_rfc3339("2026-12-02T16:19:01.5+01:00") -> 15:19:01 UTC (the fraction is dropped)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace plumbline {

// UTC, "Z" suffix; `fraction_digits` (0, 3 or 6; others are clamped to 0..6) digits of the
// second after a '.', truncated, none when 0.
std::string rfc3339(std::chrono::system_clock::time_point time, int fraction_digits = 0);

// "YYYY-MM-DDTHH:MM:SS", an optional fraction (ignored: whole seconds), then "Z" or
// "±HH:MM". nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace plumbline
