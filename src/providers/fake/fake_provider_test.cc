#include "providers/fake/fake_provider.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "http/http_client.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::providers::fake {
namespace {

namespace json = boost::json;
using http::testing::Connection;
using http::testing::HttpRequest;
using http::testing::HttpResponse;

constexpr const char* kAlice = "token-alice";
constexpr const char* kBob = "token-bob";

// A FakeProvider on a free port with two accounts (alice, bob) and a manual clock.
class FakeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeProviderOptions options;
    options.data_dir = dir_.path() / "data";
    options.tokens = {kAlice, kBob};
    options.clock = &clock_;
    provider_ = std::make_unique<FakeProvider>(options);
    ASSERT_TRUE(provider_->Start());
  }
  void TearDown() override { provider_->Stop(); }

  HttpResponse Call(std::string method, std::string target, const char* token,
                    std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.headers = std::move(headers);
    if (token) req.headers.emplace_back("Authorization", std::string("Bearer ") + token);
    auto res = http::testing::Fetch(provider_->port(), req);
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : HttpResponse{};
  }
  static json::object Json(const HttpResponse& res) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body, ec);
    EXPECT_FALSE(ec) << res.body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  static std::string Str(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
  // Uploads `bytes` as `token`; the new ref's id.
  std::string Upload(const std::string& bytes, const char* token = kAlice,
                     std::string content_type = "application/octet-stream") {
    auto res = Call("POST", "/v1/files", token, bytes, {{"Content-Type", content_type}});
    EXPECT_EQ(res.status, 201) << res.body;
    return Str(Json(res), "id");
  }
  void Control(const std::string& body) {
    auto res = Call("POST", "/_control", nullptr, body);
    ASSERT_EQ(res.status, 200) << res.body;
  }
  // Polls a generation until it leaves queued/running (at most a minute).
  json::object WaitForJob(const std::string& id, const char* token = kAlice) {
    json::object job;
    for (int i = 0; i < 600; ++i) {
      job = Json(Call("GET", "/v1/generations/" + id, token));
      const std::string status = Str(job, "status");
      if (status != "queued" && status != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return job;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<FakeProvider> provider_;
};

std::string Pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 256);
  return s;
}

TEST_F(FakeProviderTest, UploadDownloadRangeAndDeleteRoundTrip) {
  const std::string bytes = Pattern(300'000);
  auto up = Call("POST", "/v1/files", kAlice, bytes, {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(up.status, 201) << up.body;
  json::object ref = Json(up);
  const std::string id = Str(ref, "id");
  EXPECT_TRUE(id.starts_with("file_"));
  EXPECT_EQ(Str(ref, "url"), provider_->base_url() + "/v1/files/" + id + "/content");
  EXPECT_TRUE(ref.at("expires_at").is_null());

  auto meta = Json(Call("GET", "/v1/files/" + id, kAlice));
  EXPECT_EQ(Str(meta, "content_type"), "video/mp4");
  EXPECT_EQ(meta.at("size").as_int64(), 300'000);

  auto full = Call("GET", "/v1/files/" + id + "/content", kAlice);
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(full.body, bytes);
  EXPECT_EQ(full.Header("Content-Type").value_or(""), "video/mp4");

  // Resuming a download: the rest from an offset, a closed range, a suffix.
  auto rest = Call("GET", "/v1/files/" + id + "/content", kAlice, "", {{"Range", "bytes=1000-"}});
  EXPECT_EQ(rest.status, 206);
  EXPECT_EQ(rest.body, bytes.substr(1000));
  EXPECT_EQ(rest.Header("Content-Range").value_or(""), "bytes 1000-299999/300000");
  auto mid = Call("GET", "/v1/files/" + id + "/content", kAlice, "", {{"Range", "bytes=10-19"}});
  EXPECT_EQ(mid.status, 206);
  EXPECT_EQ(mid.body, bytes.substr(10, 10));
  auto tail = Call("GET", "/v1/files/" + id + "/content", kAlice, "", {{"Range", "bytes=-5"}});
  EXPECT_EQ(tail.body, bytes.substr(bytes.size() - 5));
  auto beyond =
      Call("GET", "/v1/files/" + id + "/content", kAlice, "", {{"Range", "bytes=400000-"}});
  EXPECT_EQ(beyond.status, 416);

  EXPECT_EQ(Call("DELETE", "/v1/files/" + id, kAlice).status, 204);
  auto gone = Call("GET", "/v1/files/" + id, kAlice);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Str(Json(gone), "error"), "unknown ref");
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).status, 404);

  Stats stats = provider_->stats();
  EXPECT_EQ(stats.total.uploads, 1);
  EXPECT_EQ(stats.accounts["account_1"].downloads, 4);  // the 416 and the 404 are not
  EXPECT_EQ(stats.accounts["account_1"].download_requests, 6);
  EXPECT_EQ(stats.accounts["account_1"].download_bytes, 300'000 + 299'000 + 10 + 5);
  EXPECT_EQ(stats.accounts["account_2"].download_requests, 0);
  EXPECT_EQ(stats.total.deletes, 1);
}

TEST_F(FakeProviderTest, RefsBelongToTheAccountThatUploadedThem) {
  const std::string id = Upload("alice's bytes");
  for (const std::string& target : {"/v1/files/" + id, "/v1/files/" + id + "/content"}) {
    auto other = Call("GET", target, kBob);
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(Str(Json(other), "error"), "unknown ref");
    EXPECT_EQ(Call("GET", target, nullptr).status, 401);
    EXPECT_EQ(Call("GET", target, "not-a-token").status, 401);
  }
  EXPECT_EQ(Call("DELETE", "/v1/files/" + id, kBob).status, 404);
  EXPECT_EQ(Call("POST", "/v1/files", nullptr, "x").status, 401);
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).body, "alice's bytes");
  Stats stats = provider_->stats();
  EXPECT_EQ(stats.accounts["account_1"].uploads, 1);
  EXPECT_EQ(stats.accounts["account_2"].uploads, 0);
}

