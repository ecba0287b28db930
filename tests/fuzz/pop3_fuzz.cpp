// libFuzzer target: the POP3 machine fed arbitrary server lines (properties in machine_fuzz.hpp).
#include "machine_fuzz.hpp"

#include <mailauth/proto/pop3.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return mailauth_fuzz::run_machine<mailauth::pop3::client>(mailauth_fuzz::protocol::pop3, data, size);
}
