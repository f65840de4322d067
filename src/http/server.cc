// Beast/Asio lives only in this file.
#include "http/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <optional>

#include "http/problem.h"

namespace pixvault::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kChunk = 256 * 1024;
// Linger (see Server::Impl::Linger): how long, how long without a byte, and how much.
constexpr std::chrono::seconds kLingerTime{10};
constexpr std::chrono::seconds kLingerIdle{2};
constexpr std::size_t kLingerBytes = std::size_t{64} << 20;

std::chrono::microseconds Micros(Timestamp t) { return std::chrono::microseconds(t); }

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

int DefaultIoThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

struct Server::Impl {
  Impl(const Router& r, Authenticator a, Metrics& m, ServerOptions o)
      : router(r), authenticate(std::move(a)), metrics(m), options(std::move(o)) {
    const int n = std::max(1, options.threads);
    // One io_context per thread, each run by that thread alone (concurrency hint 1: no
    // locking inside Asio), connections spread over them round-robin. A shared context
    // woke threads through futexes on every handler hand-off.
    for (int i = 0; i < n; ++i) contexts.push_back(std::make_unique<net::io_context>(1));
    acceptor.emplace(contexts[0]->get_executor());
    blocking_pool.emplace(static_cast<std::size_t>(std::max(1, options.blocking_threads)));
    remote_pool.emplace(static_cast<std::size_t>(std::max(1, options.remote_threads)));
    if (options.database_threads > 0) {
      database_pool.emplace(static_cast<std::size_t>(options.database_threads));
    }
  }

  const Router& router;
  Authenticator authenticate;
  Metrics& metrics;
  ServerOptions options;
  // Optional so Stop() can destroy them: destroying the io_context destroys the suspended
  // session coroutines, which closes their sockets and aborts unfinished uploads.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::size_t next_context = 0;  // used by the acceptor's thread only
  // Work that may block for long (downloads, fsync of an upload) runs here, so it never
  // stalls the other connections of an I/O thread.
  std::optional<net::thread_pool> blocking_pool;
  // Routes waiting on other services (Route::remote): a pool of their own, so a hung provider
  // holds none of the threads above.
  std::optional<net::thread_pool> remote_pool;
  // The database work of requests (ServerOptions::database_threads), when it is not done on
  // the I/O threads.
  std::optional<net::thread_pool> database_pool;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::atomic<int> connections{0};
  std::atomic<int> active_requests{0};

  net::awaitable<void> Listen();
  net::awaitable<void> Session(tcp::socket socket);
  // Reads (or streams) the body and runs the route; returns the response to send and
  // whether the connection can be kept open afterwards.
  net::awaitable<Response> Dispatch(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                    bhttp::request_parser<bhttp::buffer_body>& parser, Request& req,
                                    const Route*& route, bool& keep_open, std::int64_t& bytes_in);
  net::awaitable<bool> Write(beast::tcp_stream& stream, const Request& req, Response& res,
                             unsigned version, bool keep_alive, std::int64_t& bytes_out);
  // After an answer given before the request was read to its end (a 401 or 413 before the
  // body, a 400 for a malformed header, a 431): reads what the client still sends and drops it,
  // until it closes, for at most kLingerTime and kLingerBytes. Closing with unread bytes makes the
  // kernel reset the connection, and a client still sending then loses the answer (or never reads
  // it).
  net::awaitable<void> Linger(beast::tcp_stream& stream, beast::flat_buffer& buffer);
  // Runs `work` on `pool`; the coroutine resumes on its own I/O thread after.
  net::awaitable<Result<Response>> OnPool(net::thread_pool& pool,
                                          std::function<Result<Response>()> work);
  // Runs `work` where database work runs: inline, or on the database pool; inline when it
  // does no `database` work (Route::database).
  net::awaitable<void> OnDatabase(const std::function<void()>& work, bool database = true);
};

net::awaitable<void> Server::Impl::OnDatabase(const std::function<void()>& work, bool database) {
  if (!database_pool || !database) {
    work();
    co_return;
  }
  co_await net::co_spawn(
      database_pool->get_executor(),
      [&]() -> net::awaitable<void> {
        work();
        co_return;
      },
      net::use_awaitable);
}

net::awaitable<Result<Response>> Server::Impl::OnPool(net::thread_pool& pool,
                                                      std::function<Result<Response>()> work) {
  std::optional<Result<Response>> out;
  co_await net::co_spawn(
      pool.get_executor(),
      [&]() -> net::awaitable<void> {
        out.emplace(work());
        co_return;
      },
      net::use_awaitable);
  co_return std::move(*out);
}

