// Smoke test of an installed mailauth: Microsoft's documented XOAUTH2 vector, and with fmt a redacted secret.
#include <mailauth/mailauth.hpp>
#ifdef MAILAUTH_TEST_FMT
#include <mailauth/fmt.hpp>
#endif

#include <cstdio>
#include <string>

int main()
{
    const mailauth::secret token{"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"};
    mailauth::sasl::xoauth2 mechanism{"test@contoso.onmicrosoft.com", token};
    std::string raw;
    if (mechanism.start(raw).what != mailauth::sasl::status::respond) return 1;
    if (mailauth::base64::encode(raw) != "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVy"
                                         "IEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==")
        return 1;
#ifdef MAILAUTH_TEST_FMT
    if (fmt::format("{}", token) != "<redacted>") return 1;
    std::puts("mailauth test_package (with fmt): ok");
#else
    std::puts("mailauth test_package: ok");
#endif
    return 0;
}
