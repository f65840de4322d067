// Media analysis through the API: POST /assets/{id}/analyze queues a job, the job runs the
// steps, GET /assets/{id}/analysis shows them, thumbnails and previews are served (and rendered
// on request when missing), near duplicates come from the perceptual-hash index; the job
// routes; and what happens to bad input and to other users' ids.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include <boost/json.hpp>

#include "core/sha256.h"
#include "http/http_fixture.h"
#include "media/thumbnail_test_util.h"
#include "service/analysis.h"
#include "service/worker_pool.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;

class HttpAnalysisTest : public HttpTest {
 protected:
  void SetUp() override {
    HttpTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (MediaBytes("picture.png").empty()) GTEST_SKIP() << "ffmpeg cannot generate test media";
    service::WorkerPoolOptions options;
    options.kinds = {std::string(service::kAnalyzeJobKind)};
    pool_ = std::make_unique<service::WorkerPool>(*store_, system_clock_, options);
    service::RegisterAnalysisJob(*pool_, *analyzer_);
  }
  void TearDown() override {
    pool_.reset();
    HttpTest::TearDown();
  }

  // Runs every runnable job on this thread; returns how many ran.
  int RunJobs() {
    int n = 0;
    while (pool_->RunOnce()) ++n;
    return n;
  }
  std::string Path(std::int64_t id, std::string_view what) {
    return AssetPath(id) + "/" + std::string(what);
  }
  json::value Analyze(std::string_view key, std::int64_t id, std::string body = {}) {
    HttpResponse res = Call("POST", Path(id, "analyze"), key, std::move(body),
                            {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, 202) << res.body;
    return ParseJson(res.body);
  }
  // The analysis document's record of `step` (null when absent).
  json::value Step(std::string_view key, std::int64_t id, std::string_view step) {
    HttpResponse res = Call("GET", Path(id, "analysis"), key);
    EXPECT_EQ(res.status, 200) << res.body;
    const json::value doc = ParseJson(res.body);
    for (const json::value& s : doc.at("steps").as_array()) {
      if (s.at("step").as_string() == step) return s;
    }
    return nullptr;
  }

  std::unique_ptr<service::WorkerPool> pool_;
};

bool IsWebp(std::string_view b) {
  return b.size() > 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP";
}

TEST_P(HttpAnalysisTest, AnalyzeQueuesAJobThatRecordsEveryStepAndServesThePictures) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  ASSERT_NE(id, 0);
  RunJobs();  // the job queued at ingest
  json::value job = Analyze(alice_key_, id, R"({"force": true})");
  const std::int64_t job_id = job.at("id").to_number<std::int64_t>();
  EXPECT_EQ(job.at("status").as_string(), "queued");
  EXPECT_EQ(job.at("kind").as_string(), "analyze");
  EXPECT_EQ(job.at("payload").at("asset_id").to_number<std::int64_t>(), id);

  HttpResponse queued = Call("GET", "/api/v1/jobs/" + std::to_string(job_id), alice_key_);
  ASSERT_EQ(queued.status, 200) << queued.body;
  EXPECT_EQ(ParseJson(queued.body).at("status").as_string(), "queued");
  // Another user's job is as unknown as a job that does not exist.
  EXPECT_EQ(Call("GET", "/api/v1/jobs/" + std::to_string(job_id), bob_key_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/999999", alice_key_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/" + std::to_string(job_id), admin_key_).status, 200);

  EXPECT_EQ(RunJobs(), 1);
  HttpResponse done = Call("GET", "/api/v1/jobs/" + std::to_string(job_id), alice_key_);
  json::value done_json = ParseJson(done.body);
  EXPECT_EQ(done_json.at("status").as_string(), "succeeded") << done.body;
  EXPECT_EQ(done_json.at("result").at("steps").at("thumbnail").at("state").as_string(), "done");

  json::value probe = Step(alice_key_, id, "probe");
  ASSERT_TRUE(probe.is_object());
  EXPECT_EQ(probe.at("status").as_string(), "done");
  EXPECT_EQ(probe.at("result").at("width").to_number<int>(), 640);
  EXPECT_EQ(probe.at("result").at("height").to_number<int>(), 480);
  EXPECT_FALSE(probe.at("stale").as_bool());
  json::value thumb = Step(alice_key_, id, "thumbnail");
  ASSERT_TRUE(thumb.is_object());
  EXPECT_EQ(thumb.at("status").as_string(), "done");
  EXPECT_EQ(thumb.at("result").at("thumbnail").at("width").to_number<int>(), 320);
  EXPECT_EQ(thumb.at("result").at("thumbnail").at("height").to_number<int>(), 240);
  EXPECT_EQ(thumb.at("result").at("phash").as_string().size(), 16u);

