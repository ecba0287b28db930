// mailauth: base64 vector kernels (SSSE3, optional AVX2), chosen at run time; base64.hpp does the rest.
// The kernels convert the bulk of an input in whole blocks and stop early; the scalar code finishes the tail,
// the padding and every error report, so results are byte-identical with and without them.
// x86-64 with g++ or clang++ only; elsewhere, or with MAILAUTH_NO_SIMD, encode()/decode() do nothing.
// MAILAUTH_BASE64_AVX2 adds the AVX2 kernels; it includes <immintrin.h>, which doubles the preprocessed size
// of the umbrella header. Define either macro for the whole program, never for one translation unit only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if !defined(MAILAUTH_NO_SIMD) && defined(__GNUC__) && defined(__x86_64__)
#define MAILAUTH_BASE64_SIMD 1
#include <tmmintrin.h>
#if defined(MAILAUTH_BASE64_AVX2)
#include <immintrin.h>
#endif
#else
#define MAILAUTH_BASE64_SIMD 0
#endif

namespace mailauth::detail::base64_simd {

/// How far a kernel got: input consumed and output written (whole blocks only).
struct progress {
    std::size_t in = 0;
    std::size_t out = 0;
};

#if MAILAUTH_BASE64_SIMD

enum class level : unsigned char { none, ssse3, avx2 };

/// The best instruction set this CPU (and OS) offers, asked once.
inline level cpu_level() noexcept
{
    static const level detected = [] {
        __builtin_cpu_init();
#if defined(MAILAUTH_BASE64_AVX2)
        if (__builtin_cpu_supports("avx2")) return level::avx2;
#endif
        return __builtin_cpu_supports("ssse3") ? level::ssse3 : level::none;
    }();
    return detected;
}

/// Per-alphabet byte tables (RFC 4648 §4 standard, §5 url), 16 entries each, indexed by pshufb.
struct tables {
    // Encode: the offset from a 6-bit value to its character, by a reduced index (see to_ascii).
    std::int8_t to_char[16];
    // Decode: a character is valid when lo_bad[low nibble] & hi_bad[high nibble] == 0.
    std::int8_t lo_bad[16];
    std::int8_t hi_bad[16];
    // Decode: the offset from a character to its 6-bit value, by high nibble (the 63 character at nibble ^ 8).
    std::int8_t to_value[16];
    char char63; // '/' or '_'
};

// Validity classes: 0x01 nibble 2 (only + / or -), 0x02 nibble 3 (digits), 0x04 nibbles 4 and 6 (not @ `),
// 0x08 nibble 7 (to z), 0x20 nibble 5 of the url alphabet (to Z, and _), 0x10 every other high nibble.
inline constexpr tables standard_tables{
    {71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0},
    {0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A},
    {0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10},
    {0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 16, 0, 0, 0, 0, 0},
    '/'};
inline constexpr tables url_tables{
    {71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 65, 0, 0},
    {0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x3B, 0x3B, 0x3A, 0x3B, 0x1B},
    {0x10, 0x10, 0x01, 0x02, 0x04, 0x20, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10},
    {0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, -32, 0, 0},
    '_'};

// ---- SSSE3: 12 bytes <-> 16 characters ---------------------------------------------------------------

[[gnu::target("ssse3")]] inline __m128i table_128(const std::int8_t (&t)[16]) noexcept
{
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(t));
}

/// Four 6-bit values per 32-bit lane, one per byte, from three bytes per lane spread as [b a c b].
[[gnu::target("ssse3")]] inline __m128i split_128(__m128i v) noexcept
{
    const __m128i f0_f2 = _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(0x0FC0FC00)), _mm_set1_epi32(0x04000040));
    const __m128i f1_f3 = _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(0x003F03F0)), _mm_set1_epi32(0x01000010));
    return _mm_or_si128(f0_f2, f1_f3);
}

/// 6-bit values to characters: 0-25 -> index 13, 26-51 -> 0, 52-63 -> 1-12, then one offset lookup.
[[gnu::target("ssse3")]] inline __m128i to_ascii_128(__m128i values, __m128i to_char) noexcept
{
    __m128i index = _mm_subs_epu8(values, _mm_set1_epi8(51));
    index = _mm_or_si128(index, _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), values), _mm_set1_epi8(13)));
    return _mm_add_epi8(values, _mm_shuffle_epi8(to_char, index));
}

[[gnu::target("ssse3")]] inline progress encode_ssse3(const char* in, std::size_t n, char* out, const tables& t) noexcept
{
    const __m128i spread = _mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    const __m128i to_char = table_128(t.to_char);
    std::size_t i = 0, o = 0;
    for (; n - i >= 16; i += 12, o += 16) { // reads 16 bytes, uses 12
        const __m128i v = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)), spread);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), to_ascii_128(split_128(v), to_char));
    }
    return {i, o};
}

