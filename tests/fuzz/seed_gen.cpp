// Builds the fuzz seed corpora from the real server transcripts (tests/integration/harness/transcripts) and
// from the string literals of the unit tests (their byte-exact vectors). Run at build time:
//   mailauth_fuzz_seed_gen <out dir> <transcripts dir> <unit test dir> <examples dir>
// Writes <out dir>/<target>/<name> for the targets smtp, imap, pop3, base64, json, reply, oauth_response, redirect.
#include "machine_input.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using namespace mailauth_fuzz;

namespace {

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// The string literals of a C++ source, escapes decoded, adjacent literals joined ("a" "b" -> "ab").
std::vector<std::string> literals(std::string_view src)
{
    std::vector<std::string> out;
    bool joinable = false; // the previous token was a literal and only whitespace/comments followed
    std::size_t i = 0;
    auto push = [&](std::string s) {
        if (joinable && !out.empty()) out.back() += s;
        else out.push_back(std::move(s));
        joinable = true;
    };
    while (i < src.size()) {
        const char c = src[i];
        if (c == '/' && i + 1 < src.size() && src[i + 1] == '/') {
            i = src.find('\n', i);
            if (i == std::string_view::npos) break;
            continue;
        }
        if (c == '/' && i + 1 < src.size() && src[i + 1] == '*') {
            i = src.find("*/", i + 2);
            if (i == std::string_view::npos) break;
            i += 2;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            continue;
        }
        if (c == '\'') { // character literal: skip it
            ++i;
            while (i < src.size() && src[i] != '\'') i += src[i] == '\\' ? 2 : 1;
            ++i;
            joinable = false;
            continue;
        }
        if (c == 'R' && i + 1 < src.size() && src[i + 1] == '"') { // raw string R"delim(...)delim"
            const auto open = src.find('(', i + 2);
            if (open == std::string_view::npos) break;
            const std::string close = ")" + std::string{src.substr(i + 2, open - i - 2)} + "\"";
            const auto end = src.find(close, open + 1);
            if (end == std::string_view::npos) break;
            push(std::string{src.substr(open + 1, end - open - 1)});
            i = end + close.size();
            continue;
        }
        if (c == '"') {
            std::string s;
            ++i;
            while (i < src.size() && src[i] != '"') {
                if (src[i] != '\\') {
                    s += src[i++];
                    continue;
                }
                ++i;
                if (i >= src.size()) break;
                const char e = src[i++];
                switch (e) {
                case 'n': s += '\n'; break;
                case 'r': s += '\r'; break;
                case 't': s += '\t'; break;
                case 'a': s += '\a'; break;
                case 'b': s += '\b'; break;
                case 'f': s += '\f'; break;
                case 'v': s += '\v'; break;
                case 'x': {
                    int v = 0;
                    while (i < src.size() && hex_digit(src[i]) >= 0) v = v * 16 + hex_digit(src[i++]);
                    s += static_cast<char>(v & 0xFF);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i < src.size() && src[i] >= '0' && src[i] <= '7'; ++k)
                            v = v * 8 + (src[i++] - '0');
                        s += static_cast<char>(v & 0xFF);
                    } else {
                        s += e; // \" \\ \' \?
                    }
                }
            }
            ++i;
            push(std::move(s));
            continue;
        }
        joinable = false;
        ++i;
    }
    return out;
}

struct corpus {
    fs::path dir;
    std::set<std::string> seen;
    int count = 0;

    void add(const std::string& name, const std::string& data)
    {
        if (data.size() > 16384 || !seen.insert(data).second) return;
        std::string file = name;
        for (char& c : file)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
        std::ofstream(dir / (file + "-" + std::to_string(count++)), std::ios::binary) << data;
    }
};

/// The server lines of a script or transcript ("S: line"), '\n'-joined.
std::string server_lines(std::string_view text)
{
    std::string out;
    std::istringstream in{std::string{text}};
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("S: ", 0) == 0) out.append(line.substr(3)).push_back('\n');
        else if (line == "S:") out.push_back('\n');
    }
    return out;
}

