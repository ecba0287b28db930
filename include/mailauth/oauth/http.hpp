// mailauth: the HTTP request and response values of the token layer, and the client concept that sends them.
#pragma once

#include <mailauth/detail/ascii.hpp>
#include <mailauth/detail/url.hpp>
#include <mailauth/secret.hpp>

#include <chrono>
#include <concepts>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth::oauth {

/// Wall-clock time as the caller passes it in (the token layer reads no clock itself).
using time_point = std::chrono::system_clock::time_point;

/// One HTTP header field that carries no secret.
struct http_field {
    std::string name;
    std::string value;
};

/// A request for the caller's HTTP client; the parts that may hold secrets are mailauth::secret.
struct http_request {
    std::string method = "POST";
    std::string url;                 ///< absolute http(s) URL, validated
    std::vector<http_field> headers; ///< Content-Type, Accept, ...: never secret
    secret authorization;            ///< value of the Authorization header (client_secret_basic); empty: send none
    secret body;                     ///< application/x-www-form-urlencoded body: carries tokens and client secrets

    /// Calls f(name, value) for every header to send, Authorization included (last).
    template <class F>
    void for_each_header(F&& f) const
    {
        for (const auto& h : headers) f(std::string_view{h.name}, std::string_view{h.value});
        if (!authorization.empty()) f(std::string_view{"Authorization"}, authorization.reveal());
    }

    /// The value of a non-secret header (ASCII case-insensitive name), or empty.
    std::string_view header(std::string_view name) const noexcept
    {
        for (const auto& h : headers)
            if (detail::iequals(h.name, name)) return h.value;
        return {};
    }
};

/// What the caller's HTTP client read back: the status, the Content-Type and the body (which may hold tokens).
struct http_response {
    unsigned status = 0;
    std::string content_type;
    secret body;
};

/// Longest server-supplied text (error_description, excerpts) kept for messages.
inline constexpr std::size_t max_error_text = 512;

/// The caller's HTTP client: sends one request and fills the response; a non-zero code means no response.
template <class C>
concept http_client = requires(C& c, const http_request& req, http_response& res) {
    { c.send(req, res) } -> std::same_as<std::error_code>;
};

} // namespace mailauth::oauth

namespace mailauth::detail::oauth_impl {

/// Wipes (up to its capacity) and empties a std::string that held secret bytes.
inline void wipe_string(std::string& s) noexcept { ::mailauth::detail::wipe(s); }

/// `s` bounded to `max` bytes (then "...") with control bytes replaced by spaces, for messages.
inline std::string printable_excerpt(std::string_view s, std::size_t max = ::mailauth::oauth::max_error_text)
{
    std::string out{s.substr(0, max)};
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    if (s.size() > max) out += "...";
    return out;
}

} // namespace mailauth::detail::oauth_impl

namespace mailauth::oauth {

/// The fields of a form body, held by reference until finish() writes them form-encoded into one exactly
/// sized buffer that is wiped after the copy into the secret (RFC 6749 Appendix B). For custom grants.
class form_fields {
public:
    /// Appends a field; `name` and `value` must stay alive until finish().
    form_fields& add(std::string_view name, std::string_view value)
    {
        fields_.emplace_back(name, value);
        return *this;
    }

    /// The encoded body `a=1&b=2`.
    secret finish() const
    {
        std::size_t n = 0;
        for (const auto& [name, value] : fields_) n += detail::url::form_encoded_size(name) + detail::url::form_encoded_size(value) + 2;
        std::string buf;
        buf.reserve(n);
        for (const auto& [name, value] : fields_) {
            if (!buf.empty()) buf += '&';
            detail::url::form_encode_append(name, buf);
            buf += '=';
            detail::url::form_encode_append(value, buf);
        }
        secret out{buf};
        detail::oauth_impl::wipe_string(buf);
        return out;
    }

private:
    std::vector<std::pair<std::string_view, std::string_view>> fields_;
};

} // namespace mailauth::oauth
