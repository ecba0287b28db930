// mailauth: the transport concepts and the one driver loop that runs a machine over them.
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/outcome.hpp>
#include <mailauth/proto/action.hpp>
#include <mailauth/secret.hpp>

#include <concepts>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace mailauth {

/// A connection that writes a line (the transport appends CRLF) and reads one line without its CRLF.
/// A transport may also offer write_line(line, bool secret) to learn which lines carry credentials.
/// read_line's view stays valid until the next call; a closed connection is errc::connection_closed.
template <class T>
concept line_transport = requires(T& t, std::string_view line, std::string_view& in) {
    { t.write_line(line) } -> std::same_as<std::error_code>;
    { t.read_line(in) } -> std::same_as<std::error_code>;
};

/// A line transport that can upgrade to TLS in place; start_tls() must fail with
/// errc::pipelined_after_starttls if it holds unread plaintext bytes (RFC 3207 §5, CVE-2011-0411).
template <class T>
concept tls_transport = line_transport<T> && requires(T& t) {
    { t.start_tls() } -> std::same_as<std::error_code>;
};

/// A sans-I/O authentication machine (smtp::client, imap::client, pop3::client).
template <class M>
concept auth_machine = requires(M& m, std::string_view line, std::error_code ec, secret s) {
    { m.next() } -> std::same_as<action>;
    m.feed(line);
    m.tls_started();
    m.connection_lost(ec);
    { m.retry(std::move(s)) } -> std::same_as<bool>;
};

/// A callable asked for a fresh token after a token_rejected outcome; nullopt declines the retry.
template <class F>
concept token_refresher = std::invocable<F&, const outcome&> &&
                          std::convertible_to<std::invoke_result_t<F&, const outcome&>, std::optional<secret>>;

namespace detail {

template <line_transport T, auth_machine M>
const outcome& run(T& t, M& m)
{
    for (;;) {
        const action a = m.next();
        if (const auto* s = std::get_if<send>(&a)) {
            std::error_code ec;
            if constexpr (requires { t.write_line(s->line, s->secret); }) ec = t.write_line(s->line, s->secret);
            else ec = t.write_line(s->line);
            if (ec) m.connection_lost(ec);
        } else if (std::holds_alternative<receive>(a)) {
            std::string_view line;
            if (auto ec = t.read_line(line)) m.connection_lost(ec);
            else m.feed(line);
        } else if (std::holds_alternative<start_tls>(a)) {
            if constexpr (tls_transport<T>) {
                if (auto ec = t.start_tls()) m.connection_lost(ec);
                else m.tls_started();
            } else {
                m.connection_lost(make_error_code(errc::tls_unavailable));
            }
        } else {
            return std::get<finished>(a).result;
        }
    }
}

} // namespace detail

/// Runs `machine` over `transport` to its end: the loop of DESIGN.md's machine shape.
template <line_transport T, auth_machine M>
const outcome& authenticate(T& transport, M& machine)
{
    return detail::run(transport, machine);
}

/// As above; after a token_rejected outcome asks `refresh` once for a new token and retries on the same connection.
template <line_transport T, auth_machine M, token_refresher F>
const outcome& authenticate(T& transport, M& machine, F&& refresh)
{
    const outcome& first = detail::run(transport, machine);
    if (first.verdict != verdict::token_rejected) return first;
    std::optional<secret> fresh = refresh(first);
    if (!fresh || fresh->empty() || !machine.retry(std::move(*fresh))) return first;
    return detail::run(transport, machine);
}

} // namespace mailauth
