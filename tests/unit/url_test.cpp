// Tests for mailauth/detail/url.hpp: RFC 3986 percent-encoding, WHATWG form encoding, queries, endpoint URLs.
#include "catch_compat.hpp"

#include <mailauth/detail/url.hpp>

#include <string>
#include <string_view>

namespace url = mailauth::detail::url;
using mailauth::errc;
using namespace std::string_view_literals;

namespace {

std::string decoded(std::string_view in)
{
    std::string out;
    const auto e = url::form_decode(in, out);
    INFO(e.message());
    REQUIRE_FALSE(e);
    return out;
}

void check_decode_error(std::string_view in, std::size_t offset)
{
    std::string out = "stale";
    const auto e = url::form_decode(in, out);
    INFO("input: " << std::string(in));
    CHECK(e.code == make_error_code(errc::url_invalid));
    CHECK(e.offset == offset);
    CHECK(out.empty());
}

url::parts split_ok(std::string_view in)
{
    url::parts p;
    const auto e = url::split(in, p);
    INFO(std::string(in) << " -> " << e.message());
    REQUIRE_FALSE(e);
    return p;
}

void check_split_error(std::string_view in, std::size_t offset)
{
    url::parts p;
    const auto e = url::split(in, p);
    INFO("input: " << std::string(in) << " -> " << e.message());
    CHECK(e.code == make_error_code(errc::url_invalid));
    CHECK(e.offset == offset);
}

} // namespace

TEST_CASE("url: percent_encode keeps exactly the RFC 3986 unreserved set", "[url]")
{
    CHECK(url::percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(url::percent_encode("a b+c/d?e=f&g#h%") == "a%20b%2Bc%2Fd%3Fe%3Df%26g%23h%25");
    CHECK(url::percent_encode("*!'()") == "%2A%21%27%28%29");
    CHECK(url::percent_encode("\xC3\xA9\x00\xFF"sv) == "%C3%A9%00%FF");
    CHECK(url::percent_encoded_size("a b") == 5);
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        const std::string enc = url::percent_encode(std::string_view{&c, 1});
        CHECK(enc.size() == (url::is_unreserved(c) ? 1u : 3u));
    }
}

TEST_CASE("url: form encoding follows the WHATWG urlencoded serializer", "[url]")
{
    CHECK(url::form_encode("AZaz09*-._") == "AZaz09*-._");
    CHECK(url::form_encode("a b") == "a+b");
    CHECK(url::form_encode("~") == "%7E"); // unlike RFC 3986, '~' is encoded
    CHECK(url::form_encode("+&=%") == "%2B%26%3D%25");
    CHECK(url::form_encode("https://mail.google.com/") == "https%3A%2F%2Fmail.google.com%2F");
    CHECK(url::form_encode("\r\n\x01") == "%0D%0A%01");
    CHECK(url::form_encode("\xE2\x82\xAC") == "%E2%82%AC");
    const std::string all = [] {
        std::string s;
        for (int b = 0; b < 256; ++b) s += static_cast<char>(b);
        return s;
    }();
    const std::string enc = url::form_encode(all);
    CHECK(enc.size() == url::form_encoded_size(all));
    CHECK(decoded(enc) == all);
}

TEST_CASE("url: form_decode is strict about percent escapes", "[url]")
{
    CHECK(decoded("a+b%20c") == "a b c");
    CHECK(decoded("%7e%7E") == "~~");
    CHECK(decoded("") == "");
    CHECK(decoded("%00") == std::string(1, '\0'));
    check_decode_error("%", 0);
    check_decode_error("ab%4", 2);
    check_decode_error("%G1", 0);
    check_decode_error("%1G", 0);
    check_decode_error("x%%41", 1);
    std::string raw;
    REQUIRE_FALSE(url::percent_decode("a+b", raw, false));
    CHECK(raw == "a+b");
}

