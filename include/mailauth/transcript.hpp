// mailauth: a redacted record of every line of an exchange.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailauth {

/// Which way a line went.
enum class direction : unsigned char { client, server };

/// Lines in both directions; credential bytes are replaced by `redacted` when recorded.
class transcript {
public:
    static constexpr std::string_view redacted = "<redacted>";

    struct line {
        mailauth::direction direction;
        std::string_view text;
    };

    /// Records a line; bytes from `secret_from` on are replaced by the marker.
    void add(direction d, std::string_view text, std::size_t secret_from = std::string_view::npos)
    {
        const auto start = buffer_.size();
        if (secret_from < text.size()) {
            buffer_.append(text.substr(0, secret_from)).append(redacted);
        } else {
            buffer_.append(text);
        }
        entries_.push_back({d, start, buffer_.size() - start});
    }

    /// Forgets all lines, keeping capacity.
    void clear() noexcept
    {
        buffer_.clear();
        entries_.clear();
    }

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    line operator[](std::size_t i) const noexcept
    {
        const auto& e = entries_[i];
        return {e.dir, std::string_view{buffer_}.substr(e.offset, e.length)};
    }

    class iterator {
    public:
        using value_type = line;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(const transcript* t, std::size_t i) : t_(t), i_(i) {}
        line operator*() const { return (*t_)[i_]; }
        iterator& operator++()
        {
            ++i_;
            return *this;
        }
        iterator operator++(int)
        {
            auto old = *this;
            ++i_;
            return old;
        }
        bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

    private:
        const transcript* t_ = nullptr;
        std::size_t i_ = 0;
    };
    iterator begin() const noexcept { return {this, 0}; }
    iterator end() const noexcept { return {this, entries_.size()}; }

    /// All lines as "C: ..." / "S: ..." separated by '\n'.
    std::string to_string() const
    {
        std::string s;
        for (auto l : *this) {
            s.append(l.direction == direction::client ? "C: " : "S: ").append(l.text).push_back('\n');
        }
        return s;
    }

private:
    struct entry {
        mailauth::direction dir;
        std::size_t offset;
        std::size_t length;
    };
    std::string buffer_;
    std::vector<entry> entries_;
};

} // namespace mailauth
