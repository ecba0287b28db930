// Tests for mailauth/oauth/token_response.hpp: RFC 6749 §5.1 / §5.2 responses, Microsoft and Google hints.
#include "catch_compat.hpp"

#include <mailauth/oauth/token_response.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using mailauth::secret;
using namespace std::chrono_literals;

namespace {

oauth::http_response response(unsigned status, std::string_view body)
{
    oauth::http_response r;
    r.status = status;
    r.content_type = "application/json";
    r.body.assign(body);
    return r;
}

oauth::token_result parse(unsigned status, std::string_view body)
{
    return oauth::parse_token_response(response(status, body));
}

const oauth::time_point t0{std::chrono::seconds{1700000000}};

} // namespace

TEST_CASE("oauth: a Google token response", "[oauth][token_response]")
{
    const auto r = parse(200, R"({"access_token":"ya29.a0AfH6SM","expires_in":3599,"scope":"https://mail.google.com/",)"
                              R"("token_type":"Bearer","id_token":"eyJhbGciOi.x.y"})");
    REQUIRE(r);
    CHECK(r.token.access_token.reveal() == "ya29.a0AfH6SM");
    CHECK(r.token.token_type == "Bearer");
    REQUIRE(r.token.expires_in);
    CHECK(*r.token.expires_in == 3599s);
    CHECK(r.token.refresh_token.empty());
    CHECK(r.token.scope == "https://mail.google.com/");
}

TEST_CASE("oauth: expires_in as number or numeric string or absent", "[oauth][token_response]")
{
    auto r = parse(200, R"({"access_token":"a","token_type":"bearer","expires_in":"3600","ext_expires_in":"3600"})");
    REQUIRE(r);
    CHECK(*r.token.expires_in == 3600s);
    r = parse(200, R"({"access_token":"a","token_type":"Bearer"})");
    REQUIRE(r);
    CHECK_FALSE(r.token.expires_in);
    r = parse(200, R"({"access_token":"a","expires_in":"soon"})");
    REQUIRE(r);
    CHECK_FALSE(r.token.expires_in);
    r = parse(200, R"({"access_token":"a","expires_in":99999999999999999})");
    REQUIRE(r);
    CHECK(*r.token.expires_in == std::chrono::seconds{oauth::max_expires_in});
    CHECK(r.token.token_type.empty());
}

