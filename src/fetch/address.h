// IP addresses as the fetcher checks them: parsing, classification (public or one of the
// special-purpose ranges an outbound request must not reach), and allow lists of CIDRs.
//
// Every outbound destination is checked after resolution and before connecting: a URL
// naming a private, loopback or link-local address (directly, through DNS, or through an
// IPv4-mapped / NAT64 / 6to4 IPv6 form) is refused unless an allow list entry covers it.
// Pure functions and values; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace pixvault::fetch {

// An IPv4 or IPv6 address. IPv4 uses the first 4 bytes of `bytes`.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  static IpAddress V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  // "10.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1" (no zone ids, no short IPv4 forms).
  // kInvalidArgument when `text` is not an address.
  static Result<IpAddress> Parse(std::string_view text);

  // The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for; any other
  // address unchanged.
  IpAddress Unmapped() const;
  // "10.0.0.1", "::1" (RFC 5952 form, as inet_ntop writes it).
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

enum class AddressClass {
  kPublic,       // globally routable unicast
  kUnspecified,  // 0.0.0.0, ::
  kThisNetwork,  // 0.0.0.0/8
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fec0::/10 (deprecated site-local)
  kSharedCgnat,  // 100.64.0.0/10
  kLinkLocal,    // 169.254.0.0/16, fe80::/10
  kUniqueLocal,  // fc00::/7
  kMulticast,    // 224.0.0.0/4, ff00::/8
  kBroadcast,    // 255.255.255.255
  kReserved,     // documentation, benchmarking, protocol assignments, 240/4, Teredo, ...
};

// Stable lower_snake name ("link_local"), for messages.
std::string_view AddressClassName(AddressClass c);

// The class of `address`. IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are classified by the IPv4 address
// they embed (or as reserved, when that one is public but the form is deprecated).
AddressClass Classify(const IpAddress& address);

// An address range: `prefix_len` leading bits of `address`.
struct Cidr {
  IpAddress address;
  int prefix_len = 0;

  // "10.0.0.0/8", "127.0.0.1" (a /32), "::1/128", "fd00::/8". kInvalidArgument otherwise
  // (host names are not accepted: allow lists name addresses, never names).
  static Result<Cidr> Parse(std::string_view text);
  // True when `a` (unmapped first) is inside the range.
  bool Contains(const IpAddress& a) const;
};

// Parses every entry of an allow list (as configured); kInvalidArgument naming the first
// bad entry.
Result<std::vector<Cidr>> ParseAllowList(const std::vector<std::string>& entries);

// Whether an outbound connection to `address` is permitted: it is public, or inside one of
// the `allowed` ranges.
bool DestinationAllowed(const IpAddress& address, const std::vector<Cidr>& allowed);

}  // namespace pixvault::fetch