TEST_F(FakeProviderTest, AnIdempotencyKeyStoresAnUploadOnce) {
  const auto upload = [&](const char* token, const std::string& key, const std::string& bytes) {
    return Call("POST", "/v1/files", token, bytes, {{"Idempotency-Key", key}});
  };
  // The answer of the first upload is lost; the resend under its key gets the stored file.
  Control(R"({"lose_next_n_uploads": 1})");
  EXPECT_EQ(upload(kAlice, "up-1", "same bytes").status, 504);
  auto resent = upload(kAlice, "up-1", "same bytes");
  ASSERT_EQ(resent.status, 200) << resent.body;
  const std::string id = Str(Json(resent), "id");
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).body, "same bytes");
  // Another size under the key is refused; another account's key is its own.
  EXPECT_EQ(upload(kAlice, "up-1", "other, longer bytes").status, 422);
  auto bobs = upload(kBob, "up-1", "same bytes");
  ASSERT_EQ(bobs.status, 201) << bobs.body;
  EXPECT_NE(Str(Json(bobs), "id"), id);
  // Once its file is deleted, the key stores again.
  EXPECT_EQ(Call("DELETE", "/v1/files/" + id, kAlice).status, 204);
  auto again = upload(kAlice, "up-1", "same bytes");
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_NE(Str(Json(again), "id"), id);
  EXPECT_EQ(upload(kAlice, "", "x").status, 400);
  EXPECT_EQ(upload(kAlice, "tab\tkey", "x").status, 400);
  Stats stats = provider_->stats();
  EXPECT_EQ(stats.accounts["account_1"].uploads, 2);
  EXPECT_EQ(stats.accounts["account_1"].replayed_uploads, 1);
  EXPECT_EQ(stats.accounts["account_2"].uploads, 1);
}

