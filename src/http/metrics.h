// Request metrics in Prometheus text format: requests by route and status, latency
// histograms by route, bytes in and out. Thread-safe (a mutex around small maps; the hot
// path takes it once per request).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace pixvault::http {

class Metrics {
 public:
  void RecordRequest(const std::string& route, int status, double seconds, std::int64_t bytes_in,
                     std::int64_t bytes_out);
  void ConnectionOpened();
  void ConnectionClosed();
  // Renders every metric; `extra` appends more text (e.g. jobs by state from the store).
  std::string Render(const std::function<std::string()>& extra = {}) const;

  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::int64_t open_connections_ = 0;
  std::uint64_t connections_total_ = 0;
};

}  // namespace pixvault::http
