// POP3 machine: transcript tests with exact bytes, outcomes and round trips (RFC 5034, RFC 3206, Microsoft 365, Dovecot, Gmail).
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/proto/pop3.hpp>

#include <optional>
#include <string>

using mailauth::errc;
using mailauth::verdict;
using session = test::session<mailauth::pop3::client>;

namespace {

const std::string dovecot_capa = "S: +OK Dovecot (Debian) ready.\n"
                                 "C: CAPA\n"
                                 "S: +OK\n"
                                 "S: CAPA\n"
                                 "S: TOP\n"
                                 "S: UIDL\n"
                                 "S: RESP-CODES\n"
                                 "S: PIPELINING\n"
                                 "S: AUTH-RESP-CODE\n"
                                 "S: USER\n"
                                 "S: SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\n"
                                 "S: .\n";

} // namespace

TEST_CASE("pop3: XOAUTH2 goes out in two lines by default (Microsoft 365, seed 003), two round trips")
{
    session s{test::with_token("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
              "S: +OK The Microsoft Exchange POP3 service is ready. [UwBOADQAUABSADAANQAwADEAQwBBADAAMAAwADMALgBuAGEAbQBwAHIAZAAwADUALgBwAHIAbwBkAC4AbwB1AHQAbABvAG8AawAuAGMAbwBtAA==]\n"
              "C: CAPA\n"
              "S: +OK\n"
              "S: TOP\n"
              "S: UIDL\n"
              "S: SASL PLAIN XOAUTH2\n"
              "S: USER\n"
              "S: .\n"
              "C: AUTH XOAUTH2\n"
              "S: +\n"
              "C: dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\n"
              "S: +OK User successfully authenticated.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.done());
    CHECK(o.authenticated);
    CHECK(o.round_trips == 2);
    CHECK(o.total_round_trips == 3);
    CHECK(o.reply.status == "+OK");
    CHECK(o.reply.text == "User successfully authenticated.");
}

TEST_CASE("pop3: Microsoft 365 refusal of the token")
{
    session s{test::with_token("u@contoso.com", "tok"),
              "S: +OK ready\nC: CAPA\nS: +OK\nS: SASL PLAIN XOAUTH2\nS: .\n"
              "C: AUTH XOAUTH2\nS: +\nC: <base64>\n"
              "S: -ERR Authentication failure: unknown user name or bad password.\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::token_rejected);
    CHECK(o.reply.status == "-ERR");
}

TEST_CASE("pop3: Microsoft 365 'Protocol error' to an inline XOAUTH2 asks for the two-line form")
{
    auto opts = test::with_token("u@contoso.com", "tok");
    opts.policy.initial_response = mailauth::initial_response::always;
    session s{std::move(opts), "S: +OK ready\nC: CAPA\nS: +OK\nS: SASL PLAIN XOAUTH2\nS: .\n"
                               "C: AUTH XOAUTH2 <base64>\n"
                               "S: -ERR Protocol error. Connection is closed. 10\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.verdict == verdict::retry_without_initial_response);
    CHECK(o.hint.find("two-line") != std::string::npos);
}

TEST_CASE("pop3: RFC 5034 §4 PLAIN examples, two-line and inline")
{
    auto opts = test::with_password("test", "test");
    opts.authzid = "test";
    opts.policy.initial_response = mailauth::initial_response::never;
    session s{opts, "S: +OK POP3 server ready\nC: CAPA\nS: -ERR unknown command\n"
                    "C: USER test\nS: +OK\nC: PASS test\nS: +OK Maildrop locked and ready\n"};
    // Without CAPA the server's SASL list is unknown: USER/PASS is what every server has.
    CHECK(s.run().authenticated);
    CHECK(s.machine.outcome().mechanism == "USER-PASS");
    CHECK(s.server.mismatch() == "");

    session two{opts, "S: +OK POP3 server ready\nC: CAPA\nS: +OK\nS: SASL PLAIN\nS: .\n"
                      "C: AUTH PLAIN\nS: + \nC: dGVzdAB0ZXN0AHRlc3Q=\nS: +OK Maildrop locked and ready\n"};
    CHECK(two.run().authenticated);
    CHECK(two.server.mismatch() == "");

    opts.policy.initial_response = mailauth::initial_response::automatic;
    session one{opts, "S: +OK POP3 server ready\nC: CAPA\nS: +OK\nS: SASL PLAIN\nS: .\n"
                      "C: AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\nS: +OK Maildrop locked and ready\n"};
    CHECK(one.run().authenticated);
    CHECK(one.server.mismatch() == "");
    CHECK(one.machine.outcome().round_trips == 1);
}

TEST_CASE("pop3: Dovecot error challenges are answered, -ERR [AUTH] read, connection still usable")
{
    session s{test::with_token("alice@example.test", "expired"),
              dovecot_capa + "C: AUTH XOAUTH2\n"
                             "S: + \n"
                             "C: " + test::xoauth2_b64("alice@example.test", "expired") + "\n"
                             "S: + " + std::string{test::dovecot_xoauth2_error} + "\n"
                             "C: \n"
                             "S: -ERR [AUTH] Authentication failed.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(s.server.done());
    CHECK(o.verdict == verdict::token_rejected);
    CHECK(o.reply.response_code == "AUTH");
    CHECK(o.reply.response_args.empty());
    CHECK(o.reply.text == "Authentication failed.");
    CHECK(o.oauth_error.status == "401");
    CHECK(o.round_trips == 3);

    auto opts = test::with_token("alice@example.test", "expired");
    opts.policy.mechanisms = {"OAUTHBEARER"};
    session b{std::move(opts), dovecot_capa + "C: AUTH OAUTHBEARER <base64>\n"
                                              "S: + " + std::string{test::oauthbearer_invalid_token} + "\n"
                                              "C: AQ==\n"
                                              "S: -ERR [AUTH] Authentication failed.\n"};
    const auto& ob = b.run();
    CHECK(b.server.mismatch() == "");
    CHECK(ob.oauth_error.status == "invalid_token");
}

TEST_CASE("pop3: Gmail's POP3 error JSON (status 400, schemes Bearer)")
{
    session s{test::with_token("u@gmail.com", "expired"),
              "S: +OK Gpop ready for requests from 192.0.2.1\nC: CAPA\nS: +OK Capability list follows\nS: USER\n"
              "S: RESP-CODES\nS: EXPIRE 0\nS: LOGIN-DELAY 300\nS: TOP\nS: UIDL\nS: X-GOOGLE-RICO\nS: SASL PLAIN XOAUTH2 OAUTHBEARER\nS: .\n"
              "C: AUTH XOAUTH2\nS: +\nC: <base64>\n"
              "S: + " + std::string{test::gmail_pop3_error} + "\nC: \n"
              "S: -ERR [AUTH] Invalid credentials.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.oauth_error.status == "400");
    CHECK(o.oauth_error.schemes == "Bearer");
    CHECK(o.verdict == verdict::token_rejected);
}

TEST_CASE("pop3: STLS, then CAPA again")
{
    session s{test::with_token("u", "t", mailauth::tls_mode::starttls),
              "S: +OK ready <1896.697170952@dbc.mtview.ca.us>\n"
              "C: CAPA\nS: +OK\nS: STLS\nS: USER\nS: SASL\nS: .\n"
              "C: STLS\nS: +OK Begin TLS negotiation\n-- TLS --\n"
              "C: CAPA\nS: +OK\nS: USER\nS: SASL PLAIN XOAUTH2\nS: .\n"
              "C: AUTH XOAUTH2\nS: + \nC: <base64>\nS: +OK Logged in.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.authenticated);
    CHECK(o.tls);
    CHECK(o.apop_timestamp == "<1896.697170952@dbc.mtview.ca.us>");
    CHECK_FALSE(o.capabilities.has("STLS"));
}

TEST_CASE("pop3: USER/PASS fallback; the password is redacted")
{
    session s{test::with_password("jdoe", "MARKER-PW"),
              "S: +OK ready\nC: CAPA\nS: +OK\nS: USER\nS: .\n"
              "C: USER jdoe\nS: +OK\nC: PASS MARKER-PW\nS: -ERR [AUTH] Authentication failed.\n"};
    const auto& o = s.run();
    CHECK(s.server.mismatch() == "");
    CHECK(o.verdict == verdict::credentials_rejected);
    CHECK(o.mechanism == "USER-PASS");
    CHECK(o.round_trips == 2);
    CHECK(o.transcript.to_string().find("MARKER-PW") == std::string::npos);
    CHECK(o.transcript.to_string().find("C: PASS <redacted>") != std::string::npos);
}

TEST_CASE("pop3: RFC 3206 codes decide the verdict")
{
    struct row {
        const char* reply;
        verdict v;
    };
    for (const auto& r : {row{"-ERR [SYS/TEMP] Try again later", verdict::temporary_failure},
                          row{"-ERR [IN-USE] Mailbox locked", verdict::temporary_failure},
                          row{"-ERR [SYS/PERM] Account disabled", verdict::user_action_required},
                          row{"-ERR [AUTH] Plaintext authentication disabled.", verdict::tls_required}}) {
        session s{test::with_password("u", "pw"), std::string{"S: +OK\nC: CAPA\nS: +OK\nS: SASL PLAIN\nS: .\n"
                                                              "C: AUTH PLAIN <base64>\nS: "} + r.reply + "\n"};
        INFO(r.reply);
        CHECK(s.run().verdict == r.v);
    }
}

TEST_CASE("pop3: '+OK' where a continuation was expected is a server protocol error")
{
    session s{test::with_token("u", "t"), "S: +OK\nC: CAPA\nS: +OK\nS: SASL XOAUTH2\nS: .\n"
                                          "C: AUTH XOAUTH2\nS: +OK welcome\n"};
    const auto& o = s.run();
    CHECK(o.verdict == verdict::protocol_error);
    CHECK(o.error.code == errc::reply_unexpected);
    CHECK_FALSE(o.authenticated);
}

TEST_CASE("pop3: greeting refusal, hang-up, malformed and endless CAPA")
{
    session r{test::with_token("u", "t"), "S: -ERR [SYS/TEMP] busy\n"};
    CHECK(r.run().error.code == errc::server_refused);

    session h{test::with_token("u", "t"), "S: +OK\nC: CAPA\nS: +OK\nS: SASL XOAUTH2\nS: .\nC: AUTH XOAUTH2\n-- CLOSE --\n"};
    CHECK(h.run().error.code == errc::connection_closed);

    session m{test::with_token("u", "t"), "S: OK ready\n"};
    CHECK(m.run().error.code == errc::reply_malformed);

    std::string endless = "S: +OK\nC: CAPA\nS: +OK\n";
    for (int i = 0; i < 1000; ++i) endless += "S: X-CAP-" + std::to_string(i) + "\n";
    session e{test::with_token("u", "t"), endless};
    CHECK(e.run().error.code == errc::reply_too_many_lines);
}
