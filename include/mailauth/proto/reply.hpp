// mailauth: the server's final reply and the reply grammars of SMTP, IMAP and POP3.
#pragma once

#include <mailauth/detail/ascii.hpp>

#include <string>
#include <string_view>

namespace mailauth {

/// A server's final reply to a command, split into its parts.
struct server_reply {
    std::string status;        ///< "235", "535" (SMTP); "OK", "NO", "BAD", "BYE" (IMAP); "+OK", "-ERR" (POP3)
    int code = 0;              ///< SMTP reply code (RFC 5321 §4.2), 0 for IMAP and POP3
    std::string enhanced;      ///< RFC 3463 enhanced status code, e.g. "5.7.8"
    std::string response_code; ///< IMAP response code (RFC 5530) or POP3 code (RFC 3206), e.g. "AUTHENTICATIONFAILED"
    std::string response_args; ///< what follows the code inside its brackets, e.g. the URL of IMAP [REFERRAL url]
    std::string text;          ///< human-readable text; lines of a multiline SMTP reply joined by '\n'

    void clear() noexcept
    {
        status.clear();
        code = 0;
        enhanced.clear();
        response_code.clear();
        response_args.clear();
        text.clear();
    }
    bool empty() const noexcept { return status.empty(); }
};

namespace detail {

/// One SMTP reply line: "250-text", "250 text" or "250" (RFC 5321 §4.2.1).
struct smtp_line {
    int code = 0;
    bool last = true;
    std::string_view text;
};

/// Parses an SMTP reply line; false when it does not start with a valid code (2xx-5xx).
constexpr bool parse_smtp_line(std::string_view line, smtp_line& out) noexcept
{
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return false;
    if (line[0] < '2' || line[0] > '5' || line[1] > '5') return false;
    out.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line.size() == 3) {
        out.last = true;
        out.text = {};
        return true;
    }
    if (line[3] != ' ' && line[3] != '-') return false;
    out.last = line[3] == ' ';
    out.text = line.substr(4);
    return true;
}

/// Splits an RFC 3463 enhanced status code ("5.7.8 text") off the front of `text`.
constexpr std::string_view take_enhanced_code(std::string_view& text) noexcept
{
    std::size_t i = 0;
    auto digits = [&](std::size_t max) {
        std::size_t n = 0;
        while (i < text.size() && is_digit(text[i]) && n < max) {
            ++i;
            ++n;
        }
        return n;
    };
    if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return {};
    ++i;
    if (i >= text.size() || text[i] != '.') return {};
    ++i;
    if (digits(3) == 0 || i >= text.size() || text[i] != '.') return {};
    ++i;
    if (digits(3) == 0) return {};
    if (i < text.size() && text[i] != ' ') return {};
    const auto code = text.substr(0, i);
    text.remove_prefix(i);
    text = trim(text);
    return code;
}

/// Splits a bracketed response code ("[AUTHENTICATIONFAILED] text", RFC 5530 / RFC 3206) off `text`.
/// Returns the code without brackets; `args` gets what follows the atom inside the brackets.
constexpr std::string_view take_response_code(std::string_view& text, std::string_view* args = nullptr) noexcept
{
    if (text.empty() || text.front() != '[') return {};
    const auto close = text.find(']');
    if (close == std::string_view::npos) return {};
    auto inside = text.substr(1, close - 1);
    const auto sp = inside.find(' ');
    const auto code = inside.substr(0, sp);
    if (args != nullptr) *args = sp == std::string_view::npos ? std::string_view{} : trim(inside.substr(sp + 1));
    text.remove_prefix(close + 1);
    text = trim(text);
    return code;
}

} // namespace detail

} // namespace mailauth
