// Tests for mailauth/oauth/token_source.hpp: refresh margin, one refresh for concurrent callers, store ordering.
#include "catch_compat.hpp"

#include <mailauth/oauth/token_source.hpp>
#include <mailauth/transport.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using mailauth::secret;
using namespace std::chrono_literals;

namespace {

const oauth::time_point t0{std::chrono::seconds{1700000000}};
constexpr std::string_view endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
constexpr std::string_view scope = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access";

/// Replays canned token endpoint replies and records what was sent (and when, in `events`).
struct fake_http {
    std::deque<std::pair<unsigned, std::string>> replies;
    std::vector<std::string> bodies;
    std::vector<std::string> authorizations;
    std::vector<std::string>* events = nullptr;
    std::function<void()> on_send;

    std::error_code send(const oauth::http_request& req, oauth::http_response& res)
    {
        if (on_send) on_send();
        bodies.emplace_back(req.body.reveal());
        authorizations.emplace_back(req.authorization.reveal());
        if (events != nullptr) events->push_back("send");
        if (replies.empty()) return make_error_code(errc::connection_closed);
        res.status = replies.front().first;
        res.body.assign(replies.front().second);
        replies.pop_front();
        return {};
    }

    void reply(std::string body, unsigned status = 200) { replies.emplace_back(status, std::move(body)); }
};

static_assert(oauth::http_client<fake_http>);

/// A store that records saves in `events` and can be told to fail.
class recording_store final : public oauth::token_store {
public:
    std::vector<std::string>* events = nullptr;
    std::error_code fail_save;
    oauth::token_set saved;
    int loads = 0;
    int saves = 0;

    std::error_code load(const oauth::token_key&, oauth::token_set& out) override
    {
        ++loads;
        out = saved;
        return {};
    }

    std::error_code save(const oauth::token_key& key, const oauth::token_set& tokens) override
    {
        CHECK(key.account == "user@contoso.com");
        if (events != nullptr)
            events->push_back("save " + std::string(tokens.refresh_token.reveal()) + " " + std::string(tokens.access_token.reveal()));
        if (fail_save) return fail_save;
        ++saves;
        saved = tokens;
        return {};
    }
};

std::string token_json(std::string_view at, std::string_view rt = {}, int expires_in = 3600)
{
    std::string j = R"({"token_type":"Bearer","expires_in":)" + std::to_string(expires_in) + R"(,"access_token":")" + std::string(at) + '"';
    if (!rt.empty()) j += R"(,"refresh_token":")" + std::string(rt) + '"';
    return j + '}';
}

oauth::token_source_options options(oauth::time_point& now)
{
    oauth::token_source_options o;
    o.token_endpoint = endpoint;
    o.auth = oauth::public_client{"cid"};
    o.key = {"user@contoso.com", std::string(scope)};
    o.clock = [&now] { return now; };
    return o;
}

std::string got(std::error_code ec, const secret& s)
{
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return std::string(s.reveal());
}

} // namespace

TEST_CASE("oauth: token source refreshes only when less than the margin remains", "[oauth][token_source]")
{
    oauth::time_point now = t0;
    fake_http http;
    recording_store store;
    store.saved.refresh_token.assign("rt-1");
    oauth::token_source src{http, store, options(now)};

    http.reply(token_json("at-1"));
    secret s;
    CHECK(got(src.get(s), s) == "at-1");
    CHECK(src.requests_sent() == 1);
    CHECK(http.bodies[0] == "grant_type=refresh_token&refresh_token=rt-1"
                           "&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access&client_id=cid");
    CHECK(store.loads == 1);
    REQUIRE(store.saved.expires_at);
    CHECK(*store.saved.expires_at == t0 + 3600s); // the access token is cached in the store too

    now = t0 + 3299s; // 301 s left: still fresh with the default 300 s margin
    CHECK(got(src.get(s), s) == "at-1");
    CHECK(src.requests_sent() == 1);

    http.reply(token_json("at-2"));
    now = t0 + 3300s; // 300 s left: refresh
    CHECK(got(src.get(s), s) == "at-2");
    CHECK(src.requests_sent() == 2);
    CHECK(http.bodies[1].find("refresh_token=rt-1") != std::string::npos); // none came back: the old one is kept

    // explicit time, custom margin
    oauth::time_point unused = t0;
    auto o = options(unused);
    o.refresh_margin = 60s;
    fake_http http2;
    recording_store store2;
    store2.saved.refresh_token.assign("rt-1");
    oauth::token_source src2{http2, store2, std::move(o)};
    http2.reply(token_json("at-a", {}, 600));
    CHECK(got(src2.get(t0, s), s) == "at-a");
    CHECK(got(src2.get(t0 + 539s, s), s) == "at-a");
    http2.reply(token_json("at-b", {}, 600));
    CHECK(got(src2.get(t0 + 540s, s), s) == "at-b");
    CHECK(src2.requests_sent() == 2);
}

