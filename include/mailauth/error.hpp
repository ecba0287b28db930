// mailauth: error codes, their category, and the exception that carries them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace mailauth {

/// Every error mailauth reports; `std::error_code{errc::x}` via make_error_code.
enum class errc : int {
    // base64 (RFC 4648 §4, §5): the input is not canonical base64.
    base64_invalid_character = 1,
    base64_whitespace,
    base64_invalid_length,
    base64_missing_padding,
    base64_misplaced_padding,
    base64_nonzero_pad_bits,
    base64_output_too_small,

    // JSON (RFC 8259) in server error challenges and token responses.
    json_syntax,
    json_too_deep,
    json_too_large,
    json_invalid_escape,
    json_invalid_utf8,
    json_control_character,
    json_not_object,
    json_trailing_data,
    json_duplicate_key,

    // Bad input from the caller: mailauth refuses to put it on the wire.
    invalid_user,
    invalid_authzid,
    invalid_token,
    invalid_password,
    invalid_host,
    invalid_ehlo_name,
    invalid_mechanism_name,
    invalid_argument,

    // The client side cannot go on (our refusal, not the server's fault).
    mechanism_unavailable,
    tls_required,
    tls_unavailable,
    no_credentials,
    sasl_step_limit,
    sasl_unexpected_challenge,
    unexpected_call,

    // The server broke the protocol.
    reply_malformed,
    reply_line_too_long,
    reply_too_many_lines,
    reply_unexpected,
    challenge_not_base64,
    pipelined_after_starttls,
    imap_tag_mismatch,
    server_refused,
    connection_closed,

    // OAuth 2.0: the authorization server's answers and redirects, and URLs.
    oauth_error_response,
    oauth_response_malformed,
    oauth_unsupported_token_type,
    oauth_redirect_malformed,
    oauth_state_mismatch,
    oauth_issuer_mismatch,
    oauth_missing_code,
    oauth_device_code_expired,
    oauth_invalid_tenant,
    url_invalid,

    // Transport failures reported by transports that use mailauth's codes.
    timeout,
    name_resolution_failed,
    connect_failed,
    tls_handshake_failed,
    tls_verification_failed,
    io_error,
};

/// Which side is at fault for an error code.
enum class fault : unsigned char { none, client, server, transport };

