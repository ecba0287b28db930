#include "catch_compat.hpp"

#include <mailauth/error.hpp>

#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace {

constexpr int first_code = static_cast<int>(mailauth::errc::base64_invalid_character);
constexpr int last_code = static_cast<int>(mailauth::errc::io_error);

} // namespace

TEST_CASE("every errc has its own message and a side to blame", "[error]")
{
    std::set<std::string> messages;
    for (int v = first_code; v <= last_code; ++v) {
        const auto code = static_cast<mailauth::errc>(v);
        const std::error_code ec = mailauth::make_error_code(code);
        INFO("errc value " << v);
        CHECK(ec.value() == v);
        CHECK_FALSE(ec.message().empty());
        CHECK(ec.message() != "unknown mailauth error");
        CHECK(mailauth::fault_of(ec) != mailauth::fault::none);
        messages.insert(ec.message());
    }
    CHECK(messages.size() == static_cast<std::size_t>(last_code - first_code + 1));
}

// Every enumerator, spelled here by hand: the name to_string gives must be the enumerator's own spelling.
#define MAILAUTH_TEST_ERRC_LIST(X) \
    X(base64_invalid_character) \
    X(base64_whitespace) \
    X(base64_invalid_length) \
    X(base64_missing_padding) \
    X(base64_misplaced_padding) \
    X(base64_nonzero_pad_bits) \
    X(base64_output_too_small) \
    X(json_syntax) \
    X(json_too_deep) \
    X(json_too_large) \
    X(json_invalid_escape) \
    X(json_invalid_utf8) \
    X(json_control_character) \
    X(json_not_object) \
    X(json_trailing_data) \
    X(json_duplicate_key) \
    X(invalid_user) \
    X(invalid_authzid) \
    X(invalid_token) \
    X(invalid_password) \
    X(invalid_host) \
    X(invalid_ehlo_name) \
    X(invalid_mechanism_name) \
    X(invalid_argument) \
    X(mechanism_unavailable) \
    X(tls_required) \
    X(tls_unavailable) \
    X(no_credentials) \
    X(sasl_step_limit) \
    X(sasl_unexpected_challenge) \
    X(unexpected_call) \
    X(reply_malformed) \
    X(reply_line_too_long) \
    X(reply_too_many_lines) \
    X(reply_unexpected) \
    X(challenge_not_base64) \
    X(pipelined_after_starttls) \
    X(imap_tag_mismatch) \
    X(server_refused) \
    X(connection_closed) \
    X(oauth_error_response) \
    X(oauth_response_malformed) \
    X(oauth_unsupported_token_type) \
    X(oauth_redirect_malformed) \
    X(oauth_state_mismatch) \
    X(oauth_issuer_mismatch) \
    X(oauth_missing_code) \
    X(oauth_device_code_expired) \
    X(oauth_invalid_tenant) \
    X(url_invalid) \
    X(timeout) \
    X(name_resolution_failed) \
    X(connect_failed) \
    X(tls_handshake_failed) \
    X(tls_verification_failed) \
    X(io_error)

