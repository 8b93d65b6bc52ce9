// Vocabulary types every horde library shares: a cold-path result<T> named
// like std::expected (g++ 12 has no <expected>), so a later move is mechanical.
// Hot paths never use this: they return int (-errno) or small status enums.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace horde {

// An error meant for a person: says what failed and, where known, the fix.
struct error_info {
  std::string message;
};

inline error_info make_error(std::string message) {
  return error_info{std::move(message)};
}

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : _state(std::in_place_index<0>, std::move(value)) {}
  result(error_info e) : _state(std::in_place_index<1>, std::move(e)) {}

  bool has_value() const noexcept { return _state.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(_state); }
  const T& value() const& { return std::get<0>(_state); }
  T&& value() && { return std::get<0>(std::move(_state)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error_info& error() const { return std::get<1>(_state); }

 private:
  std::variant<T, error_info> _state;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error_info e) : _error(std::move(e)), _failed(true) {}

  bool has_value() const noexcept { return !_failed; }
  explicit operator bool() const noexcept { return !_failed; }
  const error_info& error() const { return _error; }

 private:
  error_info _error;
  bool _failed = false;
};

}  // namespace horde
