// mailauth: a per-account token cache that refreshes ahead of expiry, once for all concurrent callers.
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/oauth/client_auth.hpp>
#include <mailauth/oauth/grants.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/secret.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth::oauth {

/// Which tokens: one account and one scope set.
struct token_key {
    std::string account;
    std::string scope; ///< space-separated, as requested
    friend bool operator==(const token_key&, const token_key&) = default;
};

/// Where tokens live between runs (file, keychain, database). Called by one thread at a time per token_source.
class token_store {
public:
    virtual ~token_store() = default;
    /// Fills `out` with what was saved for `key`; success with `out` left empty when nothing was.
    virtual std::error_code load(const token_key& key, token_set& out) = 0;
    /// Durably replaces what is saved for `key`; a token_source calls it before handing out a token that
    /// came with a new refresh token.
    virtual std::error_code save(const token_key& key, const token_set& tokens) = 0;
};

/// A token_store in memory, for tests and short-lived programs.
class memory_token_store final : public token_store {
public:
    std::error_code load(const token_key& key, token_set& out) override
    {
        std::lock_guard lock(mutex_);
        out = {};
        for (const auto& [k, v] : entries_)
            if (k == key) out = v;
        return {};
    }

    std::error_code save(const token_key& key, const token_set& tokens) override
    {
        std::lock_guard lock(mutex_);
        ++saves_;
        for (auto& [k, v] : entries_) {
            if (k == key) {
                v = tokens;
                return {};
            }
        }
        entries_.emplace_back(key, tokens);
        return {};
    }

    /// How many times save() was called.
    std::size_t saves() const
    {
        std::lock_guard lock(mutex_);
        return saves_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::pair<token_key, token_set>> entries_;
    std::size_t saves_ = 0;
};

/// How a token_source gets new access tokens.
enum class token_grant : unsigned char {
    refresh_token,      ///< with the stored refresh token (RFC 6749 §6)
    client_credentials, ///< app-only, no refresh token (RFC 6749 §4.4)
};

/// Where a token_source gets tokens, which tokens, and the caller's clock and randomness.
struct token_source_options {
    std::string token_endpoint;
    client_auth auth;
    token_key key;
    token_grant grant = token_grant::refresh_token;
    std::chrono::seconds refresh_margin{300};             ///< refresh when less than this is left
    std::function<time_point()> clock; ///< e.g. &std::chrono::system_clock::now
    random_source random;                                 ///< needed for private_key_jwt only
};

/// Access tokens for one account and scope set: cached, refreshed when less than refresh_margin remains,
/// one refresh shared by all callers that arrive while it runs, a rotated refresh token saved to the
/// store before the new access token is handed out. Thread-safe; the HTTP client is used by one thread
/// at a time.
///
/// As the refresh callback of mailauth::authenticate(transport, machine, refresh) pass the source itself
/// (operator() ignores the outcome) or `[&](const mailauth::outcome&) { return source.force_refresh(); }`.
template <http_client Client>
class token_source {
public:
    token_source(Client& http, token_store& store, token_source_options options)
        : http_(http), store_(store), options_(std::move(options))
    {
    }

    token_source(const token_source&) = delete;
    token_source& operator=(const token_source&) = delete;

    /// A usable access token at `now`, refreshing first when needed.
    std::error_code get(time_point now, secret& access_token)
    {
        return acquire(now, mode::normal, nullptr, access_token);
    }

    /// As above at options.clock().
    std::error_code get(secret& access_token)
    {
        if (!options_.clock) return make_error_code(errc::invalid_argument);
        return get(options_.clock(), access_token);
    }

    /// A new access token whatever the cache holds (the current one was rejected); callers arriving while
    /// a refresh runs share its result. nullopt on failure: see last_code() and last_error().
    std::optional<secret> force_refresh(time_point now)
    {
        secret s;
        if (acquire(now, mode::force, nullptr, s)) return std::nullopt;
        return s;
    }

    std::optional<secret> force_refresh()
    {
        if (!options_.clock) return fail_without_clock();
        return force_refresh(options_.clock());
    }

    /// A token other than `rejected`: the cached one if another caller already replaced it, else a refresh.
    std::optional<secret> replace(const secret& rejected, time_point now)
    {
        secret s;
        if (acquire(now, mode::replace, &rejected, s)) return std::nullopt;
        return s;
    }

    std::optional<secret> replace(const secret& rejected)
    {
        if (!options_.clock) return fail_without_clock();
        return replace(rejected, options_.clock());
    }

    /// The refresh callback of mailauth::authenticate: ignores its argument and calls force_refresh().
    template <class Ignored>
    std::optional<secret> operator()(const Ignored&)
    {
        return force_refresh();
    }

    /// Takes tokens obtained elsewhere (authorization code or device flow): saves them, then caches them.
    std::error_code adopt(token_set tokens)
    {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !in_flight_; });
        if (auto ec = store_.save(options_.key, tokens)) return ec;
        tokens_ = std::move(tokens);
        loaded_ = true;
        unsaved_ = false;
        return {};
    }

    /// The code of the last refresh (empty after a success).
    std::error_code last_code() const
    {
        std::lock_guard lock(mutex_);
        return last_code_;
    }

    /// The server's error of the last refresh, with its hint.
    token_error last_error() const
    {
        std::lock_guard lock(mutex_);
        return last_error_;
    }

    /// Token requests sent so far.
    std::size_t requests_sent() const noexcept { return sent_.load(); }

    const token_source_options& options() const noexcept { return options_; }

