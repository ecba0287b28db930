// Fixture for check_api_docs.py --self-test: the scanner must find exactly the names listed by the
// `// expect: <kind> <qualified name> [<token>]` lines, nothing more. Never compiled.
// expect: function mailauth::only_in_fixture_function [only_in_fixture_function]
// expect: class mailauth::widget [widget]
// expect: member variable mailauth::widget::name [name]
// expect: member variable mailauth::widget::count [count]
// expect: member variable mailauth::widget::lifetime [lifetime]
// expect: member variable mailauth::widget::error [error]
// expect: member variable mailauth::widget::clock [clock]
// expect: member variable mailauth::widget::pairs [pairs]
// expect: member type mailauth::widget::part [part]
// expect: member function mailauth::widget::size [size]
// expect: member function mailauth::widget::visit [visit]
// expect: member function mailauth::widget::operator bool [operator bool]
// expect: member function mailauth::widget::operator() [operator()]
// expect: member function mailauth::widget::operator[] [operator[]]
// expect: member function mailauth::widget::describe [describe]
// expect: enum mailauth::colour [colour]
// expect: enumerator mailauth::colour::red [red]
// expect: enumerator mailauth::colour::green [green]
// expect: enumerator mailauth::colour::blue [blue]
// expect: alias mailauth::callback [callback]
// expect: concept mailauth::has_size [has_size]
// expect: concept mailauth::sized_and_small [sized_and_small]
// expect: variable mailauth::limit [limit]
// expect: variable mailauth::lambda_value [lambda_value]
// expect: function mailauth::operator<< [operator<<]
// expect: function mailauth::sub::with_default [with_default]
// expect: function mailauth::sub::templated [templated]
// expect: function mailauth::sub::declared_only [declared_only]
// expect: class mailauth::sub::machine [machine]
// expect: member function mailauth::sub::machine::own [own]
// expect: inherited member function mailauth::detail::machine_core::step [step]
// expect: inherited member variable mailauth::detail::machine_core::shared_limit [shared_limit]
// expect: specialization std::hash<mailauth::widget> [widget]
#pragma once
#define MAILAUTH_FIXTURE_BRACE {

#include <functional>
#include <string>

namespace mailauth {

namespace detail {
inline int hidden_helper() { return 1; }
struct hidden_type { int x; };
} // namespace detail

namespace {
inline int anonymous_helper() { return 2; }
} // namespace

/* a block comment with a { brace and a struct not_a_type { }; */
inline void only_in_fixture_function() { const char* s = "{ not a scope"; (void)s; (void)'{'; (void)'}'; }

class widget {
    int private_before_ = 0;
    void private_function() {}

public:
    struct part {
        int inner_field = 0;          // members of nested types are not required
        void inner_function() {}
    };

    std::string name = "}";
    static constexpr int count = 3;
    std::chrono::seconds lifetime{300};
    int error{};
    std::function<long()> clock;
    std::vector<std::pair<std::string, std::string>> pairs;

    widget() = default;
    explicit widget(int n) : private_before_{n}, hidden_{n} {}
    widget(const widget&) = default;
    widget& operator=(const widget&) = default;
    ~widget() { private_function(); }

    [[nodiscard]] int size() const noexcept { return private_before_ + hidden_; }
    template <class F>
    void visit(F&& f, int x = {}) const { f(x); }
    explicit operator bool() const noexcept { return size() != 0; }
    int operator()(int x) const { return x; }
    int operator[](int i) const { return i; }
    bool operator==(const widget&) const = default;
    friend bool operator!=(const widget&, const widget&) { return false; }
    std::string describe() const;

protected:
    int protected_field = 0;

private:
    int hidden_ = 0;
};

inline std::string widget::describe() const { return R"x(a raw { string)x"; }

/// Colours, with values.
enum class colour : unsigned char {
    red = 1, ///< first { in a comment
    green,
    blue,
};

using callback = std::function<void(int)>;

template <class T>
concept has_size = requires(const T& t) {
    { t.size() } -> std::convertible_to<int>;
};

template <class T>
concept sized_and_small = has_size<T> && sizeof(T) < 64;

inline constexpr int limit = 4 > 3 ? 1 : 2;
inline const auto lambda_value = [](int x) { return x + 1; }(1);

template <class C>
std::basic_ostream<C>& operator<<(std::basic_ostream<C>&, const widget&) = delete;

namespace detail {

template <class Derived>
class machine_core {
public:
    int step() { return 0; }
    static constexpr int shared_limit = 8;

protected:
    void protected_step() {}
};

} // namespace detail

namespace sub {

inline int with_default(const widget& w = {}, int n = int{2}) { return w.size() + n; }

template <class T>
    requires has_size<T>
T templated(T t) { return t; }

[[nodiscard]] int declared_only(int);

class machine : public mailauth::detail::machine_core<machine> {
    using base = mailauth::detail::machine_core<machine>;
    friend base;

public:
    int own() const { return 1; }
};

} // namespace sub

namespace detail::deeper {
inline void also_hidden() {}
} // namespace detail::deeper

} // namespace mailauth

template <>
struct std::hash<mailauth::widget> {
    std::size_t operator()(const mailauth::widget& w) const noexcept { return static_cast<std::size_t>(w.size()); }
};
