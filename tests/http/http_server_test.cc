// The server's own limits over real sockets: header size, slow and idle clients, malformed
// requests, and stopping while a request is in flight. Behaviour only: timeouts are small
// (2 s) and tests check what happens, with generous bounds, not how fast.
#include <boost/json.hpp>

#include <atomic>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "http/http_fixture.h"

namespace pixvault::http::testing {
namespace {

class HttpServerTest : public HttpTest {};

TEST_P(HttpServerTest, OversizedHeaderIs431) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest req{"GET", "/healthz", {{"X-Filler", std::string(20 * 1024, 'a')}}, {}, {}};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, c.RoundTrip(req));
  CheckResponse(res, "oversized header");
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(res.ProblemCode(), "header_too_large");
  EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(10)));
  // A header under the limit is fine.
  EXPECT_EQ(Call("GET", "/healthz", {}, {}, {{"X-Filler", std::string(8 * 1024, 'a')}}).status,
            200);
}

TEST_P(HttpServerTest, MalformedRequestsAreBadRequests) {
  for (const char* raw : {
           "GARBAGE\r\n\r\n",
           "GET /healthz HTTP/9.9\r\n\r\n",
           "GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n",
           "GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
           "GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "POST /api/v1/assets/upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       }) {
    PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
    PV_ASSERT_OK(c.Send(raw));
    auto res = c.Read();
    if (res) {
      CheckResponse(*res, raw);
      EXPECT_GE(res->status, 400) << raw;
    }
    // Either way the connection does not stay open for another request.
    EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(10))) << raw;
  }
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_P(HttpServerTest, SlowHeaderIsDroppedWhileOthersAreServed) {
  PV_ASSERT_OK_AND_ASSIGN(Connection slow, Connection::Open(port()));
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n\r\n";
  bool closed = false;
  std::size_t sent = 0;
  // One byte a second; the header timeout is 2 s, so the server gives up long before the
  // header is complete (it would take about 50 s at this pace; we stop after 16).
  while (sent < 16 && !closed) {
    if (!slow.Send(request.substr(sent, 1))) {
      closed = true;
      break;
    }
    ++sent;
    if (sent == 2) {
      // Another client is served while the slow one dribbles.
      HttpResponse other = Call("GET", "/healthz");
      EXPECT_EQ(other.status, 200);
    }
    closed = slow.WaitForClose(std::chrono::seconds(1));
  }
  EXPECT_TRUE(closed) << "still open after " << sent << " bytes";
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_P(HttpServerTest, IdleConnectionsDoNotBlockRequests) {
  std::vector<Connection> idle;
  for (int i = 0; i < 50; ++i) {
    PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
    // Half of them start a request and stop mid-header.
    if (i % 2 == 0) PV_ASSERT_OK(c.Send("GET /healthz HTTP/1.1\r\nHo"));
    idle.push_back(std::move(c));
  }
  for (int i = 0; i < 3; ++i) {
    HttpResponse res = Call("GET", "/api/v1/assets", alice_key_);
    EXPECT_EQ(res.status, 200) << res.body;
  }
  // The server closes them all by its timeouts.
  for (auto& c : idle) EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(15)));
}

TEST_P(HttpServerTest, KeptAliveConnectionIsClosedWhenIdle) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res,
                          c.RoundTrip(HttpRequest{"GET", "/healthz", {}, {}, {}}));
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.Header("Connection").value_or(""), "close");
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse again,
                          c.RoundTrip(HttpRequest{"GET", "/readyz", {}, {}, {}}));
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(15)));
}

TEST_P(HttpServerTest, ConnectionCloseIsHonoured) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  PV_ASSERT_OK_AND_ASSIGN(
      HttpResponse res,
      c.RoundTrip(HttpRequest{"GET", "/healthz", {{"Connection", "close"}}, {}, {}}));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("Connection").value_or(""), "close");
  EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(5)));
}

