// How to test your own mail code offline: write it against the transport concept, then replay a server
// script with mailauth::testing::scripted_transport. This program is such a test; it exits non-zero on failure.
#include <mailauth/proto/smtp.hpp>
#include <mailauth/testing/scripted_transport.hpp>
#include <mailauth/transport.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace {

/// The code under test: log in with XOAUTH2, then send one message over the same connection.
template <mailauth::tls_transport Transport>
std::string send_report(Transport& io, std::string_view user, std::string_view token)
{
    mailauth::options opts;
    opts.user = user;
    opts.token.assign(token);
    opts.tls = mailauth::tls_mode::starttls;
    opts.ehlo_name = "reports.example";
    mailauth::smtp::client login{std::move(opts)};
    const auto& result = mailauth::authenticate(io, login);
    if (!result.authenticated) return std::string{"login failed: "} + std::string{mailauth::to_string(result.verdict)};

    std::string_view reply;
    auto command = [&](std::string_view line, char expect) {
        return !io.write_line(line) && !io.read_line(reply) && !reply.empty() && reply[0] == expect;
    };
    if (!command("MAIL FROM:<reports@example.com>", '2') || !command("RCPT TO:<boss@example.com>", '2') ||
        !command("DATA", '3'))
        return "envelope refused";
    io.write_line("Subject: daily report");
    io.write_line("");
    io.write_line("..all fine"); // dot-stuffed body line
    if (!command(".", '2')) return "message refused";
    command("QUIT", '2');
    return "sent";
}

int failures = 0;

void expect(bool ok, const char* what)
{
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += ok ? 0 : 1;
}

} // namespace

int main()
{
    using mailauth::testing::script;
    {
        mailauth::testing::scripted_transport server{script::parse(R"(S: 220 smtp.example.com ESMTP
C: EHLO reports.example
S: 250-smtp.example.com
S: 250 STARTTLS
C: STARTTLS
S: 220 2.0.0 Ready to start TLS
-- TLS --
C: EHLO reports.example
S: 250-smtp.example.com
S: 250 AUTH XOAUTH2
C: AUTH XOAUTH2 <base64>
S: 235 2.7.0 Accepted
C: MAIL FROM:<reports@example.com>
S: 250 2.1.0 OK
C: RCPT TO:<boss@example.com>
S: 250 2.1.5 OK
C: DATA
S: 354 Go ahead
C: Subject: daily report
C:
C: ..all fine
C: .
S: 250 2.0.0 queued
C: QUIT
S: 221 2.0.0 bye
)")};
        expect(send_report(server, "reports@example.com", "token-1") == "sent", "report sent after STARTTLS + XOAUTH2");
        expect(server.done() && server.mismatch().empty(), "every scripted line was exchanged");
        expect(server.tls(), "TLS was started before the token went out");
    }
    {
        mailauth::testing::scripted_transport server{script::parse(R"(S: 220 smtp.example.com ESMTP
C: EHLO reports.example
S: 250 smtp.example.com
)")};
        expect(send_report(server, "reports@example.com", "token-1") == "login failed: tls_required",
               "no STARTTLS offered: the token is never sent");
    }
    std::printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
