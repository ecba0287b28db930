// Tests for mailauth/oauth/client_auth.hpp: RFC 6749 §2.3.1 Basic and body credentials, RFC 7523 client assertions.
#include "catch_compat.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/detail/sha256.hpp>
#include <mailauth/oauth/client_auth.hpp>
#include <mailauth/oauth/grants.hpp>

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using mailauth::secret;

namespace {

/// Deterministic "random" bytes 0, 1, 2, ... (tests only).
oauth::random_source counting_random()
{
    return [n = 0u](std::span<unsigned char> out) mutable {
        for (auto& b : out) b = static_cast<unsigned char>(n++);
        return std::error_code{};
    };
}

const oauth::time_point t0{std::chrono::seconds{1700000000}};

std::string b64url_decode(std::string_view s)
{
    mailauth::error_detail e;
    std::string out = mailauth::base64::url_decode(s, e);
    REQUIRE_FALSE(e);
    return out;
}

} // namespace

TEST_CASE("oauth: client_secret_basic matches RFC 6749 §4.1.3", "[oauth][client_auth]")
{
    const secret h = oauth::basic_authorization("s6BhdRkqt3", secret{"7Fjfp0ZBr1KtDRbnfVdmIw"});
    CHECK(h.reveal() == "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3");
}

TEST_CASE("oauth: client_secret_basic form-encodes id and secret before base64 (RFC 6749 §2.3.1)", "[oauth][client_auth]")
{
    // "my client:1" : "p@ss w+rd/%~" -> "my+client%3A1:p%40ss+w%2Brd%2F%25%7E" -> base64
    const secret h = oauth::basic_authorization("my client:1", secret{"p@ss w+rd/%~"});
    CHECK(h.reveal() == "Basic bXkrY2xpZW50JTNBMTpwJTQwc3MrdyUyQnJkJTJGJTI1JTdF");
    std::string decoded = mailauth::base64::decode(h.reveal().substr(6));
    CHECK(decoded == "my+client%3A1:p%40ss+w%2Brd%2F%25%7E");
}

TEST_CASE("oauth: each client authentication method puts the credentials in one place only", "[oauth][client_auth]")
{
    const std::string ep = "https://server.example.com/token";
    oauth::http_request req;

    SECTION("basic: header only")
    {
        oauth::client_auth auth = oauth::client_secret_basic{"s6BhdRkqt3", secret{"7Fjfp0ZBr1KtDRbnfVdmIw"}};
        REQUIRE_FALSE(oauth::client_credentials_request(ep, auth, "", req));
        CHECK(req.authorization.reveal() == "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3");
        CHECK(req.body.reveal() == "grant_type=client_credentials");
    }
    SECTION("post: body only")
    {
        oauth::client_auth auth = oauth::client_secret_post{"s6BhdRkqt3", secret{"7Fjfp0ZBr1KtDRbnfVdmIw"}};
        REQUIRE_FALSE(oauth::client_credentials_request(ep, auth, "", req));
        CHECK(req.authorization.empty());
        CHECK(req.body.reveal() == "grant_type=client_credentials&client_id=s6BhdRkqt3&client_secret=7Fjfp0ZBr1KtDRbnfVdmIw");
    }
    SECTION("public client: client_id in the body, no secret")
    {
        oauth::client_auth auth = oauth::public_client{"my app"};
        REQUIRE_FALSE(oauth::refresh_token_request(ep, auth, secret{"rt"}, "", req));
        CHECK(req.authorization.empty());
        CHECK(req.body.reveal() == "grant_type=refresh_token&refresh_token=rt&client_id=my+app");
    }
    SECTION("a variant holds exactly one method")
    {
        oauth::client_auth auth = oauth::client_secret_post{"a", secret{"b"}};
        auth = oauth::client_secret_basic{"a", secret{"b"}};
        CHECK(std::holds_alternative<oauth::client_secret_basic>(auth));
        CHECK_FALSE(std::holds_alternative<oauth::client_secret_post>(auth));
        CHECK(oauth::client_id_of(auth) == "a");
        static_assert(std::variant_size_v<oauth::client_auth> == 4);
    }
    SECTION("empty client id or secret is refused")
    {
        CHECK(oauth::client_credentials_request(ep, oauth::client_secret_basic{"", secret{"x"}}, "", req).code ==
              make_error_code(errc::invalid_argument));
        CHECK(oauth::client_credentials_request(ep, oauth::client_secret_basic{"id", secret{}}, "", req).code ==
              make_error_code(errc::no_credentials));
        CHECK(oauth::client_credentials_request(ep, oauth::client_secret_post{"id", secret{}}, "", req).code ==
              make_error_code(errc::no_credentials));
        CHECK(req.body.empty());
        CHECK(req.url.empty());
    }
}

