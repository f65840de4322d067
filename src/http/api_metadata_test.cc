// Route-level tests of api_metadata.cc: requests go through the real Router and handlers
// over a real store (SQLite and PostgreSQL), without a network.
#include <boost/json.hpp>

#include <memory>
#include <set>
#include <string>

#include "blob/blob_store.h"
#include "blob/env.h"
#include "core/sha256.h"
#include "http/api.h"
#include "http/problem.h"
#include "service/ingest.h"
#include "testing/store_fixture.h"
#include "testing/temp_dir.h"

namespace pixvault::http {
namespace {

using pixvault::testing::StoreTest;
using pixvault::testing::TempDir;

struct Reply {
  int status = 0;
  boost::json::value json;  // null when the body is empty
  std::string body;
};

class ApiMetadataTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    blob_dir_ = std::make_unique<TempDir>();
    auto blobs = blob::FsBlobStore::Create(env_, blob_dir_->path());
    ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
    blobs_ = std::move(*blobs);
    ingestor_ = std::make_unique<service::Ingestor>(*store_, *blobs_, clock_);
    api_ = std::make_unique<ApiContext>(
        ApiContext{*store_, *blobs_, *ingestor_, clock_, metrics_, ApiOptions{}});
    RegisterRoutes(router_, *api_);
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, true, 0}));
    PV_ASSERT_OK_AND_ASSIGN(admin_, store_->CreateUser(User{0, "admin", true, true, 0}));
  }

  // Routes `method path` like the server does and runs the handler as `user`. Errors are
  // rendered as the server renders them (problem+json). Never a 5xx.
  Reply Call(const User& user, std::string method, std::string path, std::string body = {}) {
    Reply out;
    auto match = router_.Find(method, path);
    if (!match || !match->route || !match->route->handler) {
      ADD_FAILURE() << method << " " << path << " matches no buffered route";
      return out;
    }
    Request req;
    req.method = method;
    req.target = path;
    req.path = path;
    req.path_params = match->params;
    req.body = std::move(body);
    req.user = user;
    auto res = match->route->handler(req);
    Response r = res ? std::move(*res) : ProblemFor(res.error());
    out.status = r.status;
    out.body = r.body;
    EXPECT_LT(r.status, 500) << method << " " << path << ": " << r.body;
    if (!r.body.empty()) {
      boost::system::error_code ec;
      out.json = boost::json::parse(r.body, ec);
      EXPECT_FALSE(ec) << "not JSON: " << r.body;
    }
    if (r.status >= 400) {
      EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
    }
    return out;
  }

  // An asset of `owner` over the bytes `content` (no file: these routes never read it).
  AssetId Make(const User& owner, const std::string& content,
               UploadMethod method = UploadMethod::kApi, bool age_restricted = false) {
    Asset a;
    a.user_id = owner.id;
    a.upload_method = method;
    if (method == UploadMethod::kProvider) a.provider_id = "pixverse";
    a.age_restricted = age_restricted;
    a.sha256 = Sha256Hex(content);
    a.file_size_bytes = static_cast<std::int64_t>(content.size());
    clock_.Advance(1000);
    auto created =
        store_->CreateAsset(a, storage::BlobRef{*a.sha256, *a.file_size_bytes, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset.id : 0;
  }

  static std::string Path(AssetId id, std::string_view rest) {
    return "/api/v1/assets/" + std::to_string(id) + std::string(rest);
  }

  // Expects a 400 whose detail names `field`.
  void ExpectBad(const User& u, const std::string& method, const std::string& path,
                 const std::string& body, std::string_view field) {
    Reply r = Call(u, method, path, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_NE(r.body.find(field), std::string::npos) << body << " -> " << r.body;
  }

  blob::PosixEnv env_;
  std::unique_ptr<TempDir> blob_dir_;
  std::unique_ptr<blob::FsBlobStore> blobs_;
  std::unique_ptr<service::Ingestor> ingestor_;
  Metrics metrics_;
  Router router_;
  std::unique_ptr<ApiContext> api_;
  User alice_, bob_, admin_;
};

boost::json::value J(std::string_view text) { return boost::json::parse(text); }

// --- Metadata tables -------------------------------------------------------------------

TEST_P(ApiMetadataTest, ThreeDMetadataPutGetAndReplace) {
  AssetId id = Make(alice_, "model.glb");
  EXPECT_EQ(Call(alice_, "GET", Path(id, "/metadata/3d")).status, 404);

  Reply put = Call(alice_, "PUT", Path(id, "/metadata/3d"),
                   R"({"polygon_count": 1200, "vertex_count": 800, "file_format": "glb",
                       "has_textures": true, "has_rigging": true, "material_count": 3,
                       "texture_resolution": "2048x2048",
                       "bounding_box_size": {"x": 1.5, "y": 2, "z": 0.25},
                       "extra": {"author": "me"}})");
  ASSERT_EQ(put.status, 200) << put.body;
  boost::json::value want = J(R"({"asset_id": 0, "polygon_count": 1200, "vertex_count": 800,
      "file_format": "glb", "has_textures": true, "has_animations": false, "has_rigging": true,
      "has_materials": false, "material_count": 3, "texture_resolution": "2048x2048",
      "bounding_box_size": {"x": 1.5, "y": 2, "z": 0.25}, "extra": {"author": "me"}})");
  want.as_object()["asset_id"] = id;
  EXPECT_EQ(put.json, want);
  Reply got = Call(alice_, "GET", Path(id, "/metadata/3d"));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.json, want);

  // PUT replaces the row: what is absent becomes null or its default. What was read may be
  // sent back, asset_id included.
  put = Call(alice_, "PUT", Path(id, "/metadata/3d"), R"({"file_format": "obj"})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json.at("polygon_count"), nullptr);
  EXPECT_EQ(put.json.at("has_textures"), false);
  EXPECT_EQ(put.json.at("bounding_box_size"), nullptr);
  EXPECT_EQ(put.json.at("extra"), boost::json::object{});
  EXPECT_EQ(Call(alice_, "PUT", Path(id, "/metadata/3d"), boost::json::serialize(got.json)).json,
            want);

  // Other users see nothing; an admin sees it.
  EXPECT_EQ(Call(bob_, "GET", Path(id, "/metadata/3d")).status, 404);
  EXPECT_EQ(Call(bob_, "PUT", Path(id, "/metadata/3d"), "{}").status, 404);
  EXPECT_EQ(Call(admin_, "GET", Path(id, "/metadata/3d")).json, want);
  EXPECT_EQ(Call(alice_, "GET", Path(id, "/metadata/3d")).json, want);
}

