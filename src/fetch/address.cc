#include "fetch/address.h"

#include <arpa/inet.h>

#include <charconv>

namespace pixvault::fetch {

namespace {

AddressClass ClassifyV4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  if (a == 0) {
    return (b | c | d) == 0 ? AddressClass::kUnspecified : AddressClass::kThisNetwork;
  }
  if (a == 10) return AddressClass::kPrivate;
  if (a == 100 && (b & 0xc0) == 64) return AddressClass::kSharedCgnat;
  if (a == 127) return AddressClass::kLoopback;
  if (a == 169 && b == 254) return AddressClass::kLinkLocal;
  if (a == 172 && (b & 0xf0) == 16) return AddressClass::kPrivate;
  if (a == 192 && b == 168) return AddressClass::kPrivate;
  if (a == 192 && b == 0 && (c == 0 || c == 2)) return AddressClass::kReserved;
  if (a == 192 && b == 88 && c == 99) return AddressClass::kReserved;  // 6to4 relay anycast
  if (a == 198 && (b & 0xfe) == 18) return AddressClass::kReserved;    // benchmarking
  if (a == 198 && b == 51 && c == 100) return AddressClass::kReserved;
  if (a == 203 && b == 0 && c == 113) return AddressClass::kReserved;
  if ((a & 0xf0) == 224) return AddressClass::kMulticast;
  if (a == 255 && b == 255 && c == 255 && d == 255) return AddressClass::kBroadcast;
  if ((a & 0xf0) == 240) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

bool AllZero(const std::array<std::uint8_t, 16>& b, int from, int to) {
  for (int i = from; i < to; ++i) {
    if (b[static_cast<std::size_t>(i)] != 0) return false;
  }
  return true;
}

}  // namespace

IpAddress IpAddress::V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress out;
  out.bytes[0] = a;
  out.bytes[1] = b;
  out.bytes[2] = c;
  out.bytes[3] = d;
  return out;
}

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument, "not an IP address");
  }
  std::string s(text);
  IpAddress out;
  if (::inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) return out;
  if (::inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
    return out;
  }
  return Fail(ErrorCode::kInvalidArgument, "'" + s + "' is not an IP address");
}

IpAddress IpAddress::Unmapped() const {
  if (!v6 || !AllZero(bytes, 0, 10) || bytes[10] != 0xff || bytes[11] != 0xff) return *this;
  return V4(bytes[12], bytes[13], bytes[14], bytes[15]);
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string_view AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kThisNetwork:
      return "this_network";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kSharedCgnat:
      return "shared_cgnat";
    case AddressClass::kLinkLocal:
      return "link_local";
    case AddressClass::kUniqueLocal:
      return "unique_local";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

AddressClass Classify(const IpAddress& address) {
  const IpAddress a = address.Unmapped();
  const auto& b = a.bytes;
  if (!a.v6) return ClassifyV4(b[0], b[1], b[2], b[3]);

  if (AllZero(b, 0, 12)) {  // ::/96: unspecified, loopback, or deprecated IPv4-compatible
    if (AllZero(b, 12, 16)) return AddressClass::kUnspecified;
    if (AllZero(b, 12, 15) && b[15] == 1) return AddressClass::kLoopback;
    AddressClass embedded = ClassifyV4(b[12], b[13], b[14], b[15]);
    return embedded == AddressClass::kPublic ? AddressClass::kReserved : embedded;
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (AllZero(b, 4, 12)) return ClassifyV4(b[12], b[13], b[14], b[15]);  // NAT64 64:ff9b::/96
    return AddressClass::kReserved;  // 64:ff9b:1::/48, local-use NAT64
  }
  if (b[0] == 0x20 && b[1] == 0x02) return ClassifyV4(b[2], b[3], b[4], b[5]);  // 6to4
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kUniqueLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;  // site-local
  if (b[0] == 0xff) return AddressClass::kMulticast;
  // 2001::/23 (IETF protocol assignments: Teredo, benchmarking, ORCHID), 2001:db8::/32 and
  // 3fff::/20 (documentation).
  if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0) return AddressClass::kReserved;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return AddressClass::kReserved;
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) return AddressClass::kReserved;
  // Only 2000::/3 is allocated for global unicast; everything else (100::/64 discard, ...)
  // is not a destination.
  if ((b[0] & 0xe0) != 0x20) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  auto bad = [&text](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, "'" + std::string(text) +
                                                 "' is not an IP address or CIDR range (" +
                                                 std::string(why) + ")");
  };
  std::string_view addr = text;
  std::string_view len;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
  }
  auto parsed = IpAddress::Parse(addr);
  if (!parsed) return bad("bad address");
  Cidr out{*parsed, parsed->v6 ? 128 : 32};
  if (addr.size() != text.size()) {
    int n = -1;
    auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
    if (ec != std::errc() || p != len.data() + len.size() || n < 0 || n > out.prefix_len) {
      return bad("bad prefix length");
    }
    out.prefix_len = n;
  }
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8.
  IpAddress unmapped = out.address.Unmapped();
  if (out.address.v6 && !unmapped.v6) {
    if (out.prefix_len < 96) return bad("prefix too short for an IPv4-mapped range");
    out.address = unmapped;
    out.prefix_len -= 96;
  }
  return out;
}

bool Cidr::Contains(const IpAddress& a) const {
  IpAddress u = a.Unmapped();
  if (u.v6 != address.v6) return false;
  int full = prefix_len / 8;
  for (int i = 0; i < full; ++i) {
    if (u.bytes[static_cast<std::size_t>(i)] != address.bytes[static_cast<std::size_t>(i)]) {
      return false;
    }
  }
  int rest = prefix_len % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  auto i = static_cast<std::size_t>(full);
  return (u.bytes[i] & mask) == (address.bytes[i] & mask);
}

Result<std::vector<Cidr>> ParseAllowList(const std::vector<std::string>& entries) {
  std::vector<Cidr> out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    PV_ASSIGN_OR_RETURN(Cidr c, Cidr::Parse(e));
    out.push_back(c);
  }
  return out;
}

bool DestinationAllowed(const IpAddress& address, const std::vector<Cidr>& allowed) {
  if (Classify(address) == AddressClass::kPublic) return true;
  for (const auto& c : allowed) {
    if (c.Contains(address)) return true;
  }
  return false;
}

}  // namespace pixvault::fetch
