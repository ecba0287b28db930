// mailauth: the SMTP authentication machine (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 3463 codes).
#pragma once

#include <mailauth/proto/machine_base.hpp>
#include <mailauth/proto/reply.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace mailauth::smtp {

/// Longest SMTP command line including CRLF (RFC 5321 §4.5.3.1.4); AUTH with an initial response must fit.
inline constexpr std::size_t max_command_line = 512;

/// Sans-I/O SMTP client from the greeting to an authenticated (or failed) session.
class client : public mailauth::detail::machine_base<client> {
    using base = mailauth::detail::machine_base<client>;
    friend base;

public:
    explicit client(mailauth::options opts) : base(std::move(opts)) { reset(); }

private:
    enum class state : unsigned char { greeting, ehlo, starttls, auth };

    void on_reset() noexcept
    {
        st_ = state::greeting;
        code_ = 0;
        first_line_ = true;
        ir_inline_ = false;
    }

    static constexpr mailauth::detail::method native_login() noexcept { return mailauth::detail::method::none; }

    bool offers(mailauth::detail::method m) const noexcept
    {
        return m != mailauth::detail::method::none && m != mailauth::detail::method::imap_login &&
               m != mailauth::detail::method::pop3_user && out_.capabilities.offers(mailauth::detail::method_name(m));
    }

    void on_line(std::string_view line)
    {
        mailauth::detail::smtp_line l;
        if (!mailauth::detail::parse_smtp_line(line, l)) return fail(errc::reply_malformed);
        if (code_ != 0 && l.code != code_) return fail(errc::reply_malformed);
        code_ = l.code;
        const bool first = first_line_;
        first_line_ = l.last;
        if (l.last) code_ = 0;

        switch (st_) {
        case state::greeting:
            keep_reply(l, first);
            if (!l.last) return expect_more();
            if (l.code == 220) return send_ehlo();
            return fail(errc::server_refused);
        case state::ehlo:
            if (l.code != 250) {
                keep_reply(l, first);
                if (!l.last) return expect_more();
                return fail(errc::reply_unexpected);
            }
            if (!first) read_extension(l.text);
            if (!l.last) return expect_more();
            out_.capabilities.set_known();
            return after_ehlo();
        case state::starttls:
            keep_reply(l, first);
            if (!l.last) return expect_more();
            if (l.code == 220) return want_tls();
            if (l.code / 100 == 4) return finish_rejected(verdict::temporary_failure);
            return fail(errc::tls_unavailable);
        case state::auth: return on_auth_line(l, first);
        }
    }

    void on_tls_started() { send_ehlo(); }

    void on_retry()
    {
        sasl_end();
        start_auth(false);
    }

    void send_ehlo()
    {
        const std::string_view name = opts_.ehlo_name;
        if (name.empty() || name.size() + 7 > max_command_line ||
            name.find_first_of(std::string_view{"\r\n\0 ", 4}) != std::string_view::npos)
            return fail(errc::invalid_ehlo_name);
        out_.capabilities.clear();
        line_.assign("EHLO ").append(name);
        st_ = state::ehlo;
        first_line_ = true;
        queue_send();
    }

    /// One EHLO keyword line: "AUTH PLAIN LOGIN", legacy "AUTH=PLAIN LOGIN", an empty "AUTH" (RFC 4954 §3).
    void read_extension(std::string_view text)
    {
        auto rest = text;
        auto keyword = mailauth::detail::next_word(rest);
        if (mailauth::detail::istarts_with(keyword, "AUTH=")) {
            out_.capabilities.add("AUTH");
            out_.capabilities.add_mechanism(keyword.substr(5));
        } else {
            out_.capabilities.add(keyword);
            if (!mailauth::detail::iequals(keyword, "AUTH")) return;
        }
        while (!rest.empty()) out_.capabilities.add_mechanism(mailauth::detail::next_word(rest));
    }

    void after_ehlo()
    {
        if (opts_.tls == tls_mode::starttls && !tls_active_) {
            if (!out_.capabilities.has("STARTTLS")) {
                fail(errc::tls_unavailable);
                out_.hint.assign("the server does not offer STARTTLS: use implicit TLS (port 465) or check for "
                                 "a proxy stripping it");
                return;
            }
            line_.assign("STARTTLS");
            st_ = state::starttls;
            first_line_ = true;
            return queue_send();
        }
        start_auth(true);
    }

