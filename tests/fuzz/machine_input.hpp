// The input format of the machine fuzz targets, shared with the seed generator.
//   byte 0: flags_a, byte 1: flags_b, then the server's lines separated by '\n' (fed as they are).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailauth_fuzz {

/// flags_a bits 0-1: how the connection is protected.
enum class fuzz_tls : unsigned char { implicit = 0, starttls = 1, none = 2, none_allowed = 3 };
/// flags_a bits 2-3: initial-response policy (3 is automatic again).
enum class fuzz_ir : unsigned char { automatic = 0, always = 1, never = 2 };
/// flags_a bits 4-6: which credentials and mechanism list.
enum class fuzz_creds : unsigned char {
    token = 0,              ///< token, default mechanisms
    password = 1,           ///< password, default mechanisms
    both_optional = 2,      ///< token and password, OAuth optional
    both_mandatory = 3,     ///< token and password, OAuth mandatory
    oauthbearer = 4,        ///< token, mechanisms {OAUTHBEARER}
    xoauth2 = 5,            ///< token, mechanisms {XOAUTH2}
    login_plain = 6,        ///< password, mechanisms {LOGIN, PLAIN}
    native = 7,             ///< password, mechanisms {IMAP-LOGIN} / {USER-PASS} / {PLAIN} for SMTP
};
inline constexpr unsigned flag_refresh = 0x80;      ///< flags_a: answer token_rejected with a fresh token

/// flags_b bits 0-1: the user name.
enum class fuzz_user : unsigned char { plain = 0, utf8_gs2 = 1, long_name = 2, domain = 3 };
/// flags_b bits 2-3: the size of the credentials.
enum class fuzz_size : unsigned char { normal = 0, microsoft = 1, large = 2, utf8_password = 3 };
inline constexpr unsigned flag_host = 0x10;         ///< flags_b: OAUTHBEARER host= and port=
inline constexpr unsigned flag_small_limits = 0x20; ///< flags_b: short lines, few reply lines, few challenges
inline constexpr unsigned flag_tls_fails = 0x40;    ///< flags_b: the TLS handshake fails
inline constexpr unsigned flag_authzid = 0x80;      ///< flags_b: a PLAIN authorization identity

constexpr std::uint8_t make_flags_a(fuzz_tls tls, fuzz_ir ir, fuzz_creds creds, bool refresh = false) noexcept
{
    return static_cast<std::uint8_t>(static_cast<unsigned>(tls) | static_cast<unsigned>(ir) << 2 |
                                     static_cast<unsigned>(creds) << 4 | (refresh ? flag_refresh : 0u));
}

constexpr std::uint8_t make_flags_b(fuzz_user user, fuzz_size size, unsigned extra = 0) noexcept
{
    return static_cast<std::uint8_t>(static_cast<unsigned>(user) | static_cast<unsigned>(size) << 2 | extra);
}

/// An input: two flag bytes and the server lines.
inline std::string make_input(std::uint8_t a, std::uint8_t b, std::string_view server_lines)
{
    std::string in;
    in.push_back(static_cast<char>(a));
    in.push_back(static_cast<char>(b));
    in.append(server_lines);
    return in;
}

} // namespace mailauth_fuzz
