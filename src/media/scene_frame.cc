#include "media/scene_frame.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pixvault::media::scene {
namespace {

constexpr int kBlock = 16;             // block-matching block size, working pixels
constexpr double kMinBlockStdDev = 3;  // flatter blocks cannot be matched
constexpr int kMinBlocks = 4;          // textured blocks needed for a motion sample

double MeanAbsDiff(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  if (n == 0) return 0;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(std::abs(a[i] - b[i]));
  return static_cast<double>(sum) / static_cast<double>(n);
}

double Median(std::vector<double>& values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// Sum of absolute differences between the block of `current` at (x, y) and the block of
// `previous` at (x + dx, y + dy); both inside their frames.
int BlockSad(const WorkFrame& previous, const WorkFrame& current, int x, int y, int dx, int dy) {
  const auto w = static_cast<std::size_t>(current.width);
  const std::uint8_t* c =
      current.y.data() + static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x);
  const std::uint8_t* p =
      previous.y.data() + static_cast<std::size_t>(y + dy) * w + static_cast<std::size_t>(x + dx);
  int sad = 0;
  for (int row = 0; row < kBlock; ++row) {
    for (int col = 0; col < kBlock; ++col) sad += std::abs(c[col] - p[col]);
    c += w;
    p += w;
  }
  return sad;
}

bool Textured(const WorkFrame& frame, int x, int y) {
  const auto w = static_cast<std::size_t>(frame.width);
  double sum = 0, sum_sq = 0;
  for (int row = 0; row < kBlock; ++row) {
    const std::uint8_t* p =
        frame.y.data() + static_cast<std::size_t>(y + row) * w + static_cast<std::size_t>(x);
    for (int col = 0; col < kBlock; ++col) {
      sum += p[col];
      sum_sq += static_cast<double>(p[col]) * p[col];
    }
  }
  constexpr double n = kBlock * kBlock;
  const double variance = sum_sq / n - (sum / n) * (sum / n);
  return variance >= kMinBlockStdDev * kMinBlockStdDev;
}

// Offset (-0.5..0.5) of the minimum of the parabola through three costs around the best one.
double SubPixel(double before, double best, double after) {
  const double denominator = before - 2 * best + after;
  if (denominator <= 0) return 0;
  return std::clamp((before - after) / (2 * denominator), -0.5, 0.5);
}

// Adds N rows of `width` pixels to the column sums in `out`, in one pass.
template <int N>
void AddRows(const std::uint8_t* const* rows, std::uint16_t* out, std::size_t width) {
  for (std::size_t x = 0; x < width; ++x) {
    unsigned sum = out[x];
    for (int i = 0; i < N; ++i) sum += rows[i][x];
    out[x] = static_cast<std::uint16_t>(sum);
  }
}

// Mean of a box, rounded to nearest: sum / count without a hardware division per output
// pixel (it was a fifth of the downscale's time). A box's sum is at most 255 * count, so the
// quotient is below 256 and a 48-bit fixed-point reciprocal gives it exactly for every count
// below 2^20; counts take one or two values per output row, so their reciprocals are kept.
class BoxDivider {
 public:
  std::uint8_t Rounded(std::uint32_t sum, std::uint32_t count) {
    if (count >= (1u << 20)) return static_cast<std::uint8_t>((sum + count / 2) / count);
    if (count != slots_[0].count) {
      std::swap(slots_[0], slots_[1]);
      if (count != slots_[0].count)
        slots_[0] = {count, ((std::uint64_t{1} << 48) + count - 1) / count};
    }
    return static_cast<std::uint8_t>(((sum + count / 2) * slots_[0].factor) >> 48);
  }

 private:
  struct Slot {
    std::uint32_t count = 0;
    std::uint64_t factor = 0;
  };
  std::array<Slot, 2> slots_{};
};

}  // namespace

void AllocateWorkFrame(int width, int height, WorkFrame& frame) {
  frame.width = width;
  frame.height = height;
  const auto luma = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  const auto chroma =
      static_cast<std::size_t>((width + 1) / 2) * static_cast<std::size_t>((height + 1) / 2);
  frame.y.resize(luma);
  frame.u.resize(chroma);
  frame.v.resize(chroma);
}

