// HttpClient (and the parts of HttpProvider the fake provider cannot exercise: multipart
// uploads, custom JSON pointers, malformed answers, servers that ignore Range, providers that
// echo credentials) against a tiny independent HTTP server on 127.0.0.1 written with plain
// POSIX sockets.
#include "providers/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "providers/http_provider.h"
#include "providers/raw_server_testing.h"
#include "testing/temp_dir.h"

namespace pixvault::providers {
namespace {

using pixvault::testing::RawServer;
using pixvault::testing::Reply;
using pixvault::testing::TempDir;
using pixvault::testing::WriteFile;

// The boundary of a multipart Content-Type in `head`.
std::string Boundary(const std::string& head) {
  const auto at = head.find("boundary=");
  if (at == std::string::npos) return "";
  return head.substr(at + 9, head.find("\r\n", at) - at - 9);
}

TEST(HttpClient, CollectsTheAnswerAndSendsHeadersAndBody) {
  RawServer server([](const std::string&, const std::string&) {
    return Reply(201, R"({"ok":true})", "X-Thing: 7\r\n");
  });
  HttpClient client;
  HttpRequest r;
  r.method = HttpMethod::kPut;
  r.url = server.Url("/a/b?x=1");
  r.headers = {{"X-Api-Key", "k-123"}};
  r.body = "hello";
  r.content_type = "text/plain";
  auto res = client.Send(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, R"({"ok":true})");
  ASSERT_NE(res->Header("x-thing"), nullptr);
  EXPECT_EQ(*res->Header("x-thing"), "7");
  const std::string head = server.last_head();
  EXPECT_EQ(head.rfind("PUT /a/b?x=1 HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nX-Api-Key: k-123"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/plain\r\n"), std::string::npos) << head;
  EXPECT_EQ(server.last_body(), "hello");
}

TEST(HttpClient, AConnectionTheServerClosedIsNotReused) {
  // Keep-alive answers (no "Connection: close"), but the server closes after each one.
  RawServer server([](const std::string&, const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  HttpClient client;
  HttpRequest r;
  r.url = server.Url("/k");
  for (int i = 0; i < 3; ++i) {
    auto res = client.Send(r);
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->body, "ok");
  }
  EXPECT_EQ(client.connections_opened(), 3);
}

TEST(HttpClient, StreamsAFileBodyAndAMultipartBody) {
  TempDir dir;
  std::string content(2 << 20, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 3);
  WriteFile(dir / "f.bin", content);
  RawServer server([](const std::string&, const std::string&) { return Reply(200, "{}"); });
  HttpClient client;

  HttpRequest raw;
  raw.method = HttpMethod::kPost;
  raw.url = server.Url("/raw");
  raw.body_file = dir / "f.bin";
  raw.content_type = "video/mp4";
  ASSERT_TRUE(client.Send(raw));
  EXPECT_TRUE(server.last_body() == content);
  EXPECT_NE(server.last_head().find("Content-Length: " + std::to_string(content.size())),
            std::string::npos);

  HttpRequest multi;
  multi.method = HttpMethod::kPost;
  multi.url = server.Url("/multi");
  MultipartBody m;
  m.fields = {{"purpose", "assets"}, {"note", "a \"quoted\" value"}};
  m.file_field = "upload";
  m.filename = "clip \"1\".mp4";
  m.content_type = "video/mp4";
  m.path = dir / "f.bin";
  multi.multipart = m;
  ASSERT_TRUE(client.Send(multi));
  const std::string head = server.last_head();
  const std::string body = server.last_body();
  const std::string b = Boundary(head);
  ASSERT_FALSE(b.empty()) << head;
  EXPECT_NE(head.find("Content-Type: multipart/form-data; boundary="), std::string::npos);
  const std::string expected_start =
      "--" + b +
      "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassets\r\n"
      "--" +
      b + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\na \"quoted\" value\r\n--" + b +
      "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"clip %221%22.mp4\"\r\n"
      "Content-Type: video/mp4\r\n\r\n";
  ASSERT_EQ(body.substr(0, expected_start.size()), expected_start);
  const std::string expected_end = "\r\n--" + b + "--\r\n";
  ASSERT_EQ(body.size(), expected_start.size() + content.size() + expected_end.size());
  EXPECT_TRUE(body.substr(expected_start.size(), content.size()) == content);
  EXPECT_EQ(body.substr(body.size() - expected_end.size()), expected_end);
}

TEST(HttpClient, CapsCollectedAnswersAndStreamsOthers) {
  const std::string big(5000, 'z');
  RawServer server([&](const std::string&, const std::string&) { return Reply(200, big); });
  HttpClient client;
  HttpRequest r;
  r.url = server.Url("/big");
  r.max_response_bytes = 1000;
  auto capped = client.Send(r);
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(capped.error().message.find("larger than 1000"), std::string::npos);

  // An error answer's body is cut at the cap instead.
  RawServer error_page([&](const std::string&, const std::string&) { return Reply(404, big); });
  HttpRequest e;
  e.url = error_page.Url("/missing");
  e.max_response_bytes = 1000;
  auto cut = client.Send(e);
  ASSERT_TRUE(cut) << cut.error().message;
  EXPECT_EQ(cut->status, 404);
  EXPECT_EQ(cut->body, big.substr(0, 1000));

  std::string got;
  ResponseStream stream;
  stream.on_head = [](const HttpResponse& head) -> Result<bool> { return head.status == 200; };
  stream.on_data = [&](std::span<const std::byte> data) -> Status {
    got.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Ok();
  };
  auto streamed = client.Send(r, &stream);
  ASSERT_TRUE(streamed) << streamed.error().message;
  EXPECT_EQ(got, big);
  EXPECT_TRUE(streamed->body.empty());
}

// A listening socket on 127.0.0.1 whose connections the test drives by hand.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int fd() const { return fd_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(HttpClient, AFileBodyWaitsForASlowReaderAndArrivesWhole) {
  // 16 MiB: far more than the socket buffers hold, so the sender must wait for the reader.
  TempDir dir;
  std::string content(16 << 20, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 13 + i / 7);
  WriteFile(dir / "big.bin", content);
  Listener listener;
  std::string received;
  std::thread server([&] {
    const int c = ::accept(listener.fd(), nullptr, nullptr);
    ASSERT_GE(c, 0);
    std::string data;
    std::array<char, 64 * 1024> buf;
    std::size_t body_at = std::string::npos;
    while (body_at == std::string::npos || data.size() < body_at + content.size()) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // a slow reader
      const ssize_t n = ::read(c, buf.data(), buf.size());
      if (n <= 0) break;
      data.append(buf.data(), static_cast<std::size_t>(n));
      if (body_at == std::string::npos && data.find("\r\n\r\n") != std::string::npos) {
        body_at = data.find("\r\n\r\n") + 4;
      }
    }
    if (body_at != std::string::npos) received = data.substr(body_at);
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    (void)::write(c, reply.data(), reply.size());
    ::close(c);
  });
  HttpClient client;
  HttpRequest r;
  r.method = HttpMethod::kPost;
  r.url = listener.Url("/slow-reader");
  r.body_file = dir / "big.bin";
  r.idle_timeout = 10 * kMicrosPerSecond;
  auto res = client.Send(r);
  server.join();
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(received.size(), content.size());
  EXPECT_TRUE(received == content);
}

TEST(HttpClient, AFileBodyNobodyReadsTimesOut) {
  // The connection is accepted by the kernel (backlog) but nothing ever reads it.
  TempDir dir;
  WriteFile(dir / "big.bin", std::string(64 << 20, 'x'));
  Listener listener;
  HttpClient client;
  HttpRequest r;
  r.method = HttpMethod::kPost;
  r.url = listener.Url("/nobody");
  r.body_file = dir / "big.bin";
  r.idle_timeout = 300 * 1000;
  auto res = client.Send(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("sending the body"), std::string::npos) << res.error().message;
  EXPECT_NE(res.error().message.find("timed out (no progress)"), std::string::npos)
      << res.error().message;
}

TEST(HttpClient, TimeoutsRefusedConnectionsAndBadUrls) {
  RawServer hang([](const std::string&, const std::string&) { return std::string(); });
  HttpClient client;
  HttpRequest r;
  r.url = hang.Url("/slow");
  r.idle_timeout = 300 * 1000;
  auto idle = client.Send(r);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(idle.error().message.find("timed out (no progress)"), std::string::npos);
  r.idle_timeout = 10 * kMicrosPerSecond;
  r.total_timeout = 300 * 1000;
  auto total = client.Send(r);
  ASSERT_FALSE(total);
  EXPECT_NE(total.error().message.find("total time limit"), std::string::npos);

  // https to a plain HTTP server: the TLS handshake fails.
  r.url = "https://127.0.0.1:" + hang.Url("").substr(17) + "/";
  r.total_timeout = 2 * kMicrosPerSecond;
  auto tls = client.Send(r);
  ASSERT_FALSE(tls);
  EXPECT_EQ(tls.error().code, ErrorCode::kUnavailable);

  r.url = "http://127.0.0.1:1/";
  auto refused = client.Send(r);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);

  for (const char* bad : {"ftp://x/", "file:///etc/passwd", "http://user:pw@x/", "nonsense"}) {
    r.url = bad;
    auto e = client.Send(r);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(e.error().message.find("pw@"), std::string::npos);
  }
  r.url = "http://127.0.0.1:1/";
  r.headers = {{"X-Bad", "a\r\nInjected: 1"}};
  auto injected = client.Send(r);
  ASSERT_FALSE(injected);
  EXPECT_EQ(injected.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(injected.error().message.find("Injected"), std::string::npos);
}

// Names go through the client's resolver; a resolver that does not answer costs the request
// its connect_timeout, not the resolver's own time; one that fails is kUnavailable.
TEST(HttpClient, NameResolutionIsBoundedByTheConnectTimeout) {
  RawServer server([](const std::string&, const std::string&) { return Reply(200, "named"); });
  const std::string port = server.Url("").substr(std::string("http://127.0.0.1:").size());
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> asked{0};
  };
  auto gate = std::make_shared<Gate>();  // outlives the test if a lookup is still waiting
  HttpClient client([gate](const std::string& host) -> Result<std::vector<std::string>> {
    ++gate->asked;
    if (host == "provider.test") return std::vector<std::string>{"127.0.0.1"};
    if (host == "broken.test") return Fail(ErrorCode::kUnavailable, "no such name");
    std::unique_lock lock(gate->mu);  // "silent.test": no answer until the gate opens
    gate->cv.wait(lock, [&] { return gate->open; });
    return Fail(ErrorCode::kUnavailable, "too late");
  });
  HttpRequest r;
  r.url = "http://provider.test:" + port + "/x";
  auto named = client.Send(r);
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(named->body, "named");
  EXPECT_NE(server.last_head().find("\r\nHost: provider.test:" + port), std::string::npos)
      << server.last_head();

  auto expect_unavailable = [&](const std::string& host, const std::string& says) {
    r.url = "http://" + host + ":" + port + "/x";
    auto failed = client.Send(r);
    ASSERT_FALSE(failed) << host;
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(failed.error().message.find(says), std::string::npos) << failed.error().message;
  };
  expect_unavailable("broken.test", "cannot resolve 'broken.test': no such name");
  r.connect_timeout = 200 * 1000;
  r.total_timeout = 3600 * kMicrosPerSecond;
  expect_unavailable("silent.test", "no answer from the name resolver in time");
  EXPECT_EQ(gate->asked.load(), 3);
  {
    std::lock_guard lock(gate->mu);
    gate->open = true;
  }
  gate->cv.notify_all();
}

// HttpProvider against RawServer: what the fake provider does not do.
class HttpProviderRawTest : public ::testing::Test {
 protected:
  HttpProviderOptions Options(const RawServer& server) {
    HttpProviderOptions o;
    o.id = "raw";
    o.base_url = server.Url("/api/");
    o.auth_header = "X-Key";
    o.auth_value = "{key}";
    o.timeout = 2 * kMicrosPerSecond;
    return o;
  }
  UploadFile File() {
    WriteFile(dir_ / "in.png", content_);
    UploadFile f;
    f.path = dir_ / "in.png";
    f.size = static_cast<std::int64_t>(content_.size());
    f.sha256 = std::string(64, 'b');
    f.content_type = "image/png";
    f.filename = "in.png";
    f.media_type = MediaType::kImage;
    return f;
  }
  AccountAccess Account() {
    AccountAccess a;
    a.account_id = 9;
    a.credentials["key"] = "s3cr3t-key-value";
    return a;
  }
  TempDir dir_;
  std::string content_ = std::string(100000, 'p') + "end";
};

TEST_F(HttpProviderRawTest, MultipartUploadWithCustomPointers) {
  RawServer server([](const std::string&, const std::string&) {
    return Reply(200,
                 R"({"data":{"file":{"name":42,"link":"https://cdn/x"},"ttl_end":1700000123.5}})");
  });
  HttpProviderOptions o = Options(server);
  o.upload.endpoint = {"PUT", "/upload"};
  o.upload.multipart = true;
  o.upload.field = "media";
  o.upload.fields = {{"purpose", "gen-{media_type}"}, {"hash", "{sha256}"}};
  o.upload.ref_pointer = "/data/file/name";
  o.upload.url_pointer = "/data/file/link";
  o.upload.expires_pointer = "/data/ttl_end";
  auto p = HttpProvider::Create(o);
  ASSERT_TRUE(p) << p.error().message;
  auto ref = (*p)->Upload(Account(), File());
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->ref, "42");
  EXPECT_EQ(ref->url, "https://cdn/x");
  EXPECT_EQ(ref->expires_at, Timestamp{1700000123500000});
  const std::string head = server.last_head();
  EXPECT_EQ(head.rfind("PUT /api/upload HTTP/1.1", 0), 0u) << head;
  EXPECT_NE(head.find("X-Key: s3cr3t-key-value\r\n"), std::string::npos);
  const std::string body = server.last_body();
  EXPECT_NE(body.find("name=\"purpose\"\r\n\r\ngen-image\r\n"), std::string::npos);
  EXPECT_NE(body.find("name=\"hash\"\r\n\r\n" + std::string(64, 'b') + "\r\n"), std::string::npos);
  EXPECT_NE(body.find("name=\"media\"; filename=\"in.png\"\r\nContent-Type: image/png\r\n\r\n" +
                      content_ + "\r\n--"),
            std::string::npos);
}

TEST_F(HttpProviderRawTest, MalformedAndOversizedAnswersAreUnavailable) {
  std::string answer;
  RawServer server([&](const std::string&, const std::string&) { return Reply(200, answer); });
  HttpProviderOptions o = Options(server);
  o.max_json_bytes = 100;
  auto p = HttpProvider::Create(o);
  ASSERT_TRUE(p);
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "not JSON"},
      {R"({"name":"x"})", "no ref"},
      {R"({"id":"x","expires_at":"tomorrow"})", "expires_at"},
      {"{\"id\":\"" + std::string(200, 'x') + "\"}", "larger than 100"},
  };
  for (const auto& [body, why] : cases) {
    answer = body;
    auto r = (*p)->Upload(Account(), File());
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
  answer = R"({"id":"j","status":"exploded"})";
  o.capabilities.operations = {"x"};
  auto g = HttpProvider::Create(o);
  ASSERT_TRUE(g);
  auto poll = (*g)->Poll(Account(), "j");
  ASSERT_FALSE(poll);
  EXPECT_EQ(poll.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(poll.error().message.find("exploded"), std::string::npos);
}

TEST_F(HttpProviderRawTest, EchoedCredentialsAreScrubbed) {
  RawServer server([](const std::string&, const std::string&) {
    return Reply(401, R"({"error":"key s3cr3t-key-value is revoked"})");
  });
  auto p = HttpProvider::Create(Options(server));
  ASSERT_TRUE(p);
  auto r = (*p)->Check(Account(), ProviderRef{"a b/c", "", std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.error().message.find("s3cr3t"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("revoked"), std::string::npos) << r.error().message;
  EXPECT_EQ(server.last_head().rfind("GET /api/v1/files/a%20b%2Fc HTTP/1.1", 0), 0u);
}

TEST_F(HttpProviderRawTest, AServerIgnoringRangeIsSkippedThrough) {
  const std::string file = "0123456789abcdefghij";
  RawServer server([&](const std::string& head, const std::string&) {
    EXPECT_NE(head.find("Range: bytes=7-\r\n"), std::string::npos) << head;
    return "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n" + file;
  });
  auto p = HttpProvider::Create(Options(server));
  ASSERT_TRUE(p);
  std::string got;
  std::optional<std::int64_t> total;
  DownloadSink sink;
  sink.on_start = [&](std::optional<std::int64_t> t) -> Status {
    total = t;
    return Ok();
  };
  sink.on_data = [&](std::span<const std::byte> d) -> Status {
    got.append(reinterpret_cast<const char*>(d.data()), d.size());
    return Ok();
  };
  ASSERT_TRUE((*p)->Download(Account(), ProviderRef{"f", "", std::nullopt}, 7, sink));
  EXPECT_EQ(got, file.substr(7));
  EXPECT_EQ(total, 20);
}

}  // namespace
}  // namespace pixvault::providers
