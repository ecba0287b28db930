// mailauth examples: the OAuth options that mailauth-token and mailauth-probe share — provider presets,
// endpoints, client id and authentication, scope, store — and how they become a token_source.
#pragma once

#include "file_store.hpp"
#include "key_signer.hpp"

#include <mailauth/oauth/client_auth.hpp>
#include <mailauth/oauth/providers.hpp>
#include <mailauth/oauth/random.hpp>
#include <mailauth/oauth/token_source.hpp>
#include <mailauth/secret.hpp>

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth_examples::token {

/// A bad option or input file: the programs report it as a usage error.
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The token store could not be read (missing permissions, torn or foreign file, not private).
struct store_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The shared options as given on the command line.
struct oauth_options {
    std::string provider;            ///< google | microsoft[:TENANT] | outlook, or empty
    std::string token_endpoint;
    std::string authorize_endpoint;
    std::string device_endpoint;
    std::string client_id;
    std::string client_secret_file;
    std::string client_auth;         ///< basic (default with a secret) | post
    std::string assertion_key;       ///< PEM private key file for private_key_jwt
    std::string assertion_alg;       ///< override the key's natural JWS algorithm (e.g. PS256)
    std::string key_id;              ///< JWS kid of the client assertion
    std::vector<std::string> scopes; ///< joined with spaces
    std::string store;
    std::string account;
    std::chrono::milliseconds http_timeout{30000};
    std::string ca_file;
};

/// Usage lines for the shared options.
inline constexpr std::string_view oauth_options_usage =
    R"(  --provider NAME             google | microsoft[:TENANT] (default tenant: common) | outlook
  --token-endpoint URL        token endpoint (default: the provider's, or the store's)
  --authorize-endpoint URL    authorization endpoint (auth-code)
  --device-endpoint URL       device authorization endpoint (device)
  --client-id ID              the OAuth client (default: the store's)
  --client-secret-file FILE   client secret (client_secret_basic; see --client-auth)
  --client-auth basic|post    how to send the client secret (default: basic, RFC 6749 §2.3.1)
  --assertion-key FILE        PEM private key: private_key_jwt (RFC 7523); RSA signs RS256, EC P-256 ES256,
                              P-384 ES384, Ed25519 EdDSA
  --assertion-alg ALG         another algorithm for the key (PS256, RS384, ...)
  --key-id KID                "kid" header of the client assertion
  --scope S                   scope; repeatable, joined by spaces (default: the provider's, or the store's)
  --store FILE                token store: JSON, mode 0600, replaced atomically, locked with FILE.lock
                              (also --token-store)
  --account NAME              the account the tokens belong to (recorded in the store; default: none)
  --http-timeout SECONDS      token endpoint timeout (default: 30)
  --token-ca-file FILE        trust these CA certificates for the token endpoint
)";

/// Whole seconds from an option value.
inline std::chrono::seconds parse_seconds(std::string_view name, std::string_view text)
{
    if (text.empty() || text.size() > 7) throw config_error(std::string{name} + " needs a number of seconds");
    long n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') throw config_error(std::string{name} + " needs a number of seconds");
        n = n * 10 + (c - '0');
    }
    return std::chrono::seconds{n};
}