  HttpResponse t = Call("GET", Path(id, "thumbnail"), alice_key_);
  ASSERT_EQ(t.status, 200);
  EXPECT_EQ(t.Header("Content-Type").value_or(""), "image/webp");
  EXPECT_TRUE(IsWebp(t.body));
  EXPECT_EQ(static_cast<std::int64_t>(t.body.size()),
            thumb.at("result").at("thumbnail").at("bytes").to_number<std::int64_t>());
  const std::string etag = t.Header("ETag").value_or("");
  ASSERT_FALSE(etag.empty());
  HttpResponse again =
      Call("GET", Path(id, "thumbnail"), alice_key_, {}, {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  HttpResponse p = Call("GET", Path(id, "preview"), alice_key_);
  ASSERT_EQ(p.status, 200);
  EXPECT_TRUE(IsWebp(p.body));
  EXPECT_NE(p.Header("ETag").value_or(""), etag);
  // Up-to-date steps are not run again without force.
  Analyze(alice_key_, id);
  RunJobs();
  EXPECT_EQ(Step(alice_key_, id, "thumbnail").at("updated_at"), thumb.at("updated_at"));
}

TEST_P(HttpAnalysisTest, ThumbnailIsRenderedOnRequestWhenMissing) {
  const std::int64_t id = UploadMedia(alice_key_, "image_large.jpeg");
  ASSERT_NE(id, 0);
  // No job ran: nothing is rendered yet.
  HttpResponse t = Call("GET", Path(id, "thumbnail"), alice_key_);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_TRUE(IsWebp(t.body));
  // And it was kept: the derived file exists now.
  json::value asset = GetJson(alice_key_, id);
  auto path = derived_->PathFor(std::string(asset.at("sha256").as_string()), "thumb-320.webp");
  ASSERT_TRUE(path);
  EXPECT_TRUE(std::filesystem::exists(*path));
}

TEST_P(HttpAnalysisTest, RenditionsGoWithTheLastAssetOfTheirBytes) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  const std::int64_t bobs = UploadMedia(bob_key_, "picture.png");  // the same bytes
  ASSERT_TRUE(id && bobs);
  RunJobs();
  const std::string sha(GetJson(alice_key_, id).at("sha256").as_string());
  auto thumb = derived_->PathFor(sha, "thumb-320.webp");
  ASSERT_TRUE(thumb);
  ASSERT_TRUE(std::filesystem::exists(*thumb));
  ASSERT_EQ(Call("DELETE", AssetPath(id), alice_key_).status, 204);
  EXPECT_TRUE(std::filesystem::exists(*thumb));  // bob's asset still uses the bytes
  EXPECT_EQ(Call("GET", Path(bobs, "thumbnail"), bob_key_).status, 200);
  ASSERT_EQ(Call("DELETE", AssetPath(bobs), bob_key_).status, 204);
  EXPECT_FALSE(std::filesystem::exists(*thumb));
  EXPECT_FALSE(std::filesystem::exists(*derived_->PathFor(sha, "preview-1280.webp")));
}

TEST_P(HttpAnalysisTest, OtherUsersAndUnknownIdsAreNotFoundOnEveryRoute) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  ASSERT_NE(id, 0);
  RunJobs();
  for (std::string what : {"analysis", "thumbnail", "preview", "near-duplicates"}) {
    EXPECT_EQ(Call("GET", Path(id, what), bob_key_).status, 404) << what;
    EXPECT_EQ(Call("GET", Path(999999, what), alice_key_).status, 404) << what;
    EXPECT_EQ(Call("GET", "/api/v1/assets/abc/" + what, alice_key_).status, 404) << what;
    EXPECT_EQ(Call("GET", Path(id, what)).status, 401) << what;
  }
  EXPECT_EQ(Call("POST", Path(id, "analyze"), bob_key_).status, 404);
  EXPECT_EQ(Call("POST", Path(999999, "analyze"), alice_key_).status, 404);
  // Admins see everything.
  EXPECT_EQ(Call("GET", Path(id, "thumbnail"), admin_key_).status, 200);
}

TEST_P(HttpAnalysisTest, MalformedAnalyzeRequestsAre400AndQueueNothing) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  ASSERT_NE(id, 0);
  RunJobs();
  for (std::string body : {R"({"steps": ["probe", "nope"]})", R"({"steps": "probe"})",
                           R"({"force": "yes"})", R"({"unknown": 1})", "{", "[1]", "null"}) {
    HttpResponse res =
        Call("POST", Path(id, "analyze"), alice_key_, body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, 400) << body << " -> " << res.body;
  }
  EXPECT_EQ(RunJobs(), 0);
  // A request for one step runs only that step.
  Analyze(alice_key_, id, R"({"steps": ["probe"], "force": true})");
  json::value before = Step(alice_key_, id, "thumbnail");
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(Step(alice_key_, id, "thumbnail").at("updated_at"), before.at("updated_at"));
}