TEST_F(FakeProviderTest, RefsExpireAfterTheirTtl) {
  const std::string forever = Upload("kept");
  Control(R"({"ref_ttl_s": 60})");
  auto up = Call("POST", "/v1/files", kAlice, "short-lived");
  ASSERT_EQ(up.status, 201);
  json::object ref = Json(up);
  EXPECT_EQ(ref.at("expires_at").as_int64(), clock_.Now() / kMicrosPerSecond + 60);
  const std::string id = Str(ref, "id");
  clock_.Advance(59 * kMicrosPerSecond);
  EXPECT_EQ(Call("GET", "/v1/files/" + id, kAlice).status, 200);
  clock_.Advance(1 * kMicrosPerSecond);
  EXPECT_EQ(Call("GET", "/v1/files/" + id, kAlice).status, 404);
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).status, 404);
  EXPECT_EQ(Call("GET", "/v1/files/" + forever, kAlice).status, 200);

  // expire_refs ends every existing ref at once.
  Control(R"({"expire_refs": true})");
  EXPECT_EQ(Call("GET", "/v1/files/" + forever, kAlice).status, 404);
}

TEST_F(FakeProviderTest, ContentAnswers404UntilTheCdnDelayHasPassed) {
  Control(R"({"cdn_delay_ms": 5000})");
  const std::string id = Upload("propagating");
  EXPECT_EQ(Call("GET", "/v1/files/" + id, kAlice).status, 200);  // metadata is there
  auto early = Call("GET", "/v1/files/" + id + "/content", kAlice);
  EXPECT_EQ(early.status, 404);
  clock_.Advance(4999 * 1000);
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).status, 404);
  clock_.Advance(1000);
  auto ready = Call("GET", "/v1/files/" + id + "/content", kAlice);
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "propagating");
}

TEST_F(FakeProviderTest, FailureBurstAnswersTheGivenStatusNTimes) {
  const std::string id = Upload("x");
  Control(R"({"fail_next_n": 3, "fail_status": 502})");
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) statuses.push_back(Call("GET", "/v1/files/" + id, kAlice).status);
  EXPECT_EQ(statuses, (std::vector<int>{502, 502, 502, 200, 200}));
  EXPECT_EQ(provider_->stats().failures_injected, 3);
  // Uploads fail too (fail_status is kept until changed), and a failed upload stores nothing.
  Control(R"({"fail_next_n": 1})");
  EXPECT_EQ(Call("POST", "/v1/files", kAlice, "y").status, 502);
  Stats stats = provider_->stats();
  EXPECT_EQ(stats.total.uploads, 1);
  EXPECT_EQ(stats.total.upload_requests, 2);  // the failed one was received
  EXPECT_EQ(stats.total.upload_bytes, 1);
}

TEST_F(FakeProviderTest, FailOnlyLimitsTheBurstToOneRoute) {
  const std::string id = Upload("abc");
  Control(R"({"fail_next_n": 2, "fail_only": "upload"})");
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).status, 200);
  EXPECT_EQ(Call("POST", "/v1/files", kAlice, "d").status, 503);
  EXPECT_EQ(Call("GET", "/v1/files/" + id, kAlice).status, 200);
  EXPECT_EQ(Call("POST", "/v1/files", kAlice, "e").status, 503);
  EXPECT_EQ(Call("POST", "/v1/files", kAlice, "f").status, 201);
  EXPECT_EQ(Call("POST", "/_control", nullptr, R"({"fail_only": "teapot"})").status, 400);
}

TEST_F(FakeProviderTest, ModeratedUploadIsRejectedOnce) {
  Control(R"({"moderate_next_n": 1})");
  auto rejected = Call("POST", "/v1/files", kAlice, "forbidden");
  EXPECT_EQ(rejected.status, 422);
  EXPECT_EQ(Str(Json(rejected), "error"), "moderated");
  Upload("fine");
  Stats stats = provider_->stats();
  EXPECT_EQ(stats.total.upload_requests, 2);
  EXPECT_EQ(stats.total.uploads, 1);
}

