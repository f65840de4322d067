#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <vector>

#include "core/clock.h"

namespace pixvault {
namespace {

TEST(JsonWriter, WritesNestedDocumentsWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("a");
  w.Int(1);
  w.Key("b");
  w.BeginArray();
  w.String("x");
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.RawKey("c");
  w.Raw(R"({"k":[1,2]})");
  w.Key("d");
  w.Optional(std::optional<double>());
  w.Key("e");
  w.Optional(std::optional<std::string>("s"));
  w.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",true,null,{},[]],"c":{"k":[1,2]},"d":null,"e":"s"})");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  AppendJsonString("q\"b\\n\nt\tc\x01z\x1f", out);
  EXPECT_EQ(out, R"("q\"b\\n\nt\tc\u0001z\u001f")");
  out.clear();
  AppendJsonString(std::string("nul\0end", 7), out);
  EXPECT_EQ(out, R"("nul\u0000end")");
  out.clear();
  AppendJsonString("caf\xc3\xa9", out);  // UTF-8 passes through
  EXPECT_EQ(out, "\"caf\xc3\xa9\"");
}

TEST(JsonWriter, EscapesAtEveryOffsetOfALongString) {
  // Strings are scanned eight bytes at a time: an escape must be found at any position.
  for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (std::size_t at = 0; at < 24; ++at) {
      std::string s(24, 'a');
      s[at] = special;
      s += "\xc3\xa9\x7f ~";  // bytes >= 0x80, DEL and space are not escaped
      std::string expected = "\"";
      for (char c : s) {
        switch (c) {
          case '"':
            expected += "\\\"";
            break;
          case '\\':
            expected += "\\\\";
            break;
          case '\n':
            expected += "\\n";
            break;
          case '\x01':
            expected += "\\u0001";
            break;
          case '\x1f':
            expected += "\\u001f";
            break;
          default:
            expected += c;
        }
      }
      expected += '"';
      std::string out;
      AppendJsonString(s, out);
      EXPECT_EQ(out, expected) << "special " << int(special) << " at " << at;
    }
  }
}

TEST(JsonWriter, NumbersAreShortestRoundTripAndNonFiniteIsNull) {
  std::string out;
  AppendJsonNumber(0.5, out);
  out += ' ';
  AppendJsonNumber(2.0, out);
  out += ' ';
  AppendJsonNumber(std::numeric_limits<double>::quiet_NaN(), out);
  out += ' ';
  AppendJsonNumber(std::numeric_limits<double>::infinity(), out);
  out += ' ';
  AppendJsonNumber(std::numeric_limits<std::int64_t>::min(), out);
  out += ' ';
  AppendJsonNumber(std::numeric_limits<std::uint64_t>::max(), out);
  EXPECT_EQ(out, "0.5 2 null null -9223372036854775808 18446744073709551615");
}

TEST(FormatTimestamp, AgreesWithGmtimeAcrossTheCalendar) {
  // Leap days, century years (1900 and 2100 are not leap years, 2000 is), the epoch's
  // neighbourhood and a spread of random instants from 0001 to 9999.
  std::vector<std::int64_t> secs = {0,          -1,           86399,       86400,       951782400,
                                    951868800,  4107456000,   4107542400,  -2203891200, -2203977600,
                                    1709164800, 253402300799, -62135596800};
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    secs.push_back(-62135596800 + static_cast<std::int64_t>(x % 315537897600ULL));
  }
  for (const std::int64_t s : secs) {
    std::time_t tt = static_cast<std::time_t>(s);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.000042Z",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASSERT_EQ(FormatTimestamp(s * kMicrosPerSecond + 42), expected) << s;
  }
}

TEST(FormatTimestamp, WritesRfc3339WithMicroseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1700098907000001), "2023-11-16T01:41:47.000001Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(253402300799999999), "9999-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace pixvault
