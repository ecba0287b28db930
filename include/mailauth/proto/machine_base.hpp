// mailauth: what the SMTP, IMAP and POP3 machines share: I/O steps, mechanism choice, the SASL exchange.
#pragma once

#include <mailauth/base64.hpp>
#include <mailauth/detail/ascii.hpp>
#include <mailauth/error.hpp>
#include <mailauth/outcome.hpp>
#include <mailauth/policy.hpp>
#include <mailauth/proto/action.hpp>
#include <mailauth/proto/options.hpp>
#include <mailauth/sasl/login.hpp>
#include <mailauth/sasl/oauthbearer.hpp>
#include <mailauth/sasl/plain.hpp>
#include <mailauth/sasl/xoauth2.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mailauth::detail {

/// The login methods a machine can use: the four SASL mechanisms and the two protocol-native logins.
enum class method : unsigned char { none, xoauth2, oauthbearer, plain, login, imap_login, pop3_user };

constexpr std::string_view method_name(method m) noexcept
{
    switch (m) {
    case method::xoauth2: return "XOAUTH2";
    case method::oauthbearer: return "OAUTHBEARER";
    case method::plain: return "PLAIN";
    case method::login: return "LOGIN";
    case method::imap_login: return imap_login_command;
    case method::pop3_user: return pop3_user_pass;
    case method::none: break;
    }
    return {};
}

constexpr method method_from_name(std::string_view name) noexcept
{
    for (auto m : {method::xoauth2, method::oauthbearer, method::plain, method::login, method::imap_login,
                   method::pop3_user})
        if (iequals(name, method_name(m))) return m;
    return method::none;
}

constexpr bool uses_token(method m) noexcept { return m == method::xoauth2 || m == method::oauthbearer; }

/// Shared state and steps of the three machines; `Derived` supplies the protocol's framing.
template <class Derived>
class machine_base {
public:
    /// Derived constructors call reset() once they are complete.
    explicit machine_base(mailauth::options opts) : opts_(std::move(opts)) {}
    machine_base(const machine_base&) = delete;
    machine_base& operator=(const machine_base&) = delete;
    /// Credential bytes in the working buffers are zeroed before they are freed.
    ~machine_base()
    {
        mailauth::detail::wipe(line_);
        mailauth::detail::wipe(raw_);
    }

    /// What the machine wants now; a returned send counts as written.
    action next()
    {
        forget_sent();
        switch (io_) {
        case io::send:
            io_ = after_send_;
            line_secret_ = secret_from_ != std::string_view::npos;
            out_.transcript.add(direction::client, line_, secret_from_);
            return send{line_, secret_from_ != std::string_view::npos};
        case io::receive: return receive{};
        case io::tls: return start_tls{};
        case io::done: break;
        }
        return finished{out_};
    }

    /// Feeds one server line (CRLF already removed; a stray CR is dropped).
    void feed(std::string_view line)
    {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        forget_sent();
        if (io_ == io::done) return;
        if (io_ == io::tls) {
            record_server(line);
            return fail(errc::pipelined_after_starttls);
        }
        if (io_ != io::receive) return fail(errc::unexpected_call);
        if (line.size() > opts_.policy.max_line_length) {
            out_.transcript.add(direction::server, line.substr(0, 80));
            return fail(errc::reply_line_too_long, opts_.policy.max_line_length);
        }
        record_server(line);
        if (++reply_lines_ > opts_.policy.max_reply_lines) return fail(errc::reply_too_many_lines);
        self().on_line(line);
    }

    /// TLS is up; capabilities are forgotten and asked again (RFC 3207 §4.2, RFC 9051 §6.2.1, RFC 2595 §4).
    void tls_started()
    {
        forget_sent();
        if (io_ == io::done) return;
        if (io_ != io::tls) return fail(errc::unexpected_call);
        tls_active_ = true;
        out_.capabilities.clear();
        self().on_tls_started();
    }

    /// The transport failed (connection closed, timeout, TLS failure); the machine ends.
    void connection_lost(std::error_code ec)
    {
        forget_sent();
        if (io_ == io::done) return;
        closed_ = true;
        finish_error(error_detail{ec ? ec : make_error_code(errc::connection_closed)});
    }

    /// After a token_rejected outcome: try once more on the same connection with a fresh token.
    bool retry(secret fresh_token)
    {
        if (io_ != io::done || out_.verdict != verdict::token_rejected || closed_ || out_.attempts >= 2)
            return false;
        opts_.token = std::move(fresh_token);
        out_.reply.clear();
        out_.has_oauth_error = false;
        out_.oauth_error.clear();
        out_.error = {};
        out_.hint.clear();
        ++out_.attempts;
        io_ = io::receive;
        self().on_retry();
        return true;
    }

