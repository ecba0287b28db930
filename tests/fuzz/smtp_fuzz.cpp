// libFuzzer target: the SMTP machine fed arbitrary server lines (properties in machine_fuzz.hpp).
#include "machine_fuzz.hpp"

#include <mailauth/proto/smtp.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return mailauth_fuzz::run_machine<mailauth::smtp::client>(mailauth_fuzz::protocol::smtp, data, size);
}
