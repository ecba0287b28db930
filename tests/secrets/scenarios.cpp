// Every login scenario with marker credentials, printing all a caller could print: transcripts, outcomes,
// hints, error messages, exception texts, fmt output, script mismatches; the same text goes to a log file and
// each transcript to its own file. tests/secrets/CMakeLists.txt runs it under secret-scan, which must find
// no marker in any of it.
//   mailauth_secret_scenarios --token T --fresh F --password P --transcripts DIR --log-dir DIR [--leak]
// --leak prints the XOAUTH2 message on purpose (the scanner's self-test must catch it).
#include <mailauth/mailauth.hpp>
#include <mailauth/oauth/authorization.hpp>
#include <mailauth/oauth/device_flow.hpp>
#include <mailauth/oauth/grants.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/oauth/token_source.hpp>
#include <mailauth/testing/scripted_transport.hpp>
#if defined(MAILAUTH_SCENARIOS_WITH_FMT)
#include <mailauth/fmt.hpp>
#endif

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct credentials {
    std::string token, fresh, password;
};

std::ofstream log_file;
fs::path transcript_dir;
int runs = 0;

/// Prints to stdout and the log; `to_stderr` sends it to stderr as well (callers print errors there).
void say(std::string_view s, bool to_stderr = false)
{
    std::fwrite(s.data(), 1, s.size(), stdout);
    if (to_stderr) std::fwrite(s.data(), 1, s.size(), stderr);
    log_file << s;
}

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A server that plays its lines in order whatever the client says (the fuzz targets' model).
class replay_transport {
public:
    explicit replay_transport(std::vector<std::string> lines, bool tls_fails = false)
        : lines_(std::move(lines)), tls_fails_(tls_fails)
    {
    }
    std::error_code write_line(std::string_view) { return {}; }
    std::error_code read_line(std::string_view& out)
    {
        if (pos_ >= lines_.size()) return make_error_code(mailauth::errc::connection_closed);
        out = lines_[pos_++];
        return {};
    }
    std::error_code start_tls() const
    {
        return tls_fails_ ? make_error_code(mailauth::errc::tls_handshake_failed) : std::error_code{};
    }

private:
    std::vector<std::string> lines_;
    std::size_t pos_ = 0;
    bool tls_fails_;
};

/// Everything an application might print about an outcome.
void print_outcome(const std::string& name, const mailauth::outcome& o)
{
    ++runs;
    std::ostringstream s;
    s << "== " << name << "\n" << o.transcript.to_string();
    s << "verdict=" << mailauth::to_string(o.verdict) << " authenticated=" << o.authenticated
      << " mechanism=" << o.mechanism << " tls=" << o.tls << " round_trips=" << o.round_trips << "/"
      << o.total_round_trips << " attempts=" << o.attempts << "\n";
    s << "reply: status=" << o.reply.status << " code=" << o.reply.code << " enhanced=" << o.reply.enhanced
      << " response_code=" << o.reply.response_code << " text=" << o.reply.text << "\n";
    s << "capabilities: " << o.capabilities.words() << " | mechanisms: " << o.capabilities.mechanisms() << "\n";
    if (o.has_oauth_error)
        s << "oauth_error: status=" << o.oauth_error.status << " schemes=" << o.oauth_error.schemes
          << " scope=" << o.oauth_error.scope << " openid=" << o.oauth_error.openid_configuration
          << " raw=" << o.oauth_error.raw << " json_error=" << o.oauth_error.json_error.message() << "\n";
    s << "error: " << o.error.message() << "\nhint: " << o.hint << "\nnotices: " << o.notices
      << "\napop: " << o.apop_timestamp << "\n";
#if defined(MAILAUTH_SCENARIOS_WITH_FMT)
    s << fmt::format("{}", o) << fmt::format("{}", o.transcript) << fmt::format("{} {} {}\n", o.reply, o.capabilities, o.error);
#endif
    const bool failed = static_cast<bool>(o.error);
    if (failed) {
        try {
            throw mailauth::error(o.error);
        } catch (const std::exception& e) {
            s << "exception: " << e.what() << "\n";
        }
    }
    say(s.str(), failed);
    std::string file = name;
    for (char& c : file)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    std::ofstream(transcript_dir / (file + ".txt"), std::ios::binary) << o.transcript.to_string();
}

enum class proto { smtp, imap, pop3 };

struct variant {
    const char* suffix;
    mailauth::tls_mode tls;
    mailauth::initial_response ir;
    bool refresh;
    bool tls_fails;
    bool small;
};

mailauth::options options_for(std::string_view name, const credentials& c, const variant& v)
{
    auto has = [&](std::string_view part) { return name.find(part) != std::string_view::npos; };
    mailauth::options o;
    o.user = "alice@example.test";
    o.ehlo_name = "client.example.test";
    o.host = "mail.example.test";
    o.port = 993;
    o.tls = v.tls;
    o.policy.allow_plaintext = v.tls == mailauth::tls_mode::none && std::string_view{v.suffix} == "recorded";
    o.policy.initial_response = v.ir;
    if (v.small) {
        o.policy.max_challenges = 1;
        o.policy.max_reply_lines = 4;
        o.policy.max_line_length = 100;
    }
    if (has("oauthbearer")) o.policy.mechanisms = {"OAUTHBEARER"};
    else if (has("xoauth2")) o.policy.mechanisms = {"XOAUTH2"};
    else if (has("login_command")) o.policy.mechanisms = {std::string{mailauth::imap_login_command}};
    else if (has("user_pass")) o.policy.mechanisms = {std::string{mailauth::pop3_user_pass}};
    else if (has("login")) o.policy.mechanisms = {"LOGIN"};
    else if (has("plain")) o.policy.mechanisms = {"PLAIN"};
    const bool password = has("plain") || has("login") || has("user_pass");
    if (password) o.password.assign(c.password);
    else o.token.assign(c.token);
    if (has("capability") || has("capa") || has("ehlo")) { // both, OAuth optional: whatever the server offers
        o.password.assign(c.password);
        o.policy.oauth = mailauth::oauth_use::optional;
    }
    return o;
}

template <class Machine>
void replay(const std::string& name, mailauth::options opts, const std::vector<std::string>& lines, const variant& v,
            const credentials& c)
{
    Machine m{std::move(opts)};
    replay_transport t{lines, v.tls_fails};
    if (v.refresh) {
        const auto& o = mailauth::authenticate(t, m, [&](const mailauth::outcome& first) -> std::optional<mailauth::secret> {
            say("  refresh after " + std::string{mailauth::to_string(first.verdict)} + ": " + first.hint + "\n");
            return mailauth::secret{c.fresh};
        });
        print_outcome(name, o);
    } else {
        print_outcome(name, mailauth::authenticate(t, m));
    }
}

/// The transcript as a script for scripted_transport: credentials become wildcards, "T: tls" a TLS point.
std::string as_script(std::string_view text)
{
    std::string out;
    std::istringstream in{std::string{text}};
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("T:", 0) == 0) {
            out += "-- TLS --\n";
            continue;
        }
        if (line.rfind("C: ", 0) == 0) {
            for (std::string_view w : {"<token>", "<password>"})
                if (auto at = line.find(w); at != std::string::npos) line.replace(at, w.size(), "<any>");
        }
        out += line + "\n";
    }
    return out;
}