TEST_P(HttpAnalysisTest, NearDuplicatesFindsReencodedCopiesOnlyAmongVisibleAssets) {
  const std::int64_t original = UploadMedia(alice_key_, "picture.png");
  const std::int64_t jpeg = UploadMedia(alice_key_, "picture_q60.jpeg");
  const std::int64_t half = UploadMedia(alice_key_, "picture_half.png");
  const std::int64_t other = UploadMedia(alice_key_, "mandelbrot.png");
  const std::int64_t bobs = UploadMedia(bob_key_, "picture_bright.png");
  ASSERT_TRUE(original && jpeg && half && other && bobs);
  // Not analysed yet: there is no hash to compare.
  HttpResponse early = Call("GET", Path(original, "near-duplicates"), alice_key_);
  EXPECT_EQ(early.status, 404);
  EXPECT_NE(early.body.find("not analysed"), std::string::npos) << early.body;

  RunJobs();
  HttpResponse res = Call("GET", Path(original, "near-duplicates"), alice_key_);
  ASSERT_EQ(res.status, 200) << res.body;
  std::vector<std::int64_t> found;
  int last_distance = -1;
  const json::value listed = ParseJson(res.body);
  for (const json::value& item : listed.at("items").as_array()) {
    found.push_back(item.at("asset").at("id").to_number<std::int64_t>());
    const int d = item.at("distance").to_number<int>();
    EXPECT_LE(d, 6);
    EXPECT_GE(d, last_distance);  // nearest first
    last_distance = d;
  }
  EXPECT_EQ(Sorted(found), Sorted({jpeg, half}));  // not itself, not mandelbrot, not bob's
  EXPECT_TRUE(listed.at("complete").as_bool());
  // Past the cap on candidates compared, the answer says it is incomplete: here only the
  // candidate of lowest id (the JPEG) is compared.
  PV_ASSERT_OK_AND_ASSIGN(
      service::NearDuplicateSearch capped,
      service::FindNearDuplicates(*store_, Viewer::For(alice_), original, 6, 50, 1));
  EXPECT_FALSE(capped.complete);
  ASSERT_EQ(capped.items.size(), 1u);
  EXPECT_EQ(capped.items[0].asset_id, jpeg);
  PV_ASSERT_OK_AND_ASSIGN(
      service::NearDuplicateSearch enough,
      service::FindNearDuplicates(*store_, Viewer::For(alice_), original, 6, 50, 3));
  EXPECT_TRUE(enough.complete);  // alice's other three pictures are all the candidates there are
  // Bob's copy is found from bob's side only when he can see the original: he cannot.
  EXPECT_EQ(Call("GET", Path(original, "near-duplicates"), bob_key_).status, 404);
  // A distance of 0 finds only identical hashes; limit caps the list.
  HttpResponse one =
      Call("GET", Path(original, "near-duplicates") + "?max_distance=15&limit=1", alice_key_);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(ParseJson(one.body).at("items").as_array().size(), 1u);
  for (std::string q :
       {"max_distance=16", "max_distance=-1", "max_distance=abc", "limit=0", "limit=201"}) {
    EXPECT_EQ(Call("GET", Path(original, "near-duplicates") + "?" + q, alice_key_).status, 400)
        << q;
  }
  // Hidden from lists means hidden from near-duplicate results.
  ASSERT_EQ(Patch(alice_key_, jpeg, R"({"searchable": false})").status, 200);
  HttpResponse hidden = Call("GET", Path(original, "near-duplicates"), alice_key_);
  std::vector<std::int64_t> after;
  const json::value hidden_list = ParseJson(hidden.body);
  for (const json::value& item : hidden_list.at("items").as_array()) {
    after.push_back(item.at("asset").at("id").to_number<std::int64_t>());
  }
  EXPECT_EQ(after, std::vector<std::int64_t>{half});
}

TEST_P(HttpAnalysisTest, CorruptStoredBytesFailTheJobAndShowOnTheAsset) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  ASSERT_NE(id, 0);
  json::value asset = GetJson(alice_key_, id);
  EXPECT_EQ(asset.at("analysis_errors"), json::object{});
  // The bytes rot on disk after ingest.
  {
    std::ofstream f(blobs_->PathFor(std::string(asset.at("sha256").as_string())),
                    std::ios::binary | std::ios::trunc);
    f << "this is not a picture any more";
  }
  RunJobs();
  auto jobs = store_->ListJobs(storage::JobFilter{std::nullopt, "analyze", alice_.id}, 10);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);  // the one queued at ingest
  EXPECT_EQ(jobs->front().status, JobStatus::kFailed);
  EXPECT_NE(jobs->front().last_error.value_or("").find("probe"), std::string::npos);

  json::value after = GetJson(alice_key_, id);  // the asset stays
  ASSERT_TRUE(after.at("analysis_errors").is_object());
  EXPECT_TRUE(after.at("analysis_errors").as_object().contains("probe"));
  EXPECT_TRUE(after.at("analysis_errors").as_object().contains("thumbnail"));
  EXPECT_EQ(Step(alice_key_, id, "probe").at("status").as_string(), "failed");
  // The rendition route reports the decoding problem as the client's media, not a 500.
  HttpResponse t = Call("GET", Path(id, "thumbnail"), alice_key_);
  EXPECT_GE(t.status, 400);
  EXPECT_LT(t.status, 500);
}