TEST_F(FakeProviderTest, HungRequestsAreAnsweredOnlyAfterReset) {
  const std::string id = Upload("x");
  FaultSettings hang;
  hang.hang = true;
  provider_->faults().Set(hang);
  auto conn = Connection::Open(provider_->port(), std::chrono::milliseconds(300));
  ASSERT_TRUE(conn);
  HttpRequest req;
  req.target = "/v1/files/" + id;
  req.headers = {{"Authorization", std::string("Bearer ") + kAlice}};
  auto hung = conn->RoundTrip(req);
  EXPECT_FALSE(hung);  // the client gives up
  provider_->faults().Reset();
  conn->set_timeout(std::chrono::seconds(20));
  auto late = conn->Read();  // the held request is answered after the reset
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 200);
  EXPECT_EQ(Call("GET", "/v1/files/" + id, kAlice).status, 200);
}

TEST_F(FakeProviderTest, LatencyDelaysButAnswers) {
  Control(R"({"latency_ms": 50})");
  const std::string id = Upload("slow");
  EXPECT_EQ(Call("GET", "/v1/files/" + id + "/content", kAlice).body, "slow");
  auto settings = Json(Call("GET", "/_control", nullptr));
  EXPECT_EQ(settings.at("latency_ms").as_int64(), 50);
  Control(R"({"reset": true})");
  EXPECT_EQ(Json(Call("GET", "/_control", nullptr)).at("latency_ms").as_int64(), 0);
}

TEST_F(FakeProviderTest, BadInputsAreAnswered4xxJson) {
  const std::string bob_ref = Upload("bob's", kBob);
  struct Case {
    std::string method, target, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/generations", "{not json", 400},
      {"POST", "/v1/generations", "[1,2]", 400},
      {"POST", "/v1/generations", R"({"params":{}})", 400},
      {"POST", "/v1/generations", R"({"operation":"make_coffee"})", 400},
      {"POST", "/v1/generations", R"({"operation":"image_to_video"})", 400},
      {"POST", "/v1/generations",
       R"({"operation":"image_to_video","params":{"image_ref":")" + bob_ref + R"("}})", 400},
      {"POST", "/v1/generations", R"({"operation":"text_to_video","params":{"width":7}})", 400},
      {"POST", "/v1/generations", R"({"operation":"text_to_video","params":{"duration_s":1e9}})",
       400},
      {"POST", "/v1/generations", R"({"operation":"text_to_video","params":"x"})", 400},
      {"POST", "/v1/generations",
       R"({"operation":"text_to_video","params":{"style_refs":[")" + bob_ref + R"("]}})", 400},
      {"POST", "/v1/generations", R"({"operation":"text_to_video","params":{"style_refs":"x"}})",
       400},
      {"GET", "/v1/generations/gen_999", "", 404},
      {"GET", "/v1/files/nope", "", 404},
      {"GET", "/v1/files/%2e%2e", "", 400},
      {"POST", "/_control", "{", 400},
      {"POST", "/_control", R"({"latency_ms":-1})", 400},
      {"POST", "/_control", R"({"warp_drive":1})", 400},
      {"GET", "/v2/whatever", "", 404},
  };
  for (const auto& c : cases) {
    auto res = Call(c.method, c.target, kAlice, c.body);
    EXPECT_EQ(res.status, c.status) << c.method << " " << c.target << " " << c.body;
    boost::system::error_code ec;
    EXPECT_TRUE(json::parse(res.body, ec).is_object()) << res.body;
  }
  // A huge announced body is refused before it is read.
  HttpRequest huge;
  huge.method = "POST";
  huge.target = "/v1/files";
  huge.headers = {{"Authorization", std::string("Bearer ") + kAlice}};
  huge.content_length = std::int64_t{1} << 40;
  huge.body = "abc";
  auto res = http::testing::Fetch(provider_->port(), huge);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(provider_->stats().total.generations, 0);
  EXPECT_EQ(Call("GET", "/_stats", nullptr).status, 200);  // still serving
}

TEST_F(FakeProviderTest, ConcurrentUploadsAreCountedExactly) {
  constexpr int kThreads = 32;
  std::vector<std::thread> threads;
  std::vector<int> statuses(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      HttpRequest req;
      req.method = "POST";
      req.target = "/v1/files";
      req.body = Pattern(10'000 + static_cast<std::size_t>(i));
      req.headers = {{"Authorization", std::string("Bearer ") + (i % 2 ? kBob : kAlice)}};
      auto res = http::testing::Fetch(provider_->port(), req);
      statuses[static_cast<std::size_t>(i)] = res ? res->status : 0;
    });
  }
  for (auto& t : threads) t.join();
  for (int s : statuses) EXPECT_EQ(s, 201);
  auto stats = Json(Call("GET", "/_stats", nullptr));
  EXPECT_EQ(stats.at("uploads").as_int64(), kThreads);
  EXPECT_EQ(stats.at("accounts").at("account_1").at("uploads").as_int64(), kThreads / 2);
  EXPECT_EQ(stats.at("accounts").at("account_2").at("uploads").as_int64(), kThreads / 2);
}

