// URLs the fetcher accepts, and the pieces of a response it turns into names.
//
// Only absolute http:// and https:// URLs with a host and without userinfo are accepted;
// the fragment is dropped. Pure functions; thread-safe. Boost.URL stays inside fetch_url.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace pixvault::fetch {

// A parsed, normalized request URL.
struct FetchUrl {
  bool https = false;
  // Lowercase host name, or an IP literal without brackets ("::1").
  std::string host;
  bool host_is_ip = false;
  std::uint16_t port = 0;   // explicit or the scheme's default
  std::string target;       // origin-form request target: "/path?query"
  std::string host_header;  // "example.com", "example.com:8080", "[::1]:8080"
  std::string url;          // scheme://host_header + target
  // scheme://host_header/path without the query string (which may carry signed tokens),
  // for error messages and logs.
  std::string redacted;
};

// Errors (kInvalidArgument): not a URL, a scheme other than http/https (file:, ftp:,
// gopher:, ...), userinfo ("user:pass@"), no host, a bad port, a host name that is not
// ASCII letters, digits, '-', '.' and '_', or a URL longer than 8 KiB. Messages never repeat
// userinfo or query strings.
Result<FetchUrl> ParseFetchUrl(std::string_view text);

// Resolves a redirect's Location header value (absolute or relative) against `base`;
// kInvalidArgument when it is not a URI reference.
Result<std::string> ResolveLocation(std::string_view base, std::string_view location);

// A file name for a download: the filename*= or filename= parameter of
// `content_disposition`, else the last path segment of `url` (percent-decoded). Directory
// parts, control characters and invalid UTF-8 are removed and the result is capped at 255
// bytes; "" when nothing usable remains.
std::string FilenameHint(std::string_view content_disposition, std::string_view url);

}  // namespace pixvault::fetch
