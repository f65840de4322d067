#include "media/thumbnail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "media/thumbnail_test_util.h"
#include "media/vips_util.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::AlphaAt;
using ::pixvault::media::testing::Decoded;
using ::pixvault::media::testing::DecodeWebp;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::media::testing::Thumb;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;
using ::testing::HasSubstr;

// ---- Video ----

TEST(RenderThumbnail, VideoPosterComesFromTheSharpPart) {
  PV_MEDIA_OR_SKIP(video, "fade_in.mp4");  // black to 2 s, fade to 4 s, testsrc2 to 8 s
  PV_MEDIA_OR_SKIP(still, "image.png");    // a testsrc2 frame, for the expected brightness
  const Result<RenderedImage> poster = Thumb(video, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 320);
  EXPECT_EQ(poster->height, 240);
  const Result<RenderedImage> reference = Thumb(still, MediaType::kImage);
  ASSERT_TRUE(reference.has_value()) << reference.error().message;
  const double mean = DecodeWebp(poster->webp).MeanBrightness();
  const double expected = DecodeWebp(reference->webp).MeanBrightness();
  RecordProperty("poster_mean", std::to_string(mean));
  RecordProperty("testsrc2_mean", std::to_string(expected));
  // A black frame is ~16, a frame in the middle of the fade ~half; the sharp part is full.
  EXPECT_GT(mean, expected * 0.9);
  EXPECT_LT(mean, expected * 1.1);
}

TEST(RenderThumbnail, RotatedVideoGivesAPortraitPoster) {
  PV_MEDIA_OR_SKIP(video, "rotated.mp4");  // 320x240 stored, displayed turned a quarter
  const Result<RenderedImage> poster = Thumb(video, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 240);
  EXPECT_EQ(poster->height, 320);
  const Decoded decoded = DecodeWebp(poster->webp);
  EXPECT_EQ(decoded.width, 240);
  EXPECT_EQ(decoded.height, 320);
}

TEST(RenderThumbnail, HdrVideoIsToneMappedToSdr) {
  PV_MEDIA_OR_SKIP(hdr, "hdr_pq.mp4");  // testsrc2 as PQ 10-bit BT.2020, 100-nit content
  PV_MEDIA_OR_SKIP(sdr, "video.mp4");   // the same pattern in SDR
  const Result<RenderedImage> poster = Thumb(hdr, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 320);
  const Decoded decoded = DecodeWebp(poster->webp);
  ASSERT_EQ(decoded.bands, 3);  // 8-bit (checked in DecodeWebp), RGB
  const Result<RenderedImage> reference = Thumb(sdr, MediaType::kVideo);
  ASSERT_TRUE(reference.has_value()) << reference.error().message;
  const double mean = decoded.MeanBrightness();
  const double expected = DecodeWebp(reference->webp).MeanBrightness();
  RecordProperty("hdr_mean", std::to_string(mean));
  RecordProperty("sdr_mean", std::to_string(expected));
  // Not washed out (PQ code values shown as if SDR look grey and flat) and not black: the
  // Hable curve darkens 100-nit content somewhat, so the mean lands below the SDR one.
  EXPECT_GT(mean, expected * 0.4);
  EXPECT_LT(mean, expected * 1.15);
  // PQ code values for 100-nit content span about half the range: shown without tone mapping
  // the frame has about 0.4 of the SDR contrast (measured with ffmpeg: luma standard deviation
  // 25 against 66); tone-mapped, about 0.6.
  const double contrast = decoded.Contrast();
  const double expected_contrast = DecodeWebp(reference->webp).Contrast();
  RecordProperty("hdr_contrast", std::to_string(contrast));
  RecordProperty("sdr_contrast", std::to_string(expected_contrast));
  EXPECT_GT(contrast, expected_contrast * 0.5);
}

TEST(RenderThumbnail, SingleFrameVideo) {
  PV_MEDIA_OR_SKIP(video, "single_frame.mp4");
  const Result<RenderedImage> poster = Thumb(video, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 320);
  EXPECT_EQ(poster->height, 240);
  EXPECT_GT(DecodeWebp(poster->webp).MeanBrightness(), 40);
}

