// Fixed work for callgrind: N whole authentications of one protocol x mechanism, plus the heap allocations
// they made after the first (warm-up) run. Usage: mailauth_handshake_fixed smtp|imap|pop3 MECH N
#include "handshake_cases.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace {
std::size_t allocations = 0;
}

void* operator new(std::size_t n)
{
    ++allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

template <class Machine>
int run(bench::protocol p, std::string_view mech, long n)
{
    bench::handshake<Machine> h{p, mech};
    if (!h.run()) return 1; // warm-up: buffers reach their steady size
    const auto before = allocations;
    for (long i = 0; i < n; ++i)
        if (!h.run()) return 1;
    std::printf("%s %.*s runs=%ld allocations_after_warmup=%zu round_trips=%u bytes_written_last=%zu\n",
                bench::name_of(p), static_cast<int>(mech.size()), mech.data(), n, allocations - before,
                h.machine.outcome().round_trips, h.io.written);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s smtp|imap|pop3 XOAUTH2|OAUTHBEARER|PLAIN|LOGIN N\n", argv[0]);
        return 2;
    }
    const std::string_view proto = argv[1];
    const std::string_view mech = argv[2];
    const long n = std::strtol(argv[3], nullptr, 10);
    if (proto == "smtp") return run<mailauth::smtp::client>(bench::protocol::smtp, mech, n);
    if (proto == "imap") return run<mailauth::imap::client>(bench::protocol::imap, mech, n);
    if (proto == "pop3") return run<mailauth::pop3::client>(bench::protocol::pop3, mech, n);
    return 2;
}