TEST_P(ApiMetadataTest, ThreeDMetadataRejectsBadFields) {
  AssetId id = Make(alice_, "model.glb");
  std::string p = Path(id, "/metadata/3d");
  ExpectBad(alice_, "PUT", p, R"({"polygons": 3})", "polygons");
  ExpectBad(alice_, "PUT", p, R"({"polygon_count": -1})", "polygon_count");
  ExpectBad(alice_, "PUT", p, R"({"vertex_count": "many"})", "vertex_count");
  ExpectBad(alice_, "PUT", p, R"({"material_count": 1.5})", "material_count");
  ExpectBad(alice_, "PUT", p, R"({"has_textures": "yes"})", "has_textures");
  ExpectBad(alice_, "PUT", p, R"({"has_rigging": null})", "has_rigging");
  ExpectBad(alice_, "PUT", p, R"({"file_format": 3})", "file_format");
  ExpectBad(alice_, "PUT", p, R"({"bounding_box_size": [1, 2, 3]})", "bounding_box_size");
  ExpectBad(alice_, "PUT", p, R"({"extra": []})", "extra");
  ExpectBad(alice_, "PUT", p, R"({"extra": null})", "extra");
  ExpectBad(alice_, "PUT", p, R"({"asset_id": 999999})", "asset_id");
  EXPECT_EQ(Call(alice_, "PUT", p, "{not json").status, 400);
  EXPECT_EQ(Call(alice_, "PUT", p, "[]").status, 400);
  EXPECT_EQ(Call(alice_, "PUT", p, "").status, 400);
  // Nothing was stored by any of them.
  EXPECT_EQ(Call(alice_, "GET", p).status, 404);
  EXPECT_EQ(Call(alice_, "PUT", p, R"({"bounding_box_size": null})").status, 200);
}

