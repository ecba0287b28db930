// mailauth: percent-encoding (RFC 3986), form encoding (WHATWG URL §5), query strings and endpoint URLs.
#pragma once

#include <mailauth/detail/ascii.hpp>
#include <mailauth/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailauth::detail::url {

/// ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3).
constexpr bool is_unreserved(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/// Bytes the form serializer leaves as they are: *-._ and alphanumerics (WHATWG URL §5.2, urlencoded serializing).
constexpr bool is_form_safe(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '*' || c == '-' ||
           c == '.' || c == '_';
}

/// Hex digits for percent-encoding: upper case (RFC 3986 §2.1).
inline constexpr char upper_hex[] = "0123456789ABCDEF";

/// The value of a hex digit, or -1.
constexpr int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Length of percent_encode(in).
constexpr std::size_t percent_encoded_size(std::string_view in) noexcept
{
    std::size_t n = 0;
    for (char c : in) n += is_unreserved(c) ? 1 : 3;
    return n;
}

/// Appends `in` with every byte outside the unreserved set as %XX, upper-case hex (RFC 3986 §2.1, §2.4).
inline void percent_encode_append(std::string_view in, std::string& out)
{
    for (char c : in) {
        if (is_unreserved(c)) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '%';
            out += upper_hex[b >> 4];
            out += upper_hex[b & 15];
        }
    }
}

/// `in` percent-encoded outside the unreserved set (RFC 3986 §2.1).
inline std::string percent_encode(std::string_view in)
{
    std::string out;
    out.reserve(percent_encoded_size(in));
    percent_encode_append(in, out);
    return out;
}

/// Length of form_encode(in).
constexpr std::size_t form_encoded_size(std::string_view in) noexcept
{
    std::size_t n = 0;
    for (char c : in) n += is_form_safe(c) || c == ' ' ? 1 : 3;
    return n;
}

/// Appends `in` form-encoded: space as '+', *-._ and alphanumerics kept, the rest %XX (WHATWG URL §5.2).
inline void form_encode_append(std::string_view in, std::string& out)
{
    for (char c : in) {
        if (is_form_safe(c)) {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '%';
            out += upper_hex[b >> 4];
            out += upper_hex[b & 15];
        }
    }
}

/// `in` form-encoded (WHATWG URL §5.2).
inline std::string form_encode(std::string_view in)
{
    std::string out;
    out.reserve(form_encoded_size(in));
    form_encode_append(in, out);
    return out;
}

/// errc::url_invalid at `offset` of the input.
inline error_detail fail(std::size_t offset, int byte = -1)
{
    return {make_error_code(errc::url_invalid), offset, byte};
}

/// Decodes a form-encoded or percent-encoded component into `out` ('+' is a space only when `plus_is_space`);
/// a '%' not followed by two hex digits is an error at its offset.
inline error_detail percent_decode(std::string_view in, std::string& out, bool plus_is_space = true)
{
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
            const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                out.clear();
                return fail(i, '%');
            }
            out += static_cast<char>(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return {};
}

/// Decodes one application/x-www-form-urlencoded name or value (WHATWG URL §5.1, but strict about '%').
inline error_detail form_decode(std::string_view in, std::string& out)
{
    return percent_decode(in, out, true);
}

using query_params = std::vector<std::pair<std::string, std::string>>;

/// Parses `a=1&b=2` (no leading '?') into decoded pairs in order; empty pieces are skipped, a piece
/// without '=' has an empty value (WHATWG URL §5.1). Offsets in errors are into `query`.
inline error_detail parse_query(std::string_view query, query_params& out)
{
    out.clear();
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        const std::string_view piece = query.substr(start, end - start);
        if (!piece.empty()) {
            const std::size_t eq = piece.find('=');
            const std::string_view name = piece.substr(0, eq);
            const std::string_view value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
            std::pair<std::string, std::string> p;
            if (auto e = form_decode(name, p.first)) {
                e.offset += start;
                out.clear();
                return e;
            }
            if (auto e = form_decode(value, p.second)) {
                e.offset += start + eq + 1;
                out.clear();
                return e;
            }
            out.push_back(std::move(p));
        }
        start = end + 1;
    }
    return {};
}

/// The value of the first parameter called `name`, or nullptr.
inline const std::string* find_param(const query_params& params, std::string_view name) noexcept
{
    for (const auto& p : params)
        if (p.first == name) return &p.second;
    return nullptr;
}

/// How many parameters are called `name`.
inline std::size_t count_param(const query_params& params, std::string_view name) noexcept
{
    std::size_t n = 0;
    for (const auto& p : params) n += p.first == name ? 1 : 0;
    return n;
}

