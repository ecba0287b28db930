// mailauth: a small strict JSON reader for SASL error challenges and OAuth token responses.
#pragma once

#include <mailauth/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailauth::detail::json {

/// The type of a member value (RFC 8259 §3).
enum class kind : unsigned char { string, number, boolean, null, object, array };

/// One top-level member value. string: the decoded (unescaped, UTF-8) text; number: the raw number text;
/// boolean: "true"/"false"; null: empty; object/array: the raw JSON text of the nested value (validated).
struct value {
    kind type = kind::null;
    std::string text;
};

/// Bounds on what parse_object accepts (RFC 8259 §9 lets a parser set them).
struct limits {
    std::size_t max_size = 64 * 1024;   // bytes of input
    std::size_t max_depth = 8;          // nesting levels (top-level object = 1)
    std::size_t max_members = 128;      // members in the top-level object
    std::size_t max_string = 16 * 1024; // bytes of one decoded string
};

class object;

/// Parses one JSON object (RFC 8259). Leading/trailing whitespace (incl. a trailing "\n" or "\r\n") is allowed;
/// anything else after the object is json_trailing_data. On error `out` is left empty.
inline error_detail parse_object(std::string_view in, object& out, const limits& lim = {});

/// The members of one parsed top-level JSON object, in input order.
class object {
public:
    /// First member with this key, or nullptr.
    const value* find(std::string_view key) const noexcept
    {
        for (const auto& m : members_)
            if (m.first == key) return &m.second;
        return nullptr;
    }

    /// The string member's text, or nullopt if missing / not a string.
    std::optional<std::string_view> get_string(std::string_view key) const noexcept
    {
        const value* v = find(key);
        if (v == nullptr || v->type != kind::string) return std::nullopt;
        return std::string_view{v->text};
    }

    /// An integer from a number member or a numeric string member ("3600"), nullopt otherwise or on overflow / fraction / negative.
    std::optional<std::uint64_t> get_uint(std::string_view key) const noexcept
    {
        const value* v = find(key);
        if (v == nullptr || (v->type != kind::number && v->type != kind::string)) return std::nullopt;
        const std::string& t = v->text;
        if (t.empty()) return std::nullopt;
        std::uint64_t n = 0;
        for (char c : t) {
            if (c < '0' || c > '9') return std::nullopt;
            const auto d = static_cast<std::uint64_t>(c - '0');
            if (n > (UINT64_MAX - d) / 10) return std::nullopt;
            n = n * 10 + d;
        }
        return n;
    }

    /// All members in input order.
    const std::vector<std::pair<std::string, value>>& members() const noexcept { return members_; }

    /// True for "{}" (and after a failed parse).
    bool empty() const noexcept { return members_.empty(); }

    /// Number of members.
    std::size_t size() const noexcept { return members_.size(); }

private:
    friend error_detail parse_object(std::string_view in, object& out, const limits& lim);

    std::vector<std::pair<std::string, value>> members_;
};

/// The byte-level scanner behind parse_object and parse_uint_array; it never reads past `in`.
class reader {
public:
    reader(std::string_view in, const limits& lim) noexcept : in_(in), lim_(lim) {}

    /// Offset of the next byte to read.
    std::size_t pos() const noexcept { return pos_; }

    /// The next byte, or -1 at the end of the input.
    int peek() const noexcept { return pos_ < in_.size() ? static_cast<unsigned char>(in_[pos_]) : -1; }

    /// Steps over the byte at the current position.
    void advance() noexcept { ++pos_; }

    /// Steps over `c` if it is the next byte.
    bool consume(char c) noexcept
    {
        if (pos_ >= in_.size() || in_[pos_] != c) return false;
        ++pos_;
        return true;
    }

