// The base64 vector kernels (mailauth/detail/base64_simd.hpp) against a bit-at-a-time reference: every length
// to 300 bytes, both alphabets, every byte value at every position of a block. Run as ctest base64_simd.kernels.
#include <mailauth/detail/base64_simd.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view alphabets[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"};

long failures = 0;

void check(bool ok, const char* what, std::size_t n, std::size_t pos = 0, int byte = 0)
{
    if (ok) return;
    if (++failures <= 20) std::printf("FAIL %s (length %zu, position %zu, byte %d)\n", what, n, pos, byte);
}

std::string random_bytes(std::size_t n)
{
    static std::uint64_t x = 0x9E3779B97F4A7C15u;
    std::string s(n, '\0');
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x >> 56);
    }
    return s;
}

/// Unpadded base64 of `in`, six bits at a time (RFC 4648 §4, §5).
std::string reference_encode(std::string_view in, std::string_view alphabet)
{
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        acc = acc << 8 | static_cast<unsigned char>(c);
        for (bits += 8; bits >= 6;) out += alphabet[acc >> (bits -= 6) & 63];
    }
    if (bits > 0) out += alphabet[acc << (6 - bits) & 63];
    return out;
}

void check_encode(bool url)
{
    const auto alphabet = alphabets[url];
    for (std::size_t n = 0; n <= 300; ++n) {
        const std::string raw = random_bytes(n);
        std::string out(n / 3 * 4 + 4, '\0');
        const auto p = mailauth::detail::base64_simd::encode(raw.data(), n, out.data(), url);
        check(p.in % 3 == 0 && p.in <= n && p.out == p.in / 3 * 4, "encode progress", n);
        check(out.compare(0, p.out, reference_encode(std::string_view{raw}.substr(0, p.in), alphabet)) == 0,
              "encode output", n);
        if (MAILAUTH_BASE64_SIMD && n >= 64) check(p.in + 28 > n, "encode stopped early", n);
    }
}

/// Decodes `text` (whole quads) with the kernels; checks that what they consumed decodes to `raw`'s prefix.
void check_decode_of(const std::string& text, std::string_view raw, bool url, std::size_t stop_by, const char* what,
                     std::size_t pos = 0, int byte = 0)
{
    std::string out(text.size() / 4 * 3, '\0');
    const auto p = mailauth::detail::base64_simd::decode(text.data(), text.size(), out.data(), url);
    check(p.in % 4 == 0 && p.out == p.in / 4 * 3 && p.in <= stop_by, what, text.size(), pos, byte);
    check(out.compare(0, p.out, raw.substr(0, p.out)) == 0, what, text.size(), pos, byte);
}

void check_decode(bool url)
{
    const auto alphabet = alphabets[url];
    for (std::size_t n = 0; n <= 300; n += 3) { // whole quads only: the kernels never see padding
        const std::string raw = random_bytes(n);
        const std::string text = reference_encode(raw, alphabet);
        check_decode_of(text, raw, url, text.size(), "decode of valid text");
        if (MAILAUTH_BASE64_SIMD && text.size() >= 64) {
            std::string out(text.size() / 4 * 3, '\0');
            const auto p = mailauth::detail::base64_simd::decode(text.data(), text.size(), out.data(), url);
            check(p.in + 32 > text.size(), "decode stopped early", n);
        }
    }
    // Every byte value at every position of 64 characters: outside the alphabet the kernels must stop before
    // the block that holds it; inside it they must decode it to its value.
    const std::string raw = random_bytes(48);
    const std::string text = reference_encode(raw, alphabet);
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        for (int b = 0; b < 256; ++b) {
            std::string t = text;
            t[pos] = static_cast<char>(b);
            const auto value = alphabet.find(static_cast<char>(b));
            if (value == std::string_view::npos) {
                check_decode_of(t, raw, url, pos, "decode past a byte outside the alphabet", pos, b);
                continue;
            }
            // The same change made to the bytes: six bits at bit offset 6 * pos.
            std::string changed = raw;
            for (int k = 0; k < 6; ++k) {
                const std::size_t bit = 6 * pos + static_cast<std::size_t>(k);
                const auto mask = static_cast<unsigned char>(0x80u >> (bit % 8));
                auto& byte = reinterpret_cast<unsigned char&>(changed[bit / 8]);
                byte = static_cast<unsigned char>((value >> (5 - k) & 1) != 0 ? byte | mask : byte & ~mask);
            }
            check_decode_of(t, changed, url, t.size(), "decode of every alphabet character", pos, b);
        }
    }
}

} // namespace

int main()
{
    for (const bool url : {false, true}) {
        check_encode(url);
        check_decode(url);
    }
#if MAILAUTH_BASE64_SIMD
    const auto level = static_cast<int>(mailauth::detail::base64_simd::cpu_level());
    std::printf("base64 kernels: %s, %ld failures\n", level == 2 ? "AVX2" : level == 1 ? "SSSE3" : "none (CPU)", failures);
#else
    std::printf("base64 kernels: compiled out, %ld failures\n", failures);
#endif
    return failures == 0 ? 0 : 1;
}
