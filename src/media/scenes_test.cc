#include "media/scenes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::GeneratedFile;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;
using ::testing::HasSubstr;

// All clips are 25 fps H.264, so frame n starts at n / 25 s.
constexpr std::string_view kEncode = " -c:v libx264 -preset veryfast -pix_fmt yuv420p";

#define PV_CLIP_OR_SKIP(var, name, args)                                                           \
  const std::filesystem::path var = GeneratedFile(name, std::string(args) + std::string(kEncode)); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

// Four 2 s segments with hard cuts at frames 50, 100 and 150; the last one plain red.
constexpr std::string_view kCuts =
    "-f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i mandelbrot=s=320x240:r=25 "
    "-f lavfi -i smptebars=s=320x240:r=25:d=2 -f lavfi -i color=c=red:s=320x240:r=25:d=2 "
    "-filter_complex '[1]trim=duration=2,setpts=PTS-STARTPTS[m];[0][m][2][3]concat=n=4:v=1:a=0'";
// testsrc2 fading out over 2-3 s, smptebars fading in over 3-4 s: dark around frame 75.
constexpr std::string_view kFade =
    "-f lavfi -i testsrc2=s=320x240:r=25:d=3 -f lavfi -i smptebars=s=320x240:r=25:d=3 "
    "-filter_complex '[0]fade=t=out:st=2:d=1[a];[1]fade=t=in:st=0:d=1[b];"
    "[a][b]concat=n=2:v=1:a=0'";
// A 1 s cross-dissolve from testsrc2 to smptebars over frames 50-75.
constexpr std::string_view kDissolve =
    "-f lavfi -i testsrc2=s=320x240:r=25:d=3 -f lavfi -i smptebars=s=320x240:r=25:d=3 "
    "-filter_complex '[0][1]xfade=transition=fade:duration=1:offset=2'";
// Black for 2 s, then white for 2 s.
constexpr std::string_view kBlackWhite =
    "-f lavfi -i color=c=black:s=320x240:r=25:d=2 -f lavfi -i color=c=white:s=320x240:r=25:d=2 "
    "-filter_complex '[0][1]concat=n=2:v=1:a=0'";
// A window moving right over a wide testsrc2 at 80 px/s (a quarter of its width per second).
constexpr std::string_view kPan =
    "-f lavfi -i testsrc2=s=1280x240:r=25:d=4 -vf \"crop=320:240:'t*80':0\"";
// The same turned a quarter: the content moves vertically.
constexpr std::string_view kTilt =
    "-f lavfi -i testsrc2=s=1280x240:r=25:d=4 -vf \"crop=320:240:'t*80':0,transpose=1\"";
// Zooming in on the centre by 0.4% per frame (10% per second).
constexpr std::string_view kZoom =
    "-f lavfi -i testsrc2=s=640x480:r=25:d=4 "
    "-vf \"zoompan=z='pzoom+0.004':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=320x240:"
    "fps=25\"";
// A window jumping at random by up to 10 px each way every frame.
constexpr std::string_view kShake =
    "-f lavfi -i testsrc2=s=400x300:r=25:d=4 "
    "-vf \"crop=320:240:'20+10*random(1)':'20+10*random(2)'\"";
// One still picture for 4 s.
constexpr std::string_view kStill =
    "-f lavfi -i testsrc2=s=320x240:r=25:d=1 -vf trim=end_frame=1,loop=loop=99:size=1:start=0";

Result<SceneAnalysis> Detect(const std::filesystem::path& path) { return DetectScenes(path); }

// Every frame belongs to exactly one shot, in order.
void ExpectShotsTile(const SceneAnalysis& analysis) {
  ASSERT_FALSE(analysis.shots.empty());
  EXPECT_EQ(analysis.shots.front().start_frame, 0);
  EXPECT_EQ(analysis.shots.front().boundary, ShotBoundary::kStart);
  EXPECT_EQ(analysis.shots.back().end_frame, analysis.frame_count);
  for (std::size_t i = 0; i < analysis.shots.size(); ++i) {
    const Shot& shot = analysis.shots[i];
    EXPECT_LT(shot.start_frame, shot.end_frame);
    EXPECT_LE(shot.start_sec, shot.end_sec);
    EXPECT_GE(shot.keyframe, shot.start_frame);
    EXPECT_LT(shot.keyframe, shot.end_frame);
    EXPECT_GE(shot.keyframe_time_sec, shot.start_sec);
    EXPECT_LE(shot.keyframe_time_sec, shot.end_sec);
    EXPECT_GE(shot.brightness, 0);
    EXPECT_LE(shot.brightness, 1);
    EXPECT_FALSE(shot.dominant_colors.empty());
    if (i > 0) {
      EXPECT_EQ(shot.start_frame, analysis.shots[i - 1].end_frame);
      EXPECT_NE(shot.boundary, ShotBoundary::kStart);
    }
  }
}

