// mailauth::secret: explicit access only, wiped when moved from and when destroyed.
#include "catch_compat.hpp"

#include <mailauth/secret.hpp>

#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <ostream>
#include <new>
#include <type_traits>
#include <utility>

// Global array new/delete replaced for this test program: delete[] looks for the marker in each freed block.
namespace wipe_probe {
inline bool watch = false;
inline bool marker_seen = false;
inline std::size_t freed_blocks = 0;
} // namespace wipe_probe

[[gnu::noinline]] void* operator new[](std::size_t n)
{
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc{};
}

void operator delete[](void* p) noexcept
{
    if (p != nullptr && wipe_probe::watch) {
        ++wipe_probe::freed_blocks;
        const auto size = malloc_usable_size(p);
        constexpr char marker[] = "MAILAUTH-WIPE-MARKER";
        if (memmem(p, size, marker, sizeof marker - 1) != nullptr) wipe_probe::marker_seen = true;
    }
    std::free(p);
}

void operator delete[](void* p, std::size_t) noexcept { operator delete[](p); }

namespace {

template <class T>
concept streamable = requires(std::ostream& os, const T& t) { os << t; };

} // namespace

static_assert(!streamable<mailauth::secret>);
static_assert(std::is_nothrow_move_constructible_v<mailauth::secret>);

TEST_CASE("secret: holds bytes, reachable only through reveal()")
{
    mailauth::secret s{"hunter2"};
    CHECK(s.reveal() == "hunter2");
    CHECK(s.size() == 7);
    CHECK_FALSE(s.empty());
    mailauth::secret copy = s;
    CHECK(copy.reveal() == "hunter2");
    s.clear();
    CHECK(s.empty());
    CHECK(s.reveal().empty());
    CHECK(copy.reveal() == "hunter2");
}

TEST_CASE("secret: moved-from secrets are empty")
{
    mailauth::secret a{"token-bytes"};
    mailauth::secret b = std::move(a);
    CHECK(a.empty()); // NOLINT(bugprone-use-after-move): checking the moved-from state is the point
    CHECK(b.reveal() == "token-bytes");
    mailauth::secret c{"other"};
    c = std::move(b);
    CHECK(b.empty()); // NOLINT(bugprone-use-after-move)
    CHECK(c.reveal() == "token-bytes");
}

TEST_CASE("secret: storage is zeroed before it is freed, on destruction and on assignment")
{
    {
        mailauth::secret s{"MAILAUTH-WIPE-MARKER-1"};
        wipe_probe::watch = true;
    }
    CHECK(wipe_probe::freed_blocks > 0);
    CHECK_FALSE(wipe_probe::marker_seen);
    {
        mailauth::secret s{"MAILAUTH-WIPE-MARKER-2"};
        s.assign("replacement");
    }
    CHECK_FALSE(wipe_probe::marker_seen);
    {
        mailauth::secret a{"MAILAUTH-WIPE-MARKER-3"};
        mailauth::secret b{"x"};
        b = std::move(a); // b's old bytes are wiped, a's buffer now belongs to b
    }
    CHECK_FALSE(wipe_probe::marker_seen);
    wipe_probe::watch = false;
}
