// The driver loop and the transport concepts; round trips at the protocol minimum.
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/proto/imap.hpp>
#include <mailauth/proto/pop3.hpp>
#include <mailauth/proto/smtp.hpp>
#include <mailauth/transport.hpp>

#include <deque>
#include <string>

namespace {

/// A plain (non-TLS) transport: the driver must refuse STARTTLS on it cleanly.
struct plain_only {
    std::deque<std::string> replies;
    std::string current;
    std::error_code write_line(std::string_view) { return {}; }
    std::error_code read_line(std::string_view& out)
    {
        if (replies.empty()) return make_error_code(mailauth::errc::connection_closed);
        current = replies.front();
        replies.pop_front();
        out = current;
        return {};
    }
};

} // namespace

static_assert(mailauth::line_transport<plain_only>);
static_assert(!mailauth::tls_transport<plain_only>);
static_assert(mailauth::tls_transport<mailauth::testing::scripted_transport>);
static_assert(mailauth::auth_machine<mailauth::smtp::client>);
static_assert(mailauth::auth_machine<mailauth::imap::client>);
static_assert(mailauth::auth_machine<mailauth::pop3::client>);

TEST_CASE("transport: STARTTLS on a transport without TLS ends with tls_required")
{
    plain_only t{{"220 mx", "250-mx", "250 STARTTLS", "220 go ahead"}, {}};
    mailauth::smtp::client m{test::with_token("u", "t", mailauth::tls_mode::starttls)};
    const auto& o = mailauth::authenticate(t, m);
    CHECK(o.verdict == mailauth::verdict::tls_required);
    CHECK(o.error.code == mailauth::errc::tls_unavailable);
}

TEST_CASE("transport: a refresher that declines leaves the first outcome")
{
    plain_only t{{"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi", "A1 NO [AUTHENTICATIONFAILED] no"}, {}};
    mailauth::imap::client m{test::with_token("u", "t")};
    int calls = 0;
    const auto& o = mailauth::authenticate(t, m, [&](const mailauth::outcome&) {
        ++calls;
        return std::optional<mailauth::secret>{};
    });
    CHECK(calls == 1);
    CHECK(o.verdict == mailauth::verdict::token_rejected);
    CHECK(o.attempts == 1);
}

TEST_CASE("round trips: the protocol minimum for each protocol")
{
    // IMAP with SASL-IR and greeting capabilities: 1.
    test::session<mailauth::imap::client> imap{test::with_token("u", "t"),
                                               "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\n"
                                               "C: A1 AUTHENTICATE XOAUTH2 <base64>\nS: A1 OK yes\n"};
    CHECK(imap.run().round_trips == 1);
    CHECK(imap.machine.outcome().total_round_trips == 1);
    // SMTP with an initial response that fits: 1 (plus EHLO).
    test::session<mailauth::smtp::client> smtp{test::with_token("u", "t"),
                                               "S: 220 hi\nC: EHLO client.example\nS: 250-hi\nS: 250 AUTH XOAUTH2\n"
                                               "C: AUTH XOAUTH2 <base64>\nS: 235 yes\n"};
    CHECK(smtp.run().round_trips == 1);
    // POP3 XOAUTH2: 2 (two-line form).
    test::session<mailauth::pop3::client> pop3{test::with_token("u", "t"),
                                               "S: +OK hi\nC: CAPA\nS: +OK\nS: SASL XOAUTH2\nS: .\n"
                                               "C: AUTH XOAUTH2\nS: +\nC: <base64>\nS: +OK yes\n"};
    CHECK(pop3.run().round_trips == 2);
    for (const auto* s : {&imap.server.mismatch(), &smtp.server.mismatch(), &pop3.server.mismatch()}) CHECK(*s == "");
}
