// libFuzzer target: the token-endpoint response parsers (RFC 6749 §5.1/§5.2), the device authorization
// response and the device flow's poll schedule (RFC 8628). Byte 0: bits 0-2 the HTTP status, bits 3-4 the
// parser; the rest is the body (for the device flow: several bodies separated by "\n--\n").
#include "fuzz_support.hpp"

#include <mailauth/detail/json.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/device_flow.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/secret.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace {

namespace oauth = mailauth::oauth;
namespace json = mailauth::detail::json;
using mailauth_fuzz::contains;

constexpr unsigned statuses[] = {200, 201, 400, 401, 403, 500, 302, 0};

oauth::http_response response(unsigned status, std::string_view body)
{
    oauth::http_response r;
    r.status = status;
    r.content_type = "application/json";
    r.body.assign(body);
    return r;
}

bool success_status(unsigned s) noexcept { return s >= 200 && s < 300; }

bool token_text(std::string_view s) noexcept
{
    if (s.empty()) return false;
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) return false;
    return true;
}

/// Whether texts may be checked for `member`'s value: it looks like a credential (16+ visible ASCII bytes, longer
/// than any word of the library's own texts) and no other member (which may be quoted) holds it.
bool checkable(const json::object& obj, std::string_view member, std::string& value)
{
    const auto v = obj.get_string(member);
    if (!v || v->size() < 16 || !token_text(*v)) return false;
    for (const auto& [key, other] : obj.members())
        if (key != member && (contains(other.text, *v) || contains(key, *v))) return false;
    value.assign(*v);
    return true;
}

/// The server texts kept from a response (error, description, uri, excerpt: what messages are built from) never
/// hold its credentials, unless another member carried the same bytes.
void check_no_credentials(std::string_view body, std::initializer_list<std::string_view> texts)
{
    json::object obj;
    if (json::parse_object(body, obj)) return;
    std::string value;
    for (auto member : {"access_token", "refresh_token", "device_code", "id_token"})
        if (checkable(obj, member, value))
            for (auto text : texts) MAILAUTH_FUZZ_CHECK(!contains(text, value));
}

void check_no_credentials(std::string_view body, const oauth::token_error& e)
{
    check_no_credentials(body, {e.error, e.description, e.uri, e.body_excerpt});
}

void check_error_fields(const oauth::token_error& e, unsigned status)
{
    MAILAUTH_FUZZ_CHECK(e.http_status == status);
    MAILAUTH_FUZZ_CHECK(e.error.size() <= oauth::max_error_text + 3 && e.description.size() <= oauth::max_error_text + 3);
    for (char c : e.error + e.description + e.uri + e.body_excerpt) MAILAUTH_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
    if (success_status(status)) {
        // A success body may hold a token: it is never excerpted, and no byte of it is named.
        MAILAUTH_FUZZ_CHECK(e.body_excerpt.empty());
        MAILAUTH_FUZZ_CHECK(e.json_error.byte == -1);
    }
    (void)e.hint();
}

void token_response(unsigned status, std::string_view body)
{
    const auto res = response(status, body);
    const oauth::token_result r = oauth::parse_token_response(res);
    check_error_fields(r.error, status);
    const std::string message = r.error.message();
    check_no_credentials(body, r.error);
    if (r) {
        MAILAUTH_FUZZ_CHECK(success_status(status));
        MAILAUTH_FUZZ_CHECK(token_text(r.token.access_token.reveal()));
        MAILAUTH_FUZZ_CHECK(r.token.token_type.empty() || mailauth::detail::iequals(r.token.token_type, "bearer"));
        if (r.token.expires_in) {
            MAILAUTH_FUZZ_CHECK(r.token.expires_in->count() >= 0);
            MAILAUTH_FUZZ_CHECK(static_cast<std::uint64_t>(r.token.expires_in->count()) <= oauth::max_expires_in);
        }
        if (!r.token.refresh_token.empty()) MAILAUTH_FUZZ_CHECK(token_text(r.token.refresh_token.reveal()));

        // Applying it: the new access token replaces the old, a new refresh token must be persisted.
        oauth::token_set set;
        set.access_token.assign("old-access");
        set.refresh_token.assign("old-refresh");
        const std::string new_access{r.token.access_token.reveal()};
        const std::string new_refresh{r.token.refresh_token.reveal()};
        oauth::token_response moved = oauth::parse_token_response(res).token;
        const oauth::time_point now{std::chrono::seconds{1700000000}};
        const auto u = oauth::apply_token_response(set, std::move(moved), now);
        MAILAUTH_FUZZ_CHECK(set.access_token.reveal() == new_access);
        MAILAUTH_FUZZ_CHECK(u.must_persist == (!new_refresh.empty() && new_refresh != "old-refresh"));
        MAILAUTH_FUZZ_CHECK(set.refresh_token.reveal() == (new_refresh.empty() ? std::string{"old-refresh"} : new_refresh));
        if (set.expires_at) MAILAUTH_FUZZ_CHECK(*set.expires_at >= now);
    } else {
        MAILAUTH_FUZZ_CHECK(r.token.access_token.empty());
        MAILAUTH_FUZZ_CHECK(&r.code.category() == &mailauth::error_category());
        MAILAUTH_FUZZ_CHECK(!message.empty());
    }
}