// The analyze job of `asset` (the one queued at ingest, or the latest), after RunJobs.
std::optional<Job> AnalyzeJobOf(storage::Store& store, UserId owner, std::int64_t asset) {
  auto jobs = store.ListJobs(storage::JobFilter{std::nullopt, "analyze", owner}, 1000);
  EXPECT_TRUE(jobs.has_value());
  if (!jobs) return std::nullopt;
  for (const Job& job : *jobs) {
    if (json::parse(job.payload).at("asset_id").to_number<std::int64_t>() == asset) return job;
  }
  return std::nullopt;
}

// The issue's list of bad input, each as a demanding user meets it: either refused at upload
// with a problem (nothing stored), or stored and analysed with the damage reported on the job
// and on the asset (which stays). Files that are merely unusual analyse cleanly.
TEST_P(HttpAnalysisTest, BadMediaIsRefusedAtUploadOrFailsItsJobWithAMessage) {
  using media::testing::Crc32;
  using media::testing::GeneratedFile;
  const std::filesystem::path faststart = GeneratedFile(
      "bad_input_faststart.mp4",
      "-f lavfi -i testsrc2=s=320x240:r=25:d=4 -f lavfi -i sine=d=4 -c:v libx264 -pix_fmt "
      "yuv420p -g 25 -c:a aac -movflags +faststart");
  const std::filesystem::path audio_only =
      GeneratedFile("bad_input_audio_only.mp4", "-f lavfi -i sine=d=2 -c:a aac");
  const std::filesystem::path odd_pcm =
      GeneratedFile("bad_input_51side_s24.wav",
                    "-f lavfi -i 'sine=d=2,aformat=channel_layouts=5.1(side)' "
                    "-c:a pcm_s24le");
  if (faststart.empty() || audio_only.empty() || odd_pcm.empty() ||
      MediaBytes("hdr_pq.mp4").empty() || MediaBytes("picture_ccw.jpeg").empty()) {
    GTEST_SKIP() << "ffmpeg cannot produce the files";
  }
  const std::string video = pixvault::testing::ReadFile(faststart);
  const std::string truncated = video.substr(0, video.size() * 6 / 10);
  // Bits flipped in the coded frames only (after the mdat header), so the index is intact.
  std::string flipped = video;
  {
    const std::size_t mdat = flipped.find("mdat");
    ASSERT_NE(mdat, std::string::npos);
    std::mt19937 random(7);
    for (int i = 0; i < 300; ++i) {
      const std::size_t at = mdat + 8 + random() % (flipped.size() - mdat - 8);
      flipped[at] = static_cast<char>(flipped[at] ^ (1 << (random() % 8)));
    }
  }
  std::string huge_png = MediaBytes("picture.png");  // IHDR rewritten to 65000 x 65000
  for (std::size_t at : {16u, 20u}) {
    for (std::size_t i = 0; i < 4; ++i) huge_png[at + i] = "\x00\x00\xFD\xE8"[i];
  }
  {
    const std::uint32_t crc = Crc32(std::string_view(huge_png).substr(12, 17));
    for (std::size_t i = 0; i < 4; ++i) {
      huge_png[29 + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFFu);
    }
  }
  std::string lying_jpeg = MediaBytes("picture_q60.jpeg");  // SOF0 says 8000 x 6000
  {
    const std::size_t sof = lying_jpeg.find("\xFF\xC0");
    ASSERT_NE(sof, std::string::npos);
    lying_jpeg.replace(sof + 5, 4, "\x17\x70\x1F\x40");
  }
  const std::string garbage_model = std::string("garbage \x00\x01 not a model", 22);

  const std::size_t before = ListIds(alice_key_).size();
  struct Refused {
    std::string name;
    std::string bytes;
    std::string query;
  };
  for (const Refused& r : std::vector<Refused>{
           {"truncated video", truncated, "filename=cut.mp4"},
           {"65,000 x 65,000 PNG header", huge_png, "filename=huge.png"},
           {"JPEG that lies about its size", lying_jpeg, "filename=lying.jpg"},
           {"garbage 3D file", garbage_model, "filename=model.obj"},
       }) {
    SCOPED_TRACE(r.name);
    HttpResponse res = UploadRaw(alice_key_, r.bytes, r.query);
    EXPECT_GE(res.status, 400) << res.body;
    EXPECT_LT(res.status, 500) << res.body;
    CheckResponse(res, r.name);
  }
  // A zero-length audio file, announced as audio.
  HttpResponse empty = UploadRaw(alice_key_, "", "filename=silence.wav", "audio/wav");
  EXPECT_EQ(empty.status, 400) << empty.body;
  CheckResponse(empty, "zero-length audio");
  EXPECT_EQ(ListIds(alice_key_).size(), before);

  // The same bytes can still reach the analysis: a file that rots on disk after ingest, or
  // damage the header does not show. Each job ends failed, saying which step and why; the
  // asset stays and lists the failed steps.
  struct Damaged {
    std::string name;
    // A valid upload of the same type (each different: same bytes would be a duplicate)
    // whose stored bytes are replaced; or, after "as:", the name to upload `bytes` under.
    std::string good;
    std::string bytes;
    std::string step;     // a step that must fail
    std::string message;  // part of that step's message
  };
  for (const Damaged& d : std::vector<Damaged>{
           {"truncated video", "video.mp4", truncated, "probe", "truncated"},
           {"bit-flipped video", "as:flipped.mp4", flipped, "scenes", "damaged"},
           {"video with no video stream", "keyframes.mp4", pixvault::testing::ReadFile(audio_only),
            "probe", "no video stream"},
           {"65,000 x 65,000 PNG header", "picture.png", huge_png, "thumbnail", "65000x65000"},
           {"JPEG that lies about its size", "picture_half.png", lying_jpeg, "probe", "8000x6000"},
           {"zero-length audio", "audio.wav", "", "probe", ""},
           {"garbage glTF", "as:model.gltf", "{\"asset\": not json", "model", "parse error"},
           {"glTF with a huge declared buffer", "as:huge.gltf",
            R"({"asset": {"version": "2.0"}, "buffers": [{"byteLength": 900000000000,
                "uri": "data.bin"}], "meshes": [], "scenes": [{"nodes": []}]})",
            "model", "900000000000"},
       }) {
    SCOPED_TRACE(d.name);
    std::int64_t id = 0;
    if (d.good.starts_with("as:")) {  // uploaded as it is: ingest finds nothing wrong
      HttpResponse up = UploadRaw(alice_key_, d.bytes, "filename=" + d.good.substr(3));
      ASSERT_EQ(up.status, 201) << up.body;
      id = ParseJson(up.body).at("asset").at("id").to_number<std::int64_t>();
    } else {
      id = UploadMedia(alice_key_, d.good);
      ASSERT_NE(id, 0);
      const std::string sha(GetJson(alice_key_, id).at("sha256").as_string());
      pixvault::testing::WriteFile(blobs_->PathFor(sha), d.bytes);
    }
    RunJobs();
    const std::optional<Job> job = AnalyzeJobOf(*store_, alice_.id, id);
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->status, JobStatus::kFailed);
    const std::string error = job->last_error.value_or("");
    EXPECT_NE(error.find(d.step + ": "), std::string::npos) << error;
    EXPECT_NE(error.find(d.message), std::string::npos) << error;
    const json::value asset = GetJson(alice_key_, id);  // the asset stays
    ASSERT_TRUE(asset.at("analysis_errors").is_object()) << json::serialize(asset);
    EXPECT_TRUE(asset.at("analysis_errors").as_object().contains(d.step))
        << json::serialize(asset.at("analysis_errors"));
    const json::value step = Step(alice_key_, id, d.step);
    ASSERT_TRUE(step.is_object());
    EXPECT_EQ(step.at("status").as_string(), "failed");
    EXPECT_FALSE(step.at("error").as_string().empty());
    // The renditions answer a client error, not a 500 (or a picture of the damage's making).
    HttpResponse t = Call("GET", Path(id, "thumbnail"), alice_key_);
    EXPECT_NE(t.status / 100, 5) << t.body;
  }
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);  // the server and its workers live on
}

