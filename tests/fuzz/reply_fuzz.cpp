// libFuzzer target: the reply grammars (SMTP reply lines, RFC 3463 enhanced codes, bracketed IMAP/POP3
// response codes), capability lists, the transcript's redaction, and the SASL mechanisms' steps.
// Byte 0 selects what is fuzzed; the rest is the input.
#include "fuzz_support.hpp"

#include <mailauth/detail/ascii.hpp>
#include <mailauth/error.hpp>
#include <mailauth/proto/capabilities.hpp>
#include <mailauth/proto/reply.hpp>
#include <mailauth/sasl/login.hpp>
#include <mailauth/sasl/oauthbearer.hpp>
#include <mailauth/sasl/plain.hpp>
#include <mailauth/sasl/xoauth2.hpp>
#include <mailauth/secret.hpp>
#include <mailauth/transcript.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace d = mailauth::detail;
using mailauth_fuzz::contains;

bool is_space_or_tab(char c) noexcept { return c == ' ' || c == '\t'; }

bool trimmed(std::string_view s) noexcept
{
    return s.empty() || (!is_space_or_tab(s.front()) && !is_space_or_tab(s.back()));
}

/// Whether `sub` lies inside `whole` (a view into it, not a copy).
bool within(std::string_view sub, std::string_view whole) noexcept
{
    if (sub.empty()) return true;
    return sub.data() >= whole.data() && sub.data() + sub.size() <= whole.data() + whole.size();
}

void smtp_line(std::string_view in)
{
    d::smtp_line l;
    if (!d::parse_smtp_line(in, l)) return;
    MAILAUTH_FUZZ_CHECK(l.code >= 200 && l.code <= 559);
    MAILAUTH_FUZZ_CHECK(in.substr(0, 3) == std::to_string(l.code));
    MAILAUTH_FUZZ_CHECK(l.last == (in.size() == 3 || in[3] == ' '));
    MAILAUTH_FUZZ_CHECK(in.size() == 3 || in[3] == ' ' || in[3] == '-');
    MAILAUTH_FUZZ_CHECK(within(l.text, in));
    MAILAUTH_FUZZ_CHECK(l.text.size() == (in.size() > 4 ? in.size() - 4 : 0));
}

void enhanced_code(std::string_view in)
{
    auto text = in;
    const auto code = d::take_enhanced_code(text);
    if (code.empty()) {
        MAILAUTH_FUZZ_CHECK(text == in); // nothing taken
        return;
    }
    // class "." subject "." detail, class 2/4/5, 1-3 digits each (RFC 3463 §2).
    MAILAUTH_FUZZ_CHECK(code[0] == '2' || code[0] == '4' || code[0] == '5');
    MAILAUTH_FUZZ_CHECK(code.size() >= 5 && code.size() <= 9 && code[1] == '.');
    std::size_t dots = 0, run = 0;
    for (std::size_t i = 2; i < code.size(); ++i) {
        if (code[i] == '.') {
            MAILAUTH_FUZZ_CHECK(run >= 1 && run <= 3);
            ++dots;
            run = 0;
        } else {
            MAILAUTH_FUZZ_CHECK(d::is_digit(code[i]));
            ++run;
        }
    }
    MAILAUTH_FUZZ_CHECK(dots == 1 && run >= 1 && run <= 3);
    MAILAUTH_FUZZ_CHECK(in.substr(0, code.size()) == code);
    MAILAUTH_FUZZ_CHECK(in.size() == code.size() || in[code.size()] == ' ');
    MAILAUTH_FUZZ_CHECK(trimmed(text) && within(text, in));
}

