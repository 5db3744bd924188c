// plumbline/rfc3339.h — timestamps as the Kubernetes API writes them.
//
//   rfc3339(std::chrono::system_clock::now()) -> "2026-12-02T15:19:01Z"
#pragma once

#include <chrono>
#include <string>

namespace plumbline {

// UTC, whole seconds, "Z" suffix (metav1.Time).
std::string rfc3339(std::chrono::system_clock::time_point time);

}  // namespace plumbline
