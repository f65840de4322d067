// Fetcher against a local canned-response server on 127.0.0.1. No test sends traffic
// anywhere else: every non-loopback destination below must be refused before connecting,
// and the fake resolvers only ever hand out loopback addresses as connectable ones.
#include "fetch/fetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "fetch/test_http_server.h"

namespace pixvault::fetch {
namespace {

using testing::TestHttpServer;

// Collects what a Get delivered.
struct Sink {
  std::optional<ResponseInfo> info;
  std::string body;
  int chunks = 0;

  std::function<Status(const ResponseInfo&)> Headers() {
    return [this](const ResponseInfo& i) {
      info = i;
      return Ok();
    };
  }
  std::function<Status(std::span<const std::byte>)> Data() {
    return [this](std::span<const std::byte> d) {
      body.append(reinterpret_cast<const char*>(d.data()), d.size());
      ++chunks;
      return Ok();
    };
  }
};

// A resolver for names under .test; fails the test when asked about anything else (the
// system resolver is never consulted by tests that use it).
Resolver FakeResolver(std::map<std::string, std::vector<std::string>> names,
                      std::atomic<int>* calls = nullptr) {
  return
      [names = std::move(names), calls](const std::string& host) -> Result<std::vector<IpAddress>> {
        if (calls) ++*calls;
        auto it = names.find(host);
        if (it == names.end()) {
          ADD_FAILURE() << "unexpected resolution of " << host;
          return Fail(ErrorCode::kNotFound, "host '" + host + "' not found");
        }
        std::vector<IpAddress> out;
        for (const auto& a : it->second) out.push_back(*IpAddress::Parse(a));
        return out;
      };
}

class FetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(server_.port(), 0) << "cannot bind 127.0.0.1";
    options_.allow_hosts = {"127.0.0.1/32"};
    options_.max_bytes = 1 << 20;
    options_.connect_timeout = 2 * kMicrosPerSecond;
    options_.idle_timeout = 2 * kMicrosPerSecond;
    options_.total_timeout = 10 * kMicrosPerSecond;
  }

  Status Get(std::string_view url, Sink& sink) {
    return fetcher_.Get(url, options_, sink.Headers(), sink.Data());
  }
  std::string Port() const { return std::to_string(server_.port()); }

  TestHttpServer server_;
  Fetcher fetcher_;
  FetchOptions options_;
};

TEST_F(FetcherTest, StreamsBodyAndReportsHeaders) {
  std::string body(200'000, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 % 251);
  server_.Handle("/media/clip.mp4", TestHttpServer::Ok(body, "video/mp4"));
  Sink sink;
  auto st = Get(server_.Url("/media/clip.mp4?sig=abc"), sink);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(sink.body, body);
  EXPECT_GT(sink.chunks, 1);  // streamed, not delivered in one piece
  ASSERT_TRUE(sink.info.has_value());
  EXPECT_EQ(sink.info->status, 200);
  EXPECT_EQ(sink.info->content_type, "video/mp4");
  EXPECT_EQ(sink.info->content_length, 200'000);
  EXPECT_EQ(sink.info->filename, "clip.mp4");
  EXPECT_EQ(sink.info->final_url, server_.Url("/media/clip.mp4?sig=abc"));
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/media/clip.mp4?sig=abc");
  EXPECT_EQ(seen[0].host, "127.0.0.1:" + Port());
}

TEST_F(FetcherTest, FilenameFromContentDisposition) {
  server_.Handle("/download", TestHttpServer::Ok("abc", "image/png",
                                                 "Content-Disposition: attachment; "
                                                 "filename=\"../sunset.png\"\r\n"));
  Sink sink;
  auto st = Get(server_.Url("/download"), sink);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(sink.info->filename, "sunset.png");
}

TEST_F(FetcherTest, FollowsRelativeAndAbsoluteRedirects) {
  server_.Handle("/a", TestHttpServer::Redirect(301, "/b"));
  server_.Handle("/b", TestHttpServer::Redirect(302, server_.Url("/c")));
  server_.Handle("/c", TestHttpServer::Redirect(303, "d?x=1"));
  server_.Handle("/d", TestHttpServer::Redirect(307, "/e"));
  server_.Handle("/e", TestHttpServer::Redirect(308, "/final.png"));
  server_.Handle("/final.png", TestHttpServer::Ok("done", "image/png"));
  Sink sink;
  auto st = Get(server_.Url("/a"), sink);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(sink.body, "done");
  EXPECT_EQ(sink.info->final_url, server_.Url("/final.png"));
  EXPECT_EQ(sink.info->filename, "final.png");
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[3].target, "/d?x=1");
}

TEST_F(FetcherTest, RedirectLoopStopsAtTheLimit) {
  server_.Handle("/loop", TestHttpServer::Redirect(302, "/loop"));
  options_.max_redirects = 3;
  Sink sink;
  auto st = Get(server_.Url("/loop"), sink);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("too many redirects"), std::string::npos) << st.error().message;
  EXPECT_EQ(server_.requests().size(), 4u);  // the first request and three redirects
  EXPECT_FALSE(sink.info.has_value());

  options_.max_redirects = 0;
  server_.Handle("/once", TestHttpServer::Redirect(302, "/ok"));
  server_.Handle("/ok", TestHttpServer::Ok("fine"));
  EXPECT_FALSE(Get(server_.Url("/once"), sink).has_value());
}

