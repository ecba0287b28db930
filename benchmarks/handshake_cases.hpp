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
    std::size_t written = 0; // bytes written by the last run, CRLF included

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

/// Size of the bearer token in every OAuth case (a typical Microsoft or Google access token is 1.5-2.5 KB).
inline constexpr std::size_t token_size = 2048;

/// The server's side of a successful login, as real servers send it.
inline std::vector<std::string> server_lines(protocol p, std::string_view mech)
{
    const bool login = mech == "LOGIN";
    const bool oauth = mech == "XOAUTH2" || mech == "OAUTHBEARER";
    switch (p) {
    case protocol::smtp: {
        std::vector<std::string> l{"220 mx.example.com ESMTP ready", "250-mx.example.com at your service",
                                   "250-SIZE 35882577", "250-8BITMIME",
                                   "250-AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER", "250-ENHANCEDSTATUSCODES",
                                   "250 SMTPUTF8"};
        if (login) l.insert(l.end(), {"334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"});
        else if (oauth) l.emplace_back("334 "); // a 2 KB token does not fit 512 octets (RFC 4954 §4)
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
        std::vector<std::string> l{"+OK Dovecot ready.", "+OK", "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING",
                                   "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER", "."};
        if (login) l.insert(l.end(), {"+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6"});
        else if (oauth) l.emplace_back("+ "); // XOAUTH2: two lines by default; a 2 KB OAUTHBEARER exceeds 255 octets
        else if (mech == mailauth::pop3_user_pass) l.emplace_back("+OK"); // the reply to USER
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
    if (mech == "XOAUTH2" || mech == "OAUTHBEARER") o.token.assign(std::string(token_size, 'T'));
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
        io.written = 0;
        machine.reset();
        return mailauth::authenticate(io, machine).authenticated;
    }
};

/// One benchmarked case: a protocol and a mechanism (or native login) name as the policy spells it.
struct combo {
    protocol proto;
    std::string_view mech;
};

/// Every SASL mechanism in every protocol, then the protocol-native password logins.
inline constexpr combo combos[] = {
    {protocol::smtp, "XOAUTH2"},   {protocol::smtp, "OAUTHBEARER"}, {protocol::smtp, "PLAIN"},
    {protocol::smtp, "LOGIN"},     {protocol::imap, "XOAUTH2"},     {protocol::imap, "OAUTHBEARER"},
    {protocol::imap, "PLAIN"},     {protocol::imap, "LOGIN"},       {protocol::imap, mailauth::imap_login_command},
    {protocol::pop3, "XOAUTH2"},   {protocol::pop3, "OAUTHBEARER"}, {protocol::pop3, "PLAIN"},
    {protocol::pop3, "LOGIN"},     {protocol::pop3, mailauth::pop3_user_pass},
};

/// Calls f.template operator()<Machine>() with the machine type of protocol p.
template <class F>
decltype(auto) with_machine(protocol p, F&& f)
{
    switch (p) {
    case protocol::smtp: return f.template operator()<mailauth::smtp::client>();
    case protocol::imap: return f.template operator()<mailauth::imap::client>();
    case protocol::pop3: break;
    }
    return f.template operator()<mailauth::pop3::client>();
}

} // namespace bench
