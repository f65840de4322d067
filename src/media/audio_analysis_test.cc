#include "media/audio_analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::GeneratedFile;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::RunFfmpeg;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;

#define PV_GENERATED_OR_SKIP(var, name, args)                  \
  const std::filesystem::path var = GeneratedFile(name, args); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

// ---- Synthetic signals (the same recipes as scripts/bench_audio.sh) ----
//
// They are synthetic, and only stand in for the real thing: "speech-like" is syllable-rate
// bursts of a buzzy harmonic tone (gliding pitch around 120 Hz) alternating with noise, with
// pauses; "music-like" is a chord pulsing on a kick drum every 0.5 s.

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9f", v);
  return buf;
}

// Decaying 1 kHz bursts, one per beat.
std::string ClickArgs(double bpm, double seconds) {
  const std::string p = Fmt(60 / bpm);
  return "-f lavfi -i \"aevalsrc=exprs=0.5*sin(2*PI*1000*t)*exp(-mod(t\\," + p +
         ")*60):s=44100:d=" + Fmt(seconds) + "\"";
}

// A 55 Hz kick on the beats, a noise hi-hat on the off-beats, a little background noise.
std::string DrumArgs(double bpm, double seconds) {
  const std::string p = Fmt(60 / bpm);
  return "-f lavfi -i \"aevalsrc=exprs=0.7*sin(2*PI*55*mod(t\\," + p + "))*exp(-mod(t\\," + p +
         ")*12)+0.25*(2*random(0)-1)*exp(-mod(t+" + p + "/2\\," + p +
         ")*60)+0.02*(2*random(1)-1):s=44100:d=" + Fmt(seconds) + "\"";
}

std::string SpeechLikeArgs(int rate, double seconds) {
  const std::string envelope =
      "max(0\\,sin(2*PI*3.3*t)+0.6*sin(2*PI*5.1*t+1)+0.4*sin(2*PI*1.7*t+2)-0.5)";
  const std::string pauses = "gt(sin(2*PI*0.21*t)+0.3*sin(2*PI*0.53*t)\\,-0.5)";
  const std::string phase = "2*PI*(120*t-4.55*cos(4.4*t))";
  std::string voiced = "(sin(" + phase + ")";
  for (int k = 2; k <= 6; ++k) {
    voiced += "+sin(" + std::to_string(k) + "*" + phase + ")/" + std::to_string(k);
  }
  voiced += ")";
  const std::string unvoiced = "gt(sin(2*PI*2.3*t+0.5)\\,0.6)";
  return "-f lavfi -i \"aevalsrc=exprs=0.3*" + envelope + "*" + pauses + "*((1-" + unvoiced + ")*" +
         voiced + "+" + unvoiced + "*(2*random(0)-1)):s=" + std::to_string(rate) +
         ":d=" + Fmt(seconds) + "\"";
}

std::string MusicLikeArgs(double seconds) {
  return "-f lavfi -i \"aevalsrc=exprs=0.12*(sin(2*PI*220*t)+sin(2*PI*277.18*t)+"
         "sin(2*PI*329.63*t)+sin(2*PI*440*t))*(0.6+0.4*exp(-mod(t\\,0.5)*4))+"
         "0.5*sin(2*PI*55*mod(t\\,0.5))*exp(-mod(t\\,0.5)*12):s=44100:d=" +
         Fmt(seconds) + "\"";
}

// ---- FFmpeg's ebur128 filter as the reference ----

struct Reference {
  double integrated = 0, range = 0, true_peak = 0;
};

std::optional<Reference> FfmpegEbur128(const std::filesystem::path& path) {
  const std::optional<std::string> out =
      RunFfmpeg("-nostats -i '" + path.string() + "' -filter_complex ebur128=peak=true -f null -");
  if (!out) return std::nullopt;
  const std::size_t summary = out->find("Summary:");
  if (summary == std::string::npos) return std::nullopt;
  std::istringstream lines(out->substr(summary));
  Reference ref;
  int found = 0;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key;
    double value = 0;
    if (!(words >> key >> value)) continue;
    if (key == "I:") ref.integrated = value, found |= 1;
    if (key == "LRA:") ref.range = value, found |= 2;
    if (key == "Peak:") ref.true_peak = value, found |= 4;
  }
  if (found != 7) return std::nullopt;
  return ref;
}