TEST_F(FetcherTest, RedirectIntoPrivateNetworkIsRefusedBeforeConnecting) {
  // 10.0.0.1 is never contacted: the check happens on the redirect target before connect.
  // A connect attempt would end in a connect error or timeout (kUnavailable) instead.
  server_.Handle("/to-private", TestHttpServer::Redirect(302, "http://10.0.0.1/x"));
  server_.Handle("/to-metadata",
                 TestHttpServer::Redirect(302, "http://169.254.169.254/latest/meta-data/"));
  server_.Handle("/to-v6", TestHttpServer::Redirect(307, "http://[fd00::1]:8080/x"));
  server_.Handle("/to-mapped", TestHttpServer::Redirect(307, "http://[::ffff:192.168.0.1]/x"));
  server_.Handle("/to-file", TestHttpServer::Redirect(302, "file:///etc/passwd"));
  server_.Handle("/to-cred", TestHttpServer::Redirect(302, "http://u:s3cret@127.0.0.1/x"));
  for (const char* path : {"/to-private", "/to-metadata", "/to-v6", "/to-mapped"}) {
    Sink sink;
    auto st = Get(server_.Url(path), sink);
    ASSERT_FALSE(st.has_value()) << path;
    EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied) << path << ": " << st.error().message;
    EXPECT_NE(st.error().message.find("destination not allowed"), std::string::npos)
        << st.error().message;
    EXPECT_FALSE(sink.info.has_value());
  }
  Sink sink;
  auto file = Get(server_.Url("/to-file"), sink);
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, ErrorCode::kInvalidArgument) << file.error().message;
  EXPECT_NE(file.error().message.find("redirect from"), std::string::npos);
  auto cred = Get(server_.Url("/to-cred"), sink);
  ASSERT_FALSE(cred.has_value());
  EXPECT_EQ(cred.error().code, ErrorCode::kInvalidArgument) << cred.error().message;
  EXPECT_EQ(cred.error().message.find("s3cret"), std::string::npos) << cred.error().message;
  EXPECT_EQ(server_.requests().size(), 6u);  // only the redirecting requests
}

TEST_F(FetcherTest, HugeContentLengthIsRefusedBeforeTheBody) {
  TestHttpServer::Reply huge;
  huge.head = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 10000000000\r\n";
  huge.body = "only a little";
  server_.Handle("/huge", huge);
  Sink sink;
  auto st = Get(server_.Url("/huge"), sink);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message.find("remote file larger than 1048576 bytes"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(sink.info.has_value());
  EXPECT_TRUE(sink.body.empty());
}

TEST_F(FetcherTest, BodyOverTheCapIsCutOffWhileStreaming) {
  // No Content-Length: the body ends when the connection closes; also chunked.
  TestHttpServer::Reply endless;
  endless.head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
  endless.filler = 8 << 20;
  server_.Handle("/endless", endless);
  TestHttpServer::Reply chunked;
  chunked.head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n";
  for (int i = 0; i < 40; ++i) chunked.body += "8000\r\n" + std::string(0x8000, 'c') + "\r\n";
  chunked.body += "0\r\n\r\n";
  server_.Handle("/chunked", chunked);
  options_.max_bytes = 256 * 1024;
  for (const char* path : {"/endless", "/chunked"}) {
    Sink sink;
    auto st = Get(server_.Url(path), sink);
    ASSERT_FALSE(st.has_value()) << path;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << st.error().message;
    EXPECT_NE(st.error().message.find("remote file larger than"), std::string::npos);
    EXPECT_LE(sink.body.size(), 256u * 1024) << path;
  }
  // Exactly at the cap is fine.
  server_.Handle("/exact", TestHttpServer::Ok(std::string(256 * 1024, 'e')));
  Sink sink;
  auto st = Get(server_.Url("/exact"), sink);
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(sink.body.size(), 256u * 1024);
}

TEST_F(FetcherTest, SilentServerTimesOut) {
  auto slow = TestHttpServer::Ok("late", "image/png");
  slow.stall = std::chrono::seconds(20);
  server_.Handle("/slow", slow);
  options_.idle_timeout = 300'000;
  Sink sink;
  auto st = Get(server_.Url("/slow"), sink);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("timed out"), std::string::npos) << st.error().message;
}