std::string Describe(const SceneAnalysis& analysis) {
  std::string out = std::to_string(analysis.frame_count) + " frames:";
  for (const Shot& shot : analysis.shots) {
    out += " [" + std::to_string(shot.start_frame) + "," + std::to_string(shot.end_frame) + ") " +
           std::string(ShotBoundaryName(shot.boundary)) + " " +
           std::string(CameraMotionName(shot.camera_motion)) + " dx " +
           std::to_string(shot.motion.dx_per_sec) + " dy " +
           std::to_string(shot.motion.dy_per_sec) + " speed " +
           std::to_string(shot.motion.speed_per_sec) + " zoom " +
           std::to_string(shot.motion.zoom_per_sec) + ";";
  }
  return out;
}

int Channel(const std::string& hex, int index) {
  return static_cast<int>(
      std::strtol(hex.substr(1 + 2 * static_cast<std::size_t>(index), 2).c_str(), nullptr, 16));
}

TEST(DetectScenes, FindsHardCutsWithinOneFrame) {
  PV_CLIP_OR_SKIP(clip, "scenes_cuts.mp4", kCuts);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  SCOPED_TRACE(Describe(*analysis));
  EXPECT_EQ(analysis->frame_count, 200);
  EXPECT_NEAR(analysis->fps, 25, 1e-6);
  EXPECT_EQ(analysis->width, 320);
  EXPECT_EQ(analysis->height, 240);
  EXPECT_FALSE(analysis->truncated);
  ExpectShotsTile(*analysis);
  ASSERT_EQ(analysis->shots.size(), 4U);
  const std::int64_t cuts[] = {50, 100, 150};
  for (std::size_t i = 0; i < 3; ++i) {
    const Shot& shot = analysis->shots[i + 1];
    EXPECT_EQ(shot.boundary, ShotBoundary::kCut);
    EXPECT_NEAR(static_cast<double>(shot.start_frame), static_cast<double>(cuts[i]), 1);
    EXPECT_NEAR(shot.start_sec, static_cast<double>(shot.start_frame) / 25, 1e-3);
  }
  EXPECT_NEAR(analysis->shots.back().end_sec, 8.0, 1e-3);
}

TEST(DetectScenes, RedShotIsDominantlyRed) {
  PV_CLIP_OR_SKIP(clip, "scenes_cuts.mp4", kCuts);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  const Shot& red = analysis->shots.back();
  ASSERT_FALSE(red.dominant_colors.empty());
  const DominantColor& top = red.dominant_colors.front();
  EXPECT_GT(top.weight, 0.9);
  EXPECT_GE(Channel(top.hex, 0), 230) << top.hex;
  EXPECT_LE(Channel(top.hex, 1), 25) << top.hex;
  EXPECT_LE(Channel(top.hex, 2), 25) << top.hex;
  // The test card has several colours, none of them the whole picture.
  const Shot& card = analysis->shots.front();
  EXPECT_GE(card.dominant_colors.size(), 3U);
  EXPECT_LT(card.dominant_colors.front().weight, 0.5);
}

TEST(DetectScenes, BlackAndWhiteShotsHaveTheirBrightness) {
  PV_CLIP_OR_SKIP(clip, "scenes_black_white.mp4", kBlackWhite);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  SCOPED_TRACE(Describe(*analysis));
  ExpectShotsTile(*analysis);
  ASSERT_EQ(analysis->shots.size(), 2U);
  EXPECT_NEAR(static_cast<double>(analysis->shots[1].start_frame), 50, 1);
  EXPECT_LT(analysis->shots[0].brightness, 0.05);
  EXPECT_GT(analysis->shots[1].brightness, 0.95);
  EXPECT_EQ(analysis->shots[0].dominant_colors.front().hex, "#000000");
  EXPECT_EQ(analysis->shots[1].dominant_colors.front().hex, "#ffffff");
}

