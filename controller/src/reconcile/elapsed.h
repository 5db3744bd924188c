// reconcile/elapsed.h — internal: the seconds since a steady-clock time point, for the
// controller's logs, hooks and metrics.
#pragma once

#include <chrono>

namespace plumbline {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace plumbline
