#include "media/audio_sink.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "media/av_util.h"

namespace pixvault::media {
namespace {

// libebur128 accepts more, but nothing real has more channels, and the per-sample buffers
// scale with it.
constexpr int kMaxChannels = 64;
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768'000;
// Below this rate, true peak is measured on a copy resampled to kTruePeakRate, which
// libebur128 oversamples 4x to 192 kHz (BS.1770-4 Annex 2's rate): its 4x at the native rate
// would reach only 32-176 kHz and read low for content near Nyquist (by up to 1 dB on 16 kHz
// speech).
constexpr int kTruePeakMinRate = 44'100;
constexpr int kTruePeakRate = 48'000;

// libebur128's error codes, converted here only.
Status Ebur128Status(int code, std::string_view what) {
  if (code == EBUR128_SUCCESS) return Ok();
  const ErrorCode error =
      code == EBUR128_ERROR_NOMEM ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  return Fail(error, std::string(what) + ": libebur128 error " + std::to_string(code));
}

// The frame's channel layout; an unspecified order becomes FFmpeg's default for the count.
Result<AVChannelLayout> LayoutOf(const AVFrame& frame) {
  AVChannelLayout layout{};
  if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&layout, frame.ch_layout.nb_channels);
  } else if (const int rc = av_channel_layout_copy(&layout, &frame.ch_layout); rc < 0) {
    return Fail(AvError(rc, "copy channel layout"));
  }
  return layout;
}

bool IsLfe(const AVChannelLayout& layout, int index) {
  const AVChannel channel =
      av_channel_layout_channel_from_index(&layout, static_cast<unsigned>(index));
  return channel == AV_CHAN_LOW_FREQUENCY || channel == AV_CHAN_LOW_FREQUENCY_2;
}

// BS.1770 weights as FFmpeg's ebur128 filter applies them: LFE 0, rear/side/surround 1.41
// (libebur128's surround weight), everything else 1.
int Ebur128Channel(const AVChannelLayout& layout, int index) {
  switch (av_channel_layout_channel_from_index(&layout, static_cast<unsigned>(index))) {
    case AV_CHAN_LOW_FREQUENCY:
    case AV_CHAN_LOW_FREQUENCY_2:
      return EBUR128_UNUSED;
    case AV_CHAN_BACK_LEFT:
    case AV_CHAN_BACK_CENTER:
    case AV_CHAN_BACK_RIGHT:
    case AV_CHAN_TOP_BACK_LEFT:
    case AV_CHAN_TOP_BACK_CENTER:
    case AV_CHAN_TOP_BACK_RIGHT:
    case AV_CHAN_SIDE_LEFT:
    case AV_CHAN_SIDE_RIGHT:
    case AV_CHAN_SURROUND_DIRECT_LEFT:
    case AV_CHAN_SURROUND_DIRECT_RIGHT:
      return EBUR128_LEFT_SURROUND;
    default:
      return EBUR128_CENTER;
  }
}

// libebur128 1.2 fills its static tables (histogram bins, gate constants) in every
// ebur128_init, always with the same values; inits are serialised here so that two analyses
// starting at once do not write them concurrently. (A meter reading the tables while another
// thread's init rewrites them still sees the same values.)
ebur128_state* Ebur128Init(unsigned channels, unsigned long sample_rate, int mode) {
  static std::mutex init_mutex;
  const std::lock_guard lock(init_mutex);
  return ebur128_init(channels, sample_rate, mode);
}

std::optional<double> Decibels(double linear) {
  if (!(linear > 0) || !std::isfinite(linear)) return std::nullopt;
  return 20 * std::log10(linear);
}

}  // namespace

AudioSink::AudioSink(const AudioAnalysisOptions& options, bool histogram)
    : histogram_(histogram),
      features_(options.window_sec, options.silence_threshold_dbfs),
      feature_samples_limit_(static_cast<std::int64_t>(options.feature_limit_sec *
                                                       AudioFeatureExtractor::kSampleRate)) {}

