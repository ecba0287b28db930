#include "catch_compat.hpp"

#include <mailauth/error.hpp>

#include <exception>
#include <set>
#include <string>
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
