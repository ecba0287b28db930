// mailauth: the device authorization grant (RFC 8628) as a non-blocking poll schedule.
#pragma once

#include <mailauth/detail/json.hpp>
#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/client_auth.hpp>
#include <mailauth/oauth/grants.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/secret.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mailauth::oauth {

/// The device authorization response (RFC 8628 §3.2); Google's "verification_url" is read as verification_uri.
struct device_authorization {
    secret device_code;
    std::string user_code;
    std::string verification_uri;
    std::string verification_uri_complete; ///< optional: the URI with the user code in it
    std::chrono::seconds expires_in{0};
    std::chrono::seconds interval{5};      ///< 5 s when the server sends none (RFC 8628 §3.2)
    std::string message;                   ///< Microsoft's ready-made text for the user, optional
};

/// The outcome of parsing a device authorization response.
struct device_authorization_result {
    std::error_code code;
    device_authorization authorization;
    token_error error;
    explicit operator bool() const noexcept { return !code; }
};

/// POST client_id[&scope] to the device authorization endpoint (RFC 8628 §3.1).
inline error_detail device_authorization_request(std::string_view device_endpoint, const client_auth& auth,
                                                 std::string_view scope, http_request& out,
                                                 const request_context& ctx = {})
{
    form_fields form;
    if (!scope.empty()) form.add("scope", scope);
    return make_token_request(device_endpoint, auth, form, out, ctx);
}

/// Parses a device authorization response; device_code, user_code, verification_uri (http or https) and
/// expires_in are required, interval defaults to 5 s.
inline device_authorization_result parse_device_authorization(const http_response& res)
{
    device_authorization_result r;
    detail::json::object obj;
    r.code = detail::oauth_impl::read_oauth_json(res, obj, r.error);
    if (!r.code) {
        auto& a = r.authorization;
        const auto device_code = obj.get_string("device_code");
        const auto user_code = obj.get_string("user_code");
        auto uri = obj.get_string("verification_uri");
        if (!uri) uri = obj.get_string("verification_url");
        const auto complete = obj.get_string("verification_uri_complete");
        const auto expires = obj.get_uint("expires_in");
        detail::url::parts p;
        if (!device_code || !detail::oauth_impl::is_token_text(*device_code) || !user_code || !detail::oauth_impl::is_token_text(*user_code) ||
            !uri || detail::url::split(*uri, p) || (complete && detail::url::split(*complete, p)) || !expires ||
            *expires == 0) {
            r.code = make_error_code(errc::oauth_response_malformed);
            r.error.description = "device authorization response lacks a required member";
        } else {
            a.device_code.assign(*device_code);
            a.user_code.assign(*user_code);
            a.verification_uri.assign(*uri);
            if (complete) a.verification_uri_complete.assign(*complete);
            a.expires_in = std::chrono::seconds{static_cast<std::chrono::seconds::rep>(std::min<std::uint64_t>(*expires, max_expires_in))};
            if (auto i = obj.get_uint("interval"))
                a.interval = std::chrono::seconds{static_cast<std::chrono::seconds::rep>(std::clamp<std::uint64_t>(*i, 1, 3600))};
            if (auto m = obj.get_string("message")) a.message = detail::oauth_impl::printable_excerpt(*m);
        }
    }
    detail::oauth_impl::wipe_json(obj);
    return r;
}

/// grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=... (RFC 8628 §3.4).
inline error_detail device_token_request(std::string_view token_endpoint, const client_auth& auth,
                                         const secret& device_code, http_request& out, const request_context& ctx = {})
{
    if (device_code.empty()) {
        out = {};
        return {make_error_code(errc::no_credentials)};
    }
    form_fields form;
    form.add("grant_type", "urn:ietf:params:oauth:grant-type:device_code").add("device_code", device_code.reveal());
    return make_token_request(token_endpoint, auth, form, out, ctx);
}

