// Benchmark support: replaced global operator new/delete that count heap allocations.
// Include from exactly one translation unit of a program (the replacements must be defined once).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace bench {

/// Heap allocations made through operator new (any form) since the program started.
inline std::atomic<std::size_t> allocation_count{0};

inline std::size_t allocations() noexcept { return allocation_count.load(std::memory_order_relaxed); }

namespace detail {

inline void* counted_alloc(std::size_t n) noexcept
{
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n == 0 ? 1 : n);
}

inline void* counted_aligned_alloc(std::size_t n, std::align_val_t al) noexcept
{
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    const auto a = static_cast<std::size_t>(al);
    const std::size_t rounded = (n == 0 ? a : (n + a - 1) / a * a);  // aligned_alloc wants a multiple of the alignment
    return std::aligned_alloc(a, rounded);
}

/// Frees what counted_alloc returned; out of line so that g++ does not pair an inlined free() with new.
[[gnu::noinline]] inline void release(void* p) noexcept
{
    std::free(p);
}

} // namespace detail
} // namespace bench

void* operator new(std::size_t n)
{
    if (void* p = bench::detail::counted_alloc(n)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t n)
{
    if (void* p = bench::detail::counted_alloc(n)) return p;
    throw std::bad_alloc{};
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return bench::detail::counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return bench::detail::counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t al)
{
    if (void* p = bench::detail::counted_aligned_alloc(n, al)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t n, std::align_val_t al)
{
    if (void* p = bench::detail::counted_aligned_alloc(n, al)) return p;
    throw std::bad_alloc{};
}

void operator delete(void* p) noexcept { bench::detail::release(p); }
void operator delete[](void* p) noexcept { bench::detail::release(p); }
void operator delete(void* p, std::size_t) noexcept { bench::detail::release(p); }
void operator delete[](void* p, std::size_t) noexcept { bench::detail::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { bench::detail::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { bench::detail::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { bench::detail::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { bench::detail::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { bench::detail::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { bench::detail::release(p); }