void BoxDownscale(const PlaneView& src, int dst_width, int dst_height, int max_rows,
                  std::uint8_t* dst) {
  // Column sums of at most max_rows rows per box, spread over the box's rows: a tall box (15
  // rows for 1080p at 128 wide) is sampled rather than read whole. 16-bit sums hold 257 rows.
  max_rows = std::clamp(max_rows, 1, 257);
  std::vector<std::uint16_t> columns(static_cast<std::size_t>(src.width));
  // Box ox spans columns [edges[ox], max(edges[ox] + 1, edges[ox + 1])): never empty, even
  // for an output wider than the source (4:1:0 chroma of a narrow frame), never past it.
  std::vector<int> edges(static_cast<std::size_t>(dst_width) + 1);
  for (int ox = 0; ox <= dst_width; ++ox) {
    edges[static_cast<std::size_t>(ox)] =
        static_cast<int>(static_cast<std::int64_t>(ox) * src.width / dst_width);
  }
  BoxDivider divide;
  for (int oy = 0; oy < dst_height; ++oy) {
    const int y0 = static_cast<int>(static_cast<std::int64_t>(oy) * src.height / dst_height);
    const int y1 = std::max(
        y0 + 1, static_cast<int>(static_cast<std::int64_t>(oy + 1) * src.height / dst_height));
    const int rows = std::min(max_rows, y1 - y0);
    std::fill(columns.begin(), columns.end(), std::uint16_t{0});
    // Rows are added up to four at a time: more reads in flight, fewer passes over the sums.
    std::array<const std::uint8_t*, 4> batch{};
    for (int k = 0; k < rows;) {
      const int n = rows - k >= 4 ? 4 : rows - k >= 2 ? 2 : 1;
      for (int i = 0; i < n; ++i) {
        const int y = y0 + (2 * (k + i) + 1) * (y1 - y0) / (2 * rows);
        batch[static_cast<std::size_t>(i)] = src.data + static_cast<std::ptrdiff_t>(y) * src.stride;
      }
      if (n == 4) {
        AddRows<4>(batch.data(), columns.data(), columns.size());
      } else if (n == 2) {
        AddRows<2>(batch.data(), columns.data(), columns.size());
      } else {
        AddRows<1>(batch.data(), columns.data(), columns.size());
      }
      k += n;
    }
    for (int ox = 0; ox < dst_width; ++ox) {
      const int x0 = edges[static_cast<std::size_t>(ox)];
      const int x1 = std::max(x0 + 1, edges[static_cast<std::size_t>(ox) + 1]);
      std::uint32_t sum = 0;
      for (int x = x0; x < x1; ++x) sum += columns[static_cast<std::size_t>(x)];
      dst[static_cast<std::ptrdiff_t>(oy) * dst_width + ox] =
          divide.Rounded(sum, static_cast<std::uint32_t>(rows * (x1 - x0)));
    }
  }
}

double ContentScore(const WorkFrame& a, const WorkFrame& b) {
  return (2 * MeanAbsDiff(a.y, b.y) + MeanAbsDiff(a.u, b.u) + MeanAbsDiff(a.v, b.v)) / 4;
}

double MeanLuma(const WorkFrame& frame) {
  if (frame.y.empty()) return 0;
  std::uint64_t sum = 0;
  for (const std::uint8_t v : frame.y) sum += v;
  const double mean = static_cast<double>(sum) / static_cast<double>(frame.y.size());
  if (frame.full_range) return mean;
  return std::clamp((mean - 16) * 255 / 219, 0.0, 255.0);
}

double MeanChroma(const WorkFrame& frame) {
  if (frame.u.empty()) return 0;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < frame.u.size(); ++i) {
    sum += static_cast<std::uint64_t>(std::abs(frame.u[i] - 128) + std::abs(frame.v[i] - 128));
  }
  return static_cast<double>(sum) / static_cast<double>(frame.u.size());
}

MotionSample EstimateMotion(const WorkFrame& previous, const WorkFrame& current) {
  MotionSample out;
  if (previous.width != current.width || previous.height != current.height) return out;
  const int range = std::max(2, current.width / 24);
  const double cx = current.width / 2.0, cy = current.height / 2.0;
  std::vector<double> vx, vy, px, py;
  std::vector<int> costs(static_cast<std::size_t>((2 * range + 1) * (2 * range + 1)));
  const auto cost_at = [&](int dx, int dy) -> int& {
    return costs[static_cast<std::size_t>((dy + range) * (2 * range + 1) + dx + range)];
  };
  for (int y = range; y + kBlock + range <= current.height; y += kBlock) {
    for (int x = range; x + kBlock + range <= current.width; x += kBlock) {
      if (!Textured(current, x, y)) continue;
      int best_dx = 0, best_dy = 0, best = -1;
      for (int dy = -range; dy <= range; ++dy) {
        for (int dx = -range; dx <= range; ++dx) {
          const int sad = BlockSad(previous, current, x, y, dx, dy);
          cost_at(dx, dy) = sad;
          // On a tie the smaller displacement wins, so flat motion reads as none.
          if (best < 0 || sad < best ||
              (sad == best &&
               std::abs(dx) + std::abs(dy) < std::abs(best_dx) + std::abs(best_dy))) {
            best = sad;
            best_dx = dx;
            best_dy = dy;
          }
        }
      }
      double fx = best_dx, fy = best_dy;
      if (std::abs(best_dx) < range) {
        fx += SubPixel(cost_at(best_dx - 1, best_dy), best, cost_at(best_dx + 1, best_dy));
      }
      if (std::abs(best_dy) < range) {
        fy += SubPixel(cost_at(best_dx, best_dy - 1), best, cost_at(best_dx, best_dy + 1));
      }
      // current(p) matches previous(p + d): the content moved by -d.
      vx.push_back(-fx);
      vy.push_back(-fy);
      px.push_back(x + kBlock / 2.0 - cx);
      py.push_back(y + kBlock / 2.0 - cy);
    }
  }
  if (vx.size() < static_cast<std::size_t>(kMinBlocks)) return out;
  std::vector<double> sorted = vx;
  out.dx = Median(sorted);
  sorted = vy;
  out.dy = Median(sorted);
  std::vector<double> radial;
  for (std::size_t i = 0; i < vx.size(); ++i) {
    const double r2 = px[i] * px[i] + py[i] * py[i];
    if (r2 < 16) continue;
    radial.push_back(((vx[i] - out.dx) * px[i] + (vy[i] - out.dy) * py[i]) / r2);
  }
  if (!radial.empty()) out.zoom = Median(radial);
  out.valid = true;
  return out;
}

