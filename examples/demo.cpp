// mailauth offline demo: SMTP, IMAP and POP3 logins against in-process scripted servers shaped like
// Gmail, Microsoft 365 and Dovecot — successes and the error-challenge failures — with redacted transcripts.
// Needs nothing but the standard library: no network, no fmt.
#include <mailauth/mailauth.hpp>
#include <mailauth/testing/scripted_transport.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace {

// Demo-only tokens; real ones come from the OAuth layer and live in mailauth::secret.
constexpr std::string_view good_token = "ya29.demo-access-token";
constexpr std::string_view expired_token = "ya29.demo-expired-token";

std::string xoauth2_b64(std::string_view user, std::string_view token)
{
    std::string raw = "user=";
    raw.append(user).append("\x01" "auth=Bearer ").append(token).append("\x01\x01");
    return mailauth::base64::encode(raw);
}

void print_view(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

void print_outcome(const mailauth::outcome& o)
{
    for (auto line : o.transcript) {
        std::printf("    %c: ", line.direction == mailauth::direction::client ? 'C' : 'S');
        print_view(line.text.substr(0, 100));
        std::printf("%s\n", line.text.size() > 100 ? "..." : "");
    }
    std::printf("  => %s", std::string{mailauth::to_string(o.verdict)}.c_str());
    if (!o.mechanism.empty()) std::printf(" via %s", o.mechanism.c_str());
    std::printf("; %u round trip(s) for authentication, %u in all\n", o.round_trips, o.total_round_trips);
    if (!o.reply.empty()) {
        std::printf("     final reply: %s", o.reply.status.c_str());
        if (!o.reply.enhanced.empty()) std::printf(" %s", o.reply.enhanced.c_str());
        if (!o.reply.response_code.empty()) std::printf(" [%s]", o.reply.response_code.c_str());
        std::printf(" %s\n", o.reply.text.c_str());
    }
    if (o.has_oauth_error)
        std::printf("     server's OAuth error: status=%s schemes=%s scope=%s\n", o.oauth_error.status.c_str(),
                    o.oauth_error.schemes.c_str(), o.oauth_error.scope.c_str());
    if (o.error) std::printf("     error: %s\n", o.error.message().c_str());
    if (!o.hint.empty()) std::printf("     hint: %s\n", o.hint.c_str());
}

mailauth::options token_options(std::string user, std::string_view token)
{
    mailauth::options o;
    o.user = std::move(user);
    o.token.assign(token);
    o.tls = mailauth::tls_mode::implicit; // the demo's scripted servers stand for TLS connections
    o.ehlo_name = "client.example";
    return o;
}

template <class Machine>
bool scenario(const char* title, mailauth::options opts, const std::string& script, bool refresh = false)
{
    std::printf("\n== %s\n", title);
    Machine machine{std::move(opts)};
    mailauth::testing::scripted_transport server{mailauth::testing::script::parse(script)};
    const auto& o = refresh ? mailauth::authenticate(server, machine,
                                                     [](const mailauth::outcome&) {
                                                         std::printf("  (token rejected: refreshing once)\n");
                                                         return std::optional<mailauth::secret>{good_token};
                                                     })
                            : mailauth::authenticate(server, machine);
    print_outcome(o);
    if (!server.mismatch().empty()) {
        std::printf("  !! script mismatch: %s\n", server.mismatch().c_str());
        return false;
    }
    return true;
}

bool show_mechanisms()
{
    std::printf("== SASL messages (mechanisms know bytes; protocols own the framing)\n");
    const mailauth::secret ms_token{"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"};
    mailauth::sasl::xoauth2 x{"test@contoso.onmicrosoft.com", ms_token};
    std::string raw;
    x.start(raw);
    const bool ms_ok = mailauth::base64::encode(raw) ==
                       "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVy"
                       "IEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==";
    std::printf("  XOAUTH2 for test@contoso.onmicrosoft.com: %zu bytes, Microsoft's documented vector %s\n",
                raw.size(), ms_ok ? "matches byte for byte" : "DOES NOT MATCH");

    const mailauth::secret token{good_token};
    mailauth::sasl::oauthbearer b{"a,b=c@example.com", token, "imap.example.com", 993};
    b.start(raw);
    std::printf("  OAUTHBEARER GS2 header: ");
    print_view(std::string_view{raw}.substr(0, raw.find('\x01')));
    std::printf("   (',' -> =2C, '=' -> =3D, RFC 5801)\n");

    const std::string challenge = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K";
    mailauth::error_detail err;
    const auto json = mailauth::base64::decode(challenge, err);
    x.step(json, raw);
    const auto* e = x.server_error();
    std::printf("  Gmail error challenge decoded: status=%s schemes=\"%s\" scope=%s; answer: empty line\n",
                e->status.c_str(), e->schemes.c_str(), e->scope.c_str());

    mailauth::base64::decode("dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVy\r\nIEV3QkFB", err);
    std::printf("  The document's line-broken base64 is refused: %s\n", err.message().c_str());
    mailauth::sasl::xoauth2 bad{"user\r\nA2 LOGOUT", token};
    std::printf("  Injection in the user name is refused: %s\n", bad.start(raw).error.message().c_str());
    return ms_ok;
}

} // namespace

