// Tests for mailauth/oauth/authorization.hpp: the authorization URL (RFC 6749 §4.1.1, RFC 7636, RFC 8252)
// and the redirect back (state, RFC 9207 iss, error redirects).
#include "catch_compat.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/oauth/authorization.hpp>

#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using status = oauth::redirect_status;

namespace {

oauth::random_source counting_random()
{
    return [n = 0u](std::span<unsigned char> out) mutable {
        for (auto& b : out) b = static_cast<unsigned char>(n++);
        return std::error_code{};
    };
}

oauth::authorization_request google_like()
{
    oauth::authorization_request r;
    r.endpoint = "https://accounts.google.com/o/oauth2/v2/auth";
    r.client_id = "123.apps.googleusercontent.com";
    r.redirect_uri = oauth::loopback_redirect_uri(53682);
    r.scope = "https://mail.google.com/";
    r.state = "af0ifjsldkj";
    r.nonce = "n-0S6_WzA2Mj";
    r.prompt = "consent";
    r.login_hint = "user@example.com";
    r.access_type = "offline";
    r.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    return r;
}

constexpr std::string_view state = "af0ifjsldkj";
constexpr std::string_view issuer = "https://server.example.com";

} // namespace

TEST_CASE("oauth: loopback redirect URIs (RFC 8252 §7.3)", "[oauth][authorization]")
{
    CHECK(oauth::loopback_redirect_uri(53682) == "http://127.0.0.1:53682/callback");
    CHECK(oauth::loopback_redirect_uri(8080, "cb") == "http://127.0.0.1:8080/cb");
    CHECK(oauth::loopback_redirect_uri(1, "/") == "http://127.0.0.1:1/");
}

TEST_CASE("oauth: the authorization URL byte for byte", "[oauth][authorization]")
{
    std::string url;
    REQUIRE_FALSE(oauth::authorization_url(google_like(), url));
    CHECK(url == "https://accounts.google.com/o/oauth2/v2/auth?response_type=code"
                 "&client_id=123.apps.googleusercontent.com"
                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcallback"
                 "&scope=https%3A%2F%2Fmail.google.com%2F"
                 "&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&prompt=consent&login_hint=user%40example.com"
                 "&access_type=offline&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                 "&code_challenge_method=S256");

    auto ms = google_like();
    ms.endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
    ms.scope = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access";
    ms.nonce.clear();
    ms.prompt.clear();
    ms.login_hint.clear();
    ms.access_type.clear();
    ms.extra = {{"response_mode", "query"}};
    REQUIRE_FALSE(oauth::authorization_url(ms, url));
    CHECK(url == "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?response_type=code"
                 "&client_id=123.apps.googleusercontent.com"
                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcallback"
                 "&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access"
                 "&state=af0ifjsldkj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                 "&code_challenge_method=S256&response_mode=query");
}

TEST_CASE("oauth: authorization_url refuses incomplete or conflicting requests", "[oauth][authorization]")
{
    std::string url = "stale";
    auto r = google_like();
    r.state.clear();
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
    CHECK(url.empty());
    r = google_like();
    r.code_challenge = "plain-verifier";
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
    r = google_like();
    r.extra = {{"state", "second"}};
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
    r = google_like();
    r.endpoint = "https://accounts.google.com/auth#frag";
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::url_invalid));
    r = google_like();
    r.redirect_uri = "http://127.0.0.1:1/cb\r\n";
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
    r = google_like();
    r.redirect_uri = "http://127.0.0.1:1/cb#x";
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
    r = google_like();
    r.redirect_uri = "callback";
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
    r = google_like();
    r.redirect_uri = "com.example.app:/oauth2redirect"; // private-use scheme (RFC 8252 §7.1)
    CHECK_FALSE(oauth::authorization_url(r, url));
    CHECK(url.find("&redirect_uri=com.example.app%3A%2Foauth2redirect&") != std::string::npos);
    r = google_like();
    r.client_id.clear();
    CHECK(oauth::authorization_url(r, url).code == make_error_code(errc::invalid_argument));
}

TEST_CASE("oauth: begin_authorization fills state and PKCE from the random source", "[oauth][authorization]")
{
    auto r = google_like();
    oauth::authorization_session s;
    REQUIRE_FALSE(oauth::begin_authorization(r, counting_random(), s));
    std::string first32;
    for (int i = 0; i < 32; ++i) first32 += static_cast<char>(i);
    CHECK(s.state == mailauth::base64::url_encode(first32));
    CHECK(r.state == s.state);
    CHECK(s.proof.verifier.size() == 64);
    CHECK(r.code_challenge == s.proof.challenge);
    CHECK(s.redirect_uri == "http://127.0.0.1:53682/callback");
    std::string url;
    REQUIRE_FALSE(oauth::authorization_url(r, url));
    CHECK(url.find("&code_challenge=" + s.proof.challenge + "&") != std::string::npos);
    CHECK(url.find(std::string(s.proof.verifier.reveal())) == std::string::npos); // the verifier never leaves
}

