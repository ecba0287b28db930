// mailauth examples: a mailauth::oauth::token_store in one JSON file (POSIX), replaced atomically — temporary
// file, fsync, rename, fsync of the directory; mode 0600 — so a crash leaves the old or the new file, never a
// torn one. Writers serialise on FILE.lock (flock); the next writer finishes the save of one that died after
// its temporary file was complete, so a rotated refresh token that reached the disk is not lost.
#pragma once

#include <mailauth/detail/json.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/oauth/token_source.hpp>
#include <mailauth/secret.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace mailauth_examples::token {

/// The value of the "format" member: which layout a store file has.
inline constexpr std::string_view store_format = "mailauth-token-store/1";

/// Largest store file read (a token set is a few kilobytes).
inline constexpr std::size_t max_store_size = 64 * 1024;

/// Where and how the tokens in a store are renewed; never the client's secret or key.
struct store_metadata {
    std::string token_endpoint;
    std::string client_id;
    std::string grant; ///< "refresh_token" or "client_credentials"
};

/// Everything one store file holds.
struct store_contents {
    store_metadata meta;
    mailauth::oauth::token_key key;   ///< account and requested scope
    mailauth::oauth::token_set tokens;
    std::int64_t updated_at = 0;      ///< Unix time of the last save
};

