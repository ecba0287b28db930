// Tests for mailauth/detail/sha256.hpp: FIPS 180-4 SHA-256 against the NIST examples, HMAC-SHA256 against RFC 4231.
#include "catch_compat.hpp"

#include <mailauth/detail/sha256.hpp>

#include <cstddef>
#include <string>
#include <string_view>

using mailauth::detail::hmac_sha256;
using mailauth::detail::sha256;
using mailauth::detail::sha256_digest;

namespace {

constexpr std::string_view abc_448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view abc_896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

std::string hex_of(std::string_view s) { return sha256::hash(s).hex(); }

/// Hashes `s` fed in pieces of `step` bytes.
std::string hex_in_pieces(std::string_view s, std::size_t step)
{
    sha256 h;
    for (std::size_t i = 0; i < s.size(); i += step) h.update(s.substr(i, step));
    return h.finish().hex();
}

constexpr std::string_view hex_digits = "0123456789abcdef";

constexpr bool digest_is(const sha256_digest& d, std::string_view hex)
{
    for (std::size_t i = 0; i < 32; ++i)
        if (hex_digits[d.bytes[i] >> 4] != hex[2 * i] || hex_digits[d.bytes[i] & 15] != hex[2 * i + 1]) return false;
    return true;
}

} // namespace

TEST_CASE("sha256: NIST FIPS 180-4 examples", "[sha256]")
{
    CHECK(hex_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex_of(abc_448) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(hex_of(abc_896) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("sha256: one million 'a' in one call and in uneven pieces", "[sha256]")
{
    const std::string a(1000000, 'a');
    constexpr std::string_view expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    CHECK(hex_of(a) == expected);
    CHECK(hex_in_pieces(a, 1000) == expected);
    CHECK(hex_in_pieces(a, 7) == expected);
}

TEST_CASE("sha256: incremental updates across block and padding boundaries match one-shot", "[sha256]")
{
    std::string msg;
    for (int i = 0; i < 200; ++i) msg += static_cast<char>(i * 37 + 11);
    for (std::size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
        const std::string_view m = std::string_view{msg}.substr(0, len);
        const std::string one = hex_of(m);
        for (std::size_t step : {1u, 3u, 63u, 64u, 65u}) {
            INFO("len " << len << " step " << step);
            CHECK(hex_in_pieces(m, step) == one);
        }
    }
    sha256 h;
    h.update("ab").update("c");
    CHECK(h.finish().hex() == hex_of("abc"));
    CHECK(h.finish().hex() == hex_of("")); // finish() starts the object over
}

TEST_CASE("sha256: usable in constant expressions", "[sha256]")
{
    static_assert(digest_is(sha256::hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    static_assert(digest_is(hmac_sha256("Jefe", "what do ya want for nothing?"),
                            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    static_assert(sha256::hash("a") != sha256::hash("b"));
    CHECK(sha256::hash("abc").str().size() == 32);
}

TEST_CASE("sha256: HMAC-SHA256 RFC 4231 test cases 1-4 6 7", "[sha256]")
{
    std::string key4;
    for (char c = 1; c <= 25; ++c) key4 += c;
    const std::string aa131(131, '\xaa');

    CHECK(hmac_sha256(std::string(20, '\x0b'), "Hi There").hex() ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hmac_sha256("Jefe", "what do ya want for nothing?").hex() ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd')).hex() ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    CHECK(hmac_sha256(key4, std::string(50, '\xcd')).hex() ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    CHECK(hmac_sha256(aa131, "Test Using Larger Than Block-Size Key - Hash Key First").hex() ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(hmac_sha256(aa131, "This is a test using a larger than block-size key and a larger than block-size data. "
                             "The key needs to be hashed before being used by the HMAC algorithm.")
              .hex() == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("sha256: constant_time_equal", "[sha256]")
{
    using mailauth::detail::constant_time_equal;
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("state-123", "state-123"));
    CHECK_FALSE(constant_time_equal("state-123", "state-124"));
    CHECK_FALSE(constant_time_equal("state-123", "state-12"));
    CHECK_FALSE(constant_time_equal("\x80", std::string_view("\0", 1)));
}
