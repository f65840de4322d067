// scene_bench: shot detection (src/media/scenes.h) on one video, for scripts/bench_scenes.sh,
// which runs ffmpeg beside it and scores the boundaries against the known ones.
//
// Runs media::DetectScenes on FILE `--runs` times (default 1) and prints
//   <frames> <shots> <median seconds>
// then one line per shot boundary after the first shot:
//   <kind> <start frame> <start seconds>        (kind: cut or fade)
// Exit code 1 when the file cannot be analysed (the message goes to stderr).
//
// Usage: scene_bench FILE [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "media/scenes.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: scene_bench FILE [--runs N]\n");
    return 2;
  }
  int runs = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  std::vector<double> seconds;
  pixvault::media::SceneAnalysis analysis;
  for (int run = 0; run < runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    auto result = pixvault::media::DetectScenes(argv[1]);
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!result) {
      std::fprintf(stderr, "scene_bench: %s: %s\n", argv[1], result.error().message.c_str());
      return 1;
    }
    analysis = std::move(*result);
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("%lld %zu %.4f\n", static_cast<long long>(analysis.frame_count),
              analysis.shots.size(), seconds[seconds.size() / 2]);
  for (std::size_t i = 1; i < analysis.shots.size(); ++i) {
    const auto& shot = analysis.shots[i];
    std::printf("%s %lld %.4f\n",
                std::string(pixvault::media::ShotBoundaryName(shot.boundary)).c_str(),
                static_cast<long long>(shot.start_frame), shot.start_sec);
  }
  return 0;
}
