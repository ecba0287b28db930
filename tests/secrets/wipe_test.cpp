// Secret storage is wiped: every heap block this program frees is searched for marker credentials (raw and
// base64 at any alignment) while a check is on. Covers mailauth::secret on destruction, move construction,
// move and copy assignment, assign and clear, and the library code that handles credentials: the three
// machines with every mechanism (their line, SASL and LOGIN-command buffers, across a refresh-and-retry and a
// reset), and the token layer. Its own executable, since it replaces global operator new and delete.
#include "catch_compat.hpp"

#include <mailauth/mailauth.hpp>
#include <mailauth/oauth/authorization.hpp>
#include <mailauth/oauth/grants.hpp>
#include <mailauth/oauth/token_response.hpp>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wipe {

/// The marker and its base64 runs (the characters that depend only on the marker, for each alignment);
/// fixed-size storage, so the hooks never allocate.
struct patterns {
    std::array<std::array<char, 96>, 4> text{};
    std::array<std::size_t, 4> size{};
};

inline patterns active;
inline bool watching = false;
inline std::size_t freed = 0;
inline std::size_t dirty = 0; ///< freed blocks that still held the marker

inline void set_marker(std::string_view m)
{
    constexpr std::string_view b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    active = {};
    std::memcpy(active.text[0].data(), m.data(), m.size());
    active.size[0] = m.size();
    for (std::size_t shift = 0; shift < 3; ++shift) {
        const std::size_t bits = 8 * (shift + m.size());
        auto bit = [&](std::size_t i) -> unsigned {
            if (i < 8 * shift) return 0;
            i -= 8 * shift;
            return static_cast<unsigned char>(m[i / 8]) >> (7 - i % 8) & 1u;
        };
        std::size_t n = 0;
        for (std::size_t k = (8 * shift + 5) / 6; 6 * k + 6 <= bits; ++k) {
            unsigned v = 0;
            for (std::size_t b = 0; b < 6; ++b) v = v << 1 | bit(6 * k + b);
            active.text[shift + 1][n++] = b64[v];
        }
        active.size[shift + 1] = n;
    }
}

/// Whether `size` bytes at `p` hold the active marker, raw or as base64 at any alignment (only as base64 when
/// `base64_only`).
inline bool holds_marker(const void* p, std::size_t size, bool base64_only = false) noexcept
{
    for (std::size_t i = base64_only ? 1 : 0; i < active.text.size(); ++i)
        if (active.size[i] >= 8 && memmem(p, size, active.text[i].data(), active.size[i]) != nullptr) return true;
    return false;
}

inline void check_block(void* p) noexcept
{
    if (!watching || p == nullptr) return;
    ++freed;
    if (holds_marker(p, malloc_usable_size(p))) ++dirty;
}

/// Counts the dirty blocks freed while `f` runs with the marker `m`.
template <class F>
std::size_t dirty_blocks(std::string_view m, F&& f)
{
    set_marker(m);
    freed = 0;
    dirty = 0;
    watching = true;
    std::forward<F>(f)();
    watching = false;
    return dirty;
}

/// Makes `p` observable, so the optimiser can neither drop nor merge an allocation (clang may elide a
/// new/delete pair whose memory never escapes, which would hide the block from the hooks).
inline void escape(const void* p) noexcept { asm volatile("" : : "g"(p) : "memory"); }

} // namespace wipe

