// Ingest and asset deletion against real media, the real blob store on a temp dir and both
// database backends.
#include "service/ingest.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "blob/env.h"
#include "core/sha256.h"
#include "service/assets.h"
#include "testing/store_fixture.h"
#include "testing/test_media.h"

namespace pixvault::service {
namespace {

using media::testing::MediaFile;
using pixvault::testing::TempDir;
using pixvault::testing::WriteFile;

// Files under `dir`, recursively.
int CountFiles(const std::filesystem::path& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file() ? 1 : 0;
  }
  return n;
}

class IngestTest : public pixvault::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    blob_dir_ = std::make_unique<TempDir>();
    auto blobs = blob::FsBlobStore::Create(env_, blob_dir_->path());
    ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
    blobs_ = std::move(*blobs);
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, false, 0}));
    ingestor_ = std::make_unique<Ingestor>(*store_, *blobs_, clock_);
  }

  // Asserts that no blob, temp file or asset row exists.
  void ExpectNothingStored() {
    EXPECT_EQ(CountFiles(blob_dir_->path()), 0);
    auto page = store_->ListAssets(Viewer{0, true, true}, {}, storage::PageRequest{10, {}});
    ASSERT_TRUE(page.has_value());
    EXPECT_TRUE(page->items.empty());
  }

  blob::PosixEnv env_;
  std::unique_ptr<TempDir> blob_dir_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<Ingestor> ingestor_;
  TempDir inputs_;
  User alice_, bob_;
};

TEST_P(IngestTest, VideoIsHashedSniffedProbedAndStoredOnce) {
  auto path = MediaFile("video.mp4");
  if (path.empty()) GTEST_SKIP() << "ffmpeg cannot make video.mp4";
  IngestRequest req;
  req.tags = {"test"};
  req.content_category = "calibration";
  PV_ASSERT_OK_AND_ASSIGN(IngestResult r, ingestor_->IngestFile(alice_, path, req));
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.asset.media_type, MediaType::kVideo);
  EXPECT_EQ(r.asset.mime_type, "video/mp4");
  EXPECT_EQ(r.asset.width, 320);
  EXPECT_EQ(r.asset.height, 240);
  EXPECT_NEAR(*r.asset.fps, 25, 0.01);
  EXPECT_NEAR(*r.asset.duration_sec, 2, 0.1);
  EXPECT_EQ(r.asset.original_filename, "video.mp4");
  EXPECT_EQ(r.asset.tags, (std::vector<std::string>{"test"}));
  EXPECT_EQ(r.asset.sha256, Sha256Hex(pixvault::testing::ReadFile(path)));
  EXPECT_EQ(r.asset.file_size_bytes, static_cast<std::int64_t>(std::filesystem::file_size(path)));
  EXPECT_NE(r.asset.media_metadata.find("video_codec"), std::string::npos);
  PV_ASSERT_OK_AND_ASSIGN(std::string verified, blobs_->Verify(*r.asset.sha256));
  EXPECT_EQ(verified, *r.asset.sha256);

  PV_ASSERT_OK_AND_ASSIGN(IngestResult again, ingestor_->IngestFile(alice_, path, req));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.asset.id, r.asset.id);
  PV_ASSERT_OK_AND_ASSIGN(IngestResult other, ingestor_->IngestFile(bob_, path, req));
  EXPECT_FALSE(other.duplicate);
  EXPECT_EQ(CountFiles(blob_dir_->path()), 1);
  PV_ASSERT_OK_AND_ASSIGN(Blob blob, store_->GetBlob(*r.asset.sha256));
  EXPECT_EQ(blob.refcount, 2);
}