    void start_auth(bool choose)
    {
        if (choose && !choose_method()) return;
        if (!sasl_begin()) return;
        st_ = state::auth;
        first_line_ = true;
        line_.assign("AUTH ").append(mailauth::detail::method_name(method_));
        const auto mode = opts_.policy.initial_response;
        const bool fits = line_.size() + 1 + initial_response_length() + 2 <= max_command_line;
        ir_inline_ = has_initial_response() && !retried_without_ir_ && mode != initial_response::never &&
                     (mode == initial_response::always || fits);
        if (ir_inline_) return queue_send(append_initial_response());
        defer_initial_response();
        queue_send();
    }

    void on_auth_line(const mailauth::detail::smtp_line& l, bool first)
    {
        if (l.code == 334) {
            if (!l.last) return fail(errc::reply_malformed);
            return sasl_challenge(l.text);
        }
        keep_reply(l, first);
        if (!l.last) return expect_more();
        collect_oauth_error();
        if (l.code == 235) {
            if (sasl_ir_pending() || sasl_cancelled()) return fail(errc::reply_unexpected);
            return finish_authenticated();
        }
        if (sasl_cancelled()) return finish_cancelled();
        const std::string_view enh = out_.reply.enhanced;
        if (ir_inline_ && !retried_without_ir_ && (l.code == 500 || l.code == 555) &&
            (enh.empty() || enh.substr(0, 4) == "5.5.")) {
            // The server refused the long inline line (Gmail: "555 5.5.2 ... line too long"): once more, two-line form.
            retried_without_ir_ = true;
            sasl_end();
            return start_auth(false);
        }
        finish_rejected(classify(l.code, enh));
    }

    /// Reads a final SMTP failure reply, with the hints for known provider replies.
    verdict classify(int code, std::string_view enh)
    {
        if (enh == "5.7.139") {
            out_.hint.assign("Microsoft 365: SMTP AUTH is disabled for this tenant or mailbox; an admin must enable "
                             "Authenticated SMTP (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)");
            return verdict::user_action_required;
        }
        if (enh == "5.7.3" && code == 535) {
            out_.hint.assign("Microsoft 365 refused the login: check the token scope "
                             "(https://outlook.office.com/SMTP.Send), audience and tenant, that the mailbox has "
                             "Authenticated SMTP enabled, and for app-only tokens the Exchange service principal");
            return verdict::credentials_rejected;
        }
        if (code == 534 && (enh == "5.7.9" || enh == "5.7.14")) {
            out_.hint.assign("Gmail wants a web sign-in or an app password for this account; OAuth with scope "
                             "https://mail.google.com/ avoids it");
            return verdict::user_action_required;
        }
        if (code == 530 || code == 538 || enh == "5.7.10" || enh == "5.7.11") return verdict::tls_required;
        if (code == 504) return verdict::mechanism_unavailable;
        if (code / 100 == 4) return verdict::temporary_failure;
        if (code == 500 || code == 501 || code == 502) {
            out_.error = error_detail{make_error_code(errc::reply_unexpected)};
            return verdict::protocol_error;
        }
        if (enh == "5.7.8" && out_.has_oauth_error && out_.oauth_error.scope.find("google.com") != std::string::npos)
            out_.hint.assign("Gmail refused the token: refresh it and retry once; it must carry scope ")
                .append(out_.oauth_error.scope);
        return verdict::credentials_rejected;
    }

    /// Keeps a reply line in outcome.reply (first line resets it; enhanced codes are split off each line).
    void keep_reply(const mailauth::detail::smtp_line& l, bool first)
    {
        auto text = l.text;
        const auto enh = mailauth::detail::take_enhanced_code(text);
        auto& r = out_.reply;
        if (first) {
            r.clear();
            r.code = l.code;
            r.status.assign(std::to_string(l.code));
            r.enhanced.assign(enh);
        } else {
            r.text.push_back('\n');
        }
        r.text.append(text);
    }

    state st_ = state::greeting;
    int code_ = 0;
    bool first_line_ = true;
    bool ir_inline_ = false;
};

} // namespace mailauth::smtp