void ColourHistogram::AddScaled(const ColourHistogram& other, double factor) {
  for (std::size_t i = 0; i < bins.size(); ++i) {
    bins[i].count += other.bins[i].count * factor;
    bins[i].r += other.bins[i].r * factor;
    bins[i].g += other.bins[i].g * factor;
    bins[i].b += other.bins[i].b * factor;
  }
}

void AddColours(const WorkFrame& frame, ColourHistogram& histogram) {
  const double kr = frame.bt709 ? 0.2126 : 0.299;
  const double kb = frame.bt709 ? 0.0722 : 0.114;
  const double kg = 1 - kr - kb;
  const double y_offset = frame.full_range ? 0 : 16;
  // Per-pixel divisions folded into factors: luma sums of 4 samples (1, 2 at the right and
  // bottom edges of odd sizes) and chroma offsets from 128, to 0..255 RGB.
  const double y_factor = 255 / (frame.full_range ? 255.0 : 219.0);
  const double c_factor = 255 / (frame.full_range ? 255.0 : 224.0);
  const double r_from_pr = 2 * (1 - kr) * c_factor;
  const double g_from_pb = -2 * kb * (1 - kb) / kg * c_factor;
  const double g_from_pr = -2 * kr * (1 - kr) / kg * c_factor;
  const double b_from_pb = 2 * (1 - kb) * c_factor;
  const int cw = (frame.width + 1) / 2, ch = (frame.height + 1) / 2;
  const auto w = static_cast<std::size_t>(frame.width);
  const auto bin = [](double value) { return std::min(3, static_cast<int>(value) >> 6); };
  for (int y = 0; y < ch; ++y) {
    const std::uint8_t* top = frame.y.data() + static_cast<std::size_t>(2 * y) * w;
    const std::uint8_t* bottom = 2 * y + 1 < frame.height ? top + w : top;
    const std::uint8_t* u =
        frame.u.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(cw);
    const std::uint8_t* v =
        frame.v.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(cw);
    for (int x = 0; x < cw; ++x) {
      // Mean of the 2x2 luma samples under this chroma sample (a missing column or row at an
      // odd edge repeats the one before it, which is its mean).
      const auto x0 = static_cast<std::size_t>(2 * x);
      const std::size_t x1 = 2 * x + 1 < frame.width ? x0 + 1 : x0;
      const int luma4 = top[x0] + top[x1] + bottom[x0] + bottom[x1];
      const double yv = (luma4 * 0.25 - y_offset) * y_factor;
      const double pb = u[x] - 128.0;
      const double pr = v[x] - 128.0;
      const double r = std::clamp(yv + r_from_pr * pr, 0.0, 255.0);
      const double g = std::clamp(yv + g_from_pb * pb + g_from_pr * pr, 0.0, 255.0);
      const double b = std::clamp(yv + b_from_pb * pb, 0.0, 255.0);
      auto& slot = histogram.bins[static_cast<std::size_t>(bin(r) * 16 + bin(g) * 4 + bin(b))];
      slot.count += 1;
      slot.r += r;
      slot.g += g;
      slot.b += b;
    }
  }
}

std::vector<DominantColor> DominantColours(const ColourHistogram& histogram, int max_colours,
                                           double min_weight) {
  double total = 0;
  for (const auto& bin : histogram.bins) total += bin.count;
  std::vector<DominantColor> out;
  if (total <= 0) return out;
  std::array<std::size_t, 64> order{};
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return histogram.bins[a].count > histogram.bins[b].count;
  });
  for (const std::size_t i : order) {
    const auto& bin = histogram.bins[i];
    const double weight = bin.count / total;
    if (static_cast<int>(out.size()) >= max_colours || bin.count <= 0) break;
    if (weight < min_weight && !out.empty()) break;
    const auto channel = [&](double sum) {
      return static_cast<unsigned>(std::clamp(std::lround(sum / bin.count), 0L, 255L));
    };
    char hex[8];
    std::snprintf(hex, sizeof(hex), "#%02x%02x%02x", channel(bin.r), channel(bin.g),
                  channel(bin.b));
    out.push_back(DominantColor{hex, weight});
  }
  return out;
}

}  // namespace pixvault::media::scene
