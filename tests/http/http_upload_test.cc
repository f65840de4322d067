// POST /api/v1/assets/upload over a real connection: raw and multipart bodies, duplicates,
// refused content, limits, aborted bodies, and concurrent identical uploads. Every refused
// upload must leave nothing behind: no asset row, no blob, no temp file.
#include <boost/json.hpp>

#include <set>
#include <thread>

#include "core/sha256.h"
#include "http/http_fixture.h"

namespace pixvault::http::testing {
namespace {

constexpr std::string_view kBoundary = "pxvBoundary7MA4YWxkTrZu0gW";

std::string MultipartType(std::string_view boundary = kBoundary) {
  return "multipart/form-data; boundary=" + std::string(boundary);
}

std::string FilePart(std::string_view filename = "clip.png", std::string_view type = "image/png") {
  return "Content-Disposition: form-data; name=\"file\"; filename=\"" + std::string(filename) +
         "\"\r\nContent-Type: " + std::string(type);
}

std::string FieldPart(std::string_view name) {
  return "Content-Disposition: form-data; name=\"" + std::string(name) + "\"";
}

std::vector<std::string> Strings(const boost::json::value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.as_array()) out.emplace_back(v.as_string());
  return out;
}

class HttpUploadTest : public HttpTest {
 protected:
  HttpResponse UploadMultipart(std::string body, std::string content_type = MultipartType()) {
    return Call("POST", "/api/v1/assets/upload", alice_key_, std::move(body),
                {{"Content-Type", std::move(content_type)}});
  }
};

TEST_P(HttpUploadTest, RawUploadCreatesTheAssetThenReportsTheDuplicate) {
  std::string video = MediaBytes("video.mp4");
  if (video.empty()) GTEST_SKIP() << "ffmpeg cannot generate video.mp4";
  HttpResponse first =
      UploadRaw(alice_key_, video, "tags=a,b&content_category=x&filename=clip.mp4", "video/mp4");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Header("Content-Type").value_or(""), "application/json");
  boost::json::value created = ParseJson(first.body);
  EXPECT_EQ(created.at("status"), "created");
  const auto& asset = created.at("asset");
  EXPECT_EQ(asset.at("media_type"), "video");
  EXPECT_EQ(asset.at("width"), 320);
  EXPECT_EQ(asset.at("height"), 240);
  EXPECT_EQ(asset.at("mime_type"), "video/mp4");
  EXPECT_EQ(asset.at("user_id"), alice_.id);
  EXPECT_EQ(asset.at("upload_method"), "api");
  EXPECT_EQ(asset.at("sync_status"), "downloaded");
  EXPECT_EQ(asset.at("original_filename"), "clip.mp4");
  EXPECT_EQ(asset.at("content_category"), "x");
  EXPECT_EQ(asset.at("sha256"), Sha256Hex(video).c_str());
  EXPECT_EQ(asset.at("file_size_bytes"), static_cast<std::int64_t>(video.size()));
  EXPECT_EQ(Strings(asset.at("tags")), (std::vector<std::string>{"a", "b"}));
  std::int64_t id = asset.at("id").to_number<std::int64_t>();
  EXPECT_EQ(BlobFiles(), 1);

  HttpResponse again = UploadRaw(alice_key_, video, "tags=a,b&content_category=x", "video/mp4");
  ASSERT_EQ(again.status, 200) << again.body;
  boost::json::value dup = ParseJson(again.body);
  EXPECT_EQ(dup.at("status"), "duplicate");
  EXPECT_EQ(dup.at("asset").at("id"), id);
  EXPECT_EQ(BlobFiles(), 1);
  EXPECT_TRUE(Eventually([this] { return TempFiles() == 0; }));
  EXPECT_EQ(ListIds(alice_key_), (std::vector<std::int64_t>{id}));

  // Someone else's copy of the same bytes is their own asset, on the same blob.
  HttpResponse bobs = UploadRaw(bob_key_, video);
  ASSERT_EQ(bobs.status, 201) << bobs.body;
  EXPECT_NE(ParseJson(bobs.body).at("asset").at("id"), id);
  EXPECT_EQ(BlobFiles(), 1);
}

