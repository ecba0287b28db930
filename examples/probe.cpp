// mailauth-probe: checks an OAuth 2.0 (or password) login to an IMAP, POP3 or SMTP server and says what
// happened and what to do — curl -v / swaks for OAuth, with a redacted transcript and a diagnosis.
// Tokens and passwords come from files or the environment, never from the command line, and never appear
// in any output.
#include "net/session.hpp"
#include "net/tls_socket.hpp"
#ifdef MAILAUTH_PROBE_TOKEN_STORE
#include "token/stored_tokens.hpp"
#include "token/token_config.hpp"
#endif

#include <mailauth/fmt.hpp>
#include <mailauth/mailauth.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using mailauth_examples::mail_protocol;
#ifdef MAILAUTH_PROBE_TOKEN_STORE
namespace tk = mailauth_examples::token;
#endif

constexpr std::string_view version = "0.1.0";

enum exit_status : int {
    exit_authenticated = 0,
    exit_rejected = 1,
    exit_usage = 2,
    exit_network = 3,
    exit_unavailable = 4,
    exit_protocol = 5,
};

constexpr std::string_view usage_text = R"(usage: mailauth-probe URL [options]
Checks a login to an IMAP, POP3 or SMTP server with OAuth 2.0 (XOAUTH2, OAUTHBEARER) or a password.

  URL                         imap|imaps|pop3|pop3s|smtp|smtps://host[:port]   (IPv6: [::1]:993)
                              default ports 143 993 110 995 587 465; plain URLs use STARTTLS
  --user USER                 the login name
  --token-file FILE           read the OAuth access token from FILE ("-" = standard input)
  --token-env VAR             read the OAuth access token from environment variable VAR
  --token-store FILE          take the access token from a mailauth-token store, get a new one when it is
                              about to expire, and refresh and retry once when the server rejects it
                              (the token endpoint options are listed below)
  --password-file FILE        read a password from FILE ("-" = standard input)
  --mech NAME                 XOAUTH2 OAUTHBEARER PLAIN LOGIN IMAP-LOGIN USER-PASS; repeatable, in order
                              of preference (default: XOAUTH2 OAUTHBEARER, then the password logins)
  --starttls                  require STARTTLS/STLS on a plain URL (the default unless --allow-plaintext)
  --require-oauth             fail unless an OAuth mechanism is used (the default when a token is given)
  --allow-fallback            use the password when the server offers no OAuth mechanism
  --initial-response MODE     auto (default), always or never send the SASL initial response inline
  --ca-file FILE              trust the CA certificates in FILE instead of the system store
  --insecure                  do not verify the server certificate or its name (testing only)
  --allow-plaintext           no TLS at all on a plain URL (for loopback tests only)
  --ehlo NAME                 SMTP EHLO name (default: localhost)
  --timeout SECONDS           connect and read/write timeout (default: 30)
  --bind ADDRESS              local address to connect from
  --transcript                print the redacted protocol transcript on standard error
  --json                      print the outcome as one JSON object on standard output
  --help, --version

Tokens and passwords are never accepted on the command line and never printed.
Usage errors are reported on standard error only (no JSON).
Exit status: 0 authenticated; 1 rejected by the server; 2 usage or bad input; 3 network or TLS failure;
4 no acceptable mechanism, or TLS required and unavailable; 5 the server broke the protocol.
With --token-store a failed token request exits 1 (refused), 2 (store or options), 3 (no HTTP answer) or 5.
)";

#ifdef MAILAUTH_PROBE_TOKEN_STORE
constexpr std::string_view token_store_usage = R"(
Token store options (with --token-store; the store records the endpoint, client and scope it was filled with):
  --provider NAME             google | microsoft[:TENANT] | outlook
  --token-endpoint URL        token endpoint (default: the store's, or the provider's)
  --client-id ID              the OAuth client (default: the store's)
  --client-secret-file FILE   client secret (client_secret_basic; see --client-auth)
  --client-auth basic|post    how to send the client secret (default: basic, RFC 6749 §2.3.1)
  --assertion-key FILE        PEM private key: private_key_jwt (RFC 7523)
  --assertion-alg ALG         another algorithm for the key (PS256, RS384, ...)
  --key-id KID                "kid" header of the client assertion
  --scope S                   scope; repeatable (default: the store's)
  --account NAME              the account the tokens belong to (default: the store's)
  --http-timeout SECONDS      token endpoint timeout (default: 30)
  --token-ca-file FILE        trust these CA certificates for the token endpoint (--ca-file is the mail server's)
)";
#endif

/// A command-line or input problem: exit status 2.
struct usage_error : std::exception {
    explicit usage_error(std::string m) : message(std::move(m)) {}
    const char* what() const noexcept override { return message.c_str(); }
    std::string message;
};

struct config {
    std::string url;
    mail_protocol protocol = mail_protocol::imap;
    std::string_view scheme;
    bool implicit_tls = false;
    std::string host;
    std::uint16_t port = 0;
    std::string user;
    std::string token_file, token_env, password_file;
#ifdef MAILAUTH_PROBE_TOKEN_STORE
    tk::oauth_options oauth;       // --token-store and the token endpoint options
    std::string oauth_option_seen; // the first token endpoint option given (it needs --token-store)
#endif
    std::vector<std::string> mechanisms;
    bool starttls = false;
    bool require_oauth = false;
    bool allow_fallback = false;
    bool insecure = false;
    bool allow_plaintext = false;
    mailauth::initial_response initial_response = mailauth::initial_response::automatic;
    std::string ca_file;
    std::string ehlo;
    std::string bind;
    std::chrono::milliseconds timeout{30000};
    bool transcript = false;
    bool json = false;
};

struct credentials {
    mailauth::secret token;
    mailauth::secret password;
    mailauth::secret refreshed; // the access token a --token-store refresh brought (kept to scrub it)
};

// ---- command line ----------------------------------------------------------------------------------

bool iequal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return mailauth::detail::to_upper(x) == mailauth::detail::to_upper(y);
           });
}