// Not inlined: g++ would otherwise pair the inlined malloc/free with new/delete and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t n)
{
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc{};
}
[[gnu::noinline]] void* operator new[](std::size_t n) { return operator new(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept
{
    wipe::check_block(p);
    std::free(p);
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n == 0 ? 1 : n); }
[[gnu::noinline]] void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n == 0 ? 1 : n); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { operator delete(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace {

constexpr std::string_view token_marker = "WipeTokenMarker-3f9a1c7e5b0d2468";
// A longer token, as a refresh would bring: contains the marker, so every copy of it is searched for too.
constexpr std::string_view refreshed_marker = "WipeTokenMarker-3f9a1c7e5b0d2468-refreshed-and-longer";
constexpr std::string_view password_marker = "WipePasswordMarker-8c2e4a6f0b1d3957";
constexpr std::string_view password_marker_8bit = "WipePasswordMarker-8c2e4a6f0b1d3957-\xC3\xA9";

/// Plays server lines in order and keeps nothing the client writes.
struct replay {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    std::error_code write_line(std::string_view) { return {}; }
    std::error_code read_line(std::string_view& out)
    {
        if (pos >= lines.size()) return make_error_code(mailauth::errc::connection_closed);
        out = lines[pos++];
        return {};
    }
    std::error_code start_tls() { return {}; }
};

mailauth::options login(std::string_view mechanism, bool token, std::string_view password = password_marker)
{
    mailauth::options o;
    o.user = "alice@example.test";
    o.tls = mailauth::tls_mode::implicit;
    o.ehlo_name = "client.example";
    o.policy.mechanisms = {std::string{mechanism}};
    if (token) o.token.assign(token_marker);
    else o.password.assign(password);
    return o;
}

template <class Machine>
std::size_t run(mailauth::options o, std::vector<std::string> lines, std::string_view marker, bool succeeds = true)
{
    return wipe::dirty_blocks(marker, [&] {
        Machine m{std::move(o)};
        replay t{std::move(lines), 0};
        const auto& result = mailauth::authenticate(t, m, [](const mailauth::outcome&) {
            return std::optional<mailauth::secret>{mailauth::secret{refreshed_marker}};
        });
        std::string exchange; // the redacted transcript, shown when a check fails
        for (std::size_t i = 0; i < result.transcript.size(); ++i)
            exchange.append(result.transcript[i].direction == mailauth::direction::client ? "C: " : "S: ")
                .append(result.transcript[i].text)
                .append("\n");
        INFO(exchange);
        CHECK(result.authenticated == succeeds);
        CHECK(t.pos == t.lines.size()); // the whole script was played
    });
}

} // namespace

TEST_CASE("wipe: a secret's bytes are zeroed before its storage is freed")
{
    CHECK(wipe::dirty_blocks(token_marker, [] { mailauth::secret s{token_marker}; }) == 0);
    CHECK(wipe::freed > 0); // the hook saw the block
    CHECK(wipe::dirty_blocks(token_marker, [] {
              mailauth::secret a{token_marker};
              mailauth::secret b{std::move(a)}; // move construction: one buffer, freed wiped with b
          }) == 0);
    CHECK(wipe::dirty_blocks(token_marker, [] {
              mailauth::secret a{token_marker};
              mailauth::secret b{"other bytes, long enough for the heap"};
              b = std::move(a); // b's old buffer wiped, a's now b's
              mailauth::secret c{b};  // a copy is a secret too
              c = b;
          }) == 0);
    CHECK(wipe::dirty_blocks(token_marker, [] {
              mailauth::secret s{token_marker};
              s.assign("replacement");
              s.assign(token_marker);
              s.clear();
          }) == 0);
    // The probe itself: a std::string is not wiped, and the hook notices (raw and base64).
    CHECK(wipe::dirty_blocks(token_marker, [] {
              std::string s{token_marker};
              s += " and more bytes for the heap";
              wipe::escape(s.data());
          }) >= 1);
    CHECK(wipe::dirty_blocks(token_marker, [] {
              std::string s = "user=x\x01auth=Bearer " + mailauth::base64::encode(std::string{"z"}.append(token_marker));
              wipe::escape(s.data());
          }) >= 1);
    // ... and the library's own helpers do wipe.
    CHECK(wipe::dirty_blocks(token_marker, [] {
              std::string s{token_marker};
              wipe::escape(s.data());
              mailauth::detail::reserve_wiped(s, 4096); // the old block is zeroed before it is freed
              s.append(" more");
              mailauth::detail::wipe(s);
          }) == 0);
}

TEST_CASE("wipe: the machines leave no credential in freed memory")
{
    using mailauth::imap_login_command;
    using mailauth::pop3_user_pass;
    const std::string smtp_greeting = "220 mx", ehlo = "250-mx", auth = "250 AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER";
    const std::string error = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=";
    const std::string chal = "334 " + std::string{error};
    const std::string plus = "+ " + std::string{error};

    SECTION("SMTP")
    {
        // XOAUTH2 inline, error challenge, 535, refresh, retry accepted: two tokens went through the buffers.
        CHECK(run<mailauth::smtp::client>(login("XOAUTH2", true),
                                          {smtp_greeting, ehlo, auth, chal, "535 5.7.8 no", "235 ok"}, token_marker) == 0);
        CHECK(run<mailauth::smtp::client>(login("OAUTHBEARER", true),
                                          {smtp_greeting, ehlo, auth, chal, "535 5.7.8 no", "235 ok"}, token_marker) == 0);
        CHECK(run<mailauth::smtp::client>(login("LOGIN", false),
                                          {smtp_greeting, ehlo, auth, "334 VXNlcg==", "334 UGFzcw==", "235 ok"},
                                          password_marker) == 0);
        CHECK(run<mailauth::smtp::client>(login("PLAIN", false), {smtp_greeting, ehlo, auth, "235 ok"}, password_marker) == 0);
        // Inline AUTH refused with 500, then the two-line form: the initial response is sent twice.
        CHECK(run<mailauth::smtp::client>(login("PLAIN", false),
                                          {smtp_greeting, ehlo, auth, "500 5.5.2 line too long", "334 ", "235 ok"},
                                          password_marker) == 0);
    }
    SECTION("IMAP")
    {
        CHECK(run<mailauth::imap::client>(login("OAUTHBEARER", true),
                                          {"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=OAUTHBEARER] hi", plus, "A1 NO no",
                                           "A2 OK yes"},
                                          token_marker) == 0);
        // Without SASL-IR (Microsoft 365): the response waits for the empty challenge.
        CHECK(run<mailauth::imap::client>(login("XOAUTH2", true),
                                          {"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi", "+ ", "A1 OK yes"},
                                          token_marker) == 0);
        CHECK(run<mailauth::imap::client>(login(imap_login_command, false), {"* OK [CAPABILITY IMAP4rev1] hi", "A1 OK yes"},
                                          password_marker) == 0);
        // An 8-bit password goes as a synchronising literal, in its own segment.
        CHECK(run<mailauth::imap::client>(login(imap_login_command, false, password_marker_8bit),
                                          {"* OK [CAPABILITY IMAP4rev1] hi", "+ go ahead", "A1 OK yes"},
                                          password_marker) == 0);
        // Refused before the literal was asked for: the LOGIN command still held the password.
        CHECK(run<mailauth::imap::client>(login(imap_login_command, false, password_marker_8bit), {"* OK [CAPABILITY IMAP4rev1] hi", "A1 NO no"},
                                          password_marker, false) == 0);
    }
    SECTION("POP3")
    {
        CHECK(run<mailauth::pop3::client>(login("PLAIN", false), {"+OK", "+OK", "SASL PLAIN", ".", "+OK yes"},
                                          password_marker) == 0);
        CHECK(run<mailauth::pop3::client>(login("XOAUTH2", true),
                                          {"+OK", "+OK", "SASL XOAUTH2", ".", "+ ", "+ " + std::string{error}, "-ERR no",
                                           "+ ", "+OK yes"},
                                          token_marker) == 0);
        CHECK(run<mailauth::pop3::client>(login(pop3_user_pass, false), {"+OK", "+OK", "USER", ".", "+OK", "+OK yes"},
                                          password_marker) == 0);
    }
    SECTION("a machine reused with reset() and one abandoned mid-exchange")
    {
        CHECK(wipe::dirty_blocks(token_marker, [] {
                  mailauth::imap::client m{login("XOAUTH2", true)};
                  m.feed("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi");
                  CHECK(std::holds_alternative<mailauth::send>(m.next()));
                  m.reset(); // a new connection; the sent line is forgotten
                  m.set_token(mailauth::secret{refreshed_marker});
                  m.feed("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi");
                  CHECK(std::holds_alternative<mailauth::send>(m.next()));
                  // destroyed here, waiting for the tagged reply
              }) == 0);
    }
}

TEST_CASE("wipe: the token layer leaves no token in freed memory")
{
    namespace oauth = mailauth::oauth;
    CHECK(wipe::dirty_blocks(token_marker, [] {
              oauth::http_response res;
              res.status = 200;
              std::string body;
              body.reserve(256); // no reallocation: every copy of the marker is this one block, wiped below
              body.append(R"({"access_token":")").append(token_marker).append(R"(","token_type":"Bearer","expires_in":3599})");
              res.body.assign(body);
              mailauth::detail::oauth_impl::wipe_string(body);
              const auto r = oauth::parse_token_response(res);
              CHECK(r);
          }) == 0);
    CHECK(wipe::dirty_blocks(token_marker, [] {
              oauth::http_request req;
              const oauth::client_auth auth = oauth::public_client{"client-id"};
              const mailauth::secret refresh{token_marker};
              CHECK_FALSE(oauth::refresh_token_request("https://login.example.com/token", auth, refresh, "mail", req));
          }) == 0);
    CHECK(wipe::dirty_blocks(token_marker, [] {
              std::string target;
              target.reserve(256);
              target.append("/callback?state=s-0123456789&code=").append(token_marker);
              const auto r = oauth::parse_redirect(target, "s-0123456789");
              mailauth::detail::oauth_impl::wipe_string(target);
              CHECK(r);
          }) == 0);
}

namespace {

/// Base64-encodes a credential-sized input made of the marker into a heap string, through encode_append's
/// stack buffer; the string is wiped before it returns, so only the stack can hold the encoding afterwards.
[[gnu::noinline]] void encode_on_the_stack(std::string_view marker, std::size_t copies)
{
    std::string in;
    std::string out;
    in.reserve(marker.size() * copies);
    for (std::size_t i = 0; i < copies; ++i) in.append(marker);
    out.reserve(4 * in.size() / 3 + 8);
    mailauth::base64::encode_append(in, out);
    wipe::escape(out.data());
    mailauth::detail::wipe(in);
    mailauth::detail::wipe(out);
}

/// Whether the stack below the caller's frame (where the last call's frames were) holds the marker's base64.
/// (Not the raw marker: building the input leaves that on the stack even when nothing is encoded.) Reads
/// uninitialised stack through a volatile pointer on purpose: that is the residue being looked for.
[[gnu::noinline]] bool stack_below_holds_marker()
{
    std::array<char, 16 * 1024> area; // NOLINT(cppcoreguidelines-pro-type-member-init): not initialised on purpose
    wipe::escape(area.data());
    static std::array<char, 16 * 1024> copy; // not on the stack, so `area` is all this frame has
    const volatile char* v = area.data();
    for (std::size_t i = 0; i < area.size(); ++i) copy[i] = v[i];
    return wipe::holds_marker(copy.data(), copy.size(), true);
}

} // namespace

// Under ASan (detect_stack_use_after_return) frames live in separate fake stacks and this finds nothing either
// way; the g++ and clang++ builds are the ones that would catch an unwiped buffer.
TEST_CASE("wipe: base64::encode_append leaves no credential on the stack")
{
    wipe::set_marker(token_marker);
    for (const std::size_t copies : {1U, 24U, 25U, 64U}) { // within one chunk of 768 bytes, at it, and several
        INFO("input of " << copies * token_marker.size() << " bytes");
        encode_on_the_stack(token_marker, copies);
        CHECK_FALSE(stack_below_holds_marker());
    }
}