TEST_P(ApiMetadataTest, AudioMetadataValidatesRanges) {
  AssetId id = Make(alice_, "song.wav");
  std::string p = Path(id, "/metadata/audio");
  Reply put = Call(alice_, "PUT", p,
                   R"({"sample_rate": 44100, "channels": 2, "bitrate": 0, "codec": "pcm_s16le",
                       "bpm": 128.5, "key": "A minor", "has_lyrics": false, "is_speech": null,
                       "language": "en", "extra": {"isrc": "X"}})");
  ASSERT_EQ(put.status, 200) << put.body;
  boost::json::value want = J(R"({"asset_id": 0, "sample_rate": 44100, "channels": 2,
      "bitrate": 0, "codec": "pcm_s16le", "bpm": 128.5, "key": "A minor", "has_lyrics": false,
      "is_speech": null, "language": "en", "voice_id": null, "extra": {"isrc": "X"}})");
  want.as_object()["asset_id"] = id;
  EXPECT_EQ(put.json, want);
  EXPECT_EQ(Call(alice_, "GET", p).json, want);

  ExpectBad(alice_, "PUT", p, R"({"sample_rate": 0})", "sample_rate");
  ExpectBad(alice_, "PUT", p, R"({"sample_rate": -8000})", "sample_rate");
  ExpectBad(alice_, "PUT", p, R"({"channels": -1})", "channels");
  ExpectBad(alice_, "PUT", p, R"({"channels": "stereo"})", "channels");
  ExpectBad(alice_, "PUT", p, R"({"bitrate": -1})", "bitrate");
  ExpectBad(alice_, "PUT", p, R"({"bpm": 0})", "bpm");
  ExpectBad(alice_, "PUT", p, R"({"bpm": -120})", "bpm");
  ExpectBad(alice_, "PUT", p, R"({"bpm": "fast"})", "bpm");
  ExpectBad(alice_, "PUT", p, R"({"has_lyrics": 1})", "has_lyrics");
  ExpectBad(alice_, "PUT", p, R"({"tempo": "fast"})", "tempo");
  ExpectBad(alice_, "PUT", p, R"({"extra": "{}"})", "extra");
  EXPECT_EQ(Call(alice_, "GET", p).json, want);  // unchanged by the refusals

  EXPECT_EQ(Call(bob_, "GET", p).status, 404);
  EXPECT_EQ(Call(alice_, "GET", Path(999999, "/metadata/audio")).status, 404);
  EXPECT_EQ(Call(alice_, "GET", "/api/v1/assets/abc/metadata/audio").status, 404);
}

TEST_P(ApiMetadataTest, AdultMetadataVocabulariesAndVisibility) {
  // Bob may see adult content; Alice may not, not even her own age-restricted asset.
  AssetId bobs = Make(bob_, "scene.mp4", UploadMethod::kApi, true);
  std::string p = Path(bobs, "/metadata/adult");
  Reply put = Call(bob_, "PUT", p,
                   R"({"intensity_level": "moderate", "tempo": "slow", "scene_type": "dance",
                       "body_parts_visible": ["hands"], "positions": [], "mood": "calm"})");
  ASSERT_EQ(put.status, 200) << put.body;
  boost::json::value want = J(R"({"asset_id": 0, "intensity_level": "moderate",
      "tempo": "slow", "scene_type": "dance", "intimacy_level": null,
      "body_parts_visible": ["hands"], "clothing_state": null, "positions": [],
      "mood": "calm", "lighting": null})");
  want.as_object()["asset_id"] = bobs;
  EXPECT_EQ(put.json, want);
  EXPECT_EQ(Call(bob_, "GET", p).json, want);
  EXPECT_EQ(Call(alice_, "GET", p).status, 404);

  AssetId hidden = Make(alice_, "hers.mp4", UploadMethod::kApi, true);
  EXPECT_EQ(Call(alice_, "PUT", Path(hidden, "/metadata/adult"), "{}").status, 404);

  for (const char* level : {"warmup", "moderate", "heated", "intense"}) {
    EXPECT_EQ(Call(bob_, "PUT", p, std::string(R"({"intensity_level": ")") + level + "\"}").status,
              200);
  }
  for (const char* tempo : {"slow", "medium", "fast", "varied"}) {
    EXPECT_EQ(Call(bob_, "PUT", p, std::string(R"({"tempo": ")") + tempo + "\"}").status, 200);
  }
  ExpectBad(bob_, "PUT", p, R"({"intensity_level": "extreme"})", "intensity_level");
  ExpectBad(bob_, "PUT", p, R"({"intensity_level": "Moderate"})", "intensity_level");
  ExpectBad(bob_, "PUT", p, R"({"tempo": "allegro"})", "tempo");
  ExpectBad(bob_, "PUT", p, R"({"tempo": 3})", "tempo");
  ExpectBad(bob_, "PUT", p, R"({"body_parts_visible": "hands"})", "body_parts_visible");
  ExpectBad(bob_, "PUT", p, R"({"body_parts_visible": [1]})", "body_parts_visible");
  ExpectBad(bob_, "PUT", p, R"({"positions": {"a": "b"}})", "positions");
  ExpectBad(bob_, "PUT", p, R"({"positions": null})", "positions");
  ExpectBad(bob_, "PUT", p, R"({"bpm": 120})", "bpm");
}

