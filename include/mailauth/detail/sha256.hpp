// mailauth: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for PKCE and HS256 JWTs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailauth::detail {

/// A SHA-256 digest: 32 bytes.
struct sha256_digest {
    std::array<unsigned char, 32> bytes{};

    /// The digest as a byte string (for base64url and comparisons with std::string).
    std::string str() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }

    /// Lower-case hex, as the NIST examples print it.
    std::string hex() const
    {
        constexpr char digits[] = "0123456789abcdef";
        std::string out;
        out.reserve(64);
        for (unsigned char b : bytes) {
            out += digits[b >> 4];
            out += digits[b & 15];
        }
        return out;
    }

    friend constexpr bool operator==(const sha256_digest&, const sha256_digest&) = default;
};

/// Incremental SHA-256 (FIPS 180-4 §6.2); usable in constant expressions.
class sha256 {
public:
    static constexpr std::size_t block_size = 64;
    static constexpr std::size_t digest_size = 32;

    constexpr sha256() noexcept = default;

    /// Adds `data` to the message.
    constexpr sha256& update(std::string_view data) noexcept
    {
        for (char c : data) {
            block_[fill_++] = static_cast<unsigned char>(c);
            if (fill_ == block_size) {
                compress();
                fill_ = 0;
            }
        }
        length_ += data.size();
        return *this;
    }

    /// Pads (FIPS 180-4 §5.1.1) and returns the digest; the object starts over afterwards.
    constexpr sha256_digest finish() noexcept
    {
        const std::uint64_t bits = static_cast<std::uint64_t>(length_) * 8;
        block_[fill_++] = 0x80;
        if (fill_ > block_size - 8) {
            while (fill_ < block_size) block_[fill_++] = 0;
            compress();
            fill_ = 0;
        }
        while (fill_ < block_size - 8) block_[fill_++] = 0;
        for (int k = 7; k >= 0; --k) block_[fill_++] = static_cast<unsigned char>(bits >> (8 * k));
        compress();
        sha256_digest d;
        for (std::size_t i = 0; i < 8; ++i)
            for (std::size_t k = 0; k < 4; ++k) d.bytes[4 * i + k] = static_cast<unsigned char>(state_[i] >> (24 - 8 * k));
        *this = sha256{};
        return d;
    }

    /// The digest of `data` in one call.
    static constexpr sha256_digest hash(std::string_view data) noexcept { return sha256{}.update(data).finish(); }

private:
    static constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept { return x >> n | x << (32 - n); }

    /// One block of the compression function (FIPS 180-4 §6.2.2).
    constexpr void compress() noexcept
    {
        constexpr std::uint32_t k[64] = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        std::uint32_t w[64]{};
        for (std::size_t t = 0; t < 16; ++t)
            w[t] = std::uint32_t{block_[4 * t]} << 24 | std::uint32_t{block_[4 * t + 1]} << 16 |
                   std::uint32_t{block_[4 * t + 2]} << 8 | std::uint32_t{block_[4 * t + 3]};
        for (std::size_t t = 16; t < 64; ++t) {
            const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
        std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
        for (std::size_t t = 0; t < 64; ++t) {
            const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[t] + w[t];
            const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state_[0] += a;
        state_[1] += b;
        state_[2] += c;
        state_[3] += d;
        state_[4] += e;
        state_[5] += f;
        state_[6] += g;
        state_[7] += h;
    }

    std::array<std::uint32_t, 8> state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, block_size> block_{};
    std::size_t fill_ = 0;
    std::size_t length_ = 0;
};

/// HMAC-SHA256 of `message` under `key` (RFC 2104 §2; keys longer than 64 bytes are hashed first).
constexpr sha256_digest hmac_sha256(std::string_view key, std::string_view message) noexcept
{
    std::array<char, sha256::block_size> k{};
    if (key.size() > sha256::block_size) {
        const sha256_digest kd = sha256::hash(key);
        for (std::size_t i = 0; i < kd.bytes.size(); ++i) k[i] = static_cast<char>(kd.bytes[i]);
    } else {
        for (std::size_t i = 0; i < key.size(); ++i) k[i] = key[i];
    }
    std::array<char, sha256::block_size> ipad{}, opad{};
    for (std::size_t i = 0; i < k.size(); ++i) {
        ipad[i] = static_cast<char>(k[i] ^ 0x36);
        opad[i] = static_cast<char>(k[i] ^ 0x5c);
    }
    const sha256_digest inner = sha256{}.update({ipad.data(), ipad.size()}).update(message).finish();
    std::array<char, sha256::digest_size> inner_bytes{};
    for (std::size_t i = 0; i < inner_bytes.size(); ++i) inner_bytes[i] = static_cast<char>(inner.bytes[i]);
    const sha256_digest out = sha256{}.update({opad.data(), opad.size()}).update({inner_bytes.data(), inner_bytes.size()}).finish();
    for (auto& c : k) c = 0;
    for (auto& c : ipad) c = 0;
    for (auto& c : opad) c = 0;
    return out;
}

/// Equality whose running time depends only on the lengths, not on where the bytes differ.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
    return diff == 0;
}

} // namespace mailauth::detail