bool has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

/// Flags that replay a transcript of the Dovecot harness as recorded (from its file name).
std::uint8_t transcript_flags(std::string_view name)
{
    fuzz_tls tls = fuzz_tls::none_allowed;
    if (name.rfind("imaps_", 0) == 0 || name.rfind("pop3s_", 0) == 0) tls = fuzz_tls::implicit;
    else if (has(name, "starttls") || has(name, "stls")) tls = fuzz_tls::starttls;
    fuzz_creds creds = fuzz_creds::token;
    if (has(name, "oauthbearer")) creds = fuzz_creds::oauthbearer;
    else if (has(name, "xoauth2")) creds = fuzz_creds::xoauth2;
    else if (has(name, "login_command") || has(name, "user_pass")) creds = fuzz_creds::native;
    else if (has(name, "login")) creds = fuzz_creds::login_plain;
    else if (has(name, "plain")) creds = fuzz_creds::password;
    const fuzz_ir ir = has(name, "no_ir") ? fuzz_ir::never : fuzz_ir::automatic;
    return make_flags_a(tls, ir, creds, has(name, "expired"));
}

enum class proto { smtp, imap, pop3, unknown };

proto guess_protocol(std::string_view script)
{
    if (has(script, "EHLO") || has(script, "S: 220") || has(script, "S: 250")) return proto::smtp;
    if (has(script, "CAPA") || has(script, "S: +OK") || has(script, "S: -ERR")) return proto::pop3;
    if (has(script, "S: * ") || has(script, "AUTHENTICATE") || has(script, " LOGIN ")) return proto::imap;
    return proto::unknown;
}

std::vector<std::string> literals_of(const fs::path& file)
{
    if (!fs::exists(file)) return {};
    return literals(read_file(file));
}

std::string with_selector(unsigned sel, std::string_view body)
{
    std::string s(1, static_cast<char>(sel));
    s.append(body);
    return s;
}