void response_code(std::string_view in)
{
    auto text = in;
    std::string_view args = "unset";
    const auto code = d::take_response_code(text, &args);
    if (text == in) return; // nothing taken
    MAILAUTH_FUZZ_CHECK(!in.empty() && in.front() == '[');
    MAILAUTH_FUZZ_CHECK(code.find(' ') == std::string_view::npos && code.find(']') == std::string_view::npos);
    MAILAUTH_FUZZ_CHECK(within(code, in) && within(args, in) && within(text, in));
    MAILAUTH_FUZZ_CHECK(args.find(']') == std::string_view::npos && trimmed(args) && trimmed(text));
    MAILAUTH_FUZZ_CHECK(text.size() < in.size());
}

void capability_list(std::string_view in)
{
    mailauth::capabilities caps;
    std::vector<std::string_view> seen;
    auto rest = in;
    while (!rest.empty()) {
        const auto word = d::next_word(rest);
        MAILAUTH_FUZZ_CHECK(word.find(' ') == std::string_view::npos);
        MAILAUTH_FUZZ_CHECK(rest.empty() || rest.front() != ' ');
        if (word.empty()) continue;
        caps.add(word);
        caps.add_mechanism(word);
        seen.push_back(word);
    }
    for (auto w : seen) {
        MAILAUTH_FUZZ_CHECK(caps.has(w));
        MAILAUTH_FUZZ_CHECK(caps.offers(w));
        MAILAUTH_FUZZ_CHECK(d::contains_word(in, w));
    }
    MAILAUTH_FUZZ_CHECK(caps.words().size() <= in.size());
    MAILAUTH_FUZZ_CHECK(caps.mechanisms().size() <= in.size());
    caps.clear();
    MAILAUTH_FUZZ_CHECK(caps.words().empty() && caps.mechanisms().empty() && !caps.known());
    // The ASCII helpers agree with themselves.
    MAILAUTH_FUZZ_CHECK(d::iequals(in, in) && d::istarts_with(in, in.substr(0, in.size() / 2)));
    MAILAUTH_FUZZ_CHECK(trimmed(d::trim(in)));
}

void redaction(std::string_view in)
{
    const std::size_t at = in.empty() ? 0 : static_cast<unsigned char>(in.front());
    mailauth::transcript t;
    t.add(mailauth::direction::client, in, at);
    t.add(mailauth::direction::server, in);
    MAILAUTH_FUZZ_CHECK(t.size() == 2);
    const auto c = t[0].text;
    if (at < in.size()) {
        MAILAUTH_FUZZ_CHECK(c.size() == at + mailauth::transcript::redacted.size());
        MAILAUTH_FUZZ_CHECK(c.substr(0, at) == in.substr(0, at));
        MAILAUTH_FUZZ_CHECK(c.substr(at) == mailauth::transcript::redacted);
    } else {
        MAILAUTH_FUZZ_CHECK(c == in);
    }
    MAILAUTH_FUZZ_CHECK(t[1].text == in);
    MAILAUTH_FUZZ_CHECK(t.to_string().size() == c.size() + in.size() + 8);
}

