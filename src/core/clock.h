// Time source, injected wherever time matters so tests control it.
//
// Timestamps are microseconds since the Unix epoch (UTC), stored as BIGINT in both
// database dialects. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace pixvault {

using Timestamp = std::int64_t;  // microseconds since 1970-01-01T00:00:00Z
inline constexpr Timestamp kMicrosPerSecond = 1'000'000;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = 1'700'000'000 * kMicrosPerSecond) : now_(start) {}
  Timestamp Now() const override { return now_.load(); }
  void Advance(Timestamp micros) { now_.fetch_add(micros); }
  void Set(Timestamp t) { now_.store(t); }

 private:
  std::atomic<Timestamp> now_;
};

// "2026-11-24T05:00:09.123456Z".
std::string FormatTimestamp(Timestamp t);

}  // namespace pixvault
