// mailauth-token: gets OAuth 2.0 access tokens for mail into a token store — client credentials, refresh,
// device code, authorization code with PKCE through a loopback redirect — over libcurl. It never prints a
// token: the store file (mode 0600, replaced atomically) is the only place they go.
#include "curl_client.hpp"
#include "file_store.hpp"
#include "loopback.hpp"
#include "stored_tokens.hpp"
#include "token_config.hpp"

#include <mailauth/oauth/authorization.hpp>
#include <mailauth/oauth/device_flow.hpp>
#include <mailauth/oauth/grants.hpp>
#include <mailauth/oauth/providers.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/oauth/token_source.hpp>
#include <mailauth/transport.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace {

namespace oauth = mailauth::oauth;
namespace tk = mailauth_examples::token;
using mailauth::errc;
using std::chrono::seconds;
using sys_clock = std::chrono::system_clock;

constexpr std::string_view version = "0.1.0";

enum exit_status : int {
    exit_ok = 0,
    exit_refused = 1,  ///< the authorization server or the user said no (OAuth error, denied, expired)
    exit_usage = 2,    ///< bad options or input files
    exit_network = 3,  ///< no HTTP response (DNS, connect, TLS, timeout)
    exit_store = 4,    ///< the token store could not be read, locked or written
    exit_protocol = 5, ///< a malformed response or redirect (state, issuer)
};

constexpr std::string_view usage_text = R"(usage: mailauth-token COMMAND --store FILE [options]
Gets OAuth 2.0 access tokens for IMAP, POP3 and SMTP into a token store. Tokens are never printed.

Commands:
  client-credentials   an app-only token (RFC 6749 §4.4); needs --client-secret-file or --assertion-key
  refresh              a new access token with the stored refresh token (RFC 6749 §6); a rotated refresh
                       token is saved before anything else happens
  device               the device authorization grant (RFC 8628): shows a code to enter on another device
  auth-code            authorization code with PKCE (RFC 7636) through a loopback redirect (RFC 8252):
                       prints the URL to open in a browser and waits on http://127.0.0.1:PORT/callback
  status               what the store holds (expiry, scope, refresh token present), without any request

Options:
)";

constexpr std::string_view usage_tail = R"(  --if-needed                 client-credentials, refresh: only when the stored access token has less
                              than --margin left
  --margin SECONDS            (default: 300)
  --port N                    auth-code: loopback port (default: any free port)
  --redirect-path PATH        auth-code: path of the redirect URI (default: /callback)
  --prompt VALUE              auth-code: the prompt parameter (e.g. consent, needed for offline_access at
                              OpenID providers; default: the provider's)
  --login-hint NAME           auth-code: the account to preselect
  --issuer URL                auth-code: require this "iss" in the redirect (RFC 9207)
  --wait SECONDS              auth-code, device: how long to wait for the user (default: 600, device: until
                              the code expires)
  --ca-file FILE              the same as --token-ca-file
  --json                      print progress events and the result as JSON lines on standard output
  --help, --version

Exit status: 0 done; 1 refused by the server or the user (OAuth error, denied, expired); 2 usage or bad
input; 3 network or TLS failure; 4 token store failure; 5 malformed response or redirect.
)";

/// A failure to report: the exit status and what to say (never a token).
struct failure : std::exception {
    failure(int s, std::string m) : status(s), message(std::move(m)) {}
    const char* what() const noexcept override { return message.c_str(); }
    int status;
    std::string message;
    std::string error;       ///< OAuth error code, when the server sent one
    std::string description; ///< error_description
    unsigned http_status = 0;
    std::string hint;
};

struct cli {
    std::string command;
    tk::oauth_options o;
    bool if_needed = false;
    seconds margin{300};
    std::uint16_t port = 0;
    std::string redirect_path = "/callback";
    std::optional<std::string> prompt;
    std::string login_hint;
    std::string issuer;
    std::optional<seconds> wait;
    bool json = false;
};

// ---- output ------------------------------------------------------------------------------------------

