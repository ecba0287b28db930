// The machine fuzz driver: a server made of fuzz input, mailauth::authenticate over it, and the properties
// every run must keep (it ends, stays within its bounds, and never lets a credential out unmarked).
#pragma once

#include "fuzz_support.hpp"
#include "machine_input.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/error.hpp>
#include <mailauth/outcome.hpp>
#include <mailauth/proto/options.hpp>
#include <mailauth/secret.hpp>
#include <mailauth/transport.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace mailauth_fuzz {

enum class protocol : unsigned char { smtp, imap, pop3 };

/// Distinctive bytes inside each credential; a scan for them (raw or base64) finds the credential.
inline constexpr std::string_view token_core = "AccessTok3nCore";
inline constexpr std::string_view fresh_core = "FreshTok3nCore";
inline constexpr std::string_view password_core = "Passw0rdCore";

/// Most transport calls (writes, reads, TLS starts) one run may make: "it always ends".
inline constexpr std::size_t max_transport_calls = 10000;

/// The longest command line including CRLF that the protocol allows (SMTP RFC 5321 §4.5.3.1.4, POP3
/// RFC 2449 §4); IMAP has none, 8192 is the inline initial-response bound of imap::max_command_line.
constexpr std::size_t command_limit(protocol p) noexcept
{
    return p == protocol::smtp ? 512 : p == protocol::pop3 ? 255 : 8192;
}

/// Everything one run is configured with, decoded from the two flag bytes.
struct run_config {
    protocol proto = protocol::smtp;
    fuzz_tls tls = fuzz_tls::implicit;
    fuzz_ir ir = fuzz_ir::automatic;
    fuzz_creds creds = fuzz_creds::token;
    bool refresh = false;
    bool tls_fails = false;
    std::string user, authzid, token, fresh, password, host;
    std::uint16_t port = 0;
    std::size_t max_reply_lines = 512;
    unsigned max_challenges = 8;

    bool plaintext_allowed() const noexcept { return tls == fuzz_tls::none_allowed; }

    mailauth::options options() const
    {
        mailauth::options o;
        o.user = user;
        o.authzid = authzid;
        o.host = host;
        o.port = port;
        o.ehlo_name = "client.example";
        const bool with_token = creds != fuzz_creds::password && creds != fuzz_creds::login_plain &&
                                creds != fuzz_creds::native;
        const bool with_password = !with_token || creds == fuzz_creds::both_optional ||
                                   creds == fuzz_creds::both_mandatory;
        if (with_token) o.token.assign(token);
        if (with_password) o.password.assign(password);
        switch (creds) {
        case fuzz_creds::both_optional: o.policy.oauth = mailauth::oauth_use::optional; break;
        case fuzz_creds::oauthbearer: o.policy.mechanisms = {"OAUTHBEARER"}; break;
        case fuzz_creds::xoauth2: o.policy.mechanisms = {"XOAUTH2"}; break;
        case fuzz_creds::login_plain: o.policy.mechanisms = {"LOGIN", "PLAIN"}; break;
        case fuzz_creds::native:
            o.policy.mechanisms = {proto == protocol::imap   ? std::string{mailauth::imap_login_command}
                                   : proto == protocol::pop3 ? std::string{mailauth::pop3_user_pass}
                                                             : std::string{"PLAIN"}};
            break;
        default: break;
        }
        switch (tls) {
        case fuzz_tls::implicit: o.tls = mailauth::tls_mode::implicit; break;
        case fuzz_tls::starttls: o.tls = mailauth::tls_mode::starttls; break;
        case fuzz_tls::none: o.tls = mailauth::tls_mode::none; break;
        case fuzz_tls::none_allowed:
            o.tls = mailauth::tls_mode::none;
            o.policy.allow_plaintext = true;
            break;
        }
        o.policy.initial_response = ir == fuzz_ir::always  ? mailauth::initial_response::always
                                    : ir == fuzz_ir::never ? mailauth::initial_response::never
                                                           : mailauth::initial_response::automatic;
        o.policy.max_reply_lines = max_reply_lines;
        o.policy.max_challenges = max_challenges;
        if (max_reply_lines < 512) o.policy.max_line_length = 200;
        return o;
    }