TEST_CASE("oauth: apply_token_response keeps the old refresh token and flags a rotated one", "[oauth][token_response]")
{
    oauth::token_set set;
    set.refresh_token.assign("rt-1");

    SECTION("no refresh token in the response: keep the old one, nothing to persist")
    {
        auto r = parse(200, R"({"access_token":"at-2","token_type":"Bearer","expires_in":3600})");
        REQUIRE(r);
        const auto u = oauth::apply_token_response(set, std::move(r.token), t0);
        CHECK_FALSE(u.must_persist);
        CHECK(set.refresh_token.reveal() == "rt-1");
        CHECK(set.access_token.reveal() == "at-2");
        REQUIRE(set.expires_at);
        CHECK(*set.expires_at == t0 + 3600s);
    }
    SECTION("a rotated refresh token must be persisted (Microsoft rotates on every use)")
    {
        auto r = parse(200, R"({"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2",)"
                            R"("scope":"https://outlook.office.com/IMAP.AccessAsUser.All"})");
        REQUIRE(r);
        const auto u = oauth::apply_token_response(set, std::move(r.token), t0);
        CHECK(u.must_persist);
        CHECK(set.refresh_token.reveal() == "rt-2");
        CHECK(set.scope == "https://outlook.office.com/IMAP.AccessAsUser.All");
    }
    SECTION("the same refresh token again is not a rotation")
    {
        auto r = parse(200, R"({"access_token":"at-2","refresh_token":"rt-1"})");
        REQUIRE(r);
        CHECK_FALSE(oauth::apply_token_response(set, std::move(r.token), t0).must_persist);
        CHECK_FALSE(set.expires_at);
    }
    SECTION("a first refresh token must be persisted too")
    {
        oauth::token_set empty;
        auto r = parse(200, R"({"access_token":"at","refresh_token":"rt"})");
        REQUIRE(r);
        CHECK(oauth::apply_token_response(empty, std::move(r.token), t0).must_persist);
    }
}

TEST_CASE("oauth: token_set::fresh honours the margin", "[oauth][token_response]")
{
    oauth::token_set s;
    CHECK_FALSE(s.fresh(t0, 300s));
    s.access_token.assign("at");
    CHECK(s.fresh(t0, 300s)); // unknown expiry counts as fresh
    s.expires_at = t0 + 3600s;
    CHECK(s.fresh(t0 + 3299s, 300s));
    CHECK_FALSE(s.fresh(t0 + 3300s, 300s));
    CHECK(s.fresh(t0 + 3599s, 0s));
}

TEST_CASE("oauth: malformed success responses", "[oauth][token_response]")
{
    auto r = parse(200, R"({"token_type":"Bearer"})");
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    r = parse(200, R"({"access_token":""})");
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    r = parse(200, "{\"access_token\":\"ab\\r\\nc\"}");
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    r = parse(200, R"({"access_token":17})");
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    r = parse(200, R"({"access_token":"a","token_type":"mac"})");
    CHECK(r.code == make_error_code(errc::oauth_unsupported_token_type));
    CHECK(r.token.access_token.empty());
    r = parse(200, R"({"access_token":"a","refresh_token":"bad token"})");
    REQUIRE(r);
    CHECK(r.token.refresh_token.empty());
}

TEST_CASE("oauth: a 2xx body that is not JSON is an error that shows none of the body", "[oauth][token_response]")
{
    const auto r = parse(200, "access_token=SECRET-AT-123&token_type=bearer&expires_in=3600");
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    CHECK(r.error.http_status == 200);
    CHECK(r.error.json_error);
    CHECK(r.error.json_error.byte == -1);
    CHECK(r.error.body_excerpt.empty());
    const std::string m = r.error.message();
    CHECK(m.find("HTTP 200") != std::string::npos);
    CHECK(m.find("SECRET") == std::string::npos);
    CHECK(m.find("access_token") == std::string::npos);

    const auto t = parse(200, R"({"access_token":"SECRET-AT-123" "x"})");
    CHECK(t.code == make_error_code(errc::oauth_response_malformed));
    CHECK(t.error.message().find("SECRET") == std::string::npos);
    const mailauth::error ex(t.code, t.error.message());
    CHECK(std::string(ex.what()).find("SECRET") == std::string::npos);
}

TEST_CASE("oauth: a non-JSON error body keeps a bounded excerpt and the status", "[oauth][token_response]")
{
    const std::string html = "<html>\r\n<body>502 Bad Gateway</body>" + std::string(2000, 'x') + "</html>";
    const auto r = parse(502, html);
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    CHECK(r.error.http_status == 502);
    CHECK(r.error.body_excerpt.starts_with("<html>  <body>502 Bad Gateway</body>"));
    CHECK(r.error.body_excerpt.size() == oauth::max_error_text + 3);
    const std::string m = r.error.message();
    CHECK(m.find("HTTP 502") != std::string::npos);
    CHECK(m.find("502 Bad Gateway") != std::string::npos);

    const auto empty = parse(503, "");
    CHECK(empty.code == make_error_code(errc::oauth_response_malformed));
    CHECK(empty.error.message().find("HTTP 503") != std::string::npos);

    const auto no_error = parse(500, R"({"message":"internal"})");
    CHECK(no_error.code == make_error_code(errc::oauth_response_malformed));
    CHECK(no_error.error.message().find("no error member") != std::string::npos);
}

TEST_CASE("oauth: RFC 6749 §5.2 error responses with any status", "[oauth][token_response]")
{
    auto r = parse(400, R"({"error":"invalid_request","error_description":"Missing\nparameter","error_uri":"https://e.example/doc"})");
    CHECK(r.code == make_error_code(errc::oauth_error_response));
    CHECK(r.error.error == "invalid_request");
    CHECK(r.error.description == "Missing parameter");
    CHECK(r.error.uri == "https://e.example/doc");
    CHECK(r.error.http_status == 400);
    CHECK(r.error.hint().empty());

    r = parse(200, R"({"error":"bad_verification_code"})");
    CHECK(r.code == make_error_code(errc::oauth_error_response));
    CHECK(r.error.error == "bad_verification_code");

    r = parse(401, R"({"error":"invalid_client"})");
    CHECK(r.error.hint().find("client") != std::string_view::npos);
}

TEST_CASE("oauth: Microsoft error responses carry error_codes and get hints", "[oauth][token_response]")
{
    const auto r = parse(400, R"({"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired )"
                              R"(due to inactivity.\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2024-01-01 00:00:00Z",)"
                              R"("error_codes":[700082],"timestamp":"2024-01-01 00:00:00Z","trace_id":"0000",)"
                              R"("correlation_id":"1111","error_uri":"https://login.microsoftonline.com/error?code=700082"})");
    CHECK(r.code == make_error_code(errc::oauth_error_response));
    CHECK(r.error.error_codes == std::vector<std::uint64_t>{700082});
    CHECK(r.error.has_code(700082));
    CHECK(r.error.description.find('\r') == std::string::npos);
    CHECK(r.error.hint().find("AADSTS700082") != std::string_view::npos);
    CHECK(r.error.hint().find("inactivity") == std::string_view::npos); // our text, not the server's
    const std::string m = r.error.message();
    CHECK(m.find("HTTP 400: invalid_grant: AADSTS700082") != std::string::npos);
    CHECK(m.find("[error_codes 700082]") != std::string::npos);
    CHECK(m.find("hint: refresh token expired after 90 days") != std::string::npos);

    const std::pair<std::uint64_t, std::string_view> cases[] = {
        {65001, "consent"},           {7000215, "invalid client secret"}, {7000222, "expired client secret"},
        {700016, "not found in the tenant"}, {50076, "multi-factor"},     {70011, "invalid scope"},
        {700082, "90 days"}, {53003, "Conditional Access"},
    };
    for (const auto& [code, word] : cases) {
        const std::string n = std::to_string(code);
        const auto e = parse(400, R"({"error":"invalid_request","error_description":"AADSTS)" + n +
                                      R"(: text","error_codes":[)" + n + "]}");
        INFO(n);
        CHECK(e.error.error_codes == std::vector<std::uint64_t>{code});
        CHECK(e.error.hint().find("AADSTS" + n) != std::string_view::npos);
        CHECK(e.error.hint().find(word) != std::string_view::npos);
        CHECK(e.error.message().find("hint: ") != std::string::npos);
    }
}

