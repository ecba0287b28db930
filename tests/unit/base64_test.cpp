// Tests of mailauth/base64.hpp: RFC 4648 vectors, round trips, every rejection with its code and offset.
#include <mailauth/base64.hpp>

#include "catch_compat.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace b64 = mailauth::base64;
using mailauth::errc;
using mailauth::error_detail;

namespace {

constexpr std::string_view std_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Deterministic pseudo-random bytes (xorshift64), different for every length.
std::string random_bytes(std::size_t n, std::uint64_t seed = 0x9E3779B97F4A7C15u)
{
    std::string s(n, '\0');
    std::uint64_t x = seed ^ (n * 0xD1B54A32D192ED03u) ^ 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x >> 56);
    }
    return s;
}

/// Bit-at-a-time reference encoder, independent of the library's tables (RFC 4648 §4 and §5).
std::string reference_encode(std::string_view in, std::string_view alphabet, bool pad)
{
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        acc = acc << 8 | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[acc >> bits & 63];
        }
    }
    if (bits > 0) out += alphabet[acc << (6 - bits) & 63];
    while (pad && out.size() % 4 != 0) out += '=';
    return out;
}

std::string bytes_0_to_255()
{
    std::string s;
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
    return s;
}

/// Decodes through the throwing, the non-throwing and the buffer overloads, which must agree; returns the error.
error_detail decode_error(std::string_view in)
{
    error_detail err;
    const std::string out = b64::decode(in, err);
    CHECK(out.empty());
    std::vector<char> buf(b64::decoded_size_max(in.size()) + 8);
    const auto r = b64::decode(in, buf.data(), buf.size());
    CHECK_FALSE(r);
    CHECK(r.size == 0);
    CHECK(r.error.code == err.code);
    CHECK(r.error.offset == err.offset);
    CHECK(r.error.byte == err.byte);
    CHECK_THROWS_AS(b64::decode(in), mailauth::error);
    return err;
}

error_detail url_decode_error(std::string_view in)
{
    error_detail err;
    const std::string out = b64::url_decode(in, err);
    CHECK(out.empty());
    CHECK(err);
    return err;
}

void check_error(const error_detail& err, errc code, std::size_t offset, int byte = -1)
{
    CHECK(err.code == code);
    CHECK(err.offset == offset);
    CHECK(err.byte == byte);
}

std::string decode_ok(std::string_view in)
{
    error_detail err;
    const std::string out = b64::decode(in, err);
    CHECK_FALSE(err);
    return out;
}

std::string url_decode_ok(std::string_view in)
{
    error_detail err;
    const std::string out = b64::url_decode(in, err);
    CHECK_FALSE(err);
    return out;
}

constexpr std::array<unsigned char, 32> rfc7636_octets{116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96,
                                                       125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
                                                       191, 240, 91, 88, 5, 88, 83, 132, 141, 121};

std::string rfc7636_bytes()
{
    return {reinterpret_cast<const char*>(rfc7636_octets.data()), rfc7636_octets.size()};
}

// Compile-time checks: the pointer-based core is usable in constant expressions.
template <std::size_t N>
struct ct_buffer {
    std::array<char, N> data{};
    std::size_t size = 0;
    constexpr std::string_view view() const { return {data.data(), size}; }
};

template <std::size_t N>
constexpr ct_buffer<N> ct_encode(std::string_view in)
{
    ct_buffer<N> b;
    b.size = b64::encode(in, b.data.data());
    return b;
}

template <std::size_t N>
constexpr ct_buffer<N> ct_url_encode(std::string_view in)
{
    ct_buffer<N> b;
    b.size = b64::url_encode(in, b.data.data());
    return b;
}

template <std::size_t N>
constexpr ct_buffer<N> ct_decode(std::string_view in)
{
    ct_buffer<N> b;
    const b64::decode_status s = b64::try_decode(in, b.data.data(), N);
    b.size = s ? s.size : 0;
    return b;
}

constexpr b64::decode_status ct_decode_status(std::string_view in)
{
    std::array<char, 64> out{};
    return b64::try_decode(in, out.data(), out.size());
}

constexpr std::string_view rfc7636_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

constexpr bool ct_url_round_trip()
{
    std::array<char, 32> octets{};
    for (std::size_t i = 0; i < 32; ++i) octets[i] = static_cast<char>(rfc7636_octets[i]);
    std::array<char, 43> text{};
    if (b64::url_encode({octets.data(), octets.size()}, text.data()) != 43) return false;
    if (std::string_view(text.data(), text.size()) != rfc7636_verifier) return false;
    std::array<char, 32> back{};
    const auto s = b64::try_url_decode(rfc7636_verifier, back.data(), back.size());
    return s && s.size == 32 && back == octets;
}

