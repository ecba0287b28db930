// Integration tests against a real Dovecot 2.3 (IMAP, POP3, submission) started by harness/dovecot.py:
// every case runs through the library API (examples/net/tls_socket.hpp) and through the mailauth-probe binary.
// Run under: harness/dovecot.py run --dir DIR [--variant tlsonly] -- mailauth_integration_tests "[tag]"
#include "catch_compat.hpp"
#include "net/session.hpp"
#include "net/tls_socket.hpp"
#include "support.hpp"

#include <mailauth/base64.hpp>
#include <mailauth/mailauth.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <functional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace {

const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN); // a peer that hangs up is an error code, not a signal
    return true;
}();

using mailauth::verdict;
using mailauth_examples::mail_protocol;

constexpr std::string_view alice = "alice@example.test";
constexpr std::string_view bob = "bob@example.test";
constexpr std::string_view carol = "carol@example.test"; // her mailbox is elsewhere: a login referral
constexpr std::string_view bad_password = "wrong-password-7c1e";

enum class tls_kind { plaintext, starttls, implicit };
enum class cred { valid, expired, bad_signature, other_user, wrong_password };

/// Checks like CHECK, and clears `ok` when the check fails (for the per-case pass counts).
#define ITEST_CHECK(ok, ...)                                                                                           \
    do {                                                                                                               \
        const bool itest_value_ = static_cast<bool>(__VA_ARGS__);                                                      \
        if (!itest_value_) (ok) = false;                                                                               \
        CHECK(__VA_ARGS__);                                                                                            \
    } while (0)

// ---- the harness and the programs -------------------------------------------------------------------

const itest::dovecot_state& harness()
{
    static std::string why;
    static const std::optional<itest::dovecot_state> state = itest::dovecot_state::load(why);
    if (!state) FAIL(why);
    return *state;
}

std::string probe_path()
{
    const char* p = std::getenv("MAILAUTH_PROBE");
    return p == nullptr ? std::string{} : std::string{p};
}

std::string_view name(mail_protocol p)
{
    switch (p) {
    case mail_protocol::imap: return "imap";
    case mail_protocol::pop3: return "pop3";
    case mail_protocol::smtp: return "smtp";
    }
    return "";
}
std::string_view name(tls_kind t)
{
    switch (t) {
    case tls_kind::plaintext: return "plaintext";
    case tls_kind::starttls: return "starttls";
    case tls_kind::implicit: return "implicit";
    }
    return "";
}
std::string_view name(cred c)
{
    switch (c) {
    case cred::valid: return "valid";
    case cred::expired: return "expired";
    case cred::bad_signature: return "bad_signature";
    case cred::other_user: return "other_user";
    case cred::wrong_password: return "wrong_password";
    }
    return "";
}

/// The harness's service name for a protocol and TLS kind.
std::string service(mail_protocol p, tls_kind t)
{
    const bool implicit = t == tls_kind::implicit;
    switch (p) {
    case mail_protocol::imap: return implicit ? "imaps" : "imap";
    case mail_protocol::pop3: return implicit ? "pop3s" : "pop3";
    case mail_protocol::smtp: return implicit ? "submissions" : "submission";
    }
    return "";
}