Result<AudioAnalysis> Analyze(const std::filesystem::path& path,
                              const AudioAnalysisOptions& options = {}) {
  return AnalyzeAudio(path, options);
}

// ---- Loudness ----

TEST(AudioLoudness, AgreesWithFfmpegEbur128WithinATenthOfALu) {
  struct Case {
    const char* name;
    std::string args;
  };
  const std::string sine = "aevalsrc=exprs=0.1*sin(2*PI*1000*t)";
  const Case cases[] = {
      {"loud-sine-stereo.wav", "-f lavfi -i \"" + sine + "|0.1*sin(2*PI*1000*t):s=48000:d=6\""},
      {"loud-sine-mono.wav", "-f lavfi -i \"" + sine + ":s=44100:d=6\""},
      {"loud-3ch.wav",
       "-f lavfi -i \"" + sine + "|0.05*sin(2*PI*500*t)|0.08*sin(2*PI*2000*t):s=44100:d=6\""},
      {"loud-8k.wav", "-f lavfi -i \"" + sine + ":s=8000:d=6\""},
      {"loud-96k-24bit.wav",
       "-f lavfi -i \"" + sine + "|0.1*sin(2*PI*300*t):s=96000:d=6\" -c:a pcm_s24le"},
      {"loud-u8.wav", "-f lavfi -i \"" + sine + ":s=22050:d=6\" -c:a pcm_u8"},
      {"loud-5.1.wav",
       "-f lavfi -i \"aevalsrc=exprs=0.1*sin(2*PI*440*t)|0.1*sin(2*PI*550*t)|"
       "0.1*sin(2*PI*660*t)|0.3*sin(2*PI*50*t)|0.05*sin(2*PI*880*t)|0.05*sin(2*PI*990*t):"
       "s=48000:d=6:c=5.1\""},
      {"loud-dynamic.wav",
       "-f lavfi -i anoisesrc=d=16:c=pink:a=0.3 -af \"volume='if(lt(mod(t,8),4),1,0.1)':"
       "eval=frame\""},
      {"loud-speech.wav", SpeechLikeArgs(16000, 12)},
      {"loud-music.mp3", MusicLikeArgs(8) + " -c:a libmp3lame -b:a 128k"},
      {"loud-music.ogg", MusicLikeArgs(8) + " -c:a libvorbis"},
      {"loud-music.flac", MusicLikeArgs(8) + " -c:a flac"},
      {"loud-speech.m4a", SpeechLikeArgs(16000, 8) + " -c:a aac -b:a 96k"},
  };
  int compared = 0;
  for (const Case& c : cases) {
    const std::filesystem::path path = GeneratedFile(c.name, c.args);
    if (path.empty()) continue;  // an encoder this ffmpeg lacks
    const std::optional<Reference> ref = FfmpegEbur128(path);
    ASSERT_TRUE(ref.has_value()) << c.name << ": ffmpeg's ebur128 gave no summary";
    const Result<AudioAnalysis> a = Analyze(path);
    ASSERT_TRUE(a.has_value()) << c.name << ": " << a.error().message;
    ASSERT_TRUE(a->loudness.integrated_lufs.has_value()) << c.name;
    // FFmpeg prints one decimal, so its own rounding is inside the tolerance.
    EXPECT_NEAR(*a->loudness.integrated_lufs, ref->integrated, 0.1) << c.name;
    ASSERT_TRUE(a->loudness.range_lu.has_value()) << c.name;
    EXPECT_NEAR(*a->loudness.range_lu, ref->range, 0.1) << c.name;
    // True peak depends on the oversampling filter (libebur128's 4x polyphase filter, FFmpeg's
    // resampler to 192 kHz).
    ASSERT_TRUE(a->loudness.true_peak_dbtp.has_value()) << c.name;
    EXPECT_NEAR(*a->loudness.true_peak_dbtp, ref->true_peak, 0.3) << c.name;
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "ffmpeg could not generate the test files";
  EXPECT_GE(compared, 10);
}

TEST(AudioLoudness, SineAtMinus20DbfsStereoIsMinus20Lufs) {
  PV_GENERATED_OR_SKIP(path, "sine-20.wav",
                       "-f lavfi -i \"aevalsrc=exprs=0.1*sin(2*PI*1000*t)|"
                       "0.1*sin(2*PI*1000*t):s=48000:d=5\"");
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->sample_rate, 48000);
  EXPECT_EQ(a->channels, 2);
  EXPECT_EQ(a->codec, "pcm_s16le");
  EXPECT_EQ(a->samples, 5 * 48000);
  EXPECT_NEAR(a->duration_sec, 5.0, 1e-9);
  // Each channel's mean square is -23.01 dB; two channels add 3.01 dB; K-weighting at 1 kHz
  // adds about 0.69 dB, which the -0.691 constant of BS.1770 cancels.
  ASSERT_TRUE(a->loudness.integrated_lufs.has_value());
  EXPECT_NEAR(*a->loudness.integrated_lufs, -20.0, 0.05);
  EXPECT_NEAR(a->loudness.sample_peak_dbfs.value_or(0), -20.0, 0.01);
  EXPECT_NEAR(a->loudness.true_peak_dbtp.value_or(0), -20.0, 0.05);
  EXPECT_NEAR(a->loudness.range_lu.value_or(-1), 0.0, 0.05);
  EXPECT_FALSE(a->loudness.histogram_mode);
  EXPECT_FALSE(a->is_silent);
  EXPECT_FALSE(a->tempo.has_value()) << a->tempo->bpm;  // a steady tone has no beat
}