TEST(FetcherTimeout, TotalTimeLimitCoversTheWholeFetch) {
  TestHttpServer server;
  ASSERT_NE(server.port(), 0);
  auto slow = TestHttpServer::Ok("late", "image/png");
  slow.stall = std::chrono::seconds(20);
  server.Handle("/slow", slow);
  FetchOptions options;
  options.allow_hosts = {"127.0.0.1"};
  options.idle_timeout = 30 * kMicrosPerSecond;
  options.total_timeout = 400'000;
  Fetcher fetcher;
  Sink sink;
  auto st = fetcher.Get(server.Url("/slow"), options, sink.Headers(), sink.Data());
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("total time limit"), std::string::npos) << st.error().message;
}

TEST_F(FetcherTest, ErrorStatusesAreNamedAndQueryStringsLeftOut) {
  server_.Handle("/gone", TestHttpServer::Status(410, "Gone"));
  server_.Handle("/boom", TestHttpServer::Status(500, "Internal Server Error"));
  server_.Handle("/denied", TestHttpServer::Status(403, "Forbidden"));
  Sink sink;
  auto missing = Get(server_.Url("/missing?token=SECRET"), sink);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("404"), std::string::npos) << missing.error().message;
  EXPECT_EQ(missing.error().message.find("SECRET"), std::string::npos) << missing.error().message;
  auto gone = Get(server_.Url("/gone"), sink);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  auto boom = Get(server_.Url("/boom"), sink);
  ASSERT_FALSE(boom.has_value());
  EXPECT_EQ(boom.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(boom.error().message.find("500"), std::string::npos) << boom.error().message;
  auto denied = Get(server_.Url("/denied"), sink);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(denied.error().message.find("403"), std::string::npos) << denied.error().message;
  EXPECT_FALSE(sink.info.has_value());
}

TEST_F(FetcherTest, CallbackErrorsAbortAndComeBackUnchanged) {
  server_.Handle("/x", TestHttpServer::Ok(std::string(300'000, 'x')));
  int calls = 0;
  auto st = fetcher_.Get(
      server_.Url("/x"), options_, [](const ResponseInfo&) { return Ok(); },
      [&calls](std::span<const std::byte>) -> Status {
        ++calls;
        return Fail(ErrorCode::kUnsupported, "not media");
      });
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(st.error().message, "not media");
  EXPECT_EQ(calls, 1);

  auto refused = fetcher_.Get(
      server_.Url("/x"), options_,
      [](const ResponseInfo&) -> Status { return Fail(ErrorCode::kInvalidArgument, "no"); },
      [&calls](std::span<const std::byte>) {
        ++calls;
        return Ok();
      });
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message, "no");
  EXPECT_EQ(calls, 1);
}

TEST_F(FetcherTest, BadAllowListEntryIsAnInvalidArgument) {
  options_.allow_hosts = {"127.0.0.1", "my-intranet"};
  Sink sink;
  auto st = Get(server_.Url("/x"), sink);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(server_.requests().empty());
}

TEST(FetcherSchemes, OnlyHttpAndHttpsWithoutResolving) {
  std::atomic<int> calls = 0;
  Fetcher fetcher(FakeResolver({}, &calls));
  FetchOptions options;
  options.allow_hosts = {"0.0.0.0/0", "::/0"};  // schemes are refused whatever is allowed
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/_",
                          "dict://127.0.0.1:11211/", "ldap://127.0.0.1/", "not a url", ""}) {
    Sink sink;
    auto st = fetcher.Get(url, options, sink.Headers(), sink.Data());
    ASSERT_FALSE(st.has_value()) << url;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << url << ": " << st.error().message;
  }
  EXPECT_EQ(calls, 0);
}