    /// Skips the four whitespace bytes of RFC 8259 §2.
    void skip_ws() noexcept
    {
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    /// An error at the current position, naming the byte there when there is one.
    error_detail fail_here(errc e) const noexcept { return fail_at(e, pos_); }

    /// An error at `at`, naming the byte there when there is one.
    error_detail fail_at(errc e, std::size_t at) const noexcept
    {
        error_detail d;
        d.code = make_error_code(e);
        d.offset = at;
        if (at < in_.size()) d.byte = static_cast<unsigned char>(in_[at]);
        return d;
    }

    /// An error at `at` without a byte (the problem spans several bytes).
    static error_detail fail_span(errc e, std::size_t at) noexcept
    {
        error_detail d;
        d.code = make_error_code(e);
        d.offset = at;
        return d;
    }

    /// Reads a string at '"' (RFC 8259 §7), decoding it into `out` when given; validates UTF-8 (RFC 3629 §4).
    error_detail read_string(std::string* out)
    {
        if (out != nullptr) out->clear();
        ++pos_; // the opening quote
        std::size_t decoded = 0;
        auto emit = [&](const char* p, std::size_t n) -> bool {
            if (n > lim_.max_string - decoded) return false;
            decoded += n;
            if (out != nullptr) out->append(p, n);
            return true;
        };
        for (;;) {
            // A run of plain printable ASCII is copied at once.
            const std::size_t run = pos_;
            while (pos_ < in_.size()) {
                const auto b = static_cast<unsigned char>(in_[pos_]);
                if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
                ++pos_;
            }
            if (pos_ > run && !emit(in_.data() + run, pos_ - run))
                return fail_span(errc::json_too_large, run + (lim_.max_string - decoded));
            const int c = peek();
            if (c < 0) return fail_here(errc::json_syntax);
            if (c == '"') {
                ++pos_;
                return {};
            }
            const std::size_t start = pos_;
            if (c < 0x20) return fail_here(errc::json_control_character);
            char buf[4] = {};
            std::size_t n = 0;
            if (c == '\\') {
                if (auto e = read_escape(buf, n)) return e;
            } else {
                if (auto e = read_utf8(buf, n)) return e;
            }
            if (!emit(buf, n)) return fail_span(errc::json_too_large, start);
        }
    }

    /// Reads a number (RFC 8259 §6); the caller checks the byte after it.
    error_detail read_number() noexcept
    {
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (is_digit(peek())) {
            while (is_digit(peek())) ++pos_;
        } else {
            return fail_here(errc::json_syntax);
        }
        if (peek() == '.') {
            ++pos_;
            if (!is_digit(peek())) return fail_here(errc::json_syntax);
            while (is_digit(peek())) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!is_digit(peek())) return fail_here(errc::json_syntax);
            while (is_digit(peek())) ++pos_;
        }
        return {};
    }

    /// Reads `word` (true, false or null; RFC 8259 §3).
    error_detail read_literal(std::string_view word) noexcept
    {
        for (char w : word) {
            if (pos_ >= in_.size() || in_[pos_] != w) return fail_here(errc::json_syntax);
            ++pos_;
        }
        return {};
    }

    /// Reads any value at the current position whose container sits at nesting level `depth`,
    /// filling `out` (when given) as described for json::value.
    error_detail read_value(std::size_t depth, value* out)
    {
        const std::size_t start = pos_;
        const int c = peek();
        kind k{};
        error_detail e;
        switch (c) {
        case '"':
            k = kind::string;
            e = read_string(out != nullptr ? &out->text : nullptr);
            break;
        case '{':
        case '[':
            k = c == '{' ? kind::object : kind::array;
            e = skip_container(depth);
            break;
        case 't':
            k = kind::boolean;
            e = read_literal("true");
            break;
        case 'f':
            k = kind::boolean;
            e = read_literal("false");
            break;
        case 'n':
            k = kind::null;
            e = read_literal("null");
            break;
        default:
            if (c == '-' || is_digit(c)) {
                k = kind::number;
                e = read_number();
            } else {
                return fail_here(errc::json_syntax);
            }
        }
        if (e) return e;
        if (out != nullptr) {
            out->type = k;
            if (k == kind::null)
                out->text.clear();
            else if (k != kind::string)
                out->text.assign(in_.substr(start, pos_ - start));
        }
        return {};
    }