int main()
{
    bool ok = show_mechanisms();
    const std::string gmail_ehlo = "S: 220 smtp.gmail.com ESMTP ready\nC: EHLO client.example\n"
                                   "S: 250-smtp.gmail.com at your service\nS: 250-SIZE 35882577\n"
                                   "S: 250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\n"
                                   "S: 250 ENHANCEDSTATUSCODES\n";
    const std::string gmail_error = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K";
    const std::string dovecot_error = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=";

    ok &= scenario<mailauth::smtp::client>(
        "SMTP, Gmail-shaped server: XOAUTH2 accepted (initial response inline)", token_options("user@gmail.com", good_token),
        gmail_ehlo + "C: AUTH XOAUTH2 " + xoauth2_b64("user@gmail.com", good_token) + "\nS: 235 2.7.0 Accepted\n");
    ok &= scenario<mailauth::smtp::client>(
        "SMTP, Gmail-shaped server: expired token -> error challenge answered, 535 read",
        token_options("user@gmail.com", expired_token),
        gmail_ehlo + "C: AUTH XOAUTH2 <base64>\nS: 334 " + gmail_error +
            "\nC: \nS: 535-5.7.8 Username and Password not accepted. Learn more at\n"
            "S: 535 5.7.8  https://support.google.com/mail/?p=BadCredentials\n");
    ok &= scenario<mailauth::smtp::client>(
        "SMTP, Microsoft 365-shaped server: SMTP AUTH disabled for the tenant", token_options("user@contoso.com", good_token),
        "S: 220 outlook.office365.com Microsoft ESMTP MAIL Service ready\nC: EHLO client.example\n"
        "S: 250-outlook.office365.com Hello\nS: 250-AUTH LOGIN XOAUTH2\nS: 250 ENHANCEDSTATUSCODES\n"
        "C: AUTH XOAUTH2 <base64>\n"
        "S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\n");
    ok &= scenario<mailauth::imap::client>(
        "IMAP, Gmail-shaped server: greeting capabilities + SASL-IR -> one round trip",
        token_options("user@gmail.com", good_token),
        "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=OAUTHBEARER] Gimap ready\n"
        "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: A1 OK user@gmail.com authenticated (Success)\n");
    ok &= scenario<mailauth::imap::client>(
        "IMAP, Dovecot-shaped server: expired token -> JSON decoded, NO read, one refresh-and-retry succeeds",
        token_options("alice@example.test", expired_token),
        "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] Dovecot ready.\n"
        "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: + " + dovecot_error +
            "\nC: \nS: A1 NO [AUTHENTICATIONFAILED] Authentication failed.\n"
            "C: A2 AUTHENTICATE XOAUTH2 <base64>\nS: A2 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\n",
        true);
    ok &= scenario<mailauth::pop3::client>(
        "POP3, Microsoft 365-shaped server: XOAUTH2 in the two-line form it requires",
        token_options("user@contoso.com", good_token),
        "S: +OK The Microsoft Exchange POP3 service is ready.\nC: CAPA\nS: +OK\nS: TOP\nS: UIDL\n"
        "S: SASL PLAIN XOAUTH2\nS: USER\nS: .\nC: AUTH XOAUTH2\nS: +\nC: <base64>\n"
        "S: +OK User successfully authenticated.\n");
    ok &= scenario<mailauth::pop3::client>(
        "POP3, Dovecot-shaped server: expired token -> answered, -ERR [AUTH] read",
        token_options("alice@example.test", expired_token),
        "S: +OK Dovecot ready.\nC: CAPA\nS: +OK\nS: USER\nS: SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\nS: .\n"
        "C: AUTH XOAUTH2\nS: + \nC: <base64>\nS: + " + dovecot_error +
            "\nC: \nS: -ERR [AUTH] Authentication failed.\n");
    std::printf("\n%s\n", ok ? "demo finished: every exchange went as scripted" : "demo FAILED");
    return ok ? 0 : 1;
}
