// mailauth: the authorization code flow's browser side: the authorization URL and the redirect back (RFC 6749 §4.1).
#pragma once

#include <mailauth/detail/sha256.hpp>
#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/pkce.hpp>
#include <mailauth/oauth/random.hpp>
#include <mailauth/secret.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth::oauth {

/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1).
struct authorization_request {
    std::string endpoint;       ///< authorization endpoint; may carry its own query (RFC 6749 §3.1)
    std::string client_id;
    std::string redirect_uri;   ///< e.g. loopback_redirect_uri(port)
    std::string scope;          ///< space-separated
    std::string state;          ///< required: ties the redirect to this request (RFC 6749 §10.12)
    std::string code_challenge; ///< required: S256 challenge (plain is never sent)
    std::string nonce;          ///< OpenID Connect, optional
    std::string prompt;         ///< e.g. "consent", "select_account", optional
    std::string login_hint;     ///< the account to preselect, optional
    std::string access_type;    ///< Google: "offline" to get a refresh token, optional
    std::vector<std::pair<std::string, std::string>> extra; ///< more parameters, appended in order
};

/// http://127.0.0.1:PORT/callback: a loopback redirect on the port the caller listens on (RFC 8252 §7.3, §8.3).
inline std::string loopback_redirect_uri(std::uint16_t port, std::string_view path = "/callback")
{
    std::string uri = "http://127.0.0.1:" + std::to_string(port);
    if (path.empty() || path.front() != '/') uri += '/';
    uri.append(path);
    return uri;
}

/// Builds the URL to open in the browser: response_type=code, client_id, redirect_uri, scope, state, nonce,
/// prompt, login_hint, access_type, code_challenge, code_challenge_method=S256, then `extra` (form-encoded).
inline error_detail authorization_url(const authorization_request& req, std::string& out)
{
    out.clear();
    detail::url::parts p;
    if (auto e = detail::url::split(req.endpoint, p)) return e;
    if (req.client_id.empty() || req.state.empty() || req.code_challenge.size() != 43)
        return {make_error_code(errc::invalid_argument)};
    // Any absolute URI may be a redirect URI (RFC 8252 §7.1 private-use schemes), but never one with a
    // fragment (RFC 6749 §3.1.2) or bytes that do not belong in a URL.
    for (char c : req.redirect_uri)
        if (detail::url::is_forbidden_url_byte(c) || c == '#') return {make_error_code(errc::invalid_argument)};
    if (!req.redirect_uri.empty() && req.redirect_uri.find(':') == std::string::npos)
        return {make_error_code(errc::invalid_argument)};
    std::string url = req.endpoint;
    std::vector<std::string_view> names;
    const auto add = [&](std::string_view name, std::string_view value) {
        if (value.empty()) return;
        detail::url::append_query_param(url, name, value);
        names.push_back(name);
    };
    add("response_type", "code");
    add("client_id", req.client_id);
    add("redirect_uri", req.redirect_uri);
    add("scope", req.scope);
    add("state", req.state);
    add("nonce", req.nonce);
    add("prompt", req.prompt);
    add("login_hint", req.login_hint);
    add("access_type", req.access_type);
    add("code_challenge", req.code_challenge);
    add("code_challenge_method", pkce::method);
    for (const auto& [name, value] : req.extra) {
        for (auto n : names)
            if (n == name) return {make_error_code(errc::invalid_argument)}; // RFC 6749 §3.1: at most once
        detail::url::append_query_param(url, name, value);
        names.push_back(name);
    }
    out = std::move(url);
    return {};
}

/// What the client keeps between opening the authorization URL and the redirect back.
struct authorization_session {
    std::string state;
    pkce proof;
    std::string redirect_uri;
    std::string issuer; ///< the authorization server's issuer to require in the redirect (RFC 9207); empty: not checked
};

/// Fills a fresh state (256 bits) and PKCE pair into `session` and `req` (RFC 6749 §10.12, RFC 7636 §4.1).
inline std::error_code begin_authorization(authorization_request& req, const random_source& random,
                                           authorization_session& session)
{
    session.redirect_uri = req.redirect_uri;
    if (auto ec = random_urlsafe(random, 32, session.state)) return ec;
    if (auto ec = make_pkce(random, session.proof)) return ec;
    req.state = session.state;
    req.code_challenge = session.proof.challenge;
    return {};
}

