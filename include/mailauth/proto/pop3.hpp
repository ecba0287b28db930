// mailauth: the POP3 authentication machine (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH, RFC 2595 STLS, RFC 3206 codes).
#pragma once

#include <mailauth/proto/machine_base.hpp>
#include <mailauth/proto/reply.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace mailauth::pop3 {

/// Longest POP3 command line including CRLF (RFC 2449 §4); AUTH with an initial response must fit.
inline constexpr std::size_t max_command_line = 255;

/// Sans-I/O POP3 client from the greeting to an authenticated (or failed) session.
class client : public mailauth::detail::machine_base<client> {
    using base = mailauth::detail::machine_base<client>;
    friend base;

public:
    explicit client(mailauth::options opts) : base(std::move(opts)) { reset(); }

private:
    enum class state : unsigned char { greeting, capa, capa_list, stls, auth, user, pass };

    void on_reset() noexcept
    {
        st_ = state::greeting;
        ir_inline_ = false;
    }

    static constexpr mailauth::detail::method native_login() noexcept { return mailauth::detail::method::pop3_user; }

    bool offers(mailauth::detail::method m) const noexcept
    {
        using mailauth::detail::method;
        // Without CAPA (RFC 2449 is optional) USER/PASS is the one login every server has.
        if (m == method::pop3_user) return !out_.capabilities.known() || out_.capabilities.has("USER");
        if (m == method::imap_login || m == method::none) return false;
        return out_.capabilities.offers(mailauth::detail::method_name(m));
    }

    void on_line(std::string_view line)
    {
        if (st_ == state::capa_list) return on_capa_line(line);
        const bool ok = mailauth::detail::istarts_with(line, "+OK") && (line.size() == 3 || line[3] == ' ');
        const bool err = mailauth::detail::istarts_with(line, "-ERR") && (line.size() == 4 || line[4] == ' ');
        const bool more = line == "+" || (line.size() >= 2 && line[0] == '+' && line[1] == ' ');
        if (more) {
            if (st_ != state::auth) return fail(errc::reply_unexpected);
            return sasl_challenge(line.substr(line.size() > 2 ? 2 : line.size()));
        }
        if (!ok && !err) return fail(errc::reply_malformed);
        keep_reply(line.substr(0, ok ? 3 : 4), line.substr(ok ? 3 : 4));
        switch (st_) {
        case state::greeting:
            if (!ok) return fail(errc::server_refused);
            note_apop_timestamp(out_.reply.text);
            return send_command("CAPA", state::capa);
        case state::capa:
            if (ok) {
                out_.capabilities.clear();
                st_ = state::capa_list;
                return expect_more();
            }
            return after_capabilities(); // no CAPA: capabilities stay unknown
        case state::stls:
            if (ok) return want_tls();
            return fail(errc::tls_unavailable);
        case state::user:
            if (!ok) return finish_rejected(classify());
            return send_pass();
        case state::auth:
        case state::pass: return on_final(ok);
        case state::capa_list: break;
        }
    }

    /// One line of the CAPA list (RFC 2449 §5), dot-stuffed, ending with ".".
    void on_capa_line(std::string_view line)
    {
        if (line == ".") {
            out_.capabilities.set_known();
            return after_capabilities();
        }
        if (!line.empty() && line[0] == '.') line.remove_prefix(1);
        auto rest = line;
        const auto keyword = mailauth::detail::next_word(rest);
        out_.capabilities.add(keyword);
        if (mailauth::detail::iequals(keyword, "SASL"))
            while (!rest.empty()) out_.capabilities.add_mechanism(mailauth::detail::next_word(rest));
        expect_more();
    }

    void on_tls_started() { send_command("CAPA", state::capa); }

    void on_retry()
    {
        sasl_end();
        start_auth(false);
    }

    void send_command(std::string_view command, state next)
    {
        line_.assign(command);
        st_ = next;
        queue_send();
    }