TEST_P(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest a{"GET", "/healthz", {}, {}, {}};
  HttpRequest b{"GET", "/readyz", {}, {}, {}};
  HttpRequest d{"GET", "/nowhere", {}, {}, {}};
  PV_ASSERT_OK(c.Send(a.Serialize() + b.Serialize() + d.Serialize()));
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse ra, c.Read());
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse rb, c.Read());
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse rd, c.Read());
  EXPECT_EQ(ra.body, R"({"status":"ok"})");
  EXPECT_EQ(rb.body, R"({"status":"ready"})");
  EXPECT_EQ(rd.status, 404);
}

TEST_P(HttpServerTest, ExpectContinueUploads) {
  std::string wav = WavBytes(42);
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest req{"POST",
                  "/api/v1/assets/upload",
                  {{"Authorization", Bearer(alice_key_)},
                   {"Expect", "100-continue"},
                   {"Content-Length", std::to_string(wav.size())}},
                  {},
                  {}};
  PV_ASSERT_OK(c.Send(req.Serialize()));
  // The client waits for "100 Continue" before sending the body.
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse go_on, c.Read(false, true));
  EXPECT_EQ(go_on.status, 100);
  PV_ASSERT_OK(c.Send(wav));
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, c.Read());
  EXPECT_EQ(res.status, 201) << res.body;
  // A refused upload says so before the body is sent.
  PV_ASSERT_OK_AND_ASSIGN(Connection c2, Connection::Open(port()));
  HttpRequest bad{"POST",
                  "/api/v1/assets/upload?colour=red",
                  {{"Authorization", Bearer(alice_key_)},
                   {"Expect", "100-continue"},
                   {"Content-Length", std::to_string(wav.size())}},
                  {},
                  {}};
  PV_ASSERT_OK(c2.Send(bad.Serialize()));
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse refused, c2.Read());
  EXPECT_EQ(refused.status, 400);
}

TEST_P(HttpServerTest, ASteadySlowUploadIsNotCutOffByTheBodyTimeout) {
  // The body timeout (2 s) is about a body that stops moving. This one moves every 250 ms
  // and takes about 5 s in all, so it must be accepted.
  std::string wav = WavBytes(43);
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest req{"POST",
                  "/api/v1/assets/upload",
                  {{"Authorization", Bearer(alice_key_)}},
                  {},
                  static_cast<std::int64_t>(wav.size())};
  PV_ASSERT_OK(c.Send(req.Serialize()));
  for (std::size_t at = 0; at < wav.size(); at += 400) {
    if (!c.Send(wav.substr(at, 400))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto res = c.Read();
  ASSERT_TRUE(res.has_value()) << "the server dropped the upload: " << res.error().message;
  CheckResponse(*res, "slow upload");
  EXPECT_EQ(res->status, 201) << res->body;
}

// The same server with long body and idle timeouts (60 s), so that only the header timeout
// (2 s) and Stop() can end a connection within a test; Stop() waits up to 3 s.
class HttpLongTimeoutsTest : public HttpTest {
 protected:
  HttpLongTimeoutsTest() {
    server_options_.body_timeout = 60 * kMicrosPerSecond;
    server_options_.idle_timeout = 60 * kMicrosPerSecond;
    server_options_.shutdown_grace = 3 * kMicrosPerSecond;
  }

  // Starts an upload of WavBytes(seed) and sends only its first 100 bytes.
  Connection StartUpload(const std::string& wav) {
    auto c = Connection::Open(port());
    EXPECT_TRUE(c.has_value());
    HttpRequest req{"POST",
                    "/api/v1/assets/upload",
                    {{"Authorization", Bearer(alice_key_)}},
                    wav.substr(0, 100),
                    static_cast<std::int64_t>(wav.size())};
    EXPECT_TRUE(c->Send(req.Serialize()).has_value());
    EXPECT_TRUE(Eventually([this] { return TempFiles() == 1; }));
    return std::move(*c);
  }
};

TEST_P(HttpLongTimeoutsTest, SlowHeaderOnAKeptAliveConnectionIsDroppedByTheHeaderTimeout) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res,
                          c.RoundTrip(HttpRequest{"GET", "/healthz", {}, {}, {}}));
  EXPECT_EQ(res.status, 200);
  // The next request's header comes one byte a second. Waiting for it to start is idle time
  // (60 s), but once it has started the header must be complete within the header timeout
  // (2 s), as for a connection's first request.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n\r\n";
  bool closed = false;
  std::size_t sent = 0;
  while (sent < 12 && !closed) {
    if (!c.Send(request.substr(sent, 1))) {
      closed = true;
      break;
    }
    ++sent;
    closed = c.WaitForClose(std::chrono::seconds(1));
  }
  EXPECT_TRUE(closed) << "still open after " << sent << " header bytes";
}