/// One JSON object written member by member.
class json_line {
public:
    json_line& add(std::string_view name, std::string_view value)
    {
        key(name);
        tk::detail::append_json_string(text_, value);
        return *this;
    }
    json_line& add(std::string_view name, const char* value) { return add(name, std::string_view{value}); }
    json_line& add(std::string_view name, std::int64_t value)
    {
        key(name);
        text_ += std::to_string(value);
        return *this;
    }
    json_line& add(std::string_view name, bool value)
    {
        key(name);
        text_ += value ? "true" : "false";
        return *this;
    }
    json_line& add_null(std::string_view name)
    {
        key(name);
        text_ += "null";
        return *this;
    }
    std::string str() const { return text_ + "}"; }

private:
    void key(std::string_view name)
    {
        text_ += text_.size() > 1 ? "," : "";
        tk::detail::append_json_string(text_, name);
        text_ += ':';
    }
    std::string text_ = "{";
};

/// Human text on stdout, or with --json JSON lines on stdout and the human text on stderr.
class reporter {
public:
    explicit reporter(bool json) : json_(json) {}

    void say(std::string_view text) const
    {
        std::FILE* f = json_ ? stderr : stdout;
        std::fwrite(text.data(), 1, text.size(), f);
        std::fputc('\n', f);
        std::fflush(f);
    }

    void event(const json_line& j) const
    {
        if (!json_) return;
        const std::string s = j.str();
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }

    bool json() const noexcept { return json_; }

private:
    bool json_;
};