private:
    enum class mode : unsigned char { normal, force, replace };

    /// What the refreshing thread works on outside the lock, published back under it.
    struct state {
        token_set tokens;
        bool loaded;
        bool unsaved;
        std::error_code code;
        token_error error;
    };

    std::optional<secret> fail_without_clock()
    {
        std::lock_guard lock(mutex_);
        last_code_ = make_error_code(errc::invalid_argument);
        last_error_ = {};
        last_error_.description = "token_source: no clock in the options";
        return std::nullopt;
    }

    /// Whether `t` can be handed out without a refresh in mode `m`.
    bool satisfies(const token_set& t, time_point now, mode m, const secret* rejected) const
    {
        switch (m) {
        case mode::normal: return t.fresh(now, options_.refresh_margin);
        case mode::force: return false;
        case mode::replace: return t.fresh(now, std::chrono::seconds{0}) && t.access_token.reveal() != rejected->reveal();
        }
        return false;
    }

    std::error_code acquire(time_point now, mode m, const secret* rejected, secret& out)
    {
        std::unique_lock lock(mutex_);
        if (in_flight_) { // join the refresh under way and take its result
            const auto generation = generation_;
            cv_.wait(lock, [&] { return generation_ != generation; });
            return result(out);
        }
        if (loaded_ && !unsaved_ && satisfies(tokens_, now, m, rejected)) {
            out = tokens_.access_token;
            return {};
        }
        in_flight_ = true;
        state s{tokens_, loaded_, unsaved_, {}, {}};
        lock.unlock();
        try {
            s.code = refresh(now, m, rejected, s);
        } catch (...) {
            lock.lock();
            s.code = make_error_code(errc::io_error);
            publish(std::move(s));
            throw;
        }
        lock.lock();
        publish(std::move(s));
        return result(out);
    }

    /// Runs without the lock, by one thread at a time (in_flight_).
    std::error_code refresh(time_point now, mode m, const secret* rejected, state& s)
    {
        if (!s.loaded) {
            token_set stored;
            if (auto ec = store_.load(options_.key, stored)) {
                s.error.description = "token store: load failed";
                return ec;
            }
            s.tokens = std::move(stored);
            s.loaded = true;
        }
        if (s.unsaved) {
            if (auto ec = store_.save(options_.key, s.tokens)) {
                s.error.description = "token store: saving the rotated refresh token failed";
                return ec;
            }
            s.unsaved = false;
        }
        if (satisfies(s.tokens, now, m, rejected)) return {};
        if (m != mode::normal) s.tokens.access_token.clear(); // rejected: never hand it out again

        const request_context ctx{now, options_.random};
        http_request req;
        error_detail e;
        if (options_.grant == token_grant::client_credentials) {
            e = client_credentials_request(options_.token_endpoint, options_.auth, options_.key.scope, req, ctx);
        } else if (s.tokens.refresh_token.empty()) {
            s.error.description = "no refresh token stored for this account and scope: authorize first";
            return make_error_code(errc::no_credentials);
        } else {
            e = refresh_token_request(options_.token_endpoint, options_.auth, s.tokens.refresh_token,
                                      options_.key.scope, req, ctx);
        }
        if (e) return e.code;

        http_response res;
        ++sent_;
        if (auto ec = http_.send(req, res)) return ec;
        token_result t = parse_token_response(res);
        if (t.code) {
            s.error = std::move(t.error);
            return t.code;
        }
        const token_update u = apply_token_response(s.tokens, std::move(t.token), now);
        if (auto ec = store_.save(options_.key, s.tokens); ec && u.must_persist) {
            s.unsaved = true; // kept in memory; saved again before the access token goes out
            s.error.description = "token store: saving the rotated refresh token failed";
            return ec;
        }
        return {};
    }

    /// Takes the refresher's state back under the lock and wakes the callers that joined it.
    void publish(state&& s)
    {
        tokens_ = std::move(s.tokens);
        loaded_ = s.loaded;
        unsaved_ = s.unsaved;
        last_code_ = s.code;
        last_error_ = std::move(s.error);
        in_flight_ = false;
        ++generation_;
        cv_.notify_all();
    }

    /// The last refresh's outcome for a caller (under the lock).
    std::error_code result(secret& out) const
    {
        if (last_code_) return last_code_;
        if (unsaved_ || tokens_.access_token.empty()) return make_error_code(errc::no_credentials);
        out = tokens_.access_token;
        return {};
    }

    Client& http_;
    token_store& store_;
    const token_source_options options_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool in_flight_ = false;
    std::size_t generation_ = 0;
    token_set tokens_;
    bool loaded_ = false;
    bool unsaved_ = false;
    std::error_code last_code_;
    token_error last_error_;
    std::atomic<std::size_t> sent_{0};
};

} // namespace mailauth::oauth
