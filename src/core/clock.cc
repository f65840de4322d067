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
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

}  // namespace pixvault