TEST_CASE("oauth: a rotated refresh token is saved before the access token is handed out", "[oauth][token_source]")
{
    oauth::time_point now = t0;
    std::vector<std::string> events;
    fake_http http;
    http.events = &events;
    recording_store store;
    store.events = &events;
    store.saved.refresh_token.assign("rt-1");
    oauth::token_source src{http, store, options(now)};

    http.reply(token_json("at-2", "rt-2"));
    secret s;
    const auto ec = src.get(s);
    events.push_back("returned " + std::string(s.reveal()));
    REQUIRE_FALSE(ec);
    CHECK(events == std::vector<std::string>{"send", "save rt-2 at-2", "returned at-2"});
    CHECK(store.saved.refresh_token.reveal() == "rt-2");
    REQUIRE(store.saved.expires_at);
    CHECK(*store.saved.expires_at == t0 + 3600s);

    // the next refresh uses the rotated token
    http.reply(token_json("at-3", "rt-3"));
    CHECK(src.force_refresh().value().reveal() == "at-3");
    CHECK(http.bodies[1].find("refresh_token=rt-2&") != std::string::npos);
    CHECK(store.saved.refresh_token.reveal() == "rt-3");
}

TEST_CASE("oauth: when saving a rotated refresh token fails no access token goes out until it is saved", "[oauth][token_source]")
{
    oauth::time_point now = t0;
    fake_http http;
    recording_store store;
    store.saved.refresh_token.assign("rt-1");
    store.fail_save = std::make_error_code(std::errc::no_space_on_device);
    oauth::token_source src{http, store, options(now)};

    http.reply(token_json("at-2", "rt-2"));
    secret s;
    CHECK(src.get(s) == std::make_error_code(std::errc::no_space_on_device));
    CHECK(s.empty());
    CHECK(src.last_error().description.find("rotated refresh token") != std::string::npos);
    CHECK(src.get(s) == std::make_error_code(std::errc::no_space_on_device)); // tries the save again, no new request
    CHECK(src.requests_sent() == 1);

    store.fail_save = {};
    CHECK(got(src.get(s), s) == "at-2");
    CHECK(src.requests_sent() == 1);
    CHECK(store.saved.refresh_token.reveal() == "rt-2");

    // a failed save without rotation does not withhold the token (the stored refresh token still works)
    store.fail_save = std::make_error_code(std::errc::no_space_on_device);
    http.reply(token_json("at-3"));
    CHECK(src.force_refresh().value().reveal() == "at-3");
}

TEST_CASE("oauth: force_refresh and the authenticate callback and replace", "[oauth][token_source]")
{
    oauth::time_point now = t0;
    fake_http http;
    recording_store store;
    store.saved.refresh_token.assign("rt-1");
    oauth::token_source src{http, store, options(now)};
    secret s;
    http.reply(token_json("at-1"));
    REQUIRE_FALSE(src.get(s));

    // usable as the refresh callback of mailauth::authenticate(transport, machine, refresh)
    static_assert(mailauth::token_refresher<oauth::token_source<fake_http>&>);
    http.reply(token_json("at-2"));
    const mailauth::outcome rejected{};
    const std::optional<secret> fresh = src(rejected);
    REQUIRE(fresh);
    CHECK(fresh->reveal() == "at-2");
    CHECK(src.requests_sent() == 2);

    // replace: another caller already swapped the rejected token, so no new request
    const auto other = src.replace(secret{"at-1"});
    REQUIRE(other);
    CHECK(other->reveal() == "at-2");
    CHECK(src.requests_sent() == 2);
    http.reply(token_json("at-3"));
    CHECK(src.replace(secret{"at-2"}).value().reveal() == "at-3");
    CHECK(src.requests_sent() == 3);

    // a failed forced refresh does not leave the rejected token in the cache
    http.reply(R"({"error":"invalid_grant","error_description":"AADSTS700082: expired","error_codes":[700082]})", 400);
    CHECK_FALSE(src.force_refresh());
    CHECK(src.last_code() == make_error_code(errc::oauth_error_response));
    CHECK(src.last_error().has_code(700082));
    CHECK_FALSE(src.last_error().hint().empty());
    const std::string m = src.last_error().message();
    CHECK(m.find("rt-1") == std::string::npos);
    CHECK(m.find("at-3") == std::string::npos);
    http.reply(R"({"error":"invalid_grant"})", 400);
    CHECK(src.get(s) == make_error_code(errc::oauth_error_response));
    CHECK(src.requests_sent() == 5);
}

