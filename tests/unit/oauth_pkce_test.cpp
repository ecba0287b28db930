// Tests for mailauth/oauth/pkce.hpp: RFC 7636 S256 challenges, Appendix B, verifier generation.
#include "catch_compat.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/oauth/pkce.hpp>

#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace oauth = mailauth::oauth;
using mailauth::errc;

namespace {

oauth::random_source counting_random(unsigned start = 0)
{
    return [n = start](std::span<unsigned char> out) mutable {
        for (auto& b : out) b = static_cast<unsigned char>(n++);
        return std::error_code{};
    };
}

} // namespace

TEST_CASE("oauth: PKCE S256 matches RFC 7636 Appendix B", "[oauth][pkce]")
{
    const unsigned char octets[] = {116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                                    22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121};
    const std::string verifier = mailauth::base64::url_encode({reinterpret_cast<const char*>(octets), sizeof octets});
    CHECK(verifier == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    CHECK(oauth::pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");

    oauth::pkce p;
    REQUIRE_FALSE(oauth::make_pkce(verifier, p));
    CHECK(p.verifier.reveal() == verifier);
    CHECK(p.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    CHECK(oauth::pkce::method == "S256");
}

TEST_CASE("oauth: code verifiers are 43-128 unreserved characters (RFC 7636 §4.1)", "[oauth][pkce]")
{
    CHECK(oauth::is_code_verifier(std::string(43, 'a')));
    CHECK(oauth::is_code_verifier(std::string(128, '~')));
    CHECK(oauth::is_code_verifier(std::string(40, '-') + "._~"));
    CHECK_FALSE(oauth::is_code_verifier(std::string(42, 'a')));
    CHECK_FALSE(oauth::is_code_verifier(std::string(129, 'a')));
    CHECK_FALSE(oauth::is_code_verifier(std::string(42, 'a') + "+"));
    CHECK_FALSE(oauth::is_code_verifier(std::string(42, 'a') + "="));
    oauth::pkce p;
    CHECK(oauth::make_pkce(std::string(42, 'a'), p) == make_error_code(errc::invalid_argument));
    CHECK(p.verifier.empty());
    CHECK(p.challenge.empty());
}

TEST_CASE("oauth: make_pkce draws the verifier from the caller's random source", "[oauth][pkce]")
{
    oauth::pkce p;
    REQUIRE_FALSE(oauth::make_pkce(counting_random(), p));
    CHECK(p.verifier.size() == 64);
    CHECK(p.verifier.reveal() == "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    CHECK(p.challenge == oauth::pkce_challenge(p.verifier.reveal()));
    CHECK(p.challenge.size() == 43);

    REQUIRE_FALSE(oauth::make_pkce(counting_random(200), p, 43));
    CHECK(p.verifier.size() == 43);
    CHECK(oauth::is_code_verifier(p.verifier.reveal()));
    REQUIRE_FALSE(oauth::make_pkce(counting_random(), p, 128));
    CHECK(oauth::is_code_verifier(p.verifier.reveal()));

    CHECK(oauth::make_pkce(counting_random(), p, 42) == make_error_code(errc::invalid_argument));
    CHECK(oauth::make_pkce(counting_random(), p, 129) == make_error_code(errc::invalid_argument));
    CHECK(oauth::make_pkce(oauth::random_source{}, p) == make_error_code(errc::invalid_argument));
    const auto failure = std::make_error_code(std::errc::io_error);
    CHECK(oauth::make_pkce([&](std::span<unsigned char>) { return failure; }, p) == failure);
    CHECK(p.verifier.empty());
}
