// Tests for mailauth/oauth/providers.hpp: Google, Microsoft 365 (tenant validation) and Outlook.com presets.
#include "catch_compat.hpp"

#include <mailauth/oauth/providers.hpp>

#include <string>
#include <string_view>

namespace oauth = mailauth::oauth;
using mailauth::errc;
using oauth::mail_protocol;
using oauth::server_tls;

namespace {

void check_server(const oauth::provider& p, mail_protocol proto, std::string_view host, unsigned port, server_tls tls)
{
    const auto* s = p.server(proto);
    REQUIRE(s != nullptr);
    CHECK(s->host == host);
    CHECK(s->port == port);
    CHECK(s->tls == tls);
}

} // namespace

TEST_CASE("oauth: Google preset", "[oauth][providers]")
{
    const auto g = oauth::google();
    CHECK(g.authorization_endpoint == "https://accounts.google.com/o/oauth2/v2/auth");
    CHECK(g.token_endpoint == "https://oauth2.googleapis.com/token");
    CHECK(g.device_authorization_endpoint == "https://oauth2.googleapis.com/device/code");
    CHECK(g.scope == "https://mail.google.com/");
    CHECK(g.app_only_scope.empty());
    check_server(g, mail_protocol::imap, "imap.gmail.com", 993, server_tls::implicit);
    check_server(g, mail_protocol::pop3, "pop.gmail.com", 995, server_tls::implicit);
    check_server(g, mail_protocol::smtp, "smtp.gmail.com", 465, server_tls::implicit);
    REQUIRE(g.servers.size() == 4);
    CHECK(g.servers[3].port == 587);
    CHECK(g.servers[3].tls == server_tls::starttls);

    auto req = g.authorization("cid.apps.googleusercontent.com", oauth::loopback_redirect_uri(4242));
    req.state = "s";
    req.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    std::string url;
    REQUIRE_FALSE(oauth::authorization_url(req, url));
    CHECK(url == "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=cid.apps.googleusercontent.com"
                 "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4242%2Fcallback&scope=https%3A%2F%2Fmail.google.com%2F&state=s"
                 "&prompt=consent&access_type=offline&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                 "&code_challenge_method=S256");
}

TEST_CASE("oauth: Microsoft 365 preset for a tenant", "[oauth][providers]")
{
    oauth::provider m;
    REQUIRE_FALSE(oauth::microsoft365("Contoso.onmicrosoft.com", m));
    CHECK(m.authorization_endpoint == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
    CHECK(m.token_endpoint == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    CHECK(m.device_authorization_endpoint == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
    CHECK(m.scope == "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All "
                     "https://outlook.office.com/SMTP.Send offline_access");
    CHECK(m.app_only_scope == "https://outlook.office365.com/.default");
    CHECK(m.access_type.empty());
    CHECK(m.prompt.empty());
    check_server(m, mail_protocol::imap, "outlook.office365.com", 993, server_tls::implicit);
    check_server(m, mail_protocol::pop3, "outlook.office365.com", 995, server_tls::implicit);
    check_server(m, mail_protocol::smtp, "smtp.office365.com", 587, server_tls::starttls);

    CHECK(oauth::microsoft365("common").token_endpoint == "https://login.microsoftonline.com/common/oauth2/v2.0/token");
    CHECK(oauth::microsoft365("ORGANIZATIONS").token_endpoint ==
          "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
    CHECK(oauth::microsoft365("72f988bf-86f1-41af-91ab-2d7cd011db47").token_endpoint ==
          "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token");
}

TEST_CASE("oauth: Microsoft tenants are validated before they go into a URL", "[oauth][providers]")
{
    for (std::string_view ok : {"common", "organizations", "consumers", "Consumers", "contoso.com", "contoso.onmicrosoft.com",
                                "a-b.example.co.uk", "72F988BF-86F1-41AF-91AB-2D7CD011DB47", "xn--bcher-kva.example"}) {
        INFO(std::string(ok));
        CHECK(oauth::is_valid_tenant(ok));
    }
    for (std::string_view bad : {"", "common/../evil", "contoso", "contoso.com/", "contoso.com?x=1", "evil.com#",
                                 "con toso.com", "contoso.com\r\n", "-contoso.com", "contoso-.com", "contoso..com",
                                 ".contoso.com", "contoso.com.", "1.2.3.4", "72f988bf-86f1-41af-91ab-2d7cd011db4",
                                 "72f988bf-86f1-41af-91ab-2d7cd011db4g", "72f988bf86f141af91ab2d7cd011db47", "user@contoso.com",
                                 "commons", "c\xC3\xB6ntoso.com"}) {
        INFO(std::string(bad));
        CHECK_FALSE(oauth::is_valid_tenant(bad));
        oauth::provider p;
        CHECK(oauth::microsoft365(bad, p).code == make_error_code(errc::oauth_invalid_tenant));
        CHECK(p.token_endpoint.empty());
    }
    CHECK_FALSE(oauth::is_valid_tenant(std::string(64, 'a') + ".com"));
    CHECK(oauth::is_valid_tenant(std::string(63, 'a') + ".com"));
    CHECK_THROWS_AS(oauth::microsoft365("../common"), mailauth::error);
    static_assert(oauth::is_valid_tenant("common"));
}

TEST_CASE("oauth: Outlook.com preset", "[oauth][providers]")
{
    const auto o = oauth::outlook_com();
    CHECK(o.token_endpoint == "https://login.microsoftonline.com/consumers/oauth2/v2.0/token");
    CHECK(o.authorization_endpoint == "https://login.microsoftonline.com/consumers/oauth2/v2.0/authorize");
    CHECK(o.scope.find("https://outlook.office.com/IMAP.AccessAsUser.All") == 0);
    CHECK(o.scope.find("offline_access") != std::string::npos);
    CHECK(o.app_only_scope.empty());
    check_server(o, mail_protocol::imap, "outlook.office365.com", 993, server_tls::implicit);
    check_server(o, mail_protocol::pop3, "outlook.office365.com", 995, server_tls::implicit);
    check_server(o, mail_protocol::smtp, "smtp-mail.outlook.com", 587, server_tls::starttls);
}
