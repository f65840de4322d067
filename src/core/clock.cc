#include "core/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace pixvault {

Timestamp SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTimestamp(Timestamp t) {
  std::time_t secs = static_cast<std::time_t>(t / kMicrosPerSecond);
  long micros = static_cast<long>(t % kMicrosPerSecond);
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const int year = tm.tm_year + 1900;
  if (year >= 0 && year <= 9999) {
    // Fixed-width digits by hand: timestamps are on every JSON response's path, and
    // snprintf's format parsing dominated it.
    std::string out = "0000-00-00T00:00:00.000000Z";
    auto put = [&](std::size_t at, long value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10) {
        out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      }
    };
    put(0, year, 4);
    put(5, tm.tm_mon + 1, 2);
    put(8, tm.tm_mday, 2);
    put(11, tm.tm_hour, 2);
    put(14, tm.tm_min, 2);
    put(17, tm.tm_sec, 2);
    put(20, micros, 6);
    return out;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

}  // namespace pixvault