// --- Segments --------------------------------------------------------------------------

TEST_P(ApiMetadataTest, SegmentsCreateListInTimeOrderAndDelete) {
  AssetId id = Make(alice_, "clip.mp4");
  std::string p = Path(id, "/segments");
  EXPECT_EQ(Call(alice_, "GET", p).json, J(R"({"items": []})"));

  Reply late = Call(alice_, "POST", p,
                    R"({"segment_type": "shot", "timestamp_sec": 4.5, "end_sec": 6,
                        "frame_number": 108, "thumbnail_url": "https://x/t.jpg",
                        "description": "close-up", "objects": ["cat"],
                        "actions": [{"verb": "jump", "confidence": 0.9}],
                        "embedding": {"model": "clip-vit-b32", "values": [0.5, -1, 2e-3]},
                        "brightness": 0.42, "dominant_colors": ["#ff0000"],
                        "camera_motion": "pan"})");
  ASSERT_EQ(late.status, 201) << late.body;
  const auto& s = late.json.as_object();
  EXPECT_GT(s.at("id").as_int64(), 0);
  EXPECT_EQ(s.at("asset_id"), id);
  EXPECT_EQ(s.at("segment_type"), "shot");
  EXPECT_EQ(s.at("timestamp_sec"), 4.5);
  EXPECT_EQ(s.at("end_sec").to_number<double>(), 6);
  EXPECT_EQ(s.at("frame_number"), 108);
  EXPECT_EQ(s.at("thumbnail_url"), "https://x/t.jpg");
  EXPECT_EQ(s.at("description"), "close-up");
  EXPECT_EQ(s.at("objects"), J(R"(["cat"])"));
  EXPECT_EQ(s.at("actions"), J(R"([{"verb": "jump", "confidence": 0.9}])"));
  EXPECT_EQ(s.at("embedding"), J(R"({"model": "clip-vit-b32", "dimension": 3})"));
  EXPECT_EQ(s.at("brightness"), 0.42);
  EXPECT_EQ(s.at("dominant_colors"), J(R"(["#ff0000"])"));
  EXPECT_EQ(s.at("camera_motion"), "pan");
  EXPECT_TRUE(s.at("created_at").is_string());

  Reply early = Call(alice_, "POST", p, R"({"segment_type": "keyframe", "timestamp_sec": 0})");
  ASSERT_EQ(early.status, 201) << early.body;
  EXPECT_EQ(early.json.at("end_sec"), nullptr);
  EXPECT_EQ(early.json.at("embedding"), nullptr);
  EXPECT_EQ(early.json.at("objects"), boost::json::array{});
  Reply middle = Call(alice_, "POST", p, R"({"segment_type": "scene", "timestamp_sec": 2})");
  ASSERT_EQ(middle.status, 201) << middle.body;

  Reply list = Call(alice_, "GET", p);
  ASSERT_EQ(list.status, 200);
  const auto& items = list.json.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].at("id"), early.json.at("id"));
  EXPECT_EQ(items[1].at("id"), middle.json.at("id"));
  EXPECT_EQ(items[2], late.json);

  // Another user sees and deletes nothing; a segment is deleted only through its asset.
  AssetId other = Make(alice_, "other.mp4");
  std::string seg = "/" + std::to_string(middle.json.at("id").as_int64());
  EXPECT_EQ(Call(bob_, "GET", p).status, 404);
  EXPECT_EQ(Call(bob_, "POST", p, R"({"segment_type": "shot", "timestamp_sec": 1})").status, 404);
  EXPECT_EQ(Call(bob_, "DELETE", p + seg).status, 404);
  EXPECT_EQ(Call(alice_, "DELETE", Path(other, "/segments") + seg).status, 404);
  EXPECT_EQ(Call(alice_, "DELETE", p + "/999999").status, 404);
  EXPECT_EQ(Call(alice_, "DELETE", p + "/x").status, 404);
  EXPECT_EQ(Call(alice_, "GET", p).json.at("items").as_array().size(), 3u);

  Reply del = Call(alice_, "DELETE", p + seg);
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(Call(alice_, "DELETE", p + seg).status, 404);
  list = Call(alice_, "GET", p);
  ASSERT_EQ(list.json.at("items").as_array().size(), 2u);
  EXPECT_EQ(list.json.at("items").as_array()[1], late.json);
}