TEST_P(HttpUploadTest, MetadataMayComeInHeaders) {
  HttpResponse res = Call("POST", "/api/v1/assets/upload", alice_key_, WavBytes(1),
                          {{"X-Pixvault-Tags", "h1, h2"},
                           {"X-Pixvault-Description", "from headers"},
                           {"X-Pixvault-Content-Category", "sfx"},
                           {"X-Pixvault-Upload-Method", "extension"}});
  ASSERT_EQ(res.status, 201) << res.body;
  boost::json::value asset = ParseJson(res.body).at("asset");
  EXPECT_EQ(asset.at("media_type"), "audio");
  EXPECT_EQ(Strings(asset.at("tags")), (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(asset.at("description"), "from headers");
  EXPECT_EQ(asset.at("content_category"), "sfx");
  EXPECT_EQ(asset.at("upload_method"), "extension");
}

TEST_P(HttpUploadTest, MultipartUploadWithFields) {
  std::string png = MediaBytes("image.png");
  if (png.empty()) GTEST_SKIP() << "ffmpeg cannot generate image.png";
  std::string body = MultipartBody(kBoundary, {{FieldPart("tags"), "m, n"},
                                               {FieldPart("description"), "a test card"},
                                               {FilePart("card.png"), png},
                                               {FieldPart("content_rating"), "general"}});
  HttpResponse res = UploadMultipart(body);
  ASSERT_EQ(res.status, 201) << res.body;
  boost::json::value v = ParseJson(res.body);
  EXPECT_EQ(v.at("status"), "created");
  const auto& asset = v.at("asset");
  EXPECT_EQ(asset.at("media_type"), "image");
  EXPECT_EQ(asset.at("width"), 320);
  EXPECT_EQ(asset.at("original_filename"), "card.png");
  EXPECT_EQ(asset.at("description"), "a test card");
  EXPECT_EQ(asset.at("sha256"), Sha256Hex(png).c_str());
  EXPECT_EQ(Strings(asset.at("tags")), (std::vector<std::string>{"m", "n"}));
  EXPECT_EQ(BlobFiles(), 1);
  EXPECT_TRUE(Eventually([this] { return TempFiles() == 0; }));

  // The stored bytes are exactly the file part's.
  std::int64_t id = asset.at("id").to_number<std::int64_t>();
  HttpResponse file = Call("GET", "/api/v1/assets/" + std::to_string(id) + "/file", alice_key_);
  EXPECT_EQ(file.status, 200);
  EXPECT_TRUE(file.body == png);
}

TEST_P(HttpUploadTest, TextSentAsVideoIsUnsupportedAndNothingIsStored) {
  HttpResponse res =
      UploadRaw(alice_key_, std::string(4096, 'x') + "\nplain text\n", {}, "video/mp4");
  EXPECT_EQ(res.status, 415) << res.body;
  EXPECT_EQ(res.ProblemCode(), "unsupported");
  ExpectNothingStored();
}

TEST_P(HttpUploadTest, EmptyBodyIsABadRequest) {
  HttpResponse res = UploadRaw(alice_key_, "");
  EXPECT_EQ(res.status, 400) << res.body;
  ExpectNothingStored();
  // No body at all (no Content-Length either).
  HttpRequest none{
      "POST", "/api/v1/assets/upload", {{"Authorization", Bearer(alice_key_)}}, {}, -1};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res2, Fetch(port(), none));
  CheckResponse(res2, "upload without a body");
  EXPECT_EQ(res2.status, 400) << res2.body;
  ExpectNothingStored();
}

TEST_P(HttpUploadTest, AnnouncedHashIsVerified) {
  std::string wav = WavBytes(2);
  std::string wrong = Sha256Hex(WavBytes(3));
  HttpResponse bad = UploadRaw(alice_key_, wav, "sha256=" + wrong);
  EXPECT_EQ(bad.status, 400) << bad.body;
  ExpectNothingStored();
  EXPECT_EQ(UploadRaw(alice_key_, wav, "sha256=nothex").status, 400);
  EXPECT_EQ(UploadRaw(alice_key_, wav, "sha256=" + std::string(64, 'A')).status, 400);
  ExpectNothingStored();
  HttpResponse good = UploadRaw(alice_key_, wav, "sha256=" + Sha256Hex(wav));
  EXPECT_EQ(good.status, 201) << good.body;
}

TEST_P(HttpUploadTest, BadMetadataIsRefusedBeforeAnyByteIsStored) {
  std::string wav = WavBytes(4);
  for (const char* query :
       {"colour=red", "content_domain=nowhere", "content_rating=x", "age_restricted=maybe",
        "upload_method=cli", "upload_method=provider"}) {
    HttpResponse res = UploadRaw(alice_key_, wav, query);
    EXPECT_EQ(res.status, 400) << query << ": " << res.body;
  }
  ExpectNothingStored();
}

TEST_P(HttpUploadTest, MalformedMultipartIsRefusedAndNothingIsStored) {
  std::string wav = WavBytes(5);
  struct Case {
    std::string name;
    std::string content_type;
    std::string body;
  };
  std::string good = MultipartBody(kBoundary, {{FilePart("a.wav", "audio/wav"), wav}});
  const std::vector<Case> cases = {
      {"no boundary parameter", "multipart/form-data", good},
      {"empty boundary", "multipart/form-data; boundary=", good},
      {"wrong boundary", MultipartType("someOtherBoundary"), good},
      {"part without a name", MultipartType(),
       MultipartBody(kBoundary, {{"Content-Disposition: form-data; filename=\"a.wav\"", wav}})},
      {"part without Content-Disposition", MultipartType(),
       MultipartBody(kBoundary, {{"Content-Type: audio/wav", wav}})},
      {"two file parts", MultipartType(),
       MultipartBody(kBoundary, {{FilePart("a.wav", "audio/wav"), wav},
                                 {FilePart("b.wav", "audio/wav"), wav}})},
      {"no file part", MultipartType(), MultipartBody(kBoundary, {{FieldPart("tags"), "a"}})},
      {"unknown field", MultipartType(),
       MultipartBody(kBoundary,
                     {{FieldPart("colour"), "red"}, {FilePart("a.wav", "audio/wav"), wav}})},
      {"truncated final boundary", MultipartType(),
       MultipartBody(kBoundary, {{FilePart("a.wav", "audio/wav"), wav}}, false) + "--" +
           std::string(kBoundary.substr(0, 5))},
      {"missing final boundary", MultipartType(),
       MultipartBody(kBoundary, {{FilePart("a.wav", "audio/wav"), wav}}, false)},
      {"body cut inside the file", MultipartType(),
       "--" + std::string(kBoundary) + "\r\n" + FilePart("a.wav", "audio/wav") + "\r\n\r\n" +
           wav.substr(0, 100)},
  };
  for (const Case& c : cases) {
    HttpResponse res = UploadMultipart(c.body, c.content_type);
    EXPECT_EQ(res.status, 400) << c.name << ": " << res.body;
    ExpectNothingStored();
  }
  // The same body with the right boundary is fine.
  EXPECT_EQ(UploadMultipart(good).status, 201);
}

TEST_P(HttpUploadTest, ABodyShorterThanAnnouncedIsDroppedAndLeavesNothing) {
  std::string wav = WavBytes(6);
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest req{"POST",
                  "/api/v1/assets/upload",
                  {{"Authorization", Bearer(alice_key_)}},
                  wav.substr(0, 1000),
                  static_cast<std::int64_t>(wav.size())};
  PV_ASSERT_OK(c.Send(req.Serialize()));
  // The temp file exists while the server waits for the rest.
  EXPECT_TRUE(Eventually([this] { return TempFiles() == 1; }));
  c.ShutdownWrite();
  // The server may explain (400) before it closes; it must not store anything.
  auto res = c.Read();
  if (res) {
    CheckResponse(*res, "truncated upload");
    EXPECT_EQ(res->status, 400) << res->body;
  }
  EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(10)));
  ExpectNothingStored();
}

