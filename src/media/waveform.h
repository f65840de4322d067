// Internal to src/media: the waveform picture of an audio file.
//
// The whole file is decoded once, streaming: every sample of the mono downmix (the mean of the
// channels, as float) goes into a fixed number of bins, so memory does not grow with the
// length. Bins cover equal runs of samples; when they are all used, neighbours are merged in
// pairs and each bin covers twice as many samples from then on. At the end the bins are
// grouped into the requested number of columns, each keeping the peak |sample| and the RMS of
// its samples.
//
// Drawing (DrawWaveform): an RGBA picture on a transparent background, symmetric about the
// horizontal centre line; per column, a light envelope (120, 170, 240) reaching +-peak and a
// darker body (40, 100, 200) reaching +-RMS, both opaque, at full scale (a sample of 1.0
// reaches the edge; quiet files look quiet). The centre row is always drawn, so silence shows
// as a line.
//
// Thread-safety: safe from any thread; nothing is shared between calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "media/raster.h"

namespace pixvault::media {

struct WaveformColumn {
  float peak = 0;     // max |sample|, 0..1 (clipped)
  double sum_sq = 0;  // sum of squared samples
  std::int64_t count = 0;
  double Rms() const;
};

// `columns` columns over the whole file; a file with fewer samples than columns repeats them.
// Errors: kCorrupt for an unreadable file, "no audio stream", or no decodable sample;
// kUnsupported for containers or codecs that are not opened; kNotFound when missing.
[[nodiscard]] Result<std::vector<WaveformColumn>> ReadWaveform(const std::filesystem::path& path,
                                                               int columns);

// Groups `columns` into `count` columns (count <= columns.size() merges; more repeats).
std::vector<WaveformColumn> RegroupWaveform(const std::vector<WaveformColumn>& columns, int count);

// The picture described above, one column of pixels per waveform column, `height` rows.
Raster DrawWaveform(const std::vector<WaveformColumn>& columns, int height);

}  // namespace pixvault::media
