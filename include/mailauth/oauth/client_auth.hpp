// mailauth: how the client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7523) — exactly one way.
#pragma once

#include <mailauth/base64.hpp>
#include <mailauth/detail/sha256.hpp>
#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/random.hpp>
#include <mailauth/secret.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace mailauth::oauth {

/// Writes the raw signature of a JWS signing input `header.payload` (RFC 7515 §5.1), e.g. RS256 with the
/// client's private key; non-zero on failure.
using jwt_signer = std::function<std::error_code(std::string_view signing_input, std::string& signature)>;

/// A public client: no authentication, client_id in the body (RFC 6749 §2.1, §3.2.1).
struct public_client {
    std::string client_id;
};

/// client_id and secret in an HTTP Basic header, each form-encoded before base64 (RFC 6749 §2.3.1).
struct client_secret_basic {
    std::string client_id;
    secret client_secret;
};

/// client_id and client_secret in the request body (RFC 6749 §2.3.1; NOT RECOMMENDED, but some servers need it).
struct client_secret_post {
    std::string client_id;
    secret client_secret;
};

/// A signed JWT client assertion (RFC 7523 §2.2, §3; OpenID Connect Core §9 private_key_jwt).
struct private_key_jwt {
    std::string client_id;
    jwt_signer signer;
    std::string algorithm = "RS256";                              ///< JWS "alg" the signer produces
    std::string key_id;                                           ///< JWS "kid", omitted when empty
    std::vector<std::pair<std::string, std::string>> extra_header; ///< more string header members, e.g. "x5t#S256"
    std::chrono::seconds lifetime{300};                           ///< exp - iat
};

/// The one client authentication method of a request; a variant, so it cannot be two at once (RFC 6749 §2.3).
using client_auth = std::variant<public_client, client_secret_basic, client_secret_post, private_key_jwt>;

/// The client_id whichever method is used.
inline const std::string& client_id_of(const client_auth& auth)
{
    return std::visit([](const auto& a) -> const std::string& { return a.client_id; }, auth);
}

/// The caller's time and randomness for a request: needed for client assertions (iat, exp, jti).
struct request_context {
    time_point now{};
    random_source random;
};

/// A signer for HS256 (HMAC-SHA256 under `key`): client_secret_jwt (RFC 7523 with a shared secret) and tests.
inline jwt_signer hs256_signer(secret key)
{
    return [key = std::move(key)](std::string_view input, std::string& signature) {
        signature = detail::hmac_sha256(key.reveal(), input).str();
        return std::error_code{};
    };
}

} // namespace mailauth::oauth

namespace mailauth::detail::oauth_impl {

/// Appends `s` as a JSON string literal (RFC 8259 §7).
inline void append_json_string(std::string& out, std::string_view s)
{
    out += '"';
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (b < 0x20) {
            out += "\\u00";
            out += url::upper_hex[b >> 4];
            out += url::upper_hex[b & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

} // namespace mailauth::detail::oauth_impl

namespace mailauth::oauth {

/// Builds and signs the client assertion JWT: iss = sub = client_id, aud = the token endpoint, a random jti,
/// iat = nbf = now, exp = now + lifetime (RFC 7523 §3).
inline error_detail make_client_assertion(const private_key_jwt& key, std::string_view audience,
                                          const request_context& ctx, std::string& jwt)
{
    jwt.clear();
    if (key.client_id.empty() || !key.signer || key.algorithm.empty() || audience.empty() ||
        ctx.now == time_point{} || key.lifetime.count() <= 0)
        return {make_error_code(errc::invalid_argument)};
    std::string jti;
    if (auto ec = random_urlsafe(ctx.random, 16, jti)) return {ec};
    const auto iat = std::chrono::duration_cast<std::chrono::seconds>(ctx.now.time_since_epoch()).count();
    const auto exp = iat + key.lifetime.count();

    std::string header = "{\"alg\":";
    detail::oauth_impl::append_json_string(header, key.algorithm);
    header += ",\"typ\":\"JWT\"";
    if (!key.key_id.empty()) {
        header += ",\"kid\":";
        detail::oauth_impl::append_json_string(header, key.key_id);
    }
    for (const auto& [name, value] : key.extra_header) {
        header += ',';
        detail::oauth_impl::append_json_string(header, name);
        header += ':';
        detail::oauth_impl::append_json_string(header, value);
    }
    header += '}';

    std::string claims = "{\"iss\":";
    detail::oauth_impl::append_json_string(claims, key.client_id);
    claims += ",\"sub\":";
    detail::oauth_impl::append_json_string(claims, key.client_id);
    claims += ",\"aud\":";
    detail::oauth_impl::append_json_string(claims, audience);
    claims += ",\"jti\":";
    detail::oauth_impl::append_json_string(claims, jti);
    claims += ",\"iat\":" + std::to_string(iat) + ",\"nbf\":" + std::to_string(iat) + ",\"exp\":" + std::to_string(exp) + '}';

    jwt = base64::url_encode(header);
    jwt += '.';
    jwt += base64::url_encode(claims);
    std::string signature;
    if (auto ec = key.signer(jwt, signature)) {
        jwt.clear();
        return {ec};
    }
    if (signature.empty()) {
        jwt.clear();
        return {make_error_code(errc::invalid_argument)};
    }
    jwt += '.';
    jwt += base64::url_encode(signature);
    return {};
}

/// Value of the Authorization header for client_secret_basic: "Basic " + base64(form(id) ":" form(secret))
/// (RFC 6749 §2.3.1, RFC 7617 §2).
inline secret basic_authorization(std::string_view client_id, const secret& client_secret)
{
    const std::string_view pw = client_secret.reveal();
    std::string pair;
    pair.reserve(detail::url::form_encoded_size(client_id) + 1 + detail::url::form_encoded_size(pw));
    detail::url::form_encode_append(client_id, pair);
    pair += ':';
    detail::url::form_encode_append(pw, pair);
    std::string value;
    value.reserve(6 + base64::encoded_size(pair.size()));
    value += "Basic ";
    base64::encode_append(pair, value);
    secret out{value};
    detail::oauth_impl::wipe_string(pair);
    detail::oauth_impl::wipe_string(value);
    return out;
}

/// Adds `auth` to a token-endpoint request: a Basic header, or body fields (client_id, client_secret,
/// client_assertion_type, client_assertion). `assertion` keeps the JWT alive until the form is written;
/// the caller wipes it afterwards (RFC 6749 §2.3.1, RFC 7521 §4.2).
inline error_detail apply_client_auth(const client_auth& auth, std::string_view token_endpoint,
                                      const request_context& ctx, form_fields& form, std::string& assertion,
                                      http_request& req)
{
    if (client_id_of(auth).empty()) return {make_error_code(errc::invalid_argument)};
    if (const auto* a = std::get_if<public_client>(&auth)) {
        form.add("client_id", a->client_id);
    } else if (const auto* b = std::get_if<client_secret_basic>(&auth)) {
        if (b->client_secret.empty()) return {make_error_code(errc::no_credentials)};
        req.authorization = basic_authorization(b->client_id, b->client_secret);
    } else if (const auto* p = std::get_if<client_secret_post>(&auth)) {
        if (p->client_secret.empty()) return {make_error_code(errc::no_credentials)};
        form.add("client_id", p->client_id).add("client_secret", p->client_secret.reveal());
    } else {
        const auto& k = std::get<private_key_jwt>(auth);
        if (auto e = make_client_assertion(k, token_endpoint, ctx, assertion)) return e;
        form.add("client_id", k.client_id)
            .add("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            .add("client_assertion", assertion);
    }
    return {};
}

} // namespace mailauth::oauth