std::uint16_t parse_port(std::string_view text)
{
    unsigned long n = 0;
    if (text.empty() || text.size() > 5) throw usage_error(fmt::format("bad port '{}'", text));
    for (char c : text) {
        if (c < '0' || c > '9') throw usage_error(fmt::format("bad port '{}'", text));
        n = n * 10 + static_cast<unsigned long>(c - '0');
    }
    if (n == 0 || n > 65535) throw usage_error(fmt::format("port {} out of range", text));
    return static_cast<std::uint16_t>(n);
}

void parse_url(config& c, std::string_view url)
{
    struct scheme_info {
        std::string_view name;
        mail_protocol protocol;
        bool implicit;
        std::uint16_t port;
    };
    static constexpr scheme_info schemes[] = {
        {"imap", mail_protocol::imap, false, 143}, {"imaps", mail_protocol::imap, true, 993},
        {"pop3", mail_protocol::pop3, false, 110}, {"pop3s", mail_protocol::pop3, true, 995},
        {"smtp", mail_protocol::smtp, false, 587}, {"smtps", mail_protocol::smtp, true, 465},
    };
    c.url = url;
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) throw usage_error(fmt::format("'{}' is not a URL like imaps://host", url));
    const auto scheme = url.substr(0, sep);
    const scheme_info* info = nullptr;
    for (const auto& s : schemes)
        if (iequal(s.name, scheme)) info = &s;
    if (info == nullptr)
        throw usage_error(fmt::format("unknown scheme '{}' (use imap, imaps, pop3, pop3s, smtp or smtps)", scheme));
    c.scheme = info->name;
    c.protocol = info->protocol;
    c.implicit_tls = info->implicit;
    c.port = info->port;

    auto rest = url.substr(sep + 3);
    const auto end = rest.find_first_of("/?#");
    auto path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    auto authority = rest.substr(0, end);
    if (authority.find('@') != std::string_view::npos)
        throw usage_error("no user name in the URL, please: use --user (and never put a password in a URL)");
    if (!path.empty() && path != "/") throw usage_error(fmt::format("unexpected path '{}' in the URL", path));
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) throw usage_error("unterminated '[' in the URL");
        c.host = authority.substr(1, close - 1);
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw usage_error(fmt::format("unexpected '{}' after the address", after));
            c.port = parse_port(after.substr(1));
        }
    } else {
        const auto colon = authority.find(':');
        if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
            throw usage_error("put an IPv6 address in brackets: imaps://[::1]:993");
        c.host = authority.substr(0, colon);
        if (colon != std::string_view::npos) c.port = parse_port(authority.substr(colon + 1));
    }
    if (c.host.empty()) throw usage_error(fmt::format("no host in '{}'", url));
}

config parse_args(int argc, char** argv)
{
    config c;
    bool have_url = false;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        std::optional<std::string_view> inline_value;
        if (a.substr(0, 2) == "--") {
            if (const auto eq = a.find('='); eq != std::string_view::npos) {
                inline_value = a.substr(eq + 1);
                a = a.substr(0, eq);
            }
        }
        auto value = [&]() -> std::string {
            if (inline_value) return std::string{*inline_value};
            if (i + 1 >= args.size()) throw usage_error(fmt::format("{} needs a value", a));
            return std::string{args[++i]};
        };
        auto flag = [&](bool& f) {
            if (inline_value) throw usage_error(fmt::format("{} takes no value", a));
            f = true;
        };
#ifdef MAILAUTH_PROBE_TOKEN_STORE
        if (a.substr(0, 2) == "--") {
            bool taken = false;
            try {
                taken = tk::parse_oauth_option(a, std::function<std::string()>{value}, c.oauth);
            } catch (const tk::config_error& e) {
                throw usage_error(e.what());
            }
            if (taken) {
                if (c.oauth_option_seen.empty() && a != "--token-store" && a != "--store")
                    c.oauth_option_seen = std::string{a};
                continue;
            }
        }
#endif
        if (a == "--help" || a == "-h") {
            std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
#ifdef MAILAUTH_PROBE_TOKEN_STORE
            std::fwrite(token_store_usage.data(), 1, token_store_usage.size(), stdout);
#endif
            std::exit(0);
        } else if (a == "--version") {
            fmt::print("mailauth-probe {}\n", version);
            std::exit(0);
        } else if (a == "--user") {
            c.user = value();
        } else if (a == "--token-file") {
            c.token_file = value();
        } else if (a == "--token-env") {
            c.token_env = value();
        } else if (a == "--password-file") {
            c.password_file = value();
        } else if (a == "--token" || a == "--password" || a == "--oauth2-bearer" || a == "--pass") {
            throw usage_error(fmt::format("{} is not accepted: secrets on the command line end up in shell history "
                                          "and ps output; use --token-file, --token-env or --password-file",
                                          a));
        } else if (a == "--mech") {
            c.mechanisms.push_back(value());
        } else if (a == "--starttls") {
            flag(c.starttls);
        } else if (a == "--require-oauth") {
            flag(c.require_oauth);
        } else if (a == "--allow-fallback") {
            flag(c.allow_fallback);
        } else if (a == "--initial-response") {
            const auto v = value();
            if (v == "auto")
                c.initial_response = mailauth::initial_response::automatic;
            else if (v == "always")
                c.initial_response = mailauth::initial_response::always;
            else if (v == "never")
                c.initial_response = mailauth::initial_response::never;
            else
                throw usage_error(fmt::format("--initial-response: '{}' is not auto, always or never", v));
        } else if (a == "--ca-file") {
            c.ca_file = value();
        } else if (a == "--insecure") {
            flag(c.insecure);
        } else if (a == "--allow-plaintext") {
            flag(c.allow_plaintext);
        } else if (a == "--ehlo") {
            c.ehlo = value();
        } else if (a == "--timeout") {
            const auto v = value();
            char* end = nullptr;
            errno = 0;
            const double s = std::strtod(v.c_str(), &end);
            if (v.empty() || end == nullptr || *end != '\0' || errno != 0 || !(s > 0) || s > 86400)
                throw usage_error(fmt::format("--timeout: '{}' is not a number of seconds", v));
            c.timeout = std::chrono::milliseconds{static_cast<long long>(s * 1000 + 0.5)};
            if (c.timeout.count() == 0) c.timeout = std::chrono::milliseconds{1};
        } else if (a == "--bind") {
            c.bind = value();
        } else if (a == "--transcript") {
            flag(c.transcript);
        } else if (a == "--json") {
            flag(c.json);
        } else if (a.size() > 1 && a[0] == '-') {
            throw usage_error(fmt::format("unknown option {}", a));
        } else if (!have_url) {
            parse_url(c, a);
            have_url = true;
        } else {
            throw usage_error(fmt::format("unexpected argument '{}'", a));
        }
    }
    if (!have_url) throw usage_error("no URL given");