TEST_P(ApiMetadataTest, SegmentsRejectBadInput) {
  AssetId id = Make(alice_, "clip.mp4");
  std::string p = Path(id, "/segments");
  ExpectBad(alice_, "POST", p, R"({"timestamp_sec": 1})", "segment_type");
  ExpectBad(alice_, "POST", p, R"({"segment_type": "", "timestamp_sec": 1})", "segment_type");
  ExpectBad(alice_, "POST", p, R"({"segment_type": 7, "timestamp_sec": 1})", "segment_type");
  ExpectBad(alice_, "POST", p, R"({"segment_type": "shot"})", "timestamp_sec");
  ExpectBad(alice_, "POST", p, R"({"segment_type": "shot", "timestamp_sec": -0.5})",
            "timestamp_sec");
  ExpectBad(alice_, "POST", p, R"({"segment_type": "shot", "timestamp_sec": "1"})",
            "timestamp_sec");
  ExpectBad(alice_, "POST", p, R"({"segment_type": "shot", "timestamp_sec": 2, "end_sec": 1})",
            "end_sec");
  ExpectBad(alice_, "POST", p,
            R"({"segment_type": "shot", "timestamp_sec": 0, "frame_number": -1})", "frame_number");
  for (const char* field : {"objects", "actions", "dominant_colors"}) {
    ExpectBad(alice_, "POST", p,
              std::string(R"({"segment_type": "shot", "timestamp_sec": 0, ")") + field +
                  R"(": {"a": 1}})",
              field);
  }
  ExpectBad(alice_, "POST", p,
            R"({"segment_type": "shot", "timestamp_sec": 0, "brightness": "dim"})", "brightness");
  ExpectBad(alice_, "POST", p, R"({"segment_type": "shot", "timestamp_sec": 0, "id": 5})", "id");
  for (const char* e :
       {R"("x")", R"([1, 2])", R"({"model": "m"})", R"({"values": [1]})",
        R"({"model": "", "values": [1]})", R"({"model": 3, "values": [1]})",
        R"({"model": "m", "values": []})", R"({"model": "m", "values": ["1"]})",
        R"({"model": "m", "values": [1, null]})", R"({"model": "m", "values": [1e39]})",
        R"({"model": "m", "values": [1], "extra": 1})"}) {
    ExpectBad(
        alice_, "POST", p,
        std::string(R"({"segment_type": "shot", "timestamp_sec": 0, "embedding": )") + e + "}",
        "embedding");
  }
  std::string values = "[0";
  for (int i = 1; i < 4096; ++i) values += ", " + std::to_string(i % 7) + ".5";
  std::string body = R"({"segment_type": "shot", "timestamp_sec": 0, "embedding": {"model": )"
                     R"("m", "values": )" +
                     values;
  ExpectBad(alice_, "POST", p, body + ", 1]}}", "embedding");  // 4097 values
  EXPECT_EQ(Call(alice_, "GET", p).json.at("items").as_array().size(), 0u);
  Reply max = Call(alice_, "POST", p, body + "]}}");
  ASSERT_EQ(max.status, 201) << max.body.substr(0, 200);
  EXPECT_EQ(max.json.at("embedding").at("dimension"), 4096);
}