    /// Starts over for a new connection, keeping options and buffers (no allocation in steady state).
    void reset()
    {
        forget_sent();
        if (io_ != io::done) mailauth::detail::wipe(raw_); // a finished run has wiped it already
        out_.clear();
        io_ = io::receive;
        after_send_ = io::receive;
        tls_active_ = opts_.tls == tls_mode::implicit;
        closed_ = false;
        in_auth_ = false;
        reply_lines_ = 0;
        method_ = method::none;
        mech_.template emplace<std::monostate>();
        sasl_phase_ = sasl_phase::idle;
        retried_without_ir_ = false;
        self().on_reset();
    }

    /// Replaces the token used by the next run or retry.
    void set_token(secret token) { opts_.token = std::move(token); }

    const mailauth::outcome& outcome() const noexcept { return out_; }
    const mailauth::options& options() const noexcept { return opts_; }
    bool done() const noexcept { return io_ == io::done; }

protected:
    enum class io : unsigned char { send, receive, tls, done };
    enum class sasl_phase : unsigned char { idle, ir_pending, running, cancelled };

    Derived& self() noexcept { return static_cast<Derived&>(*this); }

    // ---- sending -----------------------------------------------------------------------------------

    /// Once a line with credential bytes has been handed out (and so written), its bytes are zeroed; later
    /// growth of line_ then frees nothing secret.
    void forget_sent() noexcept
    {
        if (!line_secret_) return;
        line_secret_ = false;
        mailauth::detail::wipe(line_);
    }

    /// Queues line_ for sending; `secret_from` marks where credential bytes start.
    void queue_send(std::size_t secret_from = std::string_view::npos, io then = io::receive)
    {
        secret_from_ = secret_from;
        after_send_ = then;
        io_ = io::send;
        reply_lines_ = 0;
        ++out_.total_round_trips;
        if (sasl_phase_ != sasl_phase::idle || in_auth_) ++out_.round_trips;
    }

    void expect_more() noexcept { io_ = io::receive; }
    void want_tls() noexcept { io_ = io::tls; }

    // ---- ending ------------------------------------------------------------------------------------

    void fail(errc e, std::size_t offset = error_detail::no_offset, int byte = -1)
    {
        finish_error(error_detail{make_error_code(e), offset, byte});
    }

    void finish_error(const error_detail& d)
    {
        if (io_ == io::done) return; // a finished machine stays as it ended
        mailauth::detail::wipe(raw_);
        out_.error = d;
        out_.authenticated = false;
        switch (fault_of(d.code)) {
        case fault::server: out_.verdict = verdict::protocol_error; break;
        case fault::transport: out_.verdict = verdict::transport_error; break;
        default: {
            const auto e = static_cast<errc>(d.code.value());
            out_.verdict = e == errc::mechanism_unavailable                       ? verdict::mechanism_unavailable
                           : (e == errc::tls_required || e == errc::tls_unavailable) ? verdict::tls_required
                                                                                    : verdict::client_error;
        }
        }
        io_ = io::done;
    }

    void finish_authenticated()
    {
        if (io_ == io::done) return;
        mailauth::detail::wipe(raw_);
        out_.authenticated = true;
        out_.verdict = verdict::authenticated;
        out_.error = {};
        io_ = io::done;
    }

    /// Ends with the server's refusal; `kind` is the protocol's reading of the reply.
    void finish_rejected(verdict kind)
    {
        if (io_ == io::done) return;
        mailauth::detail::wipe(raw_);
        out_.authenticated = false;
        if (kind == verdict::credentials_rejected && uses_token(method_)) {
            kind = verdict::token_rejected;
            if (out_.has_oauth_error && iequals(out_.oauth_error.status, "insufficient_scope"))
                kind = verdict::user_action_required;
        }
        out_.verdict = kind;
        if (out_.hint.empty()) default_hint();
        io_ = io::done;
    }

    // ---- choosing a method -------------------------------------------------------------------------