TEST_P(HttpUploadTest, AStalledBodyTimesOutAndLeavesNothing) {
  std::string wav = WavBytes(7);
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest req{"POST",
                  "/api/v1/assets/upload",
                  {{"Authorization", Bearer(alice_key_)}},
                  wav.substr(0, 1000),
                  static_cast<std::int64_t>(wav.size())};
  PV_ASSERT_OK(c.Send(req.Serialize()));
  // No more bytes: the body timeout (2 s) ends the request.
  EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(15)));
  ExpectNothingStored();
}

TEST_P(HttpUploadTest, ChunkedUploadWorks) {
  std::string wav = WavBytes(8);
  std::string chunked = ChunkedBody(wav, 3000);
  HttpResponse res = Call("POST", "/api/v1/assets/upload?tags=chunked", alice_key_, chunked,
                          {{"Transfer-Encoding", "chunked"}});
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(ParseJson(res.body).at("asset").at("sha256"), Sha256Hex(wav).c_str());
}

TEST_P(HttpUploadTest, ConcurrentIdenticalUploadsMakeOneAsset) {
  std::string wav = WavBytes(9);
  constexpr int kThreads = 4;
  std::vector<Result<HttpResponse>> results(kThreads, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      HttpRequest req{
          "POST", "/api/v1/assets/upload", {{"Authorization", Bearer(alice_key_)}}, wav, {}};
      results[static_cast<std::size_t>(i)] = Fetch(port(), req);
    });
  }
  for (auto& t : threads) t.join();
  int created = 0, duplicates = 0;
  std::set<std::int64_t> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    CheckResponse(*r, "concurrent upload");
    if (r->status == 201) ++created;
    if (r->status == 200) {
      ++duplicates;
      EXPECT_EQ(ParseJson(r->body).at("status"), "duplicate");
    }
    if (r->status == 200 || r->status == 201) {
      ids.insert(ParseJson(r->body).at("asset").at("id").to_number<std::int64_t>());
    } else {
      ADD_FAILURE() << r->status << " " << r->body;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(duplicates, kThreads - 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(ListIds(alice_key_).size(), 1u);
  EXPECT_EQ(BlobFiles(), 1);
  EXPECT_TRUE(Eventually([this] { return TempFiles() == 0; }));
}

TEST_P(HttpUploadTest, UploadMetadataThatIsNotUtf8IsRefused) {
  // Text the catalogue cannot hand back as JSON must not get in (PostgreSQL refuses it
  // anyway; SQLite would store it and every later listing would be invalid JSON).
  int seed = 10;
  for (const char* query : {"description=%FF", "tags=%C3%28", "style_tags=%80",
                            "content_category=%FF", "original_source_url=%FE"}) {
    HttpResponse res = UploadRaw(alice_key_, WavBytes(++seed), query);
    EXPECT_EQ(res.status, 400) << query << ": " << res.body;
  }
  ExpectNothingStored();
  // A NUL byte is valid UTF-8: stored (SQLite) or refused (PostgreSQL text), never a 5xx.
  HttpResponse nul = UploadRaw(alice_key_, WavBytes(4), "description=a%00b");
  EXPECT_TRUE(nul.status == 201 || nul.status == 400) << nul.body;
  EXPECT_EQ(Call("GET", "/api/v1/assets", alice_key_).status, 200);
}

TEST_P(HttpUploadTest, AnUploadTheDatabaseRefusesLeavesNoBlob) {
  // Text with a NUL byte is valid UTF-8 that SQLite stores and PostgreSQL refuses; a
  // refusal must come with nothing stored, like any failed ingest.
  int seed = 20;
  for (const char* query : {"description=a%00b", "tags=x%00y", "content_category=%00"}) {
    HttpResponse res = UploadRaw(alice_key_, WavBytes(++seed), query);
    if (res.status == 201) {
      std::int64_t id = ParseJson(res.body).at("asset").at("id").to_number<std::int64_t>();
      EXPECT_EQ(Call("DELETE", AssetPath(id), alice_key_).status, 204);
    } else {
      EXPECT_EQ(res.status, 400) << query << ": " << res.body;
    }
    ExpectNothingStored();
  }
}

// The same server with a 1 MiB upload limit.
class HttpUploadLimitTest : public HttpUploadTest {
 protected:
  HttpUploadLimitTest() { api_options_.upload_limit = 1 << 20; }
};

TEST_P(HttpUploadLimitTest, AnnouncedBodyOverTheLimitIsRefused) {
  std::string big = WavBytes(10);
  big.resize((1 << 20) + 1, '\0');
  HttpResponse res = UploadRaw(alice_key_, big);
  EXPECT_EQ(res.status, 413) << res.body;
  EXPECT_EQ(res.ProblemCode(), "body_too_large");
  ExpectNothingStored();
  // A body under the limit is accepted.
  std::string ok = WavBytes(11);
  EXPECT_EQ(UploadRaw(alice_key_, ok).status, 201);
}

TEST_P(HttpUploadLimitTest, ChunkedBodyOverTheLimitIsRefused) {
  std::string chunked = ChunkedBody(std::string(1280 * 1024, 'z'), 64 * 1024);  // 1.25 MiB
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest req{"POST",
                  "/api/v1/assets/upload",
                  {{"Authorization", Bearer(alice_key_)}, {"Transfer-Encoding", "chunked"}},
                  chunked,
                  {}};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, c.RoundTrip(req));
  CheckResponse(res, "chunked upload over the limit");
  EXPECT_EQ(res.status, 413) << res.body;
  ExpectNothingStored();
}

