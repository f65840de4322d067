// Fetcher: a guarded outbound HTTP(S) GET client for URLs that users hand to the server
// ("upload from URL"), built so such a URL cannot be used to reach the server's own network.
//
// For the URL and for every redirect target, in order:
//   1. the URL must be http:// or https://, with a host and without userinfo;
//   2. the host is resolved once, and the request is refused (before any connection) if ANY
//      resolved address is not public (loopback, private, link-local, unique-local, CGNAT,
//      multicast, unspecified, reserved, or an IPv6 form embedding one of those) unless an
//      entry of `allow_hosts` covers it;
//   3. the connection goes to one of exactly those checked addresses (never a second
//      resolution, so DNS rebinding cannot swap the address), with the URL's host in the
//      Host header and, for https, in SNI and the certificate check (system trust store,
//      peer verification, host name verification).
// 301/302/303/307/308 are followed up to `max_redirects` (relative Locations resolved against
// the current URL). The body is streamed to the caller in chunks; memory stays flat. No proxy
// from the environment is used; no cookies or credentials are ever sent.
//
// Thread-safe: one Fetcher may serve concurrent Get calls; each call does its I/O on the
// calling thread and blocks it until done (bounded by `total_timeout`, plus the time the
// resolver takes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "fetch/address.h"

namespace pixvault::fetch {

struct FetchOptions {
  std::int64_t max_bytes = std::int64_t{8} << 30;  // body size cap
  Timestamp connect_timeout = 10 * kMicrosPerSecond;
  Timestamp total_timeout = 15 * 60 * kMicrosPerSecond;  // the whole Get, redirects included
  Timestamp idle_timeout = 30 * kMicrosPerSecond;        // without progress while reading
  int max_redirects = 5;
  // IPs or CIDR ranges that may be reached although not public, e.g. "127.0.0.1/32",
  // "10.1.0.0/16", "fd00::/8". Names are not accepted (see ParseAllowList).
  std::vector<std::string> allow_hosts;
};

// What is known about the response once its header arrived (final, after redirects).
struct ResponseInfo {
  std::string final_url;
  int status = 0;
  std::string content_type;  // as sent, may be empty; never trusted for the media type
  std::optional<std::int64_t> content_length;
  // From Content-Disposition, else the URL's last path segment; may be empty.
  std::string filename;
};

// Resolves a host name (or an IP literal) to its addresses; kNotFound when the name does
// not exist, kUnavailable when resolution fails otherwise.
using Resolver = std::function<Result<std::vector<IpAddress>>(const std::string& host)>;

// The system resolver (getaddrinfo, IPv4 and IPv6). It has no timeout of its own beyond
// the system resolver's.
Resolver SystemResolver();

class Fetcher {
 public:
  // `resolver` is injectable so tests can map names to addresses without DNS.
  explicit Fetcher(Resolver resolver = SystemResolver());
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // GETs `url`, calls `on_headers` once with the final response's header (2xx only), then
  // `on_data` with each chunk of the body; an error returned by a callback aborts the fetch
  // and is returned unchanged.
  //
  // Errors: kInvalidArgument (URL or redirect target not acceptable, a bad allow_hosts entry,
  // body larger than max_bytes, detected from Content-Length before the body is read or while
  // streaming), kPermissionDenied (destination address not allowed), kNotFound (host name
  // does not exist, or the server answered 404/410), kUnavailable (connect, TLS or protocol
  // failures, timeouts, too many redirects, any other non-2xx status, named in the message).
  // Messages name URLs without their query strings.
  Status Get(std::string_view url, const FetchOptions& options,
             const std::function<Status(const ResponseInfo&)>& on_headers,
             const std::function<Status(std::span<const std::byte>)>& on_data);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pixvault::fetch
