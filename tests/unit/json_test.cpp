// Tests for mailauth/detail/json.hpp: the strict JSON reader behind error challenges and token responses.
#include "catch_compat.hpp"

#include <mailauth/detail/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace json = mailauth::detail::json;
using mailauth::errc;
using namespace std::string_view_literals;

namespace {

json::object parse_ok(std::string_view in, const json::limits& lim = {})
{
    json::object o;
    const auto e = json::parse_object(in, o, lim);
    INFO(e.message());
    REQUIRE_FALSE(e);
    return o;
}

/// Parses `in`, expects failure with `code` at `offset` (and `byte` unless -2), and an emptied object.
void check_error(std::string_view in, errc code, std::size_t offset, int byte = -2, const json::limits& lim = {})
{
    json::object o = parse_ok(R"({"keep":"me"})");
    const auto e = json::parse_object(in, o, lim);
    INFO("input: " << std::string(in.substr(0, 80)) << " -> " << (e ? e.message() : "no error"));
    CHECK(e.code == make_error_code(code));
    CHECK(e.offset == offset);
    if (byte != -2) CHECK(e.byte == byte);
    CHECK(o.members().empty());
}

std::string string_member(std::string_view in)
{
    const auto o = parse_ok(in);
    REQUIRE(o.size() == 1);
    REQUIRE(o.members()[0].second.type == json::kind::string);
    return o.members()[0].second.text;
}

} // namespace

TEST_CASE("json: Gmail XOAUTH2 error challenge, with and without trailing newline")
{
    for (std::string_view in : {R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})"sv,
                                "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}\n"sv,
                                "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}\r\n"sv}) {
        const auto o = parse_ok(in);
        REQUIRE(o.size() == 3);
        CHECK(o.members()[0].first == "status");
        CHECK(o.members()[1].first == "schemes");
        CHECK(o.members()[2].first == "scope");
        CHECK(o.get_string("status") == "401"sv);
        CHECK(o.get_string("schemes") == "bearer"sv);
        CHECK(o.get_string("scope") == "https://mail.google.com/"sv);
        CHECK(o.get_uint("status") == 401u);
        CHECK_FALSE(o.get_string("openid-configuration"));
        CHECK(o.find("Status") == nullptr);
    }
}

TEST_CASE("json: Dovecot error challenges with escaped slashes and unknown keys")
{
    const auto x = parse_ok(
        "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\","
        "\"openid-configuration\":\"https:\\/\\/idp.example.com\\/.well-known\\/openid-configuration\"}\n");
    CHECK(x.get_string("scope") == "mail"sv);
    CHECK(x.get_string("openid-configuration") == "https://idp.example.com/.well-known/openid-configuration"sv);

    const auto b = parse_ok("{\"status\":\"invalid_token\",\"scope\":\"mail\"}\r\n");
    CHECK(b.get_string("status") == "invalid_token"sv);
    CHECK_FALSE(b.get_uint("status"));
    CHECK_FALSE(b.find("schemes"));

    const auto u = parse_ok(R"({"status":"401","x-extra":{"a":[1,2,{"b":null}],"c":true},"schemes":"bearer","n":null})");
    REQUIRE(u.size() == 4);
    CHECK(u.get_string("schemes") == "bearer"sv);
    const json::value* extra = u.find("x-extra");
    REQUIRE(extra);
    CHECK(extra->type == json::kind::object);
    CHECK(extra->text == R"({"a":[1,2,{"b":null}],"c":true})");
    CHECK(u.find("n")->type == json::kind::null);
    CHECK(u.find("n")->text.empty());
}

