// mailauth: what a server advertises (EHLO keywords, IMAP CAPABILITY, POP3 CAPA).
#pragma once

#include <mailauth/detail/ascii.hpp>

#include <string>
#include <string_view>

namespace mailauth {

/// Capabilities and SASL mechanisms advertised by a server, stored as space-separated words.
class capabilities {
public:
    /// Adds one capability word (an EHLO keyword line, IMAP atom or CAPA line keyword), as advertised.
    void add(std::string_view word)
    {
        if (word.empty()) return;
        if (!words_.empty()) words_.push_back(' ');
        words_.append(word);
    }
    /// Adds a SASL mechanism the server offers; listed once even when advertised twice (AUTH and AUTH=).
    void add_mechanism(std::string_view mech)
    {
        if (mech.empty() || offers(mech)) return;
        if (!mechanisms_.empty()) mechanisms_.push_back(' ');
        for (char c : mech) mechanisms_.push_back(detail::to_upper(c));
    }
    /// Forgets everything (after STARTTLS, RFC 3207 §4.2), keeping capacity.
    void clear() noexcept
    {
        words_.clear();
        mechanisms_.clear();
        known_ = false;
    }
    /// Marks the set as read from the server (an empty set is then a real answer).
    void set_known(bool k = true) noexcept { known_ = k; }
    bool known() const noexcept { return known_; }

    /// Whether the server advertised this capability (case-insensitive).
    bool has(std::string_view word) const noexcept { return detail::contains_word(words_, word); }
    /// Whether the server offers this SASL mechanism (case-insensitive).
    bool offers(std::string_view mech) const noexcept { return detail::contains_word(mechanisms_, mech); }

    /// Capability words separated by single spaces, as advertised.
    std::string_view words() const noexcept { return words_; }
    /// Offered SASL mechanisms, upper case, separated by single spaces.
    std::string_view mechanisms() const noexcept { return mechanisms_; }

private:
    std::string words_;
    std::string mechanisms_;
    bool known_ = false;
};

} // namespace mailauth