static_assert(ct_encode<8>("foobar").view() == "Zm9vYmFy");
static_assert(ct_encode<4>("f").view() == "Zg==");
static_assert(ct_encode<36>("Many hands make light work.").view() == "TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu");
static_assert(ct_decode<27>("TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu").view() == "Many hands make light work.");
static_assert(ct_decode<4>("Zm9vYg==").view() == "foob");
static_assert(ct_url_encode<3>("\xFB\xFF").view() == "-_8");
static_assert(ct_url_round_trip());
static_assert(ct_decode_status("Zm9v*mFy").code == errc::base64_invalid_character);
static_assert(ct_decode_status("Zm9v*mFy").offset == 4);
static_assert(ct_decode_status("Zm9v*mFy").byte == '*');
static_assert(ct_decode_status("Zm9=").code == errc::base64_nonzero_pad_bits);
static_assert(b64::encoded_size(0) == 0 && b64::encoded_size(1) == 4 && b64::encoded_size(3) == 4 &&
              b64::encoded_size(4) == 8);
static_assert(b64::url_encoded_size(32) == 43);

} // namespace

TEST_CASE("base64: RFC 4648 section 10 test vectors, both directions")
{
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [raw, text] : vectors) {
        INFO("raw = \"" << std::string(raw) << "\"");
        CHECK(b64::encode(raw) == text);
        CHECK(decode_ok(text) == raw);
        CHECK(b64::decode(text) == raw);

        std::array<char, 16> buf{};
        CHECK(b64::encode(raw, buf.data()) == text.size());
        CHECK(std::string_view(buf.data(), text.size()) == text);
        const auto r = b64::decode(text, buf.data(), buf.size());
        REQUIRE(r);
        CHECK(std::string_view(buf.data(), r.size) == raw);

        // Base64url without padding (RFC 4648 §5, §3.2): the same vectors with the padding dropped.
        const std::string unpadded{text.substr(0, text.find('='))};
        CHECK(b64::url_encode(raw) == unpadded);
        CHECK(url_decode_ok(unpadded) == raw);
    }
}

TEST_CASE("base64: encoded and decoded sizes")
{
    CHECK(b64::encoded_size(0) == 0);
    CHECK(b64::encoded_size(1) == 4);
    CHECK(b64::encoded_size(2) == 4);
    CHECK(b64::encoded_size(3) == 4);
    CHECK(b64::encoded_size(4) == 8);
    CHECK(b64::encoded_size(2048) == 2732);
    CHECK(b64::decoded_size_max(0) == 0);
    CHECK(b64::decoded_size_max(4) == 3);
    CHECK(b64::decoded_size_max(2732) == 2049);
    CHECK(b64::url_encoded_size(0) == 0);
    CHECK(b64::url_encoded_size(1) == 2);
    CHECK(b64::url_encoded_size(2) == 3);
    CHECK(b64::url_encoded_size(3) == 4);
    CHECK(b64::url_encoded_size(32) == 43);
    CHECK(b64::url_decoded_size(0) == 0);
    CHECK(b64::url_decoded_size(2) == 1);
    CHECK(b64::url_decoded_size(3) == 2);
    CHECK(b64::url_decoded_size(43) == 32);
}

TEST_CASE("base64: round trip of every length from 0 to 3000")
{
    for (std::size_t n = 0; n <= 3000; ++n) {
        const std::string raw = random_bytes(n);
        const std::string expected = reference_encode(raw, std_alphabet, true);
        const std::string expected_url = reference_encode(raw, url_alphabet, false);

        // Encoders write exactly the encoded size: a canary after it must survive.
        std::vector<char> text(b64::encoded_size(n) + 8, '#');
        REQUIRE(b64::encode(raw, text.data()) == b64::encoded_size(n));
        REQUIRE(std::string_view(text.data(), b64::encoded_size(n)) == expected);
        REQUIRE(std::string_view(text.data() + b64::encoded_size(n), 8) == "########");
        REQUIRE(b64::encode(raw) == expected);

        std::vector<char> url_text(b64::url_encoded_size(n) + 8, '#');
        REQUIRE(b64::url_encode(raw, url_text.data()) == b64::url_encoded_size(n));
        REQUIRE(std::string_view(url_text.data(), b64::url_encoded_size(n)) == expected_url);
        REQUIRE(std::string_view(url_text.data() + b64::url_encoded_size(n), 8) == "########");

        // Decoders with exactly the room they need write nothing beyond it.
        std::vector<char> back(n + 8, '#');
        const auto r = b64::decode(expected, back.data(), n);
        REQUIRE(r);
        REQUIRE(r.size == n);
        REQUIRE(std::string_view(back.data(), n) == raw);
        REQUIRE(std::string_view(back.data() + n, 8) == "########");

        std::fill(back.begin(), back.end(), '#');
        const auto u = b64::url_decode(expected_url, back.data(), n);
        REQUIRE(u);
        REQUIRE(u.size == n);
        REQUIRE(std::string_view(back.data(), n) == raw);
        REQUIRE(std::string_view(back.data() + n, 8) == "########");

        REQUIRE(decode_ok(expected) == raw);
        REQUIRE(url_decode_ok(expected_url) == raw);
    }
}

