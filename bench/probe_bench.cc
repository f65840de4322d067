// probe_bench: how fast pixvault probes media files, for `make bench` (scripts/bench_probe.sh
// runs ffprobe on the same files beside it).
//
// Probes every regular file of DIR (sniffed from its bytes, then media::ProbeFile, exactly as
// ingest does), one after the other on one thread, `--runs` times, and prints one line:
//   <files> <failed> <median seconds for all files>
// A file that fails to probe counts as failed (the script reports the count); the benchmark
// itself fails only when DIR cannot be read or holds no file.
//
// Usage: probe_bench DIR [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "media/probe.h"
#include "media/sniff.h"

namespace {

namespace fs = std::filesystem;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: probe_bench DIR [--runs N]\n");
    return 2;
  }
  int runs = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(argv[1], ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  if (ec || files.empty()) {
    std::fprintf(stderr, "probe_bench: no files in %s\n", argv[1]);
    return 1;
  }
  std::sort(files.begin(), files.end());
  std::vector<double> seconds;
  int failed = 0;
  for (int run = 0; run < runs; ++run) {
    failed = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const fs::path& f : files) {
      auto sniffed = pixvault::media::SniffFile(f);
      if (!sniffed) {
        ++failed;
        continue;
      }
      auto probed = pixvault::media::ProbeFile(f, sniffed->type);
      if (!probed) ++failed;
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("%zu %d %.4f\n", files.size(), failed, seconds[seconds.size() / 2]);
  return 0;
}