TEST(RenderThumbnail, VideoErrors) {
  PV_MEDIA_OR_SKIP(audio, "audio.wav");
  const Result<RenderedImage> no_video = Thumb(audio, MediaType::kVideo);
  ASSERT_FALSE(no_video.has_value());
  EXPECT_EQ(no_video.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(no_video.error().message, HasSubstr("no video stream"));

  PV_MEDIA_OR_SKIP(video, "video.mp4");  // moov at the end: half a file has no index
  const std::string bytes = ReadFile(video);
  const std::filesystem::path truncated = ScratchDir() / "truncated.mp4";
  WriteFile(truncated, bytes.substr(0, bytes.size() / 2));
  const Result<RenderedImage> broken = Thumb(truncated, MediaType::kVideo);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt) << broken.error().message;

  RenderOptions limited;
  limited.max_pixels = 320 * 239;
  const Result<RenderedImage> too_big = RenderThumbnail(video, MediaType::kVideo, limited);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, ErrorCode::kInvalidArgument);
}

TEST(RenderThumbnail, VideoWithFlippedBytesFailsOrRendersWithoutCrashing) {
  PV_MEDIA_OR_SKIP(video, "video.mp4");
  std::string bytes = ReadFile(video);
  std::mt19937 random(11);
  // Damage the frame data (the first 48 bytes hold the ftyp box and mdat header).
  for (int i = 0; i < 200; ++i) {
    const std::size_t at = 48 + random() % (bytes.size() / 2);
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
  }
  const std::filesystem::path damaged = ScratchDir() / "flipped.mp4";
  WriteFile(damaged, bytes);
  const Result<RenderedImage> poster = Thumb(damaged, MediaType::kVideo);
  if (poster.has_value()) {
    EXPECT_EQ(DecodeWebp(poster->webp).width, poster->width);
  } else {
    EXPECT_EQ(poster.error().code, ErrorCode::kCorrupt) << poster.error().message;
  }
}

TEST(RenderVideoFrames, GivesTheFrameShownAtEachTimeInTheCallersOrder) {
  PV_MEDIA_OR_SKIP(video, "fade_in.mp4");  // black to 2 s, fade to 4 s, testsrc2 to 8 s
  RenderOptions options;
  options.size = 160;
  // Out of order, one time twice, one past the end (the last frame).
  const Result<std::vector<RenderedImage>> frames =
      RenderVideoFrames(video, {5.0, 0.5, 100.0, 5.0, 3.0}, options);
  ASSERT_TRUE(frames.has_value()) << frames.error().message;
  ASSERT_EQ(frames->size(), 5u);
  std::vector<double> means;
  for (const RenderedImage& frame : *frames) {
    EXPECT_EQ(frame.width, 160);
    EXPECT_EQ(frame.height, 120);
    means.push_back(DecodeWebp(frame.webp).MeanBrightness());
  }
  EXPECT_LT(means[1], 30);             // black
  EXPECT_GT(means[0], means[1] + 40);  // the pattern
  EXPECT_GT(means[2], means[1] + 40);
  EXPECT_NEAR(means[3], means[0], 1);
  EXPECT_GT(means[4], means[1]);  // half way through the fade
  EXPECT_LT(means[4], means[0]);
}

TEST(RenderVideoFrames, FramesAreUprightAndBadTimesAreRefused) {
  PV_MEDIA_OR_SKIP(video, "rotated.mp4");
  const Result<std::vector<RenderedImage>> frames = RenderVideoFrames(video, {0.2});
  ASSERT_TRUE(frames.has_value()) << frames.error().message;
  EXPECT_EQ(frames->at(0).width, 240);
  EXPECT_EQ(frames->at(0).height, 320);
  const auto negative = RenderVideoFrames(video, {1.0, -1.0});
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(RenderVideoFrames(video, {}).has_value());
  PV_MEDIA_OR_SKIP(audio, "audio.wav");
  const auto no_video = RenderVideoFrames(audio, {0.0});
  ASSERT_FALSE(no_video.has_value());
  EXPECT_EQ(no_video.error().code, ErrorCode::kCorrupt);
}