TEST(AudioLoudness, SilenceHasNoLoudnessAndIsSilent) {
  PV_GENERATED_OR_SKIP(path, "silence.wav", "-f lavfi -i anullsrc=r=44100:cl=stereo -t 5");
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_FALSE(a->loudness.integrated_lufs.has_value());
  EXPECT_FALSE(a->loudness.range_lu.has_value());
  EXPECT_FALSE(a->loudness.true_peak_dbtp.has_value());
  EXPECT_FALSE(a->loudness.sample_peak_dbfs.has_value());
  EXPECT_TRUE(a->is_silent);
  EXPECT_FALSE(a->is_speech);
  EXPECT_FALSE(a->tempo.has_value());
  ASSERT_EQ(a->windows.size(), 5u);
  for (const AudioWindow& w : a->windows) EXPECT_EQ(w.kind, AudioWindowKind::kSilence);
}

TEST(AudioLoudness, HistogramModeAgreesWithTheExactBlockList) {
  PV_GENERATED_OR_SKIP(path, "histogram-dynamic.wav",
                       "-f lavfi -i anoisesrc=d=16:c=pink:a=0.3 -af "
                       "\"volume='if(lt(mod(t,8),4),1,0.1)':eval=frame\"");
  const Result<AudioAnalysis> exact = Analyze(path);
  AudioAnalysisOptions options;
  options.exact_loudness_limit_sec = 1;  // the header says 16 s: histogram from the start
  const Result<AudioAnalysis> histogram = Analyze(path, options);
  ASSERT_TRUE(exact.has_value() && histogram.has_value());
  EXPECT_FALSE(exact->loudness.histogram_mode);
  EXPECT_TRUE(histogram->loudness.histogram_mode);
  EXPECT_NEAR(*histogram->loudness.integrated_lufs, *exact->loudness.integrated_lufs, 0.05);
  EXPECT_DOUBLE_EQ(*histogram->loudness.range_lu, *exact->loudness.range_lu);
}

