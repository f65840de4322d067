// Beast, Asio and OpenSSL live only in this file. Each connection owns an io_context, which
// the call using the connection runs on the calling thread (so a pooled connection can move
// between threads, one call at a time); every network step is an async operation with a
// deadline, so a silent server cannot hold the caller longer than the timeouts allow. The request
// head is written by Beast; the body is written as raw bytes after it, piece by piece (memory
// strings, and file ranges: with sendfile(2) on plain TCP, read in 64 KiB chunks under TLS),
// so a file body never sits in memory.
#include "providers/http_client.h"

#include <poll.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

#include "fetch/fetch_url.h"
#include "providers/http_body.h"

namespace pixvault::providers {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {

using http_body::Body;
using http_body::MakeBody;
using http_body::Piece;

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kReadBufferLimit = 1 << 20;
constexpr Timestamp kMaxTimeout = Timestamp{7} * 24 * 3600 * kMicrosPerSecond;
// Keep-alive pool: idle connections kept per scheme://host:port, and for how long.
constexpr std::size_t kMaxIdlePerHost = 4;
constexpr auto kKeepIdle = std::chrono::seconds(20);

std::chrono::microseconds Clamped(Timestamp t) {
  return std::chrono::microseconds(std::clamp<Timestamp>(t, 0, kMaxTimeout));
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// An error of a connection the server had already closed (before any byte of the answer).
bool IsStale(const boost::system::error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == bhttp::error::end_of_stream ||
         ec == ssl::error::stream_truncated;
}

bhttp::verb Verb(HttpMethod m) {
  switch (m) {
    case HttpMethod::kGet:
      return bhttp::verb::get;
    case HttpMethod::kPost:
      return bhttp::verb::post;
    case HttpMethod::kPut:
      return bhttp::verb::put;
    case HttpMethod::kDelete:
      return bhttp::verb::delete_;
  }
  return bhttp::verb::get;
}

// State of one call: request, body, stream and the overall deadline.
struct Call {
  const HttpRequest& request;
  const fetch::FetchUrl& url;
  const Body& body;
  const ResponseStream* stream;
  Steady::time_point deadline;
  // Set by Exchange: the connection can serve another request (the answer was read whole
  // and the server keeps the connection open) ...
  bool reusable = false;
  // ... or it failed before any byte of the answer as a connection the server closed does.
  bool stale = false;

  Steady::time_point Until(Timestamp step) const {
    return std::min(deadline, Steady::now() + Clamped(step));
  }
  std::string Where() const {
    return std::string(HttpMethodName(request.method)) + " " + url.redacted;
  }
  Error Failure(std::string_view what, const boost::system::error_code& ec) const {
    std::string why = ec.message();
    if (ec == beast::error::timeout) {
      why = Steady::now() >= deadline ? "timed out (total time limit)" : "timed out (no progress)";
    }
    return Error{ErrorCode::kUnavailable, Where() + ": " + std::string(what) + ": " + why};
  }
};

// A file piece on plain TCP: from the page cache to the socket with sendfile(2), no copy
// through this process. Waits for the socket to drain no longer than the idle timeout.
net::awaitable<Status> SendFile(beast::tcp_stream& stream, Call& call, const Piece& piece) {
  tcp::socket& socket = stream.socket();
  boost::system::error_code ec;
  socket.native_non_blocking(true, ec);
  if (ec) co_return Fail(call.Failure("sending the body", ec));
  off_t offset = 0;
  const auto end = static_cast<off_t>(piece.size);
  while (offset < end) {
    const auto want = static_cast<std::size_t>(std::min<off_t>(end - offset, off_t{1} << 20));
    const ssize_t n = ::sendfile(socket.native_handle(), piece.file->fd, &offset, want);
    if (n > 0) continue;
    if (n == 0) {
      co_return Fail(ErrorCode::kInternal, "reading " + piece.path.filename().string() +
                                               " to send it: the file shrank while being sent");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      const boost::system::error_code failed(errno, boost::system::system_category());
      call.stale = IsStale(failed);
      co_return Fail(call.Failure("sending the body", failed));
    }
    // The socket's buffer is full: wait until it drains, or the idle timeout cancels the wait.
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_at(call.Until(call.request.idle_timeout));
    auto timed_out = std::make_shared<bool>(false);
    timer.async_wait([&socket, timed_out](const boost::system::error_code& e) {
      if (e) return;
      *timed_out = true;
      boost::system::error_code ignored;
      socket.cancel(ignored);
    });
    co_await socket.async_wait(tcp::socket::wait_write,
                               net::redirect_error(net::use_awaitable, ec));
    timer.cancel();
    if (*timed_out) co_return Fail(call.Failure("sending the body", beast::error::timeout));
    if (ec) co_return Fail(call.Failure("sending the body", ec));
  }
  co_return Ok();
}

template <class Stream>
net::awaitable<Status> WriteBody(Stream& stream, Call& call) {
  boost::system::error_code ec;
  auto& lowest = beast::get_lowest_layer(stream);
  std::vector<char> chunk;
  for (const Piece& piece : call.body.pieces) {
    if (!piece.file) {
      if (piece.text.empty()) continue;
      lowest.expires_at(call.Until(call.request.idle_timeout));
      co_await net::async_write(stream, net::buffer(piece.text),
                                net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        call.stale = IsStale(ec);
        co_return Fail(call.Failure("sending the body", ec));
      }
      continue;
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      if (auto st = co_await SendFile(stream, call, piece); !st) co_return Fail(st.error());
      continue;
    }
    chunk.resize(kChunk);
    for (std::int64_t pos = 0; pos < piece.size;) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::int64_t>(piece.size - pos, kChunk));
      const ssize_t n = ::pread(piece.file->fd, chunk.data(), want, pos);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        co_return Fail(ErrorCode::kInternal,
                       "reading " + piece.path.filename().string() + " to send it: " +
                           (n < 0 ? std::strerror(errno) : "the file shrank while being sent"));
      }
      lowest.expires_at(call.Until(call.request.idle_timeout));
      co_await net::async_write(stream, net::buffer(chunk.data(), static_cast<std::size_t>(n)),
                                net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        call.stale = IsStale(ec);
        co_return Fail(call.Failure("sending the body", ec));
      }
      pos += n;
    }
  }
  co_return Ok();
}