template <class Machine>
void scripted(const std::string& name, mailauth::options opts, const std::string& script)
{
    Machine m{std::move(opts)};
    mailauth::testing::scripted_transport t{mailauth::testing::script::parse(script)};
    const auto& o = mailauth::authenticate(t, m);
    print_outcome(name, o);
    if (!t.mismatch().empty()) say("script mismatch: " + t.mismatch() + "\n", true);
}

template <class Machine>
void transcript_runs(const fs::path& file, const credentials& c)
{
    using mailauth::initial_response;
    using mailauth::tls_mode;
    const std::string name = file.stem().string();
    const std::string text = read_file(file);
    std::vector<std::string> lines;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);)
        if (line.rfind("S: ", 0) == 0) lines.push_back(line.substr(3));
    const bool implicit = name.rfind("imaps_", 0) == 0 || name.rfind("pop3s_", 0) == 0;
    const bool starttls = name.find("starttls") != std::string::npos || name.find("stls") != std::string::npos;
    const tls_mode recorded = implicit ? tls_mode::implicit : starttls ? tls_mode::starttls : tls_mode::none;
    const variant variants[] = {
        {"recorded", recorded, initial_response::automatic, false, false, false},
        {"refresh", tls_mode::implicit, initial_response::automatic, true, false, false},
        {"ir-always", tls_mode::implicit, initial_response::always, true, false, false},
        {"ir-never", tls_mode::implicit, initial_response::never, false, false, false},
        {"plaintext-refused", tls_mode::none, initial_response::automatic, false, false, false},
        {"starttls", tls_mode::starttls, initial_response::automatic, true, false, false},
        {"tls-fails", tls_mode::starttls, initial_response::automatic, false, true, false},
        {"small-limits", tls_mode::implicit, initial_response::automatic, true, false, true},
    };
    for (const auto& v : variants) replay<Machine>(name + "-" + v.suffix, options_for(name, c, v), lines, v, c);
    scripted<Machine>(name + "-scripted", options_for(name, c, variants[0]), as_script(text));
}