TEST_P(IngestTest, ImagesAudioAndModelsGetTheirTypes) {
  struct Case {
    const char* name;
    MediaType type;
  };
  for (Case c : {Case{"image.png", MediaType::kImage}, Case{"image.jpeg", MediaType::kImage},
                 Case{"audio.wav", MediaType::kAudio}}) {
    auto path = MediaFile(c.name);
    if (path.empty()) continue;
    PV_ASSERT_OK_AND_ASSIGN(IngestResult r, ingestor_->IngestFile(alice_, path, {}));
    EXPECT_EQ(r.asset.media_type, c.type) << c.name;
    if (c.type == MediaType::kImage) {
      EXPECT_EQ(r.asset.width, 320) << c.name;
    }
    if (c.type == MediaType::kAudio) {
      EXPECT_NEAR(*r.asset.duration_sec, 1, 0.1);
    }
  }
  // A minimal GLB container: 12-byte header + a JSON chunk.
  std::string json = R"({"asset":{"version":"2.0"}})";
  while (json.size() % 4) json += ' ';
  std::string glb = "glTF";
  auto u32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                       static_cast<char>((v >> 16) & 0xff), static_cast<char>(v >> 24)};
  };
  glb += u32(2) + u32(static_cast<std::uint32_t>(20 + json.size())) +
         u32(static_cast<std::uint32_t>(json.size())) + "JSON" + json;
  WriteFile(inputs_ / "model.glb", glb);
  PV_ASSERT_OK_AND_ASSIGN(IngestResult m, ingestor_->IngestFile(alice_, inputs_ / "model.glb", {}));
  EXPECT_EQ(m.asset.media_type, MediaType::kModel3d);
}

TEST_P(IngestTest, BadInputsLeaveNothingBehind) {
  WriteFile(inputs_ / "empty.mp4", "");
  PV_EXPECT_ERROR(ingestor_->IngestFile(alice_, inputs_ / "empty.mp4", {}),
                  ErrorCode::kInvalidArgument);
  WriteFile(inputs_ / "notes.mp4", "just some text pretending to be a video\n");
  PV_EXPECT_ERROR(ingestor_->IngestFile(alice_, inputs_ / "notes.mp4", {}),
                  ErrorCode::kUnsupported);
  PV_EXPECT_ERROR(ingestor_->IngestFile(alice_, inputs_ / "missing.mp4", {}), ErrorCode::kNotFound);
  PV_EXPECT_ERROR(ingestor_->IngestFile(alice_, inputs_.path(), {}), ErrorCode::kInvalidArgument);
  auto video = MediaFile("video.mp4");
  if (!video.empty()) {
    std::string bytes = pixvault::testing::ReadFile(video);
    WriteFile(inputs_ / "truncated.mp4", bytes.substr(0, bytes.size() / 2));
    PV_EXPECT_ERROR(ingestor_->IngestFile(alice_, inputs_ / "truncated.mp4", {}),
                    ErrorCode::kCorrupt);
    IngestRequest wrong_hash;
    wrong_hash.expected_sha256 = Sha256Hex("something else");
    PV_EXPECT_ERROR(ingestor_->IngestFile(alice_, video, wrong_hash), ErrorCode::kInvalidArgument);
    Ingestor small(*store_, *blobs_, clock_, IngestOptions{1024, 268'402'689});
    PV_EXPECT_ERROR(small.IngestFile(alice_, video, {}), ErrorCode::kInvalidArgument);
  }
  ExpectNothingStored();
}

TEST_P(IngestTest, SourceFailingMidStreamLeavesNothing) {
  auto video = MediaFile("video.mp4");
  if (video.empty()) GTEST_SKIP();
  std::string bytes = pixvault::testing::ReadFile(video);
  std::size_t offset = 0;
  ByteSource source = [&](std::span<std::byte> buf) -> Result<std::size_t> {
    if (offset > bytes.size() / 3) return Fail(ErrorCode::kUnavailable, "file vanished");
    std::size_t n = std::min<std::size_t>(buf.size(), 4096);
    std::memcpy(buf.data(), bytes.data() + offset, n);
    offset += n;
    return n;
  };
  PV_EXPECT_ERROR(ingestor_->IngestStream(alice_, source, {}), ErrorCode::kUnavailable);
  ExpectNothingStored();
}

TEST_P(IngestTest, ConcurrentIdenticalIngestsYieldOneAsset) {
  auto video = MediaFile("video.mp4");
  if (video.empty()) GTEST_SKIP();
  std::vector<std::thread> threads;
  std::vector<Result<IngestResult>> results(4);
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = ingestor_->IngestFile(alice_, video, {}); });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    created += r->duplicate ? 0 : 1;
    EXPECT_EQ(r->asset.id, results[0]->asset.id);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(CountFiles(blob_dir_->path()), 1);
}

