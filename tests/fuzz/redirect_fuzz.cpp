// libFuzzer target: the authorization redirect parser (RFC 6749 §4.1.2, RFC 9207 iss) and the URL pieces
// under it (query parsing, percent/form coding, URL splitting). Byte 0: bits 0-1 the expected state,
// bit 2 an expected issuer; the rest is the callback request target or URL.
#include "fuzz_support.hpp"

#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/authorization.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace oauth = mailauth::oauth;
namespace url = mailauth::detail::url;
using mailauth_fuzz::contains;

constexpr std::string_view states[] = {"xyz", "q8Fh2mZ0kPZ4yW1nB7dXcVtR3sLgA6eJ-u_oIiN9", "a b+c/d=e&f", "\xC3\xA9t\xC3\xA9"};

bool printable(std::string_view s) noexcept
{
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
    return true;
}

void redirect(std::string_view target, std::string_view state, std::string_view issuer)
{
    const oauth::redirect_result r = oauth::parse_redirect(target, state, issuer);
    MAILAUTH_FUZZ_CHECK((r.status == oauth::redirect_status::code) == static_cast<bool>(r));
    MAILAUTH_FUZZ_CHECK(printable(r.error) && printable(r.error_description) && printable(r.error_uri) &&
                        printable(r.issuer));
    const std::string message = r.message();
    MAILAUTH_FUZZ_CHECK(!message.empty());
    if (r) {
        MAILAUTH_FUZZ_CHECK(!r.authorization_code.empty());
        // The message names no code: it is the fixed text.
        MAILAUTH_FUZZ_CHECK(message == "authorization redirect: code received");
        // A code only comes with the right state (and issuer when one is expected) in the query.
        const auto q = target.find('?');
        MAILAUTH_FUZZ_CHECK(q != std::string_view::npos);
        url::query_params params;
        auto query = target.substr(q + 1);
        query = query.substr(0, query.find('#'));
        MAILAUTH_FUZZ_CHECK(!url::parse_query(query, params));
        const std::string* s = url::find_param(params, "state");
        MAILAUTH_FUZZ_CHECK(s != nullptr && *s == state && url::count_param(params, "state") == 1);
        if (!issuer.empty()) MAILAUTH_FUZZ_CHECK(url::find_param(params, "iss") != nullptr);
        MAILAUTH_FUZZ_CHECK(url::find_param(params, "error") == nullptr);
    } else {
        MAILAUTH_FUZZ_CHECK(r.authorization_code.empty());
        MAILAUTH_FUZZ_CHECK(&r.code.category() == &mailauth::error_category());
        if (r.status != oauth::redirect_status::error) MAILAUTH_FUZZ_CHECK(r.error.empty());
    }
    // The state never shows in a message unless the server put it into the error text.
    if (state.size() >= 16 && !contains(r.error, state) && !contains(r.error_description, state))
        MAILAUTH_FUZZ_CHECK(!contains(message, state));
}

void url_pieces(std::string_view in)
{
    // Encoders and decoders are inverse.
    std::string back;
    MAILAUTH_FUZZ_CHECK(!url::form_decode(url::form_encode(in), back) && back == in);
    MAILAUTH_FUZZ_CHECK(!url::percent_decode(url::percent_encode(in), back, false) && back == in);
    for (char c : url::percent_encode(in)) MAILAUTH_FUZZ_CHECK(url::is_unreserved(c) || c == '%');

    // Decoding: an error names a '%' in the input; success never grows the text.
    if (const auto e = url::percent_decode(in, back, true)) {
        MAILAUTH_FUZZ_CHECK(e.offset < in.size() && in[e.offset] == '%' && back.empty());
    } else {
        MAILAUTH_FUZZ_CHECK(back.size() <= in.size());
    }

    // Query parsing: offsets inside the query; pairs in order.
    url::query_params params;
    if (const auto e = url::parse_query(in, params)) {
        MAILAUTH_FUZZ_CHECK(e.offset < in.size() && in[e.offset] == '%' && params.empty());
    }

    // URL splitting.
    url::parts p;
    if (const auto e = url::split(in, p)) {
        MAILAUTH_FUZZ_CHECK(e.offset <= in.size());
        if (e.byte >= 0) MAILAUTH_FUZZ_CHECK(e.offset < in.size() && static_cast<unsigned char>(in[e.offset]) == e.byte);
    } else {
        MAILAUTH_FUZZ_CHECK(p.scheme == "http" || p.scheme == "https");
        MAILAUTH_FUZZ_CHECK(!p.host.empty() && p.port != 0);
        MAILAUTH_FUZZ_CHECK(!p.target.empty() && p.target.front() == '/');
        MAILAUTH_FUZZ_CHECK(contains(in, p.host));
        for (char c : p.host + p.target) MAILAUTH_FUZZ_CHECK(!url::is_forbidden_url_byte(c) && c != '#');
        if (!p.explicit_port) MAILAUTH_FUZZ_CHECK(p.port == (p.scheme == "https" ? 443 : 80));
        // A split URL joins back to an equivalent URL that splits the same way.
        std::string joined = p.scheme + "://" + p.host + ":" + std::to_string(p.port) + p.target;
        url::parts again;
        MAILAUTH_FUZZ_CHECK(!url::split(joined, again));
        MAILAUTH_FUZZ_CHECK(again.host == p.host && again.port == p.port && again.target == p.target);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto in = mailauth_fuzz::as_view(data, size);
    const unsigned sel = mailauth_fuzz::take_byte(in);
    const std::string_view issuer = (sel & 4u) != 0 ? "https://login.example.com" : "";
    redirect(in, states[sel & 3u], issuer);
    url_pieces(in);
    return 0;
}
