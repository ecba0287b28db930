// Benchmark support: one authentication per protocol x mechanism over an in-memory transport.
#pragma once

#include <mailauth/proto/imap.hpp>
#include <mailauth/proto/pop3.hpp>
#include <mailauth/proto/smtp.hpp>
#include <mailauth/transport.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bench {

/// Replays fixed server lines; counts what the client writes. No allocation per line.
struct memory_transport {
    const std::vector<std::string>* lines = nullptr;
    std::size_t next = 0;
    std::size_t written = 0;

    std::error_code write_line(std::string_view line)
    {
        written += line.size() + 2;
        return {};
    }
    std::error_code read_line(std::string_view& out)
    {
        if (next >= lines->size()) return make_error_code(mailauth::errc::connection_closed);
        out = (*lines)[next++];
        return {};
    }
    std::error_code start_tls() { return {}; }
};

enum class protocol { smtp, imap, pop3 };

inline const char* name_of(protocol p) { return p == protocol::smtp ? "smtp" : p == protocol::imap ? "imap" : "pop3"; }

/// The server's side of a successful login, as real servers send it.
inline std::vector<std::string> server_lines(protocol p, std::string_view mech)
{
    const bool login = mech == "LOGIN";
    switch (p) {
    case protocol::smtp: {
        std::vector<std::string> l{"220 mx.example.com ESMTP ready", "250-mx.example.com at your service",
                                   "250-SIZE 35882577", "250-8BITMIME",
                                   "250-AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER", "250-ENHANCEDSTATUSCODES",
                                   "250 SMTPUTF8"};
        if (login) l.insert(l.end(), {"334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"});
        else if (mech != "PLAIN") l.emplace_back("334 "); // a 2 KB token does not fit 512 octets
        l.emplace_back("235 2.7.0 Accepted");
        return l;
    }
    case protocol::imap: {
        std::vector<std::string> l{"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                                   "AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] Dovecot ready."};
        if (login) l.insert(l.end(), {"+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6"});
        l.emplace_back("A1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE SORT THREAD=REFS MOVE] Logged in");
        return l;
    }
    case protocol::pop3: {
        std::vector<std::string> l{"+OK Dovecot ready.", "+OK", "CAPA", "TOP", "UIDL", "RESP-CODES",
                                   "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER", "."};
        if (login) l.insert(l.end(), {"+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6"});
        else if (mech == "XOAUTH2") l.emplace_back("+ "); // two-line form by default
        l.emplace_back("+OK Logged in.");
        return l;
    }
    }
    return {};
}

inline mailauth::options options_for(std::string_view mech)
{
    mailauth::options o;
    o.user = "someone@example.com";
    if (mech == "XOAUTH2" || mech == "OAUTHBEARER") o.token.assign(std::string(2048, 'T'));
    else o.password.assign("correct horse battery staple");
    o.policy.mechanisms = {std::string{mech}};
    o.tls = mailauth::tls_mode::implicit;
    o.ehlo_name = "client.example.com";
    return o;
}

/// One machine and its transport, reused run after run.
template <class Machine>
struct handshake {
    std::vector<std::string> lines;
    Machine machine;
    memory_transport io;

    handshake(protocol p, std::string_view mech) : lines(server_lines(p, mech)), machine(options_for(mech))
    {
        io.lines = &lines;
    }
    /// Runs one whole authentication; true when it succeeded.
    bool run()
    {
        io.next = 0;
        machine.reset();
        return mailauth::authenticate(io, machine).authenticated;
    }
};

inline constexpr std::string_view mechanisms[] = {"XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN"};

} // namespace bench
