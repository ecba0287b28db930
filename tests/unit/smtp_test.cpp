// SMTP machine: transcript tests with exact bytes, outcomes and round trips (RFC 4954, Gmail, Microsoft 365, Dovecot).
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/proto/smtp.hpp>

#include <optional>
#include <string>

using mailauth::errc;
using mailauth::verdict;
using session = test::session<mailauth::smtp::client>;

namespace {

const std::string gmail_ehlo = "S: 220 smtp.gmail.com ESMTP ready\n"
                               "C: EHLO client.example\n"
                               "S: 250-smtp.gmail.com at your service, [192.0.2.1]\n"
                               "S: 250-SIZE 35882577\n"
                               "S: 250-8BITMIME\n"
                               "S: 250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\n"
                               "S: 250-ENHANCEDSTATUSCODES\n"
                               "S: 250-PIPELINING\n"
                               "S: 250 SMTPUTF8\n";

const std::string microsoft_ehlo = "S: 220 SN4PR0501CA0123.outlook.office365.com Microsoft ESMTP MAIL Service ready\n"
                                   "C: EHLO client.example\n"
                                   "S: 250-SN4PR0501CA0123.outlook.office365.com Hello [192.0.2.1]\n"
                                   "S: 250-SIZE 157286400\n"
                                   "S: 250-PIPELINING\n"
                                   "S: 250-AUTH LOGIN XOAUTH2\n"
                                   "S: 250-ENHANCEDSTATUSCODES\n"
                                   "S: 250 SMTPUTF8\n";

} // namespace