    void after_capabilities()
    {
        if (opts_.tls == tls_mode::starttls && !tls_active_) {
            if (!out_.capabilities.has("STLS")) {
                fail(errc::tls_unavailable);
                out_.hint.assign("the server does not offer STLS: use implicit TLS (port 995)");
                return;
            }
            return send_command("STLS", state::stls);
        }
        start_auth(true);
    }

    void start_auth(bool choose)
    {
        if (choose && !choose_method()) return;
        if (method_ == mailauth::detail::method::pop3_user) return send_user();
        if (!sasl_begin()) return;
        line_.assign("AUTH ").append(mailauth::detail::method_name(method_));
        st_ = state::auth;
        const auto mode = opts_.policy.initial_response;
        const bool fits = line_.size() + 1 + initial_response_length() + 2 <= max_command_line;
        // Microsoft 365 refuses XOAUTH2 with an inline response ("-ERR Protocol error"): two lines by default.
        ir_inline_ = has_initial_response() && mode != initial_response::never &&
                     (mode == initial_response::always || (fits && method_ != mailauth::detail::method::xoauth2));
        if (ir_inline_) return queue_send(append_initial_response());
        defer_initial_response();
        queue_send();
    }

    void send_user()
    {
        const std::string_view user = opts_.user;
        if (user.empty()) return fail(errc::invalid_user);
        if (auto e = sasl::detail::check_field(user, errc::invalid_user, false)) return finish_error(e);
        if (auto e = sasl::detail::check_field(opts_.password.reveal(), errc::invalid_password, false))
            return finish_error(e);
        // USER and PASS are command lines too: 255 octets with CRLF (RFC 2449 §4).
        if (user.size() + 7 > max_command_line) return fail(errc::invalid_user);
        if (opts_.password.size() + 7 > max_command_line) return fail(errc::invalid_password);
        in_auth_ = true;
        line_.assign("USER ").append(user);
        st_ = state::user;
        queue_send();
    }

    void send_pass()
    {
        line_.assign("PASS ").append(opts_.password.reveal());
        st_ = state::pass;
        queue_send(5);
    }

    void on_final(bool ok)
    {
        collect_oauth_error();
        if (ok) {
            if (sasl_ir_pending() || sasl_cancelled()) return fail(errc::reply_unexpected);
            return finish_authenticated();
        }
        if (sasl_cancelled()) return finish_cancelled();
        finish_rejected(classify());
    }

    /// Reads a -ERR by its RFC 3206 code, with hints for known provider replies.
    verdict classify()
    {
        using mailauth::detail::iequals;
        const std::string_view code = out_.reply.response_code;
        if (iequals(code, "SYS/TEMP") || iequals(code, "IN-USE")) return verdict::temporary_failure;
        if (iequals(code, "SYS/PERM")) return verdict::user_action_required;
        if (mailauth::detail::istarts_with(out_.reply.text, "Protocol error")) {
            out_.hint.assign("Microsoft 365 refuses AUTH XOAUTH2 with an inline initial response: reconnect and "
                             "use the two-line form (initial response: never or automatic)");
            if (ir_inline_) return verdict::retry_without_initial_response;
        }
        if (iequals(out_.reply.text, "Plaintext authentication disabled.")) return verdict::tls_required;
        return verdict::credentials_rejected;
    }

    void keep_reply(std::string_view status, std::string_view text)
    {
        auto& r = out_.reply;
        r.clear();
        r.status.assign(status);
        text = mailauth::detail::trim(text);
        std::string_view args;
        r.response_code.assign(mailauth::detail::take_response_code(text, &args));
        r.response_args.assign(args);
        r.text.assign(text);
    }

    /// The APOP timestamp "<...>" of the greeting (RFC 1939 §7), kept for the caller.
    void note_apop_timestamp(std::string_view text)
    {
        const auto open = text.find('<');
        const auto close = text.find('>', open == std::string_view::npos ? 0 : open);
        if (open != std::string_view::npos && close != std::string_view::npos &&
            text.substr(open, close - open).find('@') != std::string_view::npos)
            out_.apop_timestamp.assign(text.substr(open, close - open + 1));
    }

    state st_ = state::greeting;
    bool ir_inline_ = false;
};

} // namespace mailauth::pop3
