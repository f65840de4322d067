// Route-level tests of api_fetch.cc: requests go through the real Router and handler over a
// real store (SQLite and PostgreSQL) and blob store; the remote side is a canned-response
// server on 127.0.0.1 (allowed explicitly). No traffic leaves 127.0.0.0/8: every other
// destination below is refused before connecting.
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "blob/blob_store.h"
#include "blob/env.h"
#include "fetch/test_http_server.h"
#include "http/api.h"
#include "http/problem.h"
#include "service/ingest.h"
#include "testing/store_fixture.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::http {
namespace {

using fetch::testing::TestHttpServer;
using pixvault::testing::StoreTest;
using pixvault::testing::TempDir;

struct Reply {
  int status = 0;
  boost::json::value json;
  std::string body;
  std::string code;  // problem code, for errors
};

class ApiFetchTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NE(server_.port(), 0);
    blob_dir_ = std::make_unique<TempDir>();
    auto blobs = blob::FsBlobStore::Create(env_, blob_dir_->path());
    ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
    blobs_ = std::move(*blobs);
    ingestor_ = std::make_unique<service::Ingestor>(*store_, *blobs_, clock_);
    ApiOptions options;
    options.fetch_allow_hosts = {"127.0.0.1/32"};
    options.fetch_limit = 4 << 20;
    options.fetch_connect_timeout = 2 * kMicrosPerSecond;
    options.fetch_idle_timeout = 2 * kMicrosPerSecond;
    options.fetch_total_timeout = 10 * kMicrosPerSecond;
    options.fetch_max_redirects = 3;
    api_ = std::make_unique<ApiContext>(
        ApiContext{*store_, *blobs_, *ingestor_, clock_, metrics_, options});
    RegisterRoutes(router_, *api_);
    // The same API with the default options: nothing but public addresses.
    strict_api_ = std::make_unique<ApiContext>(
        ApiContext{*store_, *blobs_, *ingestor_, clock_, metrics_, ApiOptions{}});
    RegisterRoutes(strict_router_, *strict_api_);
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
  }

  // POSTs `body` to the route as alice, rendering errors like the server does. Never a 5xx
  // other than 503 (an upstream failure).
  Reply Post(const std::string& body, const Router* router = nullptr) {
    Reply out;
    auto match = (router ? *router : router_).Find("POST", "/api/v1/assets/upload-from-url");
    if (!match || !match->route || !match->route->handler) {
      ADD_FAILURE() << "no buffered route for POST /api/v1/assets/upload-from-url";
      return out;
    }
    Request req;
    req.method = "POST";
    req.target = req.path = "/api/v1/assets/upload-from-url";
    req.headers.Add("Content-Type", "application/json");
    req.body = body;
    req.content_length = static_cast<std::int64_t>(body.size());
    req.user = alice_;
    auto res = match->route->handler(req);
    Response r = res ? std::move(*res) : ProblemFor(res.error());
    out.status = r.status;
    out.body = r.body;
    EXPECT_TRUE(r.status < 500 || r.status == 503) << r.status << " " << r.body;
    boost::system::error_code ec;
    out.json = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "not JSON: " << r.body;
    if (r.status >= 400) {
      EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
      if (out.json.is_object() && out.json.as_object().contains("code")) {
        out.code = std::string(out.json.at("code").as_string());
      }
    }
    return out;
  }
  Reply PostUrl(const std::string& url, const Router* router = nullptr) {
    return Post(boost::json::serialize(boost::json::object{{"url", url}}), router);
  }

  int BlobRootFiles() const {
    int n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(blob_dir_->path())) {
      n += e.is_regular_file() ? 1 : 0;
    }
    return n;
  }
  void ExpectNothingStored() {
    auto page = store_->ListAssets(Viewer{0, true, true}, {}, storage::PageRequest{10, {}});
    ASSERT_TRUE(page.has_value()) << page.error().message;
    EXPECT_TRUE(page->items.empty()) << page->items.size() << " assets stored";
    EXPECT_EQ(BlobRootFiles(), 0);
  }

  TestHttpServer server_;
  blob::PosixEnv env_;
  std::unique_ptr<TempDir> blob_dir_;
  std::unique_ptr<blob::FsBlobStore> blobs_;
  std::unique_ptr<service::Ingestor> ingestor_;
  Metrics metrics_;
  Router router_;
  Router strict_router_;
  std::unique_ptr<ApiContext> api_;
  std::unique_ptr<ApiContext> strict_api_;
  User alice_;
};