// Unusual files that are nevertheless right analyse cleanly.
TEST_P(HttpAnalysisTest, UnusualButValidMediaAnalysesCleanly) {
  using media::testing::GeneratedFile;
  const std::filesystem::path odd_pcm =
      GeneratedFile("odd_51side_s24.wav",
                    "-f lavfi -i 'sine=d=2,aformat=channel_layouts=5.1(side)' "
                    "-c:a pcm_s24le");
  if (odd_pcm.empty() || MediaBytes("hdr_pq.mp4").empty() ||
      MediaBytes("picture_ccw.jpeg").empty()) {
    GTEST_SKIP() << "ffmpeg cannot produce the files";
  }
  auto upload = [&](std::string bytes, std::string_view query) -> std::int64_t {
    HttpResponse up = UploadRaw(alice_key_, std::move(bytes), query);
    EXPECT_EQ(up.status, 201) << up.body;
    return up.status == 201 ? ParseJson(up.body).at("asset").at("id").to_number<std::int64_t>() : 0;
  };
  // Audio in an odd PCM layout: six channels of 24-bit samples.
  const std::int64_t pcm = upload(pixvault::testing::ReadFile(odd_pcm), "filename=odd.wav");
  // An image stored turned a quarter, with an EXIF orientation that turns it back.
  const std::int64_t exif = upload(
      media::testing::JpegWithOrientation(MediaBytes("picture_ccw.jpeg"), 6), "filename=e.jpg");
  // A 10-bit HDR (PQ) clip.
  const std::int64_t hdr = UploadMedia(alice_key_, "hdr_pq.mp4");
  // A model whose material library (and so its textures) is missing.
  const std::int64_t model = upload(
      "mtllib missing.mtl\nusemtl painted\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "filename=m.obj");
  ASSERT_TRUE(pcm && exif && hdr && model);
  RunJobs();
  for (const std::int64_t id : {pcm, exif, hdr, model}) {
    const std::optional<Job> job = AnalyzeJobOf(*store_, alice_.id, id);
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->status, JobStatus::kSucceeded) << id << ": " << job->last_error.value_or("");
    EXPECT_EQ(GetJson(alice_key_, id).at("analysis_errors"), json::object{});
  }
  const json::value audio = Step(alice_key_, pcm, "audio");
  EXPECT_EQ(audio.at("result").at("channels").to_number<int>(), 6) << json::serialize(audio);
  EXPECT_FALSE(audio.at("result").at("is_silent").as_bool());
  const json::value thumb = Step(alice_key_, exif, "thumbnail");
  EXPECT_EQ(thumb.at("result").at("thumbnail").at("width").to_number<int>(), 320);
  EXPECT_EQ(thumb.at("result").at("thumbnail").at("height").to_number<int>(), 240);
  const json::value probe = Step(alice_key_, hdr, "probe");
  EXPECT_TRUE(probe.at("result").at("hdr").as_bool()) << json::serialize(probe);
  EXPECT_EQ(probe.at("result").at("bit_depth").to_number<int>(), 10);
  EXPECT_EQ(Step(alice_key_, hdr, "thumbnail").at("status").as_string(), "done");
  const json::value m = Step(alice_key_, model, "model");
  EXPECT_EQ(m.at("result").at("polygon_count").to_number<int>(), 1) << json::serialize(m);
  EXPECT_FALSE(m.at("result").at("has_textures").as_bool());
}

