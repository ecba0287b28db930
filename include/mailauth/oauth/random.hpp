// mailauth: the caller-supplied random source behind PKCE verifiers, state, nonce and JWT ids.
#pragma once

#include <mailauth/base64.hpp>
#include <mailauth/error.hpp>
#include <mailauth/secret.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace mailauth::oauth {

/// Fills the span with cryptographically strong random bytes (e.g. getrandom(2), RAND_bytes); non-zero on failure.
using random_source = std::function<std::error_code(std::span<unsigned char>)>;

/// `bytes` random bytes from `random` as unpadded base64url (RFC 4648 §5): for state, nonce and jti.
inline std::error_code random_urlsafe(const random_source& random, std::size_t bytes, std::string& out)
{
    out.clear();
    if (!random || bytes == 0) return make_error_code(errc::invalid_argument);
    std::vector<unsigned char> buf(bytes);
    if (auto ec = random(std::span<unsigned char>{buf})) return ec;
    out = base64::url_encode({reinterpret_cast<const char*>(buf.data()), buf.size()});
    detail::secure_wipe(reinterpret_cast<char*>(buf.data()), buf.size());
    return {};
}

} // namespace mailauth::oauth