TEST_P(ApiMetadataTest, NonFiniteNumbersAreRefused) {
  // Numbers too large for a double parse as errors or infinities; neither may reach the
  // store as a 500.
  AssetId id = Make(alice_, "clip.mp4");
  for (const char* body :
       {R"({"segment_type": "shot", "timestamp_sec": 1e999})",
        R"({"segment_type": "shot", "timestamp_sec": 0, "brightness": -1e999})",
        R"({"segment_type": "shot", "timestamp_sec": 0, "end_sec": 1e999})",
        R"({"segment_type": "shot", "timestamp_sec": 0, "embedding": {"model": "m",
            "values": [1e999]}})"}) {
    EXPECT_EQ(Call(alice_, "POST", Path(id, "/segments"), body).status, 400) << body;
  }
  EXPECT_EQ(Call(alice_, "PUT", Path(id, "/metadata/audio"), R"({"bpm": 1e999})").status, 400);
}

// --- Check by hash ---------------------------------------------------------------------

TEST_P(ApiMetadataTest, CheckByHashIsRoutedToItsHandler) {
  auto match = router_.Find("POST", "/api/v1/assets/check-by-hash");
  ASSERT_TRUE(match.has_value());
  ASSERT_NE(match->route, nullptr);
  EXPECT_EQ(match->route->name, "checkAssetsByHash");
  EXPECT_TRUE(match->params.empty());
  // GET on that path is the asset route, whose id cannot exist.
  EXPECT_EQ(Call(alice_, "GET", "/api/v1/assets/check-by-hash").status, 404);
}

TEST_P(ApiMetadataTest, CheckByHashAnswersForTheCallersUploadsInRequestOrder) {
  AssetId photo = Make(alice_, "photo");
  AssetId song = Make(alice_, "song", UploadMethod::kWeb);
  Make(bob_, "photo");
  Make(bob_, "bob only");
  Make(alice_, "generated", UploadMethod::kProvider);
  AssetId hidden = Make(alice_, "restricted", UploadMethod::kApi, true);

  std::vector<std::string> ask = {
      Sha256Hex("bob only"), Sha256Hex("photo"), Sha256Hex("generated"), Sha256Hex("new"),
      Sha256Hex("song"),     Sha256Hex("photo"), Sha256Hex("restricted")};
  boost::json::array list;
  for (const auto& h : ask) list.emplace_back(h);
  Reply r = Call(alice_, "POST", "/api/v1/assets/check-by-hash",
                 boost::json::serialize(boost::json::object{{"sha256", list}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto accept = [](const std::string& h) {
    return boost::json::value(boost::json::object{{"sha256", h}, {"action", "accept"}});
  };
  auto duplicate = [](const std::string& h, AssetId id) {
    return boost::json::value(
        boost::json::object{{"sha256", h}, {"action", "duplicate"}, {"asset_id", id}});
  };
  // An age-restricted upload is still a duplicate: uploading it again would answer so too.
  boost::json::array want = {
      accept(ask[0]),          duplicate(ask[1], photo), accept(ask[2]),           accept(ask[3]),
      duplicate(ask[4], song), duplicate(ask[5], photo), duplicate(ask[6], hidden)};
  EXPECT_EQ(r.json, (boost::json::object{{"results", want}}));

  // An admin checks their own uploads, not everyone's.
  Reply admin = Call(admin_, "POST", "/api/v1/assets/check-by-hash",
                     R"({"sha256": [")" + Sha256Hex("photo") + "\"]}");
  EXPECT_EQ(admin.json.at("results").as_array()[0].at("action"), "accept");
}

TEST_P(ApiMetadataTest, CheckByHashRejectsBadInput) {
  const std::string p = "/api/v1/assets/check-by-hash";
  std::string good = Sha256Hex("x");
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ExpectBad(alice_, "POST", p, "{}", "sha256");
  ExpectBad(alice_, "POST", p, R"({"sha256": null})", "sha256");
  ExpectBad(alice_, "POST", p, R"({"sha256": []})", "sha256");
  ExpectBad(alice_, "POST", p, R"({"sha256": ")" + good + "\"}", "sha256");
  ExpectBad(alice_, "POST", p, R"({"sha256": [1]})", "sha256");
  ExpectBad(alice_, "POST", p, R"({"sha256": [")" + upper + "\"]}", "sha256[0]");
  ExpectBad(alice_, "POST", p, R"({"sha256": [")" + good + R"(", ")" + good.substr(1) + "\"]}",
            "sha256[1]");
  ExpectBad(alice_, "POST", p, R"({"sha256": [")" + good + R"("], "more": 1})", "more");
  EXPECT_EQ(Call(alice_, "POST", p, "nope").status, 400);

  boost::json::array many;
  for (int i = 0; i < 1000; ++i) many.emplace_back(Sha256Hex(std::to_string(i)));
  Reply ok = Call(alice_, "POST", p, boost::json::serialize(boost::json::object{{"sha256", many}}));
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.json.at("results").as_array().size(), 1000u);
  many.emplace_back(good);
  ExpectBad(alice_, "POST", p, boost::json::serialize(boost::json::object{{"sha256", many}}),
            "sha256");
}