TEST(FetcherDestinations, LoopbackAndFriendsRefusedWithoutAllowance) {
  TestHttpServer server;
  ASSERT_NE(server.port(), 0);
  server.Handle("/ok", TestHttpServer::Ok("secret"));
  const std::string port = std::to_string(server.port());
  Fetcher fetcher;  // the system resolver: "localhost" and numeric forms resolve locally
  FetchOptions options;
  options.connect_timeout = kMicrosPerSecond;
  options.total_timeout = 2 * kMicrosPerSecond;
  for (const std::string& url :
       {"http://127.0.0.1:" + port + "/ok", "http://localhost:" + port + "/ok",
        "http://LocalHost:" + port + "/ok", "http://[::1]:" + port + "/ok",
        "http://[::ffff:127.0.0.1]:" + port + "/ok", "http://0.0.0.0:" + port + "/ok",
        "http://127.1:" + port + "/ok", "http://2130706433:" + port + "/ok",
        "http://0x7f000001:" + port + "/ok", "https://127.0.0.1:" + port + "/ok",
        std::string("http://169.254.169.254/latest/meta-data/"), std::string("http://[fe80::1]/"),
        std::string("http://10.0.0.1/x"), std::string("https://192.168.1.1/"),
        std::string("http://100.64.0.1/"), std::string("http://224.0.0.1/"),
        std::string("http://255.255.255.255/")}) {
    Sink sink;
    auto st = fetcher.Get(url, options, sink.Headers(), sink.Data());
    ASSERT_FALSE(st.has_value()) << url;
    EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied) << url << ": " << st.error().message;
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(FetcherTest, AnyDisallowedResolvedAddressRefusesTheName) {
  Fetcher fetcher(FakeResolver({{"mixed.test", {"127.0.0.1", "10.0.0.1"}},
                                {"mixed6.test", {"127.0.0.1", "fd00::5"}},
                                {"loop.test", {"127.0.0.1"}},
                                {"nowhere.test", {}}}));
  Sink sink;
  for (const char* host : {"mixed.test", "mixed6.test"}) {
    auto st = fetcher.Get("http://" + std::string(host) + ":" + Port() + "/ok", options_,
                          sink.Headers(), sink.Data());
    ASSERT_FALSE(st.has_value()) << host;
    EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied) << st.error().message;
    // The refused address itself is not revealed.
    EXPECT_EQ(st.error().message.find("10.0.0.1"), std::string::npos) << st.error().message;
  }
  auto none = fetcher.Get("http://nowhere.test/ok", options_, sink.Headers(), sink.Data());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  FetchOptions strict = options_;
  strict.allow_hosts.clear();
  auto loop =
      fetcher.Get("http://loop.test:" + Port() + "/ok", strict, sink.Headers(), sink.Data());
  ASSERT_FALSE(loop.has_value());
  EXPECT_EQ(loop.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FetcherTest, ConnectsToTheCheckedAddressWithTheNameInHost) {
  // The resolver answers loopback twice and a private address afterwards (DNS rebinding):
  // each hop must use its one checked answer and never resolve again to connect.
  std::atomic<int> calls = 0;
  Resolver rebinding = [&calls](const std::string& host) -> Result<std::vector<IpAddress>> {
    EXPECT_EQ(host, "media.test");
    if (calls++ < 2) return std::vector<IpAddress>{IpAddress::V4(127, 0, 0, 1)};
    return std::vector<IpAddress>{IpAddress::V4(10, 0, 0, 1)};
  };
  Fetcher fetcher(rebinding);
  server_.Handle("/pic.png", TestHttpServer::Ok("png bytes", "image/png"));
  Sink sink;
  auto st = fetcher.Get("http://media.test:" + Port() + "/pic.png", options_, sink.Headers(),
                        sink.Data());
  ASSERT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(sink.body, "png bytes");
  EXPECT_EQ(calls, 1);
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].host, "media.test:" + Port());

  // A redirect to the same name is checked again, and this time the answer is refused.
  server_.Handle("/hop", TestHttpServer::Redirect(302, "/pic.png"));
  auto hop =
      fetcher.Get("http://media.test:" + Port() + "/hop", options_, sink.Headers(), sink.Data());
  ASSERT_FALSE(hop.has_value());
  EXPECT_EQ(hop.error().code, ErrorCode::kPermissionDenied) << hop.error().message;
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(FetcherTest, ClosedPortIsUnavailable) {
  // Bind and close a socket to find a port nobody listens on.
  std::string url;
  {
    TestHttpServer gone;
    url = gone.Url("/x");
  }
  Sink sink;
  auto st = Get(url, sink);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable) << st.error().message;
  EXPECT_NE(st.error().message.find("connecting"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace pixvault::fetch
