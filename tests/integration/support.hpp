// Integration test support: the harness's state.json, running programs with captured output,
// a parallel case runner, and a tiny in-process TCP server for transport edge cases.
#pragma once

#include <mailauth/detail/json.hpp>
#include <mailauth/outcome.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <ostream>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace mailauth {
// Lets Catch2 print verdicts readably.
inline std::ostream& operator<<(std::ostream& os, verdict v)
{
    return os << to_string(v);
}
} // namespace mailauth

namespace itest {

namespace json = mailauth::detail::json;

/// A parsed JSON object with nested lookups ("tokens.alice@example.test.valid" is not supported: use at()).
class json_doc {
public:
    json_doc() = default;
    explicit json_doc(std::string_view text) { parse(text); }

    bool parse(std::string_view text)
    {
        json::limits lim;
        lim.max_size = 1024 * 1024;
        error_ = json::parse_object(text, obj_, lim);
        return !error_;
    }
    bool ok() const { return !error_; }
    std::string error() const { return error_.message(); }

    bool has(std::string_view key) const { return obj_.find(key) != nullptr; }
    bool is_null(std::string_view key) const
    {
        const auto* v = obj_.find(key);
        return v == nullptr || v->type == json::kind::null;
    }
    /// A string member's text, a number's digits, "true"/"false"; empty when missing or null.
    std::string str(std::string_view key) const
    {
        const auto* v = obj_.find(key);
        return v == nullptr ? std::string{} : v->text;
    }
    long long num(std::string_view key, long long fallback = -1) const
    {
        const auto* v = obj_.find(key);
        if (v == nullptr || v->type != json::kind::number) return fallback;
        return std::strtoll(v->text.c_str(), nullptr, 10);
    }
    bool boolean(std::string_view key) const { return str(key) == "true"; }
    /// A nested object member, parsed (empty on error or when missing).
    json_doc at(std::string_view key) const
    {
        const auto* v = obj_.find(key);
        if (v == nullptr || v->type != json::kind::object) return json_doc{"{}"};
        return json_doc{v->text};
    }
    /// The raw JSON text of a nested array or object.
    std::string raw(std::string_view key) const { return str(key); }
    const json::object& object() const { return obj_; }

private:
    json::object obj_;
    mailauth::error_detail error_{};
};

inline std::string read_file(const std::string& path)
{
    std::string s;
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        char buf[8192];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
        std::fclose(f);
    }
    return s;
}

inline void write_file(const std::string& path, std::string_view data, mode_t mode = 0600)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

/// What the harness wrote to MAILAUTH_DOVECOT_STATE.
struct dovecot_state {
    std::string dir;
    std::string host;
    std::string variant;
    std::map<std::string, std::uint16_t> ports;
    std::string ca_file;
    std::string sink_dir;
    std::map<std::string, std::string> passwords;
    std::map<std::string, std::map<std::string, std::string>> tokens; // user -> kind -> JWT
    std::string insecure_bind, insecure_connect;

    /// Loads the state, or nullopt (with `why`) when the tests do not run under the harness.
    static std::optional<dovecot_state> load(std::string& why)
    {
        const char* path = std::getenv("MAILAUTH_DOVECOT_STATE");
        if (path == nullptr || *path == '\0') {
            why = "MAILAUTH_DOVECOT_STATE is not set: run under tests/integration/harness/dovecot.py run";
            return std::nullopt;
        }
        json_doc d{read_file(path)};
        if (!d.ok() || d.str("ready") != "true") {
            why = std::string{"cannot use "} + path + (d.ok() ? ": not ready" : ": " + d.error());
            return std::nullopt;
        }
        dovecot_state s;
        s.dir = d.str("dir");
        s.host = d.str("host");
        s.variant = d.str("variant");
        // Each nested document is kept in a named variable: a range-for over a temporary's members dangles.
        const json_doc ports = d.at("ports"), users = d.at("users"), tokens = d.at("tokens");
        for (const auto& [k, v] : ports.object().members())
            s.ports[k] = static_cast<std::uint16_t>(std::strtoul(v.text.c_str(), nullptr, 10));
        s.ca_file = d.at("tls").str("ca_file");
        s.sink_dir = d.str("sink_dir");
        for (const auto& [k, v] : users.object().members()) s.passwords[k] = v.text;
        for (const auto& [user, kinds] : tokens.object().members()) {
            const json_doc t{kinds.text};
            for (const auto& [kind, jwt] : t.object().members()) s.tokens[user][kind] = jwt.text;
        }
        const auto insecure = d.at("insecure_client");
        s.insecure_bind = insecure.str("bind");
        s.insecure_connect = insecure.str("connect");
        return s;
    }

    std::uint16_t port(const std::string& service) const
    {
        const auto it = ports.find(service);
        return it == ports.end() ? 0 : it->second;
    }
};

/// A finished program run.
struct program_result {
    int exit_code = -1; ///< exit status, or 128+signal
    bool timed_out = false;
    std::string out; ///< standard output
    std::string err; ///< standard error
    double seconds = 0;
};