#ifdef MAILAUTH_PROBE_TOKEN_STORE
    const bool store = !c.oauth.store.empty();
    if (store && (!c.token_file.empty() || !c.token_env.empty()))
        throw usage_error("give one of --token-file, --token-env and --token-store");
    if (!store && !c.oauth_option_seen.empty())
        throw usage_error(fmt::format("{} is a token store option: it needs --token-store", c.oauth_option_seen));
#else
    const bool store = false;
#endif
    const bool token = !c.token_file.empty() || !c.token_env.empty() || store;
    const bool password = !c.password_file.empty();
    if (!c.token_file.empty() && !c.token_env.empty()) throw usage_error("give either --token-file or --token-env");
    if (c.token_file == "-" && c.password_file == "-")
        throw usage_error("only one of --token-file and --password-file can read standard input");
    if (!token && !password)
        throw usage_error("no credentials: give --token-file, --token-env, --token-store or --password-file");
    if (c.user.empty()) throw usage_error("--user is required");
    if (c.require_oauth && c.allow_fallback)
        throw usage_error("--require-oauth and --allow-fallback exclude each other");
    if (c.require_oauth && !token) throw usage_error("--require-oauth needs a token (--token-file or --token-env)");
    if (c.allow_fallback && !(token && password))
        throw usage_error("--allow-fallback needs both a token and --password-file");
    if (c.insecure && !c.ca_file.empty()) throw usage_error("--insecure and --ca-file exclude each other");
    if (c.allow_plaintext && c.implicit_tls)
        throw usage_error(fmt::format("--allow-plaintext makes no sense with {}:// (TLS from the start)", c.scheme));
    if (c.allow_plaintext && c.starttls) throw usage_error("--allow-plaintext and --starttls exclude each other");
    if (!c.ehlo.empty() && c.protocol != mail_protocol::smtp) throw usage_error("--ehlo is for smtp:// and smtps://");

    for (auto& m : c.mechanisms) {
        for (auto& ch : m) ch = mailauth::detail::to_upper(ch);
        const bool oauth = m == "XOAUTH2" || m == "OAUTHBEARER";
        const bool pass =
            m == "PLAIN" || m == "LOGIN" || m == mailauth::imap_login_command || m == mailauth::pop3_user_pass;
        if (!oauth && !pass)
            throw usage_error(
                fmt::format("unknown mechanism '{}' (XOAUTH2 OAUTHBEARER PLAIN LOGIN IMAP-LOGIN USER-PASS)", m));
        if (m == mailauth::imap_login_command && c.protocol != mail_protocol::imap)
            throw usage_error("IMAP-LOGIN is for imap:// and imaps://");
        if (m == mailauth::pop3_user_pass && c.protocol != mail_protocol::pop3)
            throw usage_error("USER-PASS is for pop3:// and pop3s://");
        if (oauth && !token) throw usage_error(fmt::format("--mech {} needs a token (--token-file or --token-env)", m));
        if (pass && !password) throw usage_error(fmt::format("--mech {} needs --password-file", m));
        if (pass && token && !c.allow_fallback)
            throw usage_error(
                fmt::format("--mech {} with a token needs --allow-fallback (OAuth is mandatory otherwise)", m));
    }
    if (!c.ca_file.empty()) {
        if (std::FILE* f = std::fopen(c.ca_file.c_str(), "rb"))
            std::fclose(f);
        else
            throw usage_error(fmt::format("cannot read --ca-file {}: {}", c.ca_file, std::strerror(errno)));
    }
    return c;
}

/// Reads a token or password file ("-" = stdin) straight into a secret; the staging buffer is wiped.
mailauth::secret read_secret_file(const std::string& path, std::string_view what, bool token)
{
    std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        throw usage_error(fmt::format("cannot read the {} file {}: {}", what, path, std::strerror(errno)));
    struct stat st {};
    if (f != stdin && ::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077) != 0)
        fmt::print(stderr, "mailauth-probe: warning: the {} file {} is readable by other users (chmod 600 it)\n", what,
                   path);
    std::string data;
    data.reserve(64 * 1024); // no reallocation (and no stray copies) for any sane token
    char buf[4096];
    std::size_t n = 0;
    bool too_large = false;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        if (data.size() + n > data.capacity()) {
            too_large = true;
            break;
        }
        data.append(buf, n);
    }
    mailauth::detail::secure_wipe(buf, sizeof buf);
    if (f != stdin) std::fclose(f);
    auto wipe = [&] { mailauth::detail::secure_wipe(data.data(), data.size()); };
    if (too_large) {
        wipe();
        throw usage_error(fmt::format("the {} file {} is larger than 64 KiB", what, path));
    }
    std::string_view v{data};
    // A token has no white space: trim it all. A password keeps its spaces; only the line end goes.
    if (token) {
        while (!v.empty() && std::string_view{" \t\r\n"}.find(v.back()) != std::string_view::npos) v.remove_suffix(1);
        while (!v.empty() && std::string_view{" \t\r\n"}.find(v.front()) != std::string_view::npos) v.remove_prefix(1);
    } else {
        if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
        if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    }
    const bool multi_line = v.find_first_of("\r\n") != std::string_view::npos;
    mailauth::secret s{multi_line ? std::string_view{} : v};
    wipe();
    if (multi_line) throw usage_error(fmt::format("the {} file {} holds more than one line", what, path));
    if (s.empty()) throw usage_error(fmt::format("the {} file {} is empty", what, path));
    return s;
}

