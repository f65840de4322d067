#include "fetch/address.h"

#include <gtest/gtest.h>

namespace pixvault::fetch {
namespace {

AddressClass ClassOf(std::string_view text) {
  auto a = IpAddress::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? Classify(*a) : AddressClass::kReserved;
}

TEST(IpAddress, ParsesV4AndV6AndRejectsTheRest) {
  auto v4 = IpAddress::Parse("192.168.1.20");
  ASSERT_TRUE(v4.has_value());
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(v4->ToString(), "192.168.1.20");
  auto v6 = IpAddress::Parse("[2001:4860::8888]");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->ToString(), "2001:4860::8888");
  for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "0x7f.0.0.1",
                          "2130706433", "::1%eth0", "fe80::1%1", "1.2.3.4/8", "[::1"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
}

TEST(IpAddress, UnmapsIpv4MappedIpv6) {
  auto a = IpAddress::Parse("::ffff:10.1.2.3");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->Unmapped(), IpAddress::V4(10, 1, 2, 3));
  auto b = IpAddress::Parse("2001:4860::1");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->Unmapped(), *b);
}

TEST(Classify, Ipv4SpecialRanges) {
  struct Case {
    const char* address;
    AddressClass expected;
  };
  const Case cases[] = {
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kThisNetwork},
      {"10.0.0.1", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"100.64.0.1", AddressClass::kSharedCgnat},
      {"100.127.255.254", AddressClass::kSharedCgnat},
      {"100.128.0.1", AddressClass::kPublic},
      {"100.63.255.255", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.0.9", AddressClass::kLoopback},
      {"169.254.169.254", AddressClass::kLinkLocal},
      {"172.15.255.255", AddressClass::kPublic},
      {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"172.32.0.1", AddressClass::kPublic},
      {"192.0.0.8", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kReserved},
      {"192.88.99.1", AddressClass::kReserved},
      {"192.168.0.1", AddressClass::kPrivate},
      {"192.169.0.1", AddressClass::kPublic},
      {"198.18.0.1", AddressClass::kReserved},
      {"198.19.255.255", AddressClass::kReserved},
      {"198.51.100.7", AddressClass::kReserved},
      {"203.0.113.9", AddressClass::kReserved},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast},
      {"240.0.0.1", AddressClass::kReserved},
      {"255.255.255.255", AddressClass::kBroadcast},
      {"1.1.1.1", AddressClass::kPublic},
      {"8.8.8.8", AddressClass::kPublic},
      {"93.184.216.34", AddressClass::kPublic},
      {"11.0.0.1", AddressClass::kPublic},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ClassOf(c.address), c.expected)
        << c.address << " is " << AddressClassName(ClassOf(c.address));
  }
}

TEST(Classify, Ipv6SpecialRangesAndEmbeddedIpv4) {
  struct Case {
    const char* address;
    AddressClass expected;
  };
  const Case cases[] = {
      {"::", AddressClass::kUnspecified},
      {"::1", AddressClass::kLoopback},
      {"fe80::1", AddressClass::kLinkLocal},
      {"febf:ffff::1", AddressClass::kLinkLocal},
      {"fec0::1", AddressClass::kPrivate},
      {"fc00::1", AddressClass::kUniqueLocal},
      {"fd12:3456::1", AddressClass::kUniqueLocal},
      {"ff02::1", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved},
      {"2001::1", AddressClass::kReserved},  // Teredo
      {"100::1", AddressClass::kReserved},   // discard
      {"3fff::1", AddressClass::kReserved},
      {"4000::1", AddressClass::kReserved},  // outside 2000::/3
      // IPv4-mapped: classified as the IPv4 address.
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:10.0.0.1", AddressClass::kPrivate},
      {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"::ffff:7f00:1", AddressClass::kLoopback},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      // IPv4-compatible (deprecated): never public.
      {"::127.0.0.1", AddressClass::kLoopback},
      {"::8.8.8.8", AddressClass::kReserved},
      // NAT64 and 6to4 carry an IPv4 destination.
      {"64:ff9b::10.0.0.1", AddressClass::kPrivate},
      {"64:ff9b::8.8.8.8", AddressClass::kPublic},
      {"64:ff9b:1::1", AddressClass::kReserved},
      {"2002:c0a8:0101::1", AddressClass::kPrivate},  // 6to4 of 192.168.1.1
      {"2002:7f00:0001::1", AddressClass::kLoopback},
      {"2002:0808:0808::1", AddressClass::kPublic},
      {"2001:4860:4860::8888", AddressClass::kPublic},
      {"2606:4700::1111", AddressClass::kPublic},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ClassOf(c.address), c.expected)
        << c.address << " is " << AddressClassName(ClassOf(c.address));
  }
}

