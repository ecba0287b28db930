// IMAP machine: transcript tests with exact bytes, outcomes and round trips (RFC 4959, RFC 5530, Gmail, Microsoft 365, Dovecot).
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/proto/imap.hpp>

#include <optional>
#include <string>

using mailauth::errc;
using mailauth::verdict;
using session = test::session<mailauth::imap::client>;

TEST_CASE("imap: greeting capabilities and SASL-IR give a one-round-trip XOAUTH2 login (Gmail)")
{
    session s{test::with_token("user@gmail.com", "ya29.x"),
              "S: * OK [CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR "
              "AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER AUTH=XOAUTH] Gimap ready\n"
              "C: A1 AUTHENTICATE XOAUTH2 " + test::xoauth2_b64("user@gmail.com", "ya29.x") + "\n"
              "S: * CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584\n"
              "S: A1 OK user@gmail.com authenticated (Success)\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.done());
    CHECK(o.authenticated);
    CHECK(o.round_trips == 1);
    CHECK(o.total_round_trips == 1);
    CHECK(o.reply.status == "OK");
    CHECK(o.capabilities.has("MOVE")); // post-login capabilities
    CHECK_FALSE(o.capabilities.offers("XOAUTH2"));
}

TEST_CASE("imap: RFC 4959 §3 example, PLAIN with an initial response")
{
    auto opts = test::with_password("test", "test");
    opts.authzid = "test";
    session s{std::move(opts), "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\n"
                               "C: A1 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\n"
                               "S: A1 OK Success (tls protection)\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
}

TEST_CASE("imap: Microsoft 365 without SASL-IR answers a bare '+' (seed 003)")
{
    session s{test::with_token("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
              "S: * OK The Microsoft Exchange IMAP4 service is ready. [TQBOADIAUABSADAAMQBDAEEAMAAwADAANwAuAG4AYQBtAHAAcgBkADAAMQAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]\n"
              "C: A1 CAPABILITY\n"
              "S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\n"
              "S: A1 OK CAPABILITY completed.\n"
              "C: A2 AUTHENTICATE XOAUTH2\n"
              "S: +\n"
              "C: dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\n"
              "S: A2 OK AUTHENTICATE completed.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.round_trips == 2);
    CHECK(o.total_round_trips == 3);
}

TEST_CASE("imap: Microsoft 365 'NO AUTHENTICATE failed.' is a token rejection with a hint")
{
    session s{test::with_token("u@contoso.com", "tok"),
              "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\n"
              "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: A1 NO AUTHENTICATE failed.\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::token_rejected);
    CHECK(o.reply.status == "NO");
    CHECK(o.reply.text == "AUTHENTICATE failed.");
    CHECK(o.hint.find("IMAP.AccessAsUser.All") != std::string::npos);
}

TEST_CASE("imap: Dovecot error challenges are answered and the tagged NO is read")
{
    session x{test::with_token("alice@example.test", "expired"),
              "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] Dovecot (Debian) ready.\n"
              "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: + " + std::string{test::dovecot_xoauth2_error} + "\n"
              "C: \n"
              "S: A1 NO [AUTHENTICATIONFAILED] Authentication failed.\n"
              "C: A2 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: A2 OK [CAPABILITY IMAP4rev1 SASL-IR IDLE] Logged in\n"};
    const auto& o = x.run([](const mailauth::outcome&) { return std::optional<mailauth::secret>{"fresh"}; });
    CHECK(x.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.attempts == 2);
    CHECK(o.capabilities.has("IDLE"));
    CHECK(o.reply.response_code == "CAPABILITY");
    CHECK(o.reply.response_args == "IMAP4rev1 SASL-IR IDLE");

    auto opts = test::with_token("alice@example.test", "expired");
    opts.policy.mechanisms = {"OAUTHBEARER"};
    session b{std::move(opts),
              "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready.\n"
              "C: A1 AUTHENTICATE OAUTHBEARER " + test::oauthbearer_b64("alice@example.test", "expired") + "\n"
              "S: + " + std::string{test::oauthbearer_invalid_token} + "\n"
              "C: AQ==\n"
              "S: A1 NO [AUTHENTICATIONFAILED] Authentication failed.\n"};
    const auto& ob = b.run();
    CHECK(b.server.mismatch() == "");
    CHECK(ob.verdict == verdict::token_rejected);
    CHECK(ob.reply.response_code == "AUTHENTICATIONFAILED");
    CHECK(ob.reply.response_args.empty());
    CHECK(ob.oauth_error.status == "invalid_token");
    CHECK(ob.round_trips == 2);
}

TEST_CASE("imap: a login referral keeps its URL for the caller (RFC 2221)")
{
    session s{test::with_token("alice@example.test", "tok"),
              "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS AUTH=XOAUTH2] ready\n"
              "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: A1 NO [REFERRAL imap://alice@imap2.example.test/] Log in at the other server\n"};
    int refreshes = 0;
    const auto& o = s.run([&](const mailauth::outcome&) {
        ++refreshes;
        return std::optional<mailauth::secret>{"fresh"};
    });
    CHECK(s.server.mismatch() == "");
    CHECK_FALSE(o.authenticated);
    CHECK(o.verdict == verdict::user_action_required); // not token_rejected: a fresh token would not help
    CHECK(refreshes == 0);
    CHECK(o.attempts == 1);
    CHECK(o.reply.response_code == "REFERRAL");
    CHECK(o.reply.response_args == "imap://alice@imap2.example.test/");
    CHECK(o.reply.text == "Log in at the other server");
    CHECK(o.hint.find("imap://alice@imap2.example.test/") != std::string::npos);
}

TEST_CASE("imap: STARTTLS, then CAPABILITY again (Dovecot with LOGINDISABLED before TLS)")
{
    session s{test::with_token("alice@example.test", "tok", mailauth::tls_mode::starttls),
              "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.\n"
              "C: A1 STARTTLS\n"
              "S: A1 OK Begin TLS negotiation now.\n"
              "-- TLS --\n"
              "C: A2 CAPABILITY\n"
              "S: * CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=XOAUTH2\n"
              "S: A2 OK Pre-login capabilities listed, post-login capabilities have more.\n"
              "C: A3 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: A3 OK Logged in\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.tls);
    CHECK_FALSE(o.capabilities.has("LOGINDISABLED"));
}

TEST_CASE("imap: bytes pipelined after the STARTTLS OK are refused")
{
    session s{test::with_token("u", "t", mailauth::tls_mode::starttls),
              "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready\n"
              "C: A1 STARTTLS\n"
              "S: A1 OK Begin TLS\n"
              "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
              "-- TLS --\n"};
    CHECK(s.run().error.code == errc::pipelined_after_starttls);
}

TEST_CASE("imap: LOGIN command with quoting, refused under LOGINDISABLED")
{
    session s{test::with_password("fred", "p\"a\\ss word"),
              "S: * OK [CAPABILITY IMAP4rev1] ready\n"
              "C: A1 LOGIN \"fred\" \"p\\\"a\\\\ss word\"\n"
              "S: A1 OK LOGIN completed\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.mechanism == "IMAP-LOGIN");
    CHECK(o.transcript.to_string().find("C: A1 LOGIN \"fred\" <redacted>") != std::string::npos);

    session d{test::with_password("fred", "pw"), "S: * OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\n"};
    CHECK(d.run().verdict == verdict::mechanism_unavailable);

    session p{test::with_password("fred", "pw"), "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED] ready\n"
                                                 "C: A1 AUTHENTICATE PLAIN\n"
                                                 "S: + \n"
                                                 "C: AGZyZWQAcHc=\n"
                                                 "S: A1 OK done\n"};
    CHECK(p.run().authenticated);
    CHECK(p.server.mismatch() == "");
}

TEST_CASE("imap: 8-bit user names go out as synchronising literals")
{
    session s{test::with_password("j\xC3\xB6rg", "pw"),
              "S: * OK [CAPABILITY IMAP4rev1] ready\n"
              "C: A1 LOGIN {5}\n"
              "S: + Ready for literal data\n"
              "C: j\xC3\xB6rg \"pw\"\n"
              "S: A1 OK LOGIN completed\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.round_trips == 2);
}

TEST_CASE("imap: PREAUTH, BYE, tag mismatch and malformed lines")
{
    session pre{test::with_token("u", "t"), "S: * PREAUTH [CAPABILITY IMAP4rev1] logged in as u\n"};
    const auto& o1 = pre.run();
    CHECK(o1.authenticated);
    CHECK(o1.mechanism == "PREAUTH");

    session bye{test::with_token("u", "t"), "S: * BYE [UNAVAILABLE] too many connections\n"};
    const auto& o2 = bye.run();
    CHECK(o2.error.code == errc::server_refused);
    CHECK(o2.reply.response_code == "UNAVAILABLE");

    session tag{test::with_token("u", "t"), "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\n"
                                            "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
                                            "S: B7 OK done\n"};
    CHECK(tag.run().error.code == errc::imap_tag_mismatch);

    session junk{test::with_token("u", "t"), "S: hello there\n"};
    CHECK(junk.run().error.code == errc::reply_malformed);

    session status{test::with_token("u", "t"), "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\n"
                                               "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
                                               "S: A1 MAYBE done\n"};
    CHECK(status.run().error.code == errc::reply_malformed);
}

TEST_CASE("imap: untagged lines and [ALERT] during the exchange are kept")
{
    session s{test::with_token("u", "t"), "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\n"
                                          "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
                                          "S: * OK [ALERT] Server maintenance at 22:00\n"
                                          "S: * 12 EXISTS\n"
                                          "S: A1 OK [ALERT] Your password expires soon\n"};
    const auto& o = s.run();
    CHECK(o.authenticated);
    CHECK(o.notices == "OK [ALERT] Server maintenance at 22:00\n12 EXISTS\nYour password expires soon");
}

TEST_CASE("imap: RFC 5530 response codes decide the verdict")
{
    struct row {
        const char* reply;
        verdict v;
    };
    for (const auto& r : {row{"A1 NO [UNAVAILABLE] Authentication backend down", verdict::temporary_failure},
                          row{"A1 NO [PRIVACYREQUIRED] Connection is not secure", verdict::tls_required},
                          row{"A1 NO [EXPIRED] Password expired", verdict::user_action_required},
                          row{"A1 NO [CONTACTADMIN] Ask your admin", verdict::user_action_required},
                          row{"A1 NO [AUTHENTICATIONFAILED] Authentication failed.", verdict::credentials_rejected},
                          row{"A1 BAD Invalid arguments", verdict::protocol_error}}) {
        session s{test::with_password("u", "pw"), std::string{"S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\n"
                                                              "C: A1 AUTHENTICATE PLAIN <base64>\n"
                                                              "S: "} + r.reply + "\n"};
        INFO(r.reply);
        CHECK(s.run().verdict == r.v);
    }
}

TEST_CASE("imap: undecodable challenge is cancelled with '*', Dovecot answers BAD")
{
    session s{test::with_token("u", "t"), "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\n"
                                          "C: A1 AUTHENTICATE XOAUTH2 <base64>\n"
                                          "S: + %%%\n"
                                          "C: *\n"
                                          "S: A1 BAD Authentication aborted by client.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.verdict == verdict::protocol_error);
    CHECK(o.error.code == errc::challenge_not_base64);
}

TEST_CASE("imap: tags are unique across commands and retries")
{
    session s{test::with_token("u", "t", mailauth::tls_mode::starttls),
              "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready\n"
              "C: A1 STARTTLS\n"
              "S: A1 OK go\n"
              "-- TLS --\n"
              "C: A2 CAPABILITY\n"
              "S: * CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\n"
              "S: A2 OK done\n"
              "C: A3 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: A3 NO [AUTHENTICATIONFAILED] no\n"
              "C: A4 AUTHENTICATE XOAUTH2 <base64>\n"
              "S: A4 OK yes\n"};
    const auto& o = s.run([](const mailauth::outcome&) { return std::optional<mailauth::secret>{"t2"}; });
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(s.machine.tag() == "A4");
}

TEST_CASE("imap: hang-up mid-exchange and over-long lines")
{
    session s{test::with_token("u", "t"), "S: * OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\n"
                                          "C: A1 AUTHENTICATE XOAUTH2\n"
                                          "-- CLOSE --\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::transport_error);
    CHECK(o.error.code == errc::connection_closed);

    session l{test::with_token("u", "t"), "S: * OK " + std::string(1 << 20, 'A') + "\n"};
    CHECK(l.run().error.code == errc::reply_line_too_long);
}

TEST_CASE("imap: a server that hides its logins until TLS asks for TLS, not for another mechanism")
{
    auto opts = test::with_token("alice@example.test", "t", mailauth::tls_mode::none);
    opts.policy.allow_plaintext = true;
    session s{std::move(opts), "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
                               "LOGINDISABLED] Dovecot ready.\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::tls_required);
    CHECK(o.error.code == errc::tls_required);
    CHECK(o.hint.find("only after STARTTLS") != std::string::npos);
}