std::string base64_decode_lenient(std::string_view in)
{
    static constexpr std::string_view chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        const auto v = chars.find(c);
        if (v == std::string_view::npos) break;
        acc = (acc << 6 | static_cast<unsigned>(v)) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>(acc >> bits & 0xFF));
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <out dir> <transcripts dir> <unit test dir> <examples dir>\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1], transcripts = argv[2], unit = argv[3], examples = argv[4];
    std::map<std::string, corpus> c;
    for (const char* t : {"smtp", "imap", "pop3", "base64", "json", "reply", "oauth_response", "redirect"}) {
        c[t].dir = out / t;
        fs::remove_all(c[t].dir);
        fs::create_directories(c[t].dir);
    }
    const char* proto_names[] = {"smtp", "imap", "pop3"};

    // --- Machines: the real transcripts, as recorded and in a few variations --------------------------------
    std::vector<fs::path> files;
    if (fs::is_directory(transcripts))
        for (const auto& e : fs::directory_iterator(transcripts))
            if (e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> server_texts; // every server line of every transcript, for the grammar seeds
    for (const auto& f : files) {
        const std::string name = f.stem().string();
        const std::string text = read_file(f);
        const std::string lines = server_lines(text);
        std::string target = name.rfind("smtp", 0) == 0 ? "smtp" : name.rfind("imap", 0) == 0 ? "imap" : "pop3";
        const std::uint8_t a = transcript_flags(name);
        const std::uint8_t plain_b = make_flags_b(fuzz_user::plain, fuzz_size::normal);
        c[target].add(name, make_input(a, plain_b, lines));
        c[target].add(name + "-host-refresh", make_input(a | flag_refresh, make_flags_b(fuzz_user::utf8_gs2, fuzz_size::normal, flag_host), lines));
        c[target].add(name + "-small", make_input(a, make_flags_b(fuzz_user::domain, fuzz_size::microsoft, flag_small_limits), lines));
        c[target].add(name + "-ir-always", make_input(static_cast<std::uint8_t>((a & ~0x0Cu) | 0x04u),
                                                      make_flags_b(fuzz_user::long_name, fuzz_size::large, flag_authzid), lines));
        server_texts.push_back(lines);
        // The challenges' JSON, for the JSON reader.
        std::istringstream in{lines};
        for (std::string line; std::getline(in, line);) {
            std::string payload;
            if (line.rfind("+ ", 0) == 0) payload = line.substr(2);
            else if (line.rfind("334 ", 0) == 0) payload = line.substr(4);
            if (payload.empty()) continue;
            c["base64"].add(name + "-challenge", payload);
            const auto json = base64_decode_lenient(payload);
            if (!json.empty() && json[0] == '{') {
                c["json"].add(name + "-challenge", with_selector(0, json));
                c["reply"].add(name + "-challenge", with_selector(5, "user@example.com\xFFtoken\xFF\xFF\xFF" + json));
            }
        }
    }

    // --- Machines: the scripts of the unit tests and examples ------------------------------------------------
    for (const char* src : {"smtp_test.cpp", "imap_test.cpp", "pop3_test.cpp", "bad_input_test.cpp", "transport_test.cpp",
                            "sasl_test.cpp"}) {
        for (const auto& lit : literals_of(unit / src)) {
            if (!has(lit, "S: ")) continue;
            const auto p = guess_protocol(lit);
            if (p == proto::unknown) continue;
            const auto lines = server_lines(lit);
            auto& corp = c[proto_names[static_cast<int>(p)]];
            corp.add(src, make_input(make_flags_a(fuzz_tls::implicit, fuzz_ir::automatic, fuzz_creds::token),
                                     make_flags_b(fuzz_user::plain, fuzz_size::normal), lines));
            corp.add(src, make_input(make_flags_a(fuzz_tls::starttls, fuzz_ir::automatic, fuzz_creds::both_optional),
                                     make_flags_b(fuzz_user::plain, fuzz_size::normal), lines));
        }
    }
    for (const char* src : {"demo.cpp", "offline_test.cpp"}) {
        for (const auto& lit : literals_of(examples / src)) {
            if (!has(lit, "S: ")) continue;
            const auto p = guess_protocol(lit);
            if (p == proto::unknown) continue;
            c[proto_names[static_cast<int>(p)]].add(
                src, make_input(make_flags_a(fuzz_tls::implicit, fuzz_ir::automatic, fuzz_creds::token, true),
                                make_flags_b(fuzz_user::plain, fuzz_size::normal), server_lines(lit)));
        }
    }

    // --- Base64: the unit test vectors ------------------------------------------------------------------------
    for (const char* src : {"base64_test.cpp", "sasl_test.cpp", "oauth_pkce_test.cpp"})
        for (const auto& lit : literals_of(unit / src))
            if (lit.size() <= 4096) c["base64"].add(src, lit);

    // --- JSON and token responses: the unit test documents -----------------------------------------------------
    for (const char* src : {"json_test.cpp", "oauth_token_response_test.cpp", "oauth_device_flow_test.cpp",
                            "oauth_token_source_test.cpp", "sasl_test.cpp", "smtp_test.cpp"}) {
        for (const auto& lit : literals_of(unit / src)) {
            const auto first = lit.find_first_not_of(" \t\r\n");
            if (first == std::string::npos || (lit[first] != '{' && lit[first] != '[') || lit.size() > 8192) continue;
            c["json"].add(src, with_selector(0, lit));
            c["json"].add(src, with_selector(0x5B, lit)); // tight limits
            if (lit[first] != '{') continue;
            c["oauth_response"].add(src, with_selector(0x00, lit));       // 200, token response
            c["oauth_response"].add(src, with_selector(0x02, lit));       // 400, token response
            c["oauth_response"].add(src, with_selector(0x08, lit));       // 200, device authorization
            std::string twice = lit;
            twice.append("\n--\n").append(lit);
            c["oauth_response"].add(src, with_selector(0x12, twice)); // 400, device flow
        }
    }
    c["oauth_response"].add("device-flow", with_selector(0x12, "{\"error\":\"authorization_pending\"}\n--\n"
                                                                "{\"error\":\"slow_down\"}\n--\n"
                                                                "{\"error\":\"authorization_pending\"}\n--\n"
                                                                "{\"error\":\"access_denied\"}"));
    c["oauth_response"].add("device-flow-ok", with_selector(0x10, "{\"access_token\":\"at-1\",\"token_type\":\"Bearer\","
                                                                   "\"expires_in\":3599,\"refresh_token\":\"rt-1\"}"));

    // --- Reply grammars: every server line of the transcripts, and the grammar tests' vectors -------------------
    for (const auto& text : server_texts) {
        std::istringstream in{text};
        for (std::string line; std::getline(in, line);) {
            c["reply"].add("smtp-line", with_selector(0, line));
            if (line.size() > 4 && line[0] >= '2' && line[0] <= '5') c["reply"].add("enhanced", with_selector(1, line.substr(4)));
            const auto bracket = line.find('[');
            if (bracket != std::string::npos) c["reply"].add("response-code", with_selector(2, line.substr(bracket)));
            if (has(line, "AUTH") || has(line, "CAPABILITY") || has(line, "SASL"))
                c["reply"].add("capabilities", with_selector(3, line));
        }
    }
    for (const auto& lit : literals_of(unit / "grammar_test.cpp"))
        for (unsigned sel = 0; sel < 5; ++sel) c["reply"].add("grammar_test", with_selector(sel, lit));
    c["reply"].add("sasl", with_selector(5, "someuser@example.com\xFFya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\xFF"
                                            "imap.example.com\xFF" "admin\xFF{\"status\":\"invalid_token\"}"));
    c["reply"].add("sasl-injection", with_selector(5, "u\r\nA2 LOGOUT\xFFt\x01x\xFFh\xFF\xFF"));

    // --- Redirects and URLs -----------------------------------------------------------------------------------
    for (const char* src : {"oauth_authorization_test.cpp", "url_test.cpp", "oauth_providers_test.cpp"}) {
        for (const auto& lit : literals_of(unit / src)) {
            if (!has(lit, "?") && !has(lit, "://") && !has(lit, "=")) continue;
            if (lit.size() > 4096) continue;
            c["redirect"].add(src, with_selector(1, lit));
            c["redirect"].add(src, with_selector(5, lit));
        }
    }
    const std::string long_state = "q8Fh2mZ0kPZ4yW1nB7dXcVtR3sLgA6eJ-u_oIiN9";
    c["redirect"].add("code", with_selector(0, "/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz"));
    c["redirect"].add("code-iss", with_selector(5, "/callback?code=M.C507_BAY.2.U.1a2b&state=" + long_state +
                                                       "&iss=https%3A%2F%2Flogin.example.com"));
    c["redirect"].add("error", with_selector(1, "http://127.0.0.1:53682/callback?error=access_denied&error_description="
                                                  "The+user+denied+access&state=" + long_state + "#_=_"));
    c["redirect"].add("encoded-state", with_selector(2, "/cb?state=a+b%2Bc%2Fd%3De%26f&code=abc"));
    c["redirect"].add("utf8-state", with_selector(3, "/cb?state=%C3%A9t%C3%A9&code=abc&iss=x"));
    c["redirect"].add("url", with_selector(0, "https://[::1]:8443/token?x=1"));

    int total = 0;
    for (const auto& [name, corp] : c) {
        std::printf("  %-15s %3d seeds\n", name.c_str(), corp.count);
        total += corp.count;
    }
    std::printf("mailauth fuzz seeds: %d files in %s\n", total, out.string().c_str());
    return 0;
}