TEST(Cidr, ParsesAddressesAndRanges) {
  auto one = Cidr::Parse("127.0.0.1");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->prefix_len, 32);
  EXPECT_TRUE(one->Contains(IpAddress::V4(127, 0, 0, 1)));
  EXPECT_FALSE(one->Contains(IpAddress::V4(127, 0, 0, 2)));

  auto net = Cidr::Parse("172.16.0.0/12");
  ASSERT_TRUE(net.has_value());
  EXPECT_TRUE(net->Contains(IpAddress::V4(172, 31, 1, 1)));
  EXPECT_FALSE(net->Contains(IpAddress::V4(172, 32, 0, 0)));
  // An IPv4-mapped IPv6 address is matched as its IPv4 address.
  EXPECT_TRUE(net->Contains(*IpAddress::Parse("::ffff:172.20.0.1")));
  EXPECT_FALSE(net->Contains(*IpAddress::Parse("fd00::1")));

  auto v6 = Cidr::Parse("fd00::/8");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->Contains(*IpAddress::Parse("fd12::1")));
  EXPECT_FALSE(v6->Contains(*IpAddress::Parse("fe80::1")));
  EXPECT_FALSE(v6->Contains(IpAddress::V4(10, 0, 0, 1)));

  auto mapped = Cidr::Parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(mapped.has_value());
  EXPECT_TRUE(mapped->Contains(IpAddress::V4(10, 9, 9, 9)));

  auto all = Cidr::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->Contains(IpAddress::V4(10, 0, 0, 1)));

  for (const char* bad : {"", "localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "::1/129", "example.com/32", "::ffff:10.0.0.0/8"}) {
    auto r = Cidr::Parse(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(DestinationAllowed, PublicAlwaysPrivateOnlyWhenListed) {
  auto allow = ParseAllowList({"127.0.0.1/32", "10.1.0.0/16"});
  ASSERT_TRUE(allow.has_value());
  EXPECT_TRUE(DestinationAllowed(IpAddress::V4(8, 8, 8, 8), {}));
  EXPECT_FALSE(DestinationAllowed(IpAddress::V4(127, 0, 0, 1), {}));
  EXPECT_TRUE(DestinationAllowed(IpAddress::V4(127, 0, 0, 1), *allow));
  EXPECT_TRUE(DestinationAllowed(*IpAddress::Parse("::ffff:127.0.0.1"), *allow));
  EXPECT_FALSE(DestinationAllowed(IpAddress::V4(127, 0, 0, 2), *allow));
  EXPECT_FALSE(DestinationAllowed(*IpAddress::Parse("::1"), *allow));
  EXPECT_TRUE(DestinationAllowed(IpAddress::V4(10, 1, 200, 3), *allow));
  EXPECT_FALSE(DestinationAllowed(IpAddress::V4(10, 2, 0, 1), *allow));
  EXPECT_FALSE(DestinationAllowed(IpAddress::V4(169, 254, 169, 254), *allow));

  auto bad = ParseAllowList({"127.0.0.1", "intranet.local"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("intranet.local"), std::string::npos);
}

}  // namespace
}  // namespace pixvault::fetch