template <class Stream>
net::awaitable<Result<HttpResponse>> Exchange(Stream& stream, Call& call) {
  boost::system::error_code ec;
  auto& lowest = beast::get_lowest_layer(stream);
  const HttpRequest& r = call.request;

  bhttp::request<bhttp::empty_body> req{Verb(r.method), call.url.target, 11};
  req.set(bhttp::field::host, call.url.host_header);
  req.set(bhttp::field::user_agent, "pixvault/0.1");
  if (!call.body.pieces.empty() || r.method == HttpMethod::kPost || r.method == HttpMethod::kPut) {
    req.content_length(static_cast<std::uint64_t>(call.body.length));
  }
  if (!call.body.content_type.empty()) req.set(bhttp::field::content_type, call.body.content_type);
  for (const auto& [name, value] : r.headers) req.insert(name, value);

  bhttp::request_serializer<bhttp::empty_body> serializer(req);
  lowest.expires_at(call.Until(r.idle_timeout));
  co_await bhttp::async_write_header(stream, serializer,
                                     net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    call.stale = IsStale(ec);
    co_return Fail(call.Failure("sending the request", ec));
  }
  if (auto st = co_await WriteBody(stream, call); !st) co_return Fail(st.error());

  beast::flat_buffer buffer(kReadBufferLimit);
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(boost::none);  // enforced below for collected bodies
  lowest.expires_at(call.Until(r.idle_timeout));
  co_await bhttp::async_read_header(stream, buffer, parser,
                                    net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    call.stale = IsStale(ec);
    co_return Fail(call.Failure("reading the response header", ec));
  }

  HttpResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  bool streaming = false;
  if (call.stream != nullptr && call.stream->on_head) {
    auto decision = call.stream->on_head(response);
    if (!decision) co_return Fail(decision.error());
    streaming = *decision;
  }
  const auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(r.max_response_bytes, 0));
  // An error answer's body is only read for its message: cut at the cap, not a failure (a
  // huge HTML 404 page is still a 404).
  const bool truncate = response.status < 200 || response.status > 299;
  if (!streaming && !truncate) {
    if (auto length = parser.content_length(); length && *length > cap) {
      co_return Fail(ErrorCode::kUnavailable, call.Where() + ": the answer is larger than " +
                                                  std::to_string(cap) + " bytes");
    }
  }

  std::array<std::byte, kChunk> chunk;
  std::uint64_t received = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    lowest.expires_at(call.Until(r.idle_timeout));
    co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return Fail(call.Failure("reading the response body", ec));
    const std::size_t n = chunk.size() - parser.get().body().size;
    if (n == 0) continue;
    received += n;
    if (streaming) {
      if (auto st = call.stream->on_data(std::span<const std::byte>(chunk.data(), n)); !st) {
        co_return Fail(st.error());
      }
    } else {
      if (received > cap) {
        if (truncate) {
          response.body.append(reinterpret_cast<const char*>(chunk.data()),
                               n - static_cast<std::size_t>(received - cap));
          co_return response;
        }
        co_return Fail(ErrorCode::kUnavailable, call.Where() + ": the answer is larger than " +
                                                    std::to_string(cap) + " bytes");
      }
      response.body.append(reinterpret_cast<const char*>(chunk.data()), n);
    }
  }
  call.reusable = parser.keep_alive();
  co_return response;
}

