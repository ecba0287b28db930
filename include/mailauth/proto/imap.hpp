// mailauth: the IMAP authentication machine (RFC 9051/3501, RFC 4959 SASL-IR, RFC 5530 codes, RFC 2595 STARTTLS).
#pragma once

#include <mailauth/proto/machine_base.hpp>
#include <mailauth/proto/reply.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace mailauth::imap {

/// Longest command line sent with an inline initial response in automatic mode (RFC 7162 §4 recommends 8192).
inline constexpr std::size_t max_command_line = 8192;

/// Sans-I/O IMAP client from the greeting to an authenticated (or failed) session.
class client : public mailauth::detail::machine_base<client> {
    using base = mailauth::detail::machine_base<client>;
    friend base;

public:
    explicit client(mailauth::options opts) : base(std::move(opts)) { reset(); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() { mailauth::detail::wipe(command_); }

    /// The tag of the last command sent, e.g. "A2".
    std::string_view tag() const noexcept { return tag_; }

private:
    enum class state : unsigned char { greeting, capability, starttls, auth, login };

    void on_reset() noexcept
    {
        st_ = state::greeting;
        tag_number_ = 0;
        tag_.clear();
        mailauth::detail::wipe(command_);
        segment_ = 0;
        segments_ = 0;
    }

    static constexpr mailauth::detail::method native_login() noexcept { return mailauth::detail::method::imap_login; }

    bool offers(mailauth::detail::method m) const noexcept
    {
        using mailauth::detail::method;
        if (m == method::imap_login) return !out_.capabilities.has("LOGINDISABLED");
        if (m == method::pop3_user || m == method::none) return false;
        return out_.capabilities.offers(mailauth::detail::method_name(m));
    }

    void on_line(std::string_view line)
    {
        if (line.size() >= 2 && line[0] == '*' && line[1] == ' ') return on_untagged(line.substr(2));
        if (line == "+" || (line.size() >= 2 && line[0] == '+' && line[1] == ' '))
            return on_continuation(line.size() > 2 ? line.substr(2) : std::string_view{});
        auto rest = line;
        const auto tag = mailauth::detail::next_word(rest);
        if (st_ == state::greeting) return fail(errc::reply_malformed);
        if (tag != tag_) return fail(errc::imap_tag_mismatch);
        const auto status = mailauth::detail::next_word(rest);
        keep_reply(status, rest);
        const bool ok = mailauth::detail::iequals(status, "OK");
        if (!ok && !mailauth::detail::iequals(status, "NO") && !mailauth::detail::iequals(status, "BAD"))
            return fail(errc::reply_malformed);
        switch (st_) {
        case state::capability:
            if (!ok) return fail(errc::reply_unexpected);
            out_.capabilities.set_known();
            return after_capabilities();
        case state::starttls:
            if (ok) return want_tls();
            return fail(errc::tls_unavailable);
        case state::auth:
        case state::login: return on_final(ok, status);
        case state::greeting: break;
        }
    }

    void on_untagged(std::string_view text)
    {
        auto rest = text;
        const auto word = mailauth::detail::next_word(rest);
        if (st_ == state::greeting) {
            keep_reply(word, rest);
            if (mailauth::detail::iequals(word, "BYE")) return fail(errc::server_refused);
            const bool preauth = mailauth::detail::iequals(word, "PREAUTH");
            if (!preauth && !mailauth::detail::iequals(word, "OK")) return fail(errc::reply_malformed);
            if (preauth && opts_.tls == tls_mode::starttls && !tls_active_) {
                // A PREAUTH greeting in plaintext would skip STARTTLS: the known downgrade (Mutt CVE-2020-14093).
                fail(errc::tls_required);
                out_.hint.assign("the server greeted with PREAUTH before STARTTLS: refusing the unencrypted session");
                return;
            }
            if (preauth) {
                out_.mechanism.assign("PREAUTH");
                return finish_authenticated();
            }
            return out_.capabilities.known() ? after_capabilities() : send_command("CAPABILITY", state::capability);
        }
        if (mailauth::detail::iequals(word, "CAPABILITY")) {
            out_.capabilities.clear();
            read_capabilities(rest);
            return expect_more();
        }
        // Untagged lines during a command are tolerated and kept (RFC 9051 §7); [ALERT] must reach the user.
        note(text);
        return expect_more();
    }

    void on_continuation(std::string_view payload)
    {
        if (st_ == state::auth) return sasl_challenge(payload);
        if (st_ == state::login && segment_ < segments_) return send_segment();
        fail(errc::reply_unexpected);
    }

    void on_tls_started() { send_command("CAPABILITY", state::capability); }

    void on_retry()
    {
        sasl_end();
        start_auth(false);
    }

    void read_capabilities(std::string_view list)
    {
        while (!list.empty()) {
            const auto word = mailauth::detail::next_word(list);
            out_.capabilities.add(word);
            if (mailauth::detail::istarts_with(word, "AUTH=")) out_.capabilities.add_mechanism(word.substr(5));
        }
        out_.capabilities.set_known();
    }

    /// Starts line_ with a fresh tag (unique on the connection).
    void begin_command()
    {
        tag_.assign("A").append(std::to_string(++tag_number_));
        line_.assign(tag_).push_back(' ');
    }

    void send_command(std::string_view command, state next)
    {
        begin_command();
        line_.append(command);
        st_ = next;
        queue_send();
    }

    void after_capabilities()
    {
        if (opts_.tls == tls_mode::starttls && !tls_active_) {
            if (!out_.capabilities.has("STARTTLS")) {
                fail(errc::tls_unavailable);
                out_.hint.assign("the server does not offer STARTTLS: use implicit TLS (port 993)");
                return;
            }
            return send_command("STARTTLS", state::starttls);
        }
        start_auth(true);
    }

    void start_auth(bool choose)
    {
        if (choose && !choose_method()) return;
        if (method_ == mailauth::detail::method::imap_login) return start_login();
        if (!sasl_begin()) return;
        begin_command();
        line_.append("AUTHENTICATE ").append(mailauth::detail::method_name(method_));
        st_ = state::auth;
        const auto mode = opts_.policy.initial_response;
        const bool fits = line_.size() + 1 + initial_response_length() + 2 <= max_command_line;
        const bool advertised = out_.capabilities.has("SASL-IR");
        const bool inline_ir = has_initial_response() && mode != initial_response::never &&
                               (mode == initial_response::always || (advertised && fits));
        if (inline_ir) return queue_send(append_initial_response());
        defer_initial_response();
        queue_send();
    }

    /// LOGIN user password with quoted strings, or synchronising literals for 8-bit bytes (RFC 9051 §4.3).
    void start_login()
    {
        const std::string_view user = opts_.user;
        const auto pass = opts_.password.reveal();
        if (user.empty()) return fail(errc::invalid_user);
        if (auto e = sasl::detail::check_field(user, errc::invalid_user, false)) return finish_error(e);
        if (auto e = sasl::detail::check_field(pass, errc::invalid_password, false)) return finish_error(e);
        in_auth_ = true;
        begin_command();
        // Room for the worst case (every byte escaped, or two literal headers), so no growth frees a copy.
        mailauth::detail::wipe(command_);
        mailauth::detail::reserve_wiped(command_, line_.size() + 6 + 2 * (user.size() + pass.size()) + 2 * 24 + 1);
        command_.assign(line_).append("LOGIN ");
        segments_ = 0;
        segment_ = 0;
        segment_start_ = 0;
        append_astring(user);
        command_.push_back(' ');
        secret_at_ = command_.size();
        append_astring(pass);
        ends_[segments_++] = command_.size();
        st_ = state::login;
        send_segment();
    }

    void append_astring(std::string_view s)
    {
        bool eight_bit = false;
        for (char c : s) eight_bit = eight_bit || static_cast<unsigned char>(c) >= 0x80;
        if (eight_bit) {
            command_.append("{").append(std::to_string(s.size())).append("}");
            ends_[segments_++] = command_.size();
            command_.append(s);
            return;
        }
        command_.push_back('"');
        for (char c : s) {
            if (c == '"' || c == '\\') command_.push_back('\\');
            command_.push_back(c);
        }
        command_.push_back('"');
    }

    void send_segment()
    {
        const auto end = ends_[segment_++];
        line_.assign(command_, segment_start_, end - segment_start_);
        const auto from = secret_at_ > segment_start_ ? secret_at_ - segment_start_ : 0;
        segment_start_ = end;
        if (segment_ == segments_) mailauth::detail::wipe(command_); // the rest is in line_ now
        queue_send(from < line_.size() ? from : std::string_view::npos);
    }

    void on_final(bool ok, std::string_view status)
    {
        collect_oauth_error();
        if (ok) {
            if (sasl_ir_pending() || sasl_cancelled()) return fail(errc::reply_unexpected);
            return finish_authenticated();
        }
        if (sasl_cancelled()) return finish_cancelled();
        if (mailauth::detail::iequals(status, "BAD")) {
            out_.error = error_detail{make_error_code(errc::reply_unexpected)};
            return finish_rejected(verdict::protocol_error);
        }
        finish_rejected(classify());
    }

    /// Reads a tagged NO by its RFC 5530 response code, with hints for known provider replies.
    verdict classify()
    {
        const std::string_view code = out_.reply.response_code;
        using mailauth::detail::iequals;
        if (iequals(code, "UNAVAILABLE")) return verdict::temporary_failure;
        if (iequals(code, "PRIVACYREQUIRED")) return verdict::tls_required;
        if (iequals(code, "EXPIRED") || iequals(code, "CONTACTADMIN") || iequals(code, "AUTHORIZATIONFAILED"))
            return verdict::user_action_required;
        if (iequals(code, "REFERRAL")) { // RFC 2221: the account is served elsewhere; a new token would not help
            out_.hint.assign("the server refers this account to another server (RFC 2221 login referral): ");
            out_.hint.append(out_.reply.response_args);
            return verdict::user_action_required;
        }
        if (code.empty() && iequals(out_.reply.text, "AUTHENTICATE failed.")) {
            out_.hint.assign("Microsoft 365 refused the login: check the token (scope "
                             "https://outlook.office.com/IMAP.AccessAsUser.All, audience, tenant), that IMAP is "
                             "enabled for the mailbox, and for app-only tokens the Exchange service principal "
                             "and mailbox permission");
        }
        return verdict::credentials_rejected;
    }

    /// Keeps a status response in outcome.reply, splitting off a response code and its arguments; [CAPABILITY] and
    /// [ALERT] are used.
    void keep_reply(std::string_view status, std::string_view text)
    {
        auto& r = out_.reply;
        r.clear();
        r.status.assign(status);
        std::string_view args;
        const auto code = mailauth::detail::take_response_code(text, &args);
        r.response_code.assign(code);
        r.response_args.assign(args);
        r.text.assign(text);
        if (mailauth::detail::iequals(code, "CAPABILITY")) {
            out_.capabilities.clear();
            read_capabilities(args);
        } else if (mailauth::detail::iequals(code, "ALERT")) {
            note(text);
        }
    }

    state st_ = state::greeting;
    unsigned tag_number_ = 0;
    std::string tag_;
    std::string command_; // LOGIN command with literals, sent in segments
    std::size_t ends_[3] = {};
    std::size_t segments_ = 0;
    std::size_t segment_ = 0;
    std::size_t segment_start_ = 0;
    std::size_t secret_at_ = 0;
};

} // namespace mailauth::imap