std::string url(mail_protocol p, tls_kind t, const std::string& host, std::uint16_t port)
{
    std::string scheme{name(p)};
    if (t == tls_kind::implicit) scheme += 's';
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_oauth(std::string_view mech)
{
    return mech == "XOAUTH2" || mech == "OAUTHBEARER";
}

// ---- one matrix case --------------------------------------------------------------------------------

struct case_def {
    mail_protocol proto;
    tls_kind tls;
    std::string mech;
    cred credential;
    std::size_t index = 0;

    std::string label() const
    {
        return std::string{name(proto)} + "/" + std::string{name(tls)} + "/" + mech + "/" +
               std::string{name(credential)};
    }
    bool oauth() const { return is_oauth(mech); }
    verdict expected() const
    {
        if (credential == cred::valid) return verdict::authenticated;
        return oauth() ? verdict::token_rejected : verdict::credentials_rejected;
    }
    int expected_exit() const { return credential == cred::valid ? 0 : 1; }
};

/// The secret a case logs in with (token or password).
std::string secret_for(const case_def& c, const itest::dovecot_state& s)
{
    const std::string a{alice}, b{bob};
    if (c.oauth()) {
        switch (c.credential) {
        case cred::valid: return s.tokens.at(a).at("valid");
        case cred::expired: return s.tokens.at(a).at("expired");
        case cred::bad_signature: return s.tokens.at(a).at("bad_signature");
        case cred::other_user: return s.tokens.at(b).at("valid");
        case cred::wrong_password: break;
        }
        return {};
    }
    switch (c.credential) {
    case cred::valid: return s.passwords.at(a);
    case cred::other_user: return s.passwords.at(b);
    default: return std::string{bad_password};
    }
}

std::vector<case_def> matrix(mail_protocol p)
{
    std::vector<case_def> cases;
    std::vector<std::string> mechs{"XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN"};
    if (p == mail_protocol::imap) mechs.emplace_back(mailauth::imap_login_command);
    if (p == mail_protocol::pop3) mechs.emplace_back(mailauth::pop3_user_pass);
    for (auto t : {tls_kind::plaintext, tls_kind::starttls, tls_kind::implicit})
        for (const auto& m : mechs) {
            const auto creds =
                is_oauth(m) ? std::vector<cred>{cred::valid, cred::expired, cred::bad_signature, cred::other_user}
                            : std::vector<cred>{cred::valid, cred::wrong_password, cred::other_user};
            for (auto c : creds) cases.push_back({p, t, m, c, cases.size()});
        }
    return cases;
}

// ---- the library path ---------------------------------------------------------------------------------

struct library_result {
    std::error_code connect_error;
    std::string connect_detail;
    mailauth::outcome outcome;
    std::string transport_detail;
    bool socket_tls = false;
    std::string local;
    bool session_run = false;
    mailauth_examples::command_result session;
    std::vector<std::string> after_login; // free-form results of the after-login step
    double seconds = 0;
};

using after_login_fn = std::function<void(mailauth_examples::tls_socket&, library_result&)>;

template <class Machine>
void drive(mailauth_examples::tls_socket& socket, mailauth::options o, mail_protocol p, library_result& r,
           const after_login_fn& after)
{
    Machine machine{std::move(o)};
    const auto& out = mailauth::authenticate(socket, machine);
    r.outcome = out;
    r.transport_detail = socket.error_text();
    r.socket_tls = socket.is_tls();
    if (out.verdict == verdict::transport_error || out.verdict == verdict::protocol_error) return;
    if (out.authenticated && after) after(socket, r);
    std::string tag = "Z1";
    if constexpr (std::is_same_v<Machine, mailauth::imap::client>)
        tag = mailauth_examples::next_imap_tag(machine.tag());
    r.session = mailauth_examples::close_session(socket, p, tag);
    r.session_run = true;
}

/// Connects and runs one login through the library, then LOGOUT/QUIT on the same connection.
library_result run_library(mail_protocol p, const mailauth_examples::connect_options& co, mailauth::options o,
                           const after_login_fn& after = {})
{
    library_result r;
    const auto t0 = std::chrono::steady_clock::now();
    mailauth_examples::tls_socket socket;
    r.connect_error = socket.connect(co);
    r.connect_detail = socket.error_text();
    r.local = socket.local();
    if (!r.connect_error) {
        switch (p) {
        case mail_protocol::imap: drive<mailauth::imap::client>(socket, std::move(o), p, r, after); break;
        case mail_protocol::pop3: drive<mailauth::pop3::client>(socket, std::move(o), p, r, after); break;
        case mail_protocol::smtp: drive<mailauth::smtp::client>(socket, std::move(o), p, r, after); break;
        }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

mailauth_examples::connect_options connect_to(const itest::dovecot_state& s, mail_protocol p, tls_kind t)
{
    mailauth_examples::connect_options co;
    co.host = s.host;
    co.port = s.port(service(p, t));
    co.implicit_tls = t == tls_kind::implicit;
    co.ca_file = s.ca_file;
    co.connect_timeout = std::chrono::seconds{10};
    co.io_timeout = std::chrono::seconds{10};
    return co;
}

mailauth::options login_options(std::string_view mech, std::string_view user, const std::string& secret, tls_kind t,
                                const itest::dovecot_state& s, std::uint16_t port)
{
    mailauth::options o;
    o.user = user;
    if (is_oauth(mech))
        o.token.assign(secret);
    else
        o.password.assign(secret);
    o.policy.mechanisms = {std::string{mech}};
    o.policy.allow_plaintext = t == tls_kind::plaintext;
    o.tls = t == tls_kind::implicit   ? mailauth::tls_mode::implicit
            : t == tls_kind::starttls ? mailauth::tls_mode::starttls
                                      : mailauth::tls_mode::none;
    o.host = s.host;
    o.port = port;
    o.ehlo_name = "client.example.test";
    return o;
}

library_result run_library_case(const case_def& c, const itest::dovecot_state& s)
{
    const auto co = connect_to(s, c.proto, c.tls);
    return run_library(c.proto, co, login_options(c.mech, alice, secret_for(c, s), c.tls, s, co.port));
}

// ---- the probe path ---------------------------------------------------------------------------------

struct probe_result {
    bool ran = false;
    bool json_mode = false;
    itest::program_result run;
    itest::json_doc json;
};

std::string secrets_dir(const itest::dovecot_state& s)
{
    const std::string d = s.dir + "/probe-secrets";
    ::mkdir(d.c_str(), 0700);
    return d;
}

/// Runs mailauth-probe with `args` (URL first); the secret goes in a file or the environment, never argv.
probe_result run_probe(std::vector<std::string> args, bool json_mode,
                       const std::vector<std::pair<std::string, std::string>>& env = {},
                       std::string_view stdin_data = {})
{
    probe_result r;
    const auto path = probe_path();
    if (path.empty()) return r;
    args.insert(args.begin(), path);
    if (json_mode) args.emplace_back("--json");
    r.run = itest::run_example(args, env, std::chrono::seconds{60}, stdin_data);
    r.ran = true;
    r.json_mode = json_mode;
    if (json_mode) r.json.parse(r.run.out);
    return r;
}

probe_result run_probe_case(const case_def& c, const itest::dovecot_state& s)
{
    const auto port = s.port(service(c.proto, c.tls));
    std::vector<std::string> args{url(c.proto, c.tls, s.host, port),
                                  "--user",
                                  std::string{alice},
                                  "--mech",
                                  c.mech,
                                  "--ca-file",
                                  s.ca_file,
                                  "--timeout",
                                  "10",
                                  "--transcript"};
    if (c.tls == tls_kind::plaintext) args.emplace_back("--allow-plaintext");
    if (c.tls == tls_kind::starttls) args.emplace_back("--starttls");
    if (c.proto == mail_protocol::smtp) args.insert(args.end(), {"--ehlo", "client.example.test"});
    std::vector<std::pair<std::string, std::string>> env;
    const auto secret = secret_for(c, s);
    if (c.mech == "OAUTHBEARER") {
        env.emplace_back("MAILAUTH_TEST_TOKEN", secret);
        args.insert(args.end(), {"--token-env", "MAILAUTH_TEST_TOKEN"});
    } else {
        const auto file = secrets_dir(s) + "/case-" + std::string{name(c.proto)} + "-" + std::to_string(c.index);
        itest::write_file(file, secret + "\n");
        args.insert(args.end(), {c.oauth() ? "--token-file" : "--password-file", file});
    }
    return run_probe(std::move(args), c.index % 2 == 0, env);
}

// ---- checks -----------------------------------------------------------------------------------------

/// Index of the first client line of the transcript for which pred(text) holds, or npos.
std::size_t find_client(const mailauth::transcript& t, const std::function<bool(std::string_view)>& pred,
                        std::size_t from = 0)
{
    for (std::size_t i = from; i < t.size(); ++i)
        if (t[i].direction == mailauth::direction::client && pred(t[i].text)) return i;
    return std::string_view::npos;
}

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool contains(std::string_view s, std::string_view part)
{
    return s.find(part) != std::string_view::npos;
}

/// Every string that must never appear in any output of a case.
std::vector<std::string> forbidden_strings(std::string_view secret, std::string_view mech, std::string_view user)
{
    std::vector<std::string> f{std::string{secret}};
    if (mech == "XOAUTH2") {
        std::string raw = "user=";
        raw.append(user)
            .append("\x01"
                    "auth=Bearer ")
            .append(secret)
            .append("\x01\x01");
        f.push_back(mailauth::base64::encode(raw));
    }
    return f;
}

bool leaks(std::string_view text, const std::vector<std::string>& forbidden)
{
    for (const auto& f : forbidden)
        if (!f.empty() && contains(text, f)) return true;
    return false;
}

/// STARTTLS (or STLS) was sent and the capabilities were asked again after it.
bool starttls_then_reread(mail_protocol p, const mailauth::transcript& t)
{
    const auto tls = find_client(t, [&](std::string_view l) {
        return p == mail_protocol::pop3   ? l == "STLS"
               : p == mail_protocol::smtp ? l == "STARTTLS"
                                          : ends_with(l, " STARTTLS");
    });
    if (tls == std::string_view::npos) return false;
    const auto again = find_client(
        t,
        [&](std::string_view l) {
            return p == mail_protocol::pop3   ? l == "CAPA"
                   : p == mail_protocol::smtp ? l.substr(0, 5) == "EHLO "
                                              : ends_with(l, " CAPABILITY");
        },
        tls + 1);
    return again != std::string_view::npos;
}

bool session_ok(mail_protocol p, const library_result& r)
{
    if (!r.session_run || r.session.error || !r.session.ok) return false;
    switch (p) {
    case mail_protocol::imap: return contains(r.session.reply, " OK Logout completed");
    case mail_protocol::pop3: return r.session.reply.substr(0, 3) == "+OK";
    case mail_protocol::smtp: return r.session.reply.substr(0, 4) == "221 ";
    }
    return false;
}

/// The final reply Dovecot sends for a refused login.
bool refusal_reply(mail_protocol p, const mailauth::server_reply& r)
{
    switch (p) {
    case mail_protocol::imap: return r.status == "NO" && r.response_code == "AUTHENTICATIONFAILED";
    case mail_protocol::pop3: return r.status == "-ERR" && r.response_code == "AUTH";
    case mail_protocol::smtp: return r.code == 535 && r.enhanced == "5.7.8";
    }
    return false;
}

bool check_library(const case_def& c, const library_result& r, const itest::dovecot_state& s)
{
    bool ok = true;
    INFO("library: " << c.label() << " (" << r.seconds << " s)");
    INFO("transcript:\n" << r.outcome.transcript.to_string());
    INFO("error: " << r.outcome.error.message() << " / " << r.transport_detail);
    ITEST_CHECK(ok, !r.connect_error);
    const auto& o = r.outcome;
    ITEST_CHECK(ok, o.verdict == c.expected());
    ITEST_CHECK(ok, o.authenticated == (c.credential == cred::valid));
    ITEST_CHECK(ok, o.mechanism == c.mech);
    ITEST_CHECK(ok, o.tls == (c.tls != tls_kind::plaintext));
    ITEST_CHECK(ok, r.socket_tls == (c.tls != tls_kind::plaintext));
    ITEST_CHECK(ok, o.attempts == 1u);
    if (c.tls == tls_kind::starttls)
        ITEST_CHECK(ok, starttls_then_reread(c.proto, o.transcript));
    else
        ITEST_CHECK(ok, !starttls_then_reread(c.proto, o.transcript));

    const auto text = o.transcript.to_string();
    ITEST_CHECK(ok, contains(text, "<redacted>"));
    ITEST_CHECK(ok, !leaks(text, forbidden_strings(secret_for(c, s), c.mech, alice)));

    if (c.credential == cred::valid) {
        switch (c.proto) {
        case mail_protocol::imap:
            ITEST_CHECK(ok, o.reply.status == "OK");
            ITEST_CHECK(ok, o.capabilities.has("MOVE")); // post-login capabilities were read
            break;
        case mail_protocol::pop3: ITEST_CHECK(ok, o.reply.status == "+OK"); break;
        case mail_protocol::smtp:
            ITEST_CHECK(ok, o.reply.code == 235);
            ITEST_CHECK(ok, o.reply.enhanced == "2.7.0");
            break;
        }
        ITEST_CHECK(ok, !o.has_oauth_error);
    } else {
        ITEST_CHECK(ok, refusal_reply(c.proto, o.reply));
        ITEST_CHECK(ok, !o.hint.empty());
        if (c.oauth()) {
            ITEST_CHECK(ok, o.has_oauth_error);
            if (c.mech == "XOAUTH2") {
                ITEST_CHECK(ok, o.oauth_error.status == "401");
                ITEST_CHECK(ok, o.oauth_error.schemes == "bearer");
                ITEST_CHECK(ok, o.oauth_error.scope == "mail");
            } else {
                ITEST_CHECK(ok, o.oauth_error.status == "invalid_token");
            }
            // The error challenge was answered (empty line / AQ==), not cancelled and not left open.
            const auto answer = find_client(
                o.transcript, [&](std::string_view l) { return c.mech == "XOAUTH2" ? l.empty() : l == "AQ=="; });
            ITEST_CHECK(ok, answer != std::string_view::npos);
            ITEST_CHECK(ok, find_client(o.transcript, [](std::string_view l) { return l == "*"; }) ==
                                std::string_view::npos);
            ITEST_CHECK(ok, o.round_trips >= 2u);
        } else {
            ITEST_CHECK(ok, !o.has_oauth_error);
        }
    }
    // The connection is still usable after our exchange.
    INFO("session: " << r.session.command << " -> " << r.session.reply << " " << r.session.error.message());
    ITEST_CHECK(ok, session_ok(c.proto, r));
    return ok;
}

bool check_probe(const case_def& c, const probe_result& p, const itest::dovecot_state& s)
{
    bool ok = true;
    if (!p.ran) {
        WARN("MAILAUTH_PROBE not set: probe half of " << c.label() << " skipped");
        return false;
    }
    INFO("probe: " << c.label() << (p.json_mode ? " --json" : "") << " (" << p.run.seconds << " s)");
    INFO("stdout:\n" << p.run.out);
    INFO("stderr:\n" << p.run.err);
    ITEST_CHECK(ok, !p.run.timed_out);
    ITEST_CHECK(ok, p.run.exit_code == c.expected_exit());
    const auto forbidden = forbidden_strings(secret_for(c, s), c.mech, alice);
    ITEST_CHECK(ok, !leaks(p.run.out, forbidden));
    ITEST_CHECK(ok, !leaks(p.run.err, forbidden));
    // --transcript: the redacted exchange on stderr.
    ITEST_CHECK(ok, contains(p.run.err, "<redacted>"));
    if (p.json_mode) {
        const auto& j = p.json;
        INFO("json error: " << j.error());
        ITEST_CHECK(ok, j.ok());
        ITEST_CHECK(ok, j.str("verdict") == mailauth::to_string(c.expected()));
        ITEST_CHECK(ok, j.boolean("authenticated") == (c.credential == cred::valid));
        ITEST_CHECK(ok, j.num("exit_code") == c.expected_exit());
        ITEST_CHECK(ok, j.str("mechanism") == c.mech);
        ITEST_CHECK(ok, j.boolean("tls") == (c.tls != tls_kind::plaintext));
        ITEST_CHECK(ok, j.at("session").boolean("ok"));
        ITEST_CHECK(ok, contains(j.raw("transcript"), "<redacted>"));
        if (c.credential != cred::valid) {
            const auto reply = j.at("reply");
            if (c.proto == mail_protocol::smtp)
                ITEST_CHECK(ok, reply.num("code") == 535);
            else
                ITEST_CHECK(ok, reply.str("response_code") ==
                                    (c.proto == mail_protocol::imap ? "AUTHENTICATIONFAILED" : "AUTH"));
            ITEST_CHECK(ok, !j.str("hint").empty());
            if (c.oauth())
                ITEST_CHECK(ok, j.at("oauth_error").str("status") == (c.mech == "XOAUTH2" ? "401" : "invalid_token"));
            else
                ITEST_CHECK(ok, j.is_null("oauth_error"));
        }
    } else {
        ITEST_CHECK(ok, contains(p.run.out, "result:       " + std::string{mailauth::to_string(c.expected())}));
        ITEST_CHECK(ok, (contains(p.run.out, "session:") && contains(p.run.out, "answered")));
        ITEST_CHECK(ok, contains(p.run.out, "mechanism:    " + c.mech));
        if (c.credential != cred::valid) ITEST_CHECK(ok, contains(p.run.out, "what to do:"));
    }
    return ok;
}

/// Runs a protocol's whole matrix, both paths, cases in parallel; then checks each.
void run_matrix(mail_protocol proto)
{
    const auto& s = harness();
    const auto cases = matrix(proto);
    std::vector<library_result> lib(cases.size());
    std::vector<probe_result> probe(cases.size());
    const auto t0 = std::chrono::steady_clock::now();
    itest::parallel_for(cases.size() * 2, itest::parallelism(), [&](std::size_t i) {
        const auto& c = cases[i / 2];
        if (i % 2 == 0)
            lib[i / 2] = run_library_case(c, s);
        else
            probe[i / 2] = run_probe_case(c, s);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::size_t lib_ok = 0, probe_ok = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        lib_ok += check_library(cases[i], lib[i], s) ? 1 : 0;
        probe_ok += check_probe(cases[i], probe[i], s) ? 1 : 0;
    }
    std::printf("integration %s matrix: %zu cases; library %zu/%zu passed, mailauth-probe %zu/%zu passed; %.1f s\n",
                std::string{name(proto)}.c_str(), cases.size(), lib_ok, cases.size(), probe_ok, cases.size(), seconds);
    std::fflush(stdout);
}

} // namespace

// ---- the matrix: {protocol} x {mechanism} x {TLS} x {credential} --------------------------------------

TEST_CASE("IMAP against Dovecot: XOAUTH2, OAUTHBEARER, PLAIN, LOGIN, IMAP LOGIN x plaintext, STARTTLS, implicit TLS",
          "[imap]")
{
    run_matrix(mail_protocol::imap);
}

TEST_CASE("IMAP against Dovecot: a login referral reaches the caller with its URL (RFC 2221)", "[imap]")
{
    const auto& s = harness();
    const std::string password = s.passwords.at(std::string{carol});
    for (const std::string_view mech : {std::string_view{"PLAIN"}, std::string_view{mailauth::imap_login_command}}) {
        for (auto t : {tls_kind::starttls, tls_kind::implicit}) {
            const auto co = connect_to(s, mail_protocol::imap, t);
            const auto r = run_library(mail_protocol::imap, co, login_options(mech, carol, password, t, s, co.port));
            const auto& o = r.outcome;
            INFO(mech << " over " << name(t) << "\n" << o.transcript.to_string());
            CHECK_FALSE(o.authenticated);
            CHECK(o.verdict == verdict::user_action_required);
            CHECK(o.reply.status == "NO");
            CHECK(o.reply.response_code == "REFERRAL");
            CHECK(o.reply.response_args == "imap://carol%40example.test;AUTH=PLAIN@imap2.example.test/");
            CHECK(o.reply.text == "Try this server instead.");
            CHECK(contains(o.hint, o.reply.response_args));
            CHECK_FALSE(contains(o.transcript.to_string(), password));
            CHECK(session_ok(mail_protocol::imap, r));
        }
    }
    // The probe shows the same, in JSON and in its report.
    const std::string file = secrets_dir(s) + "/carol-password";
    itest::write_file(file, password + "\n");
    const auto port = s.port(service(mail_protocol::imap, tls_kind::starttls));
    for (const bool json : {true, false}) {
        const auto p = run_probe({url(mail_protocol::imap, tls_kind::starttls, s.host, port), "--user",
                                  std::string{carol}, "--mech", "PLAIN", "--password-file", file, "--ca-file",
                                  s.ca_file, "--starttls", "--timeout", "10"},
                                 json);
        if (!p.ran) continue; // built without the probe
        INFO(p.run.out << p.run.err);
        CHECK(p.run.exit_code == 1);
        CHECK_FALSE(contains(p.run.out + p.run.err, password));
        if (json) {
            CHECK(p.json.str("verdict") == "user_action_required");
            CHECK(p.json.at("reply").str("response_code") == "REFERRAL");
            CHECK(p.json.at("reply").str("response_args") ==
                  "imap://carol%40example.test;AUTH=PLAIN@imap2.example.test/");
            CHECK(contains(p.json.str("hint"), "imap2.example.test"));
        } else {
            CHECK(contains(p.run.out, "NO [REFERRAL imap://carol%40example.test;AUTH=PLAIN@imap2.example.test/] "
                                      "Try this server instead."));
        }
    }

    // Her token logs in: the referral comes from the password database only.
    const auto co = connect_to(s, mail_protocol::imap, tls_kind::starttls);
    const auto r = run_library(mail_protocol::imap, co,
                               login_options("XOAUTH2", carol, s.tokens.at(std::string{carol}).at("valid"),
                                             tls_kind::starttls, s, co.port));
    INFO(r.outcome.transcript.to_string());
    CHECK(r.outcome.authenticated);
    CHECK(r.outcome.reply.response_code != "REFERRAL");
    CHECK(session_ok(mail_protocol::imap, r));
}

TEST_CASE("POP3 against Dovecot: XOAUTH2, OAUTHBEARER, PLAIN, LOGIN, USER/PASS x plaintext, STLS, implicit TLS",
          "[pop3]")
{
    run_matrix(mail_protocol::pop3);
}

TEST_CASE("SMTP submission against Dovecot: XOAUTH2, OAUTHBEARER, PLAIN, LOGIN x plaintext, STARTTLS, implicit TLS",
          "[smtp]")
{
    run_matrix(mail_protocol::smtp);
}

// ---- a whole message after XOAUTH2 --------------------------------------------------------------------

namespace {

/// Waits (briefly) for the sink to hold a message containing `marker`; returns its text.
std::string sink_message_with(const std::string& dir, std::string_view marker)
{
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (DIR* d = ::opendir(dir.c_str())) {
            std::string found;
            while (const dirent* e = ::readdir(d)) {
                const std::string n = e->d_name;
                if (!ends_with(n, ".eml")) continue;
                auto text = itest::read_file(dir + "/" + n);
                if (contains(text, marker)) found = std::move(text);
            }
            ::closedir(d);
            if (!found.empty()) return found;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return {};
}

} // namespace

TEST_CASE("SMTP: a complete send through Dovecot submission after XOAUTH2", "[smtp][send]")
{
    const auto& s = harness();
    for (auto t : {tls_kind::starttls, tls_kind::implicit, tls_kind::plaintext}) {
        const std::string marker = "mailauth-send-" + std::string{name(t)} + "-" + std::to_string(::getpid());
        const std::vector<std::string> message{
            "From: Alice <alice@example.test>",
            "To: Bob <bob@example.test>",
            "Subject: mailauth integration send (" + std::string{name(t)} + ")",
            "Message-ID: <" + marker + "@example.test>",
            "",
            "Sent after SASL XOAUTH2 on the same connection.",
            ".a line that starts with a dot",
            marker,
        };
        const auto co = connect_to(s, mail_protocol::smtp, t);
        auto r =
            run_library(mail_protocol::smtp, co,
                        login_options("XOAUTH2", alice, s.tokens.at(std::string{alice}).at("valid"), t, s, co.port),
                        [&](mailauth_examples::tls_socket& io, library_result& out) {
                            const auto sent = mailauth_examples::smtp_send(io, alice, bob, message);
                            out.after_login.push_back(sent.reply);
                            out.after_login.push_back(sent.ok ? "ok" : "failed");
                        });
        INFO("send over " << name(t) << "\n" << r.outcome.transcript.to_string());
        CHECK(r.outcome.authenticated);
        CHECK(r.outcome.mechanism == "XOAUTH2");
        REQUIRE(r.after_login.size() == 2);
        CHECK(r.after_login[1] == "ok");
        CHECK(r.after_login[0].rfind("250 2.0.0 Ok: queued as ", 0) == 0);
        CHECK(session_ok(mail_protocol::smtp, r));
        const auto stored = sink_message_with(s.sink_dir, marker);
        CHECK(contains(stored, "Subject: mailauth integration send"));
        CHECK(contains(stored, "\r\n.a line that starts with a dot\r\n")); // dot-stuffing undone by the server
    }
}

// ---- TLS-only server reached from 127.0.0.2 -------------------------------------------------------------

TEST_CASE("TLS-only Dovecot from 127.0.0.2: STARTTLS required, used, capabilities re-read", "[tlsonly]")
{
    const auto& s = harness();
    REQUIRE(s.variant == "tlsonly");
    const auto token = s.tokens.at(std::string{alice}).at("valid");
    std::size_t passed = 0, total = 0;
    for (auto p : {mail_protocol::imap, mail_protocol::pop3, mail_protocol::smtp}) {
        const std::string tls_word = p == mail_protocol::pop3 ? "STLS" : "STARTTLS";

        // 1. No TLS: the server hides its mechanisms; the library sends no credential.
        {
            bool ok = true;
            auto co = connect_to(s, p, tls_kind::plaintext);
            co.host = s.insecure_connect;
            co.bind_address = s.insecure_bind;
            const auto r = run_library(p, co, login_options("XOAUTH2", alice, token, tls_kind::plaintext, s, co.port));
            const auto& o = r.outcome;
            INFO(name(p) << " plaintext from " << r.local << "\n" << o.transcript.to_string());
            ITEST_CHECK(ok, r.local.substr(0, 9) == "127.0.0.2");
            ITEST_CHECK(ok, !o.authenticated);
            ITEST_CHECK(ok, o.verdict == verdict::tls_required);
            ITEST_CHECK(ok, o.capabilities.has(tls_word));
            ITEST_CHECK(ok, o.capabilities.mechanisms().empty());
            if (p == mail_protocol::imap) ITEST_CHECK(ok, o.capabilities.has("LOGINDISABLED"));
            ITEST_CHECK(ok, !contains(o.transcript.to_string(), "<redacted>")); // nothing secret was sent
            ITEST_CHECK(ok, session_ok(p, r));
            passed += ok ? 1 : 0;
            ++total;
        }
        // 2. Password logins are refused locally too: the server hides them until TLS (LOGINDISABLED, no USER).
        {
            bool ok = true;
            auto co = connect_to(s, p, tls_kind::plaintext);
            co.host = s.insecure_connect;
            co.bind_address = s.insecure_bind;
            const std::string_view mech = p == mail_protocol::imap   ? mailauth::imap_login_command
                                          : p == mail_protocol::pop3 ? mailauth::pop3_user_pass
                                                                     : std::string_view{"PLAIN"};
            const auto r = run_library(
                p, co, login_options(mech, alice, s.passwords.at(std::string{alice}), tls_kind::plaintext, s, co.port));
            INFO(name(p) << " plaintext password\n" << r.outcome.transcript.to_string());
            ITEST_CHECK(ok, r.outcome.verdict == verdict::tls_required);
            ITEST_CHECK(ok, !contains(r.outcome.transcript.to_string(), "<redacted>"));
            ITEST_CHECK(ok, session_ok(p, r));
            passed += ok ? 1 : 0;
            ++total;
        }
        // 3. STARTTLS: used, capabilities re-read, the mechanisms appear, XOAUTH2 succeeds.
        {
            bool ok = true;
            auto co = connect_to(s, p, tls_kind::starttls);
            co.host = s.insecure_connect;
            co.bind_address = s.insecure_bind;
            const auto r = run_library(p, co, login_options("XOAUTH2", alice, token, tls_kind::starttls, s, co.port));
            const auto& o = r.outcome;
            INFO(name(p) << " STARTTLS from " << r.local << "\n" << o.transcript.to_string());
            ITEST_CHECK(ok, o.authenticated);
            ITEST_CHECK(ok, o.tls);
            ITEST_CHECK(ok, starttls_then_reread(p, o.transcript));
            // Before TLS no mechanism was advertised; after it XOAUTH2 was.
            const auto text = o.transcript.to_string();
            const auto tls_at = text.find("C: " + std::string{p == mail_protocol::imap ? "A1 " : ""} + tls_word + "\n");
            ITEST_CHECK(ok, tls_at != std::string::npos);
            const auto xoauth = p == mail_protocol::imap ? text.find("AUTH=XOAUTH2") : text.find("XOAUTH2 OAUTHBEARER");
            ITEST_CHECK(ok, xoauth != std::string::npos);
            ITEST_CHECK(ok, xoauth > tls_at);
            if (p == mail_protocol::imap) ITEST_CHECK(ok, text.find("LOGINDISABLED") < tls_at);
            if (p == mail_protocol::smtp) ITEST_CHECK(ok, text.find("S: 250-AUTH \n") < tls_at);
            if (p == mail_protocol::pop3) ITEST_CHECK(ok, text.find("S: SASL\n") < tls_at);
            ITEST_CHECK(ok, session_ok(p, r));
            passed += ok ? 1 : 0;
            ++total;
        }
        // 4. The same through the probe: exit 4 without TLS, 0 with STARTTLS.
        if (!probe_path().empty()) {
            bool ok = true;
            const auto file = secrets_dir(s) + "/tlsonly-token";
            itest::write_file(file, token);
            const auto port = s.port(service(p, tls_kind::starttls));
            std::vector<std::string> base{url(p, tls_kind::starttls, s.insecure_connect, port),
                                          "--user",
                                          std::string{alice},
                                          "--token-file",
                                          file,
                                          "--bind",
                                          s.insecure_bind,
                                          "--transcript"};
            auto plain = base;
            plain.emplace_back("--allow-plaintext");
            const auto a = run_probe(plain, true);
            INFO("probe plaintext:\n" << a.run.out << a.run.err);
            ITEST_CHECK(ok, a.run.exit_code == 4);
            ITEST_CHECK(ok, contains(a.json.str("hint"), "only after STARTTLS"));
            ITEST_CHECK(ok, contains(a.json.at("connection").str("local"), "127.0.0.2"));
            auto tls = base;
            tls.insert(tls.end(), {"--starttls", "--ca-file", s.ca_file});
            const auto b = run_probe(tls, false);
            INFO("probe STARTTLS:\n" << b.run.out << b.run.err);
            ITEST_CHECK(ok, b.run.exit_code == 0);
            ITEST_CHECK(ok, contains(b.run.err, "* TLS handshake done"));
            ITEST_CHECK(ok, !contains(a.run.out + a.run.err + b.run.out + b.run.err, token));
            passed += ok ? 1 : 0;
            ++total;
        }
    }
    std::printf("integration tlsonly: %zu/%zu cases passed\n", passed, total);
}

// ---- mailauth-probe: exit codes and diagnoses for what goes wrong around the login ----------------------

TEST_CASE("mailauth-probe: usage errors exit 2 and never echo a secret", "[probe-cli]")
{
    if (probe_path().empty()) {
        WARN("MAILAUTH_PROBE not set: skipped");
        return;
    }
    const auto& s = harness();
    const std::string u = url(mail_protocol::imap, tls_kind::implicit, s.host, s.port("imaps"));
    struct usage_case {
        std::vector<std::string> args;
        std::string_view says;
    };
    const std::vector<usage_case> cases{
        {{}, "no URL"},
        {{u, "--user", "a", "--token", "SECRET-ON-ARGV-1234"}, "--token-file"},
        {{u, "--user", "a", "--password=SECRET-ON-ARGV-1234"}, "--password-file"},
        {{"http://example.test", "--user", "a", "--token-env", "X"}, "unknown scheme"},
        {{u, "--user", "a", "--token-file", "/nonexistent/token"}, "cannot read the token file"},
        {{u, "--token-env", "MAILAUTH_TEST_TOKEN"}, "--user is required"},
        {{"smtp://127.0.0.1", "--user", "a", "--password-file", "/dev/null", "--mech", "IMAP-LOGIN"},
         "IMAP-LOGIN is for imap"},
        {{u, "--user", "a", "--token-env", "MAILAUTH_TEST_TOKEN", "--mech", "CRAM-MD5"}, "unknown mechanism"},
        {{u, "--user", "a", "--token-env", "MAILAUTH_TEST_TOKEN", "--allow-plaintext"}, "makes no sense"},
        {{u, "--user", "a", "--token-env", "UNSET_VARIABLE_FOR_SURE"}, "is not set"},
        {{"imap://[::1", "--user", "a", "--token-env", "MAILAUTH_TEST_TOKEN"}, "unterminated"},
        {{u, "--user", "a", "--token-env", "MAILAUTH_TEST_TOKEN", "--timeout", "soon"}, "--timeout"},
        {{u, "--user", "a", "--token-env", "MAILAUTH_TEST_TOKEN", "--bind", "not-an-address"}, "bad bind address"},
        {{u, "--user", "a", "--token-env", "MAILAUTH_TEST_TOKEN", "--ca-file", "/nonexistent/ca.pem"},
         "cannot read --ca-file"},
    };
    for (const auto& c : cases) {
        const auto r = run_probe(c.args, false, {{"MAILAUTH_TEST_TOKEN", "tok-1234567890"}});
        INFO("args: " << (c.args.empty() ? std::string{} : c.args.back()) << "\n" << r.run.err);
        CHECK(r.run.exit_code == 2);
        CHECK(contains(r.run.err, c.says));
        CHECK(!contains(r.run.out + r.run.err, "SECRET-ON-ARGV-1234"));
        CHECK(!contains(r.run.out + r.run.err, "tok-1234567890"));
    }
}

TEST_CASE("mailauth-probe: network and TLS failures exit 3 with the reason", "[probe-cli]")
{
    if (probe_path().empty()) {
        WARN("MAILAUTH_PROBE not set: skipped");
        return;
    }
    const auto& s = harness();
    const auto token = s.tokens.at(std::string{alice}).at("valid");
    const std::vector<std::pair<std::string, std::string>> env{{"MAILAUTH_TEST_TOKEN", token}};
    auto args = [&](std::string u) {
        return std::vector<std::string>{
            std::move(u), "--user", std::string{alice}, "--token-env", "MAILAUTH_TEST_TOKEN", "--timeout", "5"};
    };
    struct net_case {
        std::vector<std::string> args;
        std::string_view message; // error.message
        std::string_view name;    // error.name
        std::string_view detail;  // part of error.detail
    };
    itest::tiny_server silent{"127.0.0.1", {}, false}; // accepts (backlog) but never greets
    auto with = [](std::vector<std::string> a, std::initializer_list<std::string> more) {
        a.insert(a.end(), more);
        return a;
    };
    const std::vector<net_case> cases{
        {args("imap://127.0.0.1:" + std::to_string(itest::closed_port())), "connection failed", "connect_failed",
         "Connection refused"},
        {args("imaps://[::1]:" + std::to_string(s.port("imaps"))), "connection failed", "connect_failed", "::1"},
        {args("imap://no-such-host.invalid"), "host name resolution failed",
         "name_resolution_failed", "cannot resolve host 'no-such-host.invalid'"},
        {args(url(mail_protocol::imap, tls_kind::implicit, s.host, s.port("imaps"))),
         "TLS certificate verification failed", "tls_verification_failed", "self-signed certificate"},
        {with(args("imap://127.0.0.1:" + std::to_string(silent.port())), {"--timeout", "1"}), "timed out", "timeout",
         "timed out after 1 s"},
        {with(args(url(mail_protocol::pop3, tls_kind::implicit, s.host, s.port("pop3"))), {"--ca-file", s.ca_file}),
         "TLS handshake failed", "tls_handshake_failed", "TLS handshake"},
    };
    for (const auto& c : cases) {
        const auto r = run_probe(c.args, true, env);
        INFO(c.args[0] << "\n" << r.run.out << r.run.err);
        CHECK(r.run.exit_code == 3);
        CHECK(r.json.str("verdict") == "transport_error");
        const auto e = r.json.at("error");
        CHECK(e.str("message") == c.message);
        CHECK(e.str("name") == c.name);
        CHECK(e.str("category") == "mailauth");
        CHECK(contains(e.str("detail"), c.detail));
        CHECK(!r.json.str("hint").empty());
        CHECK(!contains(r.run.out + r.run.err, token));
    }
    // Human output for a verification failure says what to do.
    const auto h =
        run_probe(args(url(mail_protocol::smtp, tls_kind::implicit, s.host, s.port("submissions"))), false, env);
    CHECK(h.run.exit_code == 3);
    CHECK(contains(h.run.out, "what to do:   "));
    CHECK(contains(h.run.out, "--ca-file"));
}

TEST_CASE("mailauth-probe: TLS options, name verification, stdin token, two-line initial response", "[probe-cli]")
{
    if (probe_path().empty()) {
        WARN("MAILAUTH_PROBE not set: skipped");
        return;
    }
    const auto& s = harness();
    const auto token = s.tokens.at(std::string{alice}).at("valid");
    const auto imaps = s.port("imaps");
    // --insecure: logs in, but says the certificate was not verified.
    {
        const auto r = run_probe({"imaps://127.0.0.1:" + std::to_string(imaps), "--user", std::string{alice},
                                  "--token-file", "-", "--insecure"},
                                 true, {}, token + "\n");
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 0);
        CHECK(r.json.at("tls_info").str("verified") == "false");
        CHECK(!contains(r.run.out + r.run.err, token));
    }
    // A DNS name (SAN DNS:localhost) is verified by name, with SNI.
    {
        const auto r = run_probe({"imaps://localhost:" + std::to_string(imaps), "--user", std::string{alice},
                                  "--token-env", "T", "--ca-file", s.ca_file},
                                 true, {{"T", token}});
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 0);
        CHECK(r.json.at("tls_info").str("verified_name") == "localhost");
        CHECK(r.json.at("tls_info").str("verified") == "true");
    }
    // --initial-response never: AUTHENTICATE without the response, then the continuation.
    {
        const auto r = run_probe({url(mail_protocol::imap, tls_kind::starttls, s.host, s.port("imap")), "--user",
                                  std::string{alice}, "--token-env", "T", "--ca-file", s.ca_file, "--initial-response",
                                  "never", "--transcript"},
                                 false, {{"T", token}});
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 0);
        CHECK(contains(r.run.err, "AUTHENTICATE XOAUTH2\nS: + \nC: <redacted>\n"));
    }
}

TEST_CASE("mailauth-probe: no acceptable mechanism or no STARTTLS exits 4; a broken protocol exits 5", "[probe-cli]")
{
    if (probe_path().empty()) {
        WARN("MAILAUTH_PROBE not set: skipped");
        return;
    }
    const auto& s = harness();
    const auto token = s.tokens.at(std::string{alice}).at("valid");
    const std::vector<std::pair<std::string, std::string>> env{{"T", token}};
    // The SMTP sink offers no STARTTLS: a plain URL requires it by default.
    {
        const auto r = run_probe(
            {"smtp://127.0.0.1:" + std::to_string(s.port("sink")), "--user", std::string{alice}, "--token-env", "T"},
            true, env);
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 4);
        CHECK(r.json.str("verdict") == "tls_required");
        CHECK(contains(r.json.str("hint"), "STARTTLS"));
        CHECK(r.json.at("session").boolean("ok")); // QUIT still answered
    }
    // The sink offers no AUTH at all.
    {
        const auto r = run_probe({"smtp://127.0.0.1:" + std::to_string(s.port("sink")), "--user", std::string{alice},
                                  "--token-env", "T", "--allow-plaintext"},
                                 true, env);
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 4);
        CHECK(r.json.str("verdict") == "mechanism_unavailable");
    }
    // IMAP spoken to the SMTP port: the greeting is not IMAP.
    {
        const auto r = run_probe({"imap://127.0.0.1:" + std::to_string(s.port("submission")), "--user",
                                  std::string{alice}, "--token-env", "T", "--allow-plaintext"},
                                 true, env);
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 5);
        CHECK(r.json.str("verdict") == "protocol_error");
        CHECK(contains(r.json.str("hint"), "imap"));
    }
    // A server that pipelines a reply after the STARTTLS reply (the CVE-2011-0411 pattern) is refused.
    {
        itest::tiny_server evil{"127.0.0.1", [](int fd) {
                                    itest::tiny_server::send_all(fd, "220 evil.example ESMTP\r\n");
                                    itest::tiny_server::read_line(fd); // EHLO
                                    itest::tiny_server::send_all(fd, "250-evil.example\r\n250 STARTTLS\r\n");
                                    itest::tiny_server::read_line(fd); // STARTTLS
                                    itest::tiny_server::send_all(fd, "220 2.0.0 go ahead\r\n250 2.7.0 injected\r\n");
                                    itest::tiny_server::read_line(fd);
                                }};
        const auto r = run_probe({"smtp://127.0.0.1:" + std::to_string(evil.port()), "--user", std::string{alice},
                                  "--token-env", "T", "--timeout", "5"},
                                 true, env);
        INFO(r.run.out << r.run.err);
        CHECK(r.run.exit_code == 5);
        CHECK(r.json.at("error").str("message") ==
              mailauth::make_error_code(mailauth::errc::pipelined_after_starttls).message());
        CHECK(contains(r.json.str("hint"), "CVE-2011-0411"));
    }
}

