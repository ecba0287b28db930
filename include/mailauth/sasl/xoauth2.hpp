// mailauth: SASL XOAUTH2, Google's and Microsoft's bearer-token mechanism.
#pragma once

#include <mailauth/sasl/mechanism.hpp>
#include <mailauth/sasl/oauth_error.hpp>
#include <mailauth/secret.hpp>

#include <string>
#include <string_view>

namespace mailauth::sasl {

/// XOAUTH2 client: "user=U^Aauth=Bearer T^A^A"; an error challenge is answered with an empty response.
class xoauth2 {
public:
    static constexpr std::string_view name = "XOAUTH2";

    /// Refers to `user` and `token`; both must outlive the mechanism.
    xoauth2(std::string_view user, const secret& token) noexcept : user_(user), token_(&token) {}

    /// Writes the whole client message (the initial response) into `out`.
    step_result start(std::string& out)
    {
        out.clear();
        steps_ = 0;
        error_.clear();
        has_error_ = false;
        if (auto e = detail::check_field(user_, errc::invalid_user, true)) return {status::fail, false, e};
        const auto token = token_->reveal();
        if (token.empty()) return detail::failed(errc::no_credentials);
        if (auto e = detail::check_field(token, errc::invalid_token, true)) return {status::fail, false, e};
        mailauth::detail::reserve_wiped(out, user_.size() + token.size() + 20);
        out.append("user=").append(user_).append("\x01" "auth=Bearer ").append(token).append("\x01\x01");
        return detail::respond(true);
    }

    /// The only challenge XOAUTH2 has is the server's error JSON; answer it with an empty response.
    step_result step(std::string_view challenge, std::string& out)
    {
        out.clear();
        if (steps_++ > 0) return detail::failed(errc::sasl_unexpected_challenge);
        parse_oauth_error(challenge, error_);
        has_error_ = true;
        return detail::respond(false);
    }

    /// The decoded error challenge, if the server sent one.
    const oauth_error* server_error() const noexcept { return has_error_ ? &error_ : nullptr; }

private:
    std::string_view user_;
    const secret* token_;
    oauth_error error_;
    unsigned steps_ = 0;
    bool has_error_ = false;
};

} // namespace mailauth::sasl
