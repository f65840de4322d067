// Small helpers for rendering domain objects as Boost.JSON values, shared by the JSON
// shapes of the service (lineage, branches) and the HTTP routes.
#pragma once

#include <optional>
#include <string>

#include <boost/json.hpp>

namespace pixvault::service {

// The value, or null when absent.
template <class T>
boost::json::value OrNull(const std::optional<T>& v) {
  if (!v) return nullptr;
  return boost::json::value_from(*v);
}

// A JSON column embedded as JSON (the store validated it on the way in); `fallback` if the
// text does not parse.
inline boost::json::value Embedded(const std::string& text,
                                   boost::json::value fallback = boost::json::object{}) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return ec ? fallback : v;
}

}  // namespace pixvault::service