// One connection and the io_context it belongs to (a call runs it on the calling thread). Not
// connected yet when both streams are empty.
struct Connection {
  net::io_context ioc;  // first: destroyed after the streams
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  Steady::time_point idle_since;

  bool connected() const { return plain.has_value() || secure.has_value(); }
  // An idle connection with something to read has been closed (or broken) by the server.
  bool LooksAlive() {
    auto& socket = secure ? beast::get_lowest_layer(*secure).socket() : plain->socket();
    pollfd p{socket.native_handle(), POLLIN, 0};
    return socket.is_open() && ::poll(&p, 1, 0) == 0;
  }
};

// Connects `c` if needed (TCP to the first reachable endpoint, then TLS), then exchanges.
net::awaitable<Result<HttpResponse>> Run(Connection& c, const std::vector<tcp::endpoint>& endpoints,
                                         ssl::context* tls, Call& call) {
  if (!c.connected()) {
    auto ex = co_await net::this_coro::executor;
    beast::tcp_stream tcp_stream(ex);
    boost::system::error_code ec;
    for (const auto& endpoint : endpoints) {
      if (tcp_stream.socket().is_open()) {
        boost::system::error_code ignored;
        tcp_stream.socket().close(ignored);
      }
      tcp_stream.expires_at(call.Until(call.request.connect_timeout));
      co_await tcp_stream.async_connect(endpoint, net::redirect_error(net::use_awaitable, ec));
      if (!ec || Steady::now() >= call.deadline) break;
    }
    if (ec) co_return Fail(call.Failure("connecting", ec));
    if (tls == nullptr) {
      c.plain.emplace(std::move(tcp_stream));
    } else {
      auto& stream = c.secure.emplace(std::move(tcp_stream), *tls);
      if (!call.url.host_is_ip &&
          !SSL_set_tlsext_host_name(stream.native_handle(), call.url.host.c_str())) {
        co_return Fail(ErrorCode::kUnavailable, call.Where() + ": cannot set TLS SNI");
      }
      stream.set_verify_callback(ssl::host_name_verification(call.url.host));
      beast::get_lowest_layer(stream).expires_at(call.Until(call.request.connect_timeout));
      co_await stream.async_handshake(ssl::stream_base::client,
                                      net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return Fail(call.Failure("TLS handshake", ec));
    }
  }
  if (c.secure) co_return co_await Exchange(*c.secure, call);
  co_return co_await Exchange(*c.plain, call);
}

}  // namespace