AudioSink::~AudioSink() {
  av_channel_layout_uninit(&layout_);
  av_channel_layout_uninit(&in_layout_);
}

Status AudioSink::Consume(const AVFrame& frame) {
  if (frame.nb_samples <= 0) return Ok();
  PV_ASSIGN_OR_RETURN(AVChannelLayout in_layout, LayoutOf(frame));
  const Status status = ConsumeWithLayout(frame, in_layout);
  av_channel_layout_uninit(&in_layout);
  return status;
}

// Drains the resamplers' delayed samples.
Status AudioSink::Finish() {
  if (!loudness_swr_) return Ok();
  PV_RETURN_IF_ERROR(Convert(nullptr, 0));
  features_.Finish();
  return Ok();
}

Status AudioSink::Start(const AVFrame& frame, const AVChannelLayout& in_layout) {
  if (in_layout.nb_channels < 1 || in_layout.nb_channels > kMaxChannels) {
    return Fail(ErrorCode::kUnsupported,
                "audio with " + std::to_string(in_layout.nb_channels) + " channels");
  }
  if (frame.sample_rate < kMinSampleRate || frame.sample_rate > kMaxSampleRate) {
    return Fail(ErrorCode::kUnsupported,
                "audio sample rate of " + std::to_string(frame.sample_rate) + " Hz");
  }
  sample_rate_ = frame.sample_rate;
  if (const int rc = av_channel_layout_copy(&layout_, &in_layout); rc < 0) {
    return Fail(AvError(rc, "copy channel layout"));
  }
  // Short-term loudness for our own LRA gating (loudness_range.h) is built from 100 ms
  // windows (see Measure), so no MODE_S and no MODE_LRA.
  const int mode =
      EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK | (histogram_ ? EBUR128_MODE_HISTOGRAM : 0);
  // What ebur128_loudness_window(..., 100) covers, so that the 100 ms windows tile.
  samples_per_100ms_ = std::max<std::int64_t>(1, sample_rate_ / 10);
  state_.reset(Ebur128Init(static_cast<unsigned>(layout_.nb_channels),
                           static_cast<unsigned long>(sample_rate_), mode));
  if (!state_) return Fail(ErrorCode::kInternal, "libebur128 could not start");
  if (sample_rate_ < kTruePeakMinRate) {
    peak_state_.reset(Ebur128Init(static_cast<unsigned>(layout_.nb_channels), kTruePeakRate,
                                  EBUR128_MODE_TRUE_PEAK));
    if (!peak_state_) return Fail(ErrorCode::kInternal, "libebur128 could not start");
  }
  for (int c = 0; c < layout_.nb_channels; ++c) {
    PV_RETURN_IF_ERROR(Ebur128Status(
        ebur128_set_channel(state_.get(), static_cast<unsigned>(c), Ebur128Channel(layout_, c)),
        "set loudness channel"));
  }
  return Ok();
}

