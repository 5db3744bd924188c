// plumbline/core/error.h — the one error type and Result<T>.
//
// Every failure names what failed and where (file:line, object, field, URL). Functions that
// can fail return Result<T>; exceptions from yaml-cpp, libgit2 wrappers and cpprestsdk are
// caught at the module boundary and turned into an Error.
//
//   Result<Manifest> m = load(...);
//   if (!m) return m.error().context("rendering envs/prod");
//   PL_ASSIGN_OR_RETURN(auto docs, parse_yaml(text, "base/deploy.yaml"));
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace plumbline {

// Codes decide what a caller does next (retry, re-read, give up); see Error::retryable().
enum class ErrorCode {
  kInvalidInput,      // bad YAML/JSON/field/flag: the user must fix the input
  kNotFound,          // file, ref, object or URL that does not exist
  kPermissionDenied,  // 403, path escape, host key rejected
  kUnauthenticated,   // 401, missing or wrong credentials
  kUnavailable,       // server down, connection refused, 5xx: retry with backoff
  kConflict,          // 409
  kGone,              // 410: a watch's resourceVersion is too old; relist
  kTimeout,           // deadline passed
  kCancelled,         // stopped on request (shutdown)
  kInternal,          // a bug in plumbline
};

std::string_view to_string(ErrorCode code);

// The one mapping of an HTTP status (a response's, or the `code` of a metav1.Status in a LIST
// body or a watch ERROR event) to an ErrorCode, so every reader decides alike:
//   400, 422 and other 4xx -> kInvalidInput   401 -> kUnauthenticated   403 -> kPermissionDenied
//   404 -> kNotFound   409 -> kConflict   410 -> kGone   429 -> kUnavailable   504 -> kTimeout
//   other 5xx, and 0 (no status given) -> kUnavailable   1xx-3xx and others -> kInternal
// Only kUnavailable and kTimeout are retryable(): a 403 is terminal wherever it is read.
ErrorCode code_for_http_status(int status);

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string where = {})
      : code_(code), message_(std::move(message)), where_(std::move(where)) {}

  ErrorCode code() const { return code_; }
  // What went wrong, e.g. "unknown field 'requireLimit' in spec.rules".
  const std::string& message() const { return message_; }
  // Where: "policies/prod.yaml:12:5", "Deployment shop-prod/checkout", a URL. May be empty.
  const std::string& where() const { return where_; }

  // Adds an outer step: "rendering envs/prod: base/deploy.yaml:3:1: bad indentation".
  Error& context(std::string outer) {
    message_ = where_.empty() ? message_ : where_ + ": " + message_;
    where_ = std::move(outer);
    return *this;
  }

  bool retryable() const {
    return code_ == ErrorCode::kUnavailable || code_ == ErrorCode::kTimeout;
  }

  // "where: message" (or just the message when where is empty).
  std::string to_string() const { return where_.empty() ? message_ : where_ + ": " + message_; }

 private:
  ErrorCode code_;
  std::string message_;
  std::string where_;
};

inline Error invalid_input(std::string message, std::string where = {}) {
  return {ErrorCode::kInvalidInput, std::move(message), std::move(where)};
}
inline Error not_found(std::string message, std::string where = {}) {
  return {ErrorCode::kNotFound, std::move(message), std::move(where)};
}

// A value or an Error. C++20 has no std::expected; this is the small subset we need.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Error> state_;
};

// Success or an Error, for functions with no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    assert(failed_);
    return error_;
  }
  Error&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace plumbline

#define PL_CONCAT_INNER_(a, b) a##b
#define PL_CONCAT_(a, b) PL_CONCAT_INNER_(a, b)

// Returns the error of a Result/Status expression from the enclosing function.
#define PL_RETURN_IF_ERROR(expr)                                \
  do {                                                          \
    auto pl_status_ = (expr);                                   \
    if (!pl_status_.ok()) return std::move(pl_status_).error(); \
  } while (false)

// PL_ASSIGN_OR_RETURN(auto x, f()); — declares x from the value, or returns the error.
#define PL_ASSIGN_OR_RETURN(lhs, expr) \
  PL_ASSIGN_OR_RETURN_IMPL_(PL_CONCAT_(pl_result_, __LINE__), lhs, expr)
#define PL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).error();   \
  lhs = std::move(tmp).value()