credentials read_credentials(const config& c)
{
    credentials k;
    if (!c.token_file.empty()) k.token = read_secret_file(c.token_file, "token", true);
    if (!c.token_env.empty()) {
        const char* v = std::getenv(c.token_env.c_str());
        if (v == nullptr || *v == '\0')
            throw usage_error(fmt::format("environment variable {} is not set", c.token_env));
        std::string_view t{v};
        while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.remove_suffix(1);
        k.token.assign(t);
    }
    if (!c.password_file.empty()) k.password = read_secret_file(c.password_file, "password", false);
    return k;
}

// ---- redaction and JSON ----------------------------------------------------------------------------

/// Replaces every occurrence of the token or password in text meant for output (defence in depth:
/// the library already redacts what it records; this also covers a server that echoes input).
class scrubber {
public:
    explicit scrubber(const credentials& k) : k_(k) {}
    std::string operator()(std::string_view text) const
    {
        std::string s{text};
        for (const auto* secret : {&k_.token, &k_.password, &k_.refreshed}) {
            const auto bytes = secret->reveal();
            if (bytes.size() < 4) continue; // too short to tell apart from ordinary text
            for (auto at = s.find(bytes); at != std::string::npos; at = s.find(bytes, at))
                s.replace(at, bytes.size(), mailauth::transcript::redacted);
        }
        return s;
    }

private:
    const credentials& k_;
};

/// Length of a valid UTF-8 sequence at s[i], 0 if invalid (RFC 3629 §4).
std::size_t utf8_length(std::string_view s, std::size_t i)
{
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    return n;
}

/// Appends `s` as a JSON string (RFC 8259 §7); invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s)
{
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"')
            out.append("\\\"");
        else if (c == '\\')
            out.append("\\\\");
        else if (c == '\n')
            out.append("\\n");
        else if (c == '\r')
            out.append("\\r");
        else if (c == '\t')
            out.append("\\t");
        else if (c < 0x20 || c == 0x7F)
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        else if (c < 0x80)
            out.push_back(static_cast<char>(c));
        else if (const auto n = utf8_length(s, i); n != 0) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        } else
            out.append("\\ufffd");
        ++i;
    }
    out.push_back('"');
}

/// A JSON object being written: members are appended in order, commas handled.
class json_object {
public:
    explicit json_object(std::string& out) : out_(out) { out_.push_back('{'); }
    json_object(const json_object&) = delete;
    json_object& operator=(const json_object&) = delete;
    ~json_object() { out_.push_back('}'); }

    std::string& key(std::string_view k)
    {
        if (!first_) out_.push_back(',');
        first_ = false;
        append_json_string(out_, k);
        out_.push_back(':');
        return out_;
    }
    void string(std::string_view k, std::string_view v) { append_json_string(key(k), v); }
    void string_or_null(std::string_view k, std::string_view v)
    {
        if (v.empty())
            null(k);
        else
            string(k, v);
    }
    void number(std::string_view k, long long v) { key(k).append(std::to_string(v)); }
    void boolean(std::string_view k, bool v) { key(k).append(v ? "true" : "false"); }
    void null(std::string_view k) { key(k).append("null"); }
    /// Splits `text` at `sep` into an array of strings.
    void words(std::string_view k, std::string_view text, char sep)
    {
        auto& o = key(k);
        o.push_back('[');
        bool first = true;
        while (!text.empty()) {
            const auto at = text.find(sep);
            const auto w = text.substr(0, at);
            text.remove_prefix(at == std::string_view::npos ? text.size() : at + 1);
            if (w.empty()) continue;
            if (!first) o.push_back(',');
            first = false;
            append_json_string(o, w);
        }
        o.push_back(']');
    }

private:
    std::string& out_;
    bool first_ = true;
};

// ---- the run ---------------------------------------------------------------------------------------

std::string_view protocol_name(mail_protocol p)
{
    switch (p) {
    case mail_protocol::imap: return "imap";
    case mail_protocol::pop3: return "pop3";
    case mail_protocol::smtp: return "smtp";
    }
    return "";
}

/// A transcript line the probe adds itself: the TLS handshake and the commands after the login.
struct extra_line {
    std::size_t after; // position in the library's transcript
    char dir;          // 'C', 'S' or 'T' (TLS)
    std::string text;
};

/// Everything the report needs, from connect to the end of the session.
struct run_report {
    const config* cfg = nullptr;
    const mailauth::outcome* outcome = nullptr; // null when the connection could not be made
    std::error_code connect_error;
    std::string transport_detail; // the transport's reason for the error in the outcome (or connect_error)
    bool tls_active = false;
    mailauth_examples::tls_details tls;
    std::string peer, local;
    std::string_view family;
    std::optional<mailauth_examples::command_result> session;
    std::vector<extra_line> extra;
    bool token_store = false;    // the token came from --token-store
    std::size_t token_requests = 0;
    bool refreshed = false;      // a rejected token was refreshed (and the login retried)
    std::string refresh_error;   // why the refresh after a rejection failed (no token in it)
};

/// The probe's tls_transport: the socket plus a note of where TLS started, for the transcript.
struct probe_transport {
    mailauth_examples::tls_socket& socket;
    const mailauth::outcome& outcome;
    std::vector<extra_line>& extra;

