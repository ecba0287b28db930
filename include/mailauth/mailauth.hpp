// mailauth: the mail-side library in one include: codec, mechanisms, machines, driver.
// Not here: fmt.hpp (needs fmt), testing/ (test helpers) and the OAuth token layer (mailauth/oauth.hpp).
#pragma once

#include <mailauth/base64.hpp>
#include <mailauth/error.hpp>
#include <mailauth/outcome.hpp>
#include <mailauth/policy.hpp>
#include <mailauth/proto/imap.hpp>
#include <mailauth/proto/pop3.hpp>
#include <mailauth/proto/smtp.hpp>
#include <mailauth/sasl/login.hpp>
#include <mailauth/sasl/oauthbearer.hpp>
#include <mailauth/sasl/plain.hpp>
#include <mailauth/sasl/xoauth2.hpp>
#include <mailauth/secret.hpp>
#include <mailauth/transport.hpp>