TEST(RenderDerivatives, VideoPosterIsDecodedOnceForAllThree) {
  PV_MEDIA_OR_SKIP(video, "fade_in.mp4");
  const Result<Derivatives> out = RenderDerivatives(video, MediaType::kVideo);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->preview.width, 320);  // 320x240 source: never enlarged
  EXPECT_EQ(out->thumbnail.width, 320);
  ASSERT_TRUE(out->hashes.has_value());
  EXPECT_NE(out->hashes->phash, 0u);  // not a flat (black) frame
  DerivativeOptions small;
  small.thumbnail_size = 64;
  small.preview_size = 160;
  const Result<Derivatives> scaled = RenderDerivatives(video, MediaType::kVideo, small);
  ASSERT_TRUE(scaled.has_value()) << scaled.error().message;
  EXPECT_EQ(scaled->preview.width, 160);
  EXPECT_EQ(scaled->preview.height, 120);
  EXPECT_EQ(scaled->thumbnail.width, 64);
  EXPECT_EQ(scaled->thumbnail.height, 48);
}

// ---- Audio ----

TEST(RenderThumbnail, AudioGivesAWaveform) {
  for (const char* name : {"audio.wav", "audio.mp3", "audio.ogg", "audio.flac"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path path = MediaFile(name);
    if (path.empty()) continue;
    const Result<RenderedImage> thumb = Thumb(path, MediaType::kAudio);
    ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
    EXPECT_EQ(thumb->width, 320);
    EXPECT_EQ(thumb->height, 80);
    const Decoded decoded = DecodeWebp(thumb->webp);
    ASSERT_EQ(decoded.bands, 4);
    ASSERT_EQ(decoded.height, 80);
    // lavfi's sine has amplitude 1/8: the wave reaches 5 of the 40 rows above the centre.
    EXPECT_GT(AlphaAt(decoded, 160, 38), 200);
    EXPECT_LT(AlphaAt(decoded, 160, 2), 50);
  }
}

TEST(RenderThumbnail, WaveformFollowsTheLoudness) {
  PV_MEDIA_OR_SKIP(path, "audio_half_silent.wav");  // silent for 1 s, then a sine for 1 s
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kAudio, 400);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  const Decoded decoded = DecodeWebp(thumb->webp);
  ASSERT_EQ(decoded.width, 400);
  ASSERT_EQ(decoded.height, 100);
  for (const int x : {20, 100, 180}) {
    EXPECT_GT(AlphaAt(decoded, x, 50), 200) << x;  // the centre line
    EXPECT_LT(AlphaAt(decoded, x, 46), 50) << x;   // nothing above it
  }
  for (const int x : {220, 300, 380}) EXPECT_GT(AlphaAt(decoded, x, 46), 200) << x;
}

TEST(RenderThumbnail, AudioErrors) {
  PV_MEDIA_OR_SKIP(video, "video.mp4");
  const Result<RenderedImage> no_audio = Thumb(video, MediaType::kAudio);
  ASSERT_FALSE(no_audio.has_value());
  EXPECT_EQ(no_audio.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(no_audio.error().message, HasSubstr("no audio stream"));
}

TEST(RenderDerivatives, AudioWaveformsAtBothSizesWithoutHashes) {
  PV_MEDIA_OR_SKIP(path, "audio.mp3");
  const Result<Derivatives> out = RenderDerivatives(path, MediaType::kAudio);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->preview.width, 1280);
  EXPECT_EQ(out->preview.height, 320);
  EXPECT_EQ(out->thumbnail.width, 320);
  EXPECT_EQ(out->thumbnail.height, 80);
  EXPECT_EQ(DecodeWebp(out->thumbnail.webp).height, 80);
  EXPECT_FALSE(out->hashes.has_value());
}

TEST(RenderThumbnail, VideoAudioAnd3dOptionsAreChecked) {
  PV_MEDIA_OR_SKIP(video, "video.mp4");
  PV_MEDIA_OR_SKIP(audio, "audio.wav");
  for (const auto& [path, type] :
       {std::pair{video, MediaType::kVideo}, std::pair{audio, MediaType::kAudio}}) {
    EXPECT_EQ(Thumb(path, type, 8).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(Thumb(path, type, 20000).error().code, ErrorCode::kInvalidArgument);
    RenderOptions bad_quality;
    bad_quality.webp_quality = 101;
    EXPECT_EQ(RenderThumbnail(path, type, bad_quality).error().code, ErrorCode::kInvalidArgument);
  }
  // Bad options are reported before the type's own refusal.
  EXPECT_EQ(Thumb(video, MediaType::kModel3d, 8).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pixvault::media
