// Tests for mailauth/oauth/device_flow.hpp: RFC 8628 requests, responses and the non-blocking poll schedule.
#include "catch_compat.hpp"

#include <mailauth/oauth/device_flow.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using mailauth::secret;
using poll = oauth::device_poll_status;
using namespace std::chrono_literals;

namespace {

oauth::http_response response(unsigned status, std::string_view body)
{
    oauth::http_response r;
    r.status = status;
    r.body.assign(body);
    return r;
}

const oauth::time_point t0{std::chrono::seconds{1700000000}};

constexpr std::string_view microsoft_device_response =
    R"({"user_code":"FJXH2QLR2","device_code":"DAQABAAEAAAD--DLA3VO7QrddgJg7WevrAgoS","verification_uri":"https://microsoft.com/devicelogin",)"
    R"("expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FJXH2QLR2 to authenticate."})";

oauth::device_flow microsoft_flow()
{
    auto r = oauth::parse_device_authorization(response(200, microsoft_device_response));
    REQUIRE(r);
    return oauth::device_flow{std::move(r.authorization), t0};
}

oauth::http_response pending() { return response(400, R"({"error":"authorization_pending","error_description":"AADSTS70016: pending"})"); }
oauth::http_response slow_down() { return response(400, R"({"error":"slow_down"})"); }

} // namespace

TEST_CASE("oauth: device authorization request (RFC 8628 §3.1)", "[oauth][device_flow]")
{
    oauth::http_request req;
    REQUIRE_FALSE(oauth::device_authorization_request("https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
                                                      oauth::public_client{"cid"},
                                                      "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", req));
    CHECK(req.url == "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode");
    CHECK(req.body.reveal() == "scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access&client_id=cid");
    CHECK(req.header("Accept") == "application/json");
}

