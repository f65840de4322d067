// thumbnail_bench: renders image thumbnails with pixvault's RenderImageThumbnail (the image case
// of RenderThumbnail), one file after another on one thread in one process, writes each WebP
// to --out-dir, and prints one JSON line:
// {"images":N,"errors":E,"seconds":S,"cpu_seconds":C,"peak_rss_kib":K} (C: user + system time
// of the whole process, libvips' threads included). scripts/bench_thumbs.sh runs it
// beside vipsthumbnail on the same files. Timings are reported, never asserted.
//
// Usage: thumbnail_bench --size 320 --quality 80 --out-dir DIR FILE...
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.h"
#include "media/thumbnail.h"

namespace {

// Peak resident set size of this process in KiB (VmHWM; getrusage as the fallback).
long PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int Usage() {
  std::fprintf(stderr, "usage: thumbnail_bench --size N --quality Q --out-dir DIR FILE...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  pixvault::media::RenderOptions options;
  std::filesystem::path out_dir;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--size" || arg == "--quality" || arg == "--out-dir") && i + 1 < argc) {
      const char* value = argv[++i];
      if (arg == "--size") options.size = std::atoi(value);
      if (arg == "--quality") options.webp_quality = std::atoi(value);
      if (arg == "--out-dir") out_dir = value;
    } else if (arg.starts_with("--")) {
      return Usage();
    } else {
      files.emplace_back(arg);
    }
  }
  if (out_dir.empty() || files.empty()) return Usage();

  int errors = 0;
  const auto start = pixvault::bench::Clock::now();
  for (const std::filesystem::path& file : files) {
    const auto thumb = pixvault::media::RenderImageThumbnail(file, options);
    if (!thumb) {
      ++errors;
      std::fprintf(stderr, "thumbnail_bench: %s: %s\n", file.c_str(),
                   thumb.error().message.c_str());
      continue;
    }
    const std::filesystem::path out = out_dir / (file.stem().string() + ".webp");
    std::ofstream(out, std::ios::binary)
        .write(thumb->webp.data(), static_cast<std::streamsize>(thumb->webp.size()));
  }
  const double seconds = pixvault::bench::MsSince(start) / 1000.0;
  std::printf(
      "{\"images\":%zu,\"errors\":%d,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
      "\"peak_rss_kib\":%ld}\n",
      files.size(), errors, seconds, CpuSeconds(), PeakRssKib());
  return errors == 0 ? 0 : 1;
}
