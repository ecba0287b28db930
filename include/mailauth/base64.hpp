// mailauth: strict base64 (RFC 4648 §4, padded) and base64url without padding (RFC 4648 §5).
#pragma once

#include <mailauth/detail/base64_simd.hpp>
#include <mailauth/detail/wipe.hpp>
#include <mailauth/error.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace mailauth::base64 {

/// Outcome of the constexpr decoders: decode_result as a literal type (std::error_code is not one in C++20).
struct decode_status {
    std::size_t size = 0;                          // bytes written
    errc code{};                                   // errc{} (zero) on success
    std::size_t offset = error_detail::no_offset;  // where in the input the problem is
    int byte = -1;                                 // the offending input byte, when there is one

    constexpr explicit operator bool() const noexcept { return code == errc{}; }

    /// The same information as an error_detail (empty on success).
    error_detail to_error_detail() const noexcept
    {
        if (code == errc{}) return {};
        return {make_error_code(code), offset, byte};
    }
};

/// Result of a decode into a caller's buffer.
struct decode_result {
    std::size_t size = 0;          // bytes written
    mailauth::error_detail error;  // code + offset (+ byte) when it failed
    explicit operator bool() const noexcept { return !error; }  // true on success
};

} // namespace mailauth::base64

namespace mailauth::detail::base64 {

using mailauth::base64::decode_status;

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "mailauth::base64 needs a little- or big-endian target");

/// Which RFC 4648 alphabet: §4 (`+` `/`, padded) or §5 (`-` `_`, unpadded here).
enum class alphabet : unsigned char { standard, url };

inline constexpr std::string_view standard_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
inline constexpr std::string_view url_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::string_view chars_of(alphabet a) noexcept
{
    return a == alphabet::standard ? standard_chars : url_chars;
}

/// x with its bytes in reverse order (compilers turn this into one instruction).
constexpr std::uint64_t byteswap(std::uint64_t x) noexcept
{
    return (x >> 56) | (x >> 40 & 0xFF00) | (x >> 24 & 0xFF0000) | (x >> 8 & 0xFF000000) |
           (x & 0xFF000000) << 8 | (x & 0xFF0000) << 24 | (x & 0xFF00) << 40 | x << 56;
}

/// The 8 bytes at p as a big-endian number (one load at run time).
constexpr std::uint64_t load_be64(const char* p) noexcept
{
    std::uint64_t v = 0;
    if (std::is_constant_evaluated()) {
        for (int k = 0; k < 8; ++k) v = v << 8 | static_cast<unsigned char>(p[k]);
        return v;
    }
    std::memcpy(&v, p, sizeof v);
    return std::endian::native == std::endian::little ? byteswap(v) : v;
}

/// Shift that brings byte k (0..3) in memory of a std::uint32_t, as memcpy lays it out, down to bits 0..7.
constexpr unsigned lane_shift(unsigned k) noexcept
{
    return std::endian::native == std::endian::little ? 8 * k : 24 - 8 * k;
}

/// The 4 bytes at p as a std::uint32_t in memory order (one load at run time).
constexpr std::uint32_t load_word(const char* p) noexcept
{
    std::uint32_t v = 0;
    if (std::is_constant_evaluated()) {
        for (unsigned k = 0; k < 4; ++k) v |= std::uint32_t{static_cast<unsigned char>(p[k])} << lane_shift(k);
        return v;
    }
    std::memcpy(&v, p, sizeof v);
    return v;
}

/// Writes the 4 bytes of v to p in memory order (one store at run time).
constexpr void store_word(char* p, std::uint32_t v) noexcept
{
    if (std::is_constant_evaluated()) {
        for (unsigned k = 0; k < 4; ++k) p[k] = static_cast<char>(v >> lane_shift(k));
        return;
    }
    std::memcpy(p, &v, sizeof v);
}

/// Copies two characters (one 2-byte copy at run time).
constexpr void copy_pair(char* to, const char* from) noexcept
{
    if (std::is_constant_evaluated()) {
        to[0] = from[0];
        to[1] = from[1];
        return;
    }
    std::memcpy(to, from, 2);
}

/// The 24 bits of a quad (first output byte highest) moved to bytes 0..2 in memory order.
constexpr std::uint32_t to_lanes(std::uint32_t bits) noexcept
{
    return (bits >> 16 & 0xFF) << lane_shift(0) | (bits >> 8 & 0xFF) << lane_shift(1) | (bits & 0xFF) << lane_shift(2);
}