TEST_P(HttpAnalysisTest, IngestQueuesOneAnalysisPerNewAsset) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  ASSERT_NE(id, 0);
  // The same bytes again are a duplicate: no second job.
  HttpResponse dup = UploadRaw(alice_key_, MediaBytes("picture.png"));
  ASSERT_EQ(dup.status, 200) << dup.body;
  auto jobs = store_->ListJobs(storage::JobFilter{std::nullopt, "analyze", alice_.id}, 10);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->front().status, JobStatus::kQueued);
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(Step(alice_key_, id, "thumbnail").at("status").as_string(), "done");
}

TEST_P(HttpAnalysisTest, CancelledJobsDoNotRun) {
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");
  ASSERT_NE(id, 0);
  RunJobs();
  const std::string job =
      "/api/v1/jobs/" +
      std::to_string(
          Analyze(alice_key_, id, R"({"force": true})").at("id").to_number<std::int64_t>());
  EXPECT_EQ(Call("DELETE", job, bob_key_).status, 404);
  HttpResponse cancelled = Call("DELETE", job, alice_key_);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(ParseJson(cancelled.body).at("status").as_string(), "cancelled");
  EXPECT_EQ(Call("DELETE", job, alice_key_).status, 400);
  EXPECT_EQ(RunJobs(), 0);
}