TEST_CASE("base64: all 256 byte values")
{
    const std::string all = bytes_0_to_255();
    const std::string text =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xN"
        "Tk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqb"
        "nJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp"
        "6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
    CHECK(b64::encode(all) == text);
    CHECK(decode_ok(text) == all);

    const std::string url_text =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElKS0xN"
        "Tk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn-AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqb"
        "nJ2en6ChoqOkpaanqKmqq6ytrq-wsbKztLW2t7i5uru8vb6_wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t_g4eLj5OXm5-jp"
        "6uvs7e7v8PHy8_T19vf4-fr7_P3-_w";
    CHECK(b64::url_encode(all) == url_text);
    CHECK(url_decode_ok(url_text) == all);

    const std::string reversed(all.rbegin(), all.rend());
    CHECK(b64::encode(reversed) ==
          "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwL++vby7urm4t7a1tLOy"
          "sbCvrq2sq6qpqKempaSjoqGgn56dnJuamZiXlpWUk5KRkI+OjYyLiomIh4aFhIOCgYB/fn18e3p5eHd2dXRzcnFwb25tbGtqaWhnZmVk"
          "Y2JhYF9eXVxbWllYV1ZVVFNSUVBPTk1MS0pJSEdGRURDQkFAPz49PDs6OTg3NjU0MzIxMC8uLSwrKikoJyYlJCMiISAfHh0cGxoZGBcW"
          "FRQTEhEQDw4NDAsKCQgHBgUEAwIBAA==");

    // Every byte alone, and every pair of a byte with its complement, against the reference encoder.
    for (int i = 0; i < 256; ++i) {
        const std::string one(1, static_cast<char>(i));
        const std::string two{static_cast<char>(i), static_cast<char>(255 - i)};
        for (const std::string& raw : {one, two}) {
            CHECK(b64::encode(raw) == reference_encode(raw, std_alphabet, true));
            CHECK(decode_ok(b64::encode(raw)) == raw);
            CHECK(b64::url_encode(raw) == reference_encode(raw, url_alphabet, false));
            CHECK(url_decode_ok(b64::url_encode(raw)) == raw);
        }
    }
}

TEST_CASE("base64: every input byte value at every position of the hot loop")
{
    // 64 characters decode through the fast path; each position of a 16-character block is covered.
    const std::string good = b64::encode(random_bytes(48));
    const std::string good_url = b64::url_encode(random_bytes(48));
    REQUIRE(good.size() == 64);
    REQUIRE(good_url.size() == 64);
    const auto last_value = std_alphabet.find(good[62]);
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool in_std = std_alphabet.find(ch) != std::string_view::npos;
        const bool in_url = url_alphabet.find(ch) != std::string_view::npos;
        const bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
        for (std::size_t pos = 0; pos < 64; ++pos) {
            std::string text = good;
            text[pos] = ch;
            INFO("byte " << c << " at offset " << pos);
            error_detail err;
            const std::string out = b64::decode(text, err);
            if (in_std) {
                CHECK_FALSE(err);
                CHECK(b64::encode(out) == text);
            } else if (ch == '=') {
                // `=` before the end is misplaced; as the last character it is padding, valid if the pad bits are zero.
                if (pos == 63 && (last_value & 3) == 0) {
                    CHECK_FALSE(err);
                } else if (pos == 63) {
                    check_error(err, errc::base64_nonzero_pad_bits, 62, static_cast<unsigned char>(good[62]));
                } else {
                    CHECK(err.code == errc::base64_misplaced_padding);
                    CHECK(err.offset == pos);
                }
            } else {
                check_error(err, space ? errc::base64_whitespace : errc::base64_invalid_character, pos, c);
            }

            std::string url_text = good_url;
            url_text[pos] = ch;
            error_detail url_err;
            const std::string url_out = b64::url_decode(url_text, url_err);
            if (in_url) {
                CHECK_FALSE(url_err);
                CHECK(b64::url_encode(url_out) == url_text);
            } else {
                check_error(url_err, space ? errc::base64_whitespace : errc::base64_invalid_character, pos, c);
            }
        }
    }
}