    std::error_code write_line(std::string_view line, bool secret) { return socket.write_line(line, secret); }
    std::error_code write_line(std::string_view line) { return socket.write_line(line, false); }
    std::error_code read_line(std::string_view& line) { return socket.read_line(line); }
    std::error_code start_tls()
    {
        const auto ec = socket.start_tls();
        const auto& t = socket.tls();
        extra.push_back({outcome.transcript.size(), 'T',
                         ec ? "TLS handshake failed: " + socket.error_text()
                            : fmt::format("TLS handshake done: {} {}", t.version, t.cipher)});
        return ec;
    }
};
static_assert(mailauth::tls_transport<probe_transport>);

int exit_for(mailauth::verdict v)
{
    using mailauth::verdict;
    switch (v) {
    case verdict::authenticated: return exit_authenticated;
    case verdict::token_rejected:
    case verdict::credentials_rejected:
    case verdict::user_action_required:
    case verdict::temporary_failure:
    case verdict::retry_without_initial_response: return exit_rejected;
    case verdict::client_error: return exit_usage;
    case verdict::transport_error: return exit_network;
    case verdict::mechanism_unavailable:
    case verdict::tls_required: return exit_unavailable;
    case verdict::protocol_error: return exit_protocol;
    }
    return exit_protocol;
}

int exit_for(const run_report& r)
{
    if (r.outcome == nullptr) return r.connect_error == mailauth::errc::invalid_argument ? exit_usage : exit_network;
    return exit_for(r.outcome->verdict);
}

std::string_view verdict_text(mailauth::verdict v)
{
    using mailauth::verdict;
    switch (v) {
    case verdict::authenticated: return "logged in";
    case verdict::token_rejected: return "the server refused the access token";
    case verdict::retry_without_initial_response: return "the server refused the inline initial response";
    case verdict::credentials_rejected: return "the server refused the user name or password";
    case verdict::user_action_required: return "a user, administrator or tenant setting must change";
    case verdict::temporary_failure: return "temporary failure on the server";
    case verdict::mechanism_unavailable: return "no acceptable authentication mechanism";
    case verdict::tls_required: return "TLS is required and was not available";
    case verdict::client_error: return "the input was refused before it went on the wire";
    case verdict::protocol_error: return "the server broke the protocol";
    case verdict::transport_error: return "the connection failed";
    }
    return "";
}

std::string_view default_ports(mail_protocol p)
{
    switch (p) {
    case mail_protocol::imap: return "imap:// 143 with STARTTLS, imaps:// 993";
    case mail_protocol::pop3: return "pop3:// 110 with STLS, pop3s:// 995";
    case mail_protocol::smtp: return "smtp:// 587 with STARTTLS, smtps:// 465";
    }
    return "";
}

/// What the probe adds to the library's hint: advice for transport and setup failures.
std::string advice(const run_report& r)
{
    using mailauth::errc;
    const config& c = *r.cfg;
    const std::error_code ec = r.outcome != nullptr ? r.outcome->error.code : r.connect_error;
    std::string lib = r.outcome != nullptr ? r.outcome->hint : std::string{};
    auto join = [&](std::string_view extra) {
        if (lib.empty()) return std::string{extra};
        if (extra.empty()) return lib;
        return lib + "; " + std::string{extra};
    };
    if (ec.category() == mailauth::error_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::name_resolution_failed: return join("check the host name and the resolver (DNS, /etc/hosts)");
        case errc::connect_failed:
            return join(fmt::format("nothing accepted the connection: check host, port ({}) and firewalls",
                                    default_ports(c.protocol)));
        case errc::timeout:
            return join("no answer in time: a firewall may drop the packets, or the server is slow (--timeout)");
        case errc::tls_verification_failed:
            return join("the server's certificate could not be verified (reason above): for a name mismatch connect "
                        "by a name the certificate lists; for a private or self-signed CA pass it with --ca-file; "
                        "--insecure skips the check (testing only)");
        case errc::tls_handshake_failed:
            return join(fmt::format("the server did not complete a TLS handshake: is TLS spoken on this port? ({})",
                                    default_ports(c.protocol)));
        case errc::connection_closed: return join("the server closed the connection; its log says why");
        case errc::pipelined_after_starttls:
            return join("the server (or something in between) sent data after the STARTTLS reply: a possible "
                        "command injection (CVE-2011-0411); do not trust this path");
        case errc::tls_required:
            return join("use imaps://, pop3s:// or smtps://, or a plain URL with STARTTLS (the default); "
                        "--allow-plaintext is for loopback tests only");
        case errc::mechanism_unavailable: {
            const auto* o = r.outcome;
            if (o != nullptr && o->capabilities.mechanisms().empty()) {
                const bool starttls = o->capabilities.has("STARTTLS") || o->capabilities.has("STLS");
                // The library's hint ("the server offers: no SASL mechanism ...") is replaced by the reason.
                if (!r.tls_active && starttls)
                    return "the server offers no login before TLS but offers STARTTLS: it accepts logins only over "
                           "TLS, so drop --allow-plaintext";
                return c.protocol == mail_protocol::smtp
                           ? "the server offers no authentication here: use the submission port (587 or 465)"
                           : "the server offers no authentication here";
            }
            return join(c.allow_fallback || c.password_file.empty()
                            ? "pick one of the offered mechanisms with --mech"
                            : "pick one of the offered mechanisms with --mech, or allow the password with "
                              "--allow-fallback");
        }
        case errc::invalid_user:
        case errc::invalid_token:
        case errc::invalid_password:
        case errc::invalid_ehlo_name:
            return join("check --user, --ehlo and the token or password file for stray control characters");
        default: break;
        }
    }
    if (r.outcome == nullptr) return lib;
    switch (r.outcome->verdict) {
    case mailauth::verdict::token_rejected:
        if (r.token_store && !r.refresh_error.empty())
            return join("the token store could not replace the rejected token (see 'refresh' above): fill it again "
                        "with mailauth-token auth-code or device");
        return join("check that the token has not expired, was issued for this user (--user must match the "
                    "token's user claim) and carries the scope the server wants");
    case mailauth::verdict::retry_without_initial_response: return join("retry with --initial-response never");
    case mailauth::verdict::tls_required:
        return join(c.allow_plaintext ? "the server accepts logins only over TLS: drop --allow-plaintext"
                                      : "the server accepts logins only over TLS");
    case mailauth::verdict::protocol_error:
        return join(
            fmt::format("is this really a {} server? ({})", protocol_name(c.protocol), default_ports(c.protocol)));
    default: return lib;
    }
}