TEST_CASE("oauth: token source errors for nothing stored or no clock or transport failure or exceptions", "[oauth][token_source]")
{
    oauth::time_point now = t0;
    fake_http http;
    recording_store store;
    secret s;
    {
        oauth::token_source src{http, store, options(now)};
        CHECK(src.get(s) == make_error_code(errc::no_credentials));
        CHECK(src.requests_sent() == 0);
        CHECK(src.last_error().description.find("authorize first") != std::string::npos);
    }
    {
        auto o = options(now);
        o.clock = nullptr;
        oauth::token_source src{http, store, std::move(o)};
        CHECK(src.get(s) == make_error_code(errc::invalid_argument));
        CHECK_FALSE(src.force_refresh());
        CHECK(src.last_code() == make_error_code(errc::invalid_argument));
    }
    store.saved.refresh_token.assign("rt-1");
    {
        oauth::token_source src{http, store, options(now)};
        CHECK(src.get(s) == make_error_code(errc::connection_closed)); // no canned reply
        http.on_send = [] { throw std::runtime_error("boom"); };
        CHECK_THROWS_AS(src.get(s), std::runtime_error);
        http.on_send = nullptr;
        http.reply(token_json("at-1"));
        CHECK(got(src.get(s), s) == "at-1"); // no deadlock after the exception
    }
}

TEST_CASE("oauth: client credentials source and adopt", "[oauth][token_source]")
{
    oauth::time_point now = t0;
    fake_http http;
    recording_store store;
    auto o = options(now);
    o.grant = oauth::token_grant::client_credentials;
    o.auth = oauth::client_secret_basic{"app", secret{"s3cret"}};
    o.key.scope = "https://outlook.office365.com/.default";
    oauth::token_source src{http, store, std::move(o)};
    http.reply(token_json("app-at"));
    secret s;
    CHECK(got(src.get(s), s) == "app-at");
    CHECK(http.bodies[0] == "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default");
    CHECK(http.authorizations[0] == "Basic YXBwOnMzY3JldA==");

    oauth::time_point now2 = t0;
    fake_http http2;
    oauth::memory_token_store mem;
    oauth::token_source src2{http2, mem, options(now2)};
    oauth::token_set fresh;
    fresh.access_token.assign("from-code");
    fresh.refresh_token.assign("rt-code");
    fresh.expires_at = t0 + 3600s;
    REQUIRE_FALSE(src2.adopt(std::move(fresh)));
    CHECK(mem.saves() == 1);
    CHECK(got(src2.get(s), s) == "from-code");
    CHECK(src2.requests_sent() == 0);
    oauth::token_set loaded;
    REQUIRE_FALSE(mem.load({"user@contoso.com", std::string(scope)}, loaded));
    CHECK(loaded.refresh_token.reveal() == "rt-code");
    REQUIRE_FALSE(mem.load({"someone@else", std::string(scope)}, loaded));
    CHECK(loaded.refresh_token.empty());
}

TEST_CASE("oauth: two threads share one refresh", "[oauth][token_source]")
{
    const bool forced = GENERATE(false, true);
    INFO("forced: " << forced);
    oauth::time_point now = t0;
    fake_http http;
    recording_store store;
    store.saved.refresh_token.assign("rt-1");
    store.saved.access_token.assign("at-old");
    store.saved.expires_at = t0 + 3600s;

    std::mutex m;
    std::condition_variable cv;
    bool in_send = false, release = false;
    http.on_send = [&] {
        std::unique_lock lock(m);
        in_send = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
    };
    http.reply(token_json("at-new", "rt-2"));
    auto o = options(now);
    std::atomic<int> clock_calls{0};
    o.clock = [&] {
        ++clock_calls;
        return now;
    };
    oauth::token_source src{http, store, std::move(o)};
    if (!forced) now = t0 + 3500s; // inside the margin: both callers want a refresh

    const auto call = [&]() -> std::string {
        if (forced) return std::string(src.force_refresh().value_or(secret{"failed"}).reveal());
        secret s;
        if (src.get(s)) return "failed";
        return std::string(s.reveal());
    };
    std::string a, b;
    std::thread first([&] { a = call(); });
    {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return in_send; });
    }
    std::thread second([&] { b = call(); });
    while (clock_calls.load() < 2) std::this_thread::yield(); // the second caller is on its way in
    std::this_thread::sleep_for(100ms);                        // ...and waiting for the refresh under way
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    first.join();
    second.join();

    CHECK(a == "at-new");
    CHECK(b == "at-new");
    CHECK(src.requests_sent() == 1);
    CHECK(store.saves == 1);
    CHECK(store.saved.refresh_token.reveal() == "rt-2");
}