    /// Validates the object or array at the current position, one nesting level below `depth`;
    /// iterative, so a nesting bomb costs one byte of stack per level at most (RFC 8259 §9).
    error_detail skip_container(std::size_t depth)
    {
        std::string open; // the bracket of each level entered
        bool need_value = true;
        for (;;) {
            if (need_value) {
                const int c = peek();
                if (c == '{' || c == '[') {
                    if (depth + open.size() >= lim_.max_depth) return fail_here(errc::json_too_deep);
                    open.push_back(static_cast<char>(c));
                    ++pos_;
                    skip_ws();
                    const int close = c == '{' ? '}' : ']';
                    if (peek() == close) {
                        ++pos_;
                        open.pop_back();
                        need_value = false;
                    } else if (c == '{') {
                        if (auto e = read_key()) return e;
                    }
                    continue;
                }
                if (auto e = read_value(depth + open.size(), nullptr)) return e;
                need_value = false;
                continue;
            }
            if (open.empty()) return {};
            skip_ws();
            const int c = peek();
            const bool in_object = open.back() == '{';
            if (c == ',') {
                ++pos_;
                skip_ws();
                if (in_object) {
                    if (auto e = read_key()) return e;
                }
                need_value = true;
            } else if (c == (in_object ? '}' : ']')) {
                ++pos_;
                open.pop_back();
            } else {
                return fail_here(errc::json_syntax);
            }
        }
    }

    /// Reads `"key" :` and the whitespace after it, inside a nested object.
    error_detail read_key()
    {
        if (peek() != '"') return fail_here(errc::json_syntax);
        if (auto e = read_string(nullptr)) return e;
        skip_ws();
        if (peek() != ':') return fail_here(errc::json_syntax);
        ++pos_;
        skip_ws();
        return {};
    }

    static bool is_digit(int c) noexcept { return c >= '0' && c <= '9'; }

private:
    static int hex_value(int c) noexcept
    {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /// Reads the four hex digits after "\u".
    error_detail read_hex4(std::uint32_t& unit) noexcept
    {
        unit = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex_value(peek());
            if (h < 0) return fail_here(peek() < 0 ? errc::json_syntax : errc::json_invalid_escape);
            unit = unit << 4 | static_cast<std::uint32_t>(h);
            ++pos_;
        }
        return {};
    }

    /// Reads one escape at '\\' into UTF-8; \uXXXX pairs make one code point, lone surrogates fail (RFC 8259 §7).
    error_detail read_escape(char (&buf)[4], std::size_t& n) noexcept
    {
        const std::size_t start = pos_;
        ++pos_;
        const int c = peek();
        char simple = 0;
        switch (c) {
        case '"': simple = '"'; break;
        case '\\': simple = '\\'; break;
        case '/': simple = '/'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'n': simple = '\n'; break;
        case 'r': simple = '\r'; break;
        case 't': simple = '\t'; break;
        case 'u': break;
        default: return fail_here(c < 0 ? errc::json_syntax : errc::json_invalid_escape);
        }
        ++pos_;
        if (c != 'u') {
            buf[0] = simple;
            n = 1;
            return {};
        }
        std::uint32_t cp = 0;
        if (auto e = read_hex4(cp)) return e;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail_span(errc::json_invalid_escape, start);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (peek() != '\\' || pos_ + 1 >= in_.size() || in_[pos_ + 1] != 'u')
                return fail_span(errc::json_invalid_escape, start);
            pos_ += 2;
            std::uint32_t low = 0;
            if (auto e = read_hex4(low)) return e;
            if (low < 0xDC00 || low > 0xDFFF) return fail_span(errc::json_invalid_escape, start);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        n = encode_utf8(cp, buf);
        return {};
    }

    /// Validates one UTF-8 sequence at a byte >= 0x80 and copies it (RFC 3629 §4 table).
    error_detail read_utf8(char (&buf)[4], std::size_t& n) noexcept
    {
        const auto b0 = static_cast<unsigned char>(in_[pos_]);
        unsigned char lo = 0x80, hi = 0xBF;
        std::size_t len = 0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            if (b0 == 0xE0) lo = 0xA0;      // overlong
            else if (b0 == 0xED) hi = 0x9F; // UTF-16 surrogates
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            if (b0 == 0xF0) lo = 0x90;      // overlong
            else if (b0 == 0xF4) hi = 0x8F; // above U+10FFFF
        } else {
            return fail_here(errc::json_invalid_utf8);
        }
        buf[0] = static_cast<char>(b0);
        ++pos_;
        for (std::size_t i = 1; i < len; ++i) {
            const int c = peek();
            if (c < lo || c > hi) return fail_here(errc::json_invalid_utf8);
            buf[i] = static_cast<char>(c);
            ++pos_;
            lo = 0x80;
            hi = 0xBF;
        }
        n = len;
        return {};
    }

    static std::size_t encode_utf8(std::uint32_t cp, char (&buf)[4]) noexcept
    {
        if (cp < 0x80) {
            buf[0] = static_cast<char>(cp);
            return 1;
        }
        if (cp < 0x800) {
            buf[0] = static_cast<char>(0xC0 | (cp >> 6));
            buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000) {
            buf[0] = static_cast<char>(0xE0 | (cp >> 12));
            buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
            return 3;
        }
        buf[0] = static_cast<char>(0xF0 | (cp >> 18));
        buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
        return 4;
    }

    std::string_view in_;
    const limits& lim_;
    std::size_t pos_ = 0;
};