TEST_CASE("base64: invalid characters are reported with their byte and offset")
{
    check_error(decode_error("Zm9v*mFy"), errc::base64_invalid_character, 4, '*');
    check_error(decode_error("-m9v"), errc::base64_invalid_character, 0, '-');
    check_error(decode_error("Zm9_"), errc::base64_invalid_character, 3, '_');
    check_error(decode_error(std::string_view("Zm\0v", 4)), errc::base64_invalid_character, 2, 0);
    check_error(decode_error("Zm9vYm\xC3\xA9y"), errc::base64_invalid_character, 6, 0xC3);
    check_error(decode_error("Zm9vYmFy\x7F"), errc::base64_invalid_character, 8, 0x7F);
    // A character error comes before a length error that lies further on.
    check_error(decode_error("Zm*"), errc::base64_invalid_character, 2, '*');

    const auto err = decode_error("Zm9vYmFyZm9vYmFyZ*9vYmFy");
    check_error(err, errc::base64_invalid_character, 17, 0x2A);
    CHECK(err.message() == "base64: invalid character 0x2A at offset 17");
    try {
        (void)b64::decode("Zm9vYmFyZm9vYmFyZ*9vYmFy");
        FAIL("decode did not throw");
    } catch (const mailauth::error& e) {
        CHECK(e.code() == errc::base64_invalid_character);
        CHECK(e.offset() == 17);
        CHECK(std::string(e.what()) == "base64: invalid character 0x2A at offset 17");
    }
}

TEST_CASE("base64: whitespace and line breaks are refused with their own code")
{
    // Microsoft's XOAUTH2 document prints this SASL XOAUTH2 string over two lines; the line break is not base64.
    const std::string one_line =
        "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVy"
        "IEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==";
    CHECK(decode_ok(one_line) ==
          "user=test@contoso.onmicrosoft.com\x01" "auth=Bearer EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA\x01\x01");
    const std::string two_lines = one_line.substr(0, 60) + "\r\n" + one_line.substr(60);
    auto err = decode_error(two_lines);
    check_error(err, errc::base64_whitespace, 60, '\r');
    CHECK(err.message() == "base64: whitespace character 0x0D at offset 60");
    check_error(decode_error(one_line.substr(0, 60) + "\n" + one_line.substr(60)), errc::base64_whitespace, 60, '\n');

    check_error(decode_error("Zm9v YmFy"), errc::base64_whitespace, 4, ' ');
    check_error(decode_error(" Zm9v"), errc::base64_whitespace, 0, ' ');
    check_error(decode_error("Zm9v\t"), errc::base64_whitespace, 4, '\t');
    check_error(decode_error("Zm9v\v"), errc::base64_whitespace, 4, '\v');
    check_error(decode_error("Zm9v\f"), errc::base64_whitespace, 4, '\f');
    check_error(decode_error("Zm9vYg==\r\n"), errc::base64_whitespace, 8, '\r');
    check_error(decode_error("Zg=\n="), errc::base64_whitespace, 3, '\n');
    check_error(decode_error("Zg== "), errc::base64_whitespace, 4, ' ');
    check_error(url_decode_error("Zm9v\r\nYmFy"), errc::base64_whitespace, 4, '\r');
}

TEST_CASE("base64: lengths that cannot be base64")
{
    check_error(decode_error("Z"), errc::base64_invalid_length, 0);
    check_error(decode_error("Zm9vY"), errc::base64_invalid_length, 4);
    check_error(decode_error("Zm9vYmFyZ"), errc::base64_invalid_length, 8);
    check_error(url_decode_error("Z"), errc::base64_invalid_length, 0);
    check_error(url_decode_error("Zm9vY"), errc::base64_invalid_length, 4);
    CHECK(decode_error("Zm9vY").message() == "base64: length cannot be base64 at offset 4");
}