/// Takes one of the shared options: `name` without its value, `value()` fetches it. False when `name`
/// is not a shared option.
inline bool parse_oauth_option(std::string_view name, const std::function<std::string()>& value, oauth_options& o)
{
    if (name == "--provider") o.provider = value();
    else if (name == "--token-endpoint") o.token_endpoint = value();
    else if (name == "--authorize-endpoint") o.authorize_endpoint = value();
    else if (name == "--device-endpoint") o.device_endpoint = value();
    else if (name == "--client-id") o.client_id = value();
    else if (name == "--client-secret-file") o.client_secret_file = value();
    else if (name == "--client-auth") o.client_auth = value();
    else if (name == "--assertion-key") o.assertion_key = value();
    else if (name == "--assertion-alg") o.assertion_alg = value();
    else if (name == "--key-id") o.key_id = value();
    else if (name == "--scope") {
        auto s = value();
        if (!s.empty()) o.scopes.push_back(std::move(s));
    } else if (name == "--store" || name == "--token-store") o.store = value();
    else if (name == "--account") o.account = value();
    else if (name == "--http-timeout") o.http_timeout = parse_seconds(name, value());
    else if (name == "--token-ca-file") o.ca_file = value();
    else if (name == "--client-secret" || name == "--assertion")
        throw config_error(std::string{name} + " is not accepted: secrets on the command line leak into shell history "
                                               "and ps output; use --client-secret-file or --assertion-key");
    else return false;
    return true;
}

/// The provider preset named by --provider, or nullopt when none was given.
inline std::optional<mailauth::oauth::provider> resolve_provider(const oauth_options& o)
{
    if (o.provider.empty()) return std::nullopt;
    const std::string_view p = o.provider;
    if (p == "google") return mailauth::oauth::google();
    if (p == "outlook" || p == "outlook.com") return mailauth::oauth::outlook_com();
    if (p == "microsoft" || p.substr(0, 10) == "microsoft:") {
        const std::string_view tenant = p.size() > 10 ? p.substr(10) : std::string_view{"common"};
        mailauth::oauth::provider out;
        if (mailauth::oauth::microsoft365(tenant, out))
            throw config_error("bad Microsoft tenant '" + std::string{tenant} +
                               "': use common, organizations, consumers, a GUID or a domain name");
        return out;
    }
    throw config_error("unknown provider '" + o.provider + "' (use google, microsoft[:TENANT] or outlook)");
}

/// The scope to request: --scope values joined by spaces.
inline std::string joined_scope(const oauth_options& o)
{
    std::string s;
    for (const auto& part : o.scopes) {
        if (!s.empty()) s += ' ';
        s += part;
    }
    return s;
}

/// Reads a client secret file: the whole file, without one trailing line end; empty is an error.
inline mailauth::secret read_secret_file(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw config_error("cannot open " + path + ": " + std::strerror(errno));
    std::string data;
    data.reserve(16 * 1024); // no reallocation: no stray copies of the secret
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (data.size() + static_cast<std::size_t>(n) > data.capacity()) {
            ::close(fd);
            detail::wipe(data);
            mailauth::detail::secure_wipe(buf, sizeof buf);
            throw config_error(path + " is too large for a client secret");
        }
        data.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    mailauth::detail::secure_wipe(buf, sizeof buf);
    if (!data.empty() && data.back() == '\n') data.pop_back();
    if (!data.empty() && data.back() == '\r') data.pop_back();
    if (data.empty()) throw config_error(path + " is empty: no client secret");
    if (data.find('\n') != std::string::npos) {
        detail::wipe(data);
        throw config_error(path + " holds more than one line; a client secret is one line");
    }
    mailauth::secret s{data};
    detail::wipe(data);
    return s;
}

/// Cryptographically strong bytes from getrandom(2).
inline mailauth::oauth::random_source system_random()
{
    return [](std::span<unsigned char> out) -> std::error_code {
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return {errno, std::generic_category()};
            }
            done += static_cast<std::size_t>(n);
        }
        return {};
    };
}