std::string utc_text(oauth::time_point t)
{
    const std::time_t tt = sys_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::int64_t unix_seconds(oauth::time_point t)
{
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

/// What a token request ended with, for the final report.
struct result_info {
    bool requested = true;
    std::string refresh_state; ///< new | rotated | unchanged | none
};

/// Prints the success report for the tokens now in `store`.
void report_success(const reporter& out, const cli& c, const tk::file_token_store& store, const oauth::token_set& t,
                    const result_info& info, std::string_view auth_method)
{
    const auto now = sys_clock::now();
    std::string expiry = "expiry unknown";
    std::optional<std::int64_t> left;
    if (t.expires_at) {
        left = std::chrono::duration_cast<seconds>(*t.expires_at - now).count();
        expiry = fmt::format("expires {} (in {} s)", utc_text(*t.expires_at), *left);
    }
    out.say(fmt::format("mailauth-token: {}, {}", info.requested ? "new access token" : "stored access token still fresh", expiry));
    out.say(fmt::format("  scope: {}", t.scope.empty() ? std::string{"(not named by the server)"} : t.scope));
    out.say(fmt::format("  refresh token: {}", info.refresh_state));
    out.say(fmt::format("token stored in {}", store.path()));
    json_line j;
    j.add("result", "ok").add("command", c.command).add("requested", info.requested);
    if (t.expires_at) j.add("expires_at", unix_seconds(*t.expires_at)).add("expires_in", *left);
    else j.add_null("expires_at").add_null("expires_in");
    j.add("scope", t.scope).add("refresh_token", info.refresh_state).add("client_auth", auth_method).add("store", store.path());
    out.event(j);
}

int report_failure(const reporter& out, const cli& c, const failure& f)
{
    std::string text = "mailauth-token: " + f.message;
    if (!f.hint.empty() && f.message.find(f.hint) == std::string::npos) text += "\n  hint: " + f.hint;
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
    json_line j;
    j.add("result", "error").add("command", c.command).add("exit", static_cast<std::int64_t>(f.status)).add("message", f.message);
    if (!f.error.empty()) j.add("error", f.error);
    if (!f.description.empty()) j.add("error_description", f.description);
    if (f.http_status != 0) j.add("http_status", static_cast<std::int64_t>(f.http_status));
    out.event(j);
    return f.status;
}

/// The exit status for a failure kind.
int status_of(tk::failure_kind k)
{
    switch (k) {
    case tk::failure_kind::none: return exit_ok;
    case tk::failure_kind::refused: return exit_refused;
    case tk::failure_kind::usage: return exit_usage;
    case tk::failure_kind::network: return exit_network;
    case tk::failure_kind::store: return exit_store;
    case tk::failure_kind::protocol: return exit_protocol;
    }
    return exit_network;
}

/// The exit status for a library or transport code.
int status_of(std::error_code ec) { return status_of(tk::kind_of(ec)); }

/// A failure from a token endpoint answer (OAuth error or malformed body).
failure token_failure(std::error_code ec, const oauth::token_error& e)
{
    failure f{status_of(ec), e.message()};
    f.error = e.error;
    f.description = e.description;
    f.http_status = e.http_status;
    f.hint = std::string{e.hint()};
    return f;
}

failure network_failure(std::error_code ec, const tk::curl_http_client& http, std::string_view what)
{
    std::string detail = http.last_error().empty() ? ec.message() : http.last_error();
    return failure{status_of(ec), fmt::format("{}: no response: {}", what, detail)};
}

std::string refresh_state(const mailauth::secret& before, const mailauth::secret& after)
{
    if (after.empty()) return "none";
    if (before.empty()) return "new";
    return before.reveal() == after.reveal() ? "unchanged" : "rotated";
}

tk::curl_http_client make_http(const cli& c)
{
    tk::curl_options co;
    co.timeout = c.o.http_timeout;
    co.ca_file = c.o.ca_file;
    return tk::curl_http_client{co};
}

// ---- command line ------------------------------------------------------------------------------------

std::uint16_t parse_port(std::string_view text)
{
    unsigned long n = 0;
    if (text.empty() || text.size() > 5) throw tk::config_error(fmt::format("bad port '{}'", text));
    for (char ch : text) {
        if (ch < '0' || ch > '9') throw tk::config_error(fmt::format("bad port '{}'", text));
        n = n * 10 + static_cast<unsigned long>(ch - '0');
    }
    if (n > 65535) throw tk::config_error(fmt::format("port {} out of range", text));
    return static_cast<std::uint16_t>(n);
}

cli parse_args(int argc, char** argv)
{
    cli c;
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
        const std::function<std::string()> value = [&, a]() -> std::string {
            if (inline_value) return std::string{*inline_value};
            if (i + 1 >= args.size()) throw tk::config_error(fmt::format("{} needs a value", a));
            return std::string{args[++i]};
        };
        if (a == "--help" || a == "-h") {
            c.command = "help";
            return c;
        }
        if (a == "--version") {
            c.command = "version";
            return c;
        }
        if (tk::parse_oauth_option(a, value, c.o)) continue;
        if (a == "--if-needed") c.if_needed = true;
        else if (a == "--margin") c.margin = tk::parse_seconds(a, value());
        else if (a == "--port") c.port = parse_port(value());
        else if (a == "--redirect-path") c.redirect_path = value();
        else if (a == "--prompt") c.prompt = value();
        else if (a == "--login-hint") c.login_hint = value();
        else if (a == "--issuer") c.issuer = value();
        else if (a == "--wait") c.wait = tk::parse_seconds(a, value());
        else if (a == "--json") c.json = true;
        else if (a == "--ca-file") c.o.ca_file = value(); // the tool's name for --token-ca-file
        else if (a == "--token" || a == "--access-token" || a == "--refresh-token" || a == "--print-token")
            throw tk::config_error(fmt::format("{}: tokens are never taken from or printed on the command line; "
                                               "they live in the --store file", a));
        else if (a.substr(0, 1) == "-") throw tk::config_error(fmt::format("unknown option {}", a));
        else if (c.command.empty()) c.command = a;
        else throw tk::config_error(fmt::format("unexpected argument '{}'", a));
    }
    if (c.command.empty()) throw tk::config_error("no command: client-credentials, refresh, device, auth-code or status");
    if (c.command != "client-credentials" && c.command != "refresh" && c.command != "device" && c.command != "auth-code" &&
        c.command != "status")
        throw tk::config_error(fmt::format("unknown command '{}'", c.command));
    if (c.o.store.empty()) throw tk::config_error("--store FILE is required: it is where the tokens go");
    if (c.redirect_path.empty() || c.redirect_path.front() != '/' ||
        c.redirect_path.find_first_of("?# ") != std::string::npos)
        throw tk::config_error("--redirect-path must be a path starting with '/'");
    return c;
}

// ---- commands ----------------------------------------------------------------------------------------

/// Locks the store or fails with exit status 4; says so when the lock finished an interrupted save.
tk::store_lock lock_store(tk::file_token_store& store, const reporter& out)
{
    tk::store_lock lock;
    if (auto ec = store.lock(lock)) throw failure{exit_store, fmt::format("token store: {}: {}", store.last_error(), ec.message())};
    if (store.recovered()) {
        out.say(fmt::format("mailauth-token: completed an interrupted save of {} (a writer died before its rename)", store.path()));
        json_line j;
        j.add("event", "store_recovered").add("store", store.path());
        out.event(j);
    }
    return lock;
}

/// Saves tokens from an interactive flow (device, auth-code) under the store's lock.
void save_new_tokens(tk::file_token_store& store, const oauth::token_key& key, const oauth::token_set& set, const reporter& out)
{
    tk::store_lock lock = lock_store(store, out);
    if (auto ec = store.save(key, set)) throw failure{exit_store, fmt::format("token store: {}: {}", store.last_error(), ec.message())};
}

// mailauth-probe --token-store joins through the same class: it is the refresh callback of authenticate().
static_assert(mailauth::token_refresher<tk::stored_tokens>);

/// client-credentials and refresh: through stored_tokens (a token_source on the locked store), so a rotated
/// refresh token is saved before anything else happens.
int run_renewal(const cli& c, const reporter& out)
{
    tk::stored_tokens tokens{c.o, c.command == "client-credentials" ? "client_credentials" : "", c.margin};
    if (tokens.recovered()) {
        out.say(fmt::format("mailauth-token: completed an interrupted save of {} (a writer died before its rename)", c.o.store));
        json_line j;
        j.add("event", "store_recovered").add("store", c.o.store);
        out.event(j);
    }
    const auto& setup = tokens.setup();
    if (setup.meta.grant == "client_credentials" && std::holds_alternative<oauth::public_client>(setup.auth))
        throw tk::config_error("the client credentials grant needs --client-secret-file or --assertion-key (RFC 6749 §4.4)");

    tk::store_contents before;
    bool existed = false;
    if (tokens.store().read(before, existed)) throw failure{exit_store, "token store: " + tokens.store().last_error()};

    mailauth::secret token;
    bool ok = false;
    if (c.if_needed) {
        ok = !tokens.token(token);
    } else if (auto fresh = tokens.refresh()) {
        ok = true;
        fresh->clear();
    }
    token.clear();
    if (!ok) {
        failure f{status_of(tokens.last_failure()), tokens.last_message()};
        const oauth::token_error e = tokens.last_error();
        if (tokens.last_failure() == tk::failure_kind::refused || tokens.last_failure() == tk::failure_kind::protocol) {
            f.error = e.error;
            f.description = e.description;
            f.http_status = e.http_status;
            f.hint = std::string{e.hint()};
        }
        throw f;
    }

    tk::store_contents after;
    bool exists = false;
    if (tokens.store().read(after, exists) || !exists) throw failure{exit_store, "token store: cannot read back " + c.o.store};
    result_info info;
    info.requested = tokens.requests_sent() > 0;
    info.refresh_state = refresh_state(before.tokens.refresh_token, after.tokens.refresh_token);
    report_success(out, c, tokens.store(), after.tokens, info, tk::auth_method_name(setup.auth));
    return exit_ok;
}

/// What the interactive flows need from the options and the preset.
struct interactive_setup {
    std::string token_endpoint;
    std::string client_id;
    std::string scope;
    oauth::client_auth auth;
    std::optional<oauth::provider> preset;
};

interactive_setup make_interactive_setup(const cli& c)
{
    interactive_setup s;
    s.preset = tk::resolve_provider(c.o);
    s.token_endpoint = !c.o.token_endpoint.empty() ? c.o.token_endpoint : s.preset ? s.preset->token_endpoint : std::string{};
    if (s.token_endpoint.empty()) throw tk::config_error("no token endpoint: give --token-endpoint or --provider");
    s.client_id = c.o.client_id;
    s.scope = tk::joined_scope(c.o);
    if (s.scope.empty() && s.preset) s.scope = s.preset->scope;
    s.auth = tk::make_client_auth(c.o, s.client_id);
    return s;
}

oauth::token_set tokens_from(oauth::token_response&& r, oauth::time_point now)
{
    oauth::token_set set;
    (void)oauth::apply_token_response(set, std::move(r), now);
    return set;
}

int run_device(const cli& c, const reporter& out)
{
    const interactive_setup s = make_interactive_setup(c);
    const std::string device_endpoint = !c.o.device_endpoint.empty() ? c.o.device_endpoint
                                        : s.preset ? s.preset->device_authorization_endpoint : std::string{};
    if (device_endpoint.empty()) throw tk::config_error("no device authorization endpoint: give --device-endpoint or --provider");
    tk::file_token_store store{c.o.store, {s.token_endpoint, s.client_id, "refresh_token"}};
    auto http = make_http(c);
    const auto random = tk::system_random();

    oauth::http_request req;
    if (auto e = oauth::device_authorization_request(device_endpoint, s.auth, s.scope, req, {sys_clock::now(), random}))
        throw failure{exit_usage, fmt::format("device authorization request: {}", e.message())};
    oauth::http_response res;
    if (auto ec = http.send(req, res)) throw network_failure(ec, http, "device authorization endpoint");
    oauth::device_authorization_result dar = oauth::parse_device_authorization(res);
    if (!dar) throw token_failure(dar.code, dar.error);

    const auto start = sys_clock::now();
    oauth::device_flow flow{std::move(dar.authorization), start};
    const auto& a = flow.authorization();
    out.say(fmt::format("To authorize, open {} and enter the code {}", a.verification_uri, a.user_code));
    if (!a.verification_uri_complete.empty()) out.say(fmt::format("  (or open {})", a.verification_uri_complete));
    if (!a.message.empty()) out.say(a.message);
    out.say(fmt::format("The code expires in {} s; polling every {} s.", a.expires_in.count(), flow.interval().count()));
    json_line ev;
    ev.add("event", "device_code").add("verification_uri", a.verification_uri).add("user_code", a.user_code);
    if (!a.verification_uri_complete.empty()) ev.add("verification_uri_complete", a.verification_uri_complete);
    ev.add("expires_in", static_cast<std::int64_t>(a.expires_in.count())).add("interval", static_cast<std::int64_t>(flow.interval().count()));
    out.event(ev);

    const auto give_up = c.wait ? start + *c.wait : flow.expires_at();
    int send_failures = 0;
    for (;;) {
        const auto next = flow.next_poll_time();
        if (next >= give_up || next >= flow.expires_at()) {
            failure f{exit_refused, next >= flow.expires_at() ? "the device code expired before the user finished"
                                                                : "gave up waiting for the user (--wait)"};
            f.error = "expired_token";
            throw f;
        }
        std::this_thread::sleep_until(next);
        const auto now = sys_clock::now();
        if (!flow.due(now)) continue;
        if (auto e = flow.poll_request(s.token_endpoint, s.auth, req, {now, random}))
            throw failure{exit_usage, fmt::format("device token request: {}", e.message())};
        res = {};
        if (auto ec = http.send(req, res)) {
            if (++send_failures >= 5) throw network_failure(ec, http, "token endpoint");
            flow.on_send_failure(sys_clock::now());
            out.say(fmt::format("  no response from the token endpoint ({}); next poll in {} s", http.last_error(), flow.interval().count()));
            continue;
        }
        send_failures = 0;
        oauth::device_poll p = flow.on_token_response(res, sys_clock::now());
        switch (p.status) {
        case oauth::device_poll_status::pending: continue;
        case oauth::device_poll_status::slow_down: {
            out.say(fmt::format("  the server asked to slow down: polling every {} s now", flow.interval().count()));
            json_line sd;
            sd.add("event", "slow_down").add("interval", static_cast<std::int64_t>(flow.interval().count()));
            out.event(sd);
            continue;
        }
        case oauth::device_poll_status::success: {
            const oauth::token_set set = tokens_from(std::move(p.token), sys_clock::now());
            save_new_tokens(store, {c.o.account, s.scope}, set, out);
            report_success(out, c, store, set, {true, set.refresh_token.empty() ? "none" : "new"}, tk::auth_method_name(s.auth));
            return exit_ok;
        }
        case oauth::device_poll_status::expired: {
            if (p.error.error == "expired_token") throw token_failure(p.code, p.error);
            failure f{exit_refused, "the device code expires before the next poll: the user did not finish in time"};
            f.error = "expired_token";
            throw f;
        }
        case oauth::device_poll_status::denied:
        case oauth::device_poll_status::failed: throw token_failure(p.code, p.error);
        }
    }
}

int run_auth_code(const cli& c, const reporter& out)
{
    const interactive_setup s = make_interactive_setup(c);
    const std::string endpoint = !c.o.authorize_endpoint.empty() ? c.o.authorize_endpoint
                                 : s.preset ? s.preset->authorization_endpoint : std::string{};
    if (endpoint.empty()) throw tk::config_error("no authorization endpoint: give --authorize-endpoint or --provider");
    tk::file_token_store store{c.o.store, {s.token_endpoint, s.client_id, "refresh_token"}};
    auto http = make_http(c);
    const auto random = tk::system_random();

    tk::loopback_listener listener;
    if (auto ec = listener.open(c.port)) throw failure{exit_network, fmt::format("cannot listen on 127.0.0.1:{}: {}", c.port, ec.message())};
    const std::string redirect_uri = oauth::loopback_redirect_uri(listener.port(), c.redirect_path);

    oauth::authorization_request areq = s.preset ? s.preset->authorization(s.client_id, redirect_uri) : oauth::authorization_request{};
    areq.endpoint = endpoint;
    areq.client_id = s.client_id;
    areq.redirect_uri = redirect_uri;
    areq.scope = s.scope;
    if (c.prompt) areq.prompt = *c.prompt;
    areq.login_hint = c.login_hint;
    oauth::authorization_session session;
    if (auto ec = oauth::begin_authorization(areq, random, session)) throw failure{exit_usage, "no randomness: " + ec.message()};
    session.issuer = c.issuer;
    std::string url;
    if (auto e = oauth::authorization_url(areq, url)) throw tk::config_error(fmt::format("authorization URL: {}", e.message()));

    out.say("Open this URL in a browser to authorize:");
    out.say("");
    out.say("  " + url);
    out.say("");
    out.say(fmt::format("Waiting for the redirect to {} ...", redirect_uri));
    json_line ev;
    ev.add("event", "authorize").add("url", url).add("redirect_uri", redirect_uri);
    out.event(ev);

    const auto deadline = std::chrono::steady_clock::now() + c.wait.value_or(seconds{600});
    mailauth::secret code;
    for (;;) {
        tk::redirect_request r;
        if (auto ec = listener.next(deadline, r)) {
            failure f{ec == errc::timeout ? exit_refused : exit_network,
                      ec == errc::timeout ? "no redirect arrived in time (--wait)" : "redirect listener: " + ec.message()};
            if (ec == errc::timeout) f.error = "timeout";
            throw f;
        }
        if (r.method != "GET" || r.path() != c.redirect_path) {
            tk::loopback_listener::respond(r, 404, "Not Found", "<p>Not found.</p>");
            continue;
        }
        oauth::redirect_result rr = oauth::parse_redirect(r.target.reveal(), session);
        switch (rr.status) {
        case oauth::redirect_status::code:
            tk::loopback_listener::respond(r, 200, "OK",
                "<h1>Authorization received</h1><p>You can close this window and return to mailauth-token.</p>");
            code = std::move(rr.authorization_code);
            break;
        case oauth::redirect_status::state_mismatch:
        case oauth::redirect_status::malformed:
        case oauth::redirect_status::missing_code: {
            // Not the redirect of this request (a stale tab, or a forged request): refuse it, keep waiting.
            tk::loopback_listener::respond(r, 400, "Bad Request", "<h1>Refused</h1><p>This is not the answer to the "
                                                                  "pending authorization request.</p>");
            out.say("  refused a request to the redirect URI: " + rr.message());
            json_line rj;
            rj.add("event", "redirect_refused").add("reason", rr.message());
            out.event(rj);
            continue;
        }
        case oauth::redirect_status::issuer_mismatch:
            tk::loopback_listener::respond(r, 400, "Bad Request", "<h1>Refused</h1><p>Wrong issuer.</p>");
            throw failure{exit_protocol, rr.message()};
        case oauth::redirect_status::error: {
            tk::loopback_listener::respond(r, 200, "OK", "<h1>Authorization failed</h1><p>You can close this window.</p>");
            failure f{exit_refused, rr.message()};
            f.error = rr.error;
            f.description = rr.error_description;
            throw f;
        }
        }
        if (!code.empty()) break;
    }

    oauth::http_request req;
    if (auto e = oauth::authorization_code_request(s.token_endpoint, s.auth, code, redirect_uri, session.proof.verifier, req,
                                                   {sys_clock::now(), random}))
        throw failure{exit_usage, fmt::format("token request: {}", e.message())};
    code.clear();
    oauth::http_response res;
    if (auto ec = http.send(req, res)) throw network_failure(ec, http, "token endpoint");
    oauth::token_result t = oauth::parse_token_response(res);
    if (!t) throw token_failure(t.code, t.error);
    const oauth::token_set set = tokens_from(std::move(t.token), sys_clock::now());
    save_new_tokens(store, {c.o.account, s.scope}, set, out);
    report_success(out, c, store, set, {true, set.refresh_token.empty() ? "none" : "new"}, tk::auth_method_name(s.auth));
    return exit_ok;
}

int run_status(const cli& c, const reporter& out)
{
    tk::file_token_store store{c.o.store};
    tk::store_contents sc;
    bool exists = false;
    if (auto ec = store.read(sc, exists)) throw failure{exit_store, fmt::format("token store: {}: {}", store.last_error(), ec.message())};
    if (!exists) throw failure{exit_store, fmt::format("token store: {} does not exist", store.path())};
    const auto now = sys_clock::now();
    const auto& t = sc.tokens;
    out.say(fmt::format("store:          {}", store.path()));
    out.say(fmt::format("token endpoint: {}", sc.meta.token_endpoint));
    out.say(fmt::format("client id:      {}", sc.meta.client_id));
    out.say(fmt::format("grant:          {}", sc.meta.grant));
    out.say(fmt::format("account:        {}", sc.key.account));
    out.say(fmt::format("scope:          {} (requested: {})", t.scope, sc.key.scope));
    out.say(fmt::format("access token:   {}", t.access_token.empty() ? "none"
                                              : !t.expires_at ? "present, expiry unknown"
                                              : fmt::format("{} {} ({} s)", *t.expires_at > now ? "expires" : "EXPIRED",
                                                            utc_text(*t.expires_at),
                                                            std::chrono::duration_cast<seconds>(*t.expires_at - now).count())));
    out.say(fmt::format("refresh token:  {}", t.refresh_token.empty() ? "none" : "present"));
    json_line j;
    j.add("result", "ok").add("command", "status").add("store", store.path()).add("token_endpoint", sc.meta.token_endpoint)
        .add("client_id", sc.meta.client_id).add("grant", sc.meta.grant).add("account", sc.key.account)
        .add("requested_scope", sc.key.scope).add("scope", t.scope).add("access_token", !t.access_token.empty())
        .add("refresh_token", !t.refresh_token.empty());
    if (t.expires_at) j.add("expires_at", unix_seconds(*t.expires_at));
    else j.add_null("expires_at");
    out.event(j);
    return exit_ok;
}

} // namespace