TEST_P(IngestTest, DeleteRemovesBytesWithTheLastAsset) {
  auto path = MediaFile("image.png");
  if (path.empty()) GTEST_SKIP();
  PV_ASSERT_OK_AND_ASSIGN(IngestResult a, ingestor_->IngestFile(alice_, path, {}));
  PV_ASSERT_OK_AND_ASSIGN(IngestResult b, ingestor_->IngestFile(bob_, path, {}));
  PV_ASSERT_OK(DeleteAsset(*store_, *blobs_, Viewer::For(alice_), a.asset.id));
  PV_ASSERT_OK_AND_ASSIGN(bool still, blobs_->Exists(*a.asset.sha256));
  EXPECT_TRUE(still);
  PV_EXPECT_ERROR(DeleteAsset(*store_, *blobs_, Viewer::For(alice_), b.asset.id),
                  ErrorCode::kNotFound);
  PV_ASSERT_OK(DeleteAsset(*store_, *blobs_, Viewer::For(bob_), b.asset.id));
  ExpectNothingStored();
}

TEST_P(IngestTest, FsckFindsAndRepairsBothDirections) {
  auto png = MediaFile("image.png");
  auto wav = MediaFile("audio.wav");
  if (png.empty() || wav.empty()) GTEST_SKIP();
  PV_ASSERT_OK_AND_ASSIGN(IngestResult img, ingestor_->IngestFile(alice_, png, {}));
  PV_ASSERT_OK_AND_ASSIGN(IngestResult snd, ingestor_->IngestFile(alice_, wav, {}));
  FsckOptions check;
  check.grace = 0;
  check.verify_content = true;
  PV_ASSERT_OK_AND_ASSIGN(FsckReport clean, Fsck(*store_, *blobs_, clock_, check));
  EXPECT_TRUE(clean.clean());
  EXPECT_EQ(clean.blobs_checked, 2);

  // A file without a row (crash after publish), and a row whose file vanished.
  PV_ASSERT_OK_AND_ASSIGN(auto w, blobs_->BeginWrite({}));
  std::string stray = "orphaned bytes";
  PV_ASSERT_OK(w->Append(std::as_bytes(std::span(stray))));
  PV_ASSERT_OK_AND_ASSIGN(std::string orphan_sha, w->Finish());
  PV_ASSERT_OK(w->Publish());
  std::filesystem::remove(blobs_->PathFor(*snd.asset.sha256));
  clock_.Set(SystemClock().Now() + 3600 * kMicrosPerSecond);

  PV_ASSERT_OK_AND_ASSIGN(FsckReport dirty, Fsck(*store_, *blobs_, clock_, check));
  EXPECT_EQ(dirty.orphan_files, std::vector<std::string>{orphan_sha});
  EXPECT_EQ(dirty.missing_files, std::vector<std::string>{*snd.asset.sha256});
  PV_ASSERT_OK_AND_ASSIGN(bool orphan_still, blobs_->Exists(orphan_sha));
  EXPECT_TRUE(orphan_still);  // a check without --repair changes nothing

  FsckOptions repair = check;
  repair.repair = true;
  PV_ASSERT_OK_AND_ASSIGN(FsckReport fixed, Fsck(*store_, *blobs_, clock_, repair));
  EXPECT_EQ(fixed.orphans_removed, 1);
  EXPECT_EQ(fixed.assets_marked_error, 1);
  PV_ASSERT_OK_AND_ASSIGN(bool orphan_after, blobs_->Exists(orphan_sha));
  EXPECT_FALSE(orphan_after);
  PV_ASSERT_OK_AND_ASSIGN(Asset broken, store_->GetAsset(Viewer::For(alice_), snd.asset.id));
  EXPECT_EQ(broken.sync_status, SyncStatus::kError);
  PV_ASSERT_OK_AND_ASSIGN(Asset fine, store_->GetAsset(Viewer::For(alice_), img.asset.id));
  EXPECT_EQ(fine.sync_status, SyncStatus::kDownloaded);
}

PV_INSTANTIATE_STORE_TEST(IngestTest);

}  // namespace
}  // namespace pixvault::service
