// libFuzzer target: the JSON reader (objects, nested values, number arrays) and the SASL error-challenge parser.
// Byte 0 picks the limits; the rest is the document.
#include "fuzz_support.hpp"

#include <mailauth/detail/json.hpp>
#include <mailauth/error.hpp>
#include <mailauth/sasl/oauth_error.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = mailauth::detail::json;

/// Well-formed UTF-8 (RFC 3629 §4): what every decoded string must be.
bool valid_utf8(std::string_view s) noexcept
{
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b < 0x80) {
            ++i;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) len = 2, cp = b & 0x1Fu;
        else if (b >= 0xE0 && b <= 0xEF) len = 3, cp = b & 0x0Fu;
        else if (b >= 0xF0 && b <= 0xF4) len = 4, cp = b & 0x07u;
        else return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = cp << 6 | (c & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

void check_error(const mailauth::error_detail& e, std::string_view in)
{
    MAILAUTH_FUZZ_CHECK(static_cast<bool>(e));
    MAILAUTH_FUZZ_CHECK(&e.code.category() == &mailauth::error_category());
    MAILAUTH_FUZZ_CHECK(e.offset == mailauth::error_detail::no_offset || e.offset <= in.size());
    if (e.byte >= 0) {
        MAILAUTH_FUZZ_CHECK(e.offset < in.size());
        MAILAUTH_FUZZ_CHECK(e.byte == static_cast<unsigned char>(in[e.offset]));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto in = mailauth_fuzz::as_view(data, size);
    const unsigned sel = mailauth_fuzz::take_byte(in);
    json::limits lim;
    if ((sel & 1u) != 0) lim.max_depth = 1 + (sel >> 1 & 3u);
    if ((sel & 8u) != 0) lim.max_members = 1 + (sel >> 4 & 3u);
    if ((sel & 64u) != 0) lim.max_string = 8;
    if ((sel & 128u) != 0) lim.max_size = 64;

    json::object obj;
    const auto err = json::parse_object(in, obj, lim);
    if (err) {
        check_error(err, in);
        MAILAUTH_FUZZ_CHECK(obj.empty());
    } else {
        MAILAUTH_FUZZ_CHECK(in.size() <= lim.max_size);
        MAILAUTH_FUZZ_CHECK(obj.size() <= lim.max_members);
        std::set<std::string> keys;
        for (const auto& [key, value] : obj.members()) {
            MAILAUTH_FUZZ_CHECK(keys.insert(key).second); // no duplicate keys
            MAILAUTH_FUZZ_CHECK(valid_utf8(key));
            MAILAUTH_FUZZ_CHECK(key.size() <= lim.max_string);
            MAILAUTH_FUZZ_CHECK(obj.find(key) == &value);
            switch (value.type) {
            case json::kind::string:
                MAILAUTH_FUZZ_CHECK(valid_utf8(value.text));
                MAILAUTH_FUZZ_CHECK(value.text.size() <= lim.max_string);
                MAILAUTH_FUZZ_CHECK(obj.get_string(key).has_value());
                break;
            case json::kind::object: {
                // A nested object's raw text is itself a valid object one level shallower (duplicate keys
                // are refused only at the top level, where they could make a token ambiguous).
                json::object inner;
                json::limits inner_lim = lim;
                inner_lim.max_depth = lim.max_depth - 1;
                inner_lim.max_members = SIZE_MAX;
                const auto e = json::parse_object(value.text, inner, inner_lim);
                MAILAUTH_FUZZ_CHECK(!e || e.code == make_error_code(mailauth::errc::json_duplicate_key));
                break;
            }
            case json::kind::array: {
                std::vector<std::uint64_t> numbers;
                if (const auto e = json::parse_uint_array(value.text, numbers)) {
                    check_error(e, value.text);
                    MAILAUTH_FUZZ_CHECK(numbers.empty());
                }
                MAILAUTH_FUZZ_CHECK(value.text.front() == '[' && value.text.back() == ']');
                break;
            }
            case json::kind::number: {
                MAILAUTH_FUZZ_CHECK(!value.text.empty());
                if (const auto n = obj.get_uint(key)) MAILAUTH_FUZZ_CHECK(std::to_string(*n) == value.text ||
                                                                         value.text.front() == '0');
                break;
            }
            case json::kind::boolean: MAILAUTH_FUZZ_CHECK(value.text == "true" || value.text == "false"); break;
            case json::kind::null: MAILAUTH_FUZZ_CHECK(value.text.empty()); break;
            }
        }
    }

    // The number-array reader on its own input.
    std::vector<std::uint64_t> numbers;
    if (const auto e = json::parse_uint_array(in, numbers)) {
        check_error(e, in);
        MAILAUTH_FUZZ_CHECK(numbers.empty());
    }

    // The SASL error challenge parser never fails outright and bounds what it keeps.
    mailauth::sasl::oauth_error oe;
    mailauth::sasl::parse_oauth_error(in, oe);
    MAILAUTH_FUZZ_CHECK(oe.raw.size() <= mailauth::sasl::max_error_challenge);
    MAILAUTH_FUZZ_CHECK(oe.status.size() <= mailauth::sasl::max_error_challenge);
    if (oe.json_error) MAILAUTH_FUZZ_CHECK(oe.status.empty() && oe.scope.empty());
    return 0;
}
