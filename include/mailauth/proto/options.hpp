// mailauth: what a protocol machine needs to know to log in.
#pragma once

#include <mailauth/policy.hpp>
#include <mailauth/secret.hpp>

#include <cstdint>
#include <string>

namespace mailauth {

/// Credentials, policy and connection facts for one SMTP, IMAP or POP3 login.
struct options {
    std::string user;     ///< login name; UTF-8 and "Domain\User" pass through unchanged
    std::string authzid;  ///< PLAIN authorization identity (act as this user), usually empty
    secret token;         ///< OAuth 2.0 access token (XOAUTH2, OAUTHBEARER)
    secret password;      ///< password (PLAIN, LOGIN, IMAP LOGIN, POP3 USER/PASS)
    mailauth::policy policy;
    tls_mode tls = tls_mode::starttls;
    std::string host;     ///< server host name, sent in OAUTHBEARER's host= key when set
    std::uint16_t port = 0; ///< server port, sent in OAUTHBEARER's port= key when non-zero
    std::string ehlo_name = "localhost"; ///< SMTP EHLO domain or address literal (RFC 5321 §4.1.1.1)
};

} // namespace mailauth
