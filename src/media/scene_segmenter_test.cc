#include "media/scene_segmenter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace pixvault::media::scene {
namespace {

// Frames at 25 fps with the given content scores and luma (0..255).
std::vector<Shot> Segment(const std::vector<double>& scores, const std::vector<double>& luma,
                          const SceneOptions& options = {}, std::int64_t min_shot_len = 15) {
  Segmenter segmenter(options, min_shot_len);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    FrameFacts facts;
    facts.index = static_cast<std::int64_t>(i);
    facts.time = static_cast<double>(i) / 25;
    facts.score = scores[i];
    facts.luma = luma[i];
    facts.dark = luma[i] < options.fade_threshold;
    segmenter.Push(std::move(facts));
  }
  return segmenter.Finish(static_cast<double>(scores.size()) / 25);
}

TEST(Segmenter, SpikeAboveTheAdaptiveRatioIsACut) {
  std::vector<double> scores(100, 2.0), luma(100, 120.0);
  scores[40] = 60;  // ratio 30, above min_content_val
  scores[70] = 10;  // ratio 5 but under min_content_val
  const std::vector<Shot> shots = Segment(scores, luma);
  ASSERT_EQ(shots.size(), 2U);
  EXPECT_EQ(shots[1].start_frame, 40);
  EXPECT_EQ(shots[1].boundary, ShotBoundary::kCut);
  EXPECT_EQ(shots[1].end_frame, 100);
  EXPECT_NEAR(shots[0].brightness, 120.0 / 255, 1e-9);
}

TEST(Segmenter, SteadyHighScoresAreNoCut) {
  std::vector<double> scores(100, 40.0), luma(100, 120.0);  // a fast pan: every frame changes
  EXPECT_EQ(Segment(scores, luma).size(), 1U);
}

TEST(Segmenter, CutsCloserThanTheMinimumShotAreDropped) {
  std::vector<double> scores(100, 1.0), luma(100, 120.0);
  scores[30] = 80;
  scores[35] = 80;  // 5 frames after the first cut
  scores[10] = 80;  // 10 frames into the video
  const std::vector<Shot> shots = Segment(scores, luma);
  ASSERT_EQ(shots.size(), 2U);
  EXPECT_EQ(shots[1].start_frame, 30);
}

TEST(Segmenter, DarkStretchIsOneFadeAtItsMiddle) {
  std::vector<double> scores(120, 2.0), luma(120, 150.0);
  for (int i = 60; i < 70; ++i) luma[static_cast<std::size_t>(i)] = 4;  // dark 60..69
  scores[60] = 50;  // hard cut into the dark and out of it: left to the fade rule
  scores[70] = 50;
  const std::vector<Shot> shots = Segment(scores, luma);
  ASSERT_EQ(shots.size(), 2U);
  EXPECT_EQ(shots[1].boundary, ShotBoundary::kFade);
  EXPECT_EQ(shots[1].start_frame, 65);
  EXPECT_NEAR(shots[1].start_sec, 65.0 / 25, 1e-9);
  // Half of the dark frames each way: 60 bright + 5 dark, then 5 dark + 50 bright.
  EXPECT_NEAR(shots[0].brightness, (60 * 150.0 + 5 * 4) / 65 / 255, 1e-9);
  EXPECT_NEAR(shots[1].brightness, (50 * 150.0 + 5 * 4) / 55 / 255, 1e-9);
}

TEST(Segmenter, DarknessAtTheEdgesIsNoBoundary) {
  std::vector<double> scores(100, 2.0), luma(100, 150.0);
  for (int i = 0; i < 20; ++i) luma[static_cast<std::size_t>(i)] = 0;    // opens dark
  for (int i = 80; i < 100; ++i) luma[static_cast<std::size_t>(i)] = 0;  // ends dark
  const std::vector<Shot> shots = Segment(scores, luma);
  ASSERT_EQ(shots.size(), 1U);
  EXPECT_EQ(shots[0].end_frame, 100);
}

TEST(Segmenter, CutOutOfTheOpeningDarknessIsACut) {
  std::vector<double> scores(100, 0.0), luma(100, 200.0);
  for (int i = 0; i < 50; ++i) luma[static_cast<std::size_t>(i)] = 0;
  scores[50] = 120;
  const std::vector<Shot> shots = Segment(scores, luma);
  ASSERT_EQ(shots.size(), 2U);
  EXPECT_EQ(shots[1].start_frame, 50);
  EXPECT_EQ(shots[1].boundary, ShotBoundary::kCut);
}

TEST(Classify, LabelsFollowTheThresholds) {
  MotionEstimate m;
  EXPECT_EQ(Classify(m), CameraMotion::kStatic);
  m.samples = 50;
  m.dx_per_sec = -0.25;
  m.speed_per_sec = 0.3;
  EXPECT_EQ(Classify(m), CameraMotion::kPan);
  m.dy_per_sec = 0.4;
  m.speed_per_sec = 0.5;
  EXPECT_EQ(Classify(m), CameraMotion::kTilt);
  m = MotionEstimate{
      .dx_per_sec = 0.01, .dy_per_sec = 0, .speed_per_sec = 0.2, .zoom_per_sec = 0, .samples = 50};
  EXPECT_EQ(Classify(m), CameraMotion::kShake);
  m.zoom_per_sec = 0.1;
  EXPECT_EQ(Classify(m), CameraMotion::kZoom);
  m = MotionEstimate{
      .dx_per_sec = 0, .dy_per_sec = 0, .speed_per_sec = 0.05, .zoom_per_sec = 0, .samples = 50};
  EXPECT_EQ(Classify(m), CameraMotion::kStatic);  // slow jitter
}

}  // namespace
}  // namespace pixvault::media::scene
