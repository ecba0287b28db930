// mailauth examples: a mailauth::oauth::http_client on libcurl's easy interface, for token endpoints.
// Plain http:// only to loopback hosts, no redirects, bounded responses, secrets wiped where we hold them.
#pragma once

#include <mailauth/detail/url.hpp>
#include <mailauth/error.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/secret.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mailauth_examples::token {

/// How the client talks to the authorization server.
struct curl_options {
    std::chrono::milliseconds timeout{30000}; ///< whole request, connect included
    std::string ca_file;                      ///< trust these CA certificates instead of the system store
    bool allow_plain_http = false;            ///< allow http:// to hosts that are not loopback (never do this)
    std::size_t max_response = 1024 * 1024;   ///< larger response bodies are refused
    std::string user_agent = "mailauth-token/0.1.0";
};

/// Whether `host` (as mailauth::detail::url::parts keeps it) is a loopback address or localhost (RFC 8252 §8.3).
inline bool is_loopback_host(std::string_view host) noexcept
{
    if (host == "localhost" || host == "[::1]") return true;
    if (host.substr(0, 4) != "127.") return false;
    for (char c : host)
        if ((c < '0' || c > '9') && c != '.') return false;
    return true;
}

namespace detail {

/// curl_global_init once per process, before the first handle (thread-safe through the static's guard).
inline void curl_global_once()
{
    struct global {
        global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
        ~global() { curl_global_cleanup(); }
        global(const global&) = delete;
        global& operator=(const global&) = delete;
    };
    static const global g;
}

/// A byte buffer for a response body that wipes what it leaves behind when it grows and when it dies.
class wiping_buffer {
public:
    wiping_buffer() = default;
    wiping_buffer(const wiping_buffer&) = delete;
    wiping_buffer& operator=(const wiping_buffer&) = delete;
    ~wiping_buffer() { release(); }

    bool append(const char* p, std::size_t n, std::size_t limit)
    {
        if (n > limit - size_) return false;
        if (size_ + n > capacity_) {
            std::size_t cap = capacity_ == 0 ? 4096 : capacity_ * 2;
            while (cap < size_ + n) cap *= 2;
            if (cap > limit) cap = limit;
            char* fresh = new char[cap];
            if (size_ > 0) std::memcpy(fresh, data_, size_);
            release_storage();
            data_ = fresh;
            capacity_ = cap;
        }
        std::memcpy(data_ + size_, p, n);
        size_ += n;
        return true;
    }

    std::string_view view() const noexcept { return {data_ == nullptr ? "" : data_, size_}; }
    void release() noexcept
    {
        release_storage();
        data_ = nullptr;
        size_ = capacity_ = 0;
    }

private:
    void release_storage() noexcept
    {
        if (data_ == nullptr) return;
        mailauth::detail::secure_wipe(data_, capacity_);
        delete[] data_;
    }

    char* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// A curl_slist whose strings are wiped before they are freed (the Authorization header is one of them).
class header_list {
public:
    header_list() = default;
    header_list(const header_list&) = delete;
    header_list& operator=(const header_list&) = delete;
    ~header_list()
    {
        for (curl_slist* p = list_; p != nullptr; p = p->next)
            if (p->data != nullptr) mailauth::detail::secure_wipe(p->data, std::strlen(p->data));
        curl_slist_free_all(list_);
    }

    bool add(std::string_view name, std::string_view value)
    {
        std::string line;
        line.reserve(name.size() + 2 + value.size());
        line.append(name).append(": ").append(value);
        curl_slist* next = curl_slist_append(list_, line.c_str());
        mailauth::detail::secure_wipe(line.data(), line.size());
        if (next == nullptr) return false;
        list_ = next;
        return true;
    }

    curl_slist* get() const noexcept { return list_; }

private:
    curl_slist* list_ = nullptr;
};

struct write_target {
    wiping_buffer* buffer;
    std::size_t limit;
    bool overflow = false;
};

extern "C" inline std::size_t mailauth_curl_write(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* t = static_cast<write_target*>(user);
    const std::size_t n = size * count;
    if (!t->buffer->append(data, n, t->limit)) {
        t->overflow = true;
        return 0; // CURLE_WRITE_ERROR
    }
    return n;
}

/// The mailauth code for a libcurl failure.
inline std::error_code map_curl_code(CURLcode c) noexcept
{
    using mailauth::errc;
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return make_error_code(errc::name_resolution_failed);
    case CURLE_COULDNT_CONNECT: return make_error_code(errc::connect_failed);
    case CURLE_OPERATION_TIMEDOUT: return make_error_code(errc::timeout);
    case CURLE_SSL_CONNECT_ERROR: return make_error_code(errc::tls_handshake_failed);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE: return make_error_code(errc::tls_verification_failed);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return make_error_code(errc::connection_closed);
    default: return make_error_code(errc::io_error);
    }
}

} // namespace detail

