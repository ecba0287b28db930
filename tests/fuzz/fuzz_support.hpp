// Fuzz support: the property check that stops the fuzzer, and byte helpers shared by the targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

/// Stops the run with a message when a property does not hold; libFuzzer then saves the input as a crash.
#define MAILAUTH_FUZZ_CHECK(cond)                                                                                  \
    do {                                                                                                           \
        if (!(cond)) ::mailauth_fuzz::violated(#cond, __FILE__, __LINE__);                                          \
    } while (false)

namespace mailauth_fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line)
{
    std::fprintf(stderr, "\nmailauth fuzz property violated: %s\n    at %s:%d\n", what, file, line);
    std::fflush(stderr);
    std::abort();
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) noexcept
{
    return {reinterpret_cast<const char*>(data), size};
}

inline bool contains(std::string_view haystack, std::string_view needle) noexcept
{
    return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

/// Takes the first byte of `in` (0 when empty) and removes it.
inline unsigned take_byte(std::string_view& in) noexcept
{
    if (in.empty()) return 0;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    return b;
}

/// Value of a base64 character of either alphabet, or -1.
inline int base64_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/// Lenient decoding of every run of base64 characters in `text` (padding and alignment ignored), so that a
/// scan finds credential bytes however they were base64-encoded. Runs are separated by a NUL in the output.
inline std::string decode_base64_runs(std::string_view text)
{
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = base64_value(c);
        if (v < 0) {
            if (bits != 0 || (!out.empty() && out.back() != '\0')) out.push_back('\0');
            acc = 0;
            bits = 0;
            continue;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return out;
}

/// `text` and the bytes of every base64 run in it, decoded once for several lookups. Base64 produced by the
/// library always starts a run (after a space or at the line start), so runs are decoded from their start.
class scanned {
public:
    explicit scanned(std::string_view text) : text_(text), decoded_(decode_base64_runs(text)) {}

    /// Whether `core` is in the text as is or base64-encoded.
    bool holds(std::string_view core) const noexcept { return contains(text_, core) || contains(decoded_, core); }

private:
    std::string_view text_;
    std::string decoded_;
};

/// Whether `text` holds `core`, as is or base64-encoded (an encoding that starts a base64 run).
inline bool holds(std::string_view text, std::string_view core) { return scanned{text}.holds(core); }

} // namespace mailauth_fuzz
