// Beast, Asio and OpenSSL live only in this file. Each Get runs a private io_context on the
// calling thread; every network step is an async operation with a deadline, so a silent
// server cannot hold the caller longer than the timeouts allow.
#include "fetch/fetcher.h"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>

#include "fetch/fetch_url.h"

namespace pixvault::fetch {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kReadBufferLimit = 1 << 20;
// Timeouts are clamped to a week so deadline arithmetic cannot overflow.
constexpr Timestamp kMaxTimeout = Timestamp{7} * 24 * 3600 * kMicrosPerSecond;

std::chrono::microseconds Clamped(Timestamp t) {
  return std::chrono::microseconds(std::clamp<Timestamp>(t, 0, kMaxTimeout));
}

// One hop's outcome: a redirect target, or nothing when the body was delivered.
using HopResult = Result<std::optional<std::string>>;

std::string ErrorCodeText(const boost::system::error_code& ec) {
  return ec == beast::error::timeout ? "timed out" : ec.message();
}

tcp::endpoint Endpoint(const IpAddress& a, std::uint16_t port) {
  IpAddress u = a.Unmapped();
  if (!u.v6) {
    return {net::ip::address_v4(
                net::ip::address_v4::bytes_type{u.bytes[0], u.bytes[1], u.bytes[2], u.bytes[3]}),
            port};
  }
  net::ip::address_v6::bytes_type b;
  std::copy(u.bytes.begin(), u.bytes.end(), b.begin());
  return {net::ip::address_v6(b), port};
}

std::string StatusText(unsigned status) {
  std::string text = std::to_string(status);
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (!reason.empty() && reason != "<unknown-status>") text += " " + std::string(reason);
  return text;
}

bool IsRedirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// State of one Get: options, callbacks and the overall deadline.
struct Call {
  const FetchOptions& options;
  const std::function<Status(const ResponseInfo&)>& on_headers;
  const std::function<Status(std::span<const std::byte>)>& on_data;
  Steady::time_point deadline;

