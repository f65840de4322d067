// Media analysis through the API: POST /assets/{id}/analyze queues a job, the job runs the
// steps, GET /assets/{id}/analysis shows them, thumbnails and previews are served (and rendered
// on request when missing), near duplicates come from the perceptual-hash index; the job
// routes; and what happens to bad input and to other users' ids.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <string>

#include <boost/json.hpp>

#include "core/sha256.h"
#include "http/http_fixture.h"
#include "media/thumbnail_test_util.h"
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
