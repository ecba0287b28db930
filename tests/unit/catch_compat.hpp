// Test-only: lets the unit tests build with Catch2 3.x and with Catch2 2.13 (Debian 12).
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define MAILAUTH_CATCH_VERSION_MAJOR 3
#else
#include <catch2/catch.hpp>
#define MAILAUTH_CATCH_VERSION_MAJOR 2
#endif

// Catch2 3 moved Approx into namespace Catch; keep the unqualified spelling working with both.
#if MAILAUTH_CATCH_VERSION_MAJOR == 3
using Catch::Approx;
#endif
