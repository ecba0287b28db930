// mailauth: endpoints, scopes and mail servers of Google, Microsoft 365 and Outlook.com.
#pragma once

#include <mailauth/detail/ascii.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/authorization.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailauth::oauth {

/// How a mail server port is protected (kept apart from policy.hpp's tls_mode: oauth/ sits below it).
enum class server_tls : unsigned char {
    implicit, ///< TLS from the first byte (993, 995, 465)
    starttls, ///< plain connect, then STARTTLS / STLS (587)
};

/// The mail protocol a server entry is for.
enum class mail_protocol : unsigned char { imap, pop3, smtp };

/// One host and port a provider serves a protocol on.
struct mail_server {
    mail_protocol protocol;
    std::string host;
    std::uint16_t port;
    server_tls tls;
};

/// An OAuth provider preset: endpoints, scopes, authorization parameters and mail servers.
struct provider {
    std::string name;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string device_authorization_endpoint;
    std::string scope;          ///< delegated scopes covering IMAP, POP3 and SMTP (space-separated)
    std::string app_only_scope; ///< scope for the client credentials grant; empty when there is none
    std::string access_type;    ///< authorization parameter (Google: "offline" for a refresh token)
    std::string prompt;         ///< authorization parameter (Google: "consent" to get the refresh token again)
    std::vector<mail_server> servers; ///< per protocol, preferred first

    /// The preferred server for `p`, or nullptr.
    const mail_server* server(mail_protocol p) const noexcept
    {
        for (const auto& s : servers)
            if (s.protocol == p) return &s;
        return nullptr;
    }

    /// An authorization request with this provider's endpoint, scope and parameters filled in; the caller
    /// adds state and code_challenge (begin_authorization) and, if wanted, login_hint.
    authorization_request authorization(std::string client_id, std::string redirect_uri) const
    {
        authorization_request r;
        r.endpoint = authorization_endpoint;
        r.client_id = std::move(client_id);
        r.redirect_uri = std::move(redirect_uri);
        r.scope = scope;
        r.access_type = access_type;
        r.prompt = prompt;
        return r;
    }
};

/// Google: the scope https://mail.google.com/ covers IMAP, POP3 and SMTP; a refresh token comes only with
/// access_type=offline, and again after the first time only with prompt=consent. Google's device flow
/// does not allow this scope; use the authorization code flow with a loopback redirect.
inline provider google()
{
    provider p;
    p.name = "google";
    p.authorization_endpoint = "https://accounts.google.com/o/oauth2/v2/auth";
    p.token_endpoint = "https://oauth2.googleapis.com/token";
    p.device_authorization_endpoint = "https://oauth2.googleapis.com/device/code";
    p.scope = "https://mail.google.com/";
    p.access_type = "offline";
    p.prompt = "consent";
    p.servers = {
        {mail_protocol::imap, "imap.gmail.com", 993, server_tls::implicit},
        {mail_protocol::pop3, "pop.gmail.com", 995, server_tls::implicit},
        {mail_protocol::smtp, "smtp.gmail.com", 465, server_tls::implicit},
        {mail_protocol::smtp, "smtp.gmail.com", 587, server_tls::starttls},
    };
    return p;
}

} // namespace mailauth::oauth

namespace mailauth::detail::oauth_impl {

constexpr bool is_hex_digit(char c) noexcept
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// 8-4-4-4-12 hex digits.
constexpr bool is_guid(std::string_view s) noexcept
{
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex_digit(s[i])) return false;
    }
    return true;
}

/// A DNS name of two or more LDH labels (RFC 1123 §2.1) whose last label is not all digits.
constexpr bool is_domain_name(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 253) return false;
    std::size_t labels = 0;
    bool last_has_alpha = false;
    while (true) {
        const std::size_t dot = s.find('.');
        const std::string_view label = s.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        last_has_alpha = false;
        for (char c : label) {
            if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
            last_has_alpha = last_has_alpha || is_alpha(c);
        }
        ++labels;
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    return labels >= 2 && last_has_alpha;
}

inline std::string ascii_lower(std::string_view s)
{
    std::string out{s};
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

} // namespace mailauth::detail::oauth_impl

namespace mailauth::oauth {

/// Whether `tenant` may go into a Microsoft endpoint path: common, organizations, consumers, a GUID or a domain.
constexpr bool is_valid_tenant(std::string_view tenant) noexcept
{
    return detail::iequals(tenant, "common") || detail::iequals(tenant, "organizations") ||
           detail::iequals(tenant, "consumers") || detail::oauth_impl::is_guid(tenant) || detail::oauth_impl::is_domain_name(tenant);
}

/// Microsoft 365 (Entra ID v2.0 endpoints) for `tenant`; invalid_argument for anything is_valid_tenant refuses.
/// Scopes: IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send and offline_access (refresh tokens rotate on
/// every use); app-only: https://outlook.office365.com/.default.
inline error_detail microsoft365(std::string_view tenant, provider& out)
{
    out = {};
    if (!is_valid_tenant(tenant)) return {make_error_code(errc::oauth_invalid_tenant)};
    const std::string base = "https://login.microsoftonline.com/" + detail::oauth_impl::ascii_lower(tenant) + "/oauth2/v2.0/";
    out.name = "microsoft365";
    out.authorization_endpoint = base + "authorize";
    out.token_endpoint = base + "token";
    out.device_authorization_endpoint = base + "devicecode";
    out.scope = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All "
                "https://outlook.office.com/SMTP.Send offline_access";
    out.app_only_scope = "https://outlook.office365.com/.default";
    out.servers = {
        {mail_protocol::imap, "outlook.office365.com", 993, server_tls::implicit},
        {mail_protocol::pop3, "outlook.office365.com", 995, server_tls::implicit},
        {mail_protocol::smtp, "smtp.office365.com", 587, server_tls::starttls},
    };
    return {};
}

/// As above; throws mailauth::error for an invalid tenant.
inline provider microsoft365(std::string_view tenant)
{
    provider p;
    if (auto e = microsoft365(tenant, p)) throw error(e.code, "invalid Microsoft tenant: expected common, organizations, consumers, a GUID or a domain name");
    return p;
}

/// Outlook.com personal accounts: the Microsoft endpoints of the consumers tenant, smtp-mail.outlook.com for SMTP;
/// no app-only access.
inline provider outlook_com()
{
    provider p;
    (void)microsoft365("consumers", p);
    p.name = "outlook.com";
    p.app_only_scope.clear();
    p.servers = {
        {mail_protocol::imap, "outlook.office365.com", 993, server_tls::implicit},
        {mail_protocol::pop3, "outlook.office365.com", 995, server_tls::implicit},
        {mail_protocol::smtp, "smtp-mail.outlook.com", 587, server_tls::starttls},
    };
    return p;
}

} // namespace mailauth::oauth