TEST_CASE("oauth: private_key_jwt builds an RFC 7523 client assertion", "[oauth][client_auth]")
{
    const std::string ep = "https://server.example.com/token";
    oauth::private_key_jwt key;
    key.client_id = "client-1";
    key.algorithm = "HS256";
    key.key_id = "key-1";
    key.extra_header = {{"x5t#S256", "thumb\"print"}};
    key.signer = oauth::hs256_signer(secret{"0123456789abcdef0123456789abcdef"});
    const oauth::request_context ctx{t0, counting_random()};

    std::string jwt;
    REQUIRE_FALSE(oauth::make_client_assertion(key, ep, ctx, jwt));
    const auto dot1 = jwt.find('.');
    const auto dot2 = jwt.find('.', dot1 + 1);
    REQUIRE(dot2 != std::string::npos);
    CHECK(b64url_decode(jwt.substr(0, dot1)) == R"({"alg":"HS256","typ":"JWT","kid":"key-1","x5t#S256":"thumb\"print"})");
    CHECK(b64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)) ==
          R"({"iss":"client-1","sub":"client-1","aud":"https://server.example.com/token",)"
          R"("jti":"AAECAwQFBgcICQoLDA0ODw","iat":1700000000,"nbf":1700000000,"exp":1700000300})");
    const auto mac = mailauth::detail::hmac_sha256("0123456789abcdef0123456789abcdef", jwt.substr(0, dot2));
    CHECK(b64url_decode(jwt.substr(dot2 + 1)) == mac.str());

    // The token request carries client_id, the assertion type and the assertion, and no Authorization header.
    oauth::http_request req;
    REQUIRE_FALSE(oauth::client_credentials_request(ep, key, "https://outlook.office365.com/.default", req, ctx));
    CHECK(req.authorization.empty());
    const std::string_view body = req.body.reveal();
    CHECK(body.starts_with("grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default"
                           "&client_id=client-1"
                           "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                           "&client_assertion=eyJ"));
    CHECK(body.find("client_secret") == std::string_view::npos);
}

TEST_CASE("oauth: private_key_jwt needs time and randomness and a working signer", "[oauth][client_auth]")
{
    const std::string ep = "https://server.example.com/token";
    oauth::private_key_jwt key;
    key.client_id = "c";
    key.signer = [](std::string_view, std::string& sig) {
        sig = "sig";
        return std::error_code{};
    };
    std::string jwt;
    CHECK(oauth::make_client_assertion(key, ep, {oauth::time_point{}, counting_random()}, jwt).code ==
          make_error_code(errc::invalid_argument));
    CHECK(oauth::make_client_assertion(key, ep, {t0, nullptr}, jwt).code == make_error_code(errc::invalid_argument));
    CHECK(jwt.empty());

    const auto rng_error = std::make_error_code(std::errc::resource_unavailable_try_again);
    CHECK(oauth::make_client_assertion(key, ep, {t0, [&](std::span<unsigned char>) { return rng_error; }}, jwt).code ==
          rng_error);

    const auto sign_error = std::make_error_code(std::errc::permission_denied);
    key.signer = [&](std::string_view, std::string&) { return sign_error; };
    oauth::http_request req;
    CHECK(oauth::client_credentials_request(ep, key, "", req, {t0, counting_random()}).code == sign_error);
    CHECK(req.body.empty());
    CHECK(req.url.empty());
}
