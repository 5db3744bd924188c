// Whether this build runs under AddressSanitizer (gcc defines __SANITIZE_ADDRESS__, clang has
// __has_feature): its allocator replaces glibc's and its shadow memory reserves terabytes of
// address space, so memory limits and allocator calls are skipped under it.
#pragma once

namespace plumbline {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace plumbline