void print_transcript(const run_report& r, const scrubber& scrub)
{
    std::size_t extra = 0;
    auto flush_extra = [&](std::size_t upto) {
        for (; extra < r.extra.size() && r.extra[extra].after <= upto; ++extra) {
            const auto& e = r.extra[extra];
            if (e.dir == 'T')
                fmt::print(stderr, "* {}\n", scrub(e.text));
            else
                fmt::print(stderr, "{}: {}\n", e.dir, scrub(e.text));
        }
    };
    std::size_t i = 0;
    if (r.outcome != nullptr) {
        for (auto line : r.outcome->transcript) {
            flush_extra(i++);
            fmt::print(stderr, "{}: {}\n", line.direction == mailauth::direction::client ? 'C' : 'S', scrub(line.text));
        }
    }
    flush_extra(static_cast<std::size_t>(-1));
}

void print_human(const run_report& r, const scrubber& scrub)
{
    const config& c = *r.cfg;
    fmt::print("mailauth-probe {} as {}\n", scrub(c.url), scrub(c.user));
    if (r.outcome == nullptr) {
        if (!r.peer.empty()) fmt::print("connected:    {} ({}) from {}\n", r.peer, r.family, r.local);
        fmt::print("result:       transport_error — {}\n", verdict_text(mailauth::verdict::transport_error));
        fmt::print("error:        {}: {}\n", r.connect_error.message(), scrub(r.transport_detail));
        if (const auto a = advice(r); !a.empty()) fmt::print("what to do:   {}\n", scrub(a));
        return;
    }
    const auto& o = *r.outcome;
    fmt::print("connected:    {} ({}) from {}\n", r.peer, r.family, r.local);
    if (r.tls_active) {
        fmt::print("tls:          {} {}, {}\n", r.tls.version, r.tls.cipher,
                   r.tls.verified ? fmt::format("certificate verified for {}", r.tls.verified_name)
                                  : std::string{"certificate NOT verified (--insecure)"});
        fmt::print("certificate:  {} (issuer {})\n", scrub(r.tls.subject), scrub(r.tls.issuer));
    } else {
        fmt::print("tls:          none\n");
    }
    fmt::print("result:       {} — {}\n", o.verdict, verdict_text(o.verdict));
    if (!o.mechanism.empty()) fmt::print("mechanism:    {}{}\n", o.mechanism, o.tls ? " over TLS" : " without TLS");
    if (!o.reply.empty()) fmt::print("reply:        {}\n", scrub(fmt::format("{}", o.reply)));
    if (o.has_oauth_error) {
        const auto& e = o.oauth_error;
        fmt::print("oauth error:  {}\n", scrub(e.raw));
        fmt::print("              status={} schemes={} scope={}{}\n", scrub(e.status), scrub(e.schemes), scrub(e.scope),
                   e.openid_configuration.empty() ? std::string{}
                                                  : " openid-configuration=" + scrub(e.openid_configuration));
    }
    if (o.error) {
        fmt::print("error:        {}", o.error);
        if (!r.transport_detail.empty()) fmt::print(" ({})", scrub(r.transport_detail));
        fmt::print("\n");
    }
    fmt::print("round trips:  {} for authentication, {} in all; {} attempt(s)\n", o.round_trips, o.total_round_trips,
               o.attempts);
    if (r.token_store) {
        fmt::print("token store:  {} token request(s){}\n", r.token_requests,
                   r.refreshed ? "; the rejected token was refreshed and the login retried" : "");
        if (!r.refresh_error.empty()) fmt::print("refresh:      failed: {}\n", scrub(r.refresh_error));
    }
    if (o.capabilities.known() || !o.capabilities.words().empty())
        fmt::print("capabilities: {}\n", scrub(o.capabilities.words()));
    if (!o.capabilities.mechanisms().empty())
        fmt::print("mechanisms:   {}\n", scrub(o.capabilities.mechanisms()));
    else if (!o.authenticated)
        fmt::print("mechanisms:   (none offered)\n");
    if (!o.notices.empty()) {
        std::string_view n = o.notices;
        while (!n.empty()) {
            const auto at = n.find('\n');
            fmt::print("notice:       {}\n", scrub(n.substr(0, at)));
            n.remove_prefix(at == std::string_view::npos ? n.size() : at + 1);
        }
    }
    if (r.session) {
        const auto& s = *r.session;
        if (s.error)
            fmt::print("session:      {} failed: {}\n", s.command, s.error.message());
        else
            fmt::print("session:      {} answered: {}\n", s.command, scrub(s.reply));
    }
    if (o.verdict != mailauth::verdict::authenticated)
        if (const auto a = advice(r); !a.empty()) fmt::print("what to do:   {}\n", scrub(a));
}

