#include "plumbline/core/error.h"

namespace plumbline {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "invalid input";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kGone:
      return "gone";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown";
}

ErrorCode code_for_http_status(int status) {
  switch (status) {
    case 0:  // a Status without a code: the server gave no reason to stop trying
      return ErrorCode::kUnavailable;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;  // a resourceVersion too old: relist
    case 429:
      return ErrorCode::kUnavailable;  // throttled: retry after a pause
    case 504:
      return ErrorCode::kTimeout;  // the server's own deadline passed
    default:
      break;
  }
  if (status >= 400 && status < 500) return ErrorCode::kInvalidInput;
  if (status >= 500 && status < 600) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

}  // namespace plumbline