    /// Picks the first acceptable method the server offers; false (and finished) when none.
    bool choose_method()
    {
        const bool token = !opts_.token.empty();
        const bool password = !opts_.password.empty();
        if (!token && !password) {
            fail(errc::no_credentials);
            return false;
        }
        const bool password_ok = password && (!token || opts_.policy.oauth == oauth_use::optional);
        auto acceptable = [&](method m) {
            if (m == method::none) return false;
            return uses_token(m) ? token : password_ok;
        };
        auto try_pick = [&](method m) {
            if (acceptable(m) && self().offers(m)) {
                method_ = m;
                return true;
            }
            return false;
        };
        if (!opts_.policy.mechanisms.empty()) {
            for (const auto& name : opts_.policy.mechanisms) {
                const auto m = method_from_name(name);
                if (m == method::none) {
                    fail(errc::invalid_mechanism_name);
                    out_.hint.assign("unknown mechanism name: ").append(name.substr(0, 40));
                    return false;
                }
                if (try_pick(m)) return picked();
            }
        } else {
            for (auto m : {method::xoauth2, method::oauthbearer, method::plain, method::login,
                           self().native_login()})
                if (try_pick(m)) return picked();
        }
        if (!tls_active_ && out_.capabilities.mechanisms().empty() &&
            (out_.capabilities.has("STARTTLS") || out_.capabilities.has("STLS") ||
             out_.capabilities.has("LOGINDISABLED"))) {
            // RFC 3501 §7.2.1 / RFC 4954 §4: a server that hides its logins until TLS (Dovecot's TLS-only mode).
            fail(errc::tls_required);
            out_.hint.assign("the server offers logins only after STARTTLS: use STARTTLS or implicit TLS");
            return false;
        }
        fail(errc::mechanism_unavailable);
        out_.hint.assign("the server offers: ");
        out_.hint.append(out_.capabilities.mechanisms().empty() ? std::string_view{"no SASL mechanism"}
                                                                 : out_.capabilities.mechanisms());
        if (token && opts_.policy.oauth == oauth_use::mandatory)
            out_.hint.append("; OAuth is mandatory (allow fallback to use the password login)");
        return false;
    }

    bool picked()
    {
        out_.mechanism.assign(method_name(method_));
        if (!tls_active_ && !opts_.policy.allow_plaintext) {
            fail(errc::tls_required);
            out_.hint.assign("refusing to send credentials without TLS: use implicit TLS or STARTTLS "
                             "(allow plaintext only for loopback tests)");
            return false;
        }
        out_.tls = tls_active_;
        ++out_.attempts;
        return true;
    }

    // ---- the SASL exchange -------------------------------------------------------------------------

    /// Starts the chosen mechanism; raw_ then holds the initial response when it has one.
    bool sasl_begin()
    {
        in_auth_ = true;
        const std::string_view host = opts_.host;
        switch (method_) {
        case method::xoauth2: mech_.template emplace<sasl::xoauth2>(opts_.user, opts_.token); break;
        case method::oauthbearer:
            mech_.template emplace<sasl::oauthbearer>(opts_.user, opts_.token, host, opts_.port);
            break;
        case method::plain: mech_.template emplace<sasl::plain>(opts_.user, opts_.password, opts_.authzid); break;
        case method::login: mech_.template emplace<sasl::login>(opts_.user, opts_.password); break;
        default: fail(errc::unexpected_call); return false;
        }
        const auto r = std::visit(
            [&](auto& m) -> sasl::step_result {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return {};
                else return m.start(raw_);
            },
            mech_);
        if (r.what == sasl::status::fail) {
            finish_error(r.error);
            return false;
        }
        has_ir_ = r.what == sasl::status::respond;
        ir_secret_ = r.secret;
        challenges_ = 0;
        return true;
    }

    /// Whether the mechanism has an initial response, and its encoded length ("=" for empty).
    bool has_initial_response() const noexcept { return has_ir_; }
    std::size_t initial_response_length() const noexcept
    {
        return raw_.empty() ? 1 : mailauth::base64::encoded_size(raw_.size());
    }

    /// Appends " <base64 IR>" to line_ (RFC 4959 §3, RFC 4954 §4, RFC 5034 §4); returns where the secret starts.
    std::size_t append_initial_response()
    {
        line_.push_back(' ');
        const auto at = line_.size();
        if (raw_.empty()) line_.push_back('=');
        else mailauth::base64::encode_append(raw_, line_);
        sasl_phase_ = sasl_phase::running;
        return ir_secret_ ? at : std::string_view::npos;
    }

    /// The command was sent without the initial response: it goes out after the first challenge.
    void defer_initial_response() noexcept { sasl_phase_ = has_ir_ ? sasl_phase::ir_pending : sasl_phase::running; }