std::string_view HttpMethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kDelete:
      return "DELETE";
  }
  return "GET";
}

Result<HttpMethod> ParseHttpMethod(std::string_view name) {
  for (HttpMethod m :
       {HttpMethod::kGet, HttpMethod::kPost, HttpMethod::kPut, HttpMethod::kDelete}) {
    if (IEquals(name, HttpMethodName(m))) return m;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "'" + std::string(name.substr(0, 32)) + "' is not GET, POST, PUT or DELETE");
}

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (IEquals(n, name)) return &v;
  }
  return nullptr;
}

// The system resolver: the addresses of `host` usable on this machine.
Result<std::vector<std::string>> SystemResolve(const std::string& host) {
  std::vector<std::string> out;
  try {
    net::io_context context;
    tcp::resolver resolver(context);
    for (const auto& entry : resolver.resolve(host, "")) {
      out.push_back(entry.endpoint().address().to_string());
    }
  } catch (const boost::system::system_error& e) {
    return Fail(ErrorCode::kUnavailable, e.code().message());
  }
  return out;
}

// `resolve(host)` on a thread of its own, waited for until `deadline`: a resolver that hangs
// costs a thread until it returns, not the caller's time limits.
Result<std::vector<tcp::endpoint>> ResolveBefore(const NameResolver& resolve,
                                                 const std::string& host, std::uint16_t port,
                                                 Steady::time_point deadline) {
  struct Lookup {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Result<std::vector<std::string>> result = std::vector<std::string>{};
  };
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, resolve, host] {
    Result<std::vector<std::string>> result = Fail(ErrorCode::kUnavailable, "resolver failed");
    try {
      result = resolve(host);
    } catch (const std::exception& e) {
      result = Fail(ErrorCode::kUnavailable, e.what());
    }
    std::lock_guard lock(lookup->mu);
    lookup->result = std::move(result);
    lookup->done = true;
    lookup->cv.notify_all();
  }).detach();
  std::unique_lock lock(lookup->mu);
  if (!lookup->cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    return Fail(ErrorCode::kUnavailable, "no answer from the name resolver in time");
  }
  if (!lookup->result) return Fail(lookup->result.error());
  std::vector<tcp::endpoint> endpoints;
  for (const std::string& address : *lookup->result) {
    boost::system::error_code ec;
    const net::ip::address parsed = net::ip::make_address(address, ec);
    if (!ec) endpoints.emplace_back(parsed, port);
  }
  if (endpoints.empty()) return Fail(ErrorCode::kUnavailable, "the name has no address");
  return endpoints;
}

struct HttpClient::Impl {
  NameResolver resolve = SystemResolve;
  std::mutex mu;
  std::unique_ptr<ssl::context> tls;  // created on the first https request; guarded by mu
  // Idle connections by "scheme://host:port", oldest first; guarded by mu.
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  std::atomic<std::int64_t> opened{0};

  // The newest live idle connection to `key`, or nullptr.
  std::unique_ptr<Connection> Take(const std::string& key) {
    std::vector<std::unique_ptr<Connection>> dead;  // closed outside the lock
    std::unique_ptr<Connection> found;
    {
      std::lock_guard lock(mu);
      auto it = idle.find(key);
      if (it == idle.end()) return nullptr;
      auto& list = it->second;
      while (!list.empty() && !found) {
        std::unique_ptr<Connection> c = std::move(list.back());
        list.pop_back();
        if (Steady::now() - c->idle_since < kKeepIdle && c->LooksAlive()) {
          found = std::move(c);
        } else {
          dead.push_back(std::move(c));
        }
      }
    }
    return found;
  }