TEST(AudioLoudness, LongerThanItsHeaderSaysIsMeasuredAgainInHistogramMode) {
  // A VBR MP3 without a Xing header: libavformat estimates 40 s of loud-then-quiet audio from
  // the first frames' bitrate as about 11 s.
  PV_GENERATED_OR_SKIP(path, "vbr-no-xing.mp3",
                       "-f lavfi -i \"aevalsrc=exprs=0.5*(2*random(0)-1)*lt(t\\,2)+"
                       "0.01*sin(2*PI*440*t):s=44100:d=40\" -c:a libmp3lame -q:a 0 -write_xing 0");
  AudioAnalysisOptions options;
  options.exact_loudness_limit_sec = 20;
  const Result<AudioAnalysis> restarted = Analyze(path, options);
  options.exact_loudness_limit_sec = 0;
  const Result<AudioAnalysis> histogram = Analyze(path, options);
  ASSERT_TRUE(restarted.has_value() && histogram.has_value());
  EXPECT_NEAR(restarted->duration_sec, 40, 0.1);
  EXPECT_TRUE(restarted->loudness.histogram_mode);
  EXPECT_EQ(restarted->loudness.integrated_lufs, histogram->loudness.integrated_lufs);
  EXPECT_EQ(restarted->samples, histogram->samples);
}

// ---- Tempo ----

void ExpectTempo(const std::filesystem::path& path, double bpm) {
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  ASSERT_TRUE(a->tempo.has_value()) << path.filename() << " at " << bpm << " BPM: no tempo";
  EXPECT_NEAR(a->tempo->bpm, bpm, bpm * 0.02) << path.filename();
  EXPECT_GT(a->tempo->confidence, 0.6) << path.filename();
  EXPECT_LE(a->tempo->confidence, 1.0);
  EXPECT_DOUBLE_EQ(a->tempo->half_bpm, a->tempo->bpm / 2);
  EXPECT_DOUBLE_EQ(a->tempo->double_bpm, a->tempo->bpm * 2);
}

TEST(AudioTempo, ClickTracksWithinTwoPercent) {
  for (const double bpm : {60.0, 87.0, 120.0, 151.0, 200.0}) {
    const std::string name = "click-" + std::to_string(static_cast<int>(bpm)) + ".wav";
    PV_GENERATED_OR_SKIP(path, name, ClickArgs(bpm, 20));
    ExpectTempo(path, bpm);
  }
}

TEST(AudioTempo, DrumPatternsWithinTwoPercentNotAtTheOffBeatTempo) {
  // The hi-hat on the off-beats doubles the onset rate; the kick sets the tempo.
  for (const double bpm : {64.0, 99.0, 128.0, 174.0}) {
    const std::string name = "drums-" + std::to_string(static_cast<int>(bpm)) + ".wav";
    PV_GENERATED_OR_SKIP(path, name, DrumArgs(bpm, 20));
    ExpectTempo(path, bpm);
  }
}

TEST(AudioTempo, DrumsThroughMp3) {
  PV_GENERATED_OR_SKIP(path, "drums-112.mp3", DrumArgs(112, 20) + " -c:a libmp3lame");
  ExpectTempo(path, 112);
}

TEST(AudioTempo, TooShortForATempo) {
  PV_GENERATED_OR_SKIP(path, "click-short.wav", ClickArgs(120, 2));
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_FALSE(a->tempo.has_value());
  // Loud enough for integrated loudness, too short for a 3 s short-term value (LRA).
  EXPECT_TRUE(a->loudness.integrated_lufs.has_value());
  EXPECT_FALSE(a->loudness.range_lu.has_value());
}

TEST(AudioTempo, NoiseHasNoTempo) {
  PV_GENERATED_OR_SKIP(path, "pink.wav", "-f lavfi -i anoisesrc=d=15:c=pink:a=0.2");
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_FALSE(a->tempo.has_value()) << a->tempo->bpm << " " << a->tempo->confidence;
}

// ---- Speech / music / silence ----

TEST(AudioClassifier, SpeechLikeSignalIsSpeechWithoutATempo) {
  PV_GENERATED_OR_SKIP(path, "speech-like.wav", SpeechLikeArgs(16000, 20));
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_TRUE(a->is_speech);
  EXPECT_FALSE(a->is_silent);
  EXPECT_FALSE(a->tempo.has_value()) << a->tempo->bpm;
  int speech = 0, music = 0;
  for (const AudioWindow& w : a->windows) {
    speech += w.kind == AudioWindowKind::kSpeech ? 1 : 0;
    music += w.kind == AudioWindowKind::kMusic ? 1 : 0;
  }
  EXPECT_GE(speech, 4 * music) << speech << " speech windows, " << music << " music";
}