/// How the redirect back from the authorization server ended.
enum class redirect_status : unsigned char {
    code,            ///< an authorization code to exchange
    malformed,       ///< bad percent-encoding or a repeated parameter
    state_mismatch,  ///< missing or wrong state: possible CSRF (RFC 6749 §10.12)
    issuer_mismatch, ///< missing or wrong iss: possible mix-up attack (RFC 9207 §2.4)
    error,           ///< the server sent error=... (RFC 6749 §4.1.2.1)
    missing_code,    ///< neither code nor error
};

/// The parsed redirect: the code on success, the server's error fields otherwise.
struct redirect_result {
    redirect_status status = redirect_status::malformed;
    std::error_code code;
    secret authorization_code;
    std::string error;
    std::string error_description;
    std::string error_uri;
    std::string issuer;

    explicit operator bool() const noexcept { return !code; }

    /// One line for the user; holds no code or state.
    std::string message() const
    {
        switch (status) {
        case redirect_status::code: return "authorization redirect: code received";
        case redirect_status::malformed: return "authorization redirect: malformed query";
        case redirect_status::state_mismatch: return "authorization redirect: state missing or wrong (possible CSRF)";
        case redirect_status::issuer_mismatch: return "authorization redirect: iss missing or wrong (possible mix-up)";
        case redirect_status::missing_code: return "authorization redirect: no code and no error";
        case redirect_status::error: break;
        }
        std::string m = "authorization redirect: " + error;
        if (!error_description.empty()) m += ": " + error_description;
        return m;
    }
};

/// Parses the callback request target ("/callback?code=...&state=...&iss=...", or a full URL): checks
/// `state` in constant time, then `iss` when `expected_issuer` is set (RFC 9207 §2.4), then surfaces
/// error/error_description or takes the code (RFC 6749 §4.1.2).
inline redirect_result parse_redirect(std::string_view target, std::string_view expected_state,
                                      std::string_view expected_issuer = {})
{
    redirect_result r;
    const auto finish = [&](redirect_status s, errc e) {
        r.status = s;
        r.code = make_error_code(e);
        return std::move(r);
    };
    if (expected_state.empty()) return finish(redirect_status::state_mismatch, errc::invalid_argument);
    if (const auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
    const auto q = target.find('?');
    const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    detail::url::query_params params;
    const auto wipe = [&] {
        for (auto& [name, value] : params) detail::oauth_impl::wipe_string(value);
    };
    if (detail::url::parse_query(query, params)) return finish(redirect_status::malformed, errc::oauth_redirect_malformed);
    for (std::string_view name : {"code", "state", "iss", "error", "error_description", "error_uri"}) {
        if (detail::url::count_param(params, name) > 1) {
            wipe();
            return finish(redirect_status::malformed, errc::oauth_redirect_malformed);
        }
    }
    const std::string* state = detail::url::find_param(params, "state");
    if (state == nullptr || !detail::constant_time_equal(*state, expected_state)) {
        wipe();
        return finish(redirect_status::state_mismatch, errc::oauth_state_mismatch);
    }
    if (const std::string* iss = detail::url::find_param(params, "iss")) r.issuer = detail::oauth_impl::printable_excerpt(*iss);
    if (!expected_issuer.empty()) {
        const std::string* iss = detail::url::find_param(params, "iss");
        if (iss == nullptr || *iss != expected_issuer) {
            wipe();
            return finish(redirect_status::issuer_mismatch, errc::oauth_issuer_mismatch);
        }
    }
    if (const std::string* e = detail::url::find_param(params, "error")) {
        r.error = detail::oauth_impl::printable_excerpt(*e);
        if (const auto* d = detail::url::find_param(params, "error_description")) r.error_description = detail::oauth_impl::printable_excerpt(*d);
        if (const auto* u = detail::url::find_param(params, "error_uri")) r.error_uri = detail::oauth_impl::printable_excerpt(*u);
        wipe();
        return finish(redirect_status::error, errc::oauth_error_response);
    }
    const std::string* code = detail::url::find_param(params, "code");
    if (code == nullptr || code->empty()) {
        wipe();
        return finish(redirect_status::missing_code, errc::oauth_missing_code);
    }
    r.authorization_code.assign(*code);
    wipe();
    r.status = redirect_status::code;
    return r;
}

/// As above with the state and issuer kept in `session`.
inline redirect_result parse_redirect(std::string_view target, const authorization_session& session)
{
    return parse_redirect(target, session.state, session.issuer);
}

} // namespace mailauth::oauth