TEST_P(ApiFetchTest, DownloadsMediaThenAnswersDuplicate) {
  auto png = media::testing::MediaFile("image.png");
  if (png.empty()) GTEST_SKIP() << "ffmpeg cannot generate image.png";
  server_.Handle("/pics/sunset.png",
                 TestHttpServer::Ok(pixvault::testing::ReadFile(png), "image/png"));
  server_.Handle("/share/abc", TestHttpServer::Redirect(302, "/pics/sunset.png"));
  const std::string url = server_.Url("/share/abc?token=t1");

  Reply created = Post(boost::json::serialize(
      boost::json::object{{"url", url}, {"tags", {"sky", "sun"}}, {"description", "evening"}}));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json.at("status"), "created");
  const auto& asset = created.json.at("asset").as_object();
  EXPECT_EQ(asset.at("media_type"), "image");
  EXPECT_EQ(asset.at("original_source_url"), url.c_str());
  EXPECT_EQ(asset.at("original_filename"), "sunset.png");  // after the redirect
  EXPECT_EQ(asset.at("upload_method"), "web");
  EXPECT_EQ(asset.at("description"), "evening");
  EXPECT_EQ(asset.at("tags"), (boost::json::array{"sky", "sun"}));
  EXPECT_EQ(asset.at("width"), 320);
  const std::int64_t id = asset.at("id").as_int64();

  Reply again =
      Post(boost::json::serialize(boost::json::object{{"url", server_.Url("/pics/sunset.png")},
                                                      {"filename", "mine.png"},
                                                      {"upload_method", "extension"}}));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json.at("status"), "duplicate");
  EXPECT_EQ(again.json.at("asset").at("id").as_int64(), id);
}

TEST_P(ApiFetchTest, GivenFilenameAndMethodWin) {
  auto png = media::testing::MediaFile("image.png");
  if (png.empty()) GTEST_SKIP() << "ffmpeg cannot generate image.png";
  server_.Handle("/download", TestHttpServer::Ok(
                                  pixvault::testing::ReadFile(png), "application/octet-stream",
                                  "Content-Disposition: attachment; filename=\"server.png\"\r\n"));
  Reply r = Post(boost::json::serialize(boost::json::object{
      {"url", server_.Url("/download")}, {"filename", "mine.png"}, {"upload_method", "mobile"}}));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.at("asset").at("original_filename"), "mine.png");
  EXPECT_EQ(r.json.at("asset").at("upload_method"), "mobile");
}