TEST(AudioClassifier, MusicLikeSignalIsMusic) {
  PV_GENERATED_OR_SKIP(path, "music-like.wav", MusicLikeArgs(20));
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_FALSE(a->is_speech);
  EXPECT_FALSE(a->is_silent);
  for (const AudioWindow& w : a->windows) {
    EXPECT_EQ(w.kind, AudioWindowKind::kMusic) << "at " << w.start_sec;
  }
  ASSERT_TRUE(a->tempo.has_value());
  EXPECT_NEAR(a->tempo->bpm, 120, 2.4);
}

TEST(AudioClassifier, WindowsTileTheAnalysedPartAndSilenceInTheMiddleIsFound) {
  // 3 s of chord, 3 s of silence, 3 s of chord.
  PV_GENERATED_OR_SKIP(
      path, "gap.wav",
      "-f lavfi -i \"aevalsrc=exprs=0.2*sin(2*PI*220*t)*(lt(t\\,3)+gte(t\\,6)):s=44100:d=9\"");
  const Result<AudioAnalysis> a = Analyze(path);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  ASSERT_EQ(a->windows.size(), 9u);
  for (std::size_t i = 0; i < a->windows.size(); ++i) {
    const AudioWindow& w = a->windows[i];
    EXPECT_NEAR(w.start_sec, static_cast<double>(i), 1e-9);
    EXPECT_NEAR(w.end_sec, static_cast<double>(i + 1), 0.01);
    const bool silent = i >= 3 && i < 6;
    EXPECT_EQ(w.kind == AudioWindowKind::kSilence, silent) << "window " << i;
  }
  EXPECT_FALSE(a->is_silent);
}

TEST(AudioClassifier, FeatureLimitCapsTempoAndWindowsButNotLoudness) {
  PV_GENERATED_OR_SKIP(path, "click-limit.wav", ClickArgs(100, 20));
  AudioAnalysisOptions options;
  options.feature_limit_sec = 6;
  const Result<AudioAnalysis> capped = Analyze(path, options);
  const Result<AudioAnalysis> full = Analyze(path);
  ASSERT_TRUE(capped.has_value() && full.has_value());
  EXPECT_NEAR(capped->analysed_sec, 6, 0.01);
  EXPECT_NEAR(full->analysed_sec, 20, 0.05);
  EXPECT_EQ(capped->windows.size(), 6u);
  EXPECT_NEAR(capped->duration_sec, 20, 1e-9);
  EXPECT_DOUBLE_EQ(*capped->loudness.integrated_lufs, *full->loudness.integrated_lufs);
  ASSERT_TRUE(capped->tempo.has_value());
  EXPECT_NEAR(capped->tempo->bpm, 100, 2);

  options.feature_limit_sec = 0;
  const Result<AudioAnalysis> none = Analyze(path, options);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->windows.empty());
  EXPECT_FALSE(none->tempo.has_value());
  EXPECT_FALSE(none->is_silent);  // decided from the peak when nothing was classified
}

// ---- Formats and layouts ----