TEST(DetectScenes, FadeOutAndInIsOneFadeBoundary) {
  PV_CLIP_OR_SKIP(clip, "scenes_fade.mp4", kFade);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  SCOPED_TRACE(Describe(*analysis));
  ExpectShotsTile(*analysis);
  ASSERT_EQ(analysis->shots.size(), 2U);
  EXPECT_EQ(analysis->shots[1].boundary, ShotBoundary::kFade);
  // The middle of the dark stretch around the join at frame 75.
  EXPECT_NEAR(static_cast<double>(analysis->shots[1].start_frame), 75, 2);
}

TEST(DetectScenes, CrossDissolveIsAtMostOneBoundaryInsideIt) {
  PV_CLIP_OR_SKIP(clip, "scenes_dissolve.mp4", kDissolve);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  SCOPED_TRACE(Describe(*analysis));
  ExpectShotsTile(*analysis);
  ASSERT_LE(analysis->shots.size(), 2U);
  if (analysis->shots.size() == 2) {
    EXPECT_GE(analysis->shots[1].start_frame, 49);
    EXPECT_LE(analysis->shots[1].start_frame, 76);
  }
}

TEST(DetectScenes, DeepBlueShotIsCutNotFaded) {
  // Navy is darker than the fade threshold but not black: two hard cuts, no fade.
  PV_CLIP_OR_SKIP(clip, "scenes_navy.mp4",
                  "-f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi "
                  "-i color=c=navy:s=320x240:r=25:d=2 -f lavfi -i smptebars=s=320x240:r=25:d=2 "
                  "-filter_complex '[0][1][2]concat=n=3:v=1:a=0'");
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  SCOPED_TRACE(Describe(*analysis));
  ExpectShotsTile(*analysis);
  ASSERT_EQ(analysis->shots.size(), 3U);
  EXPECT_EQ(analysis->shots[1].boundary, ShotBoundary::kCut);
  EXPECT_NEAR(static_cast<double>(analysis->shots[1].start_frame), 50, 1);
  EXPECT_EQ(analysis->shots[2].boundary, ShotBoundary::kCut);
  EXPECT_NEAR(static_cast<double>(analysis->shots[2].start_frame), 100, 1);
}

struct MotionCase {
  const char* name;
  std::string_view args;
  CameraMotion expected;
};

class CameraMotionTest : public ::testing::TestWithParam<MotionCase> {};