namespace detail {

struct errc_info {
    std::string_view name; ///< the enumerator's spelling, e.g. "base64_invalid_character"
    std::string_view message;
    fault side;
};

constexpr errc_info describe(errc e) noexcept
{
    switch (e) {
    case errc::base64_invalid_character:
        return {"base64_invalid_character", "base64: invalid character", fault::server};
    case errc::base64_whitespace:
        return {"base64_whitespace", "base64: whitespace character", fault::server};
    case errc::base64_invalid_length:
        return {"base64_invalid_length", "base64: length cannot be base64", fault::server};
    case errc::base64_missing_padding:
        return {"base64_missing_padding", "base64: missing padding", fault::server};
    case errc::base64_misplaced_padding:
        return {"base64_misplaced_padding", "base64: misplaced padding", fault::server};
    case errc::base64_nonzero_pad_bits:
        return {"base64_nonzero_pad_bits", "base64: non-zero pad bits (not canonical)", fault::server};
    case errc::base64_output_too_small:
        return {"base64_output_too_small", "base64: output buffer too small", fault::client};
    case errc::json_syntax:
        return {"json_syntax", "json: syntax error", fault::server};
    case errc::json_too_deep:
        return {"json_too_deep", "json: nesting too deep", fault::server};
    case errc::json_too_large:
        return {"json_too_large", "json: document too large", fault::server};
    case errc::json_invalid_escape:
        return {"json_invalid_escape", "json: invalid escape sequence", fault::server};
    case errc::json_invalid_utf8:
        return {"json_invalid_utf8", "json: invalid UTF-8", fault::server};
    case errc::json_control_character:
        return {"json_control_character", "json: unescaped control character in string", fault::server};
    case errc::json_not_object:
        return {"json_not_object", "json: top-level value is not an object", fault::server};
    case errc::json_trailing_data:
        return {"json_trailing_data", "json: data after the value", fault::server};
    case errc::json_duplicate_key:
        return {"json_duplicate_key", "json: duplicate key", fault::server};
    case errc::invalid_user:
        return {"invalid_user", "user name contains a forbidden byte", fault::client};
    case errc::invalid_authzid:
        return {"invalid_authzid", "authorization identity contains a forbidden byte", fault::client};
    case errc::invalid_token:
        return {"invalid_token", "token contains a forbidden byte", fault::client};
    case errc::invalid_password:
        return {"invalid_password", "password contains a forbidden byte", fault::client};
    case errc::invalid_host:
        return {"invalid_host", "host contains a forbidden byte", fault::client};
    case errc::invalid_ehlo_name:
        return {"invalid_ehlo_name", "EHLO name is empty or contains a forbidden byte", fault::client};
    case errc::invalid_mechanism_name:
        return {"invalid_mechanism_name", "not a valid SASL mechanism name", fault::client};
    case errc::invalid_argument:
        return {"invalid_argument", "invalid argument", fault::client};
    case errc::mechanism_unavailable:
        return {"mechanism_unavailable", "no acceptable authentication mechanism offered by the server", fault::client};
    case errc::tls_required:
        return {"tls_required", "refusing to authenticate without TLS", fault::client};
    case errc::tls_unavailable:
        return {"tls_unavailable", "TLS required but the server does not offer STARTTLS", fault::client};
    case errc::no_credentials:
        return {"no_credentials", "no token or password given", fault::client};
    case errc::sasl_step_limit:
        return {"sasl_step_limit", "too many SASL challenges", fault::server};
    case errc::sasl_unexpected_challenge:
        return {"sasl_unexpected_challenge", "the server sent a challenge the mechanism does not expect",
                fault::server};
    case errc::unexpected_call:
        return {"unexpected_call", "call not allowed in the machine's current state", fault::client};
    case errc::reply_malformed:
        return {"reply_malformed", "malformed server reply", fault::server};
    case errc::reply_line_too_long:
        return {"reply_line_too_long", "server line too long", fault::server};
    case errc::reply_too_many_lines:
        return {"reply_too_many_lines", "server reply has too many lines", fault::server};
    case errc::reply_unexpected:
        return {"reply_unexpected", "unexpected server reply", fault::server};
    case errc::challenge_not_base64:
        return {"challenge_not_base64", "server challenge is not valid base64", fault::server};
    case errc::pipelined_after_starttls:
        return {"pipelined_after_starttls", "server sent bytes after the STARTTLS reply (possible injection)",
                fault::server};
    case errc::imap_tag_mismatch:
        return {"imap_tag_mismatch", "IMAP tagged reply with an unknown tag", fault::server};
    case errc::server_refused:
        return {"server_refused", "server refused the connection", fault::server};
    case errc::connection_closed:
        return {"connection_closed", "connection closed by the server", fault::transport};
    case errc::oauth_error_response:
        return {"oauth_error_response", "oauth: the authorization server returned an error", fault::server};
    case errc::oauth_response_malformed:
        return {"oauth_response_malformed", "oauth: not a valid token endpoint response", fault::server};
    case errc::oauth_unsupported_token_type:
        return {"oauth_unsupported_token_type", "oauth: token_type is not Bearer", fault::server};
    case errc::oauth_redirect_malformed:
        return {"oauth_redirect_malformed", "oauth: malformed redirect query", fault::server};
    case errc::oauth_state_mismatch:
        return {"oauth_state_mismatch", "oauth: redirect state missing or wrong (possible CSRF)", fault::server};
    case errc::oauth_issuer_mismatch:
        return {"oauth_issuer_mismatch", "oauth: redirect iss missing or wrong (RFC 9207)", fault::server};
    case errc::oauth_missing_code:
        return {"oauth_missing_code", "oauth: redirect has neither code nor error", fault::server};
    case errc::oauth_device_code_expired:
        return {"oauth_device_code_expired", "oauth: device code expired before the user approved", fault::client};
    case errc::oauth_invalid_tenant:
        return {"oauth_invalid_tenant",
                "oauth: not a valid Microsoft tenant (common, organizations, consumers, a GUID or a domain)",
                fault::client};
    case errc::url_invalid:
        return {"url_invalid", "url: not a valid http(s) URL or component", fault::client};
    case errc::timeout:
        return {"timeout", "timed out", fault::transport};
    case errc::name_resolution_failed:
        return {"name_resolution_failed", "host name resolution failed", fault::transport};
    case errc::connect_failed:
        return {"connect_failed", "connection failed", fault::transport};
    case errc::tls_handshake_failed:
        return {"tls_handshake_failed", "TLS handshake failed", fault::transport};
    case errc::tls_verification_failed:
        return {"tls_verification_failed", "TLS certificate verification failed", fault::transport};
    case errc::io_error:
        return {"io_error", "I/O error", fault::transport};
    }
    return {"unknown", "unknown mailauth error", fault::none};
}

class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "mailauth"; }
    std::string message(int ev) const override { return std::string{describe(static_cast<errc>(ev)).message}; }
};

} // namespace detail

/// The category of mailauth::errc.
inline const std::error_category& error_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

/// A short stable name for a code: the enumerator's spelling, e.g. "oauth_state_mismatch" ("unknown" for a
/// value that is not an enumerator). Unlike the number it survives new codes; unlike message() it never changes
/// wording, so it suits logs, metrics and JSON.
constexpr std::string_view to_string(errc e) noexcept
{
    return detail::describe(e).name;
}

/// Which side an error code blames; codes from other categories count as transport.
inline fault fault_of(const std::error_code& ec) noexcept
{
    if (!ec) return fault::none;
    if (ec.category() != error_category()) return fault::transport;
    return detail::describe(static_cast<errc>(ec.value())).side;
}

/// An error code with where it happened: byte offset and offending byte when known.
struct error_detail {
    static constexpr std::size_t no_offset = static_cast<std::size_t>(-1);

    std::error_code code;
    std::size_t offset = no_offset;
    int byte = -1;

    explicit operator bool() const noexcept { return static_cast<bool>(code); }

    /// E.g. "base64: invalid character 0x2A at offset 17".
    std::string message() const
    {
        std::string m = code.message();
        if (byte >= 0) {
            constexpr char hex[] = "0123456789ABCDEF";
            m += " 0x";
            m += hex[(byte >> 4) & 0xF];
            m += hex[byte & 0xF];
        }
        if (offset != no_offset) {
            m += " at offset ";
            m += std::to_string(offset);
        }
        return m;
    }
};

/// The exception thrown by mailauth's throwing overloads.
class error : public std::system_error {
public:
    explicit error(std::error_code ec) : std::system_error(ec), what_(ec.message()) {}
    explicit error(const error_detail& d) : std::system_error(d.code), what_(d.message()), offset_(d.offset) {}
    error(std::error_code ec, std::string what) : std::system_error(ec), what_(std::move(what)) {}

    const char* what() const noexcept override { return what_.c_str(); }
    /// Byte offset of the problem in its input, or error_detail::no_offset.
    std::size_t offset() const noexcept { return offset_; }

private:
    std::string what_;
    std::size_t offset_ = error_detail::no_offset;
};

} // namespace mailauth

template <>
struct std::is_error_code_enum<mailauth::errc> : std::true_type {};
