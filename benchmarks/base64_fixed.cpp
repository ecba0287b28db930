// Fixed work for callgrind: N base64 encodes or decodes of SIZE raw bytes, by mailauth or by OpenSSL
// (EVP_EncodeBlock / EVP_DecodeBlock). Instructions per call = (Ir(N=11) - Ir(N=1)) / 10.
// Usage: mailauth_base64_fixed mailauth|openssl encode|decode SIZE N
#include <mailauth/base64.hpp>

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// Deterministic pseudo-random payload of n bytes (xorshift64), as in base64_bench.cpp.
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

std::size_t mailauth_encode(std::string_view in, std::string_view, char* out, std::size_t)
{
    return mailauth::base64::encode(in, out);
}
std::size_t mailauth_decode(std::string_view, std::string_view text, char* out, std::size_t capacity)
{
    return mailauth::base64::decode(text, out, capacity).size;
}
std::size_t openssl_encode(std::string_view in, std::string_view, char* out, std::size_t)
{
    return static_cast<std::size_t>(EVP_EncodeBlock(as_bytes(out), as_bytes(in.data()), static_cast<int>(in.size())));
}
std::size_t openssl_decode(std::string_view, std::string_view text, char* out, std::size_t)
{
    return static_cast<std::size_t>(EVP_DecodeBlock(as_bytes(out), as_bytes(text.data()), static_cast<int>(text.size())));
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s mailauth|openssl encode|decode SIZE N\n", argv[0]);
        return 2;
    }
    const std::string_view who = argv[1], op = argv[2];
    const auto size = static_cast<std::size_t>(std::strtoul(argv[3], nullptr, 10));
    const long n = std::strtol(argv[4], nullptr, 10);
    const std::string raw = payload(size);
    const std::string text = mailauth::base64::encode(raw);
    std::vector<char> out(text.size() + 1);
    const bool mailauth = who == "mailauth";
    const bool encode = op == "encode";
    // Called through a volatile pointer: the compiler can neither inline nor hoist the repeated work.
    std::size_t (*volatile run)(std::string_view, std::string_view, char*, std::size_t) =
        encode ? (mailauth ? mailauth_encode : openssl_encode) : (mailauth ? mailauth_decode : openssl_decode);
    std::size_t sum = 0;
    for (long i = 0; i < n; ++i) sum += run(raw, text, out.data(), out.size());
    std::printf("%zu\n", sum);
    return 0;
}
