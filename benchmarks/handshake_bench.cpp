// mailauth: one whole client-side authentication per iteration, for every protocol x mechanism, over an
// in-memory transport with a reused machine. Counters: heap allocations per authentication (replaced global
// operator new), round trips of the exchange and bytes written per authentication.
#include "counting_new.hpp"
#include "handshake_cases.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>

namespace {

template <class Machine>
void authenticate(benchmark::State& state, bench::combo c)
{
    bench::handshake<Machine> h{c.proto, c.mech};
    if (!h.run()) { // warm-up: buffers reach their steady size
        state.SkipWithError("the authentication failed");
        return;
    }
    const std::size_t before = bench::allocations();
    for (auto _ : state) {
        benchmark::DoNotOptimize(h.run());
        benchmark::ClobberMemory();
    }
    const auto runs = static_cast<double>(state.iterations());
    state.counters["allocs_per_auth"] = static_cast<double>(bench::allocations() - before) / runs;
    state.counters["round_trips"] = static_cast<double>(h.machine.outcome().round_trips);
    state.counters["bytes_written"] = static_cast<double>(h.io.written);
    state.SetItemsProcessed(state.iterations());
}

int register_all()
{
    for (const auto& c : bench::combos) {
        const std::string name = std::string{"handshake/"} + bench::name_of(c.proto) + "/" + std::string{c.mech};
        bench::with_machine(c.proto, [&]<class Machine>() {
            benchmark::RegisterBenchmark(name.c_str(), [c](benchmark::State& s) { authenticate<Machine>(s, c); });
        });
    }
    return 0;
}

[[maybe_unused]] const int registered = register_all();

} // namespace

BENCHMARK_MAIN();