TEST_CASE("to_string(errc) is the enumerator's spelling, for every code", "[error]")
{
    std::size_t listed = 0;
#define MAILAUTH_TEST_CHECK_NAME(n) \
    CHECK(mailauth::to_string(mailauth::errc::n) == std::string_view{#n}); \
    ++listed;
    MAILAUTH_TEST_ERRC_LIST(MAILAUTH_TEST_CHECK_NAME)
#undef MAILAUTH_TEST_CHECK_NAME
    // The list above is complete: one entry per value from the first code to the last.
    CHECK(listed == static_cast<std::size_t>(last_code - first_code + 1));

    std::set<std::string_view> names;
    for (int v = first_code; v <= last_code; ++v) names.insert(mailauth::to_string(static_cast<mailauth::errc>(v)));
    CHECK(names.size() == listed);
    CHECK(names.count("unknown") == 0);
    STATIC_REQUIRE(mailauth::to_string(mailauth::errc::timeout) == "timeout");
    CHECK(mailauth::to_string(static_cast<mailauth::errc>(0)) == "unknown");
    CHECK(mailauth::to_string(static_cast<mailauth::errc>(last_code + 1)) == "unknown");
}

TEST_CASE("values outside the enum are unknown", "[error]")
{
    CHECK(mailauth::error_category().message(0) == "unknown mailauth error");
    CHECK(mailauth::error_category().message(last_code + 1) == "unknown mailauth error");
    CHECK(mailauth::error_category().message(-1) == "unknown mailauth error");
    CHECK(mailauth::fault_of(std::error_code{last_code + 1, mailauth::error_category()}) == mailauth::fault::none);
}

TEST_CASE("the category is named mailauth and is a singleton", "[error]")
{
    CHECK(std::string{mailauth::error_category().name()} == "mailauth");
    CHECK(&mailauth::error_category() == &mailauth::error_category());
    const std::error_code ec = mailauth::make_error_code(mailauth::errc::timeout);
    CHECK(ec.category() == mailauth::error_category());
    CHECK(std::string{ec.category().name()} == "mailauth");
}

TEST_CASE("errc converts implicitly to std::error_code", "[error]")
{
    STATIC_REQUIRE(std::is_error_code_enum_v<mailauth::errc>);
    const std::error_code ec = mailauth::errc::json_syntax;
    CHECK(ec == mailauth::errc::json_syntax);
    CHECK(ec != mailauth::errc::json_too_deep);
    CHECK(ec.message() == "json: syntax error");
    CHECK(static_cast<bool>(ec));
    CHECK(ec != std::make_error_code(std::errc::invalid_argument));
}

TEST_CASE("fault_of blames the right side", "[error]")
{
    using mailauth::errc;
    using mailauth::fault;
    using mailauth::fault_of;
    CHECK(fault_of(std::error_code{}) == fault::none);
    CHECK(fault_of(errc::base64_invalid_character) == fault::server);
    CHECK(fault_of(errc::base64_output_too_small) == fault::client);
    CHECK(fault_of(errc::json_duplicate_key) == fault::server);
    CHECK(fault_of(errc::invalid_token) == fault::client);
    CHECK(fault_of(errc::tls_required) == fault::client);
    CHECK(fault_of(errc::sasl_step_limit) == fault::server);
    CHECK(fault_of(errc::pipelined_after_starttls) == fault::server);
    CHECK(fault_of(errc::connection_closed) == fault::transport);
    CHECK(fault_of(errc::timeout) == fault::transport);
    CHECK(fault_of(errc::tls_verification_failed) == fault::transport);
    // Codes from other categories come from the transport.
    CHECK(fault_of(std::make_error_code(std::errc::connection_reset)) == fault::transport);
    CHECK(fault_of(std::error_code{5, std::system_category()}) == fault::transport);
}

TEST_CASE("error_detail::message adds the byte and the offset", "[error]")
{
    using mailauth::error_detail;
    const auto ec = mailauth::make_error_code(mailauth::errc::base64_invalid_character);

    CHECK(error_detail{ec, 17, 0x2A}.message() == "base64: invalid character 0x2A at offset 17");
    CHECK(error_detail{ec, 0, 0x00}.message() == "base64: invalid character 0x00 at offset 0");
    CHECK(error_detail{ec, 3, 0xFF}.message() == "base64: invalid character 0xFF at offset 3");
    CHECK(error_detail{ec, 12345678, 0x0a}.message() == "base64: invalid character 0x0A at offset 12345678");
    CHECK(error_detail{ec, error_detail::no_offset, 0x7F}.message() == "base64: invalid character 0x7F");
    CHECK(error_detail{ec, 4}.message() == "base64: invalid character at offset 4");
    CHECK(error_detail{ec}.message() == "base64: invalid character");

    const auto length = mailauth::make_error_code(mailauth::errc::base64_invalid_length);
    CHECK(error_detail{length, 7}.message() == "base64: length cannot be base64 at offset 7");
}

TEST_CASE("error_detail is false without a code", "[error]")
{
    const mailauth::error_detail none{};
    CHECK_FALSE(static_cast<bool>(none));
    CHECK(none.offset == mailauth::error_detail::no_offset);
    CHECK(none.byte == -1);
    CHECK(static_cast<bool>(mailauth::error_detail{mailauth::errc::json_syntax, 2}));
}

TEST_CASE("mailauth::error carries the code, the message and the offset", "[error]")
{
    STATIC_REQUIRE(std::is_base_of_v<std::system_error, mailauth::error>);

    SECTION("from an error code")
    {
        const mailauth::error e{mailauth::make_error_code(mailauth::errc::tls_required)};
        CHECK(std::string{e.what()} == "refusing to authenticate without TLS");
        CHECK(e.code() == mailauth::errc::tls_required);
        CHECK(e.offset() == mailauth::error_detail::no_offset);
    }
    SECTION("from an error_detail")
    {
        const mailauth::error_detail d{mailauth::errc::base64_invalid_character, 17, 0x2A};
        const mailauth::error e{d};
        CHECK(std::string{e.what()} == "base64: invalid character 0x2A at offset 17");
        CHECK(e.code() == mailauth::errc::base64_invalid_character);
        CHECK(e.offset() == 17);
    }
    SECTION("with a custom message")
    {
        const mailauth::error e{mailauth::errc::server_refused, "554 no service"};
        CHECK(std::string{e.what()} == "554 no service");
        CHECK(e.code() == mailauth::errc::server_refused);
    }
    SECTION("caught as std::system_error and std::exception")
    {
        try {
            throw mailauth::error{mailauth::make_error_code(mailauth::errc::timeout)};
        } catch (const std::system_error& e) {
            CHECK(e.code() == mailauth::errc::timeout);
            CHECK(std::string{e.what()} == "timed out");
        }
        try {
            throw mailauth::error{mailauth::make_error_code(mailauth::errc::io_error)};
        } catch (const std::exception& e) {
            CHECK(std::string{e.what()} == "I/O error");
        }
    }
}
