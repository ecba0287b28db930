// fmt.hpp: formatters print outcomes, replies and transcripts; secrets only ever as "<redacted>".
#include "catch_compat.hpp"
#include "machine_support.hpp"

#include <mailauth/fmt.hpp>
#include <mailauth/proto/smtp.hpp>

#include <fmt/format.h>

#include <string>

TEST_CASE("fmt: a secret formats as the redaction marker")
{
    const mailauth::secret s{"MARKER-TOKEN"};
    CHECK(fmt::format("{}", s) == "<redacted>");
    CHECK(fmt::format("[{}]", mailauth::verdict::token_rejected) == "[token_rejected]");
}

TEST_CASE("fmt: replies, capabilities, errors and a whole outcome")
{
    test::session<mailauth::smtp::client> s{
        test::with_token("u@gmail.com", "MARKER-TOKEN"),
        "S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 AUTH XOAUTH2\nC: AUTH XOAUTH2 <base64>\n"
        "S: 334 " + std::string{test::gmail_error_newline} + "\nC: \nS: 535 5.7.8 Username and Password not accepted.\n"};
    const auto& o = s.run();
    CHECK(fmt::format("{}", o.reply) == "535 5.7.8 Username and Password not accepted.");
    CHECK(fmt::format("{}", o.capabilities) == "capabilities: AUTH; mechanisms: XOAUTH2");
    const auto text = fmt::format("{}", o);
    CHECK(text.find("result:      token_rejected") != std::string::npos);
    CHECK(text.find("status=401 schemes=bearer mac scope=https://mail.google.com/") != std::string::npos);
    CHECK(text.find("round trips: 2 for authentication, 3 in all") != std::string::npos);
    const auto log = fmt::format("{}", o.transcript);
    CHECK(log.find("C: AUTH XOAUTH2 <redacted>\n") != std::string::npos);
    CHECK(log.find("MARKER-TOKEN") == std::string::npos);
    CHECK(text.find("MARKER-TOKEN") == std::string::npos);

    mailauth::server_reply referral;
    referral.status = "NO";
    referral.response_code = "REFERRAL";
    referral.response_args = "imap://u@imap2.example.test/";
    referral.text = "Log in there";
    CHECK(fmt::format("{}", referral) == "NO [REFERRAL imap://u@imap2.example.test/] Log in there");
    referral.response_args.clear();
    referral.response_code = "AUTHENTICATIONFAILED";
    CHECK(fmt::format("{}", referral) == "NO [AUTHENTICATIONFAILED] Log in there");

    const mailauth::error_detail e{make_error_code(mailauth::errc::base64_invalid_character), 17, 0x2A};
    CHECK(fmt::format("{}", e) == "base64: invalid character 0x2A at offset 17");
    CHECK(fmt::format("{}", mailauth::error_detail{}) == "no error");
}