// A 401 (no key) or 413 (announced over the limit) is answered before the body is read. A
// client still sending must be able to read that answer: the server reads the rest of the
// body and drops it before it closes (closing with unread bytes would reset the connection,
// and a reset can destroy the answer before the client has read it). 24 MiB is more than the
// socket buffers hold, so the server has to read for the send to finish.
TEST_P(HttpUploadLimitTest, ARefusalBeforeTheBodyReachesAClientStillSending) {
  const std::string body(24 << 20, 'x');
  struct Case {
    std::string key;
    int status;
    std::string code;
  };
  for (const Case& c : {Case{"", 401, "unauthorized"}, Case{alice_key_, 413, "body_too_large"}}) {
    SCOPED_TRACE(c.status);
    PV_ASSERT_OK_AND_ASSIGN(Connection conn, Connection::Open(port()));
    HttpRequest req{"POST", "/api/v1/assets/upload", {}, body, {}};
    if (!c.key.empty()) req.headers.emplace_back("Authorization", Bearer(c.key));
    EXPECT_TRUE(conn.Send(req.Serialize()).has_value()) << "the server reset the connection";
    PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, conn.Read());
    EXPECT_EQ(res.status, c.status) << res.body;
    EXPECT_EQ(res.ProblemCode(), c.code);
    EXPECT_TRUE(conn.WaitForClose(std::chrono::seconds(10)));
  }
  ExpectNothingStored();
}

