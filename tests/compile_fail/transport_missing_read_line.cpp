// expect: line_transport
#include <mailauth/proto/smtp.hpp>
#include <mailauth/transport.hpp>

#include <string_view>
#include <system_error>

struct write_only {
    std::error_code write_line(std::string_view) { return {}; }
};

int main()
{
    write_only t;
    mailauth::smtp::client m{mailauth::options{}};
    mailauth::authenticate(t, m);
}
