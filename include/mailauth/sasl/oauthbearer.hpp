// mailauth: SASL OAUTHBEARER (RFC 7628).
#pragma once

#include <mailauth/sasl/mechanism.hpp>
#include <mailauth/sasl/oauth_error.hpp>
#include <mailauth/secret.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace mailauth::sasl {

/// OAUTHBEARER client (RFC 7628 §3.1): "n,a=U,^Ahost=H^Aport=P^Aauth=Bearer T^A^A".
class oauthbearer {
public:
    static constexpr std::string_view name = "OAUTHBEARER";

    /// Refers to its arguments; they must outlive the mechanism. Empty host or port 0 leaves the key out.
    oauthbearer(std::string_view user, const secret& token, std::string_view host = {}, std::uint16_t port = 0) noexcept
        : user_(user), token_(&token), host_(host), port_(port)
    {
    }

    /// Writes the client's initial response into `out`.
    step_result start(std::string& out)
    {
        out.clear();
        steps_ = 0;
        error_.clear();
        has_error_ = false;
        if (auto e = detail::check_field(user_, errc::invalid_user, true)) return {status::fail, false, e};
        if (auto e = detail::check_field(host_, errc::invalid_host, true)) return {status::fail, false, e};
        const auto token = token_->reveal();
        if (token.empty()) return detail::failed(errc::no_credentials);
        if (auto e = detail::check_field(token, errc::invalid_token, true)) return {status::fail, false, e};
        // Exact upper bound (saslname at most triples the user name), so no growth frees a copy of the token.
        mailauth::detail::reserve_wiped(out, 3 * user_.size() + host_.size() + token.size() + 48);
        out.append("n,");
        if (!user_.empty()) {
            out.append("a=");
            append_saslname(user_, out);
        }
        out.push_back(',');
        out.push_back('\x01');
        if (!host_.empty()) out.append("host=").append(host_).push_back('\x01');
        if (port_ != 0) out.append("port=").append(std::to_string(port_)).push_back('\x01');
        out.append("auth=Bearer ").append(token).append("\x01\x01");
        return detail::respond(true);
    }

    /// An error challenge is answered with a single ^A (RFC 7628 §3.2.3).
    step_result step(std::string_view challenge, std::string& out)
    {
        out.clear();
        if (steps_++ > 0) return detail::failed(errc::sasl_unexpected_challenge);
        parse_oauth_error(challenge, error_);
        has_error_ = true;
        out.push_back('\x01');
        return detail::respond(false);
    }

    /// The decoded error challenge, if the server sent one.
    const oauth_error* server_error() const noexcept { return has_error_ ? &error_ : nullptr; }

    /// saslname encoding of the GS2 header: "," -> "=2C", "=" -> "=3D" (RFC 5801 §4).
    static void append_saslname(std::string_view in, std::string& out)
    {
        for (auto at = in.find_first_of(",="); at != std::string_view::npos; at = in.find_first_of(",=")) {
            out.append(in.substr(0, at)).append(in[at] == ',' ? "=2C" : "=3D");
            in.remove_prefix(at + 1);
        }
        out.append(in);
    }

private:
    std::string_view user_;
    const secret* token_;
    std::string_view host_;
    std::uint16_t port_;
    oauth_error error_;
    unsigned steps_ = 0;
    bool has_error_ = false;
};

} // namespace mailauth::sasl
