#include "media/keyframes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;

#define PV_MEDIA_OR_SKIP(var, name)                  \
  const std::filesystem::path var = MediaFile(name); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

// keyframes.mp4 has a keyframe every second (every 25th frame at 25 fps), 4 s long.
TEST(NearestKeyframe, SnapsToTheNearestGroupOfPicturesBoundary) {
  PV_MEDIA_OR_SKIP(path, "keyframes.mp4");
  struct Case {
    double time;
    double keyframe;
  };
  for (const Case& c : {Case{0, 0}, Case{0.4, 0}, Case{0.6, 1}, Case{2.3, 2}, Case{2.5, 2},
                        Case{2.7, 3}, Case{3.0, 3}, Case{3.9, 3}, Case{60, 3}}) {
    const Result<Keyframe> k = NearestKeyframe(path, c.time);
    ASSERT_TRUE(k.has_value()) << c.time << ": " << k.error().message;
    EXPECT_NEAR(k->time_sec, c.keyframe, 1e-6) << "at " << c.time;
    ASSERT_TRUE(k->frame.has_value());
    EXPECT_EQ(*k->frame, std::llround(c.keyframe * 25)) << "at " << c.time;
  }
}

TEST(NearestKeyframe, AVideoWithOneKeyframeAlwaysSnapsToIt) {
  PV_MEDIA_OR_SKIP(path, "video.mp4");  // 2 s, the encoder's default GOP: one keyframe
  for (double t : {0.0, 1.0, 1.96}) {
    const Result<Keyframe> k = NearestKeyframe(path, t);
    ASSERT_TRUE(k.has_value()) << k.error().message;
    EXPECT_EQ(k->time_sec, 0.0);
    EXPECT_EQ(k->frame, 0);
  }
}

TEST(NearestKeyframe, WebmWithoutAnIndexEntryForTheTime) {
  PV_MEDIA_OR_SKIP(path, "video.webm");
  const Result<Keyframe> k = NearestKeyframe(path, 0.5);
  ASSERT_TRUE(k.has_value()) << k.error().message;
  EXPECT_EQ(k->time_sec, 0.0);
}

TEST(NearestKeyframe, BadInputsAreClearErrors) {
  PV_MEDIA_OR_SKIP(video, "keyframes.mp4");
  PV_MEDIA_OR_SKIP(audio, "audio.wav");
  EXPECT_EQ(NearestKeyframe(video, -1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(NearestKeyframe(video, NAN).error().code, ErrorCode::kInvalidArgument);
  const auto no_video = NearestKeyframe(audio, 0.5);
  ASSERT_FALSE(no_video.has_value());
  EXPECT_EQ(no_video.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(no_video.error().message.find("no video stream"), std::string::npos);
  EXPECT_FALSE(NearestKeyframe(ScratchDir() / "missing.mp4", 1).has_value());

  const std::filesystem::path empty = ScratchDir() / "keyframes-empty.mp4";
  WriteFile(empty, "");
  EXPECT_FALSE(NearestKeyframe(empty, 1).has_value());
  // The first 3 KiB of the file: the moov box (with the index) is at the end, so nothing
  // playable is left.
  const std::string bytes = ReadFile(video);
  const std::filesystem::path truncated = ScratchDir() / "keyframes-truncated.mp4";
  WriteFile(truncated, bytes.substr(0, 3072));
  const auto cut = NearestKeyframe(truncated, 1);
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().code, ErrorCode::kInternal) << cut.error().message;
}

}  // namespace
}  // namespace pixvault::media
