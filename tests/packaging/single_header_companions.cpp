// Uses the single header's companions with nothing but single_include/ on the include path:
// mailauth_oauth.hpp (the token layer) and, when fmt is installed, mailauth_fmt.hpp.
#include <mailauth_oauth.hpp>
#ifdef MAILAUTH_TEST_FMT
#include <mailauth_fmt.hpp>
#endif

#include <cstdio>
#include <string>
#include <string_view>

namespace {

int failures = 0;

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}

} // namespace

int main()
{
    // RFC 7636 Appendix B: the S256 challenge of the example verifier.
    mailauth::oauth::pkce proof;
    const auto ec = mailauth::oauth::make_pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", proof);
    check(!ec && proof.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "PKCE S256 (RFC 7636 Appendix B)");

    const mailauth::oauth::provider google = mailauth::oauth::google();
    const auto* imap = google.server(mailauth::oauth::mail_protocol::imap);
    check(imap != nullptr && imap->host == "imap.gmail.com" && imap->port == 993, "google() IMAP server");

    // The base header is there too: the companion includes it.
    check(mailauth::base64::encode("mailauth") == "bWFpbGF1dGg=", "base64 from the base header");

#ifdef MAILAUTH_TEST_FMT
    const mailauth::secret token{"ya29.not-to-be-printed"};
    check(fmt::format("{}", token) == "<redacted>", "fmt formats a secret as <redacted>");
    check(fmt::format("{}", mailauth::verdict::token_rejected) == "token_rejected", "fmt formats a verdict");
#endif

    if (failures != 0) return 1;
    std::puts("single header companions: ok");
    return 0;
}