TEST_CASE("json: Microsoft token endpoint error response")
{
    const auto o = parse_ok(
        "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided.\\r\\n"
        "Trace ID: 0f6e\\r\\nCorrelation ID: 2b5c\\r\\nTimestamp: 2024-05-01 10:00:00Z\","
        "\"error_codes\":[7000215],\"timestamp\":\"2024-05-01 10:00:00Z\",\"trace_id\":\"0f6e\","
        "\"correlation_id\":\"2b5c\",\"error_uri\":\"https://login.microsoftonline.com/error?code=7000215\"}");
    CHECK(o.get_string("error") == "invalid_client"sv);
    CHECK(o.get_string("error_description") ==
          "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f6e\r\nCorrelation ID: 2b5c\r\nTimestamp: 2024-05-01 10:00:00Z"sv);
    const json::value* codes = o.find("error_codes");
    REQUIRE(codes);
    CHECK(codes->type == json::kind::array);
    CHECK(codes->text == "[7000215]");
    std::vector<std::uint64_t> v;
    REQUIRE_FALSE(json::parse_uint_array(codes->text, v));
    CHECK(v == std::vector<std::uint64_t>{7000215});
    CHECK_FALSE(o.get_string("error_codes"));
    CHECK_FALSE(o.get_uint("error_codes"));
}

TEST_CASE("json: token responses with expires_in as number and as string")
{
    const auto g = parse_ok(R"({
  "access_token": "ya29.a0AfH6SMBx",
  "expires_in": 3599,
  "refresh_token": "1//0gLx",
  "scope": "https://mail.google.com/",
  "token_type": "Bearer"
})"
                            "\n");
    CHECK(g.get_string("access_token") == "ya29.a0AfH6SMBx"sv);
    CHECK(g.find("expires_in")->type == json::kind::number);
    CHECK(g.find("expires_in")->text == "3599");
    CHECK(g.get_uint("expires_in") == 3599u);
    CHECK(g.get_string("token_type") == "Bearer"sv);
    CHECK_FALSE(g.get_string("expires_in"));

    const auto m = parse_ok(R"({"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600",)"
                            R"("expires_on":"1700003600","access_token":"eyJ0eXAi.eyJhdWQi.c2ln"})");
    CHECK(m.find("expires_in")->type == json::kind::string);
    CHECK(m.get_uint("expires_in") == 3600u);
    CHECK(m.get_uint("expires_on") == 1700003600u);
    CHECK(m.get_string("access_token") == "eyJ0eXAi.eyJhdWQi.c2ln"sv);
    CHECK_FALSE(m.get_uint("refresh_token"));
}

TEST_CASE("json: value kinds and raw texts")
{
    const auto o = parse_ok(R"({ "s" : "x" , "n" : -1.5e+3 , "t" : true , "f" : false , "z" : null ,)"
                            R"( "o" : { "k" : [ 1 , 2 ] } , "a" : [ ] , "e" : "" , "eo" : {} })");
    REQUIRE(o.size() == 9);
    CHECK(o.find("s")->type == json::kind::string);
    CHECK(o.find("n")->type == json::kind::number);
    CHECK(o.find("n")->text == "-1.5e+3");
    CHECK(o.find("t")->type == json::kind::boolean);
    CHECK(o.find("t")->text == "true");
    CHECK(o.find("f")->type == json::kind::boolean);
    CHECK(o.find("f")->text == "false");
    CHECK(o.find("z")->type == json::kind::null);
    CHECK(o.find("z")->text.empty());
    CHECK(o.find("o")->type == json::kind::object);
    CHECK(o.find("o")->text == R"({ "k" : [ 1 , 2 ] })");
    CHECK(o.find("a")->type == json::kind::array);
    CHECK(o.find("a")->text == "[ ]");
    CHECK(o.get_string("e") == ""sv);
    CHECK(o.find("eo")->text == "{}");
    CHECK_FALSE(o.get_string("t"));
    CHECK_FALSE(o.get_string("z"));

    const auto nums = parse_ok(R"({"a":0,"b":-0,"c":0.0,"d":1E9,"e":1e-9,"f":123456789012345678901234567890})");
    CHECK(nums.find("b")->text == "-0");
    CHECK(nums.find("d")->text == "1E9");
    CHECK(nums.find("f")->text == "123456789012345678901234567890");

    CHECK(parse_ok("{}").empty());
    CHECK(parse_ok(" \t\r\n{ \t\r\n} \t\r\n").empty());
    const auto same = parse_ok(R"({"a":1,"A":2})");
    CHECK(same.get_uint("a") == 1u);
    CHECK(same.get_uint("A") == 2u);
    // Only top-level keys must be unique.
    CHECK(parse_ok(R"({"a":{"x":1,"x":2}})").find("a")->text == R"({"x":1,"x":2})");
}