TEST_P(HttpLongTimeoutsTest, StopLetsARequestInFlightFinish) {
  std::string wav = WavBytes(45);
  Connection c = StartUpload(wav);
  std::optional<Result<HttpResponse>> res;
  std::thread finish([&] {
    // Stop() is waiting for this request by now; the rest of the body arrives well within
    // its grace period.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (c.Send(wav.substr(100))) res = c.Read();
  });
  server_->Stop();
  finish.join();
  ASSERT_TRUE(res.has_value());
  ASSERT_TRUE(res->has_value()) << (*res).error().message;
  EXPECT_EQ((*res)->status, 201) << (*res)->body;
  EXPECT_EQ((*res)->Header("Connection").value_or(""), "close");
  auto page = store_->ListAssets(Viewer{0, true, true}, {}, storage::PageRequest{10, {}});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->items.size(), 1u);
}

TEST_P(HttpLongTimeoutsTest, StopGivesUpOnAStalledUploadAndRefusesNewConnections) {
  std::string wav = WavBytes(46);
  Connection c = StartUpload(wav);
  const std::uint16_t p = port();
  // The upload never completes: Stop waits out its grace period (3 s), then returns.
  server_->Stop();
  EXPECT_FALSE(Connection::Open(p).has_value());
  auto page = store_->ListAssets(Viewer{0, true, true}, {}, storage::PageRequest{10, {}});
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(BlobFiles(), 0);
  server_->Stop();  // idempotent
}

TEST_P(HttpLongTimeoutsTest, StopClosesTheConnectionsItGaveUpOn) {
  std::string wav = WavBytes(47);
  Connection upload = StartUpload(wav);
  PV_ASSERT_OK_AND_ASSIGN(Connection idle, Connection::Open(port()));
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res,
                          idle.RoundTrip(HttpRequest{"GET", "/healthz", {}, {}, {}}));
  EXPECT_EQ(res.status, 200);
  server_->Stop();
  // Stop has returned, so the server is done with both connections: their clients see them
  // closed, and the abandoned upload's temp file is gone.
  EXPECT_TRUE(upload.WaitForClose(std::chrono::seconds(5)));
  EXPECT_TRUE(idle.WaitForClose(std::chrono::seconds(5)));
  EXPECT_EQ(TempFiles(), 0);
}

// The same server accepting at most 4 connections at a time.
class HttpConnectionLimitTest : public HttpTest {
 protected:
  HttpConnectionLimitTest() { server_options_.max_connections = 4; }
};

TEST_P(HttpConnectionLimitTest, ConnectionsOverTheCapAreClosedUntilOneEnds) {
  std::vector<Connection> open;
  for (int i = 0; i < 4; ++i) {
    PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
    PV_ASSERT_OK_AND_ASSIGN(HttpResponse res,
                            c.RoundTrip(HttpRequest{"GET", "/healthz", {}, {}, {}}));
    EXPECT_EQ(res.status, 200);
    open.push_back(std::move(c));
  }
  PV_ASSERT_OK_AND_ASSIGN(Connection extra, Connection::Open(port()));
  EXPECT_TRUE(extra.WaitForClose(std::chrono::seconds(5)));
  open.pop_back();
  // Once the server has seen that connection end, a new one is served.
  EXPECT_TRUE(Eventually([this] {
    auto res = Fetch(port(), HttpRequest{"GET", "/healthz", {}, {}, {}});
    return res.has_value() && res->status == 200;
  }));
}

