// GET /api/v1/assets/{id}/file over a real connection: exact bytes, ETag and If-None-Match,
// single byte ranges (RFC 9110 §14), HEAD.
#include <boost/json.hpp>

#include "core/sha256.h"
#include "http/http_fixture.h"

namespace pixvault::http::testing {
namespace {

class HttpFilesTest : public HttpTest {
 protected:
  void SetUp() override {
    HttpTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    bytes_ = MediaBytes("video.mp4");
    if (bytes_.empty()) GTEST_SKIP() << "ffmpeg cannot generate video.mp4";
    HttpResponse res = UploadRaw(alice_key_, bytes_, "filename=clip.mp4");
    ASSERT_EQ(res.status, 201) << res.body;
    id_ = ParseJson(res.body).at("asset").at("id").to_number<std::int64_t>();
    path_ = "/api/v1/assets/" + std::to_string(id_) + "/file";
    etag_ = "\"" + Sha256Hex(bytes_) + "\"";
    size_ = std::to_string(bytes_.size());
  }
  HttpResponse Get(std::vector<Header> headers, std::string method = "GET") {
    return Call(std::move(method), path_, alice_key_, {}, std::move(headers));
  }

  std::string bytes_;
  std::int64_t id_ = 0;
  std::string path_, etag_, size_;
};

TEST_P(HttpFilesTest, ReturnsTheExactBytesWithValidators) {
  HttpResponse res = Get({});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body.size(), bytes_.size());
  EXPECT_TRUE(res.body == bytes_);
  EXPECT_EQ(res.Header("Content-Length").value_or(""), size_);
  EXPECT_EQ(res.Header("Content-Type").value_or(""), "video/mp4");
  EXPECT_EQ(res.Header("ETag").value_or(""), etag_);
  EXPECT_EQ(res.Header("Accept-Ranges").value_or(""), "bytes");
  EXPECT_NE(res.Header("Content-Disposition").value_or("").find("clip.mp4"), std::string::npos);
}

TEST_P(HttpFilesTest, IfNoneMatchAnswersNotModified) {
  for (const std::string& inm :
       {etag_, "W/" + etag_, std::string("*"), "\"other\", " + etag_, "\"a\" ," + etag_}) {
    HttpResponse res = Get({{"If-None-Match", inm}});
    EXPECT_EQ(res.status, 304) << inm;
    EXPECT_TRUE(res.body.empty());
    EXPECT_EQ(res.Header("ETag").value_or(""), etag_);
  }
  HttpResponse changed = Get({{"If-None-Match", "\"" + std::string(64, '0') + "\""}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_TRUE(changed.body == bytes_);
}

TEST_P(HttpFilesTest, SingleRanges) {
  const auto size = static_cast<std::int64_t>(bytes_.size());
  HttpResponse head = Get({{"Range", "bytes=0-9"}});
  ASSERT_EQ(head.status, 206);
  EXPECT_EQ(head.body, bytes_.substr(0, 10));
  EXPECT_EQ(head.Header("Content-Range").value_or(""), "bytes 0-9/" + size_);
  EXPECT_EQ(head.Header("Content-Length").value_or(""), "10");

  HttpResponse suffix = Get({{"Range", "bytes=-5"}});
  ASSERT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, bytes_.substr(bytes_.size() - 5));
  EXPECT_EQ(suffix.Header("Content-Range").value_or(""),
            "bytes " + std::to_string(size - 5) + "-" + std::to_string(size - 1) + "/" + size_);

  HttpResponse tail = Get({{"Range", "bytes=100-"}});
  ASSERT_EQ(tail.status, 206);
  EXPECT_TRUE(tail.body == bytes_.substr(100));

  // A last byte past the end is clamped; a suffix longer than the file is the whole file.
  HttpResponse clamped = Get({{"Range", "bytes=10-99999999"}});
  ASSERT_EQ(clamped.status, 206);
  EXPECT_TRUE(clamped.body == bytes_.substr(10));
  HttpResponse whole = Get({{"Range", "bytes=-99999999"}});
  ASSERT_EQ(whole.status, 206);
  EXPECT_TRUE(whole.body == bytes_);

  HttpResponse last = Get({{"Range", "bytes=" + std::to_string(size - 1) + "-"}});
  ASSERT_EQ(last.status, 206);
  EXPECT_EQ(last.body, bytes_.substr(bytes_.size() - 1));
}

TEST_P(HttpFilesTest, UnsatisfiableRangesAre416) {
  const auto size = static_cast<std::int64_t>(bytes_.size());
  for (const std::string& range :
       {std::string("bytes=5-2"), "bytes=" + size_ + "-", "bytes=" + size_ + "-" + size_,
        "bytes=" + std::to_string(size + 100) + "-" + std::to_string(size + 200),
        std::string("bytes=-0"), std::string("bytes=x-5"), std::string("bytes=5"),
        std::string("bytes=--5")}) {
    HttpResponse res = Get({{"Range", range}});
    EXPECT_EQ(res.status, 416) << range;
    EXPECT_EQ(res.Header("Content-Range").value_or(""), "bytes */" + size_) << range;
  }
}

TEST_P(HttpFilesTest, RangesThatDoNotApplyServeTheWholeFile) {
  for (const std::vector<Header>& headers : std::vector<std::vector<Header>>{
           {{"Range", "bytes=0-1,5-6"}},                              // several ranges
           {{"Range", "items=0-5"}},                                  // another unit
           {{"Range", "bytes=0-9"}, {"If-Range", "\"stale-etag\""}},  // changed since
       }) {
    HttpResponse res = Get(headers);
    EXPECT_EQ(res.status, 200) << headers.front().second;
    EXPECT_TRUE(res.body == bytes_);
  }
  HttpResponse fresh = Get({{"Range", "bytes=0-9"}, {"If-Range", etag_}});
  EXPECT_EQ(fresh.status, 206);
}

TEST_P(HttpFilesTest, HeadSendsHeadersAndNoBody) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest head{"HEAD", path_, {{"Authorization", Bearer(alice_key_)}}, {}, {}};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, c.RoundTrip(head));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("Content-Length").value_or(""), size_);
  EXPECT_EQ(res.Header("ETag").value_or(""), etag_);
  EXPECT_EQ(res.Header("Content-Type").value_or(""), "video/mp4");
  // Had any body byte followed, this response would not parse.
  HttpRequest ranged{
      "HEAD", path_, {{"Authorization", Bearer(alice_key_)}, {"Range", "bytes=0-9"}}, {}, {}};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse partial, c.RoundTrip(ranged));
  EXPECT_EQ(partial.status, 206);
  EXPECT_EQ(partial.Header("Content-Length").value_or(""), "10");
  HttpRequest get{"GET", path_, {{"Authorization", Bearer(alice_key_)}}, {}, {}};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse full, c.RoundTrip(get));
  EXPECT_EQ(full.status, 200);
  EXPECT_TRUE(full.body == bytes_);
}

