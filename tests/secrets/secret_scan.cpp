// secret-scan: runs a program and scans everything it prints (stdout, stderr) and the files it leaves (logs,
// transcripts) for marker credentials, raw and base64/base64url-encoded at any alignment. POSIX only.
//
//   mailauth_secret_scan [--marker M]... [--file PATH]... [--dir DIR]... [--expect-exit N|any]
//                        [--timeout SECONDS] [--quiet] [-- PROGRAM [ARG]...]
//
// Exits 0 when the program ended as expected and no marker was found; 1 on a hit or an unexpected exit;
// 2 on bad usage. The program gets MAILAUTH_SECRET_MARKERS (the markers, '\n'-separated) in its environment.
// A hit is reported with its form, source and offset; the marker bytes themselves are never printed.
#include <algorithm>
#include <cerrno>
#include <ctime>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct pattern {
    std::string bytes;
    std::string form;   ///< "raw", "base64 (alignment 1)", ...
    std::size_t marker; ///< index of the marker
};

constexpr std::string_view standard_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 characters that depend only on `marker` when it starts `shift` bytes into the encoded data:
/// whatever surrounds the marker, any base64 text carrying it contains this run.
std::string base64_core(std::string_view marker, std::size_t shift, std::string_view alphabet)
{
    std::vector<int> bits;
    for (std::size_t i = 0; i < shift * 8; ++i) bits.push_back(0);
    for (char c : marker)
        for (int b = 7; b >= 0; --b) bits.push_back((static_cast<unsigned char>(c) >> b) & 1);
    std::string out;
    const std::size_t first = (shift * 8 + 5) / 6, total = bits.size();
    for (std::size_t k = first; 6 * k + 6 <= total; ++k) {
        int v = 0;
        for (std::size_t b = 0; b < 6; ++b) v = v << 1 | bits[6 * k + b];
        out.push_back(alphabet[static_cast<std::size_t>(v)]);
    }
    return out;
}

std::vector<pattern> patterns_of(const std::vector<std::string>& markers)
{
    std::vector<pattern> ps;
    for (std::size_t i = 0; i < markers.size(); ++i) {
        ps.push_back({markers[i], "raw", i});
        for (std::size_t shift = 0; shift < 3; ++shift) {
            const auto s = base64_core(markers[i], shift, standard_alphabet);
            const auto u = base64_core(markers[i], shift, url_alphabet);
            ps.push_back({s, "base64 (alignment " + std::to_string(shift) + ")", i});
            if (u != s) ps.push_back({u, "base64url (alignment " + std::to_string(shift) + ")", i});
        }
    }
    return ps;
}

int hits = 0;
bool quiet = false;

void scan(std::string_view text, const std::string& source, const std::vector<pattern>& ps)
{
    for (const auto& p : ps) {
        for (auto at = text.find(p.bytes); at != std::string_view::npos; at = text.find(p.bytes, at + 1)) {
            ++hits;
            // Context around the hit, with the hit itself left out and control bytes shown as '.'.
            const auto from = at >= 40 ? at - 40 : 0;
            std::string before{text.substr(from, at - from)}, after{text.substr(at + p.bytes.size(), 40)};
            for (auto* s : {&before, &after})
                for (char& c : *s)
                    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '.';
            std::fprintf(stderr, "secret-scan: HIT marker #%zu (%s) in %s at offset %zu: ...%s<MARKER>%s...\n",
                         p.marker + 1, p.form.c_str(), source.c_str(), at, before.c_str(), after.c_str());
            if (hits > 50) return;
        }
    }
}

bool read_file(const std::filesystem::path& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr, "secret-scan: %s\nusage: mailauth_secret_scan [--marker M]... [--file PATH]... [--dir DIR]... "
                         "[--expect-exit N|any] [--timeout SECONDS] [--quiet] [-- PROGRAM [ARG]...]\n", why);
    std::exit(2);
}