    /// The longest line any run may write: a SASL message of these credentials in base64, plus framing.
    std::size_t line_bound() const noexcept
    {
        const std::size_t raw = 3 * user.size() + 3 * authzid.size() + std::max(token.size(), fresh.size()) +
                                2 * password.size() + host.size() + 64;
        return std::max(command_limit(proto), 32 + mailauth::base64::encoded_size(raw));
    }
};

inline run_config decode_config(protocol p, unsigned a, unsigned b)
{
    run_config c;
    c.proto = p;
    c.tls = static_cast<fuzz_tls>(a & 3u);
    c.ir = (a >> 2 & 3u) == 3 ? fuzz_ir::automatic : static_cast<fuzz_ir>(a >> 2 & 3u);
    c.creds = static_cast<fuzz_creds>(a >> 4 & 7u);
    c.refresh = (a & flag_refresh) != 0;
    switch (static_cast<fuzz_user>(b & 3u)) {
    case fuzz_user::plain: c.user = "user@example.com"; break;
    case fuzz_user::utf8_gs2: c.user = "j\xC3\xB6rg,ops=x@example.com"; break;
    case fuzz_user::long_name: c.user = std::string(90, 'u') + "@example.com"; break;
    case fuzz_user::domain: c.user = "CONTOSO\\shared.mailbox"; break;
    }
    c.token = "ya29." + std::string{token_core} + "-0123";
    c.fresh = "ya29." + std::string{fresh_core} + "-4567";
    c.password = "p\"w\\" + std::string{password_core};
    switch (static_cast<fuzz_size>(b >> 2 & 3u)) {
    case fuzz_size::normal: break;
    case fuzz_size::microsoft: // access tokens of Microsoft's identity platform run to 1-3 KB
        c.token = "EwB" + std::string{token_core} + std::string(1800, 'A');
        c.fresh = "EwB" + std::string{fresh_core} + std::string(1800, 'B');
        break;
    case fuzz_size::large: // over IMAP's 8192-octet inline bound once base64-encoded
        c.token = std::string{token_core} + std::string(7000, 'x');
        c.fresh = std::string{fresh_core} + std::string(7000, 'y');
        break;
    case fuzz_size::utf8_password: c.password = "p\xC3\xA4" + std::string{password_core} + "\xE2\x82\xAC"; break;
    }
    if ((b & flag_host) != 0) {
        c.host = "imap.example.com";
        c.port = 993;
    }
    if ((b & flag_small_limits) != 0) {
        c.max_reply_lines = 6;
        c.max_challenges = 1;
    }
    c.tls_fails = (b & flag_tls_fails) != 0;
    if ((b & flag_authzid) != 0) c.authzid = "admin@example.com";
    return c;
}

/// A server that plays fuzz lines in order, whatever the client says, and checks every client action.
class fuzz_transport {
public:
    fuzz_transport(const run_config& cfg, std::string_view lines)
        : cfg_(cfg), lines_(lines), tls_(cfg.tls == fuzz_tls::implicit)
    {
    }

    std::error_code write_line(std::string_view line) { return write_line(line, false); }