  // The earlier of now + `step` and the overall deadline.
  Steady::time_point Until(Timestamp step) const {
    return std::min(deadline, Steady::now() + Clamped(step));
  }
  Error Failure(const FetchUrl& u, std::string_view what, const boost::system::error_code& ec) {
    std::string why = ErrorCodeText(ec);
    if (ec == beast::error::timeout && Steady::now() >= deadline) {
      why = "timed out (total time limit)";
    }
    return Error{ErrorCode::kUnavailable,
                 "fetching " + u.redacted + ": " + std::string(what) + ": " + why};
  }
};

// Sends the request and reads the response on a connected stream (plain or TLS).
template <class Stream>
net::awaitable<HopResult> Exchange(Stream& stream, const FetchUrl& u, Call& call) {
  boost::system::error_code ec;
  auto& lowest = beast::get_lowest_layer(stream);

  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u.target, 11};
  req.set(bhttp::field::host, u.host_header);
  req.set(bhttp::field::user_agent, "pixvault/0.1");
  req.set(bhttp::field::accept, "*/*");
  req.set(bhttp::field::accept_encoding, "identity");
  req.set(bhttp::field::connection, "close");
  lowest.expires_at(call.Until(call.options.idle_timeout));
  co_await bhttp::async_write(stream, req, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return Fail(call.Failure(u, "sending the request", ec));

  beast::flat_buffer buffer(kReadBufferLimit);
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(boost::none);  // enforced below, against max_bytes
  lowest.expires_at(call.Until(call.options.idle_timeout));
  co_await bhttp::async_read_header(stream, buffer, parser,
                                    net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return Fail(call.Failure(u, "reading the response header", ec));

  const auto& head = parser.get();
  const unsigned status = head.result_int();
  if (IsRedirect(status)) {
    auto location = head[bhttp::field::location];
    if (location.empty()) {
      co_return Fail(ErrorCode::kUnavailable, "fetching " + u.redacted + ": answered " +
                                                  StatusText(status) + " without a Location");
    }
    auto next = ResolveLocation(u.url, std::string_view(location.data(), location.size()));
    if (!next) {
      co_return Fail(ErrorCode::kUnavailable,
                     "fetching " + u.redacted + ": bad redirect: " + next.error().message);
    }
    co_return std::optional<std::string>(std::move(*next));
  }
  if (status < 200 || status > 299) {
    ErrorCode code =
        status == 404 || status == 410 ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
    co_return Fail(code, "fetching " + u.redacted + ": the server answered " + StatusText(status));
  }

  ResponseInfo info;
  info.final_url = u.url;
  info.status = static_cast<int>(status);
  auto type = head[bhttp::field::content_type];
  info.content_type.assign(type.data(), type.size());
  auto disposition = head[bhttp::field::content_disposition];
  info.filename = FilenameHint(std::string_view(disposition.data(), disposition.size()), u.url);
  const auto max_bytes =
      static_cast<std::uint64_t>(std::max<std::int64_t>(call.options.max_bytes, 0));
  if (auto length = parser.content_length()) {
    if (*length > max_bytes) {
      co_return Fail(ErrorCode::kInvalidArgument,
                     "remote file larger than " + std::to_string(max_bytes) + " bytes (" +
                         u.redacted + " announces " + std::to_string(*length) + ")");
    }
    info.content_length = static_cast<std::int64_t>(*length);
  }
  if (auto st = call.on_headers(info); !st) co_return Fail(st.error());

  std::array<std::byte, kChunk> chunk;
  std::uint64_t received = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    lowest.expires_at(call.Until(call.options.idle_timeout));
    co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return Fail(call.Failure(u, "reading the body", ec));
    std::size_t n = chunk.size() - parser.get().body().size;
    received += n;
    if (received > max_bytes) {
      co_return Fail(
          ErrorCode::kInvalidArgument,
          "remote file larger than " + std::to_string(max_bytes) + " bytes (" + u.redacted + ")");
    }
    if (n > 0) {
      if (auto st = call.on_data(std::span<const std::byte>(chunk.data(), n)); !st) {
        co_return Fail(st.error());
      }
    }
  }
  co_return std::optional<std::string>();
}

// Connects to the first reachable address of `addresses` (all already checked).
net::awaitable<HopResult> Hop(const FetchUrl& u, const std::vector<IpAddress>& addresses,
                              ssl::context* tls, Call& call) {
  auto ex = co_await net::this_coro::executor;
  beast::tcp_stream tcp_stream(ex);
  boost::system::error_code ec;
  for (const auto& a : addresses) {
    if (tcp_stream.socket().is_open()) {
      boost::system::error_code ignored;
      tcp_stream.socket().close(ignored);
    }
    tcp_stream.expires_at(call.Until(call.options.connect_timeout));
    co_await tcp_stream.async_connect(Endpoint(a, u.port),
                                      net::redirect_error(net::use_awaitable, ec));
    if (!ec || Steady::now() >= call.deadline) break;
  }
  if (ec) co_return Fail(call.Failure(u, "connecting", ec));

  if (tls == nullptr) co_return co_await Exchange(tcp_stream, u, call);

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls);
  if (!u.host_is_ip && !SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
    co_return Fail(ErrorCode::kUnavailable, "fetching " + u.redacted + ": cannot set TLS SNI");
  }
  stream.set_verify_callback(ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_at(call.Until(call.options.connect_timeout));
  co_await stream.async_handshake(ssl::stream_base::client,
                                  net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return Fail(call.Failure(u, "TLS handshake", ec));
  co_return co_await Exchange(stream, u, call);
}

}  // namespace

Resolver SystemResolver() {
  return [](const std::string& host) -> Result<std::vector<IpAddress>> {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0) {
      if (rc == EAI_NONAME || rc == EAI_NODATA) {
        return Fail(ErrorCode::kNotFound, "host '" + host + "' not found");
      }
      return Fail(ErrorCode::kUnavailable,
                  "resolving '" + host + "': " + std::string(::gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(res, &::freeaddrinfo);
    std::vector<IpAddress> out;
    for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      IpAddress a;
      if (ai->ai_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
        std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
      } else if (ai->ai_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
        a.v6 = true;
        std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
      } else {
        continue;
      }
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    return out;
  };
}

struct Fetcher::Impl {
  Resolver resolver;
  std::mutex mu;
  std::unique_ptr<ssl::context> tls;  // created on the first https request; guarded by mu

  Result<ssl::context*> Tls() {
    std::lock_guard lock(mu);
    if (tls) return tls.get();
    try {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      ctx->set_default_verify_paths();
      ctx->set_verify_mode(ssl::verify_peer);
      SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
      tls = std::move(ctx);
      return tls.get();
    } catch (const boost::system::system_error& e) {
      return Fail(ErrorCode::kInternal, std::string("TLS setup failed: ") + e.what());
    }
  }

  // The addresses of `u`'s host, each allowed as a destination; refuses if any is not.
  Result<std::vector<IpAddress>> Destinations(const FetchUrl& u, const std::vector<Cidr>& allow) {
    std::vector<IpAddress> addresses;
    if (u.host_is_ip) {
      PV_ASSIGN_OR_RETURN(IpAddress a, IpAddress::Parse(u.host));
      addresses.push_back(a);
    } else {
      auto resolved = resolver(u.host);
      if (!resolved) return Fail(WithContext(resolved.error(), "fetching " + u.redacted));
      addresses = std::move(*resolved);
    }
    if (addresses.empty()) {
      return Fail(ErrorCode::kNotFound,
                  "fetching " + u.redacted + ": host '" + u.host + "' has no addresses");
    }
    for (const auto& a : addresses) {
      if (!DestinationAllowed(a, allow)) {
        // The address itself is left out: the message must not become a way to map the
        // server's network through DNS.
        return Fail(ErrorCode::kPermissionDenied,
                    "destination not allowed: " + u.redacted + " is a " +
                        std::string(AddressClassName(Classify(a))) +
                        " address; only public addresses can be fetched");
      }
    }
    return addresses;
  }
};

Fetcher::Fetcher(Resolver resolver) : impl_(std::make_unique<Impl>()) {
  impl_->resolver = std::move(resolver);
}

Fetcher::~Fetcher() = default;

Status Fetcher::Get(std::string_view url, const FetchOptions& options,
                    const std::function<Status(const ResponseInfo&)>& on_headers,
                    const std::function<Status(std::span<const std::byte>)>& on_data) {
  PV_ASSIGN_OR_RETURN(std::vector<Cidr> allow, ParseAllowList(options.allow_hosts));
  Call call{options, on_headers, on_data, Steady::now() + Clamped(options.total_timeout)};
  std::string current(url);
  std::string previous;  // redacted URL that redirected to `current`
  for (int redirects = 0;; ++redirects) {
    auto parsed = ParseFetchUrl(current);
    if (!parsed) {
      if (previous.empty()) return Fail(parsed.error());
      return Fail(WithContext(parsed.error(), "redirect from " + previous));
    }
    const FetchUrl& u = *parsed;
    PV_ASSIGN_OR_RETURN(std::vector<IpAddress> addresses, impl_->Destinations(u, allow));
    ssl::context* tls = nullptr;
    if (u.https) {
      PV_ASSIGN_OR_RETURN(tls, impl_->Tls());
    }

    net::io_context ioc;
    std::optional<HopResult> outcome;
    net::co_spawn(ioc, Hop(u, addresses, tls, call), [&outcome](std::exception_ptr e, HopResult r) {
      if (!e) {
        outcome = std::move(r);
        return;
      }
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        outcome = HopResult(Fail(ErrorCode::kInternal, ex.what()));
      } catch (...) {
        outcome = HopResult(Fail(ErrorCode::kInternal, "unknown exception"));
      }
    });
    ioc.run();
    if (!outcome) return Fail(ErrorCode::kInternal, "fetch did not complete");
    if (!*outcome) return Fail(std::move(outcome->error()));
    if (!outcome->value()) return Ok();
    if (redirects >= options.max_redirects) {
      return Fail(ErrorCode::kUnavailable, "fetching " + u.redacted +
                                               ": too many redirects (more than " +
                                               std::to_string(options.max_redirects) + ")");
    }
    previous = u.redacted;
    current = std::move(*outcome->value());
  }
}

}  // namespace pixvault::fetch
