// Tests for mailauth/oauth/grants.hpp: byte-exact token requests (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7636 §4.5).
#include "catch_compat.hpp"

#include <mailauth/oauth/grants.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using mailauth::secret;

namespace {

std::vector<std::string> headers_of(const oauth::http_request& req)
{
    std::vector<std::string> out;
    req.for_each_header([&](std::string_view n, std::string_view v) { out.push_back(std::string(n) + ": " + std::string(v)); });
    return out;
}

} // namespace

TEST_CASE("oauth: authorization code exchange request (RFC 6749 §4.1.3 + PKCE)", "[oauth][grants]")
{
    oauth::http_request req;
    const oauth::client_auth auth = oauth::client_secret_basic{"s6BhdRkqt3", secret{"7Fjfp0ZBr1KtDRbnfVdmIw"}};
    REQUIRE_FALSE(oauth::authorization_code_request("https://server.example.com/token", auth, secret{"SplxlOBeZQQYbYS6WxSbIA"},
                                                    "https://client.example.com/cb",
                                                    secret{"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}, req));
    CHECK(req.method == "POST");
    CHECK(req.url == "https://server.example.com/token");
    CHECK(headers_of(req) == std::vector<std::string>{"Content-Type: application/x-www-form-urlencoded",
                                                      "Accept: application/json",
                                                      "Authorization: Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3"});
    CHECK(req.header("content-type") == "application/x-www-form-urlencoded");
    CHECK(req.header("Authorization").empty()); // secret headers are not reachable as plain strings
    CHECK(req.body.reveal() == "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA"
                               "&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb"
                               "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

TEST_CASE("oauth: refresh request for a public Microsoft client", "[oauth][grants]")
{
    oauth::http_request req;
    REQUIRE_FALSE(oauth::refresh_token_request(
        "https://login.microsoftonline.com/common/oauth2/v2.0/token", oauth::public_client{"11111111-2222-3333-4444-555555555555"},
        secret{"0.AAA-rt/x+y="}, "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", req));
    CHECK(req.body.reveal() == "grant_type=refresh_token&refresh_token=0.AAA-rt%2Fx%2By%3D"
                               "&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access"
                               "&client_id=11111111-2222-3333-4444-555555555555");
    CHECK(req.authorization.empty());
}

TEST_CASE("oauth: client credentials request (RFC 6749 §4.4.2)", "[oauth][grants]")
{
    oauth::http_request req;
    const oauth::client_auth auth = oauth::client_secret_post{"app", secret{"s3cr3t~"}};
    REQUIRE_FALSE(oauth::client_credentials_request("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
                                                    auth, "https://outlook.office365.com/.default", req));
    CHECK(req.body.reveal() == "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default"
                               "&client_id=app&client_secret=s3cr3t%7E");
}

TEST_CASE("oauth: grant requests refuse bad input and leave no half-built request", "[oauth][grants]")
{
    oauth::http_request req;
    const oauth::client_auth pub = oauth::public_client{"app"};
    CHECK(oauth::client_credentials_request("https://a.example/token", pub, "", req).code ==
          make_error_code(errc::no_credentials)); // client credentials need a confidential client (§4.4)
    CHECK(oauth::refresh_token_request("https://a.example/token", pub, secret{}, "", req).code ==
          make_error_code(errc::no_credentials));
    CHECK(oauth::authorization_code_request("https://a.example/token", pub, secret{}, "", secret{}, req).code ==
          make_error_code(errc::no_credentials));
    CHECK(oauth::refresh_token_request("https://a.example/token\r\nX: y", pub, secret{"rt"}, "", req).code ==
          make_error_code(errc::url_invalid));
    CHECK(oauth::refresh_token_request("ftp://a.example/token", pub, secret{"rt"}, "", req).code ==
          make_error_code(errc::url_invalid));
    CHECK(oauth::refresh_token_request("https://a.example/token#x", pub, secret{"rt"}, "", req).code ==
          make_error_code(errc::url_invalid));
    CHECK(req.url.empty());
    CHECK(req.body.empty());
    CHECK(req.headers.empty());
}

TEST_CASE("oauth: make_token_request keeps an endpoint's own query", "[oauth][grants]")
{
    oauth::http_request req;
    mailauth::oauth::form_fields form;
    form.add("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange").add("x", "a b");
    REQUIRE_FALSE(oauth::make_token_request("http://127.0.0.1:3000/token?tenant=t1", oauth::public_client{"c"}, form, req));
    CHECK(req.url == "http://127.0.0.1:3000/token?tenant=t1");
    CHECK(req.body.reveal() == "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&x=a+b&client_id=c");
}