    std::error_code write_line(std::string_view line, bool secret)
    {
        count_call();
        ++writes_;
        reads_since_write_ = 0;
        const bool response = after_continuation_;
        after_continuation_ = false;

        // Lockstep: every line answers a server line or a TLS start; the client never pipelines.
        MAILAUTH_FUZZ_CHECK(input_since_write_);
        input_since_write_ = false;
        // After STARTTLS the capabilities are asked again before anything else (RFC 3207 §4.2, RFC 2595 §3.1, §4).
        if (just_upgraded_) {
            just_upgraded_ = false;
            MAILAUTH_FUZZ_CHECK(cfg_.proto == protocol::smtp   ? line.rfind("EHLO ", 0) == 0
                                : cfg_.proto == protocol::pop3 ? line == "CAPA"
                                                               : line.size() > 11 && line.substr(line.size() - 11) == " CAPABILITY");
        }
        // IMAP commands carry fresh, increasing tags.
        if (cfg_.proto == protocol::imap && !response) {
            MAILAUTH_FUZZ_CHECK(line.size() > 2 && line[0] == 'A');
            unsigned tag = 0;
            std::size_t i = 1;
            for (; i < line.size() && line[i] >= '0' && line[i] <= '9' && i < 9; ++i) tag = tag * 10 + static_cast<unsigned>(line[i] - '0');
            MAILAUTH_FUZZ_CHECK(i > 1 && i < line.size() && line[i] == ' ' && tag > last_tag_);
            last_tag_ = tag;
        }

        // No line breaks or NUL on the wire: nothing the caller or server supplied can inject a command.
        MAILAUTH_FUZZ_CHECK(line.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos);

        // Credentials only in lines marked secret, only under TLS (or with plaintext explicitly allowed).
        const scanned scan{line};
        const bool has_token = scan.holds(token_core);
        const bool has_fresh = scan.holds(fresh_core);
        const bool has_password = scan.holds(password_core);
        if (has_token || has_fresh || has_password) {
            MAILAUTH_FUZZ_CHECK(secret);
            MAILAUTH_FUZZ_CHECK(tls_ || cfg_.plaintext_allowed());
            ++secret_writes_;
        }
        // A bearer token goes out only inside an OAuth message ("...^Aauth=Bearer <token>"), never via PLAIN/LOGIN.
        if (has_token) MAILAUTH_FUZZ_CHECK(scan.holds("\x01" "auth=Bearer " + cfg_.token.substr(0, 8)));
        if (has_fresh) MAILAUTH_FUZZ_CHECK(scan.holds("\x01" "auth=Bearer " + cfg_.fresh.substr(0, 8)));
        if (has_password) MAILAUTH_FUZZ_CHECK(!scan.holds("auth=Bearer"));
        // After a refresh the rejected token is never sent again.
        if (refreshed_) MAILAUTH_FUZZ_CHECK(!has_token);

        // Line lengths: everything within the size of the longest SASL message; commands within the protocol's limit.
        MAILAUTH_FUZZ_CHECK(line.size() <= cfg_.line_bound());
        const bool auth_command = line.rfind("AUTH ", 0) == 0 || line.find(" AUTHENTICATE ") != std::string_view::npos;
        const bool inline_ir = auth_command && words(line) == (cfg_.proto == protocol::imap ? 4u : 3u);
        if (!response && cfg_.proto != protocol::imap && !(inline_ir && cfg_.ir == fuzz_ir::always))
            MAILAUTH_FUZZ_CHECK(line.size() + 2 <= command_limit(cfg_.proto));
        if (inline_ir && cfg_.ir == fuzz_ir::automatic)
            MAILAUTH_FUZZ_CHECK(line.size() + 2 <= command_limit(cfg_.proto));
        if (inline_ir) MAILAUTH_FUZZ_CHECK(cfg_.ir != fuzz_ir::never);
        // POP3 XOAUTH2 goes in the two-line form unless the caller insists (Microsoft 365).
        if (inline_ir && cfg_.proto == protocol::pop3 && cfg_.ir == fuzz_ir::automatic)
            MAILAUTH_FUZZ_CHECK(line.rfind("AUTH XOAUTH2 ", 0) != 0);

        // Bounded exchange: capabilities twice, STARTTLS, the login with its challenges and cancel, one retry each.
        MAILAUTH_FUZZ_CHECK(writes_ <= 4 * (cfg_.max_challenges + 8));
        return {};
    }