TEST_CASE("smtp: XOAUTH2 with an inline initial response (Gmail), one round trip")
{
    session s{test::with_token("user@gmail.com", "ya29.token"),
              gmail_ehlo + "C: AUTH XOAUTH2 " + test::xoauth2_b64("user@gmail.com", "ya29.token") + "\n"
                           "S: 235 2.7.0 Accepted\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.done());
    CHECK(o.authenticated);
    CHECK(o.verdict == verdict::authenticated);
    CHECK(o.mechanism == "XOAUTH2");
    CHECK(o.round_trips == 1);
    CHECK(o.total_round_trips == 2);
    CHECK(o.reply.code == 235);
    CHECK(o.reply.enhanced == "2.7.0");
    CHECK(o.reply.text == "Accepted");
    CHECK(o.capabilities.offers("oauthbearer"));
    CHECK(o.capabilities.has("ENHANCEDSTATUSCODES"));
    CHECK(o.capabilities.has("size"));
}

TEST_CASE("smtp: RFC 4954 §4 PLAIN example")
{
    auto opts = test::with_password("test", "test");
    opts.authzid = "test";
    opts.ehlo_name = "client.example.com";
    session s{std::move(opts), "S: 220-smtp.example.com ESMTP Server\n"
                               "S: 220 second greeting line\n"
                               "C: EHLO client.example.com\n"
                               "S: 250-smtp.example.com Hello client.example.com\n"
                               "S: 250-AUTH GSSAPI DIGEST-MD5 PLAIN\n"
                               "S: 250 ENHANCEDSTATUSCODES\n"
                               "C: AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\n"
                               "S: 235 2.7.0 Authentication successful\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.mechanism == "PLAIN");
    CHECK(o.round_trips == 1);
}

TEST_CASE("smtp: Microsoft 365 two-line exchange (seed 003) when the initial response is not sent inline")
{
    auto opts = test::with_token("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    opts.policy.initial_response = mailauth::initial_response::never;
    session s{std::move(opts),
              microsoft_ehlo + "C: AUTH XOAUTH2\n"
                               "S: 334 \n"
                               "C: dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\n"
                               "S: 235 2.7.0 Authentication successful\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.round_trips == 2);
}

TEST_CASE("smtp: Microsoft 365 535 5.7.3 is a token rejection with a hint")
{
    session s{test::with_token("u@contoso.com", "tok"),
              microsoft_ehlo + "C: AUTH XOAUTH2 <base64>\n"
                               "S: 535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK_FALSE(o.authenticated);
    CHECK(o.verdict == verdict::token_rejected);
    CHECK(o.reply.code == 535);
    CHECK(o.reply.enhanced == "5.7.3");
    CHECK(o.reply.text == "Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]");
    CHECK(o.hint.find("SMTP.Send") != std::string::npos);
}

TEST_CASE("smtp: Microsoft 365 535 5.7.139 means SMTP AUTH is disabled for the tenant")
{
    session s{test::with_token("u@contoso.com", "tok"),
              microsoft_ehlo + "C: AUTH XOAUTH2 <base64>\n"
                               "S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::user_action_required);
    CHECK(o.hint.find("SMTP AUTH is disabled") != std::string::npos);
}

TEST_CASE("smtp: Gmail error challenge is answered with an empty line, then 535 is read")
{
    session s{test::with_token("user@gmail.com", "expired"),
              gmail_ehlo + "C: AUTH XOAUTH2 <base64>\n"
                           "S: 334 " + std::string{test::gmail_error_newline} + "\n"
                           "C: \n"
                           "S: 535-5.7.8 Username and Password not accepted. For more information, go to\n"
                           "S: 535 5.7.8  https://support.google.com/mail/?p=BadCredentials\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.done());
    CHECK(o.verdict == verdict::token_rejected);
    REQUIRE(o.has_oauth_error);
    CHECK(o.oauth_error.status == "401");
    CHECK(o.oauth_error.schemes == "bearer mac");
    CHECK(o.oauth_error.scope == "https://mail.google.com/");
    CHECK(o.reply.enhanced == "5.7.8");
    CHECK(o.reply.text == "Username and Password not accepted. For more information, go to\nhttps://support.google.com/mail/?p=BadCredentials");
    CHECK(o.hint.find("https://mail.google.com/") != std::string::npos);
    CHECK(o.round_trips == 2);
}

TEST_CASE("smtp: Dovecot OAUTHBEARER error challenge is answered with AQ==")
{
    session s{test::with_token("alice@example.test", "bad"),
              "S: 220 mail.example.test Dovecot ready.\n"
              "C: EHLO client.example\n"
              "S: 250-mail.example.test\n"
              "S: 250-8BITMIME\n"
              "S: 250-AUTH PLAIN LOGIN OAUTHBEARER XOAUTH2\n"
              "S: 250-BURL imap\n"
              "S: 250-ENHANCEDSTATUSCODES\n"
              "S: 250 SIZE\n"
              "C: AUTH XOAUTH2 <base64>\n"
              "S: 334 " + std::string{test::oauthbearer_invalid_token} + "\n"
              "C: \n"
              "S: 535 5.7.8 Authentication failed.\n"};
    auto& m = s.machine;
    (void)m;
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.verdict == verdict::token_rejected);

    auto opts = test::with_token("alice@example.test", "bad");
    opts.policy.mechanisms = {"OAUTHBEARER"};
    session b{std::move(opts), "S: 220 ready\n"
                               "C: EHLO client.example\n"
                               "S: 250-mail.example.test\n"
                               "S: 250 AUTH PLAIN LOGIN OAUTHBEARER XOAUTH2\n"
                               "C: AUTH OAUTHBEARER " + test::oauthbearer_b64("alice@example.test", "bad") + "\n"
                               "S: 334 " + std::string{test::oauthbearer_invalid_token} + "\n"
                               "C: AQ==\n"
                               "S: 535 5.7.8 Authentication failed.\n"};
    const auto& ob = b.run();
    CHECK(b.server.mismatch() == "");
    CHECK(ob.mechanism == "OAUTHBEARER");
    CHECK(ob.verdict == verdict::token_rejected);
    CHECK(ob.oauth_error.status == "invalid_token");
}

TEST_CASE("smtp: STARTTLS, then EHLO again with the old extensions forgotten")
{
    session s{test::with_token("u@example.com", "tok", mailauth::tls_mode::starttls),
              "S: 220 mx ESMTP\n"
              "C: EHLO client.example\n"
              "S: 250-mx\n"
              "S: 250-STARTTLS\n"
              "S: 250 AUTH PLAIN\n"
              "C: STARTTLS\n"
              "S: 220 2.0.0 Ready to start TLS\n"
              "-- TLS --\n"
              "C: EHLO client.example\n"
              "S: 250-mx\n"
              "S: 250 AUTH XOAUTH2\n"
              "C: AUTH XOAUTH2 <base64>\n"
              "S: 235 2.7.0 OK\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.tls());
    CHECK(o.authenticated);
    CHECK(o.tls);
    CHECK_FALSE(o.capabilities.has("STARTTLS"));
    CHECK_FALSE(o.capabilities.offers("PLAIN"));
    CHECK(o.total_round_trips == 4);
}

TEST_CASE("smtp: bytes pipelined after the STARTTLS reply are refused")
{
    session s{test::with_token("u@example.com", "tok", mailauth::tls_mode::starttls),
              "S: 220 mx ESMTP\n"
              "C: EHLO client.example\n"
              "S: 250-mx\n"
              "S: 250 STARTTLS\n"
              "C: STARTTLS\n"
              "S: 220 Ready\n"
              "S: 250-injected AUTH PLAIN\n"
              "-- TLS --\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::protocol_error);
    CHECK(o.error.code == errc::pipelined_after_starttls);
    CHECK_FALSE(s.server.tls());
    // The machine refuses the line itself when a driver feeds it instead of starting TLS.
    mailauth::smtp::client m{test::with_token("u@example.com", "tok", mailauth::tls_mode::starttls)};
    m.feed("220 mx");
    (void)m.next();
    m.feed("250-mx");
    m.feed("250 STARTTLS");
    (void)m.next();
    m.feed("220 Ready");
    CHECK(std::holds_alternative<mailauth::start_tls>(m.next()));
    m.feed("250 injected");
    CHECK(m.outcome().error.code == errc::pipelined_after_starttls);
}

TEST_CASE("smtp: STARTTLS required but not offered")
{
    session s{test::with_token("u@example.com", "tok", mailauth::tls_mode::starttls),
              "S: 220 mx ESMTP\n"
              "C: EHLO client.example\n"
              "S: 250-mx\n"
              "S: 250 AUTH XOAUTH2\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::tls_required);
    CHECK(o.error.code == errc::tls_unavailable);
    CHECK(s.server.done());
}

TEST_CASE("smtp: no credentials leave a plaintext connection unless allowed")
{
    session s{test::with_token("u@example.com", "tok", mailauth::tls_mode::none),
              "S: 220 mx ESMTP\n"
              "C: EHLO client.example\n"
              "S: 250-mx\n"
              "S: 250 AUTH XOAUTH2\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::tls_required);
    CHECK(o.error.code == errc::tls_required);
    CHECK(s.server.sent().size() == 1);

    auto opts = test::with_token("u@example.com", "tok", mailauth::tls_mode::none);
    opts.policy.allow_plaintext = true;
    session p{std::move(opts), "S: 220 mx ESMTP\n"
                               "C: EHLO client.example\n"
                               "S: 250-mx\n"
                               "S: 250 AUTH XOAUTH2\n"
                               "C: AUTH XOAUTH2 <base64>\n"
                               "S: 235 ok\n"};
    CHECK(p.run().authenticated);
    CHECK_FALSE(p.machine.outcome().tls);
}

TEST_CASE("smtp: legacy AUTH= and an empty AUTH keyword")
{
    session s{test::with_password("u", "pw"), "S: 220 old\n"
                                              "C: EHLO client.example\n"
                                              "S: 250-old\n"
                                              "S: 250-AUTH=LOGIN PLAIN\n"
                                              "S: 250 AUTH \n"
                                              "C: AUTH PLAIN AHUAcHc=\n"
                                              "S: 235 ok\n"};
    CHECK(s.run().authenticated);
    CHECK(s.machine.outcome().capabilities.mechanisms() == "LOGIN PLAIN");

    session e{test::with_token("u", "t"), "S: 220 dovecot\n"
                                          "C: EHLO client.example\n"
                                          "S: 250-dovecot\n"
                                          "S: 250 AUTH \n"};
    const auto& o = e.run();
    CHECK(o.verdict == verdict::mechanism_unavailable);
    CHECK(o.hint.find("no SASL mechanism") != std::string::npos);
}

TEST_CASE("smtp: mandatory OAuth fails clearly; optional falls back to the password")
{
    auto mand = test::with_token("u", "tok");
    mand.password.assign("pw");
    session m{std::move(mand), "S: 220 mx\n"
                               "C: EHLO client.example\n"
                               "S: 250-mx\n"
                               "S: 250 AUTH PLAIN LOGIN\n"};
    const auto& o = m.run();
    CHECK(o.verdict == verdict::mechanism_unavailable);
    CHECK(o.error.code == errc::mechanism_unavailable);
    CHECK(o.hint == "the server offers: PLAIN LOGIN; OAuth is mandatory (allow fallback to use the password login)");
    CHECK(m.server.sent().size() == 1);

    auto opt = test::with_token("u", "tok");
    opt.password.assign("pw");
    opt.policy.oauth = mailauth::oauth_use::optional;
    session f{std::move(opt), "S: 220 mx\n"
                              "C: EHLO client.example\n"
                              "S: 250-mx\n"
                              "S: 250 AUTH PLAIN LOGIN\n"
                              "C: AUTH PLAIN AHUAcHc=\n"
                              "S: 235 2.7.0 ok\n"};
    CHECK(f.run().authenticated);
    CHECK(f.machine.outcome().mechanism == "PLAIN");
}

TEST_CASE("smtp: a bearer token never goes through PLAIN or LOGIN")
{
    auto opts = test::with_token("u", "tok");
    opts.policy.mechanisms = {"PLAIN", "LOGIN"};
    opts.policy.oauth = mailauth::oauth_use::optional;
    session s{std::move(opts), "S: 220 mx\n"
                               "C: EHLO client.example\n"
                               "S: 250-mx\n"
                               "S: 250 AUTH PLAIN LOGIN\n"};
    CHECK(s.run().verdict == verdict::mechanism_unavailable);
}

TEST_CASE("smtp: LOGIN answers by step, not by prompt text")
{
    session s{test::with_password("jdoe", "pw"), "S: 220 mx\n"
                                                 "C: EHLO client.example\n"
                                                 "S: 250-mx\n"
                                                 "S: 250 AUTH LOGIN\n"
                                                 "C: AUTH LOGIN\n"
                                                 "S: 334 VXNlcm5hbWU6\n"
                                                 "C: amRvZQ==\n"
                                                 "S: 334 UGFzc3dvcmQ6\n"
                                                 "C: cHc=\n"
                                                 "S: 235 2.7.0 Authentication successful\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.round_trips == 3);
}

TEST_CASE("smtp: an AUTH line over 512 octets goes out in two lines")
{
    const std::string token(2000, 'T');
    session s{test::with_token("u@example.com", token), "S: 220 mx\n"
                                                         "C: EHLO client.example\n"
                                                         "S: 250-mx\n"
                                                         "S: 250 AUTH XOAUTH2\n"
                                                         "C: AUTH XOAUTH2\n"
                                                         "S: 334\n"
                                                         "C: " + test::xoauth2_b64("u@example.com", token) + "\n"
                                                         "S: 235 ok\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.round_trips == 2);
}

TEST_CASE("smtp: 555 5.5.2 to an inline response is retried once in two lines")
{
    session s{test::with_token("u@gmail.com", "tok"),
              gmail_ehlo + "C: AUTH XOAUTH2 <base64>\n"
                           "S: 555-5.5.2 Syntax error, command line too long.\n"
                           "S: 555 5.5.2 For more information, go to https://support.google.com/a/answer/3221692\n"
                           "C: AUTH XOAUTH2\n"
                           "S: 334 \n"
                           "C: " + test::xoauth2_b64("u@gmail.com", "tok") + "\n"
                           "S: 235 2.7.0 Accepted\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.round_trips == 3);
}

TEST_CASE("smtp: a challenge that is not base64 is cancelled with '*'")
{
    session s{test::with_token("u", "tok"), "S: 220 mx\n"
                                            "C: EHLO client.example\n"
                                            "S: 250-mx\n"
                                            "S: 250 AUTH XOAUTH2\n"
                                            "C: AUTH XOAUTH2 <base64>\n"
                                            "S: 334 this is not base64!\n"
                                            "C: *\n"
                                            "S: 501 5.5.2 Authentication aborted by client.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.done());
    CHECK(o.verdict == verdict::protocol_error);
    CHECK(o.error.code == errc::challenge_not_base64);
    CHECK(o.error.offset == 4);
    CHECK(o.reply.code == 501);
}

TEST_CASE("smtp: endless challenges are cut off with '*' at the bound")
{
    std::string script = "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH LOGIN\nC: AUTH LOGIN\n"
                         "S: 334 VXNlcm5hbWU6\nC: dQ==\nS: 334 UGFzc3dvcmQ6\nC: cHc=\n";
    for (int i = 0; i < 1; ++i) script += "S: 334 UGFzc3dvcmQ6\n";
    script += "C: *\nS: 501 5.5.2 aborted\n";
    session s{test::with_password("u", "pw"), script};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.verdict == verdict::protocol_error);
    CHECK(o.error.code == errc::sasl_unexpected_challenge);

    auto opts = test::with_token("u", "tok");
    opts.policy.max_challenges = 1;
    session b{std::move(opts), "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH XOAUTH2\nC: AUTH XOAUTH2 <base64>\n"
                               "S: 334 e30=\nC: \nS: 334 e30=\nC: *\nS: 501 aborted\n"};
    const auto& ob = b.run();
    CHECK(b.server.mismatch() == "");
    CHECK(ob.error.code == errc::sasl_step_limit);
}

TEST_CASE("smtp: server failures are reported with the right verdict")
{
    struct row {
        const char* reply;
        verdict v;
        errc e;
    };
    for (const auto& r : {row{"S: 454 4.7.0 Temporary authentication failure", verdict::temporary_failure, errc{}},
                          row{"S: 534-5.7.9 Application-specific password required.", verdict::user_action_required, errc{}},
                          row{"S: 530 5.7.0 Must issue a STARTTLS command first.", verdict::tls_required, errc{}},
                          row{"S: 523 5.7.10 Encryption Needed", verdict::tls_required, errc{}},
                          row{"S: 504 5.5.4 Unrecognized authentication type", verdict::mechanism_unavailable, errc{}},
                          row{"S: 502 5.5.1 Command not implemented", verdict::protocol_error, errc::reply_unexpected},
                          row{"S: 999 out of range", verdict::protocol_error, errc::reply_malformed},
                          row{"S: hello", verdict::protocol_error, errc::reply_malformed}}) {
        std::string reply = r.reply;
        if (reply.find("534-") != std::string::npos) reply += "\nS: 534 5.7.9 Learn more at https://support.google.com/";
        session s{test::with_password("u", "pw"), "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH PLAIN\n"
                                                  "C: AUTH PLAIN <base64>\n" + reply + "\n"};
        const auto& o = s.run();
        INFO(r.reply);
        CHECK(o.verdict == r.v);
        if (r.e != errc{}) CHECK(o.error.code == r.e);
        CHECK(s.server.done());
    }
}

TEST_CASE("smtp: greeting refusal, hang-up and over-long lines")
{
    session refused{test::with_token("u", "t"), "S: 554 5.7.1 No SMTP service here\n"};
    const auto& o1 = refused.run();
    CHECK(o1.verdict == verdict::protocol_error);
    CHECK(o1.error.code == errc::server_refused);
    CHECK(o1.reply.code == 554);

    session hangup{test::with_token("u", "t"), "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH XOAUTH2\n"
                                               "C: AUTH XOAUTH2 <base64>\n-- CLOSE --\n"};
    const auto& o2 = hangup.run();
    CHECK(o2.verdict == verdict::transport_error);
    CHECK(o2.error.code == errc::connection_closed);

    session long_line{test::with_token("u", "t"), "S: 220 " + std::string(20000, 'x') + "\n"};
    const auto& o3 = long_line.run();
    CHECK(o3.verdict == verdict::protocol_error);
    CHECK(o3.error.code == errc::reply_line_too_long);

    std::string endless = "S: 220 mx\nC: EHLO client.example\n";
    for (int i = 0; i < 600; ++i) endless += "S: 250-X" + std::to_string(i) + "\n";
    session many{test::with_token("u", "t"), endless};
    const auto& o4 = many.run();
    CHECK(o4.error.code == errc::reply_too_many_lines);

    session mixed{test::with_token("u", "t"), "S: 220-mx\nS: 250 other code\n"};
    CHECK(mixed.run().error.code == errc::reply_malformed);
}

TEST_CASE("smtp: refresh and retry once on the same connection")
{
    session s{test::with_token("u@example.com", "old"),
              "S: 220 mx\n"
              "C: EHLO client.example\n"
              "S: 250-mx\n"
              "S: 250 AUTH XOAUTH2\n"
              "C: AUTH XOAUTH2 " + test::xoauth2_b64("u@example.com", "old") + "\n"
              "S: 334 " + std::string{test::dovecot_xoauth2_error} + "\n"
              "C: \n"
              "S: 535 5.7.8 Authentication failed.\n"
              "C: AUTH XOAUTH2 " + test::xoauth2_b64("u@example.com", "new") + "\n"
              "S: 235 2.7.0 Authenticated\n"};
    int calls = 0;
    const auto& o = s.run([&](const mailauth::outcome& first) -> std::optional<mailauth::secret> {
        ++calls;
        CHECK(first.verdict == verdict::token_rejected);
        return mailauth::secret{"new"};
    });
    CHECK(s.server.mismatch() == "");
    CHECK(calls == 1);
    CHECK(o.authenticated);
    CHECK(o.attempts == 2);
    CHECK_FALSE(s.machine.retry(mailauth::secret{"again"}));
}

TEST_CASE("smtp: the transcript never holds the token")
{
    const std::string token = "MARKER-SECRET-TOKEN-42";
    session s{test::with_token("u@example.com", token),
              "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH XOAUTH2\nC: AUTH XOAUTH2 <base64>\nS: 235 ok\n"};
    const auto& o = s.run();
    const auto text = o.transcript.to_string();
    CHECK(text.find(token) == std::string::npos);
    CHECK(text.find(test::xoauth2_b64("u@example.com", token)) == std::string::npos);
    CHECK(text.find("C: AUTH XOAUTH2 <redacted>") != std::string::npos);
    CHECK(o.transcript.size() == 6);
}

TEST_CASE("smtp: injection in the user name or EHLO name is refused before anything is sent")
{
    session s{test::with_token("u\r\nRCPT TO:<x>", "t"), "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH XOAUTH2\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::client_error);
    CHECK(o.error.code == errc::invalid_user);
    CHECK(o.error.offset == 1);
    CHECK(s.server.sent().size() == 1);

    auto opts = test::with_token("u", "t");
    opts.ehlo_name = "a\r\nMAIL FROM:<x>";
    session e{std::move(opts), "S: 220 mx\n"};
    CHECK(e.run().error.code == errc::invalid_ehlo_name);
    CHECK(e.server.sent().empty());
}

TEST_CASE("smtp: a reused machine runs again without surprises")
{
    mailauth::smtp::client m{test::with_token("u", "t")};
    for (int i = 0; i < 3; ++i) {
        mailauth::testing::scripted_transport t{mailauth::testing::script::parse(
            "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH XOAUTH2\nC: AUTH XOAUTH2 <base64>\nS: 235 ok\n")};
        m.reset();
        CHECK(mailauth::authenticate(t, m).authenticated);
        CHECK(m.outcome().total_round_trips == 2);
        CHECK(m.outcome().transcript.size() == 6);
    }
}

TEST_CASE("smtp: the Gmail hint is only for Google's scope; others get the refresh hint")
{
    session s{test::with_token("alice@example.test", "expired"),
              "S: 220 dovecot\nC: EHLO client.example\nS: 250-dovecot\nS: 250 AUTH XOAUTH2\nC: AUTH XOAUTH2 <base64>\n"
              "S: 334 " + std::string{test::dovecot_xoauth2_error} + "\nC: \nS: 535 5.7.8 Authentication failed.\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::token_rejected);
    CHECK(o.hint == "the server refused the access token: refresh it and retry once; the server expects scope mail");
}
