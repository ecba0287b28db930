// mailauth: what an authentication run ended with.
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/proto/capabilities.hpp>
#include <mailauth/proto/reply.hpp>
#include <mailauth/sasl/oauth_error.hpp>
#include <mailauth/transcript.hpp>

#include <string>
#include <string_view>

namespace mailauth {

/// What the caller should do next, derived from the final reply and any error.
enum class verdict : unsigned char {
    authenticated,          ///< logged in
    token_rejected,         ///< the bearer token was refused: refresh it and retry once on the same connection
    retry_without_initial_response, ///< the server refused the inline initial response: reconnect and use the two-line form
    credentials_rejected,   ///< user name or password refused
    user_action_required,   ///< a user, admin or tenant setting must change (see hint)
    temporary_failure,      ///< try again later
    mechanism_unavailable,  ///< no acceptable mechanism offered by the server
    tls_required,           ///< TLS is required and was not (or could not be) used
    client_error,           ///< the caller's input was refused before it reached the wire
    protocol_error,         ///< the server broke the protocol
    transport_error,        ///< the connection failed
};

/// A short stable name for a verdict, e.g. "token_rejected".
constexpr std::string_view to_string(verdict v) noexcept
{
    switch (v) {
    case verdict::authenticated: return "authenticated";
    case verdict::token_rejected: return "token_rejected";
    case verdict::retry_without_initial_response: return "retry_without_initial_response";
    case verdict::credentials_rejected: return "credentials_rejected";
    case verdict::user_action_required: return "user_action_required";
    case verdict::temporary_failure: return "temporary_failure";
    case verdict::mechanism_unavailable: return "mechanism_unavailable";
    case verdict::tls_required: return "tls_required";
    case verdict::client_error: return "client_error";
    case verdict::protocol_error: return "protocol_error";
    case verdict::transport_error: return "transport_error";
    }
    return "unknown";
}

/// The result of one authentication run; every string keeps its capacity across runs of a reused machine.
struct outcome {
    bool authenticated = false;
    mailauth::verdict verdict = verdict::protocol_error;
    std::string mechanism;             ///< mechanism used (or last tried), e.g. "XOAUTH2", "IMAP-LOGIN"
    mailauth::capabilities capabilities; ///< post-login capabilities when the server sent them, else the last seen
    bool tls = false;                  ///< whether TLS was active when credentials were sent
    server_reply reply;                ///< the server's final reply
    bool has_oauth_error = false;      ///< whether `oauth_error` holds a decoded error challenge
    sasl::oauth_error oauth_error;     ///< the decoded JSON of the error challenge
    unsigned round_trips = 0;          ///< round trips of the authentication exchange (AUTH ... to final reply)
    unsigned total_round_trips = 0;    ///< all round trips, including capabilities and STARTTLS
    unsigned attempts = 0;             ///< authentication attempts on this connection (2 after a retry)
    error_detail error{};              ///< what went wrong, when something did
    std::string hint;                  ///< what to do, for known provider replies and errors
    std::string notices;               ///< untagged lines and [ALERT] texts seen during the exchange, '\n'-separated
    std::string apop_timestamp;        ///< POP3 greeting timestamp (RFC 1939 §7), if any
    mailauth::transcript transcript;   ///< every line both ways, credentials redacted

    /// Resets to the initial state, keeping capacity.
    void clear() noexcept
    {
        authenticated = false;
        verdict = verdict::protocol_error;
        mechanism.clear();
        capabilities.clear();
        tls = false;
        reply.clear();
        has_oauth_error = false;
        oauth_error.clear();
        round_trips = 0;
        total_round_trips = 0;
        attempts = 0;
        error = {};
        hint.clear();
        notices.clear();
        apop_timestamp.clear();
        transcript.clear();
    }
};

} // namespace mailauth