// ---- the transport itself ---------------------------------------------------------------------------

TEST_CASE("tls_socket: IPv6, host-name mismatch, bounded lines, closed connections, injected line breaks",
          "[transport]")
{
    const auto& s = harness();
    // IPv6 loopback with an IMAP server that wants XOAUTH2.
    {
        std::string seen;
        itest::tiny_server v6{"::1", [&](int fd) {
                                  itest::tiny_server::send_all(
                                      fd, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] v6 ready\r\n");
                                  seen = itest::tiny_server::read_line(fd);
                                  itest::tiny_server::send_all(fd, "A1 OK done\r\n");
                                  itest::tiny_server::read_line(fd);
                                  itest::tiny_server::send_all(fd, "* BYE\r\nZ1 OK bye\r\n");
                              }};
        mailauth_examples::connect_options co;
        co.host = "::1";
        co.port = v6.port();
        mailauth::options o;
        o.user = "v6@example.test";
        o.token.assign("v6-token");
        o.tls = mailauth::tls_mode::none;
        o.policy.allow_plaintext = true;
        const auto r = run_library(mail_protocol::imap, co, std::move(o));
        CHECK(!r.connect_error);
        CHECK(r.outcome.authenticated);
        CHECK(seen.substr(0, 26) == "A1 AUTHENTICATE XOAUTH2 dX");
    }
    // The certificate does not name mail.example.test: verification fails and says why.
    {
        mailauth_examples::tls_socket t;
        auto co = connect_to(s, mail_protocol::imap, tls_kind::implicit);
        co.tls_name = "mail.example.test";
        const auto ec = t.connect(co);
        CHECK(ec == mailauth::errc::tls_verification_failed);
        CHECK(contains(t.error_text(), "hostname mismatch"));
    }
    // An over-long line is refused, not buffered without end.
    {
        itest::tiny_server big{"127.0.0.1", [](int fd) {
                                   itest::tiny_server::send_all(fd, std::string(70 * 1024, 'x'));
                                   itest::tiny_server::read_line(fd);
                               }};
        mailauth_examples::tls_socket t;
        mailauth_examples::connect_options co;
        co.host = "127.0.0.1";
        co.port = big.port();
        REQUIRE(!t.connect(co));
        std::string_view line;
        CHECK(t.read_line(line) == mailauth::errc::reply_line_too_long);
        t.close();
    }
    // EOF is connection_closed; a line with CR or LF is never written.
    {
        itest::tiny_server bye{"127.0.0.1", [](int fd) { itest::tiny_server::send_all(fd, "first\r\nsecond\n"); }};
        mailauth_examples::tls_socket t;
        mailauth_examples::connect_options co;
        co.host = "127.0.0.1";
        co.port = bye.port();
        REQUIRE(!t.connect(co));
        std::string_view line;
        REQUIRE(!t.read_line(line));
        CHECK(line == "first");
        REQUIRE(!t.read_line(line));
        CHECK(line == "second");
        CHECK(t.read_line(line) == mailauth::errc::connection_closed);
        CHECK(t.write_line("A1 NOOP\r\nA2 LOGOUT") == mailauth::errc::invalid_argument);
    }
    // Writing TLS to a server that hung up is connection_closed, not a SIGPIPE (even with SIGPIPE's default action).
    {
        std::signal(SIGPIPE, SIG_DFL);
        mailauth_examples::tls_socket t;
        REQUIRE(!t.connect(connect_to(s, mail_protocol::imap, tls_kind::implicit)));
        std::string_view line;
        REQUIRE(!t.read_line(line)); // greeting
        REQUIRE(!t.write_line("Z1 LOGOUT"));
        std::error_code ec;
        while (!(ec = t.read_line(line))) {}
        CHECK(ec == mailauth::errc::connection_closed);
        std::error_code write_ec;
        for (int i = 0; i < 20 && !write_ec; ++i) {
            write_ec = t.write_line("Z2 NOOP");
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        INFO(t.error_text());
        CHECK(write_ec == mailauth::errc::connection_closed);
        t.close();
        // The guard around OpenSSL's writes swallows a SIGPIPE raised in its scope.
        bool survived = false;
        {
            const mailauth_examples::detail::sigpipe_guard guard;
            ::pthread_kill(::pthread_self(), SIGPIPE);
            survived = true;
        }
        CHECK(survived);
        std::signal(SIGPIPE, SIG_IGN);
    }
    // Pipelined plaintext after STARTTLS through the library: refused before any handshake.
    {
        itest::tiny_server evil{
            "127.0.0.1", [](int fd) {
                itest::tiny_server::send_all(fd, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=XOAUTH2] hi\r\n");
                itest::tiny_server::read_line(fd);
                itest::tiny_server::send_all(fd,
                                             "A1 OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n");
                itest::tiny_server::read_line(fd);
            }};
        mailauth_examples::connect_options co;
        co.host = "127.0.0.1";
        co.port = evil.port();
        co.io_timeout = std::chrono::seconds{5};
        mailauth::options o;
        o.user = "u@example.test";
        o.token.assign("t");
        o.tls = mailauth::tls_mode::starttls;
        const auto r = run_library(mail_protocol::imap, co, std::move(o));
        CHECK(r.outcome.verdict == verdict::protocol_error);
        CHECK(r.outcome.error.code == mailauth::errc::pipelined_after_starttls);
        CHECK(contains(r.transport_detail, "after the STARTTLS reply"));
    }
}

// ---- the Asio coroutine example ---------------------------------------------------------------------

TEST_CASE("Asio example: C++20 coroutines drive the same machines against Dovecot", "[asio]")
{
    const char* exe = std::getenv("MAILAUTH_ASIO_EXAMPLE");
    if (exe == nullptr || *exe == '\0') {
        WARN("MAILAUTH_ASIO_EXAMPLE not set: skipped");
        return;
    }
    const auto& s = harness();
    const auto& tokens = s.tokens.at(std::string{alice});
    struct asio_case {
        std::string protocol, tls, service, token;
        int exit_code;
        std::string_view says;
    };
    const std::vector<asio_case> cases{
        {"imap", "plain", "imap", tokens.at("valid"), 0, "authenticated"},
        {"imap", "plain", "imap", tokens.at("expired"), 1, "token_rejected"},
        {"imap", "starttls", "imap", tokens.at("valid"), 0, "authenticated"},
        {"pop3", "implicit", "pop3s", tokens.at("valid"), 0, "authenticated"},
        {"smtp", "starttls", "submission", tokens.at("expired"), 1, "token_rejected"},
    };
    for (const auto& c : cases) {
        const auto r = itest::run_example(
            {exe, c.protocol, s.host, std::to_string(s.port(c.service)), std::string{alice}, c.tls, s.ca_file},
            {{"MAILAUTH_TOKEN", c.token}}, std::chrono::seconds{30});
        INFO(c.protocol << " " << c.tls << "\n" << r.out << r.err);
        CHECK(r.exit_code == c.exit_code);
        CHECK(contains(r.out, c.says));
        CHECK(contains(r.out, "<redacted>"));
        CHECK(!contains(r.out + r.err, c.token));
        if (c.exit_code == 1) CHECK(contains(r.out, "status=401")); // the error challenge was decoded
        CHECK(contains(r.out, c.protocol == "imap" ? "LOGOUT" : "QUIT"));
    }
}
