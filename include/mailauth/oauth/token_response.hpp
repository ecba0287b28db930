// mailauth: token endpoint responses (RFC 6749 §5.1, §5.2), Microsoft and Google error hints, the token set.
#pragma once

#include <mailauth/detail/ascii.hpp>
#include <mailauth/detail/json.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/secret.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth::oauth {

/// A successful token response (RFC 6749 §5.1); id_token and unknown members are ignored.
struct token_response {
    secret access_token;
    std::string token_type;                         ///< "Bearer", or empty when the server left it out
    std::optional<std::chrono::seconds> expires_in; ///< from a number or a numeric string
    secret refresh_token;                           ///< empty when none came back
    std::string scope;                              ///< the granted scope, when the server names it
};

/// What went wrong: an error response (RFC 6749 §5.2, RFC 8628 §3.5) or a body that is not one.
struct token_error {
    unsigned http_status = 0;
    std::string error;                      ///< e.g. "invalid_grant", "authorization_pending"
    std::string description;                ///< error_description (bounded, controls replaced)
    std::string uri;                        ///< error_uri
    std::vector<std::uint64_t> error_codes; ///< Microsoft's error_codes (AADSTS numbers)
    std::string body_excerpt;               ///< start of a non-JSON error body; never taken from a 2xx body
    error_detail json_error;                ///< why the body is not a JSON object, when it is not

    bool has_code(std::uint64_t code) const noexcept
    {
        for (auto c : error_codes)
            if (c == code) return true;
        return false;
    }

    /// What the user or administrator can do about it, or empty.
    std::string_view hint() const noexcept;

    /// One line for logs and exceptions: status, error, description, codes, hint. Holds no token.
    std::string message() const;
};

/// The outcome of parsing a token endpoint response.
struct token_result {
    std::error_code code; ///< empty on success; oauth_error_response for an OAuth error response
    token_response token; ///< on success
    token_error error;    ///< on failure
    explicit operator bool() const noexcept { return !code; }
};

/// Largest expires_in taken as given (about 136 years); larger values are capped.
inline constexpr std::uint64_t max_expires_in = std::uint64_t{1} << 32;

/// Hints for the AADSTS codes users meet most with mail (Microsoft identity platform error codes).
inline std::string_view microsoft_hint(std::uint64_t code) noexcept
{
    switch (code) {
    case 65001:
        return "consent missing (AADSTS65001): the user or an administrator has not consented to the requested "
               "scopes; sign in interactively once, or have an administrator grant consent for the tenant";
    case 7000215:
        return "invalid client secret (AADSTS7000215): the value sent is not a secret of this app; the secret's ID "
               "is often copied instead of its value";
    case 7000222:
        return "expired client secret (AADSTS7000222): create a new client secret in the app registration and "
               "configure its value";
    case 700016:
        return "application not found in the tenant (AADSTS700016): check the client id and the tenant; the app "
               "may not be registered or consented in this tenant";
    case 50076:
        return "multi-factor authentication required (AADSTS50076): this grant cannot satisfy MFA; sign in "
               "interactively (authorization code or device flow)";
    case 70011:
        return "invalid scope (AADSTS70011): use https://outlook.office.com/IMAP.AccessAsUser.All, "
               "POP.AccessAsUser.All or SMTP.Send with offline_access for users, "
               "https://outlook.office365.com/.default for client credentials";
    case 700082:
        return "refresh token expired after 90 days without use (AADSTS700082): sign in interactively again";
    case 53003:
        return "blocked by Conditional Access (AADSTS53003): a tenant policy denies this sign-in; ask the tenant "
               "administrator";
    default: return {};
    }
}

inline std::string_view token_error::hint() const noexcept
{
    for (auto c : error_codes)
        if (auto h = microsoft_hint(c); !h.empty()) return h;
    if (error == "invalid_grant")
        return "the refresh token or code is revoked, expired or already used (the user revoked access or changed "
               "the password; Google: unused for 6 months, or 7 days while the consent screen is in Testing mode); "
               "sign in again (Google: with prompt=consent and access_type=offline to get a new refresh token)";
    if (error == "invalid_client")
        return "the client id, secret or assertion was not accepted, or this client authentication method is not "
               "allowed for the app";
    if (error == "unauthorized_client") return "this app is not allowed to use this grant type";
    if (error == "invalid_scope") return "the scope is unknown or not allowed for this app";
    if (error == "unsupported_grant_type") return "the server does not support this grant type";
    if (error == "expired_token") return "the device code expired before the user finished; start again";
    if (error == "access_denied" || error == "authorization_declined") return "the user declined the authorization";
    return {};
}

} // namespace mailauth::oauth

namespace mailauth::detail::oauth_impl {

/// The number after "AADSTS" in a Microsoft error_description, if any.
inline std::optional<std::uint64_t> aadsts_code(std::string_view description) noexcept
{
    const auto at = description.find("AADSTS");
    if (at == std::string_view::npos) return std::nullopt;
    std::uint64_t n = 0;
    std::size_t i = at + 6, digits = 0;
    for (; i < description.size() && is_digit(description[i]) && digits < 12; ++i, ++digits)
        n = n * 10 + static_cast<std::uint64_t>(description[i] - '0');
    if (digits == 0) return std::nullopt;
    return n;
}

/// Wipes every string a parsed token response left in the JSON object (tokens included).
inline void wipe_json(json::object& obj) noexcept
{
    for (const auto& m : obj.members()) {
        auto& key = const_cast<std::string&>(m.first);
        auto& text = const_cast<std::string&>(m.second.text);
        wipe_string(key);
        wipe_string(text);
    }
}

/// A token may go into XOAUTH2/OAUTHBEARER: only visible ASCII (RFC 6750 §2.1 b64token is stricter still).
inline bool is_token_text(std::string_view s) noexcept
{
    if (s.empty()) return false;
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x21 || b > 0x7E) return false;
    }
    return true;
}