/// Sends token-endpoint requests with one reused libcurl easy handle (keep-alive); one thread at a time.
class curl_http_client {
public:
    explicit curl_http_client(curl_options options = {}) : options_(std::move(options))
    {
        detail::curl_global_once();
        handle_ = curl_easy_init();
    }

    curl_http_client(const curl_http_client&) = delete;
    curl_http_client& operator=(const curl_http_client&) = delete;
    ~curl_http_client()
    {
        if (handle_ != nullptr) curl_easy_cleanup(handle_);
    }

    /// Sends `req` and fills `res`; a non-zero code means no HTTP response (last_error() says why).
    std::error_code send(const mailauth::oauth::http_request& req, mailauth::oauth::http_response& res)
    {
        res = {};
        last_error_.clear();
        ++requests_;
        if (handle_ == nullptr) return fail(mailauth::errc::io_error, "curl_easy_init failed");
        mailauth::detail::url::parts url;
        if (auto e = mailauth::detail::url::split(req.url, url)) return fail(mailauth::errc::url_invalid, "not an http(s) URL: " + req.url);
        if (url.scheme == "http" && !options_.allow_plain_http && !is_loopback_host(url.host))
            return fail(mailauth::errc::tls_required, "refusing plain http:// to " + url.host + " (tokens need TLS; http is for loopback only)");
        if (req.method != "POST" && req.method != "GET") return fail(mailauth::errc::invalid_argument, "unsupported method " + req.method);

        CURL* h = handle_;
        curl_easy_reset(h);
        char errbuf[CURL_ERROR_SIZE] = {};
        detail::header_list headers;
        bool ok = true;
        req.for_each_header([&](std::string_view name, std::string_view value) { ok = ok && headers.add(name, value); });
        ok = ok && headers.add("Expect", ""); // no 100-continue round trip for larger assertion bodies
        if (!ok) return fail(mailauth::errc::io_error, "out of memory building headers");

        detail::wiping_buffer body;
        detail::write_target target{&body, options_.max_response};
        const std::string_view post = req.body.reveal();
        set(h, CURLOPT_ERRORBUFFER, errbuf);
        set(h, CURLOPT_URL, req.url.c_str());
        set(h, CURLOPT_NOSIGNAL, 1L);
        set(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 // 7.85.0
        set(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
        set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
        set(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
        set(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
        set(h, CURLOPT_HTTPHEADER, headers.get());
        set(h, CURLOPT_WRITEFUNCTION, &detail::mailauth_curl_write);
        set(h, CURLOPT_WRITEDATA, static_cast<void*>(&target));
        set(h, CURLOPT_SSL_VERIFYPEER, 1L);
        set(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!options_.ca_file.empty()) set(h, CURLOPT_CAINFO, options_.ca_file.c_str());
        if (req.method == "POST") {
            // POSTFIELDS does not copy: the body stays in the request's secret only.
            set(h, CURLOPT_POST, 1L);
            set(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(post.size()));
            set(h, CURLOPT_POSTFIELDS, post.empty() ? "" : post.data());
        } else {
            set(h, CURLOPT_HTTPGET, 1L);
        }

        const CURLcode rc = curl_easy_perform(h);
        set(h, CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));
        set(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
        set(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
        if (rc != CURLE_OK) {
            if (target.overflow)
                return fail(mailauth::errc::io_error, "response body larger than " + std::to_string(options_.max_response) + " bytes");
            std::string text = errbuf[0] != '\0' ? std::string{errbuf} : std::string{curl_easy_strerror(rc)};
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
            last_error_ = std::move(text);
            return detail::map_curl_code(rc);
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        char* content_type = nullptr;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type);
        res.status = status > 0 ? static_cast<unsigned>(status) : 0U;
        if (content_type != nullptr) res.content_type = content_type;
        res.body.assign(body.view());
        return {};
    }

    /// Why the last send() failed, from libcurl or from this client; holds no secret.
    const std::string& last_error() const noexcept { return last_error_; }

    /// Requests attempted so far.
    std::size_t requests() const noexcept { return requests_; }

    const curl_options& options() const noexcept { return options_; }

private:
    template <class T>
    static void set(CURL* h, CURLoption option, T value)
    {
        (void)curl_easy_setopt(h, option, value);
    }

    std::error_code fail(mailauth::errc e, std::string text)
    {
        last_error_ = std::move(text);
        return make_error_code(e);
    }

    curl_options options_;
    CURL* handle_ = nullptr;
    std::string last_error_;
    std::size_t requests_ = 0;
};

static_assert(mailauth::oauth::http_client<curl_http_client>);

} // namespace mailauth_examples::token