    std::error_code read_line(std::string_view& out)
    {
        count_call();
        current_.reset(); // the previous view dies here: a machine that kept it reads freed memory (ASan)
        if (pos_ > lines_.size()) return make_error_code(mailauth::errc::connection_closed);
        const auto nl = lines_.find('\n', pos_);
        const auto end = nl == std::string_view::npos ? lines_.size() : nl;
        const auto line = lines_.substr(pos_, end - pos_);
        pos_ = end + 1;
        // An exact-size heap copy: a read past the end of the line is a heap overflow (ASan).
        current_ = std::make_unique<char[]>(line.size());
        if (!line.empty()) std::copy(line.begin(), line.end(), current_.get());
        out = std::string_view{current_.get(), line.size()};

        ++reads_;
        ++reads_since_write_;
        input_since_write_ = true;
        // The machine stops reading one line after its reply-line bound.
        MAILAUTH_FUZZ_CHECK(reads_since_write_ <= cfg_.max_reply_lines + 1);
        after_continuation_ = cfg_.proto == protocol::smtp
                                  ? line.rfind("334", 0) == 0
                                  : line == "+" || line == "+\r" || line.rfind("+ ", 0) == 0;
        return {};
    }

    std::error_code start_tls()
    {
        count_call();
        ++tls_starts_;
        // Only a STARTTLS connection upgrades, and only once.
        MAILAUTH_FUZZ_CHECK(cfg_.tls == fuzz_tls::starttls);
        MAILAUTH_FUZZ_CHECK(!tls_);
        MAILAUTH_FUZZ_CHECK(tls_starts_ == 1);
        input_since_write_ = true;
        if (cfg_.tls_fails) return make_error_code(mailauth::errc::tls_handshake_failed);
        tls_ = true;
        just_upgraded_ = true;
        return {};
    }

    void refreshed() noexcept { refreshed_ = true; }
    bool tls() const noexcept { return tls_; }
    std::size_t writes() const noexcept { return writes_; }
    std::size_t reads() const noexcept { return reads_; }
    std::size_t secret_writes() const noexcept { return secret_writes_; }

private:
    void count_call()
    {
        ++calls_;
        MAILAUTH_FUZZ_CHECK(calls_ <= max_transport_calls);
    }

    static std::size_t words(std::string_view line) noexcept
    {
        std::size_t n = 0;
        bool in_word = false;
        for (char c : line) {
            if (c != ' ' && !in_word) ++n;
            in_word = c != ' ';
        }
        return n;
    }

    const run_config& cfg_;
    std::string_view lines_;
    std::size_t pos_ = 0;
    std::unique_ptr<char[]> current_;
    bool tls_ = false;
    bool refreshed_ = false;
    bool after_continuation_ = false;
    bool input_since_write_ = false;
    bool just_upgraded_ = false;
    unsigned last_tag_ = 0;
    std::size_t calls_ = 0, writes_ = 0, reads_ = 0, reads_since_write_ = 0, tls_starts_ = 0, secret_writes_ = 0;
};

/// Whether `text` holds any credential of `cfg`, raw or base64-encoded.
inline bool holds_credential(std::string_view text)
{
    const scanned scan{text};
    return scan.holds(token_core) || scan.holds(fresh_core) || scan.holds(password_core);
}

/// Set to false only while a known library bug is open; see tests/fuzz/regressions_pending.cpp.
#ifndef MAILAUTH_FUZZ_CHECK_PREAUTH_TLS
#define MAILAUTH_FUZZ_CHECK_PREAUTH_TLS 1
#endif