TEST_P(ApiFetchTest, BadRequestsAreRejectedAndNothingIsStored) {
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::string ok_url = server_.Url("/never-fetched");
  const Case cases[] = {
      {"not json", 400, "invalid_argument"},
      {"[]", 400, "invalid_argument"},
      {"{}", 400, "invalid_argument"},
      {R"({"url": ""})", 400, "invalid_argument"},
      {R"({"url": 5})", 400, "invalid_argument"},
      {R"({"url": "file:///etc/passwd"})", 400, "invalid_argument"},
      {R"({"url": "ftp://127.0.0.1/a.png"})", 400, "invalid_argument"},
      {R"({"url": "gopher://127.0.0.1:70/_x"})", 400, "invalid_argument"},
      {R"({"url": "http://user:pw@127.0.0.1/a.png"})", 400, "invalid_argument"},
      {R"({"url": "/relative.png"})", 400, "invalid_argument"},
      {R"({"url": "http://10.0.0.1/x"})", 403, "permission_denied"},
      {R"({"url": "http://169.254.169.254/latest/meta-data/"})", 403, "permission_denied"},
      {R"({"url": "https://[fd00::1]/x"})", 403, "permission_denied"},
      {R"({"url": "http://192.168.1.1/x"})", 403, "permission_denied"},
      {R"({"url": "http://127.0.0.2/x"})", 403, "permission_denied"},  // not in the list
      {R"({"url": ")" + ok_url + R"(", "extra": 1})", 400, "invalid_argument"},
      {R"({"url": ")" + ok_url + R"(", "tags": "a,b"})", 400, "invalid_argument"},
      {R"({"url": ")" + ok_url + R"(", "content_rating": "spicy"})", 400, "invalid_argument"},
      {R"({"url": ")" + ok_url + R"(", "content_domain": 3})", 400, "invalid_argument"},
      {R"({"url": ")" + ok_url + R"(", "age_restricted": "yes"})", 400, "invalid_argument"},
      {R"({"url": ")" + ok_url + R"(", "sha256": "ABC"})", 400, "invalid_argument"},
      {R"({"url": ")" + ok_url + R"(", "upload_method": "cli"})", 400, "invalid_argument"},
  };
  for (const auto& c : cases) {
    Reply r = Post(c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(r.code, c.code) << c.body;
  }
  EXPECT_TRUE(server_.requests().empty());
  ExpectNothingStored();
}

TEST_P(ApiFetchTest, LoopbackIsRefusedWithoutTheAllowance) {
  server_.Handle("/a.png", TestHttpServer::Ok("x", "image/png"));
  for (const std::string& url :
       {server_.Url("/a.png"), "http://localhost:" + std::to_string(server_.port()) + "/a.png",
        "http://[::1]:" + std::to_string(server_.port()) + "/a.png",
        "http://0.0.0.0:" + std::to_string(server_.port()) + "/a.png"}) {
    Reply r = PostUrl(url, &strict_router_);
    EXPECT_EQ(r.status, 403) << url << ": " << r.body;
    EXPECT_EQ(r.code, "permission_denied");
  }
  EXPECT_TRUE(server_.requests().empty());
  ExpectNothingStored();
}

TEST_P(ApiFetchTest, UpstreamFailuresStoreNothing) {
  auto png = media::testing::MediaFile("image.png");
  std::string bytes = png.empty() ? std::string(100, 'p') : pixvault::testing::ReadFile(png);
  server_.Handle("/to-private", TestHttpServer::Redirect(302, "http://10.0.0.1/x"));
  server_.Handle("/to-file", TestHttpServer::Redirect(302, "file:///etc/passwd"));
  server_.Handle("/loop", TestHttpServer::Redirect(302, "/loop"));
  TestHttpServer::Reply huge;
  huge.head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 99999999999\r\n";
  server_.Handle("/huge.png", huge);
  TestHttpServer::Reply endless;  // no Content-Length, more than the 4 MiB limit
  endless.head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n";
  endless.body = bytes;
  endless.filler = 6 << 20;
  server_.Handle("/endless.png", endless);
  server_.Handle("/error", TestHttpServer::Status(500, "Internal Server Error"));
  server_.Handle("/text.txt", TestHttpServer::Ok("just some text, not media\n", "image/png"));
  TestHttpServer::Reply truncated;  // announces more than it sends
  truncated.head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " +
                   std::to_string(bytes.size() + 100) + "\r\n";
  truncated.body = bytes;
  server_.Handle("/truncated.png", truncated);

  struct Case {
    std::string path;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"/to-private", 403, "permission_denied"},
      {"/to-file", 400, "invalid_argument"},
      {"/huge.png", 400, "invalid_argument"},
      {"/endless.png", 400, "invalid_argument"},
      {"/missing.png", 404, "not_found"},
      {"/loop", 503, "unavailable"},
      {"/error", 503, "unavailable"},
      {"/truncated.png", 503, "unavailable"},
      {"/text.txt", 415, "unsupported"},
  };
  for (const auto& c : cases) {
    Reply r = PostUrl(server_.Url(c.path + "?key=SECRET"));
    EXPECT_EQ(r.status, c.status) << c.path << " -> " << r.body;
    EXPECT_EQ(r.code, c.code) << c.path;
    EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << r.body;
  }
  ExpectNothingStored();
}

TEST_P(ApiFetchTest, ConcurrentDownloadsAreCapped) {
  // Each download holds a server thread; past the cap, requests are turned away at once.
  auto slow = TestHttpServer::Ok("late", "image/png");
  slow.stall = std::chrono::seconds(20);
  server_.Handle("/slow.png", slow);
  api_->options.fetch_max_concurrent = 1;
  api_->options.fetch_idle_timeout = kMicrosPerSecond;
  Reply first;
  std::thread t([&] { first = PostUrl(server_.Url("/slow.png")); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server_.requests().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Reply second = PostUrl(server_.Url("/other.png"));
  t.join();
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_NE(second.body.find("too many downloads"), std::string::npos) << second.body;
  EXPECT_EQ(first.status, 503) << first.body;  // the stalled server timed out
  EXPECT_NE(first.body.find("timed out"), std::string::npos) << first.body;
  EXPECT_EQ(server_.requests().size(), 1u);
  ExpectNothingStored();
}

PV_INSTANTIATE_STORE_TEST(ApiFetchTest);

}  // namespace
}  // namespace pixvault::http