/// Runs argv, collecting its stdout and stderr; returns the wait status, or -1 on a timeout.
int run(char** argv, const std::vector<std::string>& markers, int timeout, std::string& out, std::string& err)
{
    int o[2], e[2];
    if (pipe(o) != 0 || pipe(e) != 0) {
        std::perror("secret-scan: pipe");
        std::exit(1);
    }
    std::string env_markers;
    for (const auto& m : markers) env_markers.append(m).push_back('\n');
    const pid_t pid = fork();
    if (pid < 0) {
        std::perror("secret-scan: fork");
        std::exit(1);
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]);
        close(e[0]);
        close(o[1]);
        close(e[1]);
        setenv("MAILAUTH_SECRET_MARKERS", env_markers.c_str(), 1);
        execvp(argv[0], argv);
        std::fprintf(stderr, "secret-scan: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    pollfd fds[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
    std::string* sinks[2] = {&out, &err};
    int open_fds = 2;
    const auto start = std::time(nullptr);
    bool timed_out = false;
    while (open_fds > 0) {
        if (std::time(nullptr) - start > timeout) {
            timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, 1000) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            char buf[65536];
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    return timed_out ? -1 : status;
}

} // namespace

static int scan_main(int argc, char** argv)
{
    std::vector<std::string> markers, files, dirs;
    std::string expect = "0";
    int timeout = 600;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        if (a == "--marker") markers.push_back(value());
        else if (a == "--file") files.push_back(value());
        else if (a == "--dir") dirs.push_back(value());
        else if (a == "--expect-exit") expect = value();
        else if (a == "--timeout") timeout = std::stoi(value());
        else if (a == "--quiet") quiet = true;
        else if (a == "--") {
            ++i;
            break;
        } else usage(("unknown option " + std::string{a}).c_str());
    }
    if (markers.empty()) usage("no --marker given");
    for (const auto& m : markers)
        if (m.size() < 6) usage("a marker must have at least 6 bytes (shorter ones match by chance)");
    const auto ps = patterns_of(markers);

    bool ok = true;
    if (i < argc) {
        std::string out, err;
        const int status = run(argv + i, markers, timeout, out, err);
        if (!quiet) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            std::fwrite(err.data(), 1, err.size(), stdout);
        }
        scan(out, "stdout", ps);
        scan(err, "stderr", ps);
        std::string what;
        if (status == -1) what = "timed out after " + std::to_string(timeout) + "s";
        else if (WIFSIGNALED(status)) what = "killed by signal " + std::to_string(WTERMSIG(status));
        else if (expect != "any" && WEXITSTATUS(status) != std::stoi(expect))
            what = "exit code " + std::to_string(WEXITSTATUS(status)) + ", expected " + expect;
        if (!what.empty()) {
            std::fprintf(stderr, "secret-scan: %s: %s\n", argv[i], what.c_str());
            ok = false;
        }
        std::printf("secret-scan: %s: %zu bytes of stdout, %zu of stderr scanned\n", argv[i], out.size(), err.size());
    }
    std::size_t scanned_files = 0;
    for (const auto& f : files) {
        std::string text;
        if (!read_file(f, text)) {
            std::fprintf(stderr, "secret-scan: cannot read %s\n", f.c_str());
            ok = false;
            continue;
        }
        scan(text, f, ps);
        ++scanned_files;
    }
    for (const auto& d : dirs) {
        std::error_code ec;
        for (const auto& e : std::filesystem::recursive_directory_iterator(d, ec)) {
            if (!e.is_regular_file()) continue;
            std::string text;
            if (read_file(e.path(), text)) {
                scan(text, e.path().string(), ps);
                ++scanned_files;
            }
        }
        if (ec) {
            std::fprintf(stderr, "secret-scan: cannot read directory %s: %s\n", d.c_str(), ec.message().c_str());
            ok = false;
        }
    }
    std::printf("secret-scan: %zu marker(s), %zu pattern(s), %zu file(s) scanned: %d hit(s)\n", markers.size(), ps.size(),
                scanned_files, hits);
    return ok && hits == 0 ? 0 : 1;
}

int main(int argc, char** argv)
{
    try {
        return scan_main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "secret-scan: %s\n", e.what());
        return 2;
    }
}