TEST_CASE("json: get_uint edge cases")
{
    const auto o = parse_ok(R"({"max":18446744073709551615,"over":18446744073709551616,"huge":99999999999999999999,)"
                            R"("smax":"18446744073709551615","sover":"18446744073709551616","zero":0,"szero":"0",)"
                            R"("frac":1.5,"sfrac":"1.5","neg":-1,"sneg":"-1","exp":1e3,"sexp":"1e3","negz":-0,)"
                            R"("empty":"","space":" 1","plus":"+1","t":true,"z":null,"obj":{},"arr":[1],"lead":"007"})");
    CHECK(o.get_uint("max") == UINT64_MAX);
    CHECK(o.get_uint("smax") == UINT64_MAX);
    CHECK(o.get_uint("zero") == 0u);
    CHECK(o.get_uint("szero") == 0u);
    CHECK(o.get_uint("lead") == 7u);
    for (auto key : {"over", "huge", "sover", "frac", "sfrac", "neg", "sneg", "exp", "sexp", "negz", "empty", "space",
                     "plus", "t", "z", "obj", "arr", "missing"}) {
        INFO(key);
        CHECK_FALSE(o.get_uint(key));
    }
}

TEST_CASE("json: string escapes and surrogate pairs")
{
    CHECK(string_member(R"({"a":"\ud83d\ude00"})") == "\xF0\x9F\x98\x80");
    CHECK(string_member(R"({"a":"\uD83D\uDE00"})") == "\xF0\x9F\x98\x80");
    CHECK(string_member(R"({"a":"\ud800\udc00"})") == "\xF0\x90\x80\x80");
    CHECK(string_member(R"({"a":"\udbff\udfff"})") == "\xF4\x8F\xBF\xBF");
    CHECK(string_member(R"({"a":"\u0041\u00e9\u20AC\uffff\ud7ff\ue000"})") ==
          "A\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF\xED\x9F\xBF\xEE\x80\x80");
    CHECK(string_member(R"({"a":"\u0000"})") == std::string(1, '\0'));
    CHECK(string_member(R"({"a":"\"\\\/\b\f\n\r\t"})") == "\"\\/\b\f\n\r\t");
    CHECK(string_member(R"({"a":"x\u007Fy"})") == "x\x7Fy");
    CHECK(string_member("{\"a\":\"raw \x7F del\"}") == "raw \x7F del");
    // Escaped keys are decoded before comparison.
    CHECK(parse_ok(R"({"\u0061\/b":1})").members()[0].first == "a/b");
}

