// mailauth: the client contract every SASL mechanism follows (RFC 4422 §3).
#pragma once

#include <mailauth/error.hpp>

#include <concepts>
#include <cstdint>
#include <cstring>
#include <cstddef>
#include <string>
#include <string_view>

namespace mailauth::sasl {

/// What a mechanism wants after start() or step().
enum class status : unsigned char {
    respond, ///< send the bytes written to `out` (possibly empty)
    wait,    ///< start() only: no initial response, wait for the server's first challenge
    fail,    ///< the mechanism cannot go on; see `error` (the protocol machine cancels with "*")
};

/// One step of a mechanism; `secret` says the response carries a credential.
struct step_result {
    status what = status::fail;
    bool secret = false;
    error_detail error{};
};

/// The client side of a SASL mechanism: raw bytes in and out, never base64 or protocol framing.
template <class M>
concept client_mechanism = requires(M& m, std::string_view challenge, std::string& out) {
    { M::name } -> std::convertible_to<std::string_view>;
    { m.start(out) } -> std::same_as<step_result>;
    { m.step(challenge, out) } -> std::same_as<step_result>;
};

namespace detail {

inline step_result respond(bool secret) noexcept { return {status::respond, secret, {}}; }
inline step_result failed(errc e, std::size_t offset = error_detail::no_offset, int byte = -1)
{
    return {status::fail, false, error_detail{make_error_code(e), offset, byte}};
}

/// First CR, LF, NUL (and ^A when `no_ctrl_a`) in a field, reported with `code` (injection guard).
inline error_detail check_field(std::string_view v, errc code, bool no_ctrl_a) noexcept
{
    auto bad = [no_ctrl_a](unsigned char c) { return c == '\r' || c == '\n' || c == 0 || (no_ctrl_a && c == 1); };
    // Eight bytes at a time, four words per step: only a word holding a byte below 0x0E can hold a forbidden one.
    constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    auto low_byte_in = [&](std::size_t at) {
        std::uint64_t w;
        std::memcpy(&w, v.data() + at, 8);
        return (w - ones * 0x0E) & ~w & highs;
    };
    std::size_t i = 0;
    for (; i + 32 <= v.size(); i += 32)
        if ((low_byte_in(i) | low_byte_in(i + 8) | low_byte_in(i + 16) | low_byte_in(i + 24)) != 0) break;
    for (; i + 8 <= v.size(); i += 8)
        if (low_byte_in(i) != 0) break;
    for (; i < v.size(); ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (bad(c)) return {make_error_code(code), i, c};
    }
    return {};
}

} // namespace detail

} // namespace mailauth::sasl