  void Put(const std::string& key, std::unique_ptr<Connection> c) {
    c->idle_since = Steady::now();
    std::unique_ptr<Connection> evicted;
    std::lock_guard lock(mu);
    auto& list = idle[key];
    if (list.size() >= kMaxIdlePerHost) {
      evicted = std::move(list.front());
      list.erase(list.begin());
    }
    list.push_back(std::move(c));
  }

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
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {}
HttpClient::HttpClient(NameResolver resolve) : impl_(std::make_unique<Impl>()) {
  if (resolve) impl_->resolve = std::move(resolve);
}
HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Send(const HttpRequest& request, const ResponseStream* stream) {
  PV_ASSIGN_OR_RETURN(const fetch::FetchUrl url, fetch::ParseFetchUrl(request.url));
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "bad request header '" + name.substr(0, 64) + "' for " + url.redacted);
    }
  }
  PV_ASSIGN_OR_RETURN(const Body body, MakeBody(request));
  if (HasLineBreak(body.content_type)) {
    return Fail(ErrorCode::kInvalidArgument, "bad Content-Type for " + url.redacted);
  }
  ssl::context* tls = nullptr;
  if (url.https) {
    PV_ASSIGN_OR_RETURN(tls, impl_->Tls());
  }
  Call call{request, url, body, stream, Steady::now() + Clamped(request.total_timeout)};

  const std::string key = (url.https ? "https://" : "http://") + url.host_header;
  // A POST may not be sent twice (unless marked so), so it never meets a pooled connection
  // the server may have just closed; other requests take a pooled connection and are re-sent
  // once on a new one when it turns out closed before any byte of the answer.
  const bool idempotent = request.method != HttpMethod::kPost || request.may_resend;
  std::vector<tcp::endpoint> endpoints;  // resolved when a new connection is needed
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn =
        attempt == 0 && idempotent ? impl_->Take(key) : std::unique_ptr<Connection>();
    const bool reused = conn != nullptr;
    if (!reused) {
      if (endpoints.empty()) {
        Result<std::vector<tcp::endpoint>> resolved =
            ResolveBefore(impl_->resolve, url.host, url.port, call.Until(request.connect_timeout));
        if (!resolved) {
          return Fail(ErrorCode::kUnavailable, call.Where() + ": cannot resolve '" + url.host +
                                                   "': " + resolved.error().message);
        }
        endpoints = std::move(*resolved);
      }
      conn = std::make_unique<Connection>();
      impl_->opened.fetch_add(1);
    }
    call.reusable = false;
    call.stale = false;

    // The outcome is kept as two plain members: GCC 12 warns (maybe-uninitialized) about an
    // expected<HttpResponse> assigned inside the completion handler.
    bool ok = false;
    HttpResponse response;
    Error error{ErrorCode::kInternal, call.Where() + ": did not complete"};
    net::co_spawn(conn->ioc, Run(*conn, endpoints, tls, call),
                  [&](std::exception_ptr e, Result<HttpResponse> r) {
                    if (e) {
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& ex) {
                        error.message = call.Where() + ": " + ex.what();
                      } catch (...) {
                        error.message = call.Where() + ": unknown exception";
                      }
                      return;
                    }
                    if (r) {
                      response = std::move(*r);
                      ok = true;
                    } else {
                      error = std::move(r.error());
                    }
                  });
    try {
      conn->ioc.run();
      conn->ioc.restart();
    } catch (const std::exception& e) {
      return Fail(ErrorCode::kInternal, call.Where() + ": " + e.what());
    }
    if (!ok && reused && call.stale) continue;
    if (ok && call.reusable) impl_->Put(key, std::move(conn));
    if (!ok) return Fail(std::move(error));
    return response;
  }
}

std::int64_t HttpClient::connections_opened() const { return impl_->opened.load(); }

}  // namespace pixvault::providers
