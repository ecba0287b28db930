// Test support: run a protocol machine against a scripted server.
#pragma once

#include <mailauth/base64.hpp>
#include <mailauth/outcome.hpp>
#include <mailauth/proto/options.hpp>
#include <mailauth/testing/scripted_transport.hpp>
#include <mailauth/transport.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace mailauth {
// Lets Catch2 print verdicts and error codes readably.
inline std::ostream& operator<<(std::ostream& os, verdict v) { return os << to_string(v); }
} // namespace mailauth

namespace test {

/// A machine and the scripted server it talks to.
template <class Machine>
struct session {
    Machine machine;
    mailauth::testing::scripted_transport server;

    session(mailauth::options o, std::string_view script)
        : machine(std::move(o)), server(mailauth::testing::script::parse(script))
    {
    }
    const mailauth::outcome& run() { return mailauth::authenticate(server, machine); }
    template <class F>
    const mailauth::outcome& run(F&& refresh)
    {
        return mailauth::authenticate(server, machine, std::forward<F>(refresh));
    }
};

inline mailauth::options with_token(std::string user, std::string_view token,
                                    mailauth::tls_mode tls = mailauth::tls_mode::implicit)
{
    mailauth::options o;
    o.user = std::move(user);
    o.token.assign(token);
    o.tls = tls;
    o.ehlo_name = "client.example";
    return o;
}

inline mailauth::options with_password(std::string user, std::string_view password,
                                       mailauth::tls_mode tls = mailauth::tls_mode::implicit)
{
    mailauth::options o;
    o.user = std::move(user);
    o.password.assign(password);
    o.tls = tls;
    o.ehlo_name = "client.example";
    return o;
}

inline std::string xoauth2_b64(std::string_view user, std::string_view token)
{
    std::string raw = "user=";
    raw.append(user).append("\x01" "auth=Bearer ").append(token).append("\x01\x01");
    return mailauth::base64::encode(raw);
}

inline std::string oauthbearer_b64(std::string_view user, std::string_view token)
{
    std::string raw = "n,a=";
    raw.append(user).append(",\x01" "auth=Bearer ").append(token).append("\x01\x01");
    return mailauth::base64::encode(raw);
}

/// Replaces "{name}" in `text` with `value`.
inline std::string fill(std::string text, std::string_view name, std::string_view value)
{
    const std::string key = "{" + std::string{name} + "}";
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
        text.replace(at, key.size(), value);
    return text;
}

// Error challenges as real servers send them (base64 of the JSON).
inline constexpr std::string_view dovecot_xoauth2_error = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=";
inline constexpr std::string_view oauthbearer_invalid_token = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=";
inline constexpr std::string_view gmail_error_newline =
    "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K";
inline constexpr std::string_view gmail_pop3_error =
    "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";

} // namespace test