class FakeProviderGenerationTest : public FakeProviderTest {
 protected:
  void SetUp() override {
    if (media::testing::RunFfmpeg("-version") == std::nullopt) GTEST_SKIP() << "no ffmpeg";
    FakeProviderTest::SetUp();
  }
  // Submits, waits, downloads the single output; the saved file (empty path on failure).
  std::filesystem::path Generate(const std::string& body, const std::string& name) {
    auto submitted = Call("POST", "/v1/generations", kAlice, body);
    EXPECT_EQ(submitted.status, 202) << submitted.body;
    json::object ack = Json(submitted);
    EXPECT_EQ(Str(ack, "status"), "queued");
    json::object job = WaitForJob(Str(ack, "id"));
    EXPECT_EQ(Str(job, "status"), "succeeded") << json::serialize(job);
    if (Str(job, "status") != "succeeded") return {};
    const json::array& outputs = job.at("outputs").as_array();
    EXPECT_EQ(outputs.size(), 1u);
    const std::string url = Str(outputs.at(0).as_object(), "url");
    const std::string prefix = provider_->base_url();
    EXPECT_TRUE(url.starts_with(prefix)) << url;
    auto content = Call("GET", url.substr(prefix.size()), kAlice);
    EXPECT_EQ(content.status, 200);
    testing::WriteFile(dir_ / name, content.body);
    return dir_ / name;
  }
  // ffprobe's "codec_type,width,height" lines for the file's streams.
  static std::string Probe(const std::filesystem::path& path) {
    std::string out;
    const std::string cmd =
        "ffprobe -v error -show_entries stream=codec_type,width,height -of "
        "csv=p=0 '" +
        path.string() + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return "";
    char buf[256];
    while (std::fgets(buf, sizeof(buf), p)) out += buf;
    pclose(p);
    return out;
  }
  // Decodes every frame: nullopt when ffmpeg finds the file broken.
  static bool Decodes(const std::filesystem::path& path) {
    return media::testing::RunFfmpeg("-v error -xerror -i '" + path.string() + "' -f null -")
        .has_value();
  }
};

TEST_F(FakeProviderGenerationTest, TextToVideoMakesADecodableMp4) {
  auto mp4 = Generate(R"({"operation":"text_to_video","params":{"prompt":"a cat"}})", "t2v.mp4");
  ASSERT_FALSE(mp4.empty());
  EXPECT_TRUE(Decodes(mp4));
  const std::string streams = Probe(mp4);
  EXPECT_NE(streams.find("video,64,64"), std::string::npos) << streams;
  EXPECT_NE(streams.find("audio"), std::string::npos) << streams;
  EXPECT_EQ(provider_->stats().total.generations, 1);
}

