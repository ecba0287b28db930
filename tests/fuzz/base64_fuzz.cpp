// libFuzzer target: strict base64 and base64url decoding against a plain reference decoder, and round trips.
#include "fuzz_support.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mailauth_fuzz::base64_value;

bool is_standard(char c) noexcept { return base64_value(c) >= 0 && c != '-' && c != '_'; }
bool is_url(char c) noexcept { return base64_value(c) >= 0 && c != '+' && c != '/'; }

/// Canonical padded base64 (RFC 4648 §4, §3.5), one character at a time; false when `in` is not.
bool reference_decode(std::string_view in, std::string& out)
{
    out.clear();
    if (in.size() % 4 != 0) return false;
    for (std::size_t q = 0; q < in.size(); q += 4) {
        const bool last = q + 4 == in.size();
        std::size_t pads = 0;
        if (last && in[q + 3] == '=') pads = in[q + 2] == '=' ? 2 : 1;
        std::uint32_t acc = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            const char c = in[q + i];
            if (i >= 4 - pads) {
                if (c != '=') return false;
                acc <<= 6;
                continue;
            }
            if (!is_standard(c)) return false;
            acc = acc << 6 | static_cast<std::uint32_t>(base64_value(c));
        }
        if (pads == 2 && (acc & 0xFFFF) != 0) return false;
        if (pads == 1 && (acc & 0xFF) != 0) return false;
        out.push_back(static_cast<char>(acc >> 16));
        if (pads < 2) out.push_back(static_cast<char>(acc >> 8 & 0xFF));
        if (pads < 1) out.push_back(static_cast<char>(acc & 0xFF));
    }
    return true;
}

/// Canonical unpadded base64url (RFC 4648 §5); false when `in` is not.
bool reference_url_decode(std::string_view in, std::string& out)
{
    out.clear();
    if (in.size() % 4 == 1) return false;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (!is_url(c)) return false;
        acc = (acc << 6 | static_cast<std::uint32_t>(base64_value(c))) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>(acc >> bits & 0xFF));
        }
    }
    return (acc & ((1u << bits) - 1)) == 0; // leftover bits must be zero (canonical)
}

void check_error(const mailauth::error_detail& e, std::string_view in)
{
    MAILAUTH_FUZZ_CHECK(static_cast<bool>(e));
    MAILAUTH_FUZZ_CHECK(&e.code.category() == &mailauth::error_category());
    MAILAUTH_FUZZ_CHECK(e.offset == mailauth::error_detail::no_offset || e.offset <= in.size());
    const auto code = static_cast<mailauth::errc>(e.code.value());
    if (code == mailauth::errc::base64_invalid_character || code == mailauth::errc::base64_whitespace) {
        MAILAUTH_FUZZ_CHECK(e.offset < in.size());
        MAILAUTH_FUZZ_CHECK(e.byte == static_cast<unsigned char>(in[e.offset]));
    }
    MAILAUTH_FUZZ_CHECK(!e.message().empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace b64 = mailauth::base64;
    const auto in = mailauth_fuzz::as_view(data, size);

    // Padded base64: accepts exactly the canonical encodings, and they re-encode to the input.
    std::string out = "previous content";
    mailauth::error_detail err;
    const bool ok = b64::decode_into(in, out, err);
    std::string ref;
    const bool ref_ok = reference_decode(in, ref);
    MAILAUTH_FUZZ_CHECK(ok == ref_ok);
    if (ok) {
        MAILAUTH_FUZZ_CHECK(!err);
        MAILAUTH_FUZZ_CHECK(out == ref);
        MAILAUTH_FUZZ_CHECK(b64::encode(out) == in);
        MAILAUTH_FUZZ_CHECK(out.size() <= b64::decoded_size_max(in.size()));
    } else {
        MAILAUTH_FUZZ_CHECK(out.empty());
        check_error(err, in);
    }

    // The caller-buffer form: exact size works, one byte short is output_too_small.
    std::vector<char> buf(b64::decoded_size_max(in.size()) + 1);
    const auto exact = b64::decode(in, buf.data(), ref.size());
    if (ok) {
        MAILAUTH_FUZZ_CHECK(static_cast<bool>(exact) && exact.size == ref.size());
        MAILAUTH_FUZZ_CHECK(std::string_view(buf.data(), exact.size) == ref);
        if (!ref.empty()) {
            const auto short_buf = b64::decode(in, buf.data(), ref.size() - 1);
            MAILAUTH_FUZZ_CHECK(short_buf.error.code == make_error_code(mailauth::errc::base64_output_too_small));
        }
    } else {
        MAILAUTH_FUZZ_CHECK(!exact);
    }

    // Unpadded base64url (PKCE).
    const bool url_ok_ref = reference_url_decode(in, ref);
    const std::string url = b64::url_decode(in, err);
    MAILAUTH_FUZZ_CHECK(!err == url_ok_ref);
    if (url_ok_ref) {
        MAILAUTH_FUZZ_CHECK(url == ref);
        MAILAUTH_FUZZ_CHECK(b64::url_encode(url) == in);
    } else {
        check_error(err, in);
    }

    // Any bytes survive an encode/decode round trip in both alphabets.
    const std::string enc = b64::encode(in);
    MAILAUTH_FUZZ_CHECK(enc.size() == b64::encoded_size(in.size()));
    MAILAUTH_FUZZ_CHECK(b64::decode(enc, err) == in && !err);
    std::string appended = "x";
    b64::encode_append(in, appended);
    MAILAUTH_FUZZ_CHECK(std::string_view(appended).substr(1) == enc);
    const std::string uenc = b64::url_encode(in);
    MAILAUTH_FUZZ_CHECK(uenc.size() == b64::url_encoded_size(in.size()));
    MAILAUTH_FUZZ_CHECK(b64::url_decode(uenc, err) == in && !err);
    return 0;
}
