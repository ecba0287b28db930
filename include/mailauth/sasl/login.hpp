// mailauth: SASL LOGIN (draft-murchison-sasl-login), the legacy password fallback.
#pragma once

#include <mailauth/sasl/mechanism.hpp>
#include <mailauth/secret.hpp>

#include <string>
#include <string_view>

namespace mailauth::sasl {

/// LOGIN client: the user name for the first challenge, the password for the second, whatever their text.
class login {
public:
    static constexpr std::string_view name = "LOGIN";

    /// Refers to its arguments; they must outlive the mechanism.
    login(std::string_view user, const secret& password) noexcept : user_(user), password_(&password) {}

    /// LOGIN has no initial response; the input is checked here so nothing is sent for bad input.
    step_result start(std::string& out)
    {
        out.clear();
        steps_ = 0;
        if (user_.empty()) return detail::failed(errc::invalid_user);
        if (auto e = detail::check_field(user_, errc::invalid_user, false)) return {status::fail, false, e};
        if (password_->empty()) return detail::failed(errc::no_credentials);
        if (auto e = detail::check_field(password_->reveal(), errc::invalid_password, false))
            return {status::fail, false, e};
        return {status::wait, false, {}};
    }

    /// Step 1 answers with the user name, step 2 with the password; the prompt text is ignored.
    step_result step(std::string_view, std::string& out)
    {
        out.clear();
        switch (steps_++) {
        case 0: out.assign(user_); return detail::respond(false);
        case 1:
            mailauth::detail::reserve_wiped(out, password_->size());
            out.assign(password_->reveal());
            return detail::respond(true);
        default: return detail::failed(errc::sasl_unexpected_challenge);
        }
    }

private:
    std::string_view user_;
    const secret* password_;
    unsigned steps_ = 0;
};

} // namespace mailauth::sasl
