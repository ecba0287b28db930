// mailauth: token requests for the client credentials, refresh token and authorization code grants.
#pragma once

#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/client_auth.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/secret.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace mailauth::oauth {

/// Turns `form` (the grant's fields) into a POST to `token_endpoint` with `auth` applied: form body,
/// Accept: application/json (RFC 6749 §3.2). On failure `out` is empty. For grants this header lacks.
inline error_detail make_token_request(std::string_view token_endpoint, const client_auth& auth,
                                       form_fields& form, http_request& out, const request_context& ctx = {})
{
    out = {};
    detail::url::parts p;
    if (auto e = detail::url::split(token_endpoint, p)) return e;
    std::string assertion;
    if (auto e = apply_client_auth(auth, token_endpoint, ctx, form, assertion, out)) {
        detail::oauth_impl::wipe_string(assertion);
        out = {};
        return e;
    }
    out.method = "POST";
    out.url.assign(token_endpoint);
    out.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    out.headers.push_back({"Accept", "application/json"});
    out.body = form.finish();
    detail::oauth_impl::wipe_string(assertion);
    return {};
}

/// grant_type=client_credentials[&scope=...] (RFC 6749 §4.4.2); the client must authenticate (§4.4).
inline error_detail client_credentials_request(std::string_view token_endpoint, const client_auth& auth,
                                               std::string_view scope, http_request& out,
                                               const request_context& ctx = {})
{
    if (std::holds_alternative<public_client>(auth)) {
        out = {};
        return {make_error_code(errc::no_credentials)};
    }
    form_fields form;
    form.add("grant_type", "client_credentials");
    if (!scope.empty()) form.add("scope", scope);
    return make_token_request(token_endpoint, auth, form, out, ctx);
}

/// grant_type=refresh_token&refresh_token=...[&scope=...] (RFC 6749 §6).
inline error_detail refresh_token_request(std::string_view token_endpoint, const client_auth& auth,
                                          const secret& refresh_token, std::string_view scope, http_request& out,
                                          const request_context& ctx = {})
{
    if (refresh_token.empty()) {
        out = {};
        return {make_error_code(errc::no_credentials)};
    }
    form_fields form;
    form.add("grant_type", "refresh_token").add("refresh_token", refresh_token.reveal());
    if (!scope.empty()) form.add("scope", scope);
    return make_token_request(token_endpoint, auth, form, out, ctx);
}

/// grant_type=authorization_code&code=...&redirect_uri=...&code_verifier=... (RFC 6749 §4.1.3, RFC 7636 §4.5).
inline error_detail authorization_code_request(std::string_view token_endpoint, const client_auth& auth,
                                               const secret& code, std::string_view redirect_uri,
                                               const secret& code_verifier, http_request& out,
                                               const request_context& ctx = {})
{
    if (code.empty()) {
        out = {};
        return {make_error_code(errc::no_credentials)};
    }
    form_fields form;
    form.add("grant_type", "authorization_code").add("code", code.reveal());
    if (!redirect_uri.empty()) form.add("redirect_uri", redirect_uri);
    if (!code_verifier.empty()) form.add("code_verifier", code_verifier.reveal());
    return make_token_request(token_endpoint, auth, form, out, ctx);
}

} // namespace mailauth::oauth