TEST(AudioFormats, OddPcmLayoutsDecode) {
  struct Case {
    const char* name;
    std::string args;
    int rate;
    int channels;
  };
  const std::string tone = "0.2*sin(2*PI*440*t)";
  const Case cases[] = {
      {"odd-3ch-24bit.wav",
       "-f lavfi -i \"aevalsrc=exprs=" + tone + "|" + tone + "|" + tone +
           ":s=44100:d=3\" -c:a pcm_s24le",
       44100, 3},
      {"odd-8k.wav", "-f lavfi -i \"aevalsrc=exprs=" + tone + ":s=8000:d=3\"", 8000, 1},
      {"odd-96k.wav", "-f lavfi -i \"aevalsrc=exprs=" + tone + ":s=96000:d=3\"", 96000, 1},
      {"odd-u8.wav", "-f lavfi -i \"aevalsrc=exprs=" + tone + ":s=11025:d=3\" -c:a pcm_u8", 11025,
       1},
      {"odd-f32-7ch.wav",
       "-f lavfi -i \"aevalsrc=exprs=" + tone + "|" + tone + "|" + tone + "|" + tone + "|" + tone +
           "|" + tone + "|" + tone + ":s=32000:d=3\" -c:a pcm_f32le",
       32000, 7},
  };
  for (const Case& c : cases) {
    const std::filesystem::path path = GeneratedFile(c.name, c.args);
    if (path.empty()) continue;
    const Result<AudioAnalysis> a = Analyze(path);
    ASSERT_TRUE(a.has_value()) << c.name << ": " << a.error().message;
    EXPECT_EQ(a->sample_rate, c.rate) << c.name;
    EXPECT_EQ(a->channels, c.channels) << c.name;
    EXPECT_NEAR(a->duration_sec, 3, 0.01) << c.name;
    EXPECT_TRUE(a->complete) << c.name;
    EXPECT_EQ(a->decode_errors, 0) << c.name;
    // 0.2 is 25.6 steps of unsigned 8-bit: quantised to 26, 0.14 dB louder.
    EXPECT_NEAR(a->loudness.sample_peak_dbfs.value_or(0), 20 * std::log10(0.2), 0.15) << c.name;
    EXPECT_EQ(a->windows.size(), 3u) << c.name;
  }
}

TEST(AudioFormats, AFormatChangeMidStreamIsResampledToTheFirstFrames) {
  // Two MP3 streams back to back: 3 s mono at 22.05 kHz, then 3 s stereo at 44.1 kHz.
  PV_GENERATED_OR_SKIP(first, "change-a.mp3",
                       "-f lavfi -i sine=f=440:r=22050:d=3 -c:a libmp3lame -write_xing 0");
  PV_GENERATED_OR_SKIP(second, "change-b.mp3",
                       "-f lavfi -i sine=f=440:r=44100:d=3 -ac 2 -c:a libmp3lame -write_xing 0");
  const std::filesystem::path joined = ScratchDir() / "change-joined.mp3";
  WriteFile(joined, ReadFile(first) + ReadFile(second));
  const Result<AudioAnalysis> a = Analyze(joined);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->sample_rate, 22050);
  EXPECT_EQ(a->channels, 1);
  EXPECT_NEAR(a->duration_sec, 6.05, 0.1);
  const std::optional<Reference> ref = FfmpegEbur128(joined);
  ASSERT_TRUE(ref.has_value());
  ASSERT_TRUE(a->loudness.integrated_lufs.has_value());
  EXPECT_NEAR(*a->loudness.integrated_lufs, ref->integrated, 0.1);
}

TEST(AudioFormats, CompressedFormatsAndVideoWithSound) {
  struct Case {
    const char* name;
    const char* codec;
  };
  for (const Case& c : {Case{"audio.mp3", "mp3"}, Case{"audio.ogg", "vorbis"},
                        Case{"audio.flac", "flac"}, Case{"video_audio.mp4", "aac"}}) {
    const std::filesystem::path path = MediaFile(c.name);
    if (path.empty()) continue;
    const Result<AudioAnalysis> a = Analyze(path);
    ASSERT_TRUE(a.has_value()) << c.name << ": " << a.error().message;
    EXPECT_EQ(a->codec, c.codec) << c.name;
    EXPECT_GT(a->decoded_frames, 0) << c.name;
    EXPECT_GT(a->duration_sec, 0.9) << c.name;
    EXPECT_TRUE(a->bitrate.has_value()) << c.name;
    ASSERT_TRUE(a->loudness.integrated_lufs.has_value()) << c.name;
    // lavfi's sine source is 1/8 of full scale: about -21 LUFS for a mono 440 Hz tone.
    EXPECT_NEAR(*a->loudness.integrated_lufs, -21, 1.5) << c.name;
  }
}

