// Real exchanges recorded from Dovecot 2.3.19 (tests/integration/harness/transcripts) replayed offline:
// the machines must send the same lines the real server accepted and read its replies the same way.
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/proto/imap.hpp>
#include <mailauth/proto/smtp.hpp>

#include <fstream>
#include <string_view>
#include <utility>
#include <string>

#ifndef MAILAUTH_TRANSCRIPTS_DIR
#error "MAILAUTH_TRANSCRIPTS_DIR must name tests/integration/harness/transcripts"
#endif

using mailauth::verdict;

namespace {

/// The transcript as a script: "T: tls" becomes the TLS point (dropped when it opens an implicit-TLS
/// connection), "<token>" matches any base64 and "<password>" anything.
std::string load_script(const std::string& name)
{
    std::ifstream in{std::string{MAILAUTH_TRANSCRIPTS_DIR} + "/" + name + ".txt"};
    REQUIRE(in.good());
    std::string line, out;
    bool first = true;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line == "T: tls") {
            if (!first) out += "-- TLS --\n";
        } else {
            for (auto [from, to] : {std::pair{"<token>", "<base64>"}, std::pair{"<password>", "<any>"}})
                if (auto at = line.find(from); at != std::string::npos) line.replace(at, std::string_view{from}.size(), to);
            // The recording client sent the user name as an atom; mailauth sends a quoted string (both RFC 9051).
            if (line.rfind("C: A1 LOGIN ", 0) == 0) line = "C: A1 LOGIN \"alice@example.test\" <any>";
            out += line + "\n";
        }
        first = false;
    }
    return out;
}

mailauth::options opts(const std::string& name)
{
    const bool password = name.find("plain") != std::string::npos || name.find("login") != std::string::npos;
    auto o = password ? test::with_password("alice@example.test", "pw") : test::with_token("alice@example.test", "t");
    o.ehlo_name = "client.example.test";
    o.tls = name.rfind("imaps", 0) == 0 || name.rfind("smtps", 0) == 0 ? mailauth::tls_mode::implicit
            : name.find("starttls") != std::string::npos           ? mailauth::tls_mode::starttls
                                                                    : mailauth::tls_mode::none;
    o.policy.allow_plaintext = true;
    if (name.find("oauthbearer") != std::string::npos) o.policy.mechanisms = {"OAUTHBEARER"};
    if (name.find("_login_ok") != std::string::npos) o.policy.mechanisms = {"LOGIN"};
    if (name.find("login_command") != std::string::npos) o.policy.mechanisms = {"IMAP-LOGIN"};
    if (name.find("no_ir") != std::string::npos || name.find("two_line") != std::string::npos)
        o.policy.initial_response = mailauth::initial_response::never;
    return o;
}

template <class Machine>
void replay(const std::string& name, verdict expected)
{
    INFO(name);
    Machine m{opts(name)};
    mailauth::testing::scripted_transport server{mailauth::testing::script::parse(load_script(name))};
    const auto& o = mailauth::authenticate(server, m);
    CHECK(server.mismatch() == "");
    CHECK(o.verdict == expected);
    if (expected == verdict::token_rejected) {
        CHECK(o.has_oauth_error);
        CHECK((o.oauth_error.status == "401" || o.oauth_error.status == "invalid_token"));
    }
}

} // namespace

TEST_CASE("fixtures: IMAP exchanges recorded from Dovecot")
{
    for (const char* ok : {"imap_xoauth2_ok", "imap_xoauth2_ok_no_ir", "imap_oauthbearer_ok", "imap_oauthbearer_ok_no_ir",
                           "imaps_xoauth2_ok", "imaps_oauthbearer_ok", "imap_plain_ok", "imap_login_command_ok"})
        replay<mailauth::imap::client>(ok, verdict::authenticated);
    for (const char* bad : {"imap_xoauth2_expired", "imap_xoauth2_bad_signature", "imap_xoauth2_wrong_issuer",
                            "imap_xoauth2_wrong_user", "imap_oauthbearer_expired"})
        replay<mailauth::imap::client>(bad, verdict::token_rejected);
    replay<mailauth::imap::client>("imap_plain_referral", verdict::user_action_required); // RFC 2221
}

TEST_CASE("fixtures: SMTP exchanges recorded from Dovecot submission")
{
    for (const char* ok : {"smtp_xoauth2_ok", "smtp_xoauth2_ok_two_line", "smtp_oauthbearer_ok", "smtps_xoauth2_ok",
                           "smtps_oauthbearer_ok", "smtp_plain_ok", "smtp_login_ok", "smtp_starttls_xoauth2_ok"})
        replay<mailauth::smtp::client>(ok, verdict::authenticated);
    for (const char* bad : {"smtp_xoauth2_expired", "smtp_oauthbearer_expired"})
        replay<mailauth::smtp::client>(bad, verdict::token_rejected);
}