// A malformed header gets its 400 the same way: the body the client goes on sending is read
// and dropped, so the answer is not lost to a reset.
TEST_P(HttpUploadLimitTest, AMalformedRequestIsAnsweredToAClientStillSending) {
  PV_ASSERT_OK_AND_ASSIGN(Connection conn, Connection::Open(port()));
  const std::string head =
      "POST /api/v1/assets/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: twelve\r\n\r\n";
  EXPECT_TRUE(conn.Send(head + std::string(24 << 20, 'x')).has_value())
      << "the server reset the connection";
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, conn.Read());
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(res.ProblemCode(), "bad_request");
  EXPECT_TRUE(conn.WaitForClose(std::chrono::seconds(10)));
  ExpectNothingStored();
}

// What the server reads after such a refusal is bounded (64 MiB): a client that announces
// 1 GiB and keeps sending is cut off, it does not hold the connection for the whole body.
TEST_P(HttpUploadLimitTest, AClientSendingOnAfterARefusalIsCutOff) {
  PV_ASSERT_OK_AND_ASSIGN(Connection conn, Connection::Open(port()));
  HttpRequest req{"POST", "/api/v1/assets/upload", {}, "", std::int64_t{1} << 30};
  ASSERT_TRUE(conn.Send(req.Serialize()).has_value());
  const std::string chunk(8 << 20, 'x');
  int sent = 0;
  while (sent < 32 && conn.Send(chunk).has_value()) ++sent;  // 256 MiB at most
  EXPECT_LT(sent, 32) << "the server read 256 MiB of a refused request";
  EXPECT_GE(sent, 4) << "the server stopped reading before its bound";
}

PV_INSTANTIATE_STORE_TEST(HttpUploadTest);
PV_INSTANTIATE_STORE_TEST(HttpUploadLimitTest);

}  // namespace
}  // namespace pixvault::http::testing