/// Runs argv[0] (a path, or a name looked up on PATH) with extra environment variables; captures stdout and
/// stderr; kills it after `timeout`.
inline program_result run_program(const std::vector<std::string>& argv,
                                  const std::vector<std::pair<std::string, std::string>>& env_extra = {},
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds{60000},
                                  std::string_view stdin_data = {})
{
    program_result r;
    const auto t0 = std::chrono::steady_clock::now();
    int out_pipe[2], err_pipe[2], in_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(in_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string{"pipe2: "} + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv{*e};
        bool overridden = false;
        for (const auto& [k, v] : env_extra)
            if (kv.substr(0, k.size() + 1) == k + "=") overridden = true;
        if (!overridden) env_strings.emplace_back(kv);
    }
    for (const auto& [k, v] : env_extra) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);

    pid_t pid = -1;
    // posix_spawnp: a wrapper named without a path (MAILAUTH_EXAMPLE_WRAPPER="valgrind ...") is found on PATH.
    const int rc = posix_spawnp(&pid, argp[0], &fa, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
    }
    if (!stdin_data.empty()) {
        const ssize_t n = ::write(in_pipe[1], stdin_data.data(), stdin_data.size());
        (void)n;
    }
    ::close(in_pipe[1]);

    const auto deadline = t0 + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&r.out, &r.err};
    int open_fds = 2;
    while (open_fds > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            r.timed_out = true;
            ::kill(pid, SIGKILL); // our own child, by pid
            break;
        }
        const int n = ::poll(fds, 2, static_cast<int>(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

/// The command prefix MAILAUTH_EXAMPLE_WRAPPER puts before an example program (e.g. "valgrind -q
/// --error-exitcode=99"), split on spaces; empty when unset.
inline std::vector<std::string> example_wrapper()
{
    std::vector<std::string> words;
    const char* w = std::getenv("MAILAUTH_EXAMPLE_WRAPPER");
    std::string_view rest = w == nullptr ? std::string_view{} : std::string_view{w};
    while (!rest.empty()) {
        const auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        const auto end = rest.find(' ');
        words.emplace_back(rest.substr(0, end));
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    return words;
}

/// How much longer a wrapped example may run: MAILAUTH_EXAMPLE_TIMEOUT_SCALE, else 10 (valgrind is 20-50x
/// slower on CPU, but these programs mostly wait for the network); 1 without a wrapper.
inline int example_timeout_scale(bool wrapped)
{
    if (!wrapped) return 1;
    if (const char* v = std::getenv("MAILAUTH_EXAMPLE_TIMEOUT_SCALE"); v != nullptr && *v != '\0') {
        const auto n = std::strtoul(v, nullptr, 10);
        if (n > 0 && n <= 1000) return static_cast<int>(n);
    }
    return 10;
}

/// Runs an example program (mailauth-probe, mailauth-asio-example) like run_program, behind
/// MAILAUTH_EXAMPLE_WRAPPER when it is set and with the timeout scaled for it. A wrapper such as valgrind
/// --error-exitcode=99 turns a memory error or leak into an exit code the callers' checks reject.
inline program_result run_example(const std::vector<std::string>& argv,
                                  const std::vector<std::pair<std::string, std::string>>& env_extra = {},
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds{60000},
                                  std::string_view stdin_data = {})
{
    auto full = example_wrapper();
    const int scale = example_timeout_scale(!full.empty());
    full.insert(full.end(), argv.begin(), argv.end());
    return run_program(full, env_extra, timeout * scale, stdin_data);
}

/// Runs f(i) for i in [0, n) on `threads` worker threads.
inline void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& f)
{
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (std::size_t i = next++; i < n; i = next++) f(i);
        });
    for (auto& t : pool) t.join();
}

/// How many cases run at once: failures wait ~0.45 s on Dovecot's auth timer, so overlap them.
inline unsigned parallelism()
{
    if (const char* v = std::getenv("MAILAUTH_INTEGRATION_JOBS"); v != nullptr && *v != '\0') {
        const auto n = std::strtoul(v, nullptr, 10);
        return n > 0 && n < 256 ? static_cast<unsigned>(n) : 1u;
    }
    return 12;
}

/// A one-connection TCP server on a loopback address, run by `serve(fd)` on its own thread.
class tiny_server {
public:
    /// `address` is "127.0.0.1" or "::1"; accept_connection false leaves the connection in the backlog.
    tiny_server(const std::string& address, std::function<void(int)> serve, bool accept_connection = true)
    {
        const bool v6 = address.find(':') != std::string::npos;
        fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            ::inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            ::inet_pton(AF_INET, address.c_str(), &a->sin_addr);
            len = sizeof *a;
        }
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd_, 4) != 0) {
            ::close(fd_);
            throw std::runtime_error("cannot listen on " + address + ": " + std::strerror(errno));
        }
        socklen_t got = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &got);
        port_ = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
        if (accept_connection)
            thread_ = std::thread([this, serve = std::move(serve)] {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 20000) <= 0) return;
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) return;
                serve(c);
                ::close(c);
            });
    }
    tiny_server(const tiny_server&) = delete;
    tiny_server& operator=(const tiny_server&) = delete;
    ~tiny_server()
    {
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }

    static void send_all(int fd, std::string_view s)
    {
        while (!s.empty()) {
            const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0) return;
            s.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    /// Reads one line (without CRLF); empty on EOF.
    static std::string read_line(int fd)
    {
        std::string s;
        char c = 0;
        while (::recv(fd, &c, 1, 0) == 1) {
            if (c == '\n') break;
            if (c != '\r') s.push_back(c);
        }
        return s;
    }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

/// A free loopback TCP port with nothing listening (bound, then closed).
inline std::uint16_t closed_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

} // namespace itest