/// Parses a token-endpoint style JSON body into `obj` and fills `err` for anything but a success; returns
/// the code (empty when `obj` holds a success body). Shared by token and device authorization responses.
inline std::error_code read_oauth_json(const ::mailauth::oauth::http_response& res, json::object& obj, ::mailauth::oauth::token_error& err)
{
    err = {};
    err.http_status = res.status;
    const bool ok_status = res.status >= 200 && res.status < 300;
    const std::string_view body = res.body.reveal();
    if (auto je = json::parse_object(body, obj)) {
        err.json_error = je;
        if (ok_status) err.json_error.byte = -1; // a success body may hold a token: name no byte of it
        else err.body_excerpt = printable_excerpt(body);
        return make_error_code(errc::oauth_response_malformed);
    }
    if (const auto e = obj.get_string("error")) {
        err.error = printable_excerpt(*e);
        if (auto d = obj.get_string("error_description")) err.description = printable_excerpt(*d);
        if (auto u = obj.get_string("error_uri")) err.uri = printable_excerpt(*u);
        if (const auto* codes = obj.find("error_codes"); codes != nullptr && codes->type == json::kind::array)
            (void)json::parse_uint_array(codes->text, err.error_codes);
        if (err.error_codes.empty())
            if (auto c = aadsts_code(err.description)) err.error_codes.push_back(*c);
        return make_error_code(errc::oauth_error_response);
    }
    if (!ok_status) return make_error_code(errc::oauth_response_malformed); // JSON without "error": not a §5.2 response
    return {};
}

} // namespace mailauth::detail::oauth_impl

namespace mailauth::oauth {

inline std::string token_error::message() const
{
    std::string m = "token endpoint";
    if (http_status != 0) m += ": HTTP " + std::to_string(http_status);
    if (!error.empty()) m += ": " + error;
    if (!description.empty()) m += ": " + description;
    if (!error_codes.empty()) {
        m += " [error_codes";
        for (auto c : error_codes) m += ' ' + std::to_string(c);
        m += ']';
    }
    if (json_error) {
        m += ": body is not a JSON object (" + json_error.message() + ")";
        if (!body_excerpt.empty()) m += ": \"" + body_excerpt + '"';
    } else if (error.empty()) {
        m += ": no error member in the response";
    }
    if (const auto h = hint(); !h.empty()) {
        m += " (hint: ";
        m += h;
        m += ')';
    }
    return m;
}

/// Parses a token endpoint response: 2xx JSON with access_token is success; a JSON body with "error" is an
/// error response with any status (RFC 6749 §5.2); anything else is errc::oauth_response_malformed naming the status.
inline token_result parse_token_response(const http_response& res)
{
    token_result r;
    detail::json::object obj;
    r.code = detail::oauth_impl::read_oauth_json(res, obj, r.error);
    if (!r.code) {
        const auto at = obj.get_string("access_token");
        const auto type = obj.get_string("token_type");
        if (!at || !detail::oauth_impl::is_token_text(*at)) {
            r.code = make_error_code(errc::oauth_response_malformed);
            r.error.description = "no usable access_token in the response";
        } else if (type && !detail::iequals(*type, "bearer")) {
            r.code = make_error_code(errc::oauth_unsupported_token_type);
            // A token type is a short word: 64 bytes of it keep the description within max_error_text.
            r.error.description = "token_type is not Bearer (RFC 6750): " + detail::oauth_impl::printable_excerpt(*type, 64);
        } else {
            r.token.access_token.assign(*at);
            if (type) r.token.token_type.assign(*type);
            if (auto e = obj.get_uint("expires_in")) // capped so that now + expires_in cannot overflow
                r.token.expires_in = std::chrono::seconds{static_cast<std::chrono::seconds::rep>(std::min<std::uint64_t>(*e, max_expires_in))};
            if (auto rt = obj.get_string("refresh_token"); rt && detail::oauth_impl::is_token_text(*rt)) r.token.refresh_token.assign(*rt);
            if (auto s = obj.get_string("scope")) r.token.scope.assign(*s);
        }
    }
    detail::oauth_impl::wipe_json(obj);
    return r;
}

/// The tokens of one account and scope set, as a cache and a store keep them.
struct token_set {
    secret access_token;
    std::optional<time_point> expires_at; ///< unknown when the server gave no expires_in
    secret refresh_token;
    std::string scope;

    /// Whether the access token exists and has more than `margin` left at `now` (unknown expiry: yes).
    bool fresh(time_point now, std::chrono::seconds margin) const noexcept
    {
        if (access_token.empty()) return false;
        return !expires_at || now + margin < *expires_at;
    }
};

/// What apply_token_response changed.
struct [[nodiscard]] token_update {
    bool must_persist = false; ///< a new or rotated refresh token: save it BEFORE using the new access token
};

/// Takes a successful response into `set`: new access token and expiry (from `now`); the old refresh token is
/// kept when none comes back (RFC 6749 §6), a different one replaces it and must be persisted.
inline token_update apply_token_response(token_set& set, token_response&& r, time_point now)
{
    token_update u;
    set.access_token = std::move(r.access_token);
    if (r.expires_in) set.expires_at = now + *r.expires_in;
    else set.expires_at.reset();
    if (!r.refresh_token.empty() && r.refresh_token.reveal() != set.refresh_token.reveal()) {
        set.refresh_token = std::move(r.refresh_token);
        u.must_persist = true;
    }
    if (!r.scope.empty()) set.scope = std::move(r.scope);
    return u;
}

} // namespace mailauth::oauth
