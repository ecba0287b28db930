// Byte-exact tests of the four SASL mechanisms (RFC 4616, RFC 7628, Microsoft's XOAUTH2 document).
#include "catch_compat.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/sasl/login.hpp>
#include <mailauth/sasl/oauthbearer.hpp>
#include <mailauth/sasl/plain.hpp>
#include <mailauth/sasl/xoauth2.hpp>

#include <string>

using namespace std::string_literals;
using mailauth::errc;
using mailauth::secret;
namespace sasl = mailauth::sasl;

static_assert(sasl::client_mechanism<sasl::xoauth2>);
static_assert(sasl::client_mechanism<sasl::oauthbearer>);
static_assert(sasl::client_mechanism<sasl::plain>);
static_assert(sasl::client_mechanism<sasl::login>);

TEST_CASE("xoauth2: Microsoft's documented vector matches byte for byte")
{
    const secret token{"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"};
    sasl::xoauth2 m{"test@contoso.onmicrosoft.com", token};
    std::string out;
    const auto r = m.start(out);
    REQUIRE(r.what == sasl::status::respond);
    CHECK(r.secret);
    CHECK(out == "user=test@contoso.onmicrosoft.com\x01" "auth=Bearer EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA\x01\x01");
    CHECK(mailauth::base64::encode(out) ==
          "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVy"
          "IEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==");
}