TEST_P(CameraMotionTest, OneShotWithTheRightLabel) {
  const MotionCase& c = GetParam();
  PV_CLIP_OR_SKIP(clip, std::string("scenes_") + c.name + ".mp4", c.args);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  SCOPED_TRACE(Describe(*analysis));
  ExpectShotsTile(*analysis);
  ASSERT_EQ(analysis->shots.size(), 1U);  // no cut inside a smooth motion or a still
  EXPECT_EQ(analysis->shots[0].camera_motion, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Synthetic, CameraMotionTest,
                         ::testing::Values(MotionCase{"pan", kPan, CameraMotion::kPan},
                                           MotionCase{"tilt", kTilt, CameraMotion::kTilt},
                                           MotionCase{"zoom", kZoom, CameraMotion::kZoom},
                                           MotionCase{"shake", kShake, CameraMotion::kShake},
                                           MotionCase{"still", kStill, CameraMotion::kStatic}),
                         [](const ::testing::TestParamInfo<MotionCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(DetectScenes, PanMeasuresItsSpeedAndDirection) {
  PV_CLIP_OR_SKIP(clip, "scenes_pan.mp4", kPan);
  const Result<SceneAnalysis> analysis = Detect(clip);
  ASSERT_TRUE(analysis.has_value()) << analysis.error().message;
  const MotionEstimate& m = analysis->shots.at(0).motion;
  // The window moves right, so the content moves left by a quarter width per second.
  EXPECT_NEAR(m.dx_per_sec, -0.25, 0.05);
  EXPECT_NEAR(m.dy_per_sec, 0, 0.05);
  EXPECT_GT(m.samples, 40);
}

TEST(DetectScenes, UnreadableFilesAreCorrupt) {
  const std::filesystem::path empty = ScratchDir() / "scenes_empty.mp4";
  WriteFile(empty, "");
  std::mt19937 random(5);
  std::string noise(64 * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(random() & 0xFF);
  const std::filesystem::path noisy = ScratchDir() / "scenes_noise.mp4";
  WriteFile(noisy, noise);
  for (const auto& path : {empty, noisy}) {
    SCOPED_TRACE(path.filename().string());
    const Result<SceneAnalysis> analysis = Detect(path);
    ASSERT_FALSE(analysis.has_value());
    EXPECT_EQ(analysis.error().code, ErrorCode::kCorrupt) << analysis.error().message;
  }
  const Result<SceneAnalysis> missing = Detect(ScratchDir() / "scenes_missing.mp4");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(DetectScenes, AudioOnlyFileHasNoVideoStream) {
  const std::filesystem::path audio = MediaFile("audio.wav");
  if (audio.empty()) GTEST_SKIP() << "ffmpeg cannot produce audio.wav";
  const Result<SceneAnalysis> analysis = Detect(audio);
  ASSERT_FALSE(analysis.has_value());
  EXPECT_EQ(analysis.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(analysis.error().message, HasSubstr("no video stream"));
}

TEST(DetectScenes, TruncatedFilesFailOrCoverWhatDecoded) {
  PV_CLIP_OR_SKIP(clip, "scenes_cuts.mp4", kCuts);
  const std::string bytes = ReadFile(clip);
  // The index (moov) is at the end: half a file cannot be read at all.
  const std::filesystem::path half = ScratchDir() / "scenes_half.mp4";
  WriteFile(half, bytes.substr(0, bytes.size() / 2));
  const Result<SceneAnalysis> broken = Detect(half);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt) << broken.error().message;

  // With the index first (a streamable file) the first half decodes.
  const std::filesystem::path fast = GeneratedFile(
      "scenes_cuts_faststart.mp4", "-i '" + clip.string() + "' -c copy -movflags +faststart");
  ASSERT_FALSE(fast.empty());
  const std::string fast_bytes = ReadFile(fast);
  const std::filesystem::path fast_half = ScratchDir() / "scenes_fast_half.mp4";
  WriteFile(fast_half, fast_bytes.substr(0, fast_bytes.size() / 2));
  const Result<SceneAnalysis> partial = Detect(fast_half);
  if (partial.has_value()) {
    EXPECT_GT(partial->frame_count, 0);
    EXPECT_LT(partial->frame_count, 200);
    EXPECT_TRUE(partial->truncated);
    ExpectShotsTile(*partial);
  } else {
    EXPECT_EQ(partial.error().code, ErrorCode::kCorrupt) << partial.error().message;
  }
}

TEST(DetectScenes, RefusesBadOptionsAndOversizedFrames) {
  PV_CLIP_OR_SKIP(clip, "scenes_black_white.mp4", kBlackWhite);
  const auto code_with = [&](SceneOptions options) {
    const Result<SceneAnalysis> analysis = DetectScenes(clip, options);
    return analysis.has_value() ? std::string("ok")
                                : std::string(ErrorCodeName(analysis.error().code));
  };
  SceneOptions options;
  options.adaptive_threshold = 0.5;
  EXPECT_EQ(code_with(options), "invalid_argument");
  options = {};
  options.window = 0;
  EXPECT_EQ(code_with(options), "invalid_argument");
  options = {};
  options.fade_threshold = -1;
  EXPECT_EQ(code_with(options), "invalid_argument");
  options = {};
  options.working_width = 8;
  EXPECT_EQ(code_with(options), "invalid_argument");
  options = {};
  options.threads = 0;
  EXPECT_EQ(code_with(options), "invalid_argument");
  options = {};
  options.max_pixels = 320 * 239;
  EXPECT_EQ(code_with(options), "invalid_argument");
  options = {};
  options.threads = 1;
  options.min_shot_len = 5;
  EXPECT_EQ(code_with(options), "ok");
}

}  // namespace
}  // namespace pixvault::media