TEST_CASE("oauth: a good redirect yields the code", "[oauth][authorization]")
{
    auto r = oauth::parse_redirect("/callback?code=4%2F0AX4Xf-code&scope=https%3A%2F%2Fmail.google.com%2F&state=af0ifjsldkj"
                                   "&iss=https%3A%2F%2Fserver.example.com", state, issuer);
    REQUIRE(r);
    CHECK(r.status == status::code);
    CHECK(r.authorization_code.reveal() == "4/0AX4Xf-code");
    CHECK(r.issuer == issuer);

    r = oauth::parse_redirect("http://127.0.0.1:53682/callback?state=af0ifjsldkj&code=abc#_=_", state);
    REQUIRE(r);
    CHECK(r.authorization_code.reveal() == "abc");

    oauth::authorization_session s;
    s.state = "xyz";
    r = oauth::parse_redirect("/callback?code=c1&state=xyz&iss=https%3A%2F%2Fother.example", s); // iss not expected
    REQUIRE(r);
    CHECK(r.issuer == "https://other.example");
}

TEST_CASE("oauth: redirect state is checked first", "[oauth][authorization]")
{
    auto r = oauth::parse_redirect("/callback?code=abc&state=af0ifjsldkJ", state);
    CHECK(r.status == status::state_mismatch);
    CHECK(r.code == make_error_code(errc::oauth_state_mismatch));
    CHECK(r.authorization_code.empty());
    CHECK(r.message().find("state") != std::string::npos);
    CHECK(r.message().find("abc") == std::string::npos);

    r = oauth::parse_redirect("/callback?code=abc", state);
    CHECK(r.status == status::state_mismatch);
    r = oauth::parse_redirect("/callback?code=abc&state=", state);
    CHECK(r.status == status::state_mismatch);
    // an error redirect with a foreign state may be forged: it is a state mismatch, not an error to show
    r = oauth::parse_redirect("/callback?error=access_denied&state=evil", state);
    CHECK(r.status == status::state_mismatch);
    CHECK(r.error.empty());
    // no expected state: refuse rather than accept anything
    r = oauth::parse_redirect("/callback?code=abc&state=", "");
    CHECK(r.status == status::state_mismatch);
    CHECK(r.code == make_error_code(errc::invalid_argument));
}

TEST_CASE("oauth: redirect iss is checked when expected (RFC 9207)", "[oauth][authorization]")
{
    auto r = oauth::parse_redirect("/callback?code=abc&state=af0ifjsldkj&iss=https%3A%2F%2Fevil.example", state, issuer);
    CHECK(r.status == status::issuer_mismatch);
    CHECK(r.code == make_error_code(errc::oauth_issuer_mismatch));
    CHECK(r.authorization_code.empty());
    r = oauth::parse_redirect("/callback?code=abc&state=af0ifjsldkj", state, issuer);
    CHECK(r.status == status::issuer_mismatch);
    r = oauth::parse_redirect("/callback?error=access_denied&state=af0ifjsldkj&iss=https%3A%2F%2Fevil.example", state, issuer);
    CHECK(r.status == status::issuer_mismatch);
}

TEST_CASE("oauth: error redirects surface error and error_description", "[oauth][authorization]")
{
    const auto r = oauth::parse_redirect("/callback?error=access_denied&error_description=The+user+declined%0D%0Aconsent"
                                         "&error_uri=https%3A%2F%2Fe.example&state=af0ifjsldkj&iss=https%3A%2F%2Fserver.example.com",
                                         state, issuer);
    CHECK(r.status == status::error);
    CHECK(r.code == make_error_code(errc::oauth_error_response));
    CHECK(r.error == "access_denied");
    CHECK(r.error_description == "The user declined  consent");
    CHECK(r.error_uri == "https://e.example");
    CHECK(r.message() == "authorization redirect: access_denied: The user declined  consent");
}

TEST_CASE("oauth: malformed redirects", "[oauth][authorization]")
{
    auto r = oauth::parse_redirect("/callback?state=af0ifjsldkj", state);
    CHECK(r.status == status::missing_code);
    CHECK(r.code == make_error_code(errc::oauth_missing_code));
    r = oauth::parse_redirect("/callback?state=af0ifjsldkj&code=", state);
    CHECK(r.status == status::missing_code);
    r = oauth::parse_redirect("/callback", state);
    CHECK(r.status == status::state_mismatch);
    r = oauth::parse_redirect("/callback?code=a&code=b&state=af0ifjsldkj", state);
    CHECK(r.status == status::malformed);
    r = oauth::parse_redirect("/callback?code=a&state=af0ifjsldkj&state=af0ifjsldkj", state);
    CHECK(r.status == status::malformed);
    r = oauth::parse_redirect("/callback?code=%zz&state=af0ifjsldkj", state);
    CHECK(r.status == status::malformed);
    CHECK(r.code == make_error_code(errc::oauth_redirect_malformed));
    CHECK(r.authorization_code.empty());
}
