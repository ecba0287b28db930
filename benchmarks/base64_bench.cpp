// mailauth: base64 throughput against OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock and memcpy.
// Every benchmark counts the raw (decoded) payload size as its bytes processed, so rows of one size compare directly.
#include <mailauth/base64.hpp>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// Deterministic pseudo-random payload of n bytes (xorshift64).
std::string payload(std::size_t n)
{
    std::string s(n, '\0');
    std::uint64_t x = 0x9E3779B97F4A7C15u ^ n;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x >> 56);
    }
    return s;
}

auto* as_bytes(char* p) { return reinterpret_cast<unsigned char*>(p); }
auto* as_bytes(const char* p) { return reinterpret_cast<const unsigned char*>(p); }

void set_bytes(benchmark::State& state, std::size_t n)
{
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

void mailauth_encode(benchmark::State& state)
{
    const std::string in = payload(static_cast<std::size_t>(state.range(0)));
    std::vector<char> out(mailauth::base64::encoded_size(in.size()));
    std::vector<char> expected(out.size() + 1);
    EVP_EncodeBlock(as_bytes(expected.data()), as_bytes(in.data()), static_cast<int>(in.size()));
    mailauth::base64::encode(in, out.data());
    if (!std::equal(out.begin(), out.end(), expected.begin())) {
        state.SkipWithError("mailauth and OpenSSL encode differently");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(mailauth::base64::encode(in, out.data()));
        benchmark::ClobberMemory();
    }
    set_bytes(state, in.size());
}

void openssl_encode(benchmark::State& state)
{
    const std::string in = payload(static_cast<std::size_t>(state.range(0)));
    std::vector<char> out(mailauth::base64::encoded_size(in.size()) + 1);  // EVP_EncodeBlock adds a NUL
    const int length = static_cast<int>(in.size());
    for (auto _ : state) {
        benchmark::DoNotOptimize(EVP_EncodeBlock(as_bytes(out.data()), as_bytes(in.data()), length));
        benchmark::ClobberMemory();
    }
    set_bytes(state, in.size());
}

void mailauth_decode(benchmark::State& state)
{
    const std::string raw = payload(static_cast<std::size_t>(state.range(0)));
    const std::string in = mailauth::base64::encode(raw);
    std::vector<char> out(mailauth::base64::decoded_size_max(in.size()));
    const auto r = mailauth::base64::decode(in, out.data(), out.size());
    if (!r || std::string_view(out.data(), r.size) != raw) {
        state.SkipWithError("mailauth decode failed");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(mailauth::base64::decode(in, out.data(), out.size()).size);
        benchmark::ClobberMemory();
    }
    set_bytes(state, raw.size());
}

void openssl_decode(benchmark::State& state)
{
    const std::string raw = payload(static_cast<std::size_t>(state.range(0)));
    const std::string in = mailauth::base64::encode(raw);
    std::vector<char> out(mailauth::base64::decoded_size_max(in.size()));
    const int length = static_cast<int>(in.size());
    if (EVP_DecodeBlock(as_bytes(out.data()), as_bytes(in.data()), length) < 0) {
        state.SkipWithError("EVP_DecodeBlock failed");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(EVP_DecodeBlock(as_bytes(out.data()), as_bytes(in.data()), length));
        benchmark::ClobberMemory();
    }
    set_bytes(state, raw.size());
}

void copy_memcpy(benchmark::State& state)
{
    const std::string in = payload(static_cast<std::size_t>(state.range(0)));
    std::vector<char> out(in.size());
    for (auto _ : state) {
        std::memcpy(out.data(), in.data(), in.size());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, in.size());
}

} // namespace

BENCHMARK(mailauth_encode)->Arg(64)->Arg(2048)->Arg(65536);
BENCHMARK(openssl_encode)->Arg(64)->Arg(2048)->Arg(65536);
BENCHMARK(mailauth_decode)->Arg(64)->Arg(2048)->Arg(65536);
BENCHMARK(openssl_decode)->Arg(64)->Arg(2048)->Arg(65536);
BENCHMARK(copy_memcpy)->Arg(64)->Arg(2048)->Arg(65536);

BENCHMARK_MAIN();
