// Reply grammars, capabilities and transcripts: the tolerant-reader rules of DESIGN.md.
#include "catch_compat.hpp"

#include <mailauth/proto/capabilities.hpp>
#include <mailauth/proto/reply.hpp>
#include <mailauth/transcript.hpp>

#include <string>

namespace d = mailauth::detail;

TEST_CASE("reply: SMTP lines, continuation and final, with and without text")
{
    d::smtp_line l;
    REQUIRE(d::parse_smtp_line("250-AUTH PLAIN", l));
    CHECK(l.code == 250);
    CHECK_FALSE(l.last);
    CHECK(l.text == "AUTH PLAIN");
    REQUIRE(d::parse_smtp_line("334", l));
    CHECK(l.last);
    CHECK(l.text.empty());
    REQUIRE(d::parse_smtp_line("334 ", l));
    CHECK(l.text.empty());
    CHECK_FALSE(d::parse_smtp_line("25", l));
    CHECK_FALSE(d::parse_smtp_line("250x", l));
    CHECK_FALSE(d::parse_smtp_line("199 too low", l));
    CHECK_FALSE(d::parse_smtp_line("600 too high", l));
    CHECK_FALSE(d::parse_smtp_line("2a0 letters", l));
    CHECK_FALSE(d::parse_smtp_line("", l));
}

TEST_CASE("reply: RFC 3463 enhanced status codes are split off")
{
    std::string_view t = "5.7.8 Authentication failed.";
    CHECK(d::take_enhanced_code(t) == "5.7.8");
    CHECK(t == "Authentication failed.");
    t = "5.7.139 Authentication unsuccessful";
    CHECK(d::take_enhanced_code(t) == "5.7.139");
    t = "2.7.0";
    CHECK(d::take_enhanced_code(t) == "2.7.0");
    CHECK(t.empty());
    for (std::string_view no : {"3.7.0 bad class", "5.7 short", "5..8 empty", "5.7.8x", "5.1234.1 too long", "hello"}) {
        auto copy = no;
        CHECK(d::take_enhanced_code(copy).empty());
        CHECK(copy == no);
    }
}

TEST_CASE("reply: bracketed response codes (RFC 5530, RFC 3206)")
{
    std::string_view t = "[AUTHENTICATIONFAILED] Authentication failed.";
    CHECK(d::take_response_code(t) == "AUTHENTICATIONFAILED");
    CHECK(t == "Authentication failed.");
    std::string_view args;
    t = "[CAPABILITY IMAP4rev1 IDLE] Logged in";
    CHECK(d::take_response_code(t, &args) == "CAPABILITY");
    CHECK(args == "IMAP4rev1 IDLE");
    t = "[SYS/TEMP] later";
    CHECK(d::take_response_code(t) == "SYS/TEMP");
    t = "[unclosed code";
    CHECK(d::take_response_code(t).empty());
    CHECK(t == "[unclosed code");
}

TEST_CASE("capabilities: case-insensitive lookups, mechanisms listed once, forgotten on clear")
{
    mailauth::capabilities c;
    CHECK_FALSE(c.known());
    c.add("STARTTLS");
    c.add("SASL-IR");
    c.add_mechanism("xoauth2");
    c.add_mechanism("XOAUTH2");
    c.add_mechanism("PLAIN");
    c.set_known();
    CHECK(c.words() == "STARTTLS SASL-IR");
    CHECK(c.mechanisms() == "XOAUTH2 PLAIN");
    CHECK(c.has("sasl-ir"));
    CHECK(c.offers("Xoauth2"));
    CHECK_FALSE(c.offers("XOAUTH"));
    CHECK_FALSE(c.has("SASL"));
    c.clear();
    CHECK_FALSE(c.known());
    CHECK_FALSE(c.has("STARTTLS"));
}

TEST_CASE("transcript: secrets are replaced from their offset on")
{
    mailauth::transcript t;
    t.add(mailauth::direction::client, "AUTH XOAUTH2 dXNlcj1...", 13);
    t.add(mailauth::direction::server, "235 ok");
    t.add(mailauth::direction::client, "PASS hunter2", 0);
    REQUIRE(t.size() == 3);
    CHECK(t[0].text == "AUTH XOAUTH2 <redacted>");
    CHECK(t[1].direction == mailauth::direction::server);
    CHECK(t[2].text == "<redacted>");
    CHECK(t.to_string() == "C: AUTH XOAUTH2 <redacted>\nS: 235 ok\nC: <redacted>\n");
    t.clear();
    CHECK(t.empty());
}