/// An http(s) URL split for an HTTP client (RFC 3986 §3).
struct parts {
    std::string scheme;          ///< "http" or "https", lower case
    std::string host;            ///< as written; IPv6 literals keep their brackets ("[::1]")
    std::uint16_t port = 0;      ///< the explicit port, or 80 / 443
    bool explicit_port = false;  ///< a port was written
    std::string target;          ///< path and query ("/" when the URL has no path)

    /// The path without the query.
    std::string_view path() const noexcept { return std::string_view{target}.substr(0, target.find('?')); }
    /// The query without '?', empty when there is none.
    std::string_view query() const noexcept
    {
        const auto q = target.find('?');
        return q == std::string::npos ? std::string_view{} : std::string_view{target}.substr(q + 1);
    }
};

/// A byte that may not appear anywhere in a URL we send: controls, space, DEL and non-ASCII (RFC 3986 §2).
constexpr bool is_forbidden_url_byte(char c) noexcept
{
    const auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
           c == '{' || c == '|' || c == '}';
}

/// unreserved / sub-delims / "%" of a reg-name host (RFC 3986 §3.2.2).
constexpr bool is_reg_name_char(char c) noexcept
{
    return is_unreserved(c) || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
           c == '+' || c == ',' || c == ';' || c == '=' || c == '%';
}

/// Splits an absolute http or https URL; rejects other schemes, controls, spaces, userinfo, fragments
/// (RFC 6749 §3.1), bad ports and malformed IPv6 literals. Offsets in errors are into `in`.
inline error_detail split(std::string_view in, parts& out)
{
    out = {};
    for (std::size_t i = 0; i < in.size(); ++i)
        if (is_forbidden_url_byte(in[i]) || in[i] == '#') return fail(i, static_cast<unsigned char>(in[i]));
    const std::size_t colon = in.find("://");
    if (colon == std::string_view::npos) return fail(0);
    const std::string_view scheme = in.substr(0, colon);
    if (iequals(scheme, "https")) {
        out.scheme = "https";
        out.port = 443;
    } else if (iequals(scheme, "http")) {
        out.scheme = "http";
        out.port = 80;
    } else {
        return fail(0);
    }
    const std::size_t host_at = colon + 3;
    std::size_t auth_end = in.find_first_of("/?", host_at);
    if (auth_end == std::string_view::npos) auth_end = in.size();
    const std::string_view authority = in.substr(host_at, auth_end - host_at);
    if (const auto at = authority.find('@'); at != std::string_view::npos) return fail(host_at + at, '@');
    std::size_t port_at = std::string_view::npos; // index in authority of the ':' before the port
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos || close < 3) return fail(host_at);
        for (std::size_t i = 1; i < close; ++i) {
            const char c = authority[i];
            if (hex_value(c) < 0 && c != ':' && c != '.') return fail(host_at + i, static_cast<unsigned char>(c));
        }
        if (authority.substr(1, close - 1).find(':') == std::string_view::npos) return fail(host_at + 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return fail(host_at + close + 1, static_cast<unsigned char>(authority[close + 1]));
            port_at = close + 1;
        }
        out.host.assign(authority.substr(0, close + 1));
    } else {
        port_at = authority.find(':');
        const std::string_view host = authority.substr(0, port_at);
        if (host.empty()) return fail(host_at);
        for (std::size_t i = 0; i < host.size(); ++i)
            if (!is_reg_name_char(host[i])) return fail(host_at + i, static_cast<unsigned char>(host[i]));
        out.host.assign(host);
    }
    if (port_at != std::string_view::npos) {
        const std::string_view digits = authority.substr(port_at + 1);
        if (digits.empty() || digits.size() > 5) return fail(host_at + port_at + 1);
        std::uint32_t port = 0;
        for (std::size_t i = 0; i < digits.size(); ++i) {
            if (!is_digit(digits[i])) return fail(host_at + port_at + 1 + i, static_cast<unsigned char>(digits[i]));
            port = port * 10 + static_cast<std::uint32_t>(digits[i] - '0');
        }
        if (port == 0 || port > 65535) return fail(host_at + port_at + 1);
        out.port = static_cast<std::uint16_t>(port);
        out.explicit_port = true;
    }
    const std::string_view rest = in.substr(auth_end);
    if (rest.empty() || rest.front() == '?') out.target = "/";
    out.target.append(rest);
    return {};
}

/// Appends `name=value` (form-encoded) to a URL, after '?' or '&' as the URL's query requires (RFC 6749 §3.1).
inline void append_query_param(std::string& url, std::string_view name, std::string_view value)
{
    const auto q = url.find('?');
    if (q == std::string::npos) url += '?';
    else if (url.back() != '?' && url.back() != '&') url += '&';
    form_encode_append(name, url);
    url += '=';
    form_encode_append(value, url);
}

} // namespace mailauth::detail::url
