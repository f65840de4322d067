// Runs AnalyzeAudio on each file given and prints one tab-separated line per file, for
// scripts/bench_audio.sh (which compares the loudness with `ffmpeg -af ebur128` and the tempo
// with the tempo each file was generated at):
//   file  status  seconds  duration  integrated  lra  true_peak  sample_peak  bpm
//   confidence  speech_sec  music_sec  silence_sec  is_speech  is_silent
// Absent values print as "-"; a failed analysis prints its error code name as the status and
// its message in place of the numbers. Usage: audio_bench [--repeat N] FILE...
// The time is the best of N runs (default 1), wall clock, one thread.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/audio_analysis.h"

namespace {

using pixvault::media::AnalyzeAudio;
using pixvault::media::AudioAnalysis;
using pixvault::media::AudioWindow;
using pixvault::media::AudioWindowKind;

std::string Value(const std::optional<double>& v, int digits = 2) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, *v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: audio_bench [--repeat N] FILE...\n");
    return 2;
  }
  for (const std::string& file : files) {
    double best = 1e300;
    pixvault::Result<AudioAnalysis> result;
    for (int r = 0; r < repeat; ++r) {
      const auto start = std::chrono::steady_clock::now();
      result = AnalyzeAudio(file);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = std::min(best, seconds);
    }
    if (!result) {
      std::printf("%s\t%s\t%s\n", file.c_str(),
                  std::string(pixvault::ErrorCodeName(result.error().code)).c_str(),
                  result.error().message.c_str());
      continue;
    }
    const AudioAnalysis& a = *result;
    double speech = 0, music = 0, silence = 0;
    for (const AudioWindow& w : a.windows) {
      const double length = w.end_sec - w.start_sec;
      if (w.kind == AudioWindowKind::kSpeech) speech += length;
      if (w.kind == AudioWindowKind::kMusic) music += length;
      if (w.kind == AudioWindowKind::kSilence) silence += length;
    }
    std::optional<double> bpm, confidence;
    if (a.tempo) {
      bpm = a.tempo->bpm;
      confidence = a.tempo->confidence;
    }
    std::printf("%s\tok\t%.4f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%d\t%d\n",
                file.c_str(), best, a.duration_sec, Value(a.loudness.integrated_lufs).c_str(),
                Value(a.loudness.range_lu).c_str(), Value(a.loudness.true_peak_dbtp).c_str(),
                Value(a.loudness.sample_peak_dbfs).c_str(), Value(bpm, 3).c_str(),
                Value(confidence, 3).c_str(), speech, music, silence, a.is_speech ? 1 : 0,
                a.is_silent ? 1 : 0);
  }
  return 0;
}