    /// Answers a continuation ("334 x", "+ x") whose payload is `payload`; queues the response or "*".
    void sasl_challenge(std::string_view payload)
    {
        payload = trim(payload);
        line_.clear();
        if (sasl_phase_ == sasl_phase::cancelled) return fail(errc::reply_unexpected);
        if (sasl_phase_ == sasl_phase::ir_pending) {
            // RFC 4422 §5: the server's (empty) challenge asks for the deferred initial response.
            sasl_phase_ = sasl_phase::running;
            mailauth::base64::encode_append(raw_, line_);
            return queue_send(ir_secret_ ? 0 : std::string_view::npos);
        }
        if (++challenges_ > opts_.policy.max_challenges) return cancel(error_detail{make_error_code(errc::sasl_step_limit)});
        error_detail bad;
        if (!mailauth::base64::decode_into(payload, challenge_, bad)) {
            bad.code = make_error_code(errc::challenge_not_base64);
            return cancel(bad);
        }
        const auto r = std::visit(
            [&](auto& m) -> sasl::step_result {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return {};
                else return m.step(challenge_, raw_);
            },
            mech_);
        collect_oauth_error();
        if (r.what != sasl::status::respond) return cancel(r.error ? r.error : error_detail{make_error_code(errc::sasl_unexpected_challenge)});
        mailauth::base64::encode_append(raw_, line_);
        queue_send(r.secret ? 0 : std::string_view::npos);
    }

    /// Sends "*" (RFC 4422 §3.5) and keeps `why` as the outcome's error; the server's reply ends the run.
    void cancel(const error_detail& why)
    {
        out_.error = why;
        sasl_phase_ = sasl_phase::cancelled;
        line_.assign("*");
        queue_send();
    }

    bool sasl_cancelled() const noexcept { return sasl_phase_ == sasl_phase::cancelled; }
    bool sasl_ir_pending() const noexcept { return sasl_phase_ == sasl_phase::ir_pending; }

    /// After the final reply of a cancelled exchange: the error we cancelled for decides the verdict.
    void finish_cancelled() { finish_error(out_.error); }

    void collect_oauth_error()
    {
        const sasl::oauth_error* e = nullptr;
        if (auto* x = std::get_if<sasl::xoauth2>(&mech_)) e = x->server_error();
        if (auto* o = std::get_if<sasl::oauthbearer>(&mech_)) e = o->server_error();
        if (e != nullptr) {
            out_.oauth_error = *e;
            out_.has_oauth_error = true;
        }
    }

    /// Ends the SASL exchange, ready for a retry or a new run.
    void sasl_end() noexcept
    {
        sasl_phase_ = sasl_phase::idle;
        in_auth_ = false;
    }

    void default_hint()
    {
        switch (out_.verdict) {
        case verdict::token_rejected:
            out_.hint.assign("the server refused the access token: refresh it and retry once");
            if (!out_.oauth_error.scope.empty())
                out_.hint.append("; the server expects scope ").append(out_.oauth_error.scope);
            break;
        case verdict::user_action_required:
            if (!out_.oauth_error.scope.empty())
                out_.hint.assign("the token lacks the scope ").append(out_.oauth_error.scope);
            break;
        case verdict::credentials_rejected: out_.hint.assign("user name or password refused"); break;
        case verdict::temporary_failure: out_.hint.assign("temporary failure: try again later"); break;
        default: break;
        }
    }

    void note(std::string_view text)
    {
        if (!out_.notices.empty()) out_.notices.push_back('\n');
        out_.notices.append(text);
    }

    void record_server(std::string_view line) { out_.transcript.add(direction::server, line); }

    mailauth::options opts_;
    mailauth::outcome out_;
    std::string line_;      // the line being sent
    std::string raw_;       // mechanism output (not base64); wiped when a run ends
    std::string challenge_; // decoded challenge
    io io_ = io::receive;
    io after_send_ = io::receive;
    std::size_t secret_from_ = std::string_view::npos;
    bool line_secret_ = false; // line_ holds credential bytes that have been handed out
    std::size_t reply_lines_ = 0;
    bool tls_active_ = false;
    bool closed_ = false;
    bool in_auth_ = false;
    bool has_ir_ = false;
    bool ir_secret_ = false;
    bool retried_without_ir_ = false;
    unsigned challenges_ = 0;
    method method_ = method::none;
    sasl_phase sasl_phase_ = sasl_phase::idle;
    std::variant<std::monostate, sasl::xoauth2, sasl::oauthbearer, sasl::plain, sasl::login> mech_;
};

} // namespace mailauth::detail
