// libFuzzer target: the IMAP machine fed arbitrary server lines (properties in machine_fuzz.hpp).
#include "machine_fuzz.hpp"

#include <mailauth/proto/imap.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return mailauth_fuzz::run_machine<mailauth::imap::client>(mailauth_fuzz::protocol::imap, data, size);
}