TEST_F(FakeProviderGenerationTest, ImageToVideoAndVideoExtendUseTheirInputs) {
  auto png =
      Generate(R"({"operation":"text_to_image","params":{"width":96,"height":48}})", "t2i.png");
  ASSERT_FALSE(png.empty());
  EXPECT_NE(Probe(png).find("video,96,48"), std::string::npos) << Probe(png);

  const std::string image_ref = Upload(testing::ReadFile(png), kAlice, "image/png");
  auto clip = Generate(R"({"operation":"image_to_video","params":{"image_ref":")" + image_ref +
                           R"(","width":32,"height":32}})",
                       "i2v.mp4");
  ASSERT_FALSE(clip.empty());
  EXPECT_TRUE(Decodes(clip));
  EXPECT_NE(Probe(clip).find("video,32,32"), std::string::npos) << Probe(clip);

  const std::string video_ref = Upload(testing::ReadFile(clip), kAlice, "video/mp4");
  auto longer = Generate(R"({"operation":"video_extend","params":{"video_ref":")" + video_ref +
                             R"(","width":32,"height":32}})",
                         "extend.mp4");
  ASSERT_FALSE(longer.empty());
  EXPECT_TRUE(Decodes(longer));
}

TEST_F(FakeProviderGenerationTest, DelayedJobIsSeenRunning) {
  Control(R"({"generation_delay_ms": 60000})");
  auto submitted = Call("POST", "/v1/generations", kAlice, R"({"operation":"text_to_image"})");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(Json(submitted), "id");
  std::string status;
  for (int i = 0; i < 600 && status != "running"; ++i) {
    status = Str(Json(Call("GET", "/v1/generations/" + id, kAlice)), "status");
    if (status != "running") std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, "running");
  // Stopping the provider ends the wait (TearDown would hang for a minute otherwise).
}

TEST_F(FakeProviderGenerationTest, CanceledJobsEndWithoutOutputs) {
  Control(R"({"generation_delay_ms": 60000})");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {  // two running (two workers), one queued
    auto submitted = Call("POST", "/v1/generations", kAlice, R"({"operation":"text_to_image"})");
    ASSERT_EQ(submitted.status, 202);
    ids.push_back(Str(Json(submitted), "id"));
  }
  EXPECT_EQ(Call("DELETE", "/v1/generations/" + ids[0], kBob).status, 404);
  for (const auto& id : ids) {
    auto canceled = Call("DELETE", "/v1/generations/" + id, kAlice);
    EXPECT_EQ(canceled.status, 200) << canceled.body;
    EXPECT_EQ(Str(Json(canceled), "status"), "canceled");
  }
  Control(R"({"generation_delay_ms": 0})");
  auto done = Call("POST", "/v1/generations", kAlice, R"({"operation":"text_to_image"})");
  json::object job = WaitForJob(Str(Json(done), "id"));
  EXPECT_EQ(Str(job, "status"), "succeeded");  // the workers are free again
  for (const auto& id : ids) {
    json::object c = Json(Call("GET", "/v1/generations/" + id, kAlice));
    EXPECT_EQ(Str(c, "status"), "canceled");
    EXPECT_TRUE(c.at("outputs").as_array().empty());
  }
  EXPECT_EQ(Call("DELETE", "/v1/generations/" + ids[0], kAlice).status, 409);
}