namespace detail {

/// Appends `s` as a JSON string literal (RFC 8259 §7); bytes >= 0x80 pass through (UTF-8 stays UTF-8).
inline void append_json_string(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (b < 0x20 || b == 0x7F) {
                out += "\\u00";
                out += hex[b >> 4];
                out += hex[b & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

/// The space-separated words of a scope, sorted and deduplicated: "b a a" and "a b" name the same scope.
inline std::vector<std::string_view> scope_words(std::string_view scope)
{
    std::vector<std::string_view> words;
    while (!scope.empty()) {
        const auto sp = scope.find(' ');
        if (sp != 0) words.push_back(scope.substr(0, sp));
        if (sp == std::string_view::npos) break;
        scope.remove_prefix(sp + 1);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    return words;
}

inline std::error_code errno_code(int e) noexcept { return {e, std::generic_category()}; }

/// Wipes and empties a std::string that held secret bytes.
inline void wipe(std::string& s) noexcept
{
    if (!s.empty()) mailauth::detail::secure_wipe(s.data(), s.size());
    s.clear();
}

inline std::string dir_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

inline std::string base_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// write(2) all of `data`, retrying on EINTR and short writes.
inline int write_all(int fd, std::string_view data) noexcept
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

} // namespace detail

/// Holds the exclusive lock on a store (flock on FILE.lock) until destroyed or released.
class store_lock {
public:
    store_lock() = default;
    store_lock(const store_lock&) = delete;
    store_lock& operator=(const store_lock&) = delete;
    store_lock(store_lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    store_lock& operator=(store_lock&& o) noexcept
    {
        if (this != &o) {
            release();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~store_lock() { release(); }

    bool held() const noexcept { return fd_ >= 0; }

    void release() noexcept
    {
        if (fd_ >= 0) {
            (void)::flock(fd_, LOCK_UN);
            (void)::close(fd_);
        }
        fd_ = -1;
    }

private:
    friend class file_token_store;
    int fd_ = -1;
};

/// Tokens of one account and scope in one JSON file. load() refuses a file that holds another account or
/// scope, or that group or others may read. Every writer must hold lock() across load, refresh and save.
class file_token_store final : public mailauth::oauth::token_store {
public:
    /// `meta` is written with the tokens; fields left empty are taken from the file when it has them.
    explicit file_token_store(std::string path, store_metadata meta = {}) : path_(std::move(path)), meta_(std::move(meta)) {}

    const std::string& path() const noexcept { return path_; }
    const store_metadata& metadata() const noexcept { return meta_; }
    void set_metadata(store_metadata meta) { meta_ = std::move(meta); }

    /// What the last call failed at (empty when it succeeded), for messages; holds no token.
    const std::string& last_error() const noexcept { return last_error_; }

    /// How many times save() replaced the file.
    std::size_t saves() const noexcept { return saves_; }

    /// Whether the last lock() completed an interrupted save (a complete temporary file became the store).
    bool recovered() const noexcept { return recovered_; }

    /// Takes the exclusive lock, waiting up to `wait`; then finishes the save of a writer that died between
    /// writing its temporary file and renaming it (see recovered()).
    std::error_code lock(store_lock& out, std::chrono::milliseconds wait = std::chrono::seconds{30})
    {
        last_error_.clear();
        out.release();
        const std::string lock_path = path_ + ".lock";
        const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) return fail(detail::errno_code(errno), "cannot open " + lock_path);
        const auto deadline = std::chrono::steady_clock::now() + wait;
        for (;;) {
            if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
            const int e = errno;
            if (e != EWOULDBLOCK && e != EINTR) {
                ::close(fd);
                return fail(detail::errno_code(e), "cannot lock " + lock_path);
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                ::close(fd);
                return fail(make_error_code(mailauth::errc::timeout), "another process holds " + lock_path);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
        }
        out.fd_ = fd;
        recover_stale_temporaries();
        return {};
    }

    /// Reads the whole file; `exists` is false (and the call succeeds) when there is no file yet.
    std::error_code read(store_contents& out, bool& exists)
    {
        last_error_.clear();
        return read_file(path_, out, exists);
    }

    /// token_store: the saved tokens for `key`; empty when there is no file; an error when the file holds
    /// another account or scope (so that one store never feeds a refresh token to the wrong request).
    std::error_code load(const mailauth::oauth::token_key& key, mailauth::oauth::token_set& out) override
    {
        out = {};
        store_contents c;
        bool exists = false;
        if (auto ec = read(c, exists)) return ec;
        if (!exists) return {};
        if (c.key.account != key.account || detail::scope_words(c.key.scope) != detail::scope_words(key.scope))
            return fail(make_error_code(mailauth::errc::invalid_argument),
                        path_ + " holds tokens for account '" + c.key.account + "' and scope '" + c.key.scope +
                            "', not for account '" + key.account + "' and scope '" + key.scope + "'");
        adopt_metadata(c.meta);
        out = std::move(c.tokens);
        return {};
    }

    /// token_store: durably replaces the file (temporary file, fsync, rename, fsync of the directory).
    std::error_code save(const mailauth::oauth::token_key& key, const mailauth::oauth::token_set& tokens) override
    {
        last_error_.clear();
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        std::string text = serialize(meta_, key, tokens, now);
        const auto ec = replace_file(text);
        detail::wipe(text);
        if (!ec) ++saves_;
        return ec;
    }

    /// The JSON text of a store file (members in a fixed order, one per line).
    static std::string serialize(const store_metadata& meta, const mailauth::oauth::token_key& key,
                                 const mailauth::oauth::token_set& tokens, std::int64_t updated_at)
    {
        std::string s;
        s.reserve(1024 + tokens.access_token.size() + tokens.refresh_token.size() + key.scope.size() + tokens.scope.size() +
                  meta.token_endpoint.size()); // one allocation: no stray copies of the tokens
        const auto member = [&](std::string_view name, std::string_view value, bool last = false) {
            s += "  ";
            detail::append_json_string(s, name);
            s += ": ";
            detail::append_json_string(s, value);
            s += last ? "\n" : ",\n";
        };
        s += "{\n";
        member("format", store_format);
        member("token_endpoint", meta.token_endpoint);
        member("client_id", meta.client_id);
        member("grant", meta.grant);
        member("account", key.account);
        member("requested_scope", key.scope);
        member("scope", tokens.scope);
        member("access_token", tokens.access_token.reveal());
        s += "  \"expires_at\": ";
        if (tokens.expires_at)
            s += std::to_string(std::chrono::duration_cast<std::chrono::seconds>(tokens.expires_at->time_since_epoch()).count());
        else
            s += "null";
        s += ",\n";
        s += "  \"updated_at\": " + std::to_string(updated_at) + ",\n";
        member("refresh_token", tokens.refresh_token.reveal(), true);
        s += "}\n";
        return s;
    }

    /// Parses store file text; unknown members are ignored, a wrong "format" is refused.
    std::error_code parse(std::string_view text, store_contents& out) { return parse_text(path_, text, out); }

private:
    /// Reads and parses one store file (the store or a temporary one).
    std::error_code read_file(const std::string& path, store_contents& out, bool& exists)
    {
        out = {};
        exists = false;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            if (errno == ENOENT) return {};
            return fail(detail::errno_code(errno), "cannot open " + path);
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int e = errno;
            ::close(fd);
            return fail(detail::errno_code(e), "cannot stat " + path);
        }
        if (!S_ISREG(st.st_mode) || st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_store_size) {
            ::close(fd);
            return fail(make_error_code(mailauth::errc::invalid_argument), path + " is not a regular file of at most 64 KiB");
        }
        if ((st.st_mode & 077) != 0) {
            ::close(fd);
            return fail(make_error_code(mailauth::errc::invalid_argument),
                        path + " may be read by group or others; tokens must stay private: chmod 600 " + path);
        }
        if (st.st_uid != ::geteuid()) {
            ::close(fd);
            return fail(make_error_code(mailauth::errc::invalid_argument), path + " belongs to another user");
        }
        std::string data;
        data.resize(static_cast<std::size_t>(st.st_size) + 1);
        std::size_t got = 0;
        for (;;) {
            const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                const int e = errno;
                ::close(fd);
                detail::wipe(data);
                return fail(detail::errno_code(e), "cannot read " + path);
            }
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
            if (got == data.size()) { // grew while we read: refuse rather than read a torn file
                ::close(fd);
                detail::wipe(data);
                return fail(make_error_code(mailauth::errc::invalid_argument), path + " changed while being read");
            }
        }
        ::close(fd);
        data.resize(got);
        const auto ec = parse_text(path, data, out);
        detail::wipe(data);
        if (!ec) exists = true;
        return ec;
    }

    std::error_code parse_text(const std::string& path, std::string_view text, store_contents& out)
    {
        namespace json = mailauth::detail::json;
        out = {};
        json::object obj;
        if (auto e = json::parse_object(text, obj)) {
            return fail(make_error_code(mailauth::errc::invalid_argument),
                        path + " is not a JSON object (" + e.message() + ")");
        }
        const auto fin = [&](std::error_code ec, std::string why) {
            for (const auto& m : obj.members()) {
                auto& value = const_cast<std::string&>(m.second.text);
                detail::wipe(value);
            }
            if (ec) {
                out = {};
                return fail(ec, std::move(why));
            }
            return std::error_code{};
        };
        const auto str = [&](std::string_view name) { return std::string{obj.get_string(name).value_or("")}; };
        if (obj.get_string("format").value_or("") != store_format)
            return fin(make_error_code(mailauth::errc::invalid_argument), path + " is not a mailauth token store (format)");
        out.meta.token_endpoint = str("token_endpoint");
        out.meta.client_id = str("client_id");
        out.meta.grant = str("grant");
        out.key.account = str("account");
        out.key.scope = str("requested_scope");
        out.tokens.scope = str("scope");
        if (auto at = obj.get_string("access_token")) out.tokens.access_token.assign(*at);
        if (auto rt = obj.get_string("refresh_token")) out.tokens.refresh_token.assign(*rt);
        if (const auto* e = obj.find("expires_at"); e != nullptr && e->type != json::kind::null) {
            const auto n = obj.get_uint("expires_at");
            if (!n || *n > (std::uint64_t{1} << 40))
                return fin(make_error_code(mailauth::errc::invalid_argument), path + ": expires_at is not a Unix time");
            out.tokens.expires_at = mailauth::oauth::time_point{std::chrono::seconds{static_cast<std::int64_t>(*n)}};
        }
        if (auto u = obj.get_uint("updated_at")) out.updated_at = static_cast<std::int64_t>(std::min<std::uint64_t>(*u, std::uint64_t{1} << 40));
        return fin({}, {});
    }

    std::error_code fail(std::error_code ec, std::string why)
    {
        last_error_ = std::move(why);
        return ec;
    }

    void adopt_metadata(const store_metadata& m)
    {
        if (meta_.token_endpoint.empty()) meta_.token_endpoint = m.token_endpoint;
        if (meta_.client_id.empty()) meta_.client_id = m.client_id;
        if (meta_.grant.empty()) meta_.grant = m.grant;
    }

    std::string temp_prefix() const { return "." + detail::base_of(path_) + ".tmp-"; }

    std::error_code replace_file(std::string_view text)
    {
        const std::string dir = detail::dir_of(path_);
        std::string tmp = dir + "/" + temp_prefix() + "XXXXXX";
        const int fd = ::mkstemp(tmp.data()); // created with mode 0600
        if (fd < 0) return fail(detail::errno_code(errno), "cannot create a temporary file in " + dir);
        (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
        const auto abandon = [&](int e, std::string why) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail(detail::errno_code(e), std::move(why));
        };
        if (::fchmod(fd, 0600) != 0) return abandon(errno, "cannot chmod " + tmp);
        if (const int e = detail::write_all(fd, text)) return abandon(e, "cannot write " + tmp);
        if (::fsync(fd) != 0) return abandon(errno, "cannot fsync " + tmp);
        if (::close(fd) != 0) {
            const int e = errno;
            ::unlink(tmp.c_str());
            return fail(detail::errno_code(e), "cannot close " + tmp);
        }
        if (::rename(tmp.c_str(), path_.c_str()) != 0) {
            const int e = errno;
            ::unlink(tmp.c_str());
            return fail(detail::errno_code(e), "cannot rename the temporary file to " + path_);
        }
        // The rename is durable only once the directory entry is on disk.
        const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) return fail(detail::errno_code(errno), "cannot open directory " + dir);
        const int synced = ::fsync(dfd);
        const int e = errno;
        ::close(dfd);
        if (synced != 0 && e != EINVAL) return fail(detail::errno_code(e), "cannot fsync directory " + dir);
        return {};
    }

    /// Under the lock: a temporary file left by a writer that died before its rename is newer than the
    /// store (every writer runs this after locking). The newest one that is complete — fsync'd before the
    /// rename, so it holds a rotated refresh token the server has already moved on to — replaces the store;
    /// incomplete ones are removed.
    void recover_stale_temporaries()
    {
        recovered_ = false;
        const std::string dir = detail::dir_of(path_);
        const std::string prefix = temp_prefix();
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) return;
        std::vector<std::string> stale;
        while (const dirent* entry = ::readdir(d)) {
            const std::string_view name{entry->d_name};
            if (name.size() == prefix.size() + 6 && name.substr(0, prefix.size()) == prefix) stale.push_back(dir + "/" + std::string{name});
        }
        ::closedir(d);
        if (stale.empty()) return;
        store_contents current;
        bool have_current = false;
        if (read_file(path_, current, have_current)) have_current = false;
        std::string best;
        std::int64_t best_time = have_current ? current.updated_at : std::numeric_limits<std::int64_t>::min();
        for (const auto& tmp : stale) {
            store_contents c;
            bool exists = false;
            if (read_file(tmp, c, exists) || !exists || c.updated_at < best_time) continue;
            best = tmp;
            best_time = c.updated_at;
        }
        last_error_.clear();
        if (!best.empty() && ::rename(best.c_str(), path_.c_str()) == 0) {
            recovered_ = true;
            const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                (void)::fsync(dfd);
                ::close(dfd);
            }
        }
        for (const auto& tmp : stale)
            if (tmp != best || !recovered_) (void)::unlink(tmp.c_str());
    }

    std::string path_;
    store_metadata meta_;
    std::string last_error_;
    std::size_t saves_ = 0;
    bool recovered_ = false;
};

} // namespace mailauth_examples::token
