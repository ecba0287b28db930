// mailauth: SASL PLAIN (RFC 4616), the password fallback.
#pragma once

#include <mailauth/sasl/mechanism.hpp>
#include <mailauth/secret.hpp>

#include <string>
#include <string_view>

namespace mailauth::sasl {

/// PLAIN client: "authzid NUL authcid NUL passwd" as the initial response (RFC 4616 §2).
class plain {
public:
    static constexpr std::string_view name = "PLAIN";

    /// Refers to its arguments; they must outlive the mechanism. An empty authzid is left out.
    plain(std::string_view user, const secret& password, std::string_view authzid = {}) noexcept
        : user_(user), password_(&password), authzid_(authzid)
    {
    }

    step_result start(std::string& out)
    {
        out.clear();
        if (auto e = detail::check_field(authzid_, errc::invalid_authzid, false)) return {status::fail, false, e};
        if (user_.empty()) return detail::failed(errc::invalid_user);
        if (auto e = detail::check_field(user_, errc::invalid_user, false)) return {status::fail, false, e};
        const auto pass = password_->reveal();
        if (pass.empty()) return detail::failed(errc::no_credentials);
        if (auto e = detail::check_field(pass, errc::invalid_password, false)) return {status::fail, false, e};
        mailauth::detail::reserve_wiped(out, authzid_.size() + user_.size() + pass.size() + 2);
        out.append(authzid_).append(1, '\0').append(user_).append(1, '\0').append(pass);
        return detail::respond(true);
    }

    /// PLAIN is done after its one message; any further challenge is a server error.
    step_result step(std::string_view, std::string& out)
    {
        out.clear();
        return detail::failed(errc::sasl_unexpected_challenge);
    }

private:
    std::string_view user_;
    const secret* password_;
    std::string_view authzid_;
};

} // namespace mailauth::sasl
