// Whether this test binary was built with AddressSanitizer. A test whose
// point is scale (10,000 clients for half a minute) runs in the Release
// build; the sanitizer build runs the same code paths in its smaller tests,
// and CI's time budget (30 minutes for both builds) is spent there.
#pragma once

namespace horde::testing_support {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool under_sanitizer = true;
#else
inline constexpr bool under_sanitizer = false;
#endif
#else
inline constexpr bool under_sanitizer = false;
#endif

}  // namespace horde::testing_support
