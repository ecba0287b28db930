// mailauth-asio-example: the same sans-I/O machines driven asynchronously by standalone Asio and C++20
// coroutines — async connect, async line reads and writes, STARTTLS or implicit TLS with asio::ssl,
// a deadline per operation — then LOGOUT / QUIT on the same connection.
//
//   MAILAUTH_TOKEN=<access token> mailauth-asio-example imap|pop3|smtp HOST PORT USER [plain|starttls|implicit]
//   [CA_FILE]
//
// "plain" means no TLS at all (loopback tests only). Exit status: 0 authenticated, 1 not, 2 usage.
#include <mailauth/mailauth.hpp>

// Asio 1.22 looks for the Coroutines TS on clang; clang 14 with -std=c++20 has standard coroutines.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(ASIO_HAS_CO_AWAIT)
#define ASIO_HAS_CO_AWAIT 1
#endif

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace {

using asio::awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// A line stream over TCP with an optional in-place TLS upgrade; every operation has a deadline.
class async_line_stream {
public:
    async_line_stream(const asio::any_io_executor& ex, asio::ssl::context& tls)
        : socket_(ex), deadline_(ex), tls_context_(tls)
    {}

    /// Resolves and connects, trying every address in turn.
    awaitable<std::error_code> connect(const std::string& host, const std::string& port, std::string& why)
    {
        host_ = host;
        tcp::resolver resolver{socket_.get_executor()};
        asio::error_code ec;
        const auto endpoints =
            co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            why = "cannot resolve " + host + ": " + ec.message();
            co_return mailauth::make_error_code(mailauth::errc::name_resolution_failed);
        }
        arm();
        co_await asio::async_connect(socket_, endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            why = "connect to " + host + " port " + port + ": " + ec.message();
            co_return mailauth::make_error_code(expired() ? mailauth::errc::timeout : mailauth::errc::connect_failed);
        }
        socket_.set_option(tcp::no_delay(true));
        co_return std::error_code{};
    }

    /// Writes the line and CRLF; a secret line is wiped from the buffer afterwards.
    awaitable<std::error_code> write_line(std::string_view line, bool secret)
    {
        out_.assign(line).append("\r\n");
        asio::error_code ec;
        arm();
        if (tls_)
            co_await asio::async_write(*tls_, asio::buffer(out_), asio::redirect_error(asio::use_awaitable, ec));
        else
            co_await asio::async_write(socket_, asio::buffer(out_), asio::redirect_error(asio::use_awaitable, ec));
        if (secret) mailauth::detail::secure_wipe(out_.data(), out_.size());
        out_.clear();
        co_return map(ec);
    }

    /// Reads one line without CRLF into `line` (valid until the next call); lines are bounded.
    awaitable<std::error_code> read_line(std::string_view& line)
    {
        in_.erase(0, consumed_);
        consumed_ = 0;
        asio::error_code ec;
        auto buffer = asio::dynamic_buffer(in_, max_line);
        arm();
        std::size_t n = 0;
        if (tls_)
            n = co_await asio::async_read_until(*tls_, buffer, '\n', asio::redirect_error(asio::use_awaitable, ec));
        else
            n = co_await asio::async_read_until(socket_, buffer, '\n', asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return map(ec);
        consumed_ = n;
        line = std::string_view{in_}.substr(0, n - 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        co_return std::error_code{};
    }

    /// Upgrades to TLS with SNI and host-name verification; refuses plaintext pipelined after the reply.
    awaitable<std::error_code> start_tls()
    {
        in_.erase(0, consumed_);
        consumed_ = 0;
        if (!in_.empty()) co_return mailauth::make_error_code(mailauth::errc::pipelined_after_starttls);
        co_return co_await handshake();
    }

    awaitable<std::error_code> handshake()
    {
        tls_.emplace(socket_, tls_context_);
        asio::error_code ec;
        asio::ip::make_address(host_, ec);
        const bool ip = !ec;
        ec.clear();
        if (!ip) SSL_set_tlsext_host_name(tls_->native_handle(), host_.c_str()); // RFC 6066 §3: names only
        tls_->set_verify_mode(asio::ssl::verify_peer);
        tls_->set_verify_callback(asio::ssl::host_name_verification(host_));
        arm();
        co_await tls_->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            tls_error_ = ec.message();
            const long v = SSL_get_verify_result(tls_->native_handle());
            co_return mailauth::make_error_code(v != X509_V_OK ? mailauth::errc::tls_verification_failed
                                                               : mailauth::errc::tls_handshake_failed);
        }
        co_return std::error_code{};
    }

    bool is_tls() const noexcept { return tls_.has_value(); }
    const std::string& tls_error() const noexcept { return tls_error_; }

    void close()
    {
        asio::error_code ignored;
        deadline_.cancel();
        socket_.close(ignored);
    }

    async_line_stream(const async_line_stream&) = delete;
    async_line_stream& operator=(const async_line_stream&) = delete;
    ~async_line_stream() { *alive_ = false; }

private:
    static constexpr std::size_t max_line = 64 * 1024;
    static constexpr auto io_timeout = 30s;

    /// Starts the current operation's deadline: when it passes, the socket is closed and the operation fails.
    void arm()
    {
        deadline_.expires_after(io_timeout); // cancels the previous wait
        deadline_.async_wait([this, alive = alive_](const asio::error_code& ec) {
            if (ec || !*alive) return; // re-armed, cancelled, or the stream is gone: do not touch it
            asio::error_code ignored;
            socket_.close(ignored);
        });
    }
    bool expired() const { return deadline_.expiry() <= asio::steady_timer::clock_type::now(); }

    std::error_code map(const asio::error_code& ec) const
    {
        using mailauth::errc;
        if (!ec) return {};
        if (expired() || ec == asio::error::operation_aborted) return mailauth::make_error_code(errc::timeout);
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset)
            return mailauth::make_error_code(errc::connection_closed);
        if (ec == asio::error::not_found) return mailauth::make_error_code(errc::reply_line_too_long);
        return mailauth::make_error_code(errc::io_error);
    }

    tcp::socket socket_;
    asio::steady_timer deadline_;
    asio::ssl::context& tls_context_;
    std::optional<asio::ssl::stream<tcp::socket&>> tls_;
    std::string host_;
    std::string in_;
    std::size_t consumed_ = 0;
    std::string out_;
    std::string tls_error_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// DESIGN.md's loop with co_await: the machine decides, the stream does the I/O.
template <class Machine>
awaitable<void> authenticate_async(async_line_stream& io, Machine& m)
{
    for (;;) {
        const mailauth::action a = m.next();
        if (const auto* s = std::get_if<mailauth::send>(&a)) {
            if (auto ec = co_await io.write_line(s->line, s->secret)) m.connection_lost(ec);
        } else if (std::holds_alternative<mailauth::receive>(a)) {
            std::string_view line;
            if (auto ec = co_await io.read_line(line))
                m.connection_lost(ec);
            else
                m.feed(line);
        } else if (std::holds_alternative<mailauth::start_tls>(a)) {
            if (auto ec = co_await io.start_tls())
                m.connection_lost(ec);
            else
                m.tls_started();
        } else {
            co_return;
        }
    }
}

/// Sends LOGOUT / QUIT and prints the exchange; the session must still be usable after our login.
awaitable<void> end_session(async_line_stream& io, std::string_view protocol, std::string_view tag)
{
    const std::string command = protocol == "imap" ? std::string{tag} + " LOGOUT" : std::string{"QUIT"};
    std::printf("C: %s\n", command.c_str());
    if (co_await io.write_line(command, false)) co_return;
    for (int i = 0; i < 20; ++i) {
        std::string_view line;
        if (auto ec = co_await io.read_line(line)) {
            std::printf("   (%s)\n", ec.message().c_str());
            co_return;
        }
        std::printf("S: %.*s\n", static_cast<int>(line.size()), line.data());
        const bool last = protocol == "imap"   ? line.substr(0, tag.size() + 1) == std::string{tag} + " "
                          : protocol == "smtp" ? line.size() < 4 || line[3] != '-'
                                               : true;
        if (last) co_return;
    }
}

struct settings {
    std::string protocol, host, port, user, tls = "starttls", ca_file;
    mailauth::secret token;
};

void print_outcome(const mailauth::outcome& o)
{
    for (auto line : o.transcript)
        std::printf("%c: %.*s\n", line.direction == mailauth::direction::client ? 'C' : 'S',
                    static_cast<int>(line.text.size()), line.text.data());
    std::printf("=> %s", std::string{mailauth::to_string(o.verdict)}.c_str());
    if (!o.mechanism.empty()) std::printf(" via %s%s", o.mechanism.c_str(), o.tls ? " over TLS" : "");
    std::printf("; %u round trip(s) for authentication, %u in all\n", o.round_trips, o.total_round_trips);
    if (!o.reply.empty()) std::printf("   final reply: %s %s\n", o.reply.status.c_str(), o.reply.text.c_str());
    if (o.has_oauth_error)
        std::printf("   OAuth error: status=%s schemes=%s scope=%s\n", o.oauth_error.status.c_str(),
                    o.oauth_error.schemes.c_str(), o.oauth_error.scope.c_str());
    if (o.error) std::printf("   error: %s\n", o.error.message().c_str());
    if (!o.hint.empty()) std::printf("   hint: %s\n", o.hint.c_str());
}

template <class Machine>
awaitable<int> login(async_line_stream& io, settings& s)
{
    mailauth::options o;
    o.user = s.user;
    o.token = std::move(s.token);
    o.tls = s.tls == "implicit" ? mailauth::tls_mode::implicit
            : s.tls == "plain"  ? mailauth::tls_mode::none
                                : mailauth::tls_mode::starttls;
    o.policy.allow_plaintext = s.tls == "plain";
    o.host = s.host;
    o.port = static_cast<std::uint16_t>(std::strtoul(s.port.c_str(), nullptr, 10));
    Machine machine{std::move(o)};
    co_await authenticate_async(io, machine);
    const auto& out = machine.outcome();
    print_outcome(out);
    if (out.verdict != mailauth::verdict::transport_error && out.verdict != mailauth::verdict::protocol_error) {
        std::string tag = "Z1";
        if constexpr (std::is_same_v<Machine, mailauth::imap::client>)
            tag = "A" + std::to_string(std::strtoul(std::string{machine.tag().substr(1)}.c_str(), nullptr, 10) + 1);
        co_await end_session(io, s.protocol, tag);
    }
    co_return out.authenticated ? 0 : 1;
}

awaitable<int> run(settings s, asio::ssl::context& tls)
{
    async_line_stream io{co_await asio::this_coro::executor, tls};
    std::string why;
    if (auto ec = co_await io.connect(s.host, s.port, why)) {
        std::printf("=> transport_error: %s (%s)\n", ec.message().c_str(), why.c_str());
        co_return 1;
    }
    if (s.tls == "implicit") {
        if (auto ec = co_await io.handshake()) {
            std::printf("=> transport_error: %s (%s)\n", ec.message().c_str(), io.tls_error().c_str());
            co_return 1;
        }
    }
    int rc = 1;
    if (s.protocol == "imap")
        rc = co_await login<mailauth::imap::client>(io, s);
    else if (s.protocol == "pop3")
        rc = co_await login<mailauth::pop3::client>(io, s);
    else
        rc = co_await login<mailauth::smtp::client>(io, s);
    io.close();
    co_return rc;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: MAILAUTH_TOKEN=... %s imap|pop3|smtp HOST PORT USER [plain|starttls|implicit] [CA_FILE]\n",
                     argv[0]);
        return 2;
    }
    settings s;
    s.protocol = argv[1];
    s.host = argv[2];
    s.port = argv[3];
    s.user = argv[4];
    if (argc > 5) s.tls = argv[5];
    if (argc > 6) s.ca_file = argv[6];
    const char* token = std::getenv("MAILAUTH_TOKEN");
    if ((s.protocol != "imap" && s.protocol != "pop3" && s.protocol != "smtp") ||
        (s.tls != "plain" && s.tls != "starttls" && s.tls != "implicit") || token == nullptr || *token == '\0') {
        std::fprintf(stderr, "%s: bad arguments, or MAILAUTH_TOKEN not set\n", argv[0]);
        return 2;
    }
    s.token.assign(token);

    asio::ssl::context tls{asio::ssl::context::tls_client};
    asio::error_code ec;
    if (!s.ca_file.empty())
        tls.load_verify_file(s.ca_file, ec);
    else
        tls.set_default_verify_paths(ec);
    if (ec) {
        std::fprintf(stderr, "cannot load CA certificates: %s\n", ec.message().c_str());
        return 2;
    }

    asio::io_context context;
    int result = 1;
    asio::co_spawn(context, run(std::move(s), tls), [&](std::exception_ptr e, int rc) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "error: %s\n", x.what());
            }
            rc = 1;
        }
        result = rc;
    });
    context.run();
    return result;
}
