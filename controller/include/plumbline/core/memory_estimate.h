// plumbline/core/memory_estimate.h — how the memory_bytes() functions count, in one place.
// Estimates for the benchmarks' figures (bench/), never a limit.
#pragma once

#include <cstddef>
#include <string>

namespace plumbline {

// Heap bytes of a string: none while its text fits the small-string buffer inside the object.
inline size_t heap_bytes(const std::string& s) {
  const char* data = s.data();
  const auto* self = reinterpret_cast<const char*>(&s);
  if (data >= self && data < self + sizeof(std::string)) return 0;
  return s.capacity() + 1;
}

// What make_shared keeps beside the object in its one block: the use and weak counts.
inline constexpr size_t kSharedCountBytes = 2 * sizeof(long);

}  // namespace plumbline
