// Error values shared by every module.
//
// Expected failures travel as values (`Result<T>` / `Status`); exceptions never cross a
// module boundary. `ErrorCode` maps to HTTP statuses and CLI exit codes in one table each.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace pixvault {

enum class ErrorCode {
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kPermissionDenied,
  kCorrupt,
  kUnavailable,
  kUnsupported,
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

// Builds the unexpected side of a Result: `return Fail(ErrorCode::kNotFound, "asset 3");`.
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

inline Status Ok() { return {}; }

// Stable lower_snake names ("not_found"), used in JSON error bodies and logs.
std::string_view ErrorCodeName(ErrorCode code);

// Prefixes the message with context: "import a.mp4: <message>".
Error WithContext(Error error, std::string_view context);

}  // namespace pixvault

// Propagates a failed Status/Result out of the enclosing function.
#define PV_RETURN_IF_ERROR(expr)                                  \
  do {                                                            \
    auto pv_status_ = (expr);                                     \
    if (!pv_status_) return ::pixvault::Fail(pv_status_.error()); \
  } while (0)

#define PV_CONCAT_INNER_(a, b) a##b
#define PV_CONCAT_(a, b) PV_CONCAT_INNER_(a, b)
// `PV_ASSIGN_OR_RETURN(auto x, Compute());`
#define PV_ASSIGN_OR_RETURN(lhs, expr) \
  PV_ASSIGN_OR_RETURN_IMPL_(PV_CONCAT_(pv_result_, __LINE__), lhs, expr)
#define PV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)            \
  auto tmp = (expr);                                         \
  if (!tmp) return ::pixvault::Fail(std::move(tmp).error()); \
  lhs = std::move(*tmp)
