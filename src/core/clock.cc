#include "core/clock.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace pixvault {

Timestamp SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

struct CivilTime {
  std::int64_t year;
  int month, day, hour, minute, second;
};

// UTC calendar fields of `secs` since the epoch, by arithmetic alone: gmtime_r takes glibc's
// time-zone lock, and timestamps are formatted on every JSON response (a list page formats
// 150), so the server's threads queued on that lock. Days to year/month/day by the
// proleptic Gregorian calendar in 400-year eras, with years starting on 1 March so the leap
// day comes last.
CivilTime ToCivil(std::int64_t secs) {
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;  // days since 0000-03-01
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;                                       // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                     // 0 = March
  CivilTime c{};
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  return c;
}

}  // namespace

std::string FormatTimestamp(Timestamp t) {
  std::int64_t secs = t / kMicrosPerSecond;
  long micros = static_cast<long>(t % kMicrosPerSecond);
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --secs;
  }
  const CivilTime c = ToCivil(secs);
  if (c.year >= 0 && c.year <= 9999) {
    // Fixed-width digits by hand: snprintf's format parsing dominated this path.
    std::string out = "0000-00-00T00:00:00.000000Z";
    auto put = [&](std::size_t at, long value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10) {
        out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      }
    };
    put(0, static_cast<long>(c.year), 4);
    put(5, c.month, 2);
    put(8, c.day, 2);
    put(11, c.hour, 2);
    put(14, c.minute, 2);
    put(17, c.second, 2);
    put(20, micros, 6);
    return out;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%06ldZ",
                static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second, micros);
  return buf;
}

}  // namespace pixvault
