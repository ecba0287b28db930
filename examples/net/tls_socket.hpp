// mailauth examples: a blocking POSIX TCP + OpenSSL line transport that models mailauth::tls_transport.
// IPv4/IPv6, connect and I/O timeouts (poll), implicit TLS and STARTTLS, certificate and host-name
// verification on by default, bounded line reads, and a human-readable reason for every failure.
// Example code: POSIX and OpenSSL 1.1.1+/3.x only. A peer that hangs up is an error code, never a SIGPIPE.
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/secret.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/types.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace mailauth_examples {

/// Where and how to connect.
struct connect_options {
    std::string host; ///< DNS name, IPv4 or IPv6 literal (no brackets)
    std::uint16_t port = 0;
    std::string bind_address;                         ///< local address bound before connect(), e.g. "127.0.0.2"
    std::chrono::milliseconds connect_timeout{15000}; ///< for the TCP connect, over all addresses
    std::chrono::milliseconds io_timeout{30000};      ///< for each read, write and TLS handshake
    bool implicit_tls = false;                        ///< TLS right after connect (993, 995, 465)
    bool verify = true;                               ///< certificate chain and host-name verification
    std::string ca_file;                              ///< trust anchors (PEM) instead of the system store
    std::string tls_name;                             ///< name to verify and send as SNI; default: host
    std::size_t max_line = 64 * 1024;                 ///< longest line read_line accepts, without CRLF
};

/// What the TLS handshake agreed on.
struct tls_details {
    std::string version;       ///< "TLSv1.3"
    std::string cipher;        ///< "TLS_AES_256_GCM_SHA384"
    std::string subject;       ///< the server certificate's subject, one line
    std::string issuer;        ///< its issuer, one line
    std::string verified_name; ///< the host name or IP address the certificate was checked against
    bool verified = false;
};

namespace detail {

inline bool is_ip_literal(const std::string& host)
{
    in6_addr a6{};
    in_addr a4{};
    return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

inline std::string sockaddr_text(const sockaddr* sa, socklen_t len)
{
    char host[NI_MAXHOST] = {};
    char serv[NI_MAXSERV] = {};
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "(unknown address)";
    return std::string{host} + " port " + serv;
}

/// The first error in OpenSSL's queue as text (the queue is then cleared).
inline std::string openssl_error_text()
{
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return {};
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

inline std::string x509_name_text(X509_NAME* name)
{
    if (name == nullptr) return {};
    char buf[512];
    X509_NAME_oneline(name, buf, sizeof buf);
    return buf;
}

/// Keeps SIGPIPE from OpenSSL's socket writes away from the program: blocked in this thread for the scope,
/// and a SIGPIPE raised meanwhile is consumed (plain sends use MSG_NOSIGNAL instead).
class sigpipe_guard {
public:
    sigpipe_guard() noexcept
    {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
    }
    sigpipe_guard(const sigpipe_guard&) = delete;
    sigpipe_guard& operator=(const sigpipe_guard&) = delete;
    ~sigpipe_guard()
    {
        if (!blocked_) return;
        const int saved_errno = errno; // the caller still reads errno of the OpenSSL call
        sigset_t pending;
        sigemptyset(&pending);
        if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
            const timespec zero{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {}
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
        errno = saved_errno;
    }

private:
    sigset_t pipe_{};
    sigset_t old_{};
    bool was_pending_ = false;
    bool blocked_ = false;
};

} // namespace detail

/// A TCP connection with optional TLS that satisfies mailauth::tls_transport.
class tls_socket {
public:
    tls_socket() = default;
    tls_socket(const tls_socket&) = delete;
    tls_socket& operator=(const tls_socket&) = delete;
    ~tls_socket() { close(); }

    /// Resolves, connects (and with implicit_tls does the handshake); errors carry a reason in error_text().
    std::error_code connect(const connect_options& o)
    {
        close();
        opts_ = o;
        if (opts_.host.empty() || opts_.port == 0) return fail(mailauth::errc::invalid_argument, "no host or port");

        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* remote = nullptr;
        const std::string service = std::to_string(opts_.port);
        if (int rc = getaddrinfo(opts_.host.c_str(), service.c_str(), &hints, &remote); rc != 0) {
            return fail(mailauth::errc::name_resolution_failed,
                        "cannot resolve host '" + opts_.host + "': " + gai_strerror(rc));
        }
        addrinfo* local = nullptr;
        if (!opts_.bind_address.empty()) {
            addrinfo lh{};
            lh.ai_family = AF_UNSPEC;
            lh.ai_socktype = SOCK_STREAM;
            lh.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
            if (int rc = getaddrinfo(opts_.bind_address.c_str(), nullptr, &lh, &local); rc != 0) {
                freeaddrinfo(remote);
                return fail(mailauth::errc::invalid_argument,
                            "bad bind address '" + opts_.bind_address + "': " + gai_strerror(rc));
            }
        }

        const auto deadline = clock::now() + opts_.connect_timeout;
        std::error_code ec = make(mailauth::errc::connect_failed);
        detail_ = "no usable address for '" + opts_.host + "'";
        for (addrinfo* ai = remote; ai != nullptr; ai = ai->ai_next) {
            ec = connect_one(ai, local, deadline);
            if (!ec) break;
            if (ec == mailauth::errc::timeout && clock::now() >= deadline) break;
        }
        if (local != nullptr) freeaddrinfo(local);
        freeaddrinfo(remote);
        if (ec) return ec;
        if (opts_.implicit_tls) return handshake();
        return {};
    }

    /// Writes `line` and CRLF; a line holding CR or LF is refused (it would inject a command).
    std::error_code write_line(std::string_view line) { return write_line(line, false); }

    /// As above; a `secret` line is wiped from the send buffer once written.
    std::error_code write_line(std::string_view line, bool secret)
    {
        if (fd_ < 0) return fail(mailauth::errc::connection_closed, "not connected");
        if (line.find_first_of("\r\n") != std::string_view::npos)
            return fail(mailauth::errc::invalid_argument, "refusing to send a line containing CR or LF");
        out_.assign(line).append("\r\n");
        const std::error_code ec = write_all(out_);
        if (secret) mailauth::detail::secure_wipe(out_.data(), out_.size());
        out_.clear();
        return ec;
    }

    /// Reads one line without its CRLF (a bare LF also ends a line); the view lives until the next call.
    std::error_code read_line(std::string_view& line)
    {
        consume_last();
        for (;;) {
            const auto lf = in_.find('\n', scan_from_);
            if (lf != std::string::npos) {
                std::size_t end = lf;
                if (end > start_ && in_[end - 1] == '\r') --end;
                if (end - start_ > opts_.max_line)
                    return fail(mailauth::errc::reply_line_too_long,
                                "server line longer than " + std::to_string(opts_.max_line) + " bytes");
                line = std::string_view{in_}.substr(start_, end - start_);
                last_ = lf + 1 - start_;
                return {};
            }
            scan_from_ = in_.size();
            if (in_.size() - start_ > opts_.max_line + 1)
                return fail(mailauth::errc::reply_line_too_long,
                            "server line longer than " + std::to_string(opts_.max_line) + " bytes");
            if (auto ec = fill()) return ec;
        }
    }

    /// Upgrades to TLS (STARTTLS / STLS); refuses if the server already sent bytes after its reply.
    std::error_code start_tls()
    {
        if (fd_ < 0) return fail(mailauth::errc::connection_closed, "not connected");
        if (ssl_ != nullptr) return fail(mailauth::errc::unexpected_call, "TLS is already active");
        consume_last();
        std::size_t pending = in_.size() - start_;
        if (pending == 0) {
            // Bytes already in the kernel are just as suspicious: the server speaks only after our ClientHello.
            char peek[512];
            const ssize_t n = ::recv(fd_, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
            if (n > 0) pending = static_cast<std::size_t>(n);
        }
        if (pending != 0)
            return fail(mailauth::errc::pipelined_after_starttls,
                        std::to_string(pending) +
                            " plaintext byte(s) arrived after the STARTTLS reply; refusing to carry them into TLS");
        in_.clear();
        start_ = scan_from_ = last_ = 0;
        return handshake();
    }

    /// Shuts TLS down (without waiting), closes the socket and frees every OpenSSL object.
    void close() noexcept
    {
        if (ssl_ != nullptr) {
            if (fd_ >= 0 && handshake_done_) {
                const detail::sigpipe_guard guard;
                SSL_shutdown(ssl_); // best effort close_notify, never waits
            }
            SSL_free(ssl_);
            ssl_ = nullptr;
        }
        if (ctx_ != nullptr) {
            SSL_CTX_free(ctx_);
            ctx_ = nullptr;
        }
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        handshake_done_ = false;
        in_.clear();
        start_ = scan_from_ = last_ = 0;
    }

    bool is_open() const noexcept { return fd_ >= 0; }
    bool is_tls() const noexcept { return handshake_done_; }
    /// Why the last call failed: resolver text, strerror, OpenSSL or X509 verification reason.
    const std::string& error_text() const noexcept { return detail_; }
    /// "127.0.0.1 port 143", the address actually connected to.
    const std::string& peer() const noexcept { return peer_; }
    /// "127.0.0.2 port 40312", the local end.
    const std::string& local() const noexcept { return local_; }
    /// "IPv4" or "IPv6".
    std::string_view family() const noexcept { return family_; }
    const tls_details& tls() const noexcept { return tls_; }
    /// Changes the read/write timeout for later calls.
    void set_io_timeout(std::chrono::milliseconds t) noexcept { opts_.io_timeout = t; }

private:
    using clock = std::chrono::steady_clock;

    static std::error_code make(mailauth::errc e) noexcept { return mailauth::make_error_code(e); }

    std::error_code fail(mailauth::errc e, std::string text)
    {
        detail_ = std::move(text);
        return make(e);
    }

    std::error_code fail_errno(mailauth::errc e, const std::string& what, int err)
    {
        return fail(e, what + ": " + std::strerror(err));
    }

    static int poll_ms(clock::time_point deadline)
    {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) return 0;
        return left > 1000000 ? 1000000 : static_cast<int>(left);
    }

    std::string seconds_text(std::chrono::milliseconds t) const
    {
        const auto ms = t.count();
        return std::to_string(ms / 1000) + (ms % 1000 != 0 ? "." + std::to_string((ms % 1000) / 100) : "") + " s";
    }

    /// Waits for `events` on the socket until `deadline`; timeout and poll failures become errors.
    std::error_code wait(short events, clock::time_point deadline, const char* what)
    {
        for (;;) {
            pollfd p{fd_, events, 0};
            const int n = ::poll(&p, 1, poll_ms(deadline));
            if (n > 0) return {};
            if (n == 0)
                return fail(mailauth::errc::timeout,
                            std::string{what} + " " + peer_ + " timed out after " + seconds_text(opts_.io_timeout));
            if (errno != EINTR) return fail_errno(mailauth::errc::io_error, "poll", errno);
        }
    }

    std::error_code connect_one(const addrinfo* ai, const addrinfo* local, clock::time_point deadline)
    {
        const std::string where = detail::sockaddr_text(ai->ai_addr, ai->ai_addrlen);
        const addrinfo* bind_to = nullptr;
        for (const addrinfo* l = local; l != nullptr; l = l->ai_next)
            if (l->ai_family == ai->ai_family) {
                bind_to = l;
                break;
            }
        if (local != nullptr && bind_to == nullptr)
            return fail(mailauth::errc::connect_failed,
                        "bind address " + opts_.bind_address + " is not of the same family as " + where);

        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) return fail_errno(mailauth::errc::connect_failed, "socket", errno);
        auto give_up = [&](std::error_code ec) {
            ::close(fd);
            return ec;
        };
        if (bind_to != nullptr && ::bind(fd, bind_to->ai_addr, bind_to->ai_addrlen) != 0)
            return give_up(fail_errno(mailauth::errc::connect_failed, "cannot bind to " + opts_.bind_address, errno));
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS)
                return give_up(fail_errno(mailauth::errc::connect_failed, "connect to " + where, errno));
            for (;;) {
                pollfd p{fd, POLLOUT, 0};
                const int n = ::poll(&p, 1, poll_ms(deadline));
                if (n > 0) break;
                if (n == 0)
                    return give_up(fail(mailauth::errc::timeout, "connect to " + where + " timed out after " +
                                                                     seconds_text(opts_.connect_timeout)));
                if (errno != EINTR) return give_up(fail_errno(mailauth::errc::connect_failed, "poll", errno));
            }
            int err = 0;
            socklen_t len = sizeof err;
            if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err != 0) return give_up(fail_errno(mailauth::errc::connect_failed, "connect to " + where, err));
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
        peer_ = where;
        family_ = ai->ai_family == AF_INET6 ? "IPv6" : "IPv4";
        sockaddr_storage me{};
        socklen_t me_len = sizeof me;
        local_ = ::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &me_len) == 0
                     ? detail::sockaddr_text(reinterpret_cast<sockaddr*>(&me), me_len)
                     : std::string{};
        detail_.clear();
        return {};
    }

    /// TLS client handshake with SNI and verification of the chain and the host name or IP address.
    std::error_code handshake()
    {
        ERR_clear_error();
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (ctx_ == nullptr)
            return fail(mailauth::errc::tls_handshake_failed, "SSL_CTX_new: " + detail::openssl_error_text());
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        const std::string& name = opts_.tls_name.empty() ? opts_.host : opts_.tls_name;
        if (opts_.verify) {
            SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
            if (!opts_.ca_file.empty()) {
                if (SSL_CTX_load_verify_locations(ctx_, opts_.ca_file.c_str(), nullptr) != 1)
                    return fail(mailauth::errc::invalid_argument,
                                "cannot load CA file " + opts_.ca_file + ": " + detail::openssl_error_text());
            } else if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
                return fail(mailauth::errc::tls_handshake_failed,
                            "cannot load the system CA store: " + detail::openssl_error_text());
            }
        } else {
            SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
        }
        ssl_ = SSL_new(ctx_);
        if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1)
            return fail(mailauth::errc::tls_handshake_failed, "SSL_new: " + detail::openssl_error_text());
        const bool ip = detail::is_ip_literal(name);
        // RFC 6066 §3: SNI carries host names only, never IP literals.
        if (!ip && SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1)
            return fail(mailauth::errc::invalid_argument, "bad TLS server name '" + name + "'");
        if (opts_.verify) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
            if (ok != 1) return fail(mailauth::errc::invalid_argument, "cannot verify against name '" + name + "'");
        }

        const auto deadline = clock::now() + opts_.io_timeout;
        for (;;) {
            ERR_clear_error();
            errno = 0;
            int r = 0;
            {
                const detail::sigpipe_guard guard;
                r = SSL_connect(ssl_);
            }
            if (r == 1) break;
            const int err = SSL_get_error(ssl_, r);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                if (auto ec = wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "TLS handshake with"))
                    return ec;
                continue;
            }
            const long vr = SSL_get_verify_result(ssl_);
            if (opts_.verify && vr != X509_V_OK) {
                ERR_clear_error();
                return fail(mailauth::errc::tls_verification_failed,
                            std::string{"certificate verification failed for "} + (ip ? "IP address " : "host ") +
                                name + ": " + X509_verify_cert_error_string(vr));
            }
            std::string why = detail::openssl_error_text();
            if (why.empty())
                why = err == SSL_ERROR_SYSCALL && errno != 0 ? std::string{std::strerror(errno)}
                                                             : std::string{"the server closed the connection"};
            return fail(mailauth::errc::tls_handshake_failed, "TLS handshake with " + peer_ + " failed: " + why);
        }
        handshake_done_ = true;
        tls_ = {};
        tls_.version = SSL_get_version(ssl_);
        tls_.cipher = SSL_get_cipher_name(ssl_);
        tls_.verified = opts_.verify;
        tls_.verified_name = opts_.verify ? name : std::string{};
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
        X509* cert = SSL_get1_peer_certificate(ssl_);