TEST_CASE("json: valid UTF-8 passes through")
{
    CHECK(string_member("{\"a\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}") == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    CHECK(string_member("{\"a\":\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\"}") ==
          "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF");
    CHECK(string_member("{\"a\":\"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"}") == "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
    CHECK(parse_ok("{\"\xC3\xA9t\xC3\xA9\":1}").get_uint("\xC3\xA9t\xC3\xA9") == 1u);
}

TEST_CASE("json: invalid UTF-8 is rejected at the bad byte")
{
    // The string value starts at offset 6 ({"a":" is 6 bytes).
    struct bad {
        std::string_view bytes;
        std::size_t at; // offset inside `bytes`
        int byte;
    };
    const bad cases[] = {
        {"\x80", 0, 0x80},                     // lone continuation byte
        {"\xBF", 0, 0xBF},                     // lone continuation byte
        {"\xC0\x80", 0, 0xC0},                 // overlong NUL
        {"\xC1\xBF", 0, 0xC1},                 // overlong 2-byte
        {"\xE0\x80\x80", 1, 0x80},             // overlong 3-byte
        {"\xE0\x9F\xBF", 1, 0x9F},             // overlong U+07FF
        {"\xED\xA0\x80", 1, 0xA0},             // UTF-8 encoded surrogate U+D800
        {"\xED\xBF\xBF", 1, 0xBF},             // UTF-8 encoded surrogate U+DFFF
        {"\xED\xA0\xBD\xED\xB8\x80", 1, 0xA0}, // CESU-8 surrogate pair
        {"\xF0\x80\x80\x80", 1, 0x80},         // overlong 4-byte
        {"\xF0\x8F\xBF\xBF", 1, 0x8F},         // overlong U+FFFF
        {"\xF4\x90\x80\x80", 1, 0x90},         // U+110000
        {"\xF5\x80\x80\x80", 0, 0xF5},         // beyond U+10FFFF
        {"\xF8\x88\x80\x80\x80", 0, 0xF8},     // 5-byte form
        {"\xFE", 0, 0xFE},
        {"\xFF", 0, 0xFF},
        {"\xC3" "A", 1, 'A'},                  // truncated, then ASCII
        {"\xE2\x82" "\"", 2, '"'},             // truncated before the closing quote
        {"\xF0\x9F\x98" "\"", 3, '"'},         // truncated 4-byte
        {"\xC3\xC3\xA9", 1, 0xC3},             // lead byte where a continuation belongs
    };
    for (const auto& c : cases) {
        std::string in = "{\"a\":\"";
        in += c.bytes;
        in += "\"}";
        check_error(in, errc::json_invalid_utf8, 6 + c.at, c.byte);
    }
    // In a key, and inside nested values.
    check_error("{\"\xFF\":1}", errc::json_invalid_utf8, 2, 0xFF);
    check_error("{\"a\":[\"ok\",{\"\xC0\xAF\":1}]}", errc::json_invalid_utf8, 13, 0xC0);
    // Truncated at the very end of the input: no byte to name.
    check_error("{\"a\":\"\xE2\x82", errc::json_invalid_utf8, 8, -1);
    // Raw bytes outside strings are syntax errors.
    check_error("{\"a\":\xC3\xA9}", errc::json_syntax, 5, 0xC3);
}

TEST_CASE("json: rejection classes with code and offset")
{
    struct bad {
        std::string_view in;
        errc code;
        std::size_t offset;
        int byte;
    };
    const bad cases[] = {
        // top level
        {"", errc::json_syntax, 0, -1},
        {" \r\n", errc::json_syntax, 3, -1},
        {"x", errc::json_syntax, 0, 'x'},
        {"\xEF\xBB\xBF{}", errc::json_syntax, 0, 0xEF}, // byte order mark
        {"\f{}", errc::json_syntax, 0, '\f'},          // form feed is not JSON whitespace
        {"[1]", errc::json_not_object, 0, '['},
        {"\"x\"", errc::json_not_object, 0, '"'},
        {"  42", errc::json_not_object, 2, '4'},
        {"-1", errc::json_not_object, 0, '-'},
        {"true", errc::json_not_object, 0, 't'},
        {"null", errc::json_not_object, 0, 'n'},
        // trailing data
        {"{\"a\":1} x", errc::json_trailing_data, 8, 'x'},
        {"{\"a\":1}{}", errc::json_trailing_data, 7, '{'},
        {"{}\n\n,", errc::json_trailing_data, 4, ','},
        {std::string_view{"{}\0", 3}, errc::json_trailing_data, 2, 0},
        {"{}\f", errc::json_trailing_data, 2, '\f'},
        // object syntax
        {"{", errc::json_syntax, 1, -1},
        {"{\"a\":1", errc::json_syntax, 6, -1},
        {"{\"a\":1,}", errc::json_syntax, 7, '}'},
        {"{,}", errc::json_syntax, 1, ','},
        {"{\"a\" 1}", errc::json_syntax, 5, '1'},
        {"{\"a\":}", errc::json_syntax, 5, '}'},
        {"{\"a\":1 \"b\":2}", errc::json_syntax, 7, '"'},
        {"{\"a\":1;\"b\":2}", errc::json_syntax, 6, ';'},
        {"{a:1}", errc::json_syntax, 1, 'a'},
        {"{'a':1}", errc::json_syntax, 1, '\''},
        {"{\"a\":'b'}", errc::json_syntax, 5, '\''},
        {"{\"a\":[1,]}", errc::json_syntax, 8, ']'},
        {"{\"a\":[1 2]}", errc::json_syntax, 8, '2'},
        {"{\"a\":[}", errc::json_syntax, 6, '}'},
        {"{\"a\":[1}", errc::json_syntax, 7, '}'},
        {"{\"a\":{\"b\"}}", errc::json_syntax, 9, '}'},
        {"{\"a\":{\"b\":1,}}", errc::json_syntax, 12, '}'},
        {"{\"a\":{1:2}}", errc::json_syntax, 6, '1'},
        {"{\"a\":[[[", errc::json_syntax, 8, -1},
        // numbers
        {"{\"a\":01}", errc::json_syntax, 6, '1'},
        {"{\"a\":-01}", errc::json_syntax, 7, '1'},
        {"{\"a\":+1}", errc::json_syntax, 5, '+'},
        {"{\"a\":-}", errc::json_syntax, 6, '}'},
        {"{\"a\":1.}", errc::json_syntax, 7, '}'},
        {"{\"a\":.5}", errc::json_syntax, 5, '.'},
        {"{\"a\":1e}", errc::json_syntax, 7, '}'},
        {"{\"a\":1e+}", errc::json_syntax, 8, '}'},
        {"{\"a\":0x10}", errc::json_syntax, 6, 'x'},
        {"{\"a\":NaN}", errc::json_syntax, 5, 'N'},
        {"{\"a\":Infinity}", errc::json_syntax, 5, 'I'},
        {"{\"a\":-Infinity}", errc::json_syntax, 6, 'I'},
        {"{\"a\":[1,-]}", errc::json_syntax, 9, ']'},
        // literals
        {"{\"a\":tru}", errc::json_syntax, 8, '}'},
        {"{\"a\":True}", errc::json_syntax, 5, 'T'},
        {"{\"a\":nul", errc::json_syntax, 8, -1},
        {"{\"a\":falsey}", errc::json_syntax, 10, 'y'},
        {"{\"a\":[nulL]}", errc::json_syntax, 9, 'L'},
        // strings
        {"{\"a\":\"b}", errc::json_syntax, 8, -1},
        {"{\"a", errc::json_syntax, 3, -1},
        {"{\"a\":\"\\", errc::json_syntax, 7, -1},
        {"{\"a\":\"\\u12", errc::json_syntax, 10, -1},
        {"{\"a\":\"\x01\"}", errc::json_control_character, 6, 0x01},
        {"{\"a\":\"\t\"}", errc::json_control_character, 6, '\t'},
        {"{\"a\":\"x\ny\"}", errc::json_control_character, 7, '\n'},
        {"{\"a\":\"x\ry\"}", errc::json_control_character, 7, '\r'},
        {"{\"a\":\"\x1F\"}", errc::json_control_character, 6, 0x1F},
        {std::string_view{"{\"a\":\"\0\"}", 9}, errc::json_control_character, 6, 0},
        {"{\"a\x0A\":1}", errc::json_control_character, 3, '\n'},
        {"{\"a\":[\"\x02\"]}", errc::json_control_character, 7, 0x02},
        {"{\"a\":\"\\x\"}", errc::json_invalid_escape, 7, 'x'},
        {"{\"a\":\"\\U0041\"}", errc::json_invalid_escape, 7, 'U'},
        {"{\"a\":\"\\'\"}", errc::json_invalid_escape, 7, '\''},
        {"{\"a\":\"\\a\"}", errc::json_invalid_escape, 7, 'a'},
        {"{\"a\":\"\\\x01\"}", errc::json_invalid_escape, 7, 0x01},
        {"{\"a\":\"\\u12G4\"}", errc::json_invalid_escape, 10, 'G'},
        {"{\"a\":\"\\u12\"}", errc::json_invalid_escape, 10, '"'},
        {"{\"a\":[\"\\q\"]}", errc::json_invalid_escape, 8, 'q'},
        // lone surrogates: reported at the backslash of the unpaired escape
        {R"({"a":"\ud83d"})", errc::json_invalid_escape, 6, -1},
        {R"({"a":"\ude00"})", errc::json_invalid_escape, 6, -1},
        {R"({"a":"\ude00\ud83d"})", errc::json_invalid_escape, 6, -1},
        {R"({"a":"x\ud83dy"})", errc::json_invalid_escape, 7, -1},
        {R"({"a":"\ud83d\u0041"})", errc::json_invalid_escape, 6, -1},
        {R"({"a":"\ud83d\ud83d"})", errc::json_invalid_escape, 6, -1},
        {R"({"a":"\ud83d\n"})", errc::json_invalid_escape, 6, -1},
        {R"({"a":"\ud83d\uZ"})", errc::json_invalid_escape, 14, 'Z'},
        {R"({"\udfff":1})", errc::json_invalid_escape, 2, -1},
        // duplicate top-level keys: reported at the second key's opening quote
        {R"({"a":1,"a":2})", errc::json_duplicate_key, 7, -1},
        {R"({"status":"401","scope":"x","status":"400"})", errc::json_duplicate_key, 28, -1},
        {R"({"ab":1,"a\u0062":2})", errc::json_duplicate_key, 8, -1},
    };
    for (const auto& c : cases) check_error(c.in, c.code, c.offset, c.byte);
}

TEST_CASE("json: depth limit")
{
    // Top-level object = 1, so 7 nested arrays fit the default of 8 and an 8th does not.
    const auto o = parse_ok(R"({"a":[[[[[[[1]]]]]]]})");
    CHECK(o.find("a")->text == "[[[[[[[1]]]]]]]");
    check_error(R"({"a":[[[[[[[[1]]]]]]]]})", errc::json_too_deep, 12, '[');
    check_error(R"({"a":[{"b":[{"c":[{"d":[{"e":1}]}]}]}]})", errc::json_too_deep, 24, '{');
    CHECK(parse_ok(R"({"a":[{"b":[{"c":[{"d":[1]}]}]}]})").size() == 1);

    json::limits one;
    one.max_depth = 1;
    CHECK(parse_ok(R"({"a":1,"b":"x"})", one).size() == 2);
    check_error(R"({"a":1,"b":[]})", errc::json_too_deep, 11, '[', one);
    check_error(R"({"a":{}})", errc::json_too_deep, 5, '{', one);

    json::limits zero;
    zero.max_depth = 0;
    check_error("  {}", errc::json_too_deep, 2, '{', zero);
}

TEST_CASE("json: nesting bomb of 100000 '[' inside a member")
{
    const std::size_t n = 100000;
    std::string bomb = "{\"a\":" + std::string(n, '[');
    json::limits big;
    big.max_size = 1 << 20;
    // Rejected at the first bracket past the limit, long before the end of the input.
    check_error(bomb, errc::json_too_deep, 5 + 7, '[', big);
    std::string closed = bomb + std::string(n, ']') + "}";
    check_error(closed, errc::json_too_deep, 5 + 7, '[', big);
    // Default size limit comes first.
    check_error(closed, errc::json_too_large, 64 * 1024, -1);

    // With the depth limit lifted the validator still copes: it does not recurse.
    big.max_depth = n + 1;
    const auto o = parse_ok(closed, big);
    CHECK(o.find("a")->type == json::kind::array);
    CHECK(o.find("a")->text.size() == 2 * n);
    check_error(bomb, errc::json_syntax, bomb.size(), -1, big);
    big.max_depth = n;
    check_error(closed, errc::json_too_deep, 5 + n - 1, '[', big);

    // The same bomb as the top-level value is not an object.
    check_error(std::string(n, '['), errc::json_not_object, 0, '[', big);
}

TEST_CASE("json: a 1 MB string")
{
    const std::size_t n = 1 << 20;
    std::string in = "{\"access_token\":\"";
    const std::size_t value_at = in.size();
    for (std::size_t i = 0; i < n; ++i) in += static_cast<char>('a' + i % 26);
    in += "\"}\n";

    check_error(in, errc::json_too_large, 64 * 1024, -1);

    json::limits size_only;
    size_only.max_size = 2 * n;
    check_error(in, errc::json_too_large, value_at + 16 * 1024, -1, size_only);

    json::limits both = size_only;
    both.max_string = n;
    const auto o = parse_ok(in, both);
    const auto s = o.get_string("access_token");
    REQUIRE(s);
    CHECK(s->size() == n);
    CHECK(*s == std::string_view{in}.substr(value_at, n));
}

TEST_CASE("json: size, member and string limits")
{
    // Size is checked first, even for garbage.
    json::limits tiny;
    tiny.max_size = 8;
    check_error("xxxxxxxxx", errc::json_too_large, 8, -1, tiny);
    CHECK(parse_ok("{\"a\":12}", tiny).get_uint("a") == 12u);
    check_error("{\"a\":123}", errc::json_too_large, 8, -1, tiny);
    CHECK(parse_ok("{\"a\":1}\n", tiny).size() == 1);

    // Exactly the default size is fine.
    std::string exact = "{\"k\":\"" + std::string(64 * 1024 - 8, 'v') + "\"}";
    json::limits long_strings;
    long_strings.max_string = 64 * 1024;
    REQUIRE(exact.size() == 64 * 1024);
    CHECK(parse_ok(exact, long_strings).size() == 1);
    check_error(exact + " ", errc::json_too_large, 64 * 1024, -1, long_strings);

    // 128 members fit, a 129th is rejected at its key.
    std::string members = "{";
    std::size_t key129 = 0;
    for (int i = 0; i < 129; ++i) {
        if (i) members += ',';
        if (i == 128) key129 = members.size();
        members += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
    }
    members += '}';
    check_error(members, errc::json_too_large, key129, -1);
    std::string first128 = members.substr(0, key129 - 1) + "}";
    const auto o = parse_ok(first128);
    CHECK(o.size() == 128);
    CHECK(o.get_uint("k127") == 127u);
    json::limits none;
    none.max_members = 0;
    CHECK(parse_ok("{}", none).empty());
    check_error("{\"a\":1}", errc::json_too_large, 1, -1, none);

    // String bound counts decoded bytes, in values, keys and nested values.
    json::limits four;
    four.max_string = 4;
    CHECK(string_member("{\"a\":\"abcd\"}") == "abcd");
    CHECK(parse_ok("{\"a\":\"abcd\"}", four).get_string("a") == "abcd"sv);
    check_error("{\"a\":\"abcde\"}", errc::json_too_large, 10, -1, four);
    check_error("{\"abcde\":1}", errc::json_too_large, 6, -1, four);
    check_error("{\"a\":[\"abcde\"]}", errc::json_too_large, 11, -1, four);
    CHECK(parse_ok(R"({"a":"\u00e9\u00e9"})", four).get_string("a") == "\xC3\xA9\xC3\xA9"sv);
    check_error(R"({"a":"\u00e9\u00e9\u00e9"})", errc::json_too_large, 18, -1, four);
    check_error(R"({"a":"abc\ud83d\ude00"})", errc::json_too_large, 9, -1, four);
    check_error("{\"a\":\"abc\xC3\xA9\"}", errc::json_too_large, 9, -1, four);
    json::limits empty_only;
    empty_only.max_string = 0;
    CHECK(parse_ok("{\"\":\"\"}", empty_only).get_string("") == ""sv);
    check_error("{\"\":\"x\"}", errc::json_too_large, 5, -1, empty_only);
}

TEST_CASE("json: never reads past the input")
{
    // Each view stops short of a buffer whose next bytes would complete the document.
    const std::string_view buf = R"({"a":"\u00e9","b":[1,{"c":true}]})";
    for (std::size_t n = 0; n < buf.size(); ++n) {
        json::object o;
        const auto e = json::parse_object(buf.substr(0, n), o);
        INFO(n);
        CHECK(e.code == make_error_code(errc::json_syntax));
        CHECK(e.offset <= n);
    }
    const std::string_view utf8 = "{\"a\":\"\xF0\x9F\x98\x80\"}";
    for (std::size_t n = 7; n < 10; ++n) {
        json::object o;
        const auto e = json::parse_object(utf8.substr(0, n), o);
        CHECK(e.code == make_error_code(errc::json_invalid_utf8));
        CHECK(e.offset == n);
        CHECK(e.byte == -1);
    }
}

TEST_CASE("json: a failed parse empties the object; a good one replaces it")
{
    json::object o = parse_ok(R"({"a":"1","b":"2"})");
    REQUIRE(o.size() == 2);
    CHECK_FALSE(json::parse_object(R"({"c":3})", o));
    REQUIRE(o.size() == 1);
    CHECK(o.get_uint("c") == 3u);
    CHECK_FALSE(o.find("a"));
    CHECK(json::parse_object(R"({"c":3)", o));
    CHECK(o.empty());
}

TEST_CASE("json: error messages name the byte and the offset")
{
    json::object o;
    const auto e = json::parse_object("{\"a\":\"\x01\"}", o);
    CHECK(e.message() == "json: unescaped control character in string 0x01 at offset 6");
    CHECK(mailauth::fault_of(e.code) == mailauth::fault::server);
}

TEST_CASE("json: parse_uint_array")
{
    std::vector<std::uint64_t> v{42};
    REQUIRE_FALSE(json::parse_uint_array("[7000215, 50076]", v));
    CHECK(v == std::vector<std::uint64_t>{7000215, 50076});
    REQUIRE_FALSE(json::parse_uint_array("[]", v));
    CHECK(v.empty());
    REQUIRE_FALSE(json::parse_uint_array(" [ 0 ,\n18446744073709551615 ]\r\n", v));
    CHECK(v == std::vector<std::uint64_t>{0, UINT64_MAX});

    struct bad {
        std::string_view raw;
        errc code;
        std::size_t offset;
    };
    const bad cases[] = {
        {"", errc::json_syntax, 0},
        {"7000215", errc::json_syntax, 0},
        {"{}", errc::json_syntax, 0},
        {"[", errc::json_syntax, 1},
        {"[1", errc::json_syntax, 2},
        {"[1,]", errc::json_syntax, 3},
        {"[,1]", errc::json_syntax, 1},
        {"[1 2]", errc::json_syntax, 3},
        {"[1.5]", errc::json_syntax, 2},
        {"[1e3]", errc::json_syntax, 2},
        {"[-1]", errc::json_syntax, 1},
        {"[01]", errc::json_syntax, 2},
        {"[\"1\"]", errc::json_syntax, 1},
        {"[[1]]", errc::json_syntax, 1},
        {"[null]", errc::json_syntax, 1},
        {"[18446744073709551616]", errc::json_syntax, 1},
        {"[1] x", errc::json_trailing_data, 4},
        {"[1][2]", errc::json_trailing_data, 3},
    };
    for (const auto& c : cases) {
        v = {1, 2};
        const auto e = json::parse_uint_array(c.raw, v);
        INFO(std::string(c.raw));
        CHECK(e.code == make_error_code(c.code));
        CHECK(e.offset == c.offset);
        CHECK(v.empty());
    }
}
