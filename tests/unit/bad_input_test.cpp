// The bad-input table: each case ends with its specific error, nothing hangs, and the machine stays failed.
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/proto/imap.hpp>
#include <mailauth/proto/pop3.hpp>
#include <mailauth/proto/smtp.hpp>

#include <functional>
#include <string>
#include <variant>
#include <vector>

using mailauth::errc;
using std::string;

namespace {

enum class proto { smtp, imap, pop3 };

struct bad_case {
    const char* name;
    proto protocol;
    std::function<mailauth::options()> options;
    string script;
    errc expected;           ///< outcome.error.code (or oauth_error.json_error.code when `in_json`)
    bool in_json = false;    ///< the error is the decoded challenge's, the exchange itself ends cleanly
    bool tls_fails = false;  ///< the transport's TLS handshake fails
};

/// A scripted server whose TLS handshake breaks off (truncated TLS).
struct broken_tls : mailauth::testing::scripted_transport {
    using scripted_transport::scripted_transport;
    std::error_code start_tls() { return make_error_code(errc::tls_handshake_failed); }
};

mailauth::options token(string user = "u@example.com", string tok = "tok")
{
    return test::with_token(std::move(user), tok);
}
mailauth::options password(string user = "u", string pw = "pw") { return test::with_password(std::move(user), pw); }

const string smtp_auth = "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER\n";
const string imap_auth = "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] hi\n";
const string imap_no_ir = "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2] hi\n";
const string pop3_auth = "S: +OK hi\nC: CAPA\nS: +OK\nS: USER\nS: SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\nS: .\n";

string repeat(const string& line, int n)
{
    string s;
    for (int i = 0; i < n; ++i) s += line;
    return s;
}

string b64(const string& raw) { return mailauth::base64::encode(raw); }

std::vector<bad_case> table()
{
    const auto with = [](mailauth::options o, auto change) {
        change(o);
        return o;
    };
    const string nesting_bomb = "{\"status\":\"401\",\"x\":" + string(2000, '[') + string(2000, ']') + "}";
    const string huge_string = "{\"status\":\"" + string(100000, 'a') + "\"}";
    const string big_string = "{\"status\":\"" + string(9000, 'a') + "\"}";
    const string bad_utf8 = "{\"status\":\"401\",\"scope\":\"\xC3\x28\"}";
    return {
        // Injection in every caller field: refused before it reaches the wire.
        {"CR in user", proto::smtp, [] { return token("u\r@x"); }, smtp_auth, errc::invalid_user},
        {"LF in user", proto::imap, [] { return token("u\n@x"); }, imap_auth, errc::invalid_user},
        {"NUL in user", proto::pop3, [] { return token(string("u\0x", 3)); }, pop3_auth, errc::invalid_user},
        {"^A in user (XOAUTH2)", proto::smtp, [] { return token("u\x01x"); }, smtp_auth, errc::invalid_user},
        {"^A in user (OAUTHBEARER)", proto::imap,
         [&] { return with(token("u\x01x"), [](auto& o) { o.policy.mechanisms = {"OAUTHBEARER"}; }); }, imap_auth,
         errc::invalid_user},
        {"CR in token", proto::smtp, [] { return token("u", "t\r\nQUIT"); }, smtp_auth, errc::invalid_token},
        {"LF in token", proto::imap, [] { return token("u", "t\nA2 LOGOUT"); }, imap_auth, errc::invalid_token},
        {"NUL in token", proto::pop3, [] { return token("u", string("t\0", 2)); }, pop3_auth, errc::invalid_token},
        {"^A in token", proto::smtp, [] { return token("u", "t\x01" "auth=Bearer x"); }, smtp_auth, errc::invalid_token},
        {"CR in password (PLAIN)", proto::smtp, [] { return password("u", "p\r"); }, smtp_auth, errc::invalid_password},
        {"LF in password (LOGIN)", proto::smtp,
         [&] { return with(password("u", "p\n"), [](auto& o) { o.policy.mechanisms = {"LOGIN"}; }); }, smtp_auth,
         errc::invalid_password},
        {"NUL in password (PLAIN)", proto::imap, [] { return password("u", string("p\0q", 3)); }, imap_auth,
         errc::invalid_password},
        {"CR in password (IMAP LOGIN)", proto::imap, [] { return password("u", "p\rq"); },
         "S: * OK [CAPABILITY IMAP4rev1] hi\n", errc::invalid_password},
        {"LF in password (POP3 PASS)", proto::pop3, [] { return password("u", "p\nDELE 1"); },
         "S: +OK hi\nC: CAPA\nS: +OK\nS: USER\nS: .\n", errc::invalid_password},
        {"CR in user (POP3 USER)", proto::pop3, [] { return password("u\r", "p"); },
         "S: +OK hi\nC: CAPA\nS: +OK\nS: USER\nS: .\n", errc::invalid_user},
        {"CR in authzid", proto::smtp, [&] { return with(password(), [](auto& o) { o.authzid = "admin\r"; }); },
         smtp_auth, errc::invalid_authzid},
        {"NUL in authzid", proto::pop3,
         [&] { return with(password(), [](auto& o) { o.authzid = string("a\0b", 3); }); }, pop3_auth,
         errc::invalid_authzid},
        {"CR LF in EHLO name", proto::smtp, [&] { return with(token(), [](auto& o) { o.ehlo_name = "a\r\nRSET"; }); },
         "S: 220 mx\n", errc::invalid_ehlo_name},
        {"empty EHLO name", proto::smtp, [&] { return with(token(), [](auto& o) { o.ehlo_name.clear(); }); },
         "S: 220 mx\n", errc::invalid_ehlo_name},
        {"NUL in EHLO name", proto::smtp,
         [&] { return with(token(), [](auto& o) { o.ehlo_name = string("a\0b", 3); }); }, "S: 220 mx\n",
         errc::invalid_ehlo_name},
        {"unknown mechanism name", proto::imap,
         [&] { return with(token(), [](auto& o) { o.policy.mechanisms = {"CRAM-MD5"}; }); }, imap_auth,
         errc::invalid_mechanism_name},
        {"no credentials", proto::smtp, [] { return token("u", ""); }, smtp_auth, errc::no_credentials},

        // What servers send.
        {"1 MB SMTP line", proto::smtp, [] { return token(); }, "S: 220 " + string(1 << 20, 'x') + "\n",
         errc::reply_line_too_long},
        {"1 MB IMAP line", proto::imap, [] { return token(); }, "S: * OK " + string(1 << 20, 'x') + "\n",
         errc::reply_line_too_long},
        {"1 MB POP3 line", proto::pop3, [] { return token(); }, "S: +OK " + string(1 << 20, 'x') + "\n",
         errc::reply_line_too_long},
        {"endless EHLO reply", proto::smtp, [] { return token(); },
         "S: 220 mx\nC: EHLO client.example\n" + repeat("S: 250-X\n", 2000), errc::reply_too_many_lines},
        {"endless untagged lines", proto::imap, [] { return token(); },
         imap_auth + "C: A1 AUTHENTICATE XOAUTH2 <base64>\n" + repeat("S: * 1 EXISTS\n", 2000),
         errc::reply_too_many_lines},
        {"endless CAPA list", proto::pop3, [] { return token(); }, "S: +OK\nC: CAPA\nS: +OK\n" + repeat("S: X\n", 2000),
         errc::reply_too_many_lines},
        {"more continuations than XOAUTH2 has steps (SMTP)", proto::smtp, [] { return token(); },
         smtp_auth + "C: AUTH XOAUTH2 <base64>\n" + repeat("S: 334 e30=\nC: \n", 1) + repeat("S: 334 e30=\nC: *\n", 1) +
             "S: 501 aborted\n",
         errc::sasl_unexpected_challenge},
        {"more continuations than LOGIN has steps (IMAP)", proto::imap,
         [&] { return with(password(), [](auto& o) { o.policy.mechanisms = {"LOGIN"}; }); },
         "S: * OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi\nC: A1 AUTHENTICATE LOGIN\n" + repeat("S: + \nC: <any>\n", 2) +
             "S: + \nC: *\nS: A1 BAD aborted\n",
         errc::sasl_unexpected_challenge},
        {"continuation bound reached (POP3)", proto::pop3, [&] { return with(token(), [](auto& o) { o.policy.max_challenges = 0; }); },
         pop3_auth + "C: AUTH XOAUTH2\nS: + \nC: <base64>\nS: + e30=\nC: *\nS: -ERR aborted\n", errc::sasl_step_limit},
        {"SMTP challenge not base64", proto::smtp, [] { return token(); },
         smtp_auth + "C: AUTH XOAUTH2 <base64>\nS: 334 ***\nC: *\nS: 501 5.5.2 aborted\n", errc::challenge_not_base64},
        {"IMAP challenge with whitespace", proto::imap, [] { return token(); },
         imap_auth + "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: + e30 =\nC: *\nS: A1 BAD aborted\n",
         errc::challenge_not_base64},
        {"POP3 challenge badly padded", proto::pop3, [] { return token(); },
         pop3_auth + "C: AUTH XOAUTH2\nS: + \nC: <base64>\nS: + e30\nC: *\nS: -ERR aborted\n", errc::challenge_not_base64},
        {"JSON nesting bomb", proto::smtp, [] { return token(); },
         smtp_auth + "C: AUTH XOAUTH2 <base64>\nS: 334 " + b64(nesting_bomb) + "\nC: \nS: 535 5.7.8 no\n",
         errc::json_too_deep, true},
        {"JSON huge string", proto::imap, [] { return token(); },
         imap_auth + "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: + " + b64(big_string) + "\nC: \nS: A1 NO no\n",
         errc::json_too_large, true},
        {"challenge longer than a line may be", proto::imap, [] { return token(); },
         imap_auth + "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: + " + b64(huge_string) + "\n", errc::reply_line_too_long},
        {"JSON invalid UTF-8", proto::pop3, [] { return token(); },
         pop3_auth + "C: AUTH XOAUTH2\nS: + \nC: <base64>\nS: + " + b64(bad_utf8) + "\nC: \nS: -ERR [AUTH] no\n",
         errc::json_invalid_utf8, true},
        {"JSON not an object", proto::smtp, [] { return token(); },
         smtp_auth + "C: AUTH XOAUTH2 <base64>\nS: 334 " + b64("[401]") + "\nC: \nS: 535 5.7.8 no\n",
         errc::json_not_object, true},
        {"truncated TLS (SMTP)", proto::smtp, [] { return test::with_token("u", "t", mailauth::tls_mode::starttls); },
         "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go\n",
         errc::tls_handshake_failed, false, true},
        {"server closes mid-exchange (SMTP)", proto::smtp, [] { return token(); },
         smtp_auth + "C: AUTH XOAUTH2 <base64>\n-- CLOSE --\n", errc::connection_closed},
        {"server closes mid-exchange (IMAP)", proto::imap, [] { return token(); },
         imap_no_ir + "C: A1 AUTHENTICATE XOAUTH2\nS: +\nC: <base64>\n-- CLOSE --\n", errc::connection_closed},
        {"server closes mid-exchange (POP3)", proto::pop3, [] { return token(); },
         pop3_auth + "C: AUTH XOAUTH2\n-- CLOSE --\n", errc::connection_closed},
        {"server closes before greeting", proto::imap, [] { return token(); }, "-- CLOSE --\n", errc::connection_closed},
        {"SMTP code out of range (600)", proto::smtp, [] { return token(); }, "S: 600 what\n", errc::reply_malformed},
        {"SMTP code out of range (099)", proto::smtp, [] { return token(); }, "S: 099 what\n", errc::reply_malformed},
        {"SMTP multiline 334", proto::smtp, [] { return token(); },
         smtp_auth + "C: AUTH XOAUTH2 <base64>\nS: 334-e30=\n", errc::reply_malformed},
        {"SMTP codes differ within a reply", proto::smtp, [] { return token(); },
         "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 251 AUTH XOAUTH2\n", errc::reply_malformed},
        {"IMAP tag mismatch", proto::imap, [] { return token(); },
         imap_auth + "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: A9 OK done\n", errc::imap_tag_mismatch},
        {"IMAP continuation outside an exchange", proto::imap, [] { return token(); },
         "S: * OK hi\nC: A1 CAPABILITY\nS: + go on\n", errc::reply_unexpected},
        {"POP3 +OK where + was expected", proto::pop3, [] { return token(); },
         pop3_auth + "C: AUTH XOAUTH2\nS: +OK fine\n", errc::reply_unexpected},
        {"SMTP 235 before the deferred response", proto::smtp,
         [&] { return with(token(), [](auto& o) { o.policy.initial_response = mailauth::initial_response::never; }); },
         smtp_auth + "C: AUTH XOAUTH2\nS: 235 ok\n", errc::reply_unexpected},
        {"pipelined after STARTTLS (SMTP)", proto::smtp,
         [] { return test::with_token("u", "t", mailauth::tls_mode::starttls); },
         "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go\nS: 250 AUTH PLAIN\n-- TLS --\n",
         errc::pipelined_after_starttls},
        {"pipelined after STARTTLS (IMAP)", proto::imap,
         [] { return test::with_token("u", "t", mailauth::tls_mode::starttls); },
         "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi\nC: A1 STARTTLS\nS: A1 OK go\nS: * CAPABILITY AUTH=PLAIN\n-- TLS --\n",
         errc::pipelined_after_starttls},
        {"pipelined after STLS (POP3)", proto::pop3,
         [] { return test::with_token("u", "t", mailauth::tls_mode::starttls); },
         "S: +OK\nC: CAPA\nS: +OK\nS: STLS\nS: .\nC: STLS\nS: +OK go\nS: +OK injected\n-- TLS --\n",
         errc::pipelined_after_starttls},
        {"greeting refused (IMAP BYE)", proto::imap, [] { return token(); }, "S: * BYE go away\n", errc::server_refused},
        {"greeting refused (POP3 -ERR)", proto::pop3, [] { return token(); }, "S: -ERR go away\n", errc::server_refused},
        {"garbage greeting (IMAP)", proto::imap, [] { return token(); }, "S: \x01\x02\x03\n", errc::reply_malformed},
    };
}

template <class Machine, class Transport>
void check(const bad_case& c)
{
    Machine m{c.options()};
    Transport t{mailauth::testing::script::parse(c.script)};
    const auto& o = mailauth::authenticate(t, m);
    INFO(c.name << "\n" << o.transcript.to_string().substr(0, 2000) << "mismatch: " << t.mismatch());
    CHECK_FALSE(o.authenticated);
    if (c.in_json) {
        CHECK(o.has_oauth_error);
        CHECK(o.oauth_error.json_error.code == make_error_code(c.expected));
        CHECK(t.mismatch() == "");
    } else {
        CHECK(o.error.code == make_error_code(c.expected));
        CHECK(o.error.message().size() > 5);
    }
    // Sticky: a finished machine ignores further input and stays finished with the same outcome.
    const auto code = o.error.code;
    m.feed("235 2.7.0 Authenticated");
    m.feed("A1 OK welcome");
    m.tls_started();
    CHECK(std::holds_alternative<mailauth::finished>(m.next()));
    CHECK_FALSE(m.outcome().authenticated);
    CHECK(m.outcome().error.code == code);
}

template <class Machine>
void check_any(const bad_case& c)
{
    if (c.tls_fails) check<Machine, broken_tls>(c);
    else check<Machine, mailauth::testing::scripted_transport>(c);
}

} // namespace

TEST_CASE("bad input: every case gets its specific error and the machine stays failed")
{
    const auto cases = table();
    CHECK(cases.size() >= 40);
    for (const auto& c : cases) {
        switch (c.protocol) {
        case proto::smtp: check_any<mailauth::smtp::client>(c); break;
        case proto::imap: check_any<mailauth::imap::client>(c); break;
        case proto::pop3: check_any<mailauth::pop3::client>(c); break;
        }
    }
}

TEST_CASE("bad input: error messages never carry the credential")
{
    for (const auto& c : table()) {
        auto o = c.options();
        const string tok{o.token.reveal()};
        const string pw{o.password.reveal()};
        mailauth::smtp::client m{std::move(o)};
        mailauth::testing::scripted_transport t{mailauth::testing::script::parse(c.script)};
        const auto& out = mailauth::authenticate(t, m);
        const auto text = out.error.message() + out.hint + out.transcript.to_string();
        if (tok.size() > 3) CHECK(text.find(tok) == string::npos);
        if (pw.size() > 3) CHECK(text.find(pw) == string::npos);
    }
}
