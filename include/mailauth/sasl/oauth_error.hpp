// mailauth: the JSON error a server sends in place of success for a bad bearer token.
#pragma once

#include <mailauth/detail/json.hpp>
#include <mailauth/error.hpp>

#include <string>
#include <string_view>

namespace mailauth::sasl {

/// The decoded error challenge (RFC 7628 §3.2.2; Google's XOAUTH2 uses the same keys).
struct oauth_error {
    std::string status;               ///< "401", "400" (XOAUTH2) or "invalid_token", "insufficient_scope" (OAUTHBEARER)
    std::string schemes;              ///< e.g. "bearer" or "bearer mac"
    std::string scope;                ///< the scope the server wants
    std::string openid_configuration; ///< discovery URL, when the server names one
    std::string raw;                  ///< the challenge as received, decoded from base64 (bounded)
    error_detail json_error{};        ///< set when `raw` is not a JSON object; the exchange still ends cleanly

    /// Clears all fields, keeping capacity.
    void clear() noexcept
    {
        status.clear();
        schemes.clear();
        scope.clear();
        openid_configuration.clear();
        raw.clear();
        json_error = {};
    }
};

/// Bytes of a challenge kept in oauth_error::raw.
inline constexpr std::size_t max_error_challenge = 4096;

/// Decodes an error challenge into `out`; tolerates a trailing newline and unknown keys.
inline void parse_oauth_error(std::string_view challenge, oauth_error& out)
{
    out.clear();
    out.raw.assign(challenge.substr(0, max_error_challenge));
    namespace json = mailauth::detail::json;
    json::object obj;
    json::limits lim;
    lim.max_size = max_error_challenge * 2;
    lim.max_string = max_error_challenge;
    out.json_error = json::parse_object(challenge, obj, lim);
    if (out.json_error) return;
    auto take = [&](std::string_view key, std::string& field) {
        const auto* v = obj.find(key);
        if (v != nullptr && (v->type == json::kind::string || v->type == json::kind::number)) field.assign(v->text);
    };
    take("status", out.status);
    take("schemes", out.schemes);
    take("scope", out.scope);
    take("openid-configuration", out.openid_configuration);
}

} // namespace mailauth::sasl