/// Failure paths the transcripts do not cover.
void extra_machine_runs(const credentials& c)
{
    using mailauth::tls_mode;
    const variant base{"extra", tls_mode::implicit, mailauth::initial_response::automatic, false, false, false};
    const variant refresh{"extra", tls_mode::implicit, mailauth::initial_response::automatic, true, false, false};
    const std::string gmail_error =
        "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K";
    auto tok = [&](std::string mech) {
        auto o = options_for("xoauth2", c, base);
        o.policy.mechanisms = {std::move(mech)};
        return o;
    };
    auto pw = [&](std::string mech) {
        auto o = options_for("plain", c, base);
        o.policy.mechanisms = {std::move(mech)};
        return o;
    };
    const std::vector<std::string> smtp = {"220 mx", "250-mx", "250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER",
                                           "250 ENHANCEDSTATUSCODES"};
    auto with = [](std::vector<std::string> v, std::initializer_list<std::string> more) {
        v.insert(v.end(), more);
        return v;
    };
    replay<mailauth::smtp::client>("smtp-gmail-error-refresh", tok("XOAUTH2"),
                                   with(smtp, {"334 " + gmail_error, "535-5.7.8 Username and Password not accepted.",
                                               "535 5.7.8 https://support.google.com/mail/?p=BadCredentials",
                                               "334 " + gmail_error, "535 5.7.8 again"}), refresh, c);
    replay<mailauth::smtp::client>("smtp-garbage-challenge", tok("OAUTHBEARER"), with(smtp, {"334 ***", "501 5.5.2 aborted"}), base, c);
    replay<mailauth::smtp::client>("smtp-long-line-retry", tok("XOAUTH2"),
                                   with(smtp, {"555 5.5.2 Syntax error, line too long", "334 ", "235 2.7.0 ok"}), base, c);
    replay<mailauth::smtp::client>("smtp-closed-mid-exchange", pw("LOGIN"), with(smtp, {"334 VXNlcm5hbWU6"}), base, c);
    replay<mailauth::smtp::client>("smtp-login-rejected", pw("LOGIN"),
                                   with(smtp, {"334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "535 5.7.8 no"}), base, c);
    replay<mailauth::smtp::client>("smtp-ms-tenant", tok("XOAUTH2"),
                                   with(smtp, {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled"}), base, c);
    const std::vector<std::string> imap = {"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER AUTH=LOGIN] hi"};
    replay<mailauth::imap::client>("imap-insufficient-scope", tok("OAUTHBEARER"),
                                   with(imap, {"+ ", "+ eyJzdGF0dXMiOiJpbnN1ZmZpY2llbnRfc2NvcGUiLCJzY29wZSI6Im1haWwifQ==",
                                               "A1 NO [AUTHENTICATIONFAILED] no"}), refresh, c);
    replay<mailauth::imap::client>("imap-alert", pw("PLAIN"),
                                   with(imap, {"+ ", "* OK [ALERT] password expires soon", "A1 NO [EXPIRED] expired"}), base, c);
    replay<mailauth::imap::client>("imap-too-many-challenges", pw("LOGIN"),
                                   with(imap, {"+ VXNlcg==", "+ UGFzcw==", "+ eA==", "+ eA==", "A1 BAD aborted"}), base, c);
    auto literal_user = pw(std::string{mailauth::imap_login_command});
    literal_user.user = "j\xC3\xB6rg@example.test";
    replay<mailauth::imap::client>("imap-login-literal", std::move(literal_user),
                                   {"* OK [CAPABILITY IMAP4rev1] hi", "+ go", "+ go", "A1 NO [AUTHENTICATIONFAILED] no"}, base, c);
    const std::vector<std::string> pop3 = {"+OK <1896.697170952@dbc.mtview.ca.us>", "+OK", "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER",
                                           "USER", "."};
    replay<mailauth::pop3::client>("pop3-protocol-error", [&] {
        auto o = tok("XOAUTH2");
        o.policy.initial_response = mailauth::initial_response::always;
        return o;
    }(), with(pop3, {"-ERR Protocol error. Connection is closed. 0xf"}), base, c);
    replay<mailauth::pop3::client>("pop3-user-pass-rejected", pw(std::string{mailauth::pop3_user_pass}),
                                   with(pop3, {"+OK", "-ERR [AUTH] Authentication failed."}), base, c);
    replay<mailauth::pop3::client>("pop3-error-challenge", tok("XOAUTH2"),
                                   with(pop3, {"+ ", "+ " + gmail_error, "-ERR [AUTH] no"}), refresh, c);
}

/// The token layer: responses, requests and redirects that carry the markers.
void oauth_runs(const credentials& c)
{
    namespace oauth = mailauth::oauth;
    auto response = [](unsigned status, const std::string& body) {
        oauth::http_response r;
        r.status = status;
        r.content_type = "application/json";
        r.body.assign(body);
        return r;
    };
    auto print_token = [](const std::string& name, const oauth::token_result& r) {
        ++runs;
        std::ostringstream s;
        s << "== " << name << ": code=" << r.code.message() << " type=" << r.token.token_type
          << " scope=" << r.token.scope << " expires_in=" << (r.token.expires_in ? r.token.expires_in->count() : -1)
          << " has_refresh=" << !r.token.refresh_token.empty() << "\n  " << r.error.message() << "\n";
#if defined(MAILAUTH_SCENARIOS_WITH_FMT)
        s << fmt::format("  access_token={} refresh_token={}\n", r.token.access_token, r.token.refresh_token);
#endif
        say(s.str(), static_cast<bool>(r.code));
    };
    const std::string at = "\"access_token\":\"" + c.token + "\"";
    const std::string rt = "\"refresh_token\":\"" + c.fresh + "\"";
    print_token("token-ok", oauth::parse_token_response(response(200, "{" + at + ",\"token_type\":\"Bearer\",\"expires_in\":3599," + rt + ",\"scope\":\"mail\"}")));
    print_token("token-type-mac", oauth::parse_token_response(response(200, "{" + at + ",\"token_type\":\"mac\"}")));
    print_token("token-200-not-json", oauth::parse_token_response(response(200, "access_token=" + c.token + "&expires=5")));
    print_token("token-200-broken-json", oauth::parse_token_response(response(200, "{" + at + ",\"token_type\":")));
    print_token("token-200-bad-char", oauth::parse_token_response(response(200, "{\"access_token\":\"" + c.token + " x\"}")));
    print_token("token-200-number", oauth::parse_token_response(response(200, "{" + at + ",\"token_type\":\"Bearer\",\"expires_in\":1e99}")));
    print_token("token-400-invalid-grant", oauth::parse_token_response(response(400,
        "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70000: The provided grant is invalid.\",\"error_codes\":[70000]}")));
    print_token("token-500-html", oauth::parse_token_response(response(500, "<html>upstream error</html>")));

    const auto dev = oauth::parse_device_authorization(response(200,
        "{\"device_code\":\"" + c.fresh + "\",\"user_code\":\"ABCD-EFGH\",\"verification_uri\":\"https://microsoft.com/devicelogin\","
        "\"expires_in\":900,\"interval\":5,\"message\":\"To sign in, enter the code ABCD-EFGH\"}"));
    say("== device: " + dev.code.message() + " user_code=" + dev.authorization.user_code + " uri=" +
        dev.authorization.verification_uri + " message=" + dev.authorization.message + "\n  " + dev.error.message() + "\n");
    if (dev) {
        oauth::device_flow flow{dev.authorization, oauth::time_point{}};
        for (const char* body : {"{\"error\":\"authorization_pending\"}", "{\"error\":\"slow_down\"}", "{\"error\":\"expired_token\"}"}) {
            const auto p = flow.on_token_response(response(400, body), flow.next_poll_time());
            say("  poll: " + p.code.message() + " " + p.error.message() + "\n");
        }
    }

    const auto code = oauth::parse_redirect("/callback?code=" + c.token + "&state=s-123456", "s-123456");
    say("== redirect ok: " + code.message() + " iss=" + code.issuer + "\n");
    const auto bad_state = oauth::parse_redirect("/callback?code=" + c.token + "&state=wrong", "s-123456");
    say("== redirect bad state: " + bad_state.message() + "\n", true);
    const auto dup = oauth::parse_redirect("/callback?code=" + c.token + "&code=" + c.fresh + "&state=s-123456", "s-123456");
    say("== redirect duplicate: " + dup.message() + "\n", true);
    const auto err = oauth::parse_redirect("/callback?error=access_denied&error_description=denied&state=s-123456", "s-123456");
    say("== redirect error: " + err.message() + "\n", true);

    // Requests: print what an HTTP client logs (method, URL, headers); the secret parts stay in secrets.
    auto print_request = [](const std::string& name, const mailauth::error_detail& e, const oauth::http_request& r) {
        std::ostringstream s;
        s << "== " << name << ": " << e.message() << " " << r.method << " " << r.url << "\n";
        for (const auto& h : r.headers) s << "  " << h.name << ": " << h.value << "\n";
#if defined(MAILAUTH_SCENARIOS_WITH_FMT)
        s << fmt::format("  Authorization: {}\n  body: {}\n", r.authorization, r.body);
#endif
        say(s.str());
    };
    oauth::http_request req;
    const mailauth::secret refresh_token{c.fresh};
    const oauth::client_auth basic = oauth::client_secret_basic{"client-id", mailauth::secret{c.password}};
    print_request("refresh-request", oauth::refresh_token_request("https://login.example.com/token", basic, refresh_token, "mail", req), req);
    const oauth::client_auth post = oauth::client_secret_post{"client-id", mailauth::secret{c.password}};
    print_request("code-request", oauth::authorization_code_request("https://login.example.com/token", post,
                                                                    mailauth::secret{c.token}, "http://127.0.0.1:8080/cb",
                                                                    mailauth::secret{"verifier-abcdefghijklmnop"}, req), req);
    print_request("bad-endpoint", oauth::refresh_token_request("ftp://login.example.com/token", basic, refresh_token, "", req), req);

    // A token source whose server refuses the refresh: its error text is what applications log.
    struct refusing_server {
        std::error_code send(const oauth::http_request&, oauth::http_response& res)
        {
            res.status = 400;
            res.body.assign("{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}");
            return {};
        }
    } server;
    oauth::memory_token_store store;
    oauth::token_set saved;
    saved.refresh_token.assign(c.fresh);
    (void)store.save({"alice@example.test", "mail"}, saved);
    oauth::token_source_options so;
    so.token_endpoint = "https://login.example.com/token";
    so.auth = basic;
    so.key = {"alice@example.test", "mail"};
    oauth::token_source<refusing_server> source{server, store, so};
    mailauth::secret token;
    const auto ec = source.get(oauth::time_point{}, token);
    say("== token source: " + ec.message() + ": " + source.last_error().message() + "\n", true);
}

} // namespace

static int run_all(int argc, char** argv)
{
    credentials c;
    fs::path transcripts, log_dir = ".";
    bool leak = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : "";
        if (a == "--token") c.token = v, ++i;
        else if (a == "--fresh") c.fresh = v, ++i;
        else if (a == "--password") c.password = v, ++i;
        else if (a == "--transcripts") transcripts = v, ++i;
        else if (a == "--log-dir") log_dir = v, ++i;
        else if (a == "--leak") leak = true;
        else {
            std::fprintf(stderr, "usage: %s --token T --fresh F --password P --transcripts DIR --log-dir DIR [--leak]\n", argv[0]);
            return 2;
        }
    }
    if (c.token.empty() || c.fresh.empty() || c.password.empty()) {
        std::fprintf(stderr, "scenarios: --token, --fresh and --password are required\n");
        return 2;
    }
    fs::create_directories(log_dir);
    transcript_dir = log_dir / "transcripts";
    fs::create_directories(transcript_dir);
    log_file.open(log_dir / "scenarios.log", std::ios::binary | std::ios::trunc);

    std::vector<fs::path> files;
    if (fs::is_directory(transcripts))
        for (const auto& e : fs::directory_iterator(transcripts))
            if (e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "scenarios: no transcripts in %s\n", transcripts.string().c_str());
        return 1;
    }
    for (const auto& f : files) {
        const auto n = f.filename().string();
        if (n.rfind("smtp", 0) == 0) transcript_runs<mailauth::smtp::client>(f, c);
        else if (n.rfind("imap", 0) == 0) transcript_runs<mailauth::imap::client>(f, c);
        else transcript_runs<mailauth::pop3::client>(f, c);
    }
    extra_machine_runs(c);
    oauth_runs(c);
    if (leak) {
        std::string raw = "user=alice@example.test\x01" "auth=Bearer " + c.token + "\x01\x01";
        say("leak (self-test): AUTH XOAUTH2 " + mailauth::base64::encode(raw) + "\n");
    }
    say("scenarios: " + std::to_string(runs) + " runs from " + std::to_string(files.size()) + " transcripts\n");
    return 0;
}

int main(int argc, char** argv)
{
    try {
        return run_all(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "scenarios: %s\n", e.what());
        return 1;
    }
}
