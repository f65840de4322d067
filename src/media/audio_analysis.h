// Audio analysis of a media file: EBU R 128 loudness, tempo, and a speech / music / silence
// label per window, from the first audio stream of anything libavformat opens (WAV, MP3,
// Ogg Vorbis, FLAC, AAC in MP4, video files with sound).
//
// `AnalyzeAudio` decodes the stream once, streaming: decoded samples are never kept, so memory
// does not grow with the length of the file, except for two bounded parts: the tempo and
// classifier features of the first `AudioAnalysisOptions::feature_limit_sec` seconds (about
// 1 KiB per second analysed), and libebur128's exact gating-block list for loudness, about
// 20 KiB per minute of audio, kept only up to `exact_loudness_limit_sec`: longer files are
// measured in libebur128's histogram mode, whose memory is constant (0.1 LU bins; a file that
// turns out longer than its header said is decoded a second time in that mode).
//
// Methods:
// - Loudness: libebur128 (ITU-R BS.1770-4 / EBU R 128) on every sample of the stream, at its
//   native rate and channel count (only the sample format is converted, to float). Channels
//   are weighted like FFmpeg's `ebur128` filter: LFE ignored, back/side/surround channels
//   weighted 1.41, all others 1.0. Loudness range follows EBU Tech 3342 with short-term
//   values every 100 ms (libebur128's own LRA takes one per second; see loudness_range.h).
//   True peak is libebur128's 4x oversampling, on a 48 kHz copy for rates below 44.1 kHz.
//   Checked against `ffmpeg -af ebur128=peak=true` in the tests and scripts/bench_audio.sh.
// - Tempo: an onset-strength signal (log-magnitude spectral flux of the mono downmix at
//   11025 Hz, 5.8 ms hop), its generalized autocorrelation over 12 s windows with harmonic
//   enhancement, candidates checked against pulse trains built from the onset signal, and an
//   octave decision by pulse alternation (after Percival & Tzanetakis 2014; own code, no
//   trained model). Range 50-220 BPM.
// - Speech / music / silence: a heuristic per window (Scheirer & Slaney 1997 style features)
//   tuned on synthetic signals only; see AudioWindowKind.
//
// Ownership: nothing is retained between calls; the result is a plain value.
// Thread-safety: safe to call from any number of threads at once (libebur128's state
// creation, which rewrites static tables, is serialised).
//
// Errors: kNotFound / kPermissionDenied / kUnavailable when the file cannot be read (as
// OpenAvInput); kUnsupported for a container or codec pixvault does not open; kInvalidArgument
// for a file without an audio stream ("no audio stream") or invalid options; kCorrupt when the
// file cannot be parsed or not a single audio frame decodes (zero-length, random bytes, a
// truncated header). A file that breaks after some audio decoded (a truncated MP3, a damaged
// packet) is not an error: the result covers what decoded, and `decode_errors` > 0 or
// `complete` == false says so. Messages never contain the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace pixvault::media {

struct AudioAnalysisOptions {
  // Seconds from the start of the stream that tempo and the speech/music classifier look at
  // (their memory and time are bounded by it); loudness always covers the whole stream.
  double feature_limit_sec = 600;
  // Files up to this long (by the container's duration, and checked again while decoding)
  // keep libebur128's exact block list; longer ones use its histogram mode (constant memory).
  double exact_loudness_limit_sec = 4 * 3600;
  // Length of the classifier's windows, in seconds (0.5 to 10).
  double window_sec = 1.0;
  // A window whose RMS level (mean of the channels, LFE excluded) is below this is silence.
  double silence_threshold_dbfs = -50;
  // A tempo below this confidence is not reported.
  double min_tempo_confidence = 0.25;
  // Bytes and stream time libavformat may read to detect the container and its streams.
  std::int64_t probe_size_bytes = 5'000'000;
  std::int64_t analyze_duration_us = 5'000'000;
};

// EBU R 128 measurements of the whole stream. An absent value means there was nothing to
// measure: integrated loudness is absent when every 400 ms block is below the -70 LUFS
// absolute gate (silence); the range too, and also when no 3 s short-term value passes the
// gates (less than 3 s of audio); the peaks for digital silence (all samples zero).
struct AudioLoudness {
  std::optional<double> integrated_lufs;
  std::optional<double> range_lu;          // loudness range (LRA)
  std::optional<double> true_peak_dbtp;    // max over channels (see the top of the file)
  std::optional<double> sample_peak_dbfs;  // max over channels
  bool histogram_mode = false;             // integrated loudness from 0.1 LU bins (long files)
};

struct AudioTempo {
  double bpm = 0;         // 50..220
  double confidence = 0;  // 0..1: periodicity of the onset signal at the beat period
  double half_bpm = 0;    // bpm / 2 and bpm * 2: the octave alternatives, whatever the range
  double double_bpm = 0;
};

// Heuristic labels (tuned on synthetic test signals, not on a labelled corpus):
// kSilence: RMS below the silence threshold. kSpeech: energy that comes and goes at syllable
// rate with pauses (many low-energy frames), alternating voiced/unvoiced spectra (varying
// zero-crossing rate) and bursty onsets; two of the three are needed (thresholds in
// audio_features.h). kMusic: everything else that is not silent, and every window of a file
// with a steady beat (tempo confidence >= 0.6), so drum loops and speech over a beat are
// music.
enum class AudioWindowKind { kSilence, kSpeech, kMusic };

struct AudioWindow {
  double start_sec = 0;  // from the first decoded sample (container timestamps are ignored)
  double end_sec = 0;
  AudioWindowKind kind = AudioWindowKind::kSilence;
};

struct AudioAnalysis {
  int sample_rate = 0;  // Hz, of the first decoded frame (later frames are resampled to it)
  int channels = 0;
  std::string codec;                    // FFmpeg codec name: "mp3", "aac", "pcm_s16le"
  std::optional<std::int64_t> bitrate;  // bits per second, of the stream or else the file
  double duration_sec = 0;              // decoded samples / sample_rate
  std::int64_t samples = 0;             // decoded samples per channel
  std::int64_t decoded_frames = 0;      // FFmpeg audio frames decoded
  std::int64_t decode_errors = 0;       // packets or frames the decoder rejected (skipped)
  // False when reading stopped at an error, or when the decoded audio is shorter than the
  // container's stated duration by more than 5% (and 0.5 s): a truncated file. A file cut
  // where no header says otherwise (raw CBR MP3, WAV) still reads as complete.
  bool complete = true;
  double analysed_sec = 0;  // seconds that tempo and the classifier covered

  AudioLoudness loudness;
  std::optional<AudioTempo> tempo;  // absent for silence and for signals without a beat
  std::vector<AudioWindow> windows;
  bool is_silent = false;  // every analysed window is silence and the whole file is quiet
  bool is_speech = false;  // speech windows outweigh music windows in non-silent time
};

[[nodiscard]] Result<AudioAnalysis> AnalyzeAudio(const std::filesystem::path& path,
                                                 const AudioAnalysisOptions& options = {});

// "silence", "speech", "music".
const char* AudioWindowKindName(AudioWindowKind kind);

}  // namespace pixvault::media
