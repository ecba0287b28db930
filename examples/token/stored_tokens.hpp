// mailauth examples: access tokens from a token store file for a program that uses them — mailauth-token's
// refresh and client-credentials commands, and mailauth-probe --token-store. The store stays locked while
// the object lives, so no other process rotates the refresh token underneath it.
#pragma once

#include "curl_client.hpp"
#include "file_store.hpp"
#include "token_config.hpp"

#include <mailauth/error.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/oauth/token_source.hpp>
#include <mailauth/secret.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mailauth_examples::token {

/// What kind of failure a token request ended with (the programs map it to their exit status).
enum class failure_kind : unsigned char {
    none,
    refused,  ///< the authorization server answered with an OAuth error (invalid_grant, invalid_client, ...)
    usage,    ///< nothing to refresh with, or bad options
    network,  ///< no HTTP response
    store,    ///< the store could not be read or written
    protocol, ///< a malformed answer
};

/// The failure kind of a library or transport code.
inline failure_kind kind_of(std::error_code ec) noexcept
{
    using mailauth::errc;
    if (!ec) return failure_kind::none;
    if (ec.category() != mailauth::error_category()) return failure_kind::network;
    switch (static_cast<errc>(ec.value())) {
    case errc::oauth_error_response:
    case errc::oauth_device_code_expired: return failure_kind::refused;
    case errc::oauth_response_malformed:
    case errc::oauth_unsupported_token_type:
    case errc::oauth_redirect_malformed:
    case errc::oauth_state_mismatch:
    case errc::oauth_issuer_mismatch:
    case errc::oauth_missing_code: return failure_kind::protocol;
    case errc::no_credentials:
    case errc::invalid_argument:
    case errc::url_invalid:
    case errc::oauth_invalid_tenant: return failure_kind::usage;
    default: return failure_kind::network;
    }
}

/// Access tokens of one store: cached in the file, renewed (refresh token or client credentials) when less
/// than `margin` is left or when the mail server rejected the current one, a rotated refresh token saved
/// before the new access token is handed out. Not copyable or movable; one thread at a time.
class stored_tokens {
public:
    /// Locks `o.store` and combines the options with what it records (make_renewal_setup). `grant` empty
    /// takes the store's grant. Throws store_error (cannot lock or read the store) or config_error.
    explicit stored_tokens(const oauth_options& o, std::string grant = {}, std::chrono::seconds margin = std::chrono::seconds{300})
        : store_(o.store), lock_(lock_or_throw(store_)), setup_(make_renewal_setup(o, store_, std::move(grant))),
          http_(http_options(o)), source_(http_, store_, source_options(setup_, margin))
    {
    }

    stored_tokens(const stored_tokens&) = delete;
    stored_tokens& operator=(const stored_tokens&) = delete;

    /// A usable access token: the stored one while it has more than the margin left, else a new one.
    std::error_code token(mailauth::secret& out) { return note(source_.get(std::chrono::system_clock::now(), out)); }

    /// A new access token whatever the store holds (the current one was rejected); nullopt on failure.
    std::optional<mailauth::secret> refresh()
    {
        auto fresh = source_.force_refresh(std::chrono::system_clock::now());
        note(fresh ? std::error_code{} : source_.last_code());
        return fresh;
    }

    /// The refresh callback of mailauth::authenticate(transport, machine, refresh): one refresh, then retry.
    template <class Ignored>
    std::optional<mailauth::secret> operator()(const Ignored&)
    {
        return refresh();
    }

    /// How the last token() or refresh() failed; failure_kind::none after a success.
    failure_kind last_failure() const noexcept { return kind_; }

    /// One line on the last failure: the server's error with its hint, the HTTP failure, or the store's
    /// problem. Holds no token or secret.
    const std::string& last_message() const noexcept { return message_; }

    /// The server's error of the last refresh (error, description, HTTP status), when it sent one.
    mailauth::oauth::token_error last_error() const { return source_.last_error(); }

    /// Token requests sent so far.
    std::size_t requests_sent() const noexcept { return source_.requests_sent(); }

    /// Whether locking the store finished a save that a killed writer had left half done.
    bool recovered() const noexcept { return recovered_; }

    const renewal_setup& setup() const noexcept { return setup_; }
    file_token_store& store() noexcept { return store_; }

private:
    store_lock lock_or_throw(file_token_store& s)
    {
        store_lock l;
        if (auto ec = s.lock(l)) throw store_error(s.last_error() + ": " + ec.message());
        recovered_ = s.recovered();
        return l;
    }

    static curl_options http_options(const oauth_options& o)
    {
        curl_options c;
        c.timeout = o.http_timeout;
        c.ca_file = o.ca_file;
        return c;
    }

    std::error_code note(std::error_code ec)
    {
        kind_ = failure_kind::none;
        message_.clear();
        if (!ec) return ec;
        const mailauth::oauth::token_error e = source_.last_error();
        if (!store_.last_error().empty()) {
            kind_ = failure_kind::store;
            message_ = "token store: " + store_.last_error() + ": " + ec.message();
        } else if (ec == mailauth::errc::no_credentials) {
            kind_ = failure_kind::usage;
            message_ = e.description.empty() ? ec.message() : e.description;
        } else if (!e.error.empty() || e.json_error || e.http_status != 0) {
            kind_ = kind_of(ec);
            message_ = e.message();
        } else {
            kind_ = kind_of(ec);
            message_ = "token endpoint: no response: " + (http_.last_error().empty() ? ec.message() : http_.last_error());
        }
        return ec;
    }

    // Declaration order is construction order: the store is locked before it is read, and the HTTP client
    // and the store outlive the token_source that refers to them.
    bool recovered_ = false;
    file_token_store store_;
    store_lock lock_;
    renewal_setup setup_;
    curl_http_client http_;
    mailauth::oauth::token_source<curl_http_client> source_;
    failure_kind kind_ = failure_kind::none;
    std::string message_;
};

} // namespace mailauth_examples::token
