// mailauth examples: what comes after the login on the same connection — IMAP LOGOUT, POP3 QUIT, SMTP QUIT,
// and one SMTP message (MAIL FROM / RCPT TO / DATA) — for any mailauth::line_transport.
#pragma once

#include <mailauth/transport.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth_examples {

enum class mail_protocol : unsigned char { imap, pop3, smtp };

/// The last reply to one command sent after the login.
struct command_result {
    bool ok = false;       ///< IMAP tagged OK, POP3 +OK, SMTP 2xx/3xx as expected
    std::string command;   ///< the command line sent
    std::string reply;     ///< the final reply line
    std::error_code error; ///< transport failure, if any
};

/// Sees every line after the login: 'C' (sent) or 'S' (received).
using line_observer = std::function<void(char, std::string_view)>;

namespace detail {

/// Sends `command`, then reads until the final line of its reply; `expect` is the leading digit wanted (SMTP).
template <mailauth::line_transport T>
command_result command(T& io, mail_protocol p, std::string command, std::string_view tag, char expect,
                       const line_observer& seen)
{
    command_result r;
    r.command = std::move(command);
    if (seen) seen('C', r.command);
    if ((r.error = io.write_line(r.command))) return r;
    for (std::size_t lines = 0; lines < 1000; ++lines) {
        std::string_view line;
        if ((r.error = io.read_line(line))) return r;
        if (seen) seen('S', line);
        switch (p) {
        case mail_protocol::imap:
            if (line.size() > tag.size() && line.substr(0, tag.size()) == tag && line[tag.size()] == ' ') {
                r.reply.assign(line);
                r.ok = line.substr(tag.size() + 1, 3) == "OK " || line.substr(tag.size() + 1) == "OK";
                return r;
            }
            break; // untagged (* BYE) lines come first
        case mail_protocol::pop3:
            r.reply.assign(line);
            r.ok = line.substr(0, 3) == "+OK";
            return r;
        case mail_protocol::smtp:
            if (line.size() >= 4 && line[3] == '-') break; // multiline reply continues
            r.reply.assign(line);
            r.ok = !line.empty() && line[0] == expect;
            return r;
        }
    }
    r.error = mailauth::make_error_code(mailauth::errc::reply_too_many_lines);
    return r;
}

} // namespace detail

/// Ends the session politely: IMAP "<tag> LOGOUT" (tag must be unused), POP3 and SMTP "QUIT".
template <mailauth::line_transport T>
command_result close_session(T& io, mail_protocol p, std::string_view imap_tag = "Z1", const line_observer& seen = {})
{
    switch (p) {
    case mail_protocol::imap: return detail::command(io, p, std::string{imap_tag} + " LOGOUT", imap_tag, '2', seen);
    case mail_protocol::pop3: return detail::command(io, p, "QUIT", {}, '+', seen);
    case mail_protocol::smtp: return detail::command(io, p, "QUIT", {}, '2', seen);
    }
    return {};
}

/// The next unused IMAP tag after the machine's last one ("A2" -> "A3").
inline std::string next_imap_tag(std::string_view last)
{
    unsigned n = 0;
    for (char c : last.substr(last.empty() ? 0 : 1))
        if (c >= '0' && c <= '9') n = n * 10 + static_cast<unsigned>(c - '0');
    return "A" + std::to_string(n + 1);
}

/// One message through an authenticated SMTP session: MAIL FROM, RCPT TO, DATA with dot-stuffing (RFC 5321 §4.5.2).
/// Returns the reply to the final "." (ok when 250), or the first reply that refused.
template <mailauth::line_transport T>
command_result smtp_send(T& io, std::string_view from, std::string_view to, const std::vector<std::string>& message,
                         const line_observer& seen = {})
{
    auto r = detail::command(io, mail_protocol::smtp, "MAIL FROM:<" + std::string{from} + ">", {}, '2', seen);
    if (!r.ok) return r;
    r = detail::command(io, mail_protocol::smtp, "RCPT TO:<" + std::string{to} + ">", {}, '2', seen);
    if (!r.ok) return r;
    r = detail::command(io, mail_protocol::smtp, "DATA", {}, '3', seen);
    if (!r.ok) return r;
    for (const auto& line : message) {
        const std::string stuffed = !line.empty() && line[0] == '.' ? "." + line : line;
        if (seen) seen('C', stuffed);
        if ((r.error = io.write_line(stuffed))) {
            r.ok = false;
            return r;
        }
    }
    return detail::command(io, mail_protocol::smtp, ".", {}, '2', seen);
}

} // namespace mailauth_examples