void print_json(const run_report& r, const scrubber& scrub)
{
    const config& c = *r.cfg;
    const mailauth::outcome* o = r.outcome;
    std::string out;
    {
        json_object j{out};
        j.string("url", scrub(c.url));
        j.string("protocol", protocol_name(c.protocol));
        j.string("host", c.host);
        j.number("port", c.port);
        j.string("user", scrub(c.user));
        j.boolean("authenticated", o != nullptr && o->authenticated);
        j.string("verdict", mailauth::to_string(o != nullptr ? o->verdict : mailauth::verdict::transport_error));
        j.number("exit_code", exit_for(r));
        if (o != nullptr && !o->mechanism.empty())
            j.string("mechanism", o->mechanism);
        else
            j.null("mechanism");
        j.boolean("tls", o != nullptr && o->tls);
        if (r.tls_active) {
            json_object t{j.key("tls_info")};
            t.string("version", r.tls.version);
            t.string("cipher", r.tls.cipher);
            t.boolean("verified", r.tls.verified);
            t.string_or_null("verified_name", r.tls.verified_name);
            t.string("subject", scrub(r.tls.subject));
            t.string("issuer", scrub(r.tls.issuer));
        } else {
            j.null("tls_info");
        }
        if (o != nullptr) {
            json_object t{j.key("connection")};
            t.string("peer", r.peer);
            t.string("local", r.local);
            t.string("family", r.family);
        } else {
            j.null("connection");
        }
        if (o != nullptr && !o->reply.empty()) {
            json_object t{j.key("reply")};
            t.string("status", scrub(o->reply.status));
            if (o->reply.code != 0)
                t.number("code", o->reply.code);
            else
                t.null("code");
            t.string_or_null("enhanced", o->reply.enhanced);
            t.string_or_null("response_code", scrub(o->reply.response_code));
            t.string_or_null("response_args", scrub(o->reply.response_args));
            t.string("text", scrub(o->reply.text));
        } else {
            j.null("reply");
        }
        if (o != nullptr && o->has_oauth_error) {
            const auto& e = o->oauth_error;
            json_object t{j.key("oauth_error")};
            t.string_or_null("status", scrub(e.status));
            t.string_or_null("schemes", scrub(e.schemes));
            t.string_or_null("scope", scrub(e.scope));
            t.string_or_null("openid_configuration", scrub(e.openid_configuration));
            t.string("raw", scrub(e.raw));
            if (e.json_error) t.string("json_error", e.json_error.message());
        } else {
            j.null("oauth_error");
        }
        j.number("round_trips", o != nullptr ? o->round_trips : 0);
        j.number("total_round_trips", o != nullptr ? o->total_round_trips : 0);
        j.number("attempts", o != nullptr ? o->attempts : 0);
        if (r.token_store) {
            j.number("token_requests", static_cast<long long>(r.token_requests));
            j.boolean("token_refreshed", r.refreshed);
            j.string_or_null("token_refresh_error", scrub(r.refresh_error));
        } else {
            j.null("token_requests");
        }
        const std::error_code ec = o != nullptr ? o->error.code : r.connect_error;
        if (ec) {
            json_object t{j.key("error")};
            t.string("category", ec.category().name());
            t.number("code", ec.value());
            if (ec.category() == mailauth::error_category())
                t.string("name", mailauth::to_string(static_cast<mailauth::errc>(ec.value())));
            else
                t.null("name");
            t.string("message", o != nullptr ? o->error.message() : ec.message());
            t.string_or_null("detail", scrub(r.transport_detail));
        } else {
            j.null("error");
        }
        const auto hint = o == nullptr || o->verdict != mailauth::verdict::authenticated ? advice(r) : std::string{};
        j.string_or_null("hint", scrub(hint));
        j.words("capabilities", o != nullptr ? scrub(o->capabilities.words()) : std::string{}, ' ');
        j.words("mechanisms", o != nullptr ? std::string{o->capabilities.mechanisms()} : std::string{}, ' ');
        j.words("notices", o != nullptr ? scrub(o->notices) : std::string{}, '\n');
        if (r.session) {
            json_object t{j.key("session")};
            t.string("command", r.session->command);
            t.boolean("ok", r.session->ok && !r.session->error);
            t.string("reply", scrub(r.session->reply));
            if (r.session->error)
                t.string("error", r.session->error.message());
            else
                t.null("error");
        } else {
            j.null("session");
        }
        if (c.transcript) {
            auto& a = j.key("transcript");
            a.push_back('[');
            bool first = true;
            auto entry = [&](std::string_view dir, std::string_view text) {
                if (!first) a.push_back(',');
                first = false;
                json_object e{a};
                e.string("dir", dir);
                e.string("line", scrub(text));
            };
            std::size_t x = 0, i = 0;
            auto flush = [&](std::size_t upto) {
                for (; x < r.extra.size() && r.extra[x].after <= upto; ++x)
                    entry(r.extra[x].dir == 'T' ? "TLS" : r.extra[x].dir == 'C' ? "C" : "S", r.extra[x].text);
            };
            if (o != nullptr)
                for (auto line : o->transcript) {
                    flush(i++);
                    entry(line.direction == mailauth::direction::client ? "C" : "S", line.text);
                }
            flush(static_cast<std::size_t>(-1));
            a.push_back(']');
        }
    }
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_report(const run_report& r, const scrubber& scrub)
{
    if (r.cfg->transcript) print_transcript(r, scrub);
    if (r.cfg->json)
        print_json(r, scrub);
    else
        print_human(r, scrub);
    std::fflush(stdout);
}

mailauth::options make_options(const config& c, const credentials& k)
{
    mailauth::options o;
    o.user = c.user;
    o.token = k.token;
    o.password = k.password;
    o.policy.mechanisms = c.mechanisms;
    o.policy.oauth = c.allow_fallback ? mailauth::oauth_use::optional : mailauth::oauth_use::mandatory;
    o.policy.initial_response = c.initial_response;
    o.policy.allow_plaintext = c.allow_plaintext;
    o.tls = c.implicit_tls      ? mailauth::tls_mode::implicit
            : c.allow_plaintext ? mailauth::tls_mode::none
                                : mailauth::tls_mode::starttls;
    o.host = c.host;
    o.port = c.port;
    if (!c.ehlo.empty()) o.ehlo_name = c.ehlo;
    return o;
}

#ifdef MAILAUTH_PROBE_TOKEN_STORE
using token_store_ptr = tk::stored_tokens*;
#else
using token_store_ptr = void*;
#endif

/// Logs in with `Machine` over the connected socket, ends the session, prints the report. With a token
/// store, a rejected token is refreshed once and the login retried on the same connection.
template <class Machine>
int run(const config& c, credentials& k, mailauth_examples::tls_socket& socket, run_report& r,
        [[maybe_unused]] token_store_ptr store)
{
    Machine machine{make_options(c, k)};
    probe_transport io{socket, machine.outcome(), r.extra};
    if (socket.is_tls()) {
        const auto& t = socket.tls();
        r.extra.push_back({0, 'T', fmt::format("TLS handshake done: {} {}", t.version, t.cipher)});
    }
#ifdef MAILAUTH_PROBE_TOKEN_STORE
    const auto& o = [&]() -> const mailauth::outcome& {
        if (store == nullptr) return mailauth::authenticate(io, machine);
        const auto before = store->requests_sent();
        const auto& out = mailauth::authenticate(io, machine, [&](const mailauth::outcome& rejected) {
            auto fresh = (*store)(rejected);
            if (fresh)
                k.refreshed = *fresh;
            else
                r.refresh_error = store->last_message().empty() ? "no new token" : store->last_message();
            return fresh;
        });
        r.refreshed = store->requests_sent() > before && r.refresh_error.empty();
        r.token_requests = store->requests_sent();
        return out;
    }();
#else
    const auto& o = mailauth::authenticate(io, machine);
#endif
    r.outcome = &o;
    if (o.verdict == mailauth::verdict::transport_error) r.transport_detail = socket.error_text();
    r.tls_active = socket.is_tls();
    r.tls = socket.tls();

    // The connection must still be usable after our exchange: end it properly when it is.
    const bool usable = socket.is_open() && o.verdict != mailauth::verdict::transport_error &&
                        o.verdict != mailauth::verdict::protocol_error;
    if (usable) {
        std::string tag = "Z1";
        if constexpr (std::is_same_v<Machine, mailauth::imap::client>)
            tag = mailauth_examples::next_imap_tag(machine.tag());
        socket.set_io_timeout(std::min(c.timeout, std::chrono::milliseconds{10000}));
        const auto at = o.transcript.size();
        r.session = mailauth_examples::close_session(io, c.protocol, tag, [&](char dir, std::string_view line) {
            r.extra.push_back({at, dir, std::string{line}});
        });
    }
    print_report(r, scrubber{k});
    return exit_for(r);
}

/// Exit status for a failed token request of the store.
#ifdef MAILAUTH_PROBE_TOKEN_STORE
int exit_for(tk::failure_kind f)
{
    switch (f) {
    case tk::failure_kind::none: return exit_authenticated;
    case tk::failure_kind::refused: return exit_rejected;
    case tk::failure_kind::usage:
    case tk::failure_kind::store: return exit_usage;
    case tk::failure_kind::network: return exit_network;
    case tk::failure_kind::protocol: return exit_protocol;
    }
    return exit_network;
}
#endif

/// A token request failed before any connection: status and message, on standard error only.
struct token_failure {
    int status;
    std::string message;
};

int probe(const config& c)
{
    credentials k = read_credentials(c);
    token_store_ptr store = nullptr;
#ifdef MAILAUTH_PROBE_TOKEN_STORE
    // Locks the store for the whole run, so nothing else rotates its refresh token meanwhile.
    std::optional<tk::stored_tokens> st;
    if (!c.oauth.store.empty()) {
        try {
            st.emplace(c.oauth);
        } catch (const tk::store_error& e) {
            throw usage_error(fmt::format("token store: {}", e.what()));
        } catch (const tk::config_error& e) {
            throw usage_error(e.what());
        }
        if (st->token(k.token))
            throw token_failure{exit_for(st->last_failure()),
                                fmt::format("no access token from the store {}: {}", c.oauth.store, st->last_message())};
        store = &*st;
    }
#endif
    mailauth_examples::connect_options co;
    co.host = c.host;
    co.port = c.port;
    co.bind_address = c.bind;
    co.connect_timeout = c.timeout;
    co.io_timeout = c.timeout;
    co.implicit_tls = c.implicit_tls;
    co.verify = !c.insecure;
    co.ca_file = c.ca_file;

    run_report r;
    r.cfg = &c;
#ifdef MAILAUTH_PROBE_TOKEN_STORE
    r.token_store = store != nullptr;
    if (store != nullptr) r.token_requests = store->requests_sent();
#endif
    mailauth_examples::tls_socket socket;
    if (const auto ec = socket.connect(co)) {
        r.connect_error = ec;
        r.transport_detail = socket.error_text();
        if (ec == mailauth::errc::invalid_argument) throw usage_error(socket.error_text());
        r.peer = socket.peer();
        r.local = socket.local();
        r.family = socket.family();
        if (socket.is_open()) r.extra.push_back({0, 'T', "TLS handshake failed: " + socket.error_text()});
        print_report(r, scrubber{k});
        return exit_for(r);
    }
    r.peer = socket.peer();
    r.local = socket.local();
    r.family = socket.family();
    switch (c.protocol) {
    case mail_protocol::imap: return run<mailauth::imap::client>(c, k, socket, r, store);
    case mail_protocol::pop3: return run<mailauth::pop3::client>(c, k, socket, r, store);
    case mail_protocol::smtp: return run<mailauth::smtp::client>(c, k, socket, r, store);
    }
    return exit_protocol;
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN); // a closed connection is an error code, not a signal
    try {
        const config c = parse_args(argc, argv);
        return probe(c);
    } catch (const usage_error& e) {
        fmt::print(stderr, "mailauth-probe: {}\n(mailauth-probe --help shows the options)\n", e.message);
        return exit_usage;
    } catch (const token_failure& e) {
        fmt::print(stderr, "mailauth-probe: {}\n", e.message);
        return e.status;
    } catch (const std::exception& e) {
        fmt::print(stderr, "mailauth-probe: internal error: {}\n", e.what());
        return exit_protocol;
    }
}
