// Errors as RFC 9457 problem details (`application/problem+json`): type, title, status,
// detail, and pixvault's stable `code`. One table maps ErrorCode to an HTTP status.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "http/message.h"

namespace pixvault::http {

int HttpStatusFor(ErrorCode code);
std::string_view StatusTitle(int status);
// A problem response with an explicit status and code (e.g. 413 "body_too_large").
Response Problem(int status, std::string_view code, std::string_view detail);
// The problem response for an error returned by a handler or the service layer.
Response ProblemFor(const Error& error);

}  // namespace pixvault::http