TEST_P(HttpAnalysisTest, AudioStepMeasuresLoudnessIntoTheAudioMetadata) {
  const std::int64_t wav = UploadMedia(alice_key_, "audio.wav");
  const std::int64_t with_sound = UploadMedia(alice_key_, "video_audio.mp4");
  const std::int64_t silent_video = UploadMedia(alice_key_, "video.mp4");
  ASSERT_TRUE(wav && with_sound && silent_video);
  RunJobs();

  json::value audio = Step(alice_key_, wav, "audio");
  ASSERT_TRUE(audio.is_object());
  EXPECT_EQ(audio.at("status").as_string(), "done") << json::serialize(audio);
  const json::value& r = audio.at("result");
  EXPECT_EQ(r.at("sample_rate").to_number<int>(), 44100);
  EXPECT_EQ(r.at("channels").to_number<int>(), 1);
  EXPECT_FALSE(r.at("is_silent").as_bool());
  // A full-scale-ish 440 Hz sine: loud, and well above the -70 LUFS gate.
  const double lufs = r.at("loudness").at("integrated_lufs").to_number<double>();
  EXPECT_GT(lufs, -40);
  EXPECT_LT(lufs, 0);

  HttpResponse meta = Call("GET", Path(wav, "metadata/audio"), alice_key_);
  ASSERT_EQ(meta.status, 200) << meta.body;
  json::value m = ParseJson(meta.body);
  EXPECT_EQ(m.at("sample_rate").to_number<int>(), 44100);
  EXPECT_EQ(m.at("codec").as_string(), "pcm_s16le");
  EXPECT_FALSE(m.at("is_speech").as_bool());
  EXPECT_NEAR(m.at("extra").at("loudness").at("integrated_lufs").to_number<double>(), lufs, 1e-9);

  // Audio gets a waveform picture, videos a poster frame (with hashes for near duplicates).
  EXPECT_EQ(Step(alice_key_, wav, "thumbnail").at("status").as_string(), "done");
  json::value poster = Step(alice_key_, silent_video, "thumbnail");
  EXPECT_EQ(poster.at("status").as_string(), "done") << json::serialize(poster);
  EXPECT_EQ(poster.at("result").at("thumbnail").at("width").to_number<int>(), 320);
  EXPECT_TRUE(poster.at("result").as_object().contains("phash"));
  HttpResponse t = Call("GET", Path(silent_video, "thumbnail"), alice_key_);
  EXPECT_EQ(t.status, 200);
  EXPECT_TRUE(IsWebp(t.body));

  // A video's sound is analysed too; a video without sound has no audio step.
  EXPECT_EQ(Step(alice_key_, with_sound, "audio").at("status").as_string(), "done");
  EXPECT_TRUE(Step(alice_key_, silent_video, "audio").is_null());
  HttpResponse forced =
      Call("POST", Path(silent_video, "analyze"), alice_key_,
           R"({"steps": ["audio"], "force": true})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(forced.status, 202);
  RunJobs();
  EXPECT_TRUE(Step(alice_key_, silent_video, "audio").is_null());
}

TEST_P(HttpAnalysisTest, ModelStepCountsTrianglesIntoThe3dMetadata) {
  const std::string obj = "# one triangle\no triangle\nv 0 0 0\nv 2 0 0\nv 0 1 0\nf 1 2 3\n";
  HttpResponse up = UploadRaw(alice_key_, obj, "filename=triangle.obj");
  ASSERT_EQ(up.status, 201) << up.body;
  const std::int64_t id = ParseJson(up.body).at("asset").at("id").to_number<std::int64_t>();
  RunJobs();
  json::value model = Step(alice_key_, id, "model");
  ASSERT_TRUE(model.is_object());
  EXPECT_EQ(model.at("status").as_string(), "done") << json::serialize(model);
  EXPECT_TRUE(Step(alice_key_, id, "thumbnail").is_null());  // no picture for 3D yet
  HttpResponse meta = Call("GET", Path(id, "metadata/3d"), alice_key_);
  ASSERT_EQ(meta.status, 200) << meta.body;
  json::value m = ParseJson(meta.body);
  EXPECT_EQ(m.at("polygon_count").to_number<int>(), 1);
  EXPECT_EQ(m.at("vertex_count").to_number<int>(), 3);
  EXPECT_EQ(m.at("bounding_box_size").at(0).to_number<double>(), 2);
  EXPECT_EQ(m.at("bounding_box_size").at(1).to_number<double>(), 1);
  EXPECT_EQ(m.at("extra").at("parser").as_string(), "assimp");
}

TEST_P(HttpAnalysisTest, ScenesStepStoresEachShotAsASegment) {
  // Three 2 s shots joined by hard cuts at 2 s and 4 s.
  const std::filesystem::path clip = media::testing::GeneratedFile(
      "http_scenes_cuts.mp4",
      "-f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i smptebars=s=320x240:r=25:d=2 "
      "-f lavfi -i color=c=red:s=320x240:r=25:d=2 "
      "-filter_complex '[0][1][2]concat=n=3:v=1:a=0' -c:v libx264 -preset veryfast "
      "-pix_fmt yuv420p");
  if (clip.empty()) GTEST_SKIP() << "ffmpeg cannot produce the clip";
  HttpResponse up = UploadRaw(alice_key_, pixvault::testing::ReadFile(clip), "filename=cuts.mp4");
  ASSERT_EQ(up.status, 201) << up.body;
  const std::int64_t id = ParseJson(up.body).at("asset").at("id").to_number<std::int64_t>();
  // A segment someone added by hand survives the analysis.
  HttpResponse mine = Call("POST", Path(id, "segments"), alice_key_,
                           R"({"segment_type": "note", "timestamp_sec": 1})",
                           {{"Content-Type", "application/json"}});
  ASSERT_EQ(mine.status, 201) << mine.body;
  RunJobs();
  EXPECT_EQ(Step(alice_key_, id, "scenes").at("status").as_string(), "done");
  HttpResponse res = Call("GET", Path(id, "segments"), alice_key_);
  ASSERT_EQ(res.status, 200) << res.body;
  const json::value doc = ParseJson(res.body);
  std::vector<double> starts;
  std::vector<std::string> pictures;
  int notes = 0;
  const json::array& items = doc.is_array() ? doc.as_array() : doc.at("items").as_array();
  for (const json::value& s : items) {
    if (s.at("segment_type").as_string() == "note") {
      ++notes;
      EXPECT_TRUE(s.at("thumbnail_url").is_null());
      continue;
    }
    ASSERT_EQ(s.at("segment_type").as_string(), "shot");
    starts.push_back(s.at("timestamp_sec").to_number<double>());
    EXPECT_TRUE(s.at("camera_motion").is_string());
    EXPECT_TRUE(s.at("brightness").is_number());
    ASSERT_TRUE(s.at("thumbnail_url").is_string()) << json::serialize(s);
    pictures.emplace_back(s.at("thumbnail_url").as_string());
  }
  EXPECT_EQ(notes, 1);
  ASSERT_EQ(starts.size(), 3u) << res.body;
  EXPECT_NEAR(starts[0], 0, 0.05);
  EXPECT_NEAR(starts[1], 2, 0.05);
  EXPECT_NEAR(starts[2], 4, 0.05);

  // Each shot's keyframe thumbnail shows that shot: the third is the red one.
  ASSERT_EQ(pictures.size(), 3u);
  std::vector<std::string> bodies;
  for (const std::string& url : pictures) {
    EXPECT_EQ(url.rfind(AssetPath(id) + "/shots/", 0), 0u) << url;
    HttpResponse t = Call("GET", url, alice_key_);
    ASSERT_EQ(t.status, 200) << url << " " << t.body;
    EXPECT_EQ(t.Header("Content-Type").value_or(""), "image/webp");
    EXPECT_TRUE(IsWebp(t.body));
    const std::string etag = t.Header("ETag").value_or("");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(Call("GET", url, alice_key_, {}, {{"If-None-Match", etag}}).status, 304);
    // Another user, or nobody, gets nothing.
    EXPECT_EQ(Call("GET", url, bob_key_).status, 404);
    EXPECT_EQ(Call("GET", url, "").status, 401);
    bodies.push_back(std::move(t.body));
  }
  EXPECT_NE(bodies[0], bodies[1]);
  EXPECT_NE(bodies[1], bodies[2]);
  const std::array<double, 3> red = media::testing::DecodeWebp(bodies[2]).MeanRgb();
  EXPECT_GT(red[0], 150);
  EXPECT_LT(red[1], 60);
  EXPECT_LT(red[2], 60);
  // A frame that is no shot's keyframe, and nonsense, are unknown.
  EXPECT_EQ(Call("GET", Path(id, "shots/1/thumbnail"), alice_key_).status, 404);
  EXPECT_EQ(Call("GET", Path(id, "shots/-1/thumbnail"), alice_key_).status, 404);
  EXPECT_EQ(Call("GET", Path(id, "shots/abc/thumbnail"), alice_key_).status, 404);
  // Removed from disk: rendered again on request, the same picture.
  const std::string sha(GetJson(alice_key_, id).at("sha256").as_string());
  ASSERT_TRUE(derived_->RemoveWithPrefix(sha, "shot-"));
  HttpResponse rendered = Call("GET", pictures[2], alice_key_);
  ASSERT_EQ(rendered.status, 200) << rendered.body;
  EXPECT_EQ(rendered.body, bodies[2]);
  // Forced again: the shots are replaced, not added to.
  Call("POST", Path(id, "analyze"), alice_key_, R"({"steps": ["scenes"], "force": true})",
       {{"Content-Type", "application/json"}});
  RunJobs();
  const json::value again = ParseJson(Call("GET", Path(id, "segments"), alice_key_).body);
  const json::array& items2 = again.is_array() ? again.as_array() : again.at("items").as_array();
  EXPECT_EQ(items2.size(), 4u);
}

PV_INSTANTIATE_STORE_TEST(HttpAnalysisTest);

}  // namespace
}  // namespace pixvault::http::testing