TEST_CASE("xoauth2: the exchange sample of Microsoft's document")
{
    const secret token{"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"};
    sasl::xoauth2 m{"someuser@example.com", token};
    std::string out;
    REQUIRE(m.start(out).what == sasl::status::respond);
    CHECK(mailauth::base64::encode(out) ==
          "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

TEST_CASE("xoauth2: the error challenge is decoded and answered with an empty response")
{
    const secret token{"t"};
    sasl::xoauth2 m{"u@example.com", token};
    std::string out;
    REQUIRE(m.start(out).what == sasl::status::respond);
    CHECK(m.server_error() == nullptr);
    const auto r = m.step("{\"status\":\"401\",\"schemes\":\"bearer mac\",\"scope\":\"https://mail.google.com/\"}\n", out);
    CHECK(r.what == sasl::status::respond);
    CHECK_FALSE(r.secret);
    CHECK(out.empty());
    REQUIRE(m.server_error() != nullptr);
    CHECK(m.server_error()->status == "401");
    CHECK(m.server_error()->schemes == "bearer mac");
    CHECK(m.server_error()->scope == "https://mail.google.com/");
    CHECK_FALSE(m.server_error()->json_error);
    SECTION("a second challenge is refused")
    {
        const auto again = m.step("{}", out);
        CHECK(again.what == sasl::status::fail);
        CHECK(again.error.code == errc::sasl_unexpected_challenge);
    }
}

TEST_CASE("xoauth2: Dovecot's error with openid-configuration and unknown keys")
{
    const secret token{"t"};
    sasl::xoauth2 m{"u", token};
    std::string out;
    m.start(out);
    m.step(R"({"status":"401","schemes":"bearer","scope":"mail","openid-configuration":"https:\/\/idp.example\/.well-known\/openid-configuration","x":[1,{"y":null}]})",
           out);
    REQUIRE(m.server_error() != nullptr);
    CHECK(m.server_error()->openid_configuration == "https://idp.example/.well-known/openid-configuration");
    CHECK(m.server_error()->scope == "mail");
}

TEST_CASE("xoauth2: a challenge that is not JSON is still answered, and the JSON error kept")
{
    const secret token{"t"};
    sasl::xoauth2 m{"u", token};
    std::string out;
    m.start(out);
    const auto r = m.step("{oops", out);
    CHECK(r.what == sasl::status::respond);
    REQUIRE(m.server_error() != nullptr);
    CHECK(m.server_error()->json_error.code == errc::json_syntax);
    CHECK(m.server_error()->raw == "{oops");
}

TEST_CASE("xoauth2: user names pass through; CR, LF, NUL and ^A are refused")
{
    const secret token{"tok"};
    std::string out;
    for (const auto* user : {"CONTOSO\\jdoe", "shared@contoso.com", "j\xC3\xBCrgen@example.de"}) {
        sasl::xoauth2 m{user, token};
        REQUIRE(m.start(out).what == sasl::status::respond);
        CHECK(out.find(user) == 5);
    }
    struct bad {
        std::string user;
        std::string tok;
        errc code;
        std::size_t offset;
        int byte;
    };
    for (const auto& b : {bad{"a\rb", "t", errc::invalid_user, 1, 0x0D}, bad{"ab\n", "t", errc::invalid_user, 2, 0x0A},
                          bad{"a\0b"s, "t", errc::invalid_user, 1, 0}, bad{"\x01", "t", errc::invalid_user, 0, 1},
                          bad{"u", "t\r\nQUIT", errc::invalid_token, 1, 0x0D},
                          bad{"u", "t\x01" "auth=Bearer x", errc::invalid_token, 1, 1}}) {
        const secret t{b.tok};
        sasl::xoauth2 m{b.user, t};
        const auto r = m.start(out);
        CHECK(r.what == sasl::status::fail);
        CHECK(r.error.code == b.code);
        CHECK(r.error.offset == b.offset);
        CHECK(r.error.byte == b.byte);
        CHECK(out.empty());
    }
    const secret empty;
    sasl::xoauth2 m{"u", empty};
    CHECK(m.start(out).error.code == errc::no_credentials);
}

TEST_CASE("oauthbearer: RFC 7628 §4.1 message with host and port")
{
    const secret token{"vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="};
    sasl::oauthbearer m{"user@example.com", token, "server.example.com", 143};
    std::string out;
    const auto r = m.start(out);
    REQUIRE(r.what == sasl::status::respond);
    CHECK(r.secret);
    CHECK(out == "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                 "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
    // RFC 7628 §4.1 shows this initial client response in base64:
    CHECK(mailauth::base64::encode(out) ==
          "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
}

TEST_CASE("oauthbearer: without host and port, and GS2 escaping of ',' and '=' (RFC 5801)")
{
    const secret token{"T"};
    std::string out;
    sasl::oauthbearer m{"a,b=c@example.com", token};
    REQUIRE(m.start(out).what == sasl::status::respond);
    CHECK(out == "n,a=a=2Cb=3Dc@example.com,\x01" "auth=Bearer T\x01\x01");
    sasl::oauthbearer anon{"", token};
    REQUIRE(anon.start(out).what == sasl::status::respond);
    CHECK(out == "n,,\x01" "auth=Bearer T\x01\x01");
}

TEST_CASE("oauthbearer: the error challenge (RFC 7628 §3.2.2) is answered with ^A")
{
    const secret token{"T"};
    sasl::oauthbearer m{"u", token, "h", 993};
    std::string out;
    m.start(out);
    const auto r = m.step(R"({"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"})", out);
    CHECK(r.what == sasl::status::respond);
    CHECK_FALSE(r.secret);
    CHECK(out == "\x01");
    CHECK(mailauth::base64::encode(out) == "AQ==");
    REQUIRE(m.server_error() != nullptr);
    CHECK(m.server_error()->status == "invalid_token");
    CHECK(m.server_error()->scope == "example_scope");
    CHECK(m.step("x", out).what == sasl::status::fail);
}

TEST_CASE("oauthbearer: injection in user, host or token is refused")
{
    const secret token{"T"};
    const secret bad_token{"T\x01"};
    std::string out;
    CHECK(sasl::oauthbearer{"u\n", token}.start(out).error.code == errc::invalid_user);
    CHECK(sasl::oauthbearer{"u", token, "h\x01x"}.start(out).error.code == errc::invalid_host);
    CHECK(sasl::oauthbearer{"u", bad_token}.start(out).error.code == errc::invalid_token);
}

TEST_CASE("plain: RFC 4616 messages with and without authzid")
{
    const secret pass{"tanstaaftanstaaf"};
    std::string out;
    sasl::plain m{"tim", pass};
    const auto r = m.start(out);
    REQUIRE(r.what == sasl::status::respond);
    CHECK(r.secret);
    CHECK(out == "\0tim\0tanstaaftanstaaf"s);
    // RFC 4954 §4 example: AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q= is "test\0test\0test".
    const secret test{"test"};
    sasl::plain z{"test", test, "test"};
    REQUIRE(z.start(out).what == sasl::status::respond);
    CHECK(mailauth::base64::encode(out) == "dGVzdAB0ZXN0AHRlc3Q=");
    CHECK(z.step("", out).error.code == errc::sasl_unexpected_challenge);
}

TEST_CASE("plain: NUL, CR and LF refused in every field; ^A and UTF-8 pass")
{
    const secret pass{"p\x01\xC3\xA9"};
    const secret nul{"p\0q"s};
    std::string out;
    CHECK(sasl::plain{"u", pass}.start(out).what == sasl::status::respond);
    CHECK(sasl::plain{"u", nul}.start(out).error.code == errc::invalid_password);
    CHECK(sasl::plain{"u\r", pass}.start(out).error.code == errc::invalid_user);
    CHECK(sasl::plain{"u", pass, "admin\n"}.start(out).error.code == errc::invalid_authzid);
    CHECK(sasl::plain{"", pass}.start(out).error.code == errc::invalid_user);
}

TEST_CASE("login: user name, then password, whatever the prompts say")
{
    const secret pass{"secret-pw"};
    sasl::login m{"jdoe", pass};
    std::string out;
    CHECK(m.start(out).what == sasl::status::wait);
    auto r = m.step("Password:", out); // a server with swapped prompts still gets the right order
    CHECK(r.what == sasl::status::respond);
    CHECK_FALSE(r.secret);
    CHECK(out == "jdoe");
    r = m.step("Username:", out);
    CHECK(r.secret);
    CHECK(out == "secret-pw");
    CHECK(m.step("", out).error.code == errc::sasl_unexpected_challenge);
    CHECK(sasl::login{"j\ndoe", pass}.start(out).error.code == errc::invalid_user);
}