#else
        X509* cert = SSL_get_peer_certificate(ssl_);
#endif
        if (cert != nullptr) {
            tls_.subject = detail::x509_name_text(X509_get_subject_name(cert));
            tls_.issuer = detail::x509_name_text(X509_get_issuer_name(cert));
            X509_free(cert);
        }
        return {};
    }

    void consume_last() noexcept
    {
        start_ += last_;
        last_ = 0;
        if (scan_from_ < start_) scan_from_ = start_;
        if (start_ == in_.size()) {
            in_.clear();
            start_ = scan_from_ = 0;
        }
    }

    /// Reads what is available (at least one byte) into in_, waiting up to the I/O timeout.
    std::error_code fill()
    {
        if (fd_ < 0) return fail(mailauth::errc::connection_closed, "not connected");
        if (start_ > 0) {
            in_.erase(0, start_);
            scan_from_ -= start_;
            start_ = 0;
        }
        const auto deadline = clock::now() + opts_.io_timeout;
        char buf[16 * 1024];
        for (;;) {
            if (ssl_ != nullptr) {
                ERR_clear_error();
                errno = 0;
                int n = 0;
                {
                    const detail::sigpipe_guard guard;
                    n = SSL_read(ssl_, buf, sizeof buf);
                }
                if (n > 0) {
                    in_.append(buf, static_cast<std::size_t>(n));
                    return {};
                }
                const int err = SSL_get_error(ssl_, n);
                if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                    if (auto ec = wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "reading from"))
                        return ec;
                    continue;
                }
                if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0))
                    return fail(mailauth::errc::connection_closed, "the server closed the connection");
                std::string why = detail::openssl_error_text();
                if (why.find("unexpected eof") != std::string::npos)
                    return fail(mailauth::errc::connection_closed,
                                "the server closed the connection (no TLS close_notify)");
                if (why.empty()) why = std::strerror(errno);
                return fail(mailauth::errc::io_error, "TLS read from " + peer_ + ": " + why);
            }
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                in_.append(buf, static_cast<std::size_t>(n));
                return {};
            }
            if (n == 0) return fail(mailauth::errc::connection_closed, "the server closed the connection");
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (auto ec = wait(POLLIN, deadline, "reading from")) return ec;
                continue;
            }
            if (errno == ECONNRESET) return fail_errno(mailauth::errc::connection_closed, "read from " + peer_, errno);
            return fail_errno(mailauth::errc::io_error, "read from " + peer_, errno);
        }
    }

    std::error_code write_all(std::string_view data)
    {
        const auto deadline = clock::now() + opts_.io_timeout;
        while (!data.empty()) {
            if (ssl_ != nullptr) {
                ERR_clear_error();
                constexpr std::size_t max_chunk = std::size_t{1} << 30;
                const int chunk = static_cast<int>(data.size() > max_chunk ? max_chunk : data.size());
                errno = 0;
                int n = 0;
                {
                    const detail::sigpipe_guard guard;
                    n = SSL_write(ssl_, data.data(), chunk);
                }
                if (n > 0) {
                    data.remove_prefix(static_cast<std::size_t>(n));
                    continue;
                }
                const int err = SSL_get_error(ssl_, n);
                if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                    if (auto ec = wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "writing to"))
                        return ec;
                    continue;
                }
                if (err == SSL_ERROR_SYSCALL && (errno == EPIPE || errno == ECONNRESET))
                    return fail_errno(mailauth::errc::connection_closed, "write to " + peer_, errno);
                if ((SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0) {
                    ERR_clear_error();
                    return fail(mailauth::errc::connection_closed, "the server closed the TLS connection");
                }
                std::string why = detail::openssl_error_text();
                if (why.empty()) why = std::strerror(errno);
                return fail(mailauth::errc::io_error, "TLS write to " + peer_ + ": " + why);
            }
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n >= 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (auto ec = wait(POLLOUT, deadline, "writing to")) return ec;
                continue;
            }
            if (errno == EPIPE || errno == ECONNRESET)
                return fail_errno(mailauth::errc::connection_closed, "write to " + peer_, errno);
            return fail_errno(mailauth::errc::io_error, "write to " + peer_, errno);
        }
        return {};
    }

    connect_options opts_;
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    bool handshake_done_ = false;
    std::string in_;            // received bytes; [start_, size) unread
    std::size_t start_ = 0;     // first unread byte
    std::size_t scan_from_ = 0; // where the search for LF resumes
    std::size_t last_ = 0;      // length (with CRLF) of the line last returned, consumed on the next call
    std::string out_;
    std::string detail_;
    std::string peer_;
    std::string local_;
    std::string_view family_;
    tls_details tls_;
};

} // namespace mailauth_examples