TEST_P(HttpFilesTest, KeepAliveServesSeveralFilesOnOneConnection) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  for (int i = 0; i < 3; ++i) {
    HttpRequest get{
        "GET", path_, {{"Authorization", Bearer(alice_key_)}, {"Range", "bytes=-3"}}, {}, {}};
    PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, c.RoundTrip(get));
    EXPECT_EQ(res.status, 206);
    EXPECT_EQ(res.body, bytes_.substr(bytes_.size() - 3));
  }
}

TEST_P(HttpFilesTest, FilenamesCannotInjectHeaders) {
  // CR LF and quotes in the stored name stay inside Content-Disposition, escaped.
  HttpResponse up =
      UploadRaw(alice_key_, WavBytes(1), "filename=%22a%0D%0AX-Injected:%201%22%E2%82%AC.wav");
  ASSERT_EQ(up.status, 201) << up.body;
  std::int64_t id = ParseJson(up.body).at("asset").at("id").to_number<std::int64_t>();
  HttpResponse res = Call("GET", "/api/v1/assets/" + std::to_string(id) + "/file", alice_key_);
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.Header("X-Injected").has_value());
  std::string disposition = res.Header("Content-Disposition").value_or("");
  EXPECT_EQ(disposition.find('\r'), std::string::npos) << disposition;
  EXPECT_NE(disposition.find("filename*=UTF-8''%22a%0D%0AX-Injected%3A%201%22%E2%82%AC.wav"),
            std::string::npos)
      << disposition;
}

PV_INSTANTIATE_STORE_TEST(HttpFilesTest);

}  // namespace
}  // namespace pixvault::http::testing
