// Helpers shared by the route handler files: typed query parameters, strict JSON bodies.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/error.h"
#include "core/model.h"
#include "http/message.h"

namespace pixvault::http {

// Query parameter as an integer in [min, max]; nullopt when absent; kInvalidArgument when
// malformed or out of range.
Result<std::optional<std::int64_t>> QueryInt(const Request& req, std::string_view name,
                                             std::int64_t min, std::int64_t max);
Result<std::optional<double>> QueryDouble(const Request& req, std::string_view name);
Result<std::optional<bool>> QueryBool(const Request& req, std::string_view name);
// A timestamp parameter: RFC 3339 ("2026-11-24T05:00:00Z") or Unix seconds.
Result<std::optional<Timestamp>> QueryTime(const Request& req, std::string_view name);
Result<Timestamp> ParseTime(std::string_view text);

// The path parameter `name` as a positive id; kNotFound when it is not one (an id that
// cannot exist is simply not found).
Result<std::int64_t> PathId(const Request& req, std::string_view name);

// Parses a JSON object body; kInvalidArgument for malformed JSON, a non-object, or a member
// not in `allowed` (when given).
Result<boost::json::object> ParseObject(std::string_view body,
                                        const std::set<std::string>& allowed = {});

// Typed member access; kInvalidArgument naming the field on a type mismatch.
Result<std::optional<std::string>> OptString(const boost::json::object& o, std::string_view key);
Result<std::optional<std::int64_t>> OptInt(const boost::json::object& o, std::string_view key);
Result<std::optional<double>> OptNumber(const boost::json::object& o, std::string_view key);
Result<std::optional<bool>> OptBool(const boost::json::object& o, std::string_view key);
Result<std::optional<std::vector<std::string>>> OptStrings(const boost::json::object& o,
                                                           std::string_view key);
// A member that must hold JSON of the given kind ("object", "array", "any"); returned as
// serialized JSON text.
Result<std::optional<std::string>> OptJson(const boost::json::object& o, std::string_view key,
                                           std::string_view kind);
// True when the member is present with the value null.
bool IsNull(const boost::json::object& o, std::string_view key);

Response JsonResponse(int status, const boost::json::value& body);

// A job as the job routes show it (payload and result embedded as JSON).
boost::json::object JobJson(const Job& job);

// Whether an If-None-Match header value names `etag` (a quoted tag; weak tags match too).
bool EtagMatches(std::string_view header, std::string_view etag);

}  // namespace pixvault::http
