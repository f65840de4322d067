#include "http/problem.h"

#include <boost/json.hpp>

#include "core/utf8.h"

namespace pixvault::http {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kCorrupt:
      return 422;  // media the client sent that cannot be read
    case ErrorCode::kUnsupported:
      return 415;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view StatusTitle(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

Response Problem(int status, std::string_view code, std::string_view detail) {
  boost::json::object o{{"type", "urn:pixvault:problem:" + std::string(code)},
                        {"title", StatusTitle(status)},
                        {"status", status},
                        {"detail", SanitizeUtf8(detail)},  // details may quote client bytes
                        {"code", code}};
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/problem+json");
  r.body = boost::json::serialize(o);
  return r;
}

Response ProblemFor(const Error& error) {
  return Problem(HttpStatusFor(error.code), ErrorCodeName(error.code), error.message);
}

}  // namespace pixvault::http