[[gnu::target("ssse3")]] inline progress decode_ssse3(const char* in, std::size_t n, char* out, const tables& t) noexcept
{
    const __m128i lo_bad = table_128(t.lo_bad), hi_bad = table_128(t.hi_bad), to_value = table_128(t.to_value);
    const __m128i nibble = _mm_set1_epi8(0x0F), char63 = _mm_set1_epi8(t.char63);
    const __m128i pack = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    std::size_t i = 0, o = 0;
    for (; n - i >= 16; i += 16, o += 12) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
        const __m128i hi = _mm_and_si128(_mm_srli_epi32(v, 4), nibble);
        const __m128i bad = _mm_and_si128(_mm_shuffle_epi8(lo_bad, _mm_and_si128(v, nibble)), _mm_shuffle_epi8(hi_bad, hi));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(bad, _mm_setzero_si128())) != 0xFFFF) break; // the scalar code reports it
        const __m128i index = _mm_xor_si128(hi, _mm_and_si128(_mm_cmpeq_epi8(v, char63), _mm_set1_epi8(8)));
        const __m128i values = _mm_add_epi8(v, _mm_shuffle_epi8(to_value, index));
        // Two values to 12 bits (a * 64 + b), two of those to 24 bits, then the three bytes of each lane in order.
        const __m128i pairs = _mm_maddubs_epi16(values, _mm_set1_epi32(0x01400140));
        const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));
        const __m128i bytes = _mm_shuffle_epi8(quads, pack);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + o), bytes);
        const auto last4 = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(bytes, 8)));
        std::memcpy(out + o + 8, &last4, 4);
    }
    return {i, o};
}

#if defined(MAILAUTH_BASE64_AVX2)
// ---- AVX2: 24 bytes <-> 32 characters, the SSSE3 steps on two 128-bit lanes ---------------------------

[[gnu::target("avx2")]] inline __m256i table_256(const std::int8_t (&t)[16]) noexcept
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}

[[gnu::target("avx2")]] inline progress encode_avx2(const char* in, std::size_t n, char* out, const tables& t) noexcept
{
    const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                            1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    const __m256i to_char = table_256(t.to_char);
    std::size_t i = 0, o = 0;
    for (; n - i >= 28; i += 24, o += 32) { // each lane reads 16 bytes and uses 12
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 12));
        __m256i v = _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1), spread);
        v = _mm256_or_si256(
            _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0FC0FC00)), _mm256_set1_epi32(0x04000040)),
            _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003F03F0)), _mm256_set1_epi32(0x01000010)));
        __m256i index = _mm256_subs_epu8(v, _mm256_set1_epi8(51));
        index = _mm256_or_si256(index, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), v), _mm256_set1_epi8(13)));
        v = _mm256_add_epi8(v, _mm256_shuffle_epi8(to_char, index));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + o), v);
    }
    return {i, o};
}

[[gnu::target("avx2")]] inline progress decode_avx2(const char* in, std::size_t n, char* out, const tables& t) noexcept
{
    const __m256i lo_bad = table_256(t.lo_bad), hi_bad = table_256(t.hi_bad), to_value = table_256(t.to_value);
    const __m256i nibble = _mm256_set1_epi8(0x0F), char63 = _mm256_set1_epi8(t.char63);
    const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
                                          2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7); // the 24 bytes of both lanes together
    std::size_t i = 0, o = 0;
    for (; n - i >= 32; i += 32, o += 24) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), nibble);
        const __m256i bad =
            _mm256_and_si256(_mm256_shuffle_epi8(lo_bad, _mm256_and_si256(v, nibble)), _mm256_shuffle_epi8(hi_bad, hi));
        if (!_mm256_testz_si256(bad, bad)) break; // the scalar code reports it
        const __m256i index = _mm256_xor_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(v, char63), _mm256_set1_epi8(8)));
        const __m256i values = _mm256_add_epi8(v, _mm256_shuffle_epi8(to_value, index));
        const __m256i pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
        const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, pack), join);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), _mm256_castsi256_si128(bytes));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + o + 16), _mm256_extracti128_si256(bytes, 1));
    }
    return {i, o};
}
#endif

/// Encodes whole 3-byte groups of `in` while a vector block fits; the caller encodes the rest.
inline progress encode(const char* in, std::size_t n, char* out, bool url) noexcept
{
    const tables& t = url ? url_tables : standard_tables;
    switch (cpu_level()) {
#if defined(MAILAUTH_BASE64_AVX2)
    case level::avx2: {
        const progress p = encode_avx2(in, n, out, t);
        const progress q = encode_ssse3(in + p.in, n - p.in, out + p.out, t);
        return {p.in + q.in, p.out + q.out};
    }
#endif
    case level::ssse3: return encode_ssse3(in, n, out, t);
    default: return {};
    }
}

/// Decodes whole blocks of valid characters (no padding) of `in`; stops before a block with any other byte.
inline progress decode(const char* in, std::size_t n, char* out, bool url) noexcept
{
    const tables& t = url ? url_tables : standard_tables;
    switch (cpu_level()) {
#if defined(MAILAUTH_BASE64_AVX2)
    case level::avx2: {
        const progress p = decode_avx2(in, n, out, t);
        const progress q = decode_ssse3(in + p.in, n - p.in, out + p.out, t);
        return {p.in + q.in, p.out + q.out};
    }
#endif
    case level::ssse3: return decode_ssse3(in, n, out, t);
    default: return {};
    }
}

#else

inline progress encode(const char*, std::size_t, char*, bool) noexcept { return {}; }
inline progress decode(const char*, std::size_t, char*, bool) noexcept { return {}; }

#endif

} // namespace mailauth::detail::base64_simd
