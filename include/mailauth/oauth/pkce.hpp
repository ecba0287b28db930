// mailauth: Proof Key for Code Exchange with S256 (RFC 7636).
#pragma once

#include <mailauth/base64.hpp>
#include <mailauth/detail/sha256.hpp>
#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/random.hpp>
#include <mailauth/secret.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mailauth::oauth {

/// A code verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
struct pkce {
    static constexpr std::string_view method = "S256";
    static constexpr std::size_t min_length = 43;
    static constexpr std::size_t max_length = 128;

    secret verifier;       ///< sent with the code exchange only
    std::string challenge; ///< sent in the authorization URL
};

/// Whether `v` is a valid code verifier: 43 to 128 unreserved characters (RFC 7636 §4.1).
constexpr bool is_code_verifier(std::string_view v) noexcept
{
    if (v.size() < pkce::min_length || v.size() > pkce::max_length) return false;
    for (char c : v)
        if (!detail::url::is_unreserved(c)) return false;
    return true;
}

/// BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
inline std::string pkce_challenge(std::string_view verifier)
{
    return base64::url_encode(detail::sha256::hash(verifier).str());
}

/// A fresh verifier of `length` characters from the base64url alphabet (6 random bits each, unbiased;
/// the default 64 carries 384 bits) and its challenge (RFC 7636 §4.1, §7.1).
inline std::error_code make_pkce(const random_source& random, pkce& out, std::size_t length = 64)
{
    out.verifier.clear();
    out.challenge.clear();
    if (!random || length < pkce::min_length || length > pkce::max_length) return make_error_code(errc::invalid_argument);
    std::vector<unsigned char> bytes(length);
    if (auto ec = random(std::span<unsigned char>{bytes})) return ec;
    std::string v(length, '\0');
    for (std::size_t i = 0; i < length; ++i) v[i] = detail::base64::url_chars[bytes[i] & 63];
    out.challenge = pkce_challenge(v);
    out.verifier.assign(v);
    detail::secure_wipe(reinterpret_cast<char*>(bytes.data()), bytes.size());
    detail::oauth_impl::wipe_string(v);
    return {};
}

/// Sets `out` from a verifier the caller already has (e.g. RFC 7636 Appendix B); invalid_argument if it is not one.
inline std::error_code make_pkce(std::string_view verifier, pkce& out)
{
    out.verifier.clear();
    out.challenge.clear();
    if (!is_code_verifier(verifier)) return make_error_code(errc::invalid_argument);
    out.verifier.assign(verifier);
    out.challenge = pkce_challenge(verifier);
    return {};
}

} // namespace mailauth::oauth
