// mailauth examples: the loopback redirect listener of a native app's authorization code flow (RFC 8252
// §7.3): 127.0.0.1 on a port the kernel picks, one small HTTP/1.x GET at a time, a short HTML answer.
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/secret.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mailauth_examples::token {

/// One request that reached the listener; the connection stays open for respond().
struct redirect_request {
    int fd = -1;
    std::string method;
    mailauth::secret target; ///< "/callback?code=...&state=...": holds the authorization code

    redirect_request() = default;
    redirect_request(const redirect_request&) = delete;
    redirect_request& operator=(const redirect_request&) = delete;
    redirect_request(redirect_request&& o) noexcept : fd(std::exchange(o.fd, -1)), method(std::move(o.method)), target(std::move(o.target)) {}
    redirect_request& operator=(redirect_request&& o) noexcept
    {
        if (this != &o) {
            close();
            fd = std::exchange(o.fd, -1);
            method = std::move(o.method);
            target = std::move(o.target);
        }
        return *this;
    }
    ~redirect_request() { close(); }

    /// The path of the target, without the query.
    std::string_view path() const noexcept
    {
        const std::string_view t = target.reveal();
        return t.substr(0, t.find('?'));
    }

    void close() noexcept
    {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

/// Listens on 127.0.0.1 for the browser's redirect back to the app.
class loopback_listener {
public:
    loopback_listener() = default;
    loopback_listener(const loopback_listener&) = delete;
    loopback_listener& operator=(const loopback_listener&) = delete;
    ~loopback_listener()
    {
        if (fd_ >= 0) ::close(fd_);
    }

    /// Binds 127.0.0.1:`port` (0: any free port) and listens.
    std::error_code open(std::uint16_t port)
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return errno_code();
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return errno_code();
        if (::listen(fd_, 16) != 0) return errno_code();
        socklen_t len = sizeof a;
        if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return errno_code();
        port_ = ntohs(a.sin_port);
        return {};
    }

    std::uint16_t port() const noexcept { return port_; }

    /// Waits until `deadline` for a connection and reads its request line (headers are read and dropped).
    /// errc::timeout when nobody came in time; a malformed request is answered 400 here and skipped.
    std::error_code next(std::chrono::steady_clock::time_point deadline, redirect_request& out)
    {
        for (;;) {
            out = {};
            const int wait = remaining_ms(deadline);
            if (wait <= 0) return make_error_code(mailauth::errc::timeout);
            pollfd p{fd_, POLLIN, 0};
            const int n = ::poll(&p, 1, wait);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_code();
            if (n == 0) return make_error_code(mailauth::errc::timeout);
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) continue;
                return errno_code();
            }
            out.fd = c;
            if (read_request(out)) return {};
            respond(out, 400, "Bad request", "<p>Malformed request.</p>");
        }
    }

    /// Answers with a small HTML page and closes the connection.
    static void respond(redirect_request& r, int status, std::string_view reason, std::string_view body_html)
    {
        if (r.fd < 0) return;
        std::string body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mailauth-token</title></head><body>";
        body.append(body_html);
        body += "</body></html>\n";
        std::string msg = "HTTP/1.1 " + std::to_string(status) + " ";
        msg.append(reason);
        msg += "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
               "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        msg += body;
        std::string_view rest = msg;
        while (!rest.empty()) {
            const ssize_t n = ::send(r.fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        ::shutdown(r.fd, SHUT_WR);
        r.close();
    }

private:
    static int remaining_ms(std::chrono::steady_clock::time_point deadline)
    {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        return left <= 0 ? 0 : left > 60000 ? 60000 : static_cast<int>(left);
    }

    static std::error_code errno_code() { return {errno, std::generic_category()}; }

    /// Reads up to the end of the header block (8 KiB, 10 s at most); false for anything but a request line.
    static bool read_request(redirect_request& r)
    {
        constexpr std::size_t limit = 8192;
        char buf[limit];
        std::size_t got = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
        bool ok = false;
        while (got < limit) {
            const int wait = remaining_ms(deadline);
            if (wait <= 0) break;
            pollfd p{r.fd, POLLIN, 0};
            const int n = ::poll(&p, 1, wait);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            const ssize_t k = ::recv(r.fd, buf + got, limit - got, 0);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            got += static_cast<std::size_t>(k);
            const std::string_view seen{buf, got};
            if (seen.find("\r\n\r\n") != std::string_view::npos || seen.find("\n\n") != std::string_view::npos) {
                ok = true;
                break;
            }
        }
        if (ok) {
            const std::string_view all{buf, got};
            const std::string_view line = all.substr(0, all.find_first_of("\r\n"));
            const auto sp1 = line.find(' ');
            const auto sp2 = line.rfind(' ');
            ok = sp1 != std::string_view::npos && sp2 > sp1 && line.substr(sp2 + 1, 5) == "HTTP/" && sp1 > 0;
            if (ok) {
                r.method.assign(line.substr(0, sp1));
                r.target.assign(line.substr(sp1 + 1, sp2 - sp1 - 1));
                ok = !r.target.empty() && r.target.reveal().front() == '/';
            }
        }
        mailauth::detail::secure_wipe(buf, got);
        return ok;
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
};

} // namespace mailauth_examples::token
