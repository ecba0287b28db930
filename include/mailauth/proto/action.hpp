// mailauth: what a protocol machine asks its driver to do next.
#pragma once

#include <mailauth/outcome.hpp>

#include <string_view>
#include <variant>

namespace mailauth {

/// Write this line followed by CRLF; `secret` says it carries a credential (never log it). The view is valid
/// until the next call on the machine; a secret line's bytes are zeroed then.
struct send {
    std::string_view line;
    bool secret = false;
};

/// Read one line (without CRLF) and pass it to feed().
struct receive {};

/// Start TLS on the connection, then call tls_started(); no buffered plaintext may be carried over.
struct start_tls {};

/// The run is over; the outcome stays valid until the machine is changed.
struct finished {
    const mailauth::outcome& result;
};

/// One step of the loop in the driver: send, receive, start_tls or finished.
using action = std::variant<send, receive, start_tls, finished>;

} // namespace mailauth
