// A program that uses mailauth as an application would; built by every consumer test (CMake and pkg-config).
#include <mailauth/error.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

namespace {

int failures = 0;

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}

} // namespace

int main()
{
    std::error_code ec = mailauth::errc::base64_invalid_character;
    check(std::string_view{ec.category().name()} == "mailauth", "category name");
    check(ec == mailauth::make_error_code(mailauth::errc::base64_invalid_character), "make_error_code");
    check(mailauth::fault_of(ec) == mailauth::fault::server, "fault_of");

    // Designated initialisers: C++20 must reach this file through mailauth::mailauth alone.
    const mailauth::error_detail detail{.code = ec, .offset = 17, .byte = 0x2A};
    check(detail.message() == "base64: invalid character 0x2A at offset 17", "error_detail::message");

    try {
        throw mailauth::error{detail};
    } catch (const std::system_error& e) {
        check(std::string_view{e.what()}.starts_with("base64: invalid character"), "mailauth::error::what");
        check(e.code() == mailauth::errc::base64_invalid_character, "mailauth::error::code");
    }

    if (failures != 0) return 1;
    std::puts("mailauth consumer: ok");
    return 0;
}