/// One fuzz run of `Machine` speaking `p`: decodes the flags, runs, and checks the outcome.
template <class Machine>
int run_machine(protocol p, const std::uint8_t* data, std::size_t size)
{
    auto in = as_view(data, size);
    const unsigned a = take_byte(in);
    const unsigned b = take_byte(in);
    // Decoded once per flag pair: the large credentials are not rebuilt for every input.
    static std::unique_ptr<run_config> configs[256 * 256];
    auto& slot = configs[a << 8 | b];
    if (!slot) slot = std::make_unique<run_config>(decode_config(p, a, b));
    const run_config& cfg = *slot;
    fuzz_transport t{cfg, in};
    Machine m{cfg.options()};

    unsigned refresh_calls = 0;
    const mailauth::outcome* result = nullptr;
    if (cfg.refresh) {
        result = &mailauth::authenticate(t, m, [&](const mailauth::outcome& first) -> std::optional<mailauth::secret> {
            ++refresh_calls;
            MAILAUTH_FUZZ_CHECK(first.verdict == mailauth::verdict::token_rejected);
            t.refreshed();
            return mailauth::secret{cfg.fresh};
        });
    } else {
        result = &mailauth::authenticate(t, m);
    }
    const mailauth::outcome& o = *result;

    // It ended, and stays ended.
    MAILAUTH_FUZZ_CHECK(m.done());
    MAILAUTH_FUZZ_CHECK(std::holds_alternative<mailauth::finished>(m.next()));
    MAILAUTH_FUZZ_CHECK(&o == &m.outcome());
    MAILAUTH_FUZZ_CHECK(refresh_calls <= 1);

    // A consistent outcome.
    MAILAUTH_FUZZ_CHECK(o.authenticated == (o.verdict == mailauth::verdict::authenticated));
    if (o.authenticated) MAILAUTH_FUZZ_CHECK(!o.error);
    if (!o.authenticated && o.verdict != mailauth::verdict::credentials_rejected &&
        o.verdict != mailauth::verdict::token_rejected && o.verdict != mailauth::verdict::temporary_failure &&
        o.verdict != mailauth::verdict::user_action_required &&
        o.verdict != mailauth::verdict::retry_without_initial_response && o.verdict != mailauth::verdict::tls_required &&
        o.verdict != mailauth::verdict::mechanism_unavailable)
        MAILAUTH_FUZZ_CHECK(static_cast<bool>(o.error)); // machine-detected failures say why
    MAILAUTH_FUZZ_CHECK(o.total_round_trips >= o.round_trips);
    MAILAUTH_FUZZ_CHECK(o.attempts <= 2);
    // Logged in on a connection that should be TLS only once TLS is up (PREAUTH before STARTTLS included).
    if (o.authenticated && cfg.tls != fuzz_tls::none && cfg.tls != fuzz_tls::none_allowed) {
        if (MAILAUTH_FUZZ_CHECK_PREAUTH_TLS || o.mechanism != "PREAUTH") MAILAUTH_FUZZ_CHECK(t.tls());
    }
    if (!cfg.plaintext_allowed() && !t.tls()) MAILAUTH_FUZZ_CHECK(t.secret_writes() == 0);

    // The transcript has every written line, and none of the credentials.
    std::size_t client_lines = 0, server_lines = 0;
    for (const auto line : o.transcript) {
        if (line.direction == mailauth::direction::client) {
            ++client_lines;
            MAILAUTH_FUZZ_CHECK(!holds_credential(line.text));
        } else {
            ++server_lines;
        }
    }
    MAILAUTH_FUZZ_CHECK(client_lines == t.writes());
    MAILAUTH_FUZZ_CHECK(server_lines <= t.reads());
    MAILAUTH_FUZZ_CHECK(!holds_credential(o.error.message()));

    // Sticky: nothing changes a finished machine.
    const auto verdict = o.verdict;
    const auto code = o.error.code;
    const auto lines = o.transcript.size();
    m.feed("235 2.7.0 Accepted");
    m.feed("A1 OK done");
    m.feed("+OK done");
    m.tls_started();
    m.connection_lost(make_error_code(mailauth::errc::connection_closed));
    MAILAUTH_FUZZ_CHECK(std::holds_alternative<mailauth::finished>(m.next()));
    MAILAUTH_FUZZ_CHECK(m.outcome().verdict == verdict && m.outcome().error.code == code &&
                        m.outcome().transcript.size() == lines);
    if (verdict != mailauth::verdict::token_rejected) MAILAUTH_FUZZ_CHECK(!m.retry(mailauth::secret{"other-token"}));
    return 0;
}

} // namespace mailauth_fuzz