/// Byte 3 in memory of a decoded quad: set in every decode table entry of a character outside the alphabet.
inline constexpr std::uint32_t invalid = 0xFFu << lane_shift(3);

/// The two output characters of every 12-bit input value: one lookup and one 2-byte copy per half quad.
struct encode_table {
    std::array<char, 2 * 4096> pairs{};
};

/// Per character: its 6-bit value (0xFF outside the alphabet), and that value already shifted into
/// position k of a quad and laid out in memory order, so a quad decodes with four lookups and three ORs.
struct decode_table {
    std::array<std::uint8_t, 256> values{};
    std::array<std::uint32_t, 256> placed[4]{};

    constexpr bool valid(char c) const noexcept { return values[static_cast<unsigned char>(c)] < 64; }
    constexpr std::uint32_t value(char c) const noexcept { return values[static_cast<unsigned char>(c)]; }
};

constexpr encode_table make_encode_table(alphabet a) noexcept
{
    const std::string_view chars = chars_of(a);
    encode_table t;
    for (std::size_t v = 0; v < 4096; ++v) {
        t.pairs[2 * v] = chars[v >> 6];
        t.pairs[2 * v + 1] = chars[v & 63];
    }
    return t;
}

constexpr decode_table make_decode_table(alphabet a) noexcept
{
    const std::string_view chars = chars_of(a);
    decode_table t;
    t.values.fill(0xFF);
    for (auto& column : t.placed) column.fill(invalid);
    for (std::uint32_t v = 0; v < 64; ++v) {
        const auto c = static_cast<unsigned char>(chars[v]);
        t.values[c] = static_cast<std::uint8_t>(v);
        for (unsigned k = 0; k < 4; ++k) t.placed[k][c] = to_lanes(v << (18 - 6 * k));
    }
    return t;
}

template <alphabet A>
inline constexpr encode_table encode_table_v = make_encode_table(A);

template <alphabet A>
inline constexpr decode_table decode_table_v = make_decode_table(A);

constexpr std::uint32_t byte_at(std::string_view s, std::size_t i) noexcept
{
    return static_cast<unsigned char>(s[i]);
}