TEST_CASE("url: parse_query decodes pairs in order and reports offsets", "[url]")
{
    url::query_params q;
    REQUIRE_FALSE(url::parse_query("code=Splx%2FlOB&state=xyz&&empty=&flag&sp=a+b", q));
    REQUIRE(q.size() == 5);
    CHECK(q[0] == std::pair<std::string, std::string>{"code", "Splx/lOB"});
    CHECK(q[1] == std::pair<std::string, std::string>{"state", "xyz"});
    CHECK(q[2] == std::pair<std::string, std::string>{"empty", ""});
    CHECK(q[3] == std::pair<std::string, std::string>{"flag", ""});
    CHECK(q[4] == std::pair<std::string, std::string>{"sp", "a b"});
    CHECK(*url::find_param(q, "state") == "xyz");
    CHECK(url::find_param(q, "missing") == nullptr);
    CHECK(url::count_param(q, "code") == 1);

    REQUIRE_FALSE(url::parse_query("a=1&a=2", q));
    CHECK(url::count_param(q, "a") == 2);
    CHECK(*url::find_param(q, "a") == "1");

    REQUIRE_FALSE(url::parse_query("", q));
    CHECK(q.empty());

    const auto e = url::parse_query("a=1&b=%zz", q);
    CHECK(e.code == make_error_code(errc::url_invalid));
    CHECK(e.offset == 6);
    CHECK(q.empty());
    CHECK(url::parse_query("a%=1", q).offset == 1);
}

TEST_CASE("url: split accepts http(s) endpoints", "[url]")
{
    auto p = split_ok("https://oauth2.googleapis.com/token");
    CHECK(p.scheme == "https");
    CHECK(p.host == "oauth2.googleapis.com");
    CHECK(p.port == 443);
    CHECK_FALSE(p.explicit_port);
    CHECK(p.target == "/token");

    p = split_ok("HTTP://127.0.0.1:8080/callback?x=1");
    CHECK(p.scheme == "http");
    CHECK(p.host == "127.0.0.1");
    CHECK(p.port == 8080);
    CHECK(p.explicit_port);
    CHECK(p.target == "/callback?x=1");
    CHECK(p.path() == "/callback");
    CHECK(p.query() == "x=1");

    p = split_ok("https://login.microsoftonline.com/common/oauth2/v2.0/token");
    CHECK(p.target == "/common/oauth2/v2.0/token");

    p = split_ok("http://[::1]:9000/token");
    CHECK(p.host == "[::1]");
    CHECK(p.port == 9000);

    p = split_ok("https://[2001:db8::7]");
    CHECK(p.host == "[2001:db8::7]");
    CHECK(p.port == 443);
    CHECK(p.target == "/");

    p = split_ok("https://example.com?a=b");
    CHECK(p.target == "/?a=b");
    CHECK(p.query() == "a=b");

    p = split_ok("http://h:65535");
    CHECK(p.port == 65535);
}

TEST_CASE("url: split rejects what must not reach an HTTP request line", "[url]")
{
    check_split_error("ftp://example.com/token", 0);
    check_split_error("javascript:alert(1)", 0);
    check_split_error("example.com/token", 0);
    check_split_error("https://example.com/to ken", 22);
    check_split_error("https://example.com/token\r\nX-Injected: 1", 25);
    check_split_error("https://example.com/\ttoken", 20);
    check_split_error("https://exa\x01mple.com/", 11);
    check_split_error("https://example.com/\x7F", 20);
    check_split_error("https://ex\xC3\xA4mple.com/", 10);
    check_split_error("https://example.com/token#frag", 25);
    check_split_error("https://user:pw@example.com/token", 15);
    check_split_error("https:///token", 8);
    check_split_error("https://:443/token", 8);
    check_split_error("https://example.com:/token", 20);
    check_split_error("https://example.com:0/token", 20);
    check_split_error("https://example.com:65536/token", 20);
    check_split_error("https://example.com:123456/token", 20);
    check_split_error("https://example.com:8a/token", 21);
    check_split_error("https://[::1/token", 8);
    check_split_error("https://[zz::1]/token", 9);
    check_split_error("https://[1.2.3.4]/token", 9);
    check_split_error("https://[::1]x/token", 13);
    check_split_error("https://exa_mple.com:443:1/", 24);
}

TEST_CASE("url: append_query_param joins with ? or &", "[url]")
{
    std::string u = "https://a.example/auth";
    url::append_query_param(u, "scope", "openid email");
    CHECK(u == "https://a.example/auth?scope=openid+email");
    url::append_query_param(u, "x", "1&2");
    CHECK(u == "https://a.example/auth?scope=openid+email&x=1%262");
    std::string v = "https://a.example/auth?";
    url::append_query_param(v, "a", "b");
    CHECK(v == "https://a.example/auth?a=b");
    std::string w = "https://a.example/auth?tenant=x";
    url::append_query_param(w, "a", "b");
    CHECK(w == "https://a.example/auth?tenant=x&a=b");
}
