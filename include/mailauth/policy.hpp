// mailauth: how a client chooses its mechanism, TLS and initial-response behaviour.
#pragma once

#include <mailauth/detail/ascii.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailauth {

/// Whether OAuth must be used (USE=MAND) or may fall back to the password login (USE=OPT).
enum class oauth_use : unsigned char { mandatory, optional };

/// When to send the SASL initial response inline with the AUTH command (RFC 4422 §5).
enum class initial_response : unsigned char {
    automatic, ///< inline when the protocol allows and the line fits; never for POP3 XOAUTH2 (Microsoft 365)
    always,    ///< inline whenever there is one: even over the line limits, without SASL-IR, for POP3 XOAUTH2
    never,     ///< always wait for the server's empty challenge
};

/// How the connection is protected.
enum class tls_mode : unsigned char {
    implicit, ///< the transport is already TLS (ports 465, 993, 995)
    starttls, ///< upgrade with STARTTLS / STLS before authenticating; fail if the server does not offer it
    none,     ///< no TLS; credentials are sent only if policy::allow_plaintext is set
};

/// Pseudo mechanism names for the non-SASL password logins.
inline constexpr std::string_view imap_login_command = "IMAP-LOGIN"; ///< IMAP LOGIN command (RFC 9051 §6.2.3)
inline constexpr std::string_view pop3_user_pass = "USER-PASS";      ///< POP3 USER/PASS (RFC 1939 §7)

/// The caller's rules for one authentication.
struct policy {
    /// Mechanisms in order of preference; empty means XOAUTH2, OAUTHBEARER for a token and PLAIN, LOGIN
    /// (then IMAP-LOGIN / USER-PASS) for a password.
    std::vector<std::string> mechanisms;
    oauth_use oauth = oauth_use::mandatory;
    mailauth::initial_response initial_response = initial_response::automatic;
    /// Allow sending credentials over a connection that is not TLS (loopback tests).
    bool allow_plaintext = false;
    /// Longest server line accepted, without CRLF (RFC 4954 §4 allows 12288-octet challenges).
    std::size_t max_line_length = 16384;
    /// Most lines in one reply (EHLO, CAPA, untagged responses during a command).
    std::size_t max_reply_lines = 512;
    /// Most SASL challenges in one exchange before cancelling with "*".
    unsigned max_challenges = 8;
};

namespace detail {

constexpr bool is_oauth_mechanism(std::string_view m) noexcept
{
    return iequals(m, "XOAUTH2") || iequals(m, "OAUTHBEARER");
}

} // namespace detail

} // namespace mailauth
