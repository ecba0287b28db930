// mailauth: replay a server script offline and check every line the client sends.
#pragma once

#include <mailauth/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mailauth::testing {

/// One step of a conversation as the server sees it.
struct script_step {
    enum class kind : unsigned char { server, client, tls, close };
    kind what = kind::server;
    std::string text;
};

/// A server conversation: lines the server sends, lines the client must send, TLS and hang-up points.
/// Client patterns match exactly, except `<base64>` (one or more base64 characters) and `<any>` (the rest).
class script {
public:
    script& server(std::string line) { return add(script_step::kind::server, std::move(line)); }
    script& client(std::string pattern) { return add(script_step::kind::client, std::move(pattern)); }
    script& starttls() { return add(script_step::kind::tls, {}); }
    script& close() { return add(script_step::kind::close, {}); }

    /// Reads "S: line", "C: pattern", "-- TLS --" and "-- CLOSE --" lines; other lines are comments.
    static script parse(std::string_view text)
    {
        script s;
        while (!text.empty()) {
            const auto nl = text.find('\n');
            auto line = text.substr(0, nl);
            text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.rfind("S: ", 0) == 0 || line == "S:") s.server(std::string{line.substr(line.size() > 2 ? 3 : 2)});
            else if (line.rfind("C: ", 0) == 0 || line == "C:") s.client(std::string{line.substr(line.size() > 2 ? 3 : 2)});
            else if (line == "-- TLS --") s.starttls();
            else if (line == "-- CLOSE --") s.close();
        }
        return s;
    }

    const std::vector<script_step>& steps() const noexcept { return steps_; }

private:
    script& add(script_step::kind k, std::string text)
    {
        steps_.push_back({k, std::move(text)});
        return *this;
    }
    std::vector<script_step> steps_;
};

/// Whether `line` matches `pattern` (exact bytes, `<base64>` and `<any>` wildcards).
inline bool matches(std::string_view pattern, std::string_view line) noexcept
{
    constexpr std::string_view b64 = "<base64>", any = "<any>";
    while (!pattern.empty()) {
        if (pattern.rfind(any, 0) == 0) return true;
        if (pattern.rfind(b64, 0) == 0) {
            std::size_t n = 0;
            auto is_b64 = [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                       c == '/' || c == '=';
            };
            while (n < line.size() && is_b64(line[n])) ++n;
            if (n == 0) return false;
            pattern.remove_prefix(b64.size());
            line.remove_prefix(n);
            continue;
        }
        if (line.empty() || pattern.front() != line.front()) return false;
        pattern.remove_prefix(1);
        line.remove_prefix(1);
    }
    return line.empty();
}

/// A transport (mailauth::tls_transport) that plays the server side of a script.
class scripted_transport {
public:
    explicit scripted_transport(script s) : script_(std::move(s)) {}

    std::error_code write_line(std::string_view line) { return write_line(line, false); }

    /// As write_line; a secret line is never quoted in the mismatch text.
    std::error_code write_line(std::string_view line, bool secret)
    {
        sent_.emplace_back(line);
        const std::string_view shown = secret ? std::string_view{"<redacted>"} : line;
        const auto* step = current();
        if (step == nullptr || step->what != script_step::kind::client) {
            return mismatch("the client sent a line where the script has ", step, shown);
        }
        if (!matches(step->text, line)) return mismatch("the client line does not match ", step, shown);
        ++pos_;
        return {};
    }

    std::error_code read_line(std::string_view& out)
    {
        const auto* step = current();
        if (step == nullptr || step->what == script_step::kind::close) {
            if (step != nullptr) ++pos_;
            return make_error_code(errc::connection_closed);
        }
        if (step->what != script_step::kind::server) return mismatch("the client reads where the script has ", step, {});
        ++pos_;
        out = step->text;
        return {};
    }

    /// Refuses when the script still holds server lines before the TLS point (pipelining after STARTTLS).
    std::error_code start_tls()
    {
        const auto* step = current();
        if (step != nullptr && step->what == script_step::kind::server)
            return make_error_code(errc::pipelined_after_starttls);
        if (step == nullptr || step->what != script_step::kind::tls)
            return mismatch("the client starts TLS where the script has ", step, {});
        ++pos_;
        tls_ = true;
        return {};
    }

    /// Whether every step of the script was played.
    bool done() const noexcept { return pos_ == script_.steps().size(); }
    /// The first mismatch between script and client, empty when none.
    const std::string& mismatch() const noexcept { return mismatch_; }
    /// Every line the client wrote (credentials included: for tests only).
    const std::vector<std::string>& sent() const noexcept { return sent_; }
    bool tls() const noexcept { return tls_; }

private:
    const script_step* current() const noexcept
    {
        return pos_ < script_.steps().size() ? &script_.steps()[pos_] : nullptr;
    }

    std::error_code mismatch(std::string_view what, const script_step* step, std::string_view line)
    {
        if (mismatch_.empty()) {
            mismatch_.assign("step ").append(std::to_string(pos_ + 1)).append(": ").append(what);
            if (step == nullptr) mismatch_.append("its end");
            else if (step->what == script_step::kind::client) mismatch_.append("C: ").append(step->text);
            else if (step->what == script_step::kind::server) mismatch_.append("S: ").append(step->text);
            else if (step->what == script_step::kind::tls) mismatch_.append("-- TLS --");
            else mismatch_.append("-- CLOSE --");
            if (!line.empty()) mismatch_.append(" (got: ").append(line.substr(0, 200)).append(")");
        }
        return make_error_code(errc::io_error);
    }

    script script_;
    std::size_t pos_ = 0;
    std::vector<std::string> sent_;
    std::string mismatch_;
    bool tls_ = false;
};

} // namespace mailauth::testing