TEST_CASE("base64: missing padding")
{
    check_error(decode_error("Zg"), errc::base64_missing_padding, 2);
    check_error(decode_error("Zm8"), errc::base64_missing_padding, 3);
    check_error(decode_error("Zg="), errc::base64_missing_padding, 3);
    check_error(decode_error("Zm9vYg"), errc::base64_missing_padding, 6);
    check_error(decode_error("Zm9vYmE"), errc::base64_missing_padding, 7);
    check_error(decode_error("Zm9vYg="), errc::base64_missing_padding, 7);
    CHECK(decode_error("Zg").message() == "base64: missing padding at offset 2");
}

TEST_CASE("base64: misplaced padding")
{
    check_error(decode_error("="), errc::base64_misplaced_padding, 0);
    check_error(decode_error("===="), errc::base64_misplaced_padding, 0);
    check_error(decode_error("Z==="), errc::base64_misplaced_padding, 1);
    check_error(decode_error("Zg==Zg=="), errc::base64_misplaced_padding, 2);  // concatenated encodings
    check_error(decode_error("Zm9=YmFy"), errc::base64_misplaced_padding, 3);
    check_error(decode_error("Zm=v"), errc::base64_misplaced_padding, 2);      // data after the padding
    check_error(decode_error("Zg==="), errc::base64_misplaced_padding, 4);     // too much padding
    check_error(decode_error("Zm8=="), errc::base64_misplaced_padding, 4);
    check_error(decode_error("Zm9v=m9vYmFyYmFy"), errc::base64_misplaced_padding, 4);
    check_error(decode_error("Zm9vYmFyYmFyYmFyYmFyYmFyYmFy=mFy"), errc::base64_misplaced_padding, 28);
    CHECK(decode_error("Z===").message() == "base64: misplaced padding at offset 1");
}

TEST_CASE("base64: non-zero pad bits are not canonical")
{
    // RFC 4648 §3.5: the bits after the last byte must be zero. "Zg==" is "f"; "Zh==" would be "f" too.
    check_error(decode_error("Zh=="), errc::base64_nonzero_pad_bits, 1, 'h');
    check_error(decode_error("Zm9="), errc::base64_nonzero_pad_bits, 2, '9');
    check_error(decode_error("Zm9vYmFyZv=="), errc::base64_nonzero_pad_bits, 9, 'v');
    CHECK(decode_error("Zh==").message() == "base64: non-zero pad bits (not canonical) 0x68 at offset 1");
    CHECK(decode_ok("Zg==") == "f");
    CHECK(decode_ok("Zm8=") == "fo");

    check_error(url_decode_error("Zh"), errc::base64_nonzero_pad_bits, 1, 'h');
    check_error(url_decode_error("Zm9"), errc::base64_nonzero_pad_bits, 2, '9');
    CHECK(url_decode_ok("Zg") == "f");
    CHECK(url_decode_ok("Zm8") == "fo");

    // Every final character of a two- and three-character group: only the canonical ones pass.
    for (const char last : std_alphabet) {
        const auto v = std_alphabet.find(last);
        const std::string two = std::string("Z") + last + "==";
        const std::string three = std::string("Zm") + last + "=";
        error_detail err;
        (void)b64::decode(two, err);
        CHECK(static_cast<bool>(err) == ((v & 15) != 0));
        (void)b64::decode(three, err);
        CHECK(static_cast<bool>(err) == ((v & 3) != 0));
    }
}

TEST_CASE("base64: the output buffer must be large enough")
{
    std::array<char, 8> buf{};
    auto r = b64::decode("Zm9v", buf.data(), 2);
    CHECK_FALSE(r);
    CHECK(r.size == 0);
    CHECK(r.error.code == errc::base64_output_too_small);
    CHECK(r.error.offset == error_detail::no_offset);
    CHECK(r.error.message() == "base64: output buffer too small");
    CHECK(b64::decode("Zm9v", buf.data(), 3));
    CHECK(b64::decode("Zg==", buf.data(), 1));
    CHECK(b64::decode("Zg==", buf.data(), 0).error.code == errc::base64_output_too_small);
    CHECK(b64::decode("Zm8=", buf.data(), 1).error.code == errc::base64_output_too_small);
    CHECK(b64::decode("", buf.data(), 0));

    CHECK(b64::url_decode("Zm9v", buf.data(), 2).error.code == errc::base64_output_too_small);
    CHECK(b64::url_decode("Zm8", buf.data(), 2));
    CHECK(b64::url_decode("Zm8", buf.data(), 1).error.code == errc::base64_output_too_small);
}

