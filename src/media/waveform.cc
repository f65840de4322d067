#include "media/waveform.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cmath>

#include "media/av_decoder.h"
#include "media/av_util.h"

namespace pixvault::media {
namespace {

struct SwrFree {
  void operator()(SwrContext* context) const { swr_free(&context); }
};
using SwrContextPtr = std::unique_ptr<SwrContext, SwrFree>;

// Owns an AVChannelLayout (a custom order allocates its channel map).
struct ChannelLayout {
  AVChannelLayout value{};
  ChannelLayout() = default;
  ChannelLayout(const ChannelLayout&) = delete;
  ChannelLayout& operator=(const ChannelLayout&) = delete;
  ~ChannelLayout() { av_channel_layout_uninit(&value); }
};

WaveformColumn Merge(const WaveformColumn& a, const WaveformColumn& b) {
  return WaveformColumn{std::max(a.peak, b.peak), a.sum_sq + b.sum_sq, a.count + b.count};
}

// The fixed-memory binning described in the header.
class Binner {
 public:
  explicit Binner(int columns) : capacity_(2 * static_cast<std::size_t>(columns)) {
    bins_.reserve(capacity_);
  }

  void Add(float sample) {
    if (bins_.empty() || bins_.back().count >= per_bin_) {
      if (bins_.size() == capacity_) Halve();
      bins_.emplace_back();
    }
    WaveformColumn& bin = bins_.back();
    bin.peak = std::max(bin.peak, std::min(1.0f, std::abs(sample)));
    bin.sum_sq += static_cast<double>(sample) * sample;
    ++bin.count;
  }

  const std::vector<WaveformColumn>& bins() const { return bins_; }

 private:
  void Halve() {
    for (std::size_t i = 0; i < bins_.size() / 2; ++i) {
      bins_[i] = Merge(bins_[2 * i], bins_[2 * i + 1]);
    }
    bins_.resize(bins_.size() / 2);
    per_bin_ *= 2;
  }

  std::size_t capacity_;
  std::int64_t per_bin_ = 1;
  std::vector<WaveformColumn> bins_;
};

}  // namespace

double WaveformColumn::Rms() const {
  return count > 0 ? std::sqrt(sum_sq / static_cast<double>(count)) : 0.0;
}

std::vector<WaveformColumn> RegroupWaveform(const std::vector<WaveformColumn>& columns, int count) {
  std::vector<WaveformColumn> out(static_cast<std::size_t>(std::max(count, 0)));
  const std::size_t n = columns.size();
  if (n == 0) return out;
  for (std::size_t j = 0; j < out.size(); ++j) {
    std::size_t begin = j * n / out.size();
    const std::size_t end = std::max(begin + 1, (j + 1) * n / out.size());
    for (; begin < end && begin < n; ++begin) out[j] = Merge(out[j], columns[begin]);
  }
  return out;
}

Result<std::vector<WaveformColumn>> ReadWaveform(const std::filesystem::path& path, int columns) {
  if (columns <= 0) return Fail(ErrorCode::kInvalidArgument, "a waveform needs columns");
  EnsureLibavInitialised();
  const AvLogCapture capture;
  PV_ASSIGN_OR_RETURN(const AvFormatContextPtr context, OpenAvInput(path, AvInputLimits{}));
  PV_RETURN_IF_ERROR(FindAvStreamInfo(*context));
  const AVStream* stream = FindAvStream(*context, AVMEDIA_TYPE_AUDIO);
  if (stream == nullptr) return Fail(ErrorCode::kCorrupt, "no audio stream");
  PV_ASSIGN_OR_RETURN(AvStreamDecoder decoder, AvStreamDecoder::Open(*context, *stream));

  Binner binner(columns);
  SwrContextPtr swr;
  ChannelLayout layout;  // of the frames `swr` was set up for
  std::vector<float> planar;
  for (;;) {
    PV_ASSIGN_OR_RETURN(const AVFrame* frame, decoder.Next());
    if (frame == nullptr) break;
    if (frame->nb_samples <= 0 || frame->ch_layout.nb_channels <= 0) continue;
    // Samples to float, planar, channels kept: the downmix is the plain mean below.
    if (swr == nullptr || av_channel_layout_compare(&layout.value, &frame->ch_layout) != 0) {
      av_channel_layout_uninit(&layout.value);
      int rc = av_channel_layout_copy(&layout.value, &frame->ch_layout);
      if (rc < 0) return Fail(AvError(rc, "copy channel layout"));
      SwrContext* raw = nullptr;
      // FFmpeg 5.1 takes the layouts as non-const pointers; it only reads them.
      rc = swr_alloc_set_opts2(&raw, &layout.value, AV_SAMPLE_FMT_FLTP, frame->sample_rate,
                               &layout.value, static_cast<AVSampleFormat>(frame->format),
                               frame->sample_rate, 0, nullptr);
      swr.reset(raw);
      if (rc >= 0) rc = swr_init(swr.get());
      if (rc < 0) return Fail(AvError(rc, "set up sample conversion"));
    }
    const int channels = frame->ch_layout.nb_channels;
    const auto samples = static_cast<std::size_t>(frame->nb_samples);
    planar.resize(samples * static_cast<std::size_t>(channels));
    std::vector<std::uint8_t*> planes(static_cast<std::size_t>(channels));
    for (std::size_t c = 0; c < planes.size(); ++c) {
      planes[c] = reinterpret_cast<std::uint8_t*>(planar.data() + c * samples);
    }
    const int converted =
        swr_convert(swr.get(), planes.data(), frame->nb_samples,
                    const_cast<const std::uint8_t**>(frame->extended_data), frame->nb_samples);
    if (converted < 0) return Fail(AvError(converted, "convert samples"));
    for (std::size_t i = 0; i < static_cast<std::size_t>(converted); ++i) {
      float sum = 0;
      for (std::size_t c = 0; c < planes.size(); ++c) sum += planar[c * samples + i];
      binner.Add(sum / static_cast<float>(channels));
    }
  }
  if (binner.bins().empty()) return Fail(ErrorCode::kCorrupt, "no decodable audio");
  return RegroupWaveform(binner.bins(), columns);
}

Raster DrawWaveform(const std::vector<WaveformColumn>& columns, int height) {
  constexpr std::uint8_t kPeak[4] = {120, 170, 240, 255};
  constexpr std::uint8_t kBody[4] = {40, 100, 200, 255};
  Raster out;
  out.width = static_cast<int>(columns.size());
  out.height = height;
  out.bands = 4;
  out.pixels.assign(columns.size() * static_cast<std::size_t>(height) * 4, 0);
  const double centre = height / 2.0;
  for (std::size_t x = 0; x < columns.size(); ++x) {
    const double peak = columns[x].peak * centre;
    const double rms = std::min(1.0, columns[x].Rms()) * centre;
    for (int y = 0; y < height; ++y) {
      const double distance = std::abs(y + 0.5 - centre);
      const std::uint8_t* colour = nullptr;
      if (distance <= rms || distance < 1.0) {
        colour = kBody;
      } else if (distance <= peak) {
        colour = kPeak;
      }
      if (colour == nullptr) continue;
      std::copy_n(colour, 4,
                  out.pixels.begin() + static_cast<std::ptrdiff_t>(
                                           (static_cast<std::size_t>(y) * columns.size() + x) * 4));
    }
  }
  return out;
}

}  // namespace pixvault::media
