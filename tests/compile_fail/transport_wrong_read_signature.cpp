// expect: line_transport
#include <mailauth/proto/imap.hpp>
#include <mailauth/transport.hpp>

#include <string>
#include <string_view>
#include <system_error>

// read_line must hand out a view; a transport returning the line by value does not model the concept.
struct by_value {
    std::error_code write_line(std::string_view) { return {}; }
    std::string read_line() { return {}; }
};

int main()
{
    by_value t;
    mailauth::imap::client m{mailauth::options{}};
    mailauth::authenticate(t, m);
}