constexpr bool is_whitespace(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/// Encodes `in` to `out`; with `pad`, a partial last quad is completed with `=` (RFC 4648 §3.2, §4).
template <alphabet A>
constexpr std::size_t encode(std::string_view in, char* out, bool pad) noexcept
{
    const char* pairs = encode_table_v<A>.pairs.data();
    const std::size_t n = in.size();
    std::size_t i = 0;
    char* o = out;
    const auto six_bytes = [pairs](const char* from, char* to) {  // reads 8 bytes, uses the first 6
        const std::uint64_t w = load_be64(from);
        copy_pair(to, pairs + 2 * (w >> 52));
        copy_pair(to + 2, pairs + 2 * (w >> 40 & 0xFFF));
        copy_pair(to + 4, pairs + 2 * (w >> 28 & 0xFFF));
        copy_pair(to + 6, pairs + 2 * (w >> 16 & 0xFFF));
    };
    if (!std::is_constant_evaluated() && n >= 16) { // whole vector blocks first, when the CPU has them
        const auto done = base64_simd::encode(in.data(), n, out, A == alphabet::url);
        i = done.in;
        o += done.out;
    }
    // Hot loop: 12 bytes to 16 characters by eight 12-bit lookups.
    for (; n - i >= 14; i += 12, o += 16) {
        six_bytes(in.data() + i, o);
        six_bytes(in.data() + i + 6, o + 8);
    }
    for (; n - i >= 3; i += 3, o += 4) {
        const std::uint32_t v = byte_at(in, i) << 16 | byte_at(in, i + 1) << 8 | byte_at(in, i + 2);
        copy_pair(o, pairs + 2 * (v >> 12));
        copy_pair(o + 2, pairs + 2 * (v & 0xFFF));
    }
    const std::string_view chars = chars_of(A);
    if (n - i == 1) {
        const std::uint32_t v = byte_at(in, i);
        *o++ = chars[v >> 2];
        *o++ = chars[(v & 3) << 4];
        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (n - i == 2) {
        const std::uint32_t v = byte_at(in, i) << 8 | byte_at(in, i + 1);
        *o++ = chars[v >> 10];
        *o++ = chars[v >> 4 & 63];
        *o++ = chars[(v & 15) << 2];
        if (pad) *o++ = '=';
    }
    return static_cast<std::size_t>(o - out);
}

/// Decodes whole quads (`in` is a multiple of 4 long) to 3 bytes each; non-zero if a character was bad.
/// Every quad but the last also writes scratch bytes, which the following quads overwrite.
template <alphabet A>
constexpr std::uint32_t decode_quads(std::string_view in, char* out) noexcept
{
    if (in.empty()) return 0;
    const auto& t = decode_table_v<A>.placed;
    const auto by_bytes = [&](std::size_t i) {
        return t[0][byte_at(in, i)] | t[1][byte_at(in, i + 1)] | t[2][byte_at(in, i + 2)] | t[3][byte_at(in, i + 3)];
    };
    const auto by_word = [&](std::size_t i) {
        const auto w = load_word(in.data() + i);
        const auto at = [w](unsigned k) { return w >> lane_shift(k) & 0xFF; };
        return t[0][at(0)] | t[1][at(1)] | t[2][at(2)] | t[3][at(3)];
    };
    const std::size_t last = in.size() - 4;
    std::uint32_t bad = 0;
    std::size_t i = 0;
    if (!std::is_constant_evaluated() && last >= 16) { // whole vector blocks of valid characters first
        const auto done = base64_simd::decode(in.data(), last, out, A == alphabet::url);
        i = done.in;
        out += done.out;
    }
    // Hot loop, 16 characters to 12 bytes. Errors are only accumulated (the caller rescans if `bad` is set).
    // Reading some quads byte by byte (loads) and some as one word (shifts) keeps both loads and ALUs busy.
    for (; last - i >= 16; i += 16, out += 12) {
        const std::uint32_t a = by_word(i);
        const std::uint32_t b = by_bytes(i + 4);
        const std::uint32_t c = by_word(i + 8);
        const std::uint32_t d = by_bytes(i + 12);
        bad |= a | b | c | d;
        store_word(out, a);
        store_word(out + 3, b);
        store_word(out + 6, c);
        store_word(out + 9, d);
    }
    for (; i < last; i += 4, out += 3) {
        const std::uint32_t a = by_bytes(i);
        bad |= a;
        store_word(out, a);
    }
    const std::uint32_t a = by_bytes(last);
    for (unsigned k = 0; k < 3; ++k) out[k] = static_cast<char>(a >> lane_shift(k));
    return (bad | a) & invalid;
}

/// Decodes the 2 or 3 characters of a final partial quad to 1 or 2 bytes; false if a character or a pad bit is bad.
template <alphabet A>
constexpr bool decode_partial(std::string_view in, char* out) noexcept
{
    const auto& t = decode_table_v<A>.placed;
    std::uint32_t v = t[0][byte_at(in, 0)] | t[1][byte_at(in, 1)];
    if (in.size() == 3) v |= t[2][byte_at(in, 2)];
    const unsigned bytes = in.size() == 3 ? 2 : 1;
    std::uint32_t data_mask = 0;
    for (unsigned k = 0; k < bytes; ++k) {
        out[k] = static_cast<char>(v >> lane_shift(k));
        data_mask |= 0xFFu << lane_shift(k);
    }
    return (v & ~data_mask) == 0;  // also catches `invalid`
}

constexpr decode_status failure(errc code, std::size_t offset, int byte = -1) noexcept
{
    return {0, code, offset, byte};
}

/// The error for a character outside the alphabet: whitespace gets its own code.
constexpr decode_status bad_character(std::string_view in, std::size_t i) noexcept
{
    const char c = in[i];
    return failure(is_whitespace(c) ? errc::base64_whitespace : errc::base64_invalid_character, i,
                   static_cast<unsigned char>(c));
}

/// Bits of the last data character that must be zero when `used` characters of a quad carry data (RFC 4648 §3.5).
constexpr std::uint32_t pad_bits(std::size_t used) noexcept
{
    return used == 2 ? 15 : 3;
}

/// Checks the padding that starts at `p`, the first `=` of a padded input (RFC 4648 §3.2, §3.5, §4).
constexpr decode_status check_padding(std::string_view in, std::size_t p) noexcept
{
    const auto& table = decode_table_v<alphabet::standard>;
    const std::size_t n = in.size();
    const std::size_t used = p % 4;  // data characters in the padded quad
    if (used < 2) return failure(errc::base64_misplaced_padding, p);
    const std::size_t end = p - used + 4;  // where the padded quad ends
    for (std::size_t q = p + 1; q <= end && q < n; ++q) {
        if (q < end && in[q] == '=') continue;
        if (in[q] == '=') return failure(errc::base64_misplaced_padding, q);  // too much padding
        if (table.valid(in[q])) return failure(errc::base64_misplaced_padding, p);  // data follows the padding
        return bad_character(in, q);
    }
    if (n < end) return failure(errc::base64_missing_padding, n);
    if ((table.value(in[p - 1]) & pad_bits(used)) != 0)
        return failure(errc::base64_nonzero_pad_bits, p - 1, static_cast<unsigned char>(in[p - 1]));
    return {};
}

/// The first reason, left to right, that `in` is not canonical base64 (or unpadded base64url); success if none.
template <alphabet A>
constexpr decode_status first_error(std::string_view in) noexcept
{
    const auto& table = decode_table_v<A>;
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (table.valid(in[i])) continue;
        if (A == alphabet::standard && in[i] == '=') return check_padding(in, i);
        return bad_character(in, i);
    }
    if (n % 4 == 1) return failure(errc::base64_invalid_length, n - 1);  // a lone character cannot carry a byte
    if (n % 4 == 0) return {};
    if (A == alphabet::standard) return failure(errc::base64_missing_padding, n);
    if ((table.value(in[n - 1]) & pad_bits(n % 4)) != 0)
        return failure(errc::base64_nonzero_pad_bits, n - 1, static_cast<unsigned char>(in[n - 1]));
    return {};
}

/// The error of an input that the fast path refused; the fallback is unreachable (both check the same rules).
template <alphabet A>
constexpr decode_status refused(std::string_view in) noexcept
{
    const decode_status status = first_error<A>(in);
    return status ? failure(errc::base64_invalid_character, 0) : status;
}

} // namespace mailauth::detail::base64

