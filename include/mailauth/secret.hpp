// mailauth: an owned token or password that never prints and is wiped when it dies.
#pragma once

#include <mailauth/detail/wipe.hpp>

#include <cstddef>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace mailauth {

namespace detail {

/// Zeroes every byte a string owns (up to its capacity, so bytes past a shorter value too) and empties it;
/// the storage stays allocated for reuse.
inline void wipe(std::string& s) noexcept
{
    const auto used = s.size();
    s.resize(s.capacity()); // within capacity: no allocation; the bytes past `used` are set to zero here
    secure_wipe(s.data(), used); // its barrier keeps the zero fill above from being dropped as well
    s.clear();
}

/// Makes room for `n` bytes in `s`; when that needs a new buffer, the old one is wiped before it is freed.
/// Code that builds credential bytes in a std::string reserves with this, so no growth frees a copy.
inline void reserve_wiped(std::string& s, std::size_t n)
{
    if (n <= s.capacity()) return;
    std::string fresh;
    fresh.reserve(n);
    fresh.append(s);
    wipe(s);
    s.swap(fresh); // `fresh` now owns the old, zeroed buffer
}

} // namespace detail

/// Token or password bytes: no stream or format output, wiped on destruction and when moved from.
class secret {
public:
    secret() noexcept = default;
    explicit secret(std::string_view bytes) { assign(bytes); }
    secret(const secret& other) { assign(other.reveal()); }
    secret(secret&& other) noexcept : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    secret& operator=(const secret& other)
    {
        if (this != &other) assign(other.reveal());
        return *this;
    }
    secret& operator=(secret&& other) noexcept
    {
        if (this != &other) {
            clear();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    ~secret() { clear(); }

    /// Replaces the content; the old bytes are wiped first.
    void assign(std::string_view bytes)
    {
        clear();
        if (bytes.empty()) return;
        data_ = new char[bytes.size()];
        std::memcpy(data_, bytes.data(), bytes.size());
        size_ = bytes.size();
    }

    /// Wipes and frees the content.
    void clear() noexcept
    {
        if (data_ != nullptr) {
            detail::secure_wipe(data_, size_);
            delete[] data_;
        }
        data_ = nullptr;
        size_ = 0;
    }

    /// The bytes, for the code that has to put them on the wire.
    std::string_view reveal() const noexcept { return {data_ == nullptr ? "" : data_, size_}; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

private:
    char* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Secrets are never streamed: use reveal() where the bytes must go out.
template <class Char, class Traits>
std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>&, const secret&) = delete;

} // namespace mailauth