inline error_detail parse_object(std::string_view in, object& out, const limits& lim)
{
    out.members_.clear();
    if (in.size() > lim.max_size) return reader::fail_span(errc::json_too_large, lim.max_size);
    reader r{in, lim};
    r.skip_ws();
    const int first = r.peek();
    if (first != '{') {
        const bool other_value = first == '[' || first == '"' || first == '-' || reader::is_digit(first) ||
                                 first == 't' || first == 'f' || first == 'n';
        return r.fail_here(other_value ? errc::json_not_object : errc::json_syntax);
    }
    if (lim.max_depth < 1) return r.fail_here(errc::json_too_deep);
    r.advance();
    r.skip_ws();
    std::vector<std::pair<std::string, value>> members;
    if (!r.consume('}')) {
        for (;;) {
            const std::size_t key_at = r.pos();
            if (r.peek() != '"') return r.fail_here(errc::json_syntax);
            if (members.size() >= lim.max_members) return reader::fail_span(errc::json_too_large, key_at);
            std::string key;
            if (auto e = r.read_string(&key)) return e;
            for (const auto& m : members)
                if (m.first == key) return reader::fail_span(errc::json_duplicate_key, key_at);
            r.skip_ws();
            if (!r.consume(':')) return r.fail_here(errc::json_syntax);
            r.skip_ws();
            value v;
            if (auto e = r.read_value(1, &v)) return e;
            members.emplace_back(std::move(key), std::move(v));
            r.skip_ws();
            if (r.consume('}')) break;
            if (!r.consume(',')) return r.fail_here(errc::json_syntax);
            r.skip_ws();
        }
    }
    r.skip_ws();
    if (r.peek() >= 0) return r.fail_here(errc::json_trailing_data);
    out.members_ = std::move(members);
    return {};
}

/// Elements of a raw JSON array text of numbers, e.g. "[7000215, 50076]" -> {7000215, 50076}; error on anything else.
inline error_detail parse_uint_array(std::string_view raw, std::vector<std::uint64_t>& out)
{
    out.clear();
    limits lim;
    lim.max_size = raw.size();
    reader r{raw, lim};
    auto fail = [&](error_detail e) {
        out.clear();
        return e;
    };
    r.skip_ws();
    if (!r.consume('[')) return fail(r.fail_here(errc::json_syntax));
    r.skip_ws();
    if (!r.consume(']')) {
        for (;;) {
            const std::size_t at = r.pos();
            if (!reader::is_digit(r.peek())) return fail(r.fail_here(errc::json_syntax));
            if (auto e = r.read_number()) return fail(e);
            const std::string_view text = raw.substr(at, r.pos() - at);
            std::uint64_t n = 0;
            for (std::size_t i = 0; i < text.size(); ++i) {
                const char c = text[i];
                if (c < '0' || c > '9') return fail(r.fail_at(errc::json_syntax, at + i)); // fraction or exponent
                const auto d = static_cast<std::uint64_t>(c - '0');
                if (n > (UINT64_MAX - d) / 10) return fail(reader::fail_span(errc::json_syntax, at)); // overflow
                n = n * 10 + d;
            }
            out.push_back(n);
            r.skip_ws();
            if (r.consume(']')) break;
            if (!r.consume(',')) return fail(r.fail_here(errc::json_syntax));
            r.skip_ws();
        }
    }
    r.skip_ws();
    if (r.peek() >= 0) return fail(r.fail_here(errc::json_trailing_data));
    return {};
}

} // namespace mailauth::detail::json