/// The client authentication the options ask for: private_key_jwt with --assertion-key, a secret with
/// --client-secret-file (basic, or post with --client-auth post), else a public client.
inline mailauth::oauth::client_auth make_client_auth(const oauth_options& o, const std::string& client_id)
{
    namespace oauth = mailauth::oauth;
    if (client_id.empty()) throw config_error("no client id: give --client-id");
    if (!o.assertion_key.empty() && !o.client_secret_file.empty())
        throw config_error("give either --client-secret-file or --assertion-key, not both (RFC 6749 §2.3: one method per request)");
    if (!o.client_auth.empty() && o.client_auth != "basic" && o.client_auth != "post")
        throw config_error("--client-auth takes basic or post");
    if (!o.client_auth.empty() && o.client_secret_file.empty())
        throw config_error("--client-auth needs --client-secret-file");
    if (!o.assertion_key.empty()) {
        oauth::private_key_jwt k;
        std::string why;
        if (load_assertion_key(o.assertion_key, client_id, o.assertion_alg, o.key_id, k, why)) throw config_error(why);
        return k;
    }
    if (!o.assertion_alg.empty() || !o.key_id.empty()) throw config_error("--assertion-alg and --key-id need --assertion-key");
    if (!o.client_secret_file.empty()) {
        mailauth::secret s = read_secret_file(o.client_secret_file);
        if (o.client_auth == "post") return oauth::client_secret_post{client_id, std::move(s)};
        return oauth::client_secret_basic{client_id, std::move(s)};
    }
    return oauth::public_client{client_id};
}

/// The name of a client authentication method as RFC 7591 §2 spells it.
inline std::string_view auth_method_name(const mailauth::oauth::client_auth& a) noexcept
{
    switch (a.index()) {
    case 0: return "none";
    case 1: return "client_secret_basic";
    case 2: return "client_secret_post";
    default: return "private_key_jwt";
    }
}

/// What renewing the tokens in a store needs, options first, then the store's own record, then the preset.
struct renewal_setup {
    store_metadata meta;              ///< token endpoint, client id, grant
    mailauth::oauth::token_key key;   ///< account and requested scope
    mailauth::oauth::client_auth auth;
};

/// Combines the options with what `store` recorded (read under the caller's lock). `grant` is the grant
/// that renews the access token ("refresh_token" or "client_credentials"); empty takes the store's.
/// Throws store_error when the store cannot be read, config_error for bad options.
inline renewal_setup make_renewal_setup(const oauth_options& o, file_token_store& store, std::string grant)
{
    store_contents saved;
    bool exists = false;
    if (auto ec = store.read(saved, exists)) throw store_error(store.last_error() + ": " + ec.message());
    const auto preset = resolve_provider(o);
    renewal_setup r;
    r.meta.token_endpoint = !o.token_endpoint.empty() ? o.token_endpoint
                            : exists && !saved.meta.token_endpoint.empty() ? saved.meta.token_endpoint
                            : preset ? preset->token_endpoint : std::string{};
    r.meta.client_id = !o.client_id.empty() ? o.client_id : saved.meta.client_id;
    r.meta.grant = !grant.empty() ? grant : saved.meta.grant.empty() ? std::string{"refresh_token"} : saved.meta.grant;
    r.key.account = !o.account.empty() || !exists ? o.account : saved.key.account;
    r.key.scope = joined_scope(o);
    if (r.key.scope.empty()) {
        if (exists) r.key.scope = saved.key.scope;
        else if (preset) r.key.scope = r.meta.grant == "client_credentials" ? preset->app_only_scope : preset->scope;
    }
    if (r.meta.token_endpoint.empty()) throw config_error("no token endpoint: give --token-endpoint or --provider");
    r.auth = make_client_auth(o, r.meta.client_id);
    store.set_metadata(r.meta);
    return r;
}

/// token_source options for a renewal setup: the system clock and getrandom(2).
inline mailauth::oauth::token_source_options source_options(const renewal_setup& r, std::chrono::seconds margin)
{
    mailauth::oauth::token_source_options so;
    so.token_endpoint = r.meta.token_endpoint;
    so.auth = r.auth;
    so.key = r.key;
    so.grant = r.meta.grant == "client_credentials" ? mailauth::oauth::token_grant::client_credentials
                                                    : mailauth::oauth::token_grant::refresh_token;
    so.refresh_margin = margin;
    so.clock = [] { return std::chrono::system_clock::now(); };
    so.random = system_random();
    return so;
}

} // namespace mailauth_examples::token
