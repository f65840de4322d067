#include "http/metrics.h"

#include <sstream>

namespace pixvault::http {

void Metrics::RecordRequest(const std::string& route, int status, double seconds,
                            std::int64_t bytes_in, std::int64_t bytes_out) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
  bytes_in_ += static_cast<std::uint64_t>(bytes_in);
  bytes_out_ += static_cast<std::uint64_t>(bytes_out);
}

void Metrics::ConnectionOpened() {
  std::lock_guard lock(mu_);
  ++open_connections_;
  ++connections_total_;
}

void Metrics::ConnectionClosed() {
  std::lock_guard lock(mu_);
  --open_connections_;
}

std::string Metrics::Render(const std::function<std::string()>& extra) const {
  std::ostringstream o;
  {
    std::lock_guard lock(mu_);
    o << "# HELP pixvault_http_requests_total HTTP requests by route and status.\n"
         "# TYPE pixvault_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      o << "pixvault_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
        << "\"} " << n << "\n";
    }
    o << "# HELP pixvault_http_request_duration_seconds Request latency by route.\n"
         "# TYPE pixvault_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        o << "pixvault_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
          << kBuckets[i] << "\"} " << h.counts[i] << "\n";
      }
      o << "pixvault_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
        << h.count << "\n";
      o << "pixvault_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum
        << "\n";
      o << "pixvault_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count
        << "\n";
    }
    o << "# HELP pixvault_http_bytes_received_total Request body bytes received.\n"
         "# TYPE pixvault_http_bytes_received_total counter\n"
         "pixvault_http_bytes_received_total "
      << bytes_in_
      << "\n"
         "# HELP pixvault_http_bytes_sent_total Response body bytes sent.\n"
         "# TYPE pixvault_http_bytes_sent_total counter\n"
         "pixvault_http_bytes_sent_total "
      << bytes_out_
      << "\n"
         "# HELP pixvault_http_open_connections Connections currently open.\n"
         "# TYPE pixvault_http_open_connections gauge\n"
         "pixvault_http_open_connections "
      << open_connections_
      << "\n"
         "# HELP pixvault_http_connections_total Connections accepted.\n"
         "# TYPE pixvault_http_connections_total counter\n"
         "pixvault_http_connections_total "
      << connections_total_ << "\n";
  }
  if (extra) o << extra();
  return o.str();
}

}  // namespace pixvault::http