// (Re)creates the converters for frames shaped like `frame`; the outputs never change.
Status AudioSink::Configure(const AVFrame& frame, const AVChannelLayout& in_layout) {
  const auto format = static_cast<AVSampleFormat>(frame.format);
  // FFmpeg 5.1 declares the layouts non-const; swr_alloc_set_opts2 only copies them.
  auto* in = const_cast<AVChannelLayout*>(&in_layout);
  SwrContext* raw = nullptr;
  int rc = swr_alloc_set_opts2(&raw, &layout_, AV_SAMPLE_FMT_FLT, sample_rate_, in, format,
                               frame.sample_rate, 0, nullptr);
  SwrPtr loudness(raw);
  if (rc < 0) return Fail(AvError(rc, "set up sample conversion"));
  if (rc = swr_init(loudness.get()); rc < 0) return Fail(AvError(rc, "start sample conversion"));

  raw = nullptr;
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  rc = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, AudioFeatureExtractor::kSampleRate, in,
                           format, frame.sample_rate, 0, nullptr);
  SwrPtr downmix(raw);
  if (rc < 0) return Fail(AvError(rc, "set up downmix"));
  std::vector<double> matrix(static_cast<std::size_t>(in_layout.nb_channels), 0.0);
  int used = 0;
  for (int c = 0; c < in_layout.nb_channels; ++c) used += IsLfe(in_layout, c) ? 0 : 1;
  for (int c = 0; c < in_layout.nb_channels; ++c) {
    if (!IsLfe(in_layout, c) || used == 0) {
      matrix[static_cast<std::size_t>(c)] = 1.0 / std::max(used, 1);
    }
  }
  if (rc = swr_set_matrix(downmix.get(), matrix.data(), in_layout.nb_channels); rc < 0) {
    return Fail(AvError(rc, "set downmix matrix"));
  }
  if (rc = swr_init(downmix.get()); rc < 0) return Fail(AvError(rc, "start downmix"));

  SwrPtr peak;
  if (peak_state_) {
    raw = nullptr;
    rc = swr_alloc_set_opts2(&raw, &layout_, AV_SAMPLE_FMT_FLT, kTruePeakRate, in, format,
                             frame.sample_rate, 0, nullptr);
    peak.reset(raw);
    if (rc < 0) return Fail(AvError(rc, "set up true-peak resampling"));
    if (rc = swr_init(peak.get()); rc < 0) return Fail(AvError(rc, "start true-peak resampling"));
  }

  if (loudness_swr_) PV_RETURN_IF_ERROR(Convert(nullptr, 0));  // drain the old converters
  loudness_swr_ = std::move(loudness);
  downmix_swr_ = std::move(downmix);
  peak_swr_ = std::move(peak);
  in_format_ = frame.format;
  in_rate_ = frame.sample_rate;
  if (const int copy = av_channel_layout_copy(&in_layout_, &in_layout); copy < 0) {
    return Fail(AvError(copy, "copy channel layout"));
  }
  return Ok();
}

Status AudioSink::ConsumeWithLayout(const AVFrame& frame, const AVChannelLayout& in_layout) {
  if (!state_) PV_RETURN_IF_ERROR(Start(frame, in_layout));
  if (!loudness_swr_ || frame.format != in_format_ || frame.sample_rate != in_rate_ ||
      av_channel_layout_compare(&in_layout, &in_layout_) != 0) {
    PV_RETURN_IF_ERROR(Configure(frame, in_layout));
  }
  return Convert(frame.extended_data, frame.nb_samples);
}

// Feeds libebur128. At every 100 ms of audio, reads the loudness of that 100 ms and, once 3 s
// have been measured, derives the short-term (3 s) loudness from the last 30 of them: the
// same value as ebur128_loudness_shortterm (which sums the whole 3 s again at each call, 30
// times the work).
Status AudioSink::Measure(const float* data, int frames) {
  while (frames > 0) {
    const auto take = static_cast<int>(
        std::min<std::int64_t>(frames, samples_per_100ms_ - samples_ % samples_per_100ms_));
    PV_RETURN_IF_ERROR(
        Ebur128Status(ebur128_add_frames_float(state_.get(), data, static_cast<std::size_t>(take)),
                      "measure loudness"));
    data += static_cast<std::ptrdiff_t>(take) * channels();
    frames -= take;
    samples_ += take;
    if (samples_ % samples_per_100ms_ != 0) continue;
    double block = 0;
    PV_RETURN_IF_ERROR(
        Ebur128Status(ebur128_loudness_window(state_.get(), 100, &block), "100 ms loudness"));
    // BS.1770: loudness = -0.691 + 10 log10(weighted mean square); silence is -inf.
    block_energy_[blocks_ % block_energy_.size()] =
        std::isfinite(block) ? std::pow(10.0, (block + 0.691) / 10) : 0.0;
    if (++blocks_ < block_energy_.size()) continue;
    double energy = 0;
    for (const double e : block_energy_) energy += e;
    energy /= static_cast<double>(block_energy_.size());
    range_.Add(energy > 0 ? -0.691 + 10 * std::log10(energy)
                          : -std::numeric_limits<double>::infinity());
  }
  return Ok();
}