// --- OpenAPI ---------------------------------------------------------------------------

// Every "$ref" under `v`.
void CollectRefs(const boost::json::value& v, std::set<std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (kv.key() == "$ref" && kv.value().is_string()) out.emplace(kv.value().get_string());
      CollectRefs(kv.value(), out);
    }
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) CollectRefs(e, out);
  }
}

TEST_P(ApiMetadataTest, OpenApiDocumentDescribesTheRoutes) {
  Reply doc = Call(alice_, "GET", "/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  const auto& paths = doc.json.at("paths").as_object();
  struct Op {
    const char* path;
    const char* method;
    const char* request;
    const char* response;
  };
  for (const Op& op : {
           Op{"/api/v1/assets/{id}/metadata/3d", "get", "", "Asset3dMetadata"},
           Op{"/api/v1/assets/{id}/metadata/3d", "put", "Asset3dMetadata", "Asset3dMetadata"},
           Op{"/api/v1/assets/{id}/metadata/audio", "get", "", "AssetAudioMetadata"},
           Op{"/api/v1/assets/{id}/metadata/audio", "put", "AssetAudioMetadata",
              "AssetAudioMetadata"},
           Op{"/api/v1/assets/{id}/metadata/adult", "get", "", "AssetAdultMetadata"},
           Op{"/api/v1/assets/{id}/metadata/adult", "put", "AssetAdultMetadata",
              "AssetAdultMetadata"},
           Op{"/api/v1/assets/{id}/segments", "get", "", "SegmentList"},
           Op{"/api/v1/assets/{id}/segments", "post", "SegmentInput", "Segment"},
           Op{"/api/v1/assets/{id}/segments/{segment_id}", "delete", "", ""},
           Op{"/api/v1/assets/check-by-hash", "post", "HashCheck", "HashCheckResult"},
       }) {
    SCOPED_TRACE(std::string(op.method) + " " + op.path);
    ASSERT_TRUE(paths.contains(op.path));
    ASSERT_TRUE(paths.at(op.path).as_object().contains(op.method));
    const auto& o = paths.at(op.path).at(op.method).as_object();
    EXPECT_FALSE(o.at("summary").as_string().empty());
    EXPECT_EQ(o.at("tags").as_array().size(), 1u);
    EXPECT_TRUE(o.contains("security"));
    std::set<std::string> refs;
    CollectRefs(o.at("responses"), refs);
    if (*op.response) {
      EXPECT_TRUE(refs.contains(std::string("#/components/schemas/") + op.response));
    }
    if (*op.request) {
      EXPECT_EQ(o.at("requestBody").at("content").at("application/json").at("schema"),
                (boost::json::object{{"$ref", std::string("#/components/schemas/") + op.request}}));
    } else {
      EXPECT_FALSE(o.contains("requestBody"));
    }
    std::set<std::string> names;
    if (o.contains("parameters")) {
      for (const auto& param : o.at("parameters").as_array()) {
        names.emplace(param.at("name").as_string());
      }
    }
    std::set<std::string> want = {"id"};
    if (std::string_view(op.path).ends_with("{segment_id}")) want.insert("segment_id");
    if (std::string_view(op.path).ends_with("check-by-hash")) want.clear();
    EXPECT_EQ(names, want);
  }
  // Every schema referenced anywhere in the document exists.
  std::set<std::string> refs;
  CollectRefs(doc.json, refs);
  const auto& schemas = doc.json.at("components").at("schemas").as_object();
  for (const std::string& ref : refs) {
    std::string prefix = "#/components/schemas/";
    ASSERT_TRUE(ref.starts_with(prefix)) << ref;
    EXPECT_TRUE(schemas.contains(ref.substr(prefix.size()))) << ref;
  }
}

PV_INSTANTIATE_STORE_TEST(ApiMetadataTest);

}  // namespace
}  // namespace pixvault::http