TEST_F(FakeProviderGenerationTest, InjectedAndFfmpegFailuresEndTheJobFailed) {
  Control(R"({"fail_generations": 1})");
  auto submitted = Call("POST", "/v1/generations", kAlice, R"({"operation":"text_to_video"})");
  ASSERT_EQ(submitted.status, 202);
  json::object job = WaitForJob(Str(Json(submitted), "id"));
  EXPECT_EQ(Str(job, "status"), "failed");
  EXPECT_FALSE(job.at("error").is_null());
  EXPECT_TRUE(job.at("outputs").as_array().empty());

  // An input that is not a picture: ffmpeg fails, the job says so.
  const std::string junk = Upload("not an image");
  submitted = Call("POST", "/v1/generations", kAlice,
                   R"({"operation":"image_to_video","params":{"image_ref":")" + junk + R"("}})");
  ASSERT_EQ(submitted.status, 202);
  job = WaitForJob(Str(Json(submitted), "id"));
  EXPECT_EQ(Str(job, "status"), "failed");

  // Jobs are scoped to their account too.
  EXPECT_EQ(Call("GET", "/v1/generations/" + Str(job, "id"), kBob).status, 404);
}

TEST_F(FakeProviderGenerationTest, AnIdempotencyKeyMakesOneJobPerSubmission) {
  Control(R"({"generation_delay_ms": 60000})");  // the jobs stay put; only their ids matter
  const std::string body = R"({"operation":"text_to_image","params":{"width":32}})";
  const auto submit = [&](const char* token, const std::string& key, const std::string& b) {
    return Call("POST", "/v1/generations", token, b, {{"Idempotency-Key", key}});
  };
  auto first = submit(kAlice, "key-1", body);
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string id = Str(Json(first), "id");
  // The same submission again: the same job, answered as it is now; nothing new runs.
  auto again = submit(kAlice, "key-1", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Str(Json(again), "id"), id);
  EXPECT_EQ(Str(Json(again), "operation"), "text_to_image");
  // The key with another request is refused; another key, or the key of another account,
  // is another submission.
  EXPECT_EQ(submit(kAlice, "key-1", R"({"operation":"text_to_video"})").status, 422);
  auto other_key = submit(kAlice, "key-2", body);
  ASSERT_EQ(other_key.status, 202) << other_key.body;
  auto bobs = submit(kBob, "key-1", body);
  ASSERT_EQ(bobs.status, 202) << bobs.body;
  EXPECT_NE(Str(Json(other_key), "id"), id);
  EXPECT_NE(Str(Json(bobs), "id"), id);
  // Without a key every submission is a job.
  ASSERT_EQ(Call("POST", "/v1/generations", kAlice, body).status, 202);
  ASSERT_EQ(Call("POST", "/v1/generations", kAlice, body).status, 202);
  // A key must be visible ASCII, at most 255 characters.
  EXPECT_EQ(submit(kAlice, "two words", body).status, 400);
  EXPECT_EQ(submit(kAlice, std::string(256, 'k'), body).status, 400);
  const Stats stats = provider_->stats();
  EXPECT_EQ(stats.accounts.at("account_1").generations, 4);
  EXPECT_EQ(stats.accounts.at("account_1").replayed_submits, 1);
  EXPECT_EQ(stats.accounts.at("account_2").generations, 1);
}

TEST_F(FakeProviderGenerationTest, ALostSubmitAnswerStillMakesTheJob) {
  Control(R"({"lose_next_n_submits": 1})");
  const std::string body = R"({"operation":"text_to_image"})";
  auto lost = Call("POST", "/v1/generations", kAlice, body, {{"Idempotency-Key", "k"}});
  EXPECT_EQ(lost.status, 504) << lost.body;
  EXPECT_EQ(provider_->stats().total.generations, 1);
  // The retry learns the job's id from its key, and the job has run.
  auto retry = Call("POST", "/v1/generations", kAlice, body, {{"Idempotency-Key", "k"}});
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Str(WaitForJob(Str(Json(retry), "id")), "status"), "succeeded");
  EXPECT_EQ(provider_->stats().total.generations, 1);
  // Only the next one was lost.
  EXPECT_EQ(Call("POST", "/v1/generations", kAlice, body).status, 202);
}

}  // namespace
}  // namespace pixvault::providers::fake