// Converts `count` input samples (nullptr: drains) and feeds both consumers.
Status AudioSink::Convert(uint8_t** input, int count) {
  const auto in = const_cast<const uint8_t**>(input);
  const int capacity = swr_get_out_samples(loudness_swr_.get(), count);
  if (capacity < 0) return Fail(AvError(capacity, "size sample conversion"));
  loud_.resize(static_cast<std::size_t>(capacity) * static_cast<std::size_t>(channels()));
  auto* out = reinterpret_cast<uint8_t*>(loud_.data());
  const int n = swr_convert(loudness_swr_.get(), &out, capacity, in, count);
  if (n < 0) return Fail(AvError(n, "convert samples"));
  PV_RETURN_IF_ERROR(Measure(loud_.data(), n));
  if (peak_swr_) {
    const int peak_capacity = swr_get_out_samples(peak_swr_.get(), count);
    if (peak_capacity < 0) return Fail(AvError(peak_capacity, "size true-peak resampling"));
    loud_.resize(static_cast<std::size_t>(peak_capacity) * static_cast<std::size_t>(channels()));
    out = reinterpret_cast<uint8_t*>(loud_.data());
    const int p = swr_convert(peak_swr_.get(), &out, peak_capacity, in, count);
    if (p < 0) return Fail(AvError(p, "resample for true peak"));
    PV_RETURN_IF_ERROR(Ebur128Status(
        ebur128_add_frames_float(peak_state_.get(), loud_.data(), static_cast<std::size_t>(p)),
        "measure true peak"));
  }
  if (feature_samples_ >= feature_samples_limit_) return Ok();
  const int mono_capacity = swr_get_out_samples(downmix_swr_.get(), count);
  if (mono_capacity < 0) return Fail(AvError(mono_capacity, "size downmix"));
  mono_.resize(static_cast<std::size_t>(mono_capacity));
  auto* mono_out = reinterpret_cast<uint8_t*>(mono_.data());
  const int m = swr_convert(downmix_swr_.get(), &mono_out, mono_capacity, in, count);
  if (m < 0) return Fail(AvError(m, "downmix samples"));
  const auto take = static_cast<std::size_t>(
      std::min<std::int64_t>(m, feature_samples_limit_ - feature_samples_));
  features_.Add(std::span<const float>(mono_.data(), take));
  feature_samples_ += static_cast<std::int64_t>(take);
  return Ok();
}

Result<AudioLoudness> AudioSink::Loudness() const {
  if (!state_) return Fail(ErrorCode::kInternal, "no audio was measured");
  ebur128_state* const state = state_.get();
  // Where true peak is read: the 48 kHz copy for low rates, else the main state.
  ebur128_state* const peak_state = peak_state_ ? peak_state_.get() : state;
  AudioLoudness out;
  out.histogram_mode = histogram_;
  double value = 0;
  PV_RETURN_IF_ERROR(Ebur128Status(ebur128_loudness_global(state, &value), "integrated loudness"));
  if (std::isfinite(value)) {
    out.integrated_lufs = value;
    out.range_lu = range_.Range();
  }
  double true_peak = 0, sample_peak = 0;
  for (int c = 0; c < channels(); ++c) {
    PV_RETURN_IF_ERROR(Ebur128Status(
        ebur128_true_peak(peak_state, static_cast<unsigned>(c), &value), "true peak"));
    true_peak = std::max(true_peak, value);
    PV_RETURN_IF_ERROR(
        Ebur128Status(ebur128_sample_peak(state, static_cast<unsigned>(c), &value), "sample peak"));
    sample_peak = std::max(sample_peak, value);
  }
  out.true_peak_dbtp = Decibels(true_peak);
  out.sample_peak_dbfs = Decibels(sample_peak);
  return out;
}

}  // namespace pixvault::media
