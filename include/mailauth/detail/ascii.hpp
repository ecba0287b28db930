// mailauth: locale-free ASCII helpers for protocol keywords.
#pragma once

#include <cstddef>
#include <string_view>

namespace mailauth::detail {

constexpr char to_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_upper(a[i]) != to_upper(b[i])) return false;
    return true;
}

/// ASCII case-insensitive prefix test.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// `s` without leading and trailing spaces and tabs.
constexpr std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Splits off the first space-separated word of `s`; `s` keeps the rest (leading spaces removed).
constexpr std::string_view next_word(std::string_view& s) noexcept
{
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    const auto end = s.find(' ');
    const auto word = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return word;
}

/// Whether `list` (words separated by spaces) contains `word`, ignoring case.
constexpr bool contains_word(std::string_view list, std::string_view word) noexcept
{
    while (!list.empty())
        if (iequals(next_word(list), word)) return true;
    return false;
}

} // namespace mailauth::detail