namespace mailauth::base64 {

/// Length of the padded encoding of n bytes (RFC 4648 §4).
constexpr std::size_t encoded_size(std::size_t n) noexcept
{
    return n / 3 * 4 + (n % 3 != 0 ? 4 : 0);
}

/// Upper bound on the bytes decode() writes for an n-character input.
constexpr std::size_t decoded_size_max(std::size_t n) noexcept
{
    return n / 4 * 3;
}

/// Length of the unpadded base64url encoding of n bytes (RFC 4648 §5, §3.2).
constexpr std::size_t url_encoded_size(std::size_t n) noexcept
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/// Bytes that url_decode() writes for a valid n-character input.
constexpr std::size_t url_decoded_size(std::size_t n) noexcept
{
    return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

/// Writes the padded base64 of `in` to `out` (room for encoded_size(in.size())); returns the characters written.
constexpr std::size_t encode(std::string_view in, char* out) noexcept
{
    return detail::base64::encode<detail::base64::alphabet::standard>(in, out, true);
}

/// Writes the unpadded base64url of `in` to `out` (room for url_encoded_size(in.size())); RFC 4648 §5.
constexpr std::size_t url_encode(std::string_view in, char* out) noexcept
{
    return detail::base64::encode<detail::base64::alphabet::url>(in, out, false);
}

/// Strictly decodes padded base64 (RFC 4648 §4) into `out`; usable in constant expressions.
/// Reports the first problem from the left: a byte outside the alphabet (whitespace has its own code),
/// `=` other than at the end of the last quad (misplaced), a short last quad (missing padding, offset =
/// input size), a lone last character (invalid length), non-zero pad bits (RFC 4648 §3.5, offset of the
/// last data character). A short out_capacity fails first, with base64_output_too_small and no offset.
/// On failure size is 0 and the content of `out` is unspecified.
constexpr decode_status try_decode(std::string_view in, char* out, std::size_t out_capacity) noexcept
{
    namespace impl = detail::base64;
    constexpr auto alpha = impl::alphabet::standard;
    const std::size_t n = in.size();
    if (n == 0) return {};
    if (n % 4 != 0) return impl::refused<alpha>(in);
    const std::size_t pads = in[n - 1] != '=' ? 0 : in[n - 2] != '=' ? 1 : 2;
    const std::size_t size = n / 4 * 3 - pads;
    if (out_capacity < size) return impl::failure(errc::base64_output_too_small, error_detail::no_offset);

    const std::size_t whole = pads == 0 ? n : n - 4;  // the quads without padding
    const bool ok = impl::decode_quads<alpha>(in.substr(0, whole), out) == 0 &&
                    (pads == 0 || impl::decode_partial<alpha>(in.substr(whole, 4 - pads), out + whole / 4 * 3));
    return ok ? decode_status{size} : impl::refused<alpha>(in);
}

/// Strictly decodes base64url without padding (RFC 4648 §5) into `out`; usable in constant expressions.
/// `=`, `+` and `/` are errc::base64_invalid_character; out_capacity must be url_decoded_size(in.size()).
constexpr decode_status try_url_decode(std::string_view in, char* out, std::size_t out_capacity) noexcept
{
    namespace impl = detail::base64;
    constexpr auto alpha = impl::alphabet::url;
    const std::size_t n = in.size();
    if (n % 4 == 1) return impl::refused<alpha>(in);
    const std::size_t size = url_decoded_size(n);
    if (out_capacity < size) return impl::failure(errc::base64_output_too_small, error_detail::no_offset);

    const std::size_t whole = n / 4 * 4;
    const bool ok = impl::decode_quads<alpha>(in.substr(0, whole), out) == 0 &&
                    (whole == n || impl::decode_partial<alpha>(in.substr(whole), out + whole / 4 * 3));
    return ok ? decode_status{size} : impl::refused<alpha>(in);
}

/// Strictly decodes padded base64 (RFC 4648 §4) into `out`; errc::base64_output_too_small if out_capacity is short.
inline decode_result decode(std::string_view in, char* out, std::size_t out_capacity) noexcept
{
    const decode_status s = try_decode(in, out, out_capacity);
    return {s.size, s.to_error_detail()};
}

/// Strictly decodes unpadded base64url (RFC 4648 §5) into `out`; needs url_decoded_size(in.size()) bytes.
inline decode_result url_decode(std::string_view in, char* out, std::size_t out_capacity) noexcept
{
    const decode_status s = try_url_decode(in, out, out_capacity);
    return {s.size, s.to_error_detail()};
}

/// Padded base64 of `in` (RFC 4648 §4).
inline std::string encode(std::string_view in)
{
    std::string out(encoded_size(in.size()), '\0');
    encode(in, out.data());
    return out;
}

/// Appends the padded base64 of `in` to `out`; allocates nothing when out's capacity suffices.
inline void encode_append(std::string_view in, std::string& out)
{
    // Through a stack buffer: growing `out` with resize() would zero-fill the bytes first (a memset the
    // size of the output on every call, even when the capacity is already there). The machines encode
    // credentials with this, so the buffer is zeroed before it goes out of scope.
    constexpr std::size_t chunk_in = 768, chunk_out = chunk_in / 3 * 4;
    char buffer[chunk_out];
    out.reserve(out.size() + encoded_size(in.size()));
    std::size_t used = 0;
    while (in.size() > chunk_in) {
        encode(in.substr(0, chunk_in), buffer);
        out.append(buffer, chunk_out);
        in.remove_prefix(chunk_in);
        used = chunk_out;
    }
    const std::size_t last = encode(in, buffer);
    out.append(buffer, last);
    mailauth::detail::secure_wipe(buffer, used > last ? used : last);
}

/// Replaces `out` with the decoded bytes of `in`, keeping its capacity; on failure `out` is empty and `err` set.
inline bool decode_into(std::string_view in, std::string& out, error_detail& err)
{
    out.resize(decoded_size_max(in.size()));
    const decode_result r = decode(in, out.data(), out.size());
    out.resize(r.size);
    err = r.error;
    return static_cast<bool>(r);
}

/// Decoded bytes of `in`, or an empty string with `err` set on failure (cleared on success).
inline std::string decode(std::string_view in, error_detail& err)
{
    std::string out;
    decode_into(in, out, err);
    return out;
}

/// Decoded bytes of `in`; throws mailauth::error carrying the error_detail on failure.
inline std::string decode(std::string_view in)
{
    error_detail err;
    std::string out = decode(in, err);
    if (err) throw mailauth::error(err);
    return out;
}

/// Unpadded base64url of `in` (RFC 4648 §5), as PKCE uses it (RFC 7636 §4.2).
inline std::string url_encode(std::string_view in)
{
    std::string out(url_encoded_size(in.size()), '\0');
    url_encode(in, out.data());
    return out;
}

/// Decoded bytes of unpadded base64url `in`, or an empty string with `err` set on failure (cleared on success).
inline std::string url_decode(std::string_view in, error_detail& err)
{
    std::string out(url_decoded_size(in.size()), '\0');
    const decode_result r = url_decode(in, out.data(), out.size());
    out.resize(r.size);
    err = r.error;
    return out;
}

} // namespace mailauth::base64