/// The caller's fields go into the SASL messages only when they cannot inject (no CR, LF, NUL; no ^A in OAuth).
void mechanisms(std::string_view in)
{
    // Fields separated by 0xFF: user, token/password, host, authzid, then challenges.
    std::vector<std::string_view> f;
    while (f.size() < 5) {
        const auto at = in.find('\xFF');
        f.push_back(in.substr(0, at));
        in.remove_prefix(at == std::string_view::npos ? in.size() : at + 1);
    }
    const auto user = f[0], cred = f[1], host = f[2], authzid = f[3], challenge = f[4];
    const mailauth::secret secret{cred};
    auto clean = [](std::string_view s, bool ctrl_a) {
        for (char c : s)
            if (c == '\r' || c == '\n' || c == '\0' || (ctrl_a && c == '\x01')) return false;
        return true;
    };
    auto count = [](std::string_view s, char c) {
        std::size_t n = 0;
        for (char x : s) n += x == c ? 1 : 0;
        return n;
    };
    std::string out;
    {
        mailauth::sasl::xoauth2 m{user, secret};
        const auto r = m.start(out);
        const bool ok = clean(user, true) && clean(cred, true) && !cred.empty();
        MAILAUTH_FUZZ_CHECK((r.what == mailauth::sasl::status::respond) == ok);
        if (ok) {
            MAILAUTH_FUZZ_CHECK(r.secret && count(out, '\x01') == 3 && contains(out, cred));
            MAILAUTH_FUZZ_CHECK(out.find_first_of(std::string_view{"\r\n\0", 3}) == std::string::npos);
        } else {
            MAILAUTH_FUZZ_CHECK(r.error && out.empty());
            if (r.error.byte >= 0) MAILAUTH_FUZZ_CHECK(r.error.byte < 0x20);
        }
        const auto s1 = m.step(challenge, out);
        MAILAUTH_FUZZ_CHECK(s1.what == mailauth::sasl::status::respond && out.empty() && !s1.secret);
        MAILAUTH_FUZZ_CHECK(m.server_error() != nullptr);
        MAILAUTH_FUZZ_CHECK(m.step(challenge, out).what == mailauth::sasl::status::fail);
    }
    {
        const auto port = static_cast<std::uint16_t>(authzid.size());
        mailauth::sasl::oauthbearer m{user, secret, host, port};
        const auto r = m.start(out);
        const bool ok = clean(user, true) && clean(host, true) && clean(cred, true) && !cred.empty();
        MAILAUTH_FUZZ_CHECK((r.what == mailauth::sasl::status::respond) == ok);
        if (ok) {
            MAILAUTH_FUZZ_CHECK(r.secret && contains(out, cred) && out.rfind("n,", 0) == 0);
            MAILAUTH_FUZZ_CHECK(count(out, '\x01') == 3 + (host.empty() ? 0 : 1) + (port == 0 ? 0 : 1));
            // The GS2 header holds no raw ',' or '=' from the user (RFC 5801 §4 saslname).
            const auto gs2 = std::string_view{out}.substr(0, out.find('\x01'));
            MAILAUTH_FUZZ_CHECK(count(gs2, ',') == 2);
        }
        const auto s1 = m.step(challenge, out);
        MAILAUTH_FUZZ_CHECK(s1.what == mailauth::sasl::status::respond && out == "\x01" && !s1.secret);
    }
    {
        mailauth::sasl::plain m{user, secret, authzid};
        const auto r = m.start(out);
        const bool ok = clean(user, false) && !user.empty() && clean(cred, false) && !cred.empty() &&
                        clean(authzid, false);
        MAILAUTH_FUZZ_CHECK((r.what == mailauth::sasl::status::respond) == ok);
        if (ok) MAILAUTH_FUZZ_CHECK(r.secret && count(out, '\0') == 2 && out.size() == authzid.size() + user.size() + cred.size() + 2);
        MAILAUTH_FUZZ_CHECK(m.step(challenge, out).what == mailauth::sasl::status::fail);
    }
    {
        mailauth::sasl::login m{user, secret};
        const auto r = m.start(out);
        const bool ok = clean(user, false) && !user.empty() && clean(cred, false) && !cred.empty();
        MAILAUTH_FUZZ_CHECK((r.what == mailauth::sasl::status::wait) == ok);
        const auto s1 = m.step(challenge, out);
        MAILAUTH_FUZZ_CHECK(s1.what == mailauth::sasl::status::respond && out == user && !s1.secret);
        const auto s2 = m.step(challenge, out);
        MAILAUTH_FUZZ_CHECK(s2.what == mailauth::sasl::status::respond && out == cred && s2.secret);
        MAILAUTH_FUZZ_CHECK(m.step(challenge, out).what == mailauth::sasl::status::fail);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto in = mailauth_fuzz::as_view(data, size);
    switch (mailauth_fuzz::take_byte(in) % 6) {
    case 0: smtp_line(in); break;
    case 1: enhanced_code(in); break;
    case 2: response_code(in); break;
    case 3: capability_list(in); break;
    case 4: redaction(in); break;
    default: mechanisms(in); break;
    }
    return 0;
}