net::awaitable<void> Server::Impl::Listen() {
  for (;;) {
    beast::error_code ec;
    net::io_context& target = *contexts[next_context++ % contexts.size()];
    tcp::socket socket = co_await acceptor->async_accept(
        target.get_executor(), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (!acceptor->is_open() || ec == net::error::operation_aborted) co_return;
      // Out of file descriptors or similar: back off briefly instead of spinning.
      net::steady_timer t(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    if (connections.load() >= options.max_connections || draining.load()) {
      socket.close(ec);
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, Session(std::move(socket)), net::detached);
  }
}

net::awaitable<void> Server::Impl::Session(tcp::socket socket) {
  ++connections;
  metrics.ConnectionOpened();
  struct Closed {
    Impl* self;
    ~Closed() {
      --self->connections;
      self->metrics.ConnectionClosed();
    }
  } closed{this};
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;
  bool unread_input = false;  // the last answer went out before its request was read
  for (;;) {
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // enforced per route
    beast::error_code ec;
    // Waiting for the next request of a kept-alive connection is idle time; once bytes
    // arrive, the whole header must follow within header_timeout.
    if (!first && buffer.size() == 0) {
      stream.expires_after(Micros(options.idle_timeout));
      std::size_t n = co_await stream.async_read_some(buffer.prepare(4096),
                                                      net::redirect_error(net::use_awaitable, ec));
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    stream.expires_after(Micros(options.header_timeout));
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        Request none;
        Response res = Problem(431, "header_too_large", "request header is too large");
        std::int64_t out = 0;
        unread_input = co_await Write(stream, none, res, 11, false, out);
      } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                 ec != net::error::eof && ec != net::error::connection_reset &&
                 ec != net::error::operation_aborted) {
        Request none;
        Response res = Problem(400, "bad_request", "malformed HTTP request: " + ec.message());
        std::int64_t out = 0;
        // What follows the bad header (a body, more requests) is unread: drop it while the
        // answer reaches the client, as after any early answer.
        unread_input = co_await Write(stream, none, res, 11, false, out);
      }
      break;
    }
    ++active_requests;
    auto start = std::chrono::steady_clock::now();
    auto& msg = parser.get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      req.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    if (auto len = parser.content_length()) req.content_length = static_cast<std::int64_t>(*len);
    const Route* route = nullptr;
    bool keep_open = msg.keep_alive();
    std::int64_t bytes_in = 0, bytes_out = 0;
    Response res;
    try {
      res = co_await Dispatch(stream, buffer, parser, req, route, keep_open, bytes_in);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pixvault: handler error on %s %s: %s\n", req.method.c_str(),
                   req.path.c_str(), e.what());
      res = Problem(500, "internal", "internal error");
      keep_open = false;
    }
    bool keep_alive = keep_open && !draining.load();
    // Recorded before the response is sent, so a client that reads /metrics after its
    // response sees its request counted. The latency is the time to produce the response.
    const bool head = req.method == "HEAD";
    bytes_out =
        head ? 0 : (res.file ? res.file->length : static_cast<std::int64_t>(res.body.size()));
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.RecordRequest(route ? route->name : "unmatched", res.status, seconds, bytes_in,
                          bytes_out);
    std::int64_t bytes_written = 0;
    bool written = co_await Write(stream, req, res, msg.version(), keep_alive, bytes_written);
    --active_requests;
    if (!written || !keep_alive) {
      unread_input = written && !parser.is_done();
      break;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (unread_input) co_await Linger(stream, buffer);
}

net::awaitable<void> Server::Impl::Linger(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  const auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  std::size_t dropped = 0;
  while (dropped < kLingerBytes && !draining.load()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    buffer.clear();
    stream.expires_after(std::min<std::chrono::steady_clock::duration>(left, kLingerIdle));
    beast::error_code ec;
    const std::size_t n = co_await stream.async_read_some(
        buffer.prepare(kChunk), net::redirect_error(net::use_awaitable, ec));
    if (ec) break;  // the client closed (the usual end), went quiet, or reset
    dropped += n;
  }
}

net::awaitable<Response> Server::Impl::Dispatch(beast::tcp_stream& stream,
                                                beast::flat_buffer& buffer,
                                                bhttp::request_parser<bhttp::buffer_body>& parser,
                                                Request& req, const Route*& route, bool& keep_open,
                                                std::int64_t& bytes_in) {
  // A request whose body we do not read cannot be followed by another on this connection.
  auto refuse = [&](Response r) {
    if (!parser.is_done()) keep_open = false;
    return r;
  };
  std::string_view target = req.target;
  std::size_t q = target.find('?');
  auto query = ParseQuery(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  if (!query) co_return refuse(Problem(400, "bad_query", query.error().message));
  req.query = std::move(*query);
  std::string_view raw_path = target.substr(0, q);
  auto decoded = PercentDecode(raw_path, false);
  if (!decoded) co_return refuse(Problem(400, "bad_path", decoded.error().message));
  req.path = std::move(*decoded);
  auto match = router.Find(req.method, raw_path);
  if (!match) co_return refuse(Problem(400, "bad_path", match.error().message));
  if (!match->route) {
    if (!match->allowed_methods.empty()) {
      Response r = Problem(405, "method_not_allowed", req.method + " is not allowed here");
      std::string allow;
      for (const auto& m : match->allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      r.headers.Set("Allow", allow);
      co_return refuse(std::move(r));
    }
    co_return refuse(Problem(404, "route_not_found", "no route for " + req.path));
  }
  route = match->route;
  req.path_params = std::move(match->params);
  if (route->auth) {
    auto header = req.headers.Get("Authorization");
    Result<User> user = User{};
    co_await OnDatabase([&] { user = authenticate(header.value_or("")); });
    if (!user) {
      Response r = Problem(401, "unauthorized", user.error().message);
      r.headers.Set("WWW-Authenticate", "Bearer");
      co_return refuse(std::move(r));
    }
    req.user = std::move(*user);
  }
  const bool has_body = !parser.is_done();
  if (has_body && !route->handler && !route->streaming) {
    co_return refuse(Problem(400, "unexpected_body", "this route takes no request body"));
  }
  if (req.content_length && *req.content_length > route->body_limit) {
    co_return refuse(Problem(413, "body_too_large",
                             "request body of " + std::to_string(*req.content_length) +
                                 " bytes exceeds the limit of " +
                                 std::to_string(route->body_limit)));
  }
  std::unique_ptr<BodySink> sink;
  if (route->streaming) {
    Result<std::unique_ptr<BodySink>> opened = nullptr;
    co_await OnDatabase([&] { opened = route->streaming(req); });
    if (!opened) co_return refuse(ProblemFor(opened.error()));
    sink = std::move(*opened);
  }
  if (has_body) {
    if (auto expect = req.headers.Get("Expect"); expect && *expect == "100-continue") {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, parser.get().version()};
      beast::error_code ec;
      co_await bhttp::async_write(stream, cont, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        keep_open = false;
        co_return Problem(400, "aborted", "connection lost");
      }
    }
    std::vector<char> chunk(kChunk);
    // Beast reads at most the buffer's free capacity (64 KiB at most) per read: with the
    // few KiB left from the header read, a large upload became one syscall, one timer reset
    // and one file write per 4 KiB.
    buffer.reserve(buffer.size() + kChunk);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      stream.expires_after(Micros(options.body_timeout));
      beast::error_code ec;
      // read_some returns as soon as some bytes arrive, so the timeout bounds the time
      // without progress, not the time to fill a whole chunk.
      co_await bhttp::async_read_some(stream, buffer, parser,
                                      net::redirect_error(net::use_awaitable, ec));
      if (ec == bhttp::error::need_buffer) ec = {};
      std::size_t n = chunk.size() - parser.get().body().size;
      if (ec) {
        // The client went away or stalled mid-body: the sink is dropped and cleans up.
        keep_open = false;
        co_return Problem(400, "incomplete_body", "request body incomplete: " + ec.message());
      }
      bytes_in += static_cast<std::int64_t>(n);
      if (bytes_in > route->body_limit) {
        keep_open = false;
        co_return Problem(413, "body_too_large",
                          "request body exceeds the limit of " + std::to_string(route->body_limit));
      }
      if (n == 0) continue;
      if (sink) {
        Status st = sink->Write(std::as_bytes(std::span(chunk.data(), n)));
        if (!st) {
          keep_open = false;
          co_return ProblemFor(st.error());
        }
      } else {
        req.body.append(chunk.data(), n);
      }
    }
  }
  Result<Response> res = Fail(ErrorCode::kInternal, "no handler ran");
  if (sink) {
    res = co_await OnPool(*blocking_pool, [&] { return sink->Finish(); });
  } else if (route->blocking) {
    std::optional<Result<Response>> now;
    if (route->at_once) co_await OnDatabase([&] { now = route->at_once(req); });
    if (now) {
      res = std::move(*now);
    } else {
      const bool remote = route->remote || (req.then && req.then_remote);
      res = co_await OnPool(remote ? *remote_pool : *blocking_pool,
                            [&] { return req.then ? req.then() : route->handler(req); });
    }
  } else {
    co_await OnDatabase([&] { res = route->handler(req); }, route->database);
  }
  if (!res) co_return ProblemFor(res.error());
  co_return std::move(*res);
}

net::awaitable<bool> Server::Impl::Write(beast::tcp_stream& stream, const Request& req,
                                         Response& res, unsigned version, bool keep_alive,
                                         std::int64_t& bytes_out) {
  beast::error_code ec;
  const bool head = req.method == "HEAD";
  stream.expires_after(Micros(options.body_timeout));
  auto fill = [&](auto& m) {
    m.version(version);
    m.result(static_cast<unsigned>(res.status));
    for (const auto& [k, v] : res.headers.items()) m.set(k, v);
    m.set(bhttp::field::server, "pixvault");
    m.keep_alive(keep_alive);
  };
  if (!res.file) {
    if (head) {
      bhttp::response<bhttp::empty_body> m;
      fill(m);
      m.content_length(res.body.size());
      bhttp::response_serializer<bhttp::empty_body> sr{m};
      co_await bhttp::async_write_header(stream, sr, net::redirect_error(net::use_awaitable, ec));
      co_return !ec;
    }
    bhttp::response<bhttp::string_body> m;
    fill(m);
    m.body() = std::move(res.body);
    m.prepare_payload();
    bytes_out += static_cast<std::int64_t>(m.body().size());
    co_await bhttp::async_write(stream, m, net::redirect_error(net::use_awaitable, ec));
    co_return !ec;
  }
  // A file range, streamed in chunks.
  Fd fd;
  fd.fd = res.file->fd ? ::fcntl(*res.file->fd, F_DUPFD_CLOEXEC, 0)
                       : ::open(res.file->path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) co_return false;
  bhttp::response<bhttp::buffer_body> m;
  fill(m);
  m.content_length(static_cast<std::uint64_t>(res.file->length));
  m.body().data = nullptr;
  m.body().more = !head && res.file->length > 0;
  bhttp::response_serializer<bhttp::buffer_body> sr{m};
  co_await bhttp::async_write_header(stream, sr, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return false;
  if (head || res.file->length == 0) co_return true;
  std::vector<char> chunk(kChunk);
  std::int64_t offset = res.file->offset;
  std::int64_t remaining = res.file->length;
  while (remaining > 0) {
    auto want = static_cast<std::size_t>(std::min<std::int64_t>(remaining, kChunk));
    ssize_t n = ::pread(fd.fd, chunk.data(), want, offset);
    if (n <= 0) co_return false;  // the file shrank under us: the response cannot be completed
    offset += n;
    remaining -= n;
    m.body().data = chunk.data();
    m.body().size = static_cast<std::size_t>(n);
    m.body().more = remaining > 0;
    stream.expires_after(Micros(options.body_timeout));
    co_await bhttp::async_write(stream, sr, net::redirect_error(net::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return false;
    bytes_out += n;
  }
  m.body().data = nullptr;
  m.body().more = false;
  co_await bhttp::async_write(stream, sr, net::redirect_error(net::use_awaitable, ec));
  co_return !ec;
}

Server::Server(const Router& router, Authenticator authenticate, Metrics& metrics,
               ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(authenticate), metrics, std::move(options))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid listen address '" + impl_->options.host + "'");
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(ErrorCode::kUnavailable, "cannot listen on " + impl_->options.host + ":" +
                                             std::to_string(impl_->options.port) + ": " +
                                             ec.message());
  }
  port_ = acc.local_endpoint().port();
  net::co_spawn(acc.get_executor(), impl_->Listen(), net::detached);
  for (auto& context : impl_->contexts) {
    // The guard keeps run() going while the context has no connection yet; Stop() ends it.
    impl_->threads.emplace_back([ctx = context.get()] {
      auto guard = net::make_work_guard(*ctx);
      ctx->run();
    });
  }
  return Ok();
}

void Server::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->draining = true;
  net::post(impl_->acceptor->get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + Micros(impl_->options.shutdown_grace);
  while (impl_->active_requests.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& context : impl_->contexts) context->stop();
  // Blocking work still running (a download past the grace period) is waited for: it
  // holds references to the request it serves.
  impl_->blocking_pool->join();
  impl_->remote_pool->join();
  if (impl_->database_pool) impl_->database_pool->join();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  impl_->acceptor.reset();
  impl_->contexts.clear();
}

void Server::WaitForSignal() {
  net::io_context signals_ioc;
  net::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  signals.async_wait([](const beast::error_code&, int) {});
  signals_ioc.run();
  Stop();
}

}  // namespace pixvault::http
