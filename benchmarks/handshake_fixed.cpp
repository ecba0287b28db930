// Fixed work for callgrind: N whole authentications of one protocol x mechanism, plus the heap allocations
// they made after the first (warm-up) run. Instructions per authentication = (Ir(N=11) - Ir(N=1)) / 10,
// or Ir / N with --toggle-collect='*run_one*' (the timed runs go through run_one, the warm-up does not).
// Usage: mailauth_handshake_fixed smtp|imap|pop3 MECH N      one case
//        mailauth_handshake_fixed list                       the cases, one "protocol mechanism" a line
#include "counting_new.hpp"
#include "handshake_cases.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

/// One timed authentication; kept out of line so callgrind can collect exactly these instructions.
template <class Machine>
[[gnu::noinline]] bool run_one(bench::handshake<Machine>& h)
{
    return h.run();
}

template <class Machine>
int run(bench::protocol p, std::string_view mech, long n)
{
    bench::handshake<Machine> h{p, mech};
    if (!h.run()) { // warm-up: buffers reach their steady size
        std::fprintf(stderr, "%s %.*s: the authentication failed: %.*s\n", bench::name_of(p),
                     static_cast<int>(mech.size()), mech.data(),
                     static_cast<int>(h.machine.outcome().hint.size()), h.machine.outcome().hint.data());
        return 1;
    }
    const auto before = bench::allocations();
    for (long i = 0; i < n; ++i)
        if (!run_one(h)) return 1;
    const auto& o = h.machine.outcome();
    std::printf("%s %.*s runs=%ld allocations_after_warmup=%zu round_trips=%u total_round_trips=%u bytes_written=%zu\n",
                bench::name_of(p), static_cast<int>(mech.size()), mech.data(), n, bench::allocations() - before,
                o.round_trips, o.total_round_trips, h.io.written);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc == 2 && std::string_view{argv[1]} == "list") {
        for (const auto& c : bench::combos)
            std::printf("%s %.*s\n", bench::name_of(c.proto), static_cast<int>(c.mech.size()), c.mech.data());
        return 0;
    }
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s smtp|imap|pop3 MECH N\n       %s list\n", argv[0], argv[0]);
        return 2;
    }
    const std::string_view proto = argv[1];
    const std::string_view mech = argv[2];
    const long n = std::strtol(argv[3], nullptr, 10);
    for (const auto& c : bench::combos) {
        if (proto != bench::name_of(c.proto) || mech != c.mech) continue;
        return bench::with_machine(c.proto, [&]<class Machine>() { return run<Machine>(c.proto, c.mech, n); });
    }
    std::fprintf(stderr, "unknown case: %s %s (see '%s list')\n", argv[1], argv[2], argv[0]);
    return 2;
}
