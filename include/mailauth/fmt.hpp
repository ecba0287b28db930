// mailauth: fmt formatters for outcomes, replies, capabilities, transcripts and secrets (opt-in; needs fmt).
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/outcome.hpp>
#include <mailauth/secret.hpp>

#include <fmt/format.h>

#include <string_view>

namespace mailauth::detail {

/// Base for formatters that take no format spec.
struct plain_formatter {
    constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) { return ctx.begin(); }
};

} // namespace mailauth::detail

/// A secret always formats as "<redacted>".
template <>
struct fmt::formatter<mailauth::secret> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(const mailauth::secret&, Ctx& ctx) const
    {
        return fmt::format_to(ctx.out(), "{}", mailauth::transcript::redacted);
    }
};

template <>
struct fmt::formatter<mailauth::verdict> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(mailauth::verdict v, Ctx& ctx) const
    {
        return fmt::format_to(ctx.out(), "{}", mailauth::to_string(v));
    }
};

/// "base64: invalid character 0x2A at offset 17".
template <>
struct fmt::formatter<mailauth::error_detail> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(const mailauth::error_detail& e, Ctx& ctx) const
    {
        return fmt::format_to(ctx.out(), "{}", e ? e.message() : std::string{"no error"});
    }
};

/// "535 5.7.8 Authentication failed.", "NO [AUTHENTICATIONFAILED] Authentication failed.", "-ERR [AUTH] ...",
/// "NO [REFERRAL imap://user@other.example/] Log in there" (the code's arguments kept).
template <>
struct fmt::formatter<mailauth::server_reply> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(const mailauth::server_reply& r, Ctx& ctx) const
    {
        auto out = fmt::format_to(ctx.out(), "{}", r.status);
        if (!r.enhanced.empty()) out = fmt::format_to(out, " {}", r.enhanced);
        if (!r.response_code.empty()) {
            out = fmt::format_to(out, " [{}", r.response_code);
            if (!r.response_args.empty()) out = fmt::format_to(out, " {}", r.response_args);
            out = fmt::format_to(out, "]");
        }
        if (!r.text.empty()) out = fmt::format_to(out, " {}", r.text);
        return out;
    }
};

/// "capabilities: ... ; mechanisms: ...".
template <>
struct fmt::formatter<mailauth::capabilities> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(const mailauth::capabilities& c, Ctx& ctx) const
    {
        return fmt::format_to(ctx.out(), "capabilities: {}; mechanisms: {}", c.words(), c.mechanisms());
    }
};

/// One "C: ..." / "S: ..." line per entry; credentials are already redacted.
template <>
struct fmt::formatter<mailauth::transcript> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(const mailauth::transcript& t, Ctx& ctx) const
    {
        auto out = ctx.out();
        for (auto line : t) out = fmt::format_to(out, "{}: {}\n", line.direction == mailauth::direction::client ? 'C' : 'S', line.text);
        return out;
    }
};

/// A multi-line summary: result, mechanism, reply, OAuth error, round trips, hint.
template <>
struct fmt::formatter<mailauth::outcome> : mailauth::detail::plain_formatter {
    template <class Ctx>
    auto format(const mailauth::outcome& o, Ctx& ctx) const
    {
        auto out = fmt::format_to(ctx.out(), "result:      {}\n", o.verdict);
        if (!o.mechanism.empty()) out = fmt::format_to(out, "mechanism:   {}{}\n", o.mechanism, o.tls ? " (TLS)" : "");
        if (!o.reply.empty()) out = fmt::format_to(out, "reply:       {}\n", o.reply);
        if (o.has_oauth_error) {
            const auto& e = o.oauth_error;
            out = fmt::format_to(out, "oauth error: status={} schemes={} scope={}", e.status, e.schemes, e.scope);
            if (!e.openid_configuration.empty()) out = fmt::format_to(out, " openid-configuration={}", e.openid_configuration);
            out = fmt::format_to(out, "\n");
        }
        if (o.error) out = fmt::format_to(out, "error:       {}\n", o.error);
        out = fmt::format_to(out, "round trips: {} for authentication, {} in all\n", o.round_trips, o.total_round_trips);
        if (!o.hint.empty()) out = fmt::format_to(out, "hint:        {}\n", o.hint);
        return out;
    }
};