/// What one poll ended with (RFC 8628 §3.5).
enum class device_poll_status : unsigned char {
    pending,   ///< authorization_pending: poll again at next_poll_time()
    slow_down, ///< slow_down: the interval grew by 5 s; poll again at next_poll_time()
    success,   ///< the token response is in device_poll::token
    expired,   ///< expired_token, or expires_in passed locally
    denied,    ///< access_denied, or Microsoft's authorization_declined
    failed,    ///< any other error or a malformed response
};

/// The result of feeding one token response to a device_flow.
struct device_poll {
    device_poll_status status = device_poll_status::failed;
    std::error_code code; ///< empty for pending, slow_down and success
    token_response token;
    token_error error;

    /// Whether the flow has ended (success or failure).
    bool done() const noexcept { return status != device_poll_status::pending && status != device_poll_status::slow_down; }
};

/// One device authorization in progress: says when to poll and digests each token response; it never waits.
class device_flow {
public:
    /// Starts the schedule at `now`, the time the device authorization response arrived.
    device_flow(device_authorization authorization, time_point now)
        : auth_(std::move(authorization)), interval_(auth_.interval), next_(now + interval_), expires_at_(now + auth_.expires_in)
    {
    }

    const device_authorization& authorization() const noexcept { return auth_; }
    std::chrono::seconds interval() const noexcept { return interval_; }
    /// Not before this time may the next token request be sent (RFC 8628 §3.5).
    time_point next_poll_time() const noexcept { return next_; }
    time_point expires_at() const noexcept { return expires_at_; }
    bool done() const noexcept { return done_; }
    /// Whether a poll may be sent now.
    bool due(time_point now) const noexcept { return !done_ && now >= next_ && now < expires_at_; }

    /// The token request to send at next_poll_time().
    error_detail poll_request(std::string_view token_endpoint, const client_auth& auth, http_request& out,
                              const request_context& ctx = {}) const
    {
        if (done_) {
            out = {};
            return {make_error_code(errc::unexpected_call)};
        }
        return device_token_request(token_endpoint, auth, auth_.device_code, out, ctx);
    }

    /// Digests the token endpoint's answer received at `now`: pending keeps polling, slow_down adds 5 s to the
    /// interval for this and all later polls, expired_token / access_denied / authorization_declined end it.
    device_poll on_token_response(const http_response& res, time_point now)
    {
        device_poll p;
        if (done_) {
            p.code = make_error_code(errc::unexpected_call);
            return p;
        }
        token_result t = parse_token_response(res);
        p.error = std::move(t.error);
        if (!t.code) {
            p.status = device_poll_status::success;
            p.token = std::move(t.token);
            done_ = true;
            return p;
        }
        const std::string& e = p.error.error;
        if (e == "authorization_pending" || e == "slow_down") {
            if (e == "slow_down") interval_ += std::chrono::seconds{5};
            if (now + interval_ >= expires_at_) return end(p, device_poll_status::expired, errc::oauth_device_code_expired);
            next_ = now + interval_;
            p.status = e == "slow_down" ? device_poll_status::slow_down : device_poll_status::pending;
            return p;
        }
        if (e == "expired_token") return end(p, device_poll_status::expired, t.code);
        if (e == "access_denied" || e == "authorization_declined") return end(p, device_poll_status::denied, t.code);
        p.code = t.code;
        done_ = true;
        return p;
    }

    /// After a request that got no response: back off by doubling the interval (RFC 8628 §3.5).
    void on_send_failure(time_point now) noexcept
    {
        if (done_) return;
        interval_ = std::min(interval_ * 2, std::chrono::seconds{300});
        next_ = now + interval_;
    }

private:
    device_poll end(device_poll& p, device_poll_status s, std::error_code ec)
    {
        p.status = s;
        p.code = ec;
        done_ = true;
        return std::move(p);
    }

    device_poll end(device_poll& p, device_poll_status s, errc e) { return end(p, s, make_error_code(e)); }

    device_authorization auth_;
    std::chrono::seconds interval_;
    time_point next_;
    time_point expires_at_;
    bool done_ = false;
};

} // namespace mailauth::oauth