void device_authorization(unsigned status, std::string_view body)
{
    const auto r = oauth::parse_device_authorization(response(status, body));
    check_error_fields(r.error, status);
    check_no_credentials(body, r.error);
    if (!r) return;
    const auto& a = r.authorization;
    MAILAUTH_FUZZ_CHECK(success_status(status));
    MAILAUTH_FUZZ_CHECK(token_text(a.device_code.reveal()) && token_text(a.user_code));
    MAILAUTH_FUZZ_CHECK(!a.verification_uri.empty());
    MAILAUTH_FUZZ_CHECK(a.expires_in.count() > 0 && a.interval.count() >= 1 && a.interval.count() <= 3600);
    check_no_credentials(body, {a.message, a.user_code, a.verification_uri});
}

void device_flow(unsigned status, std::string_view bodies)
{
    oauth::device_authorization a;
    a.device_code.assign("device-code-0123456789");
    a.user_code = "ABCD-EFGH";
    a.verification_uri = "https://example.com/device";
    a.expires_in = std::chrono::seconds{900};
    a.interval = std::chrono::seconds{5};
    oauth::time_point now{std::chrono::seconds{1700000000}};
    const auto expires = now + a.expires_in;
    oauth::device_flow flow{std::move(a), now};
    unsigned polls = 0;
    while (polls < 16) {
        const auto sep = bodies.find("\n--\n");
        const auto body = bodies.substr(0, sep);
        const auto before = flow.interval();
        const bool was_done = flow.done();
        now = flow.next_poll_time();
        const auto p = flow.on_token_response(response(status, body), now);
        ++polls;
        if (was_done) {
            MAILAUTH_FUZZ_CHECK(p.code == make_error_code(mailauth::errc::unexpected_call));
            break;
        }
        check_error_fields(p.error, status);
        switch (p.status) {
        case oauth::device_poll_status::pending:
        case oauth::device_poll_status::slow_down:
            MAILAUTH_FUZZ_CHECK(!p.code && !flow.done() && !p.done());
            MAILAUTH_FUZZ_CHECK(flow.interval() == before + std::chrono::seconds{p.status == oauth::device_poll_status::slow_down ? 5 : 0});
            MAILAUTH_FUZZ_CHECK(flow.next_poll_time() > now && flow.next_poll_time() < expires);
            MAILAUTH_FUZZ_CHECK(!flow.due(now));
            break;
        case oauth::device_poll_status::success:
            MAILAUTH_FUZZ_CHECK(!p.code && flow.done() && token_text(p.token.access_token.reveal()));
            break;
        default:
            MAILAUTH_FUZZ_CHECK(p.code && flow.done() && p.done());
            break;
        }
        if (flow.done()) {
            MAILAUTH_FUZZ_CHECK(!flow.due(now));
            oauth::http_request req;
            oauth::client_auth none;
            MAILAUTH_FUZZ_CHECK(flow.poll_request("https://example.com/token", none, req).code ==
                                make_error_code(mailauth::errc::unexpected_call));
        }
        if (sep == std::string_view::npos) break;
        bodies.remove_prefix(sep + 4);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto in = mailauth_fuzz::as_view(data, size);
    const unsigned sel = mailauth_fuzz::take_byte(in);
    const unsigned status = statuses[sel & 7u];
    switch (sel >> 3 & 3u) {
    case 0:
    case 3: token_response(status, in); break;
    case 1: device_authorization(status, in); break;
    default: device_flow(status, in); break;
    }
    return 0;
}