TEST_CASE("base64: empty input decodes to empty output")
{
    std::array<char, 1> buf{};
    const auto r = b64::decode("", buf.data(), 0);
    CHECK(r);
    CHECK(r.size == 0);
    CHECK(decode_ok("").empty());
    CHECK(url_decode_ok("").empty());
    CHECK(b64::encode("").empty());
    CHECK(b64::url_encode("").empty());
}

TEST_CASE("base64: string conveniences reuse capacity and report errors")
{
    std::string out;
    out.reserve(256);
    const char* data = out.data();
    b64::encode_append("foo", out);
    b64::encode_append("ba", out);
    CHECK(out == "Zm9vYmE=");
    CHECK(out.data() == data);  // no reallocation while the capacity suffices

    error_detail err{mailauth::make_error_code(errc::json_syntax), 3, 4};
    std::string decoded = "previous content";
    decoded.reserve(256);
    const char* decoded_data = decoded.data();
    CHECK(b64::decode_into("Zm9vYmFy", decoded, err));
    CHECK(decoded == "foobar");
    CHECK_FALSE(err);  // cleared on success
    CHECK(decoded.data() == decoded_data);
    CHECK_FALSE(b64::decode_into("Zm9v!", decoded, err));
    CHECK(decoded.empty());
    CHECK(decoded.capacity() >= 256);
    check_error(err, errc::base64_invalid_character, 4, '!');

    CHECK(b64::decode("Zm9v", err) == "foo");
    CHECK_FALSE(err);
    CHECK(b64::decode("Zm9v=", err).empty());
    CHECK(err.code == errc::base64_misplaced_padding);
    CHECK(b64::url_decode("Zm9v", err) == "foo");
    CHECK_FALSE(err);
}

TEST_CASE("base64: base64url without padding for PKCE (RFC 7636 Appendix B)")
{
    CHECK(b64::url_encode(rfc7636_bytes()) == rfc7636_verifier);
    CHECK(url_decode_ok(rfc7636_verifier) == rfc7636_bytes());
    std::array<char, 43> text{};
    CHECK(b64::url_encode(rfc7636_bytes(), text.data()) == 43);
    CHECK(std::string_view(text.data(), text.size()) == rfc7636_verifier);

    // The alphabet of RFC 4648 §5: '-' and '_' instead of '+' and '/'.
    CHECK(b64::url_encode("\xFB\xFF") == "-_8");
    CHECK(b64::encode("\xFB\xFF") == "+/8=");
    CHECK(url_decode_ok("-_8") == "\xFB\xFF");

    // '=', '+' and '/' are outside the unpadded base64url alphabet.
    check_error(url_decode_error("Zg=="), errc::base64_invalid_character, 2, '=');
    check_error(url_decode_error(std::string(rfc7636_verifier) + "="), errc::base64_invalid_character, 43, '=');
    check_error(url_decode_error("+_8"), errc::base64_invalid_character, 0, '+');
    check_error(url_decode_error("-/8"), errc::base64_invalid_character, 1, '/');
    std::string plus{rfc7636_verifier};
    plus[12] = '+';  // was '-'
    check_error(url_decode_error(plus), errc::base64_invalid_character, 12, '+');
    std::string slash{rfc7636_verifier};
    slash[30] = '/';  // was '_'
    check_error(url_decode_error(slash), errc::base64_invalid_character, 30, '/');
    // And the standard decoder refuses the url alphabet.
    check_error(decode_error("-_8="), errc::base64_invalid_character, 0, '-');
}

TEST_CASE("base64: a single corrupted character is caught where it is, at any length")
{
    const char corruptions[] = {'*', ' ', '\n', '-', '\x80', '\xFF', '\0', '.'};
    for (std::size_t n = 1; n <= 200; ++n) {
        const std::string text = b64::encode(random_bytes(n, 7));
        for (std::size_t pos = 0; pos < text.size(); pos += 1 + pos % 5) {
            if (text[pos] == '=') continue;
            for (const char c : corruptions) {
                std::string bad = text;
                bad[pos] = c;
                const bool space = c == ' ' || c == '\n';
                error_detail err;
                (void)b64::decode(bad, err);
                INFO("length " << n << ", offset " << pos << ", byte " << int(static_cast<unsigned char>(c)));
                check_error(err, space ? errc::base64_whitespace : errc::base64_invalid_character, pos,
                            static_cast<unsigned char>(c));
            }
        }
    }
}