// One I/O thread and a route marked blocking whose handler waits until the test releases it:
// while it waits, the I/O thread must go on serving other connections.
class HttpBlockingRouteTest : public HttpTest {
 protected:
  HttpBlockingRouteTest() {
    server_options_.threads = 1;
    AddWaitingRoute("/test/blocking", "testBlocking", true);
  }
  // A GET route whose handler signals `entered_` and waits until the test releases it.
  void AddWaitingRoute(std::string path, std::string name, bool blocking) {
    Route route{"GET",
                std::move(path),
                std::move(name),
                false,
                0,
                [this](Request&) -> Result<Response> {
                  entered_.set_value();
                  released_.wait();
                  return Response::Json(200, R"({"released":true})");
                },
                nullptr,
                RouteDoc{}};
    route.blocking = blocking;
    router_.Add(std::move(route));
  }
  void TearDown() override {
    Release();  // a test that failed half-way must not leave a pool thread waiting
    HttpTest::TearDown();
  }
  void Release() {
    if (!released_once_.exchange(true)) release_.set_value();
  }
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::atomic<bool> released_once_{false};
};

TEST_P(HttpBlockingRouteTest, ABlockingHandlerDoesNotStallItsIoThread) {
  std::future<void> entered = entered_.get_future();
  PV_ASSERT_OK_AND_ASSIGN(Connection slow, Connection::Open(port()));
  ASSERT_TRUE(slow.Send(HttpRequest{"GET", "/test/blocking", {}, {}, {}}.Serialize()));
  entered.wait();
  // The only I/O thread is free: another connection is served while the handler waits.
  HttpResponse health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  Release();
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, slow.Read());
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"released":true})");
}

// One I/O thread and a pool for database work (as with PostgreSQL), and a plain route whose
// handler waits until the test releases it: it waits on a pool thread, and the I/O thread
// goes on serving requests, their API key checks and handlers included.
class HttpDatabasePoolTest : public HttpBlockingRouteTest {
 protected:
  HttpDatabasePoolTest() {
    server_options_.database_threads = 2;
    AddWaitingRoute("/test/slow-read", "testSlowRead", false);
  }
};

TEST_P(HttpDatabasePoolTest, AWaitingQueryDoesNotStallItsIoThread) {
  std::future<void> entered = entered_.get_future();
  PV_ASSERT_OK_AND_ASSIGN(Connection slow, Connection::Open(port()));
  ASSERT_TRUE(slow.Send(HttpRequest{"GET", "/test/slow-read", {}, {}, {}}.Serialize()));
  entered.wait();
  const std::int64_t id = UploadWav(alice_key_, 5);
  ASSERT_NE(id, 0);
  EXPECT_EQ(GetJson(alice_key_, id).at("id").as_int64(), id);
  EXPECT_EQ(Call("GET", AssetPath(id), "").status, 401);
  Release();
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, slow.Read());
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"released":true})");
}

// The only database thread waits: a route that does no database work is still answered.
class HttpBusyDatabasePoolTest : public HttpDatabasePoolTest {
 protected:
  HttpBusyDatabasePoolTest() { server_options_.database_threads = 1; }
};

TEST_P(HttpBusyDatabasePoolTest, LivenessIsAnsweredWhileTheDatabaseThreadsAreBusy) {
  std::future<void> entered = entered_.get_future();
  PV_ASSERT_OK_AND_ASSIGN(Connection slow, Connection::Open(port()));
  ASSERT_TRUE(slow.Send(HttpRequest{"GET", "/test/slow-read", {}, {}, {}}.Serialize()));
  entered.wait();
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/openapi.json").status, 200);
  Release();
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, slow.Read());
  EXPECT_EQ(res.status, 200);
}

PV_INSTANTIATE_STORE_TEST(HttpServerTest);
PV_INSTANTIATE_STORE_TEST(HttpBusyDatabasePoolTest);
PV_INSTANTIATE_STORE_TEST(HttpDatabasePoolTest);
PV_INSTANTIATE_STORE_TEST(HttpBlockingRouteTest);
PV_INSTANTIATE_STORE_TEST(HttpLongTimeoutsTest);
PV_INSTANTIATE_STORE_TEST(HttpConnectionLimitTest);

}  // namespace
}  // namespace pixvault::http::testing
