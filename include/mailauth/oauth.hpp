// mailauth: the whole OAuth 2.0 token layer in one include (kept out of mailauth.hpp, which stays light).
#pragma once

#include <mailauth/oauth/authorization.hpp>
#include <mailauth/oauth/client_auth.hpp>
#include <mailauth/oauth/device_flow.hpp>
#include <mailauth/oauth/grants.hpp>
#include <mailauth/oauth/http.hpp>
#include <mailauth/oauth/pkce.hpp>
#include <mailauth/oauth/providers.hpp>
#include <mailauth/oauth/random.hpp>
#include <mailauth/oauth/token_response.hpp>
#include <mailauth/oauth/token_source.hpp>