TEST_CASE("oauth: an AADSTS code in the description alone is found", "[oauth][token_response]")
{
    const auto r = parse(401, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})");
    CHECK(r.error.error_codes == std::vector<std::uint64_t>{7000215});
    CHECK(r.error.hint().find("secret's ID") != std::string_view::npos);

    const auto several = parse(400, R"({"error":"interaction_required","error_codes":[9999,50076]})");
    CHECK(several.error.error_codes == std::vector<std::uint64_t>{9999, 50076});
    CHECK(several.error.hint().find("AADSTS50076") != std::string_view::npos);
}

TEST_CASE("oauth: Google invalid_grant explains revocation and testing mode and re-consent", "[oauth][token_response]")
{
    const auto r = parse(400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})");
    CHECK(r.code == make_error_code(errc::oauth_error_response));
    const std::string_view h = r.error.hint();
    CHECK(h.find("revoked") != std::string_view::npos);
    CHECK(h.find("7 days") != std::string_view::npos);
    CHECK(h.find("Testing") != std::string_view::npos);
    CHECK(h.find("prompt=consent") != std::string_view::npos);
    CHECK(h.find("access_type=offline") != std::string_view::npos);
    CHECK(r.error.message() == "token endpoint: HTTP 400: invalid_grant: Token has been expired or revoked. (hint: " +
                                   std::string(h) + ")");
}

TEST_CASE("oauth: the parsed body's strings are wiped and the response is untouched", "[oauth][token_response]")
{
    const auto res = response(200, R"({"access_token":"at-xyz","refresh_token":"rt-xyz"})");
    const auto r = oauth::parse_token_response(res);
    REQUIRE(r);
    CHECK(r.token.access_token.reveal() == "at-xyz");
    CHECK(r.token.refresh_token.reveal() == "rt-xyz");
    CHECK(res.body.reveal() == R"({"access_token":"at-xyz","refresh_token":"rt-xyz"})");
}