TEST(AudioFormats, ConcurrentAnalysesAgree) {
  PV_GENERATED_OR_SKIP(path, "concurrent.wav", DrumArgs(90, 8));
  const Result<AudioAnalysis> alone = Analyze(path);
  ASSERT_TRUE(alone.has_value()) << alone.error().message;
  std::vector<Result<AudioAnalysis>> results(4);
  {
    std::vector<std::thread> threads;
    for (Result<AudioAnalysis>& r : results) {
      threads.emplace_back([&r, &path] { r = Analyze(path); });
    }
    for (std::thread& t : threads) t.join();
  }
  for (const Result<AudioAnalysis>& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->loudness.integrated_lufs, alone->loudness.integrated_lufs);
    EXPECT_EQ(r->loudness.true_peak_dbtp, alone->loudness.true_peak_dbtp);
    ASSERT_TRUE(r->tempo.has_value() && alone->tempo.has_value());
    EXPECT_EQ(r->tempo->bpm, alone->tempo->bpm);
  }
}

// ---- Bad input ----

TEST(AudioErrors, EmptyRandomAndMissingFilesAreErrors) {
  const std::filesystem::path empty = ScratchDir() / "audio-empty.wav";
  WriteFile(empty, "");
  const Result<AudioAnalysis> e = Analyze(empty);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::kCorrupt) << e.error().message;

  std::string noise(64 * 1024, '\0');
  std::uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  const std::filesystem::path random = ScratchDir() / "audio-random.mp3";
  WriteFile(random, noise);
  const Result<AudioAnalysis> r = Analyze(random);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().code == ErrorCode::kCorrupt || r.error().code == ErrorCode::kUnsupported)
      << r.error().message;

  const Result<AudioAnalysis> m = Analyze(ScratchDir() / "missing.wav");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
}

TEST(AudioErrors, VideoWithoutSoundHasNoAudioStream) {
  const std::filesystem::path video = MediaFile("video.mp4");
  if (video.empty()) GTEST_SKIP() << "ffmpeg cannot produce video.mp4";
  const Result<AudioAnalysis> a = Analyze(video);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(a.error().message.find("no audio stream"), std::string::npos) << a.error().message;
}

TEST(AudioErrors, TruncatedMp3GivesTheDecodedPart) {
  PV_GENERATED_OR_SKIP(path, "trunc-source.mp3", MusicLikeArgs(10) + " -c:a libmp3lame");
  const std::string bytes = ReadFile(path);
  const std::filesystem::path half = ScratchDir() / "trunc-half.mp3";
  WriteFile(half, bytes.substr(0, bytes.size() / 2));
  const Result<AudioAnalysis> a = Analyze(half);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_GT(a->duration_sec, 3);
  EXPECT_LT(a->duration_sec, 7);
  EXPECT_FALSE(a->complete);  // the Xing header says 10 s
  EXPECT_TRUE(a->loudness.integrated_lufs.has_value());
  const Result<AudioAnalysis> whole = Analyze(path);
  ASSERT_TRUE(whole.has_value()) << whole.error().message;
  EXPECT_TRUE(whole->complete);
  EXPECT_EQ(whole->decode_errors, 0);

  // Only the first 100 bytes: a header at most, no audio frame.
  const std::filesystem::path stub = ScratchDir() / "trunc-stub.mp3";
  WriteFile(stub, bytes.substr(0, 100));
  const Result<AudioAnalysis> s = Analyze(stub);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().code, ErrorCode::kInternal) << s.error().message;
}

TEST(AudioErrors, InvalidOptions) {
  PV_GENERATED_OR_SKIP(path, "click-options.wav", ClickArgs(120, 1));
  AudioAnalysisOptions options;
  options.window_sec = 0;
  EXPECT_EQ(Analyze(path, options).error().code, ErrorCode::kInvalidArgument);
  options = {};
  options.feature_limit_sec = -1;
  EXPECT_EQ(Analyze(path, options).error().code, ErrorCode::kInvalidArgument);
  options = {};
  options.silence_threshold_dbfs = NAN;
  EXPECT_EQ(Analyze(path, options).error().code, ErrorCode::kInvalidArgument);
}

TEST(AudioWindowKindName, NamesEveryKind) {
  EXPECT_STREQ(AudioWindowKindName(AudioWindowKind::kSilence), "silence");
  EXPECT_STREQ(AudioWindowKindName(AudioWindowKind::kSpeech), "speech");
  EXPECT_STREQ(AudioWindowKindName(AudioWindowKind::kMusic), "music");
}

}  // namespace
}  // namespace pixvault::media