TEST_CASE("oauth: device authorization responses from Microsoft and Google", "[oauth][device_flow]")
{
    auto r = oauth::parse_device_authorization(response(200, microsoft_device_response));
    REQUIRE(r);
    CHECK(r.authorization.device_code.reveal() == "DAQABAAEAAAD--DLA3VO7QrddgJg7WevrAgoS");
    CHECK(r.authorization.user_code == "FJXH2QLR2");
    CHECK(r.authorization.verification_uri == "https://microsoft.com/devicelogin");
    CHECK(r.authorization.verification_uri_complete.empty());
    CHECK(r.authorization.expires_in == 900s);
    CHECK(r.authorization.interval == 5s);
    CHECK(r.authorization.message.starts_with("To sign in"));

    // Google says verification_url; oidc-provider sends no interval (default 5 s) and a complete URI.
    r = oauth::parse_device_authorization(response(200, R"({"device_code":"AH-1Ng","user_code":"GQVQ-JKEC",)"
                                                        R"("verification_url":"https://www.google.com/device","expires_in":"1800"})"));
    REQUIRE(r);
    CHECK(r.authorization.verification_uri == "https://www.google.com/device");
    CHECK(r.authorization.expires_in == 1800s);
    CHECK(r.authorization.interval == 5s);
    r = oauth::parse_device_authorization(response(200, R"({"device_code":"d","user_code":"u","verification_uri":"http://127.0.0.1:3000/device",)"
                                                        R"("verification_uri_complete":"http://127.0.0.1:3000/device?user_code=u","expires_in":600,"interval":0})"));
    REQUIRE(r);
    CHECK(r.authorization.verification_uri_complete == "http://127.0.0.1:3000/device?user_code=u");
    CHECK(r.authorization.interval == 1s);
}

TEST_CASE("oauth: bad device authorization responses", "[oauth][device_flow]")
{
    auto r = oauth::parse_device_authorization(response(200, R"({"user_code":"u","verification_uri":"https://x.example","expires_in":600})"));
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    r = oauth::parse_device_authorization(response(200, R"({"device_code":"d","user_code":"u","verification_uri":"javascript:void","expires_in":600})"));
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    r = oauth::parse_device_authorization(response(200, R"({"device_code":"d","user_code":"u","verification_uri":"https://x.example"})"));
    CHECK(r.code == make_error_code(errc::oauth_response_malformed));
    CHECK(r.authorization.device_code.empty());
    r = oauth::parse_device_authorization(response(400, R"({"error":"invalid_scope","error_codes":[70011]})"));
    CHECK(r.code == make_error_code(errc::oauth_error_response));
    CHECK(r.error.hint().find("AADSTS70011") != std::string_view::npos);
}

TEST_CASE("oauth: device flow poll schedule with pending and cumulative slow_down then success", "[oauth][device_flow]")
{
    auto flow = microsoft_flow();
    CHECK(flow.interval() == 5s);
    CHECK(flow.next_poll_time() == t0 + 5s);
    CHECK(flow.expires_at() == t0 + 900s);
    CHECK_FALSE(flow.due(t0 + 4s));
    CHECK(flow.due(t0 + 5s));

    oauth::http_request req;
    REQUIRE_FALSE(flow.poll_request("https://login.microsoftonline.com/common/oauth2/v2.0/token", oauth::public_client{"cid"}, req));
    CHECK(req.body.reveal() == "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
                               "&device_code=DAQABAAEAAAD--DLA3VO7QrddgJg7WevrAgoS&client_id=cid");

    auto p = flow.on_token_response(pending(), t0 + 5s);
    CHECK(p.status == poll::pending);
    CHECK_FALSE(p.code);
    CHECK_FALSE(p.done());
    CHECK(flow.next_poll_time() == t0 + 10s);

    p = flow.on_token_response(slow_down(), t0 + 10s);
    CHECK(p.status == poll::slow_down);
    CHECK(flow.interval() == 10s);
    CHECK(flow.next_poll_time() == t0 + 20s);

    p = flow.on_token_response(slow_down(), t0 + 20s);
    CHECK(flow.interval() == 15s); // +5 s each time, kept for all later polls (RFC 8628 §3.5)
    CHECK(flow.next_poll_time() == t0 + 35s);

    p = flow.on_token_response(pending(), t0 + 35s);
    CHECK(p.status == poll::pending);
    CHECK(flow.interval() == 15s);
    CHECK(flow.next_poll_time() == t0 + 50s);

    p = flow.on_token_response(response(200, R"({"token_type":"Bearer","scope":"IMAP.AccessAsUser.All","expires_in":4523,)"
                                             R"("access_token":"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA","refresh_token":"M.R3_BAY"})"),
                               t0 + 50s);
    CHECK(p.status == poll::success);
    CHECK(p.done());
    CHECK_FALSE(p.code);
    CHECK(p.token.access_token.reveal() == "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA");
    CHECK(p.token.refresh_token.reveal() == "M.R3_BAY");
    CHECK(flow.done());
    CHECK_FALSE(flow.due(t0 + 100s));
    CHECK(flow.poll_request("https://x.example/token", oauth::public_client{"cid"}, req).code ==
          make_error_code(errc::unexpected_call));
    CHECK(flow.on_token_response(pending(), t0 + 100s).code == make_error_code(errc::unexpected_call));
}

TEST_CASE("oauth: device flow ends on expired_token or access_denied or authorization_declined", "[oauth][device_flow]")
{
    {
        auto flow = microsoft_flow();
        const auto p = flow.on_token_response(response(400, R"({"error":"expired_token"})"), t0 + 5s);
        CHECK(p.status == poll::expired);
        CHECK(p.code == make_error_code(errc::oauth_error_response));
        CHECK(p.done());
        CHECK(flow.done());
    }
    {
        auto flow = microsoft_flow();
        const auto p = flow.on_token_response(response(400, R"({"error":"access_denied"})"), t0 + 5s);
        CHECK(p.status == poll::denied);
        CHECK(flow.done());
    }
    {
        auto flow = microsoft_flow();
        const auto p = flow.on_token_response(response(400, R"({"error":"authorization_declined","error_codes":[70000]})"), t0 + 5s);
        CHECK(p.status == poll::denied);
        CHECK(p.error.error == "authorization_declined");
        CHECK(flow.done());
    }
    {
        auto flow = microsoft_flow();
        const auto p = flow.on_token_response(response(400, R"({"error":"bad_verification_code"})"), t0 + 5s);
        CHECK(p.status == poll::failed);
        CHECK(p.code == make_error_code(errc::oauth_error_response));
        CHECK(flow.done());
    }
    {
        auto flow = microsoft_flow();
        const auto p = flow.on_token_response(response(502, "<html>Bad Gateway</html>"), t0 + 5s);
        CHECK(p.status == poll::failed);
        CHECK(p.code == make_error_code(errc::oauth_response_malformed));
    }
}

TEST_CASE("oauth: device flow expires locally and backs off after send failures", "[oauth][device_flow]")
{
    auto flow = microsoft_flow();
    CHECK(flow.on_token_response(pending(), t0 + 890s).status == poll::pending);
    CHECK(flow.next_poll_time() == t0 + 895s);
    const auto p = flow.on_token_response(pending(), t0 + 896s); // the next poll would come after expires_in
    CHECK(p.status == poll::expired);
    CHECK(p.code == make_error_code(errc::oauth_device_code_expired));
    CHECK(flow.done());

    auto other = microsoft_flow();
    CHECK_FALSE(other.due(t0 + 900s));
    other.on_send_failure(t0 + 5s);
    CHECK(other.interval() == 10s);
    CHECK(other.next_poll_time() == t0 + 15s);
    other.on_send_failure(t0 + 15s);
    CHECK(other.interval() == 20s);
    CHECK_FALSE(other.done());
}