int main(int argc, char** argv)
{
    cli c;
    try {
        c = parse_args(argc, argv);
    } catch (const tk::config_error& e) {
        std::fprintf(stderr, "mailauth-token: %s\n(see mailauth-token --help)\n", e.what());
        return exit_usage;
    }
    if (c.command == "help") {
        std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
        std::fwrite(tk::oauth_options_usage.data(), 1, tk::oauth_options_usage.size(), stdout);
        std::fwrite(usage_tail.data(), 1, usage_tail.size(), stdout);
        return exit_ok;
    }
    if (c.command == "version") {
        std::printf("mailauth-token %.*s\n", static_cast<int>(version.size()), version.data());
        return exit_ok;
    }
    const reporter out{c.json};
    try {
        if (c.command == "client-credentials" || c.command == "refresh") return run_renewal(c, out);
        if (c.command == "device") return run_device(c, out);
        if (c.command == "auth-code") return run_auth_code(c, out);
        return run_status(c, out);
    } catch (const tk::config_error& e) {
        return report_failure(out, c, failure{exit_usage, e.what()});
    } catch (const tk::store_error& e) {
        return report_failure(out, c, failure{exit_store, std::string{"token store: "} + e.what()});
    } catch (const failure& f) {
        return report_failure(out, c, f);
    } catch (const std::exception& e) {
        return report_failure(out, c, failure{exit_network, std::string{"unexpected error: "} + e.what()});
    }
}
