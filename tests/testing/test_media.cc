#include "testing/test_media.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "testing/temp_dir.h"

namespace pixvault::media::testing {
namespace {

constexpr std::string_view kFfmpegFlags = " -hide_banner -loglevel error -nostdin -y ";

struct Recipe {
  std::string_view name;
  std::string_view encoder;  // must be listed by `ffmpeg -encoders`; empty for "always there"
  std::string_view fallback_encoder;
  std::string_view args;  // "{enc}" is replaced by the chosen encoder
};

constexpr auto kRecipes = std::to_array<Recipe>({
    {"video.mp4", "libx264", "mpeg4",
     "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v {enc} -pix_fmt yuv420p"},
    {"video_audio.mp4", "libx264", "mpeg4",
     "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi "
     "-i sine=frequency=440:duration=2 -c:v {enc} -pix_fmt yuv420p -c:a aac -shortest"},
    {"keyframes.mp4", "libx264", "mpeg4",
     "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v {enc} -pix_fmt yuv420p -g 25 "
     "-keyint_min 25 -sc_threshold 0 -bf 2"},
    {"video.webm", "libvpx-vp9", "libvpx",
     "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v {enc} -deadline realtime "
     "-cpu-used 8"},
    {"audio.wav", "pcm_s16le", "", "-f lavfi -i sine=frequency=440:duration=1 -c:a {enc}"},
    {"audio.mp3", "libmp3lame", "", "-f lavfi -i sine=frequency=440:duration=1 -c:a {enc}"},
    {"audio.ogg", "libvorbis", "", "-f lavfi -i sine=frequency=440:duration=1 -c:a {enc}"},
    {"audio.flac", "flac", "", "-f lavfi -i sine=frequency=440:duration=1 -c:a {enc}"},
    {"image.png", "png", "", "-f lavfi -i testsrc2=size=320x240 -frames:v 1 -c:v {enc}"},
    {"image.jpeg", "mjpeg", "",
     "-f lavfi -i testsrc2=size=320x240 -frames:v 1 -c:v {enc} -pix_fmt yuvj420p -f image2"},
    {"image.webp", "libwebp", "", "-f lavfi -i testsrc2=size=320x240 -frames:v 1 -c:v {enc}"},
    {"image.gif", "gif", "", "-f lavfi -i testsrc2=size=320x240 -frames:v 1 -c:v {enc}"},
    {"image_animated.gif", "gif", "",
     "-f lavfi -i testsrc2=size=160x120:rate=5:duration=1 -c:v {enc}"},
    {"image_animated.webp", "libwebp_anim", "",
     "-f lavfi -i testsrc2=size=160x120:rate=5:duration=1 -c:v {enc} -loop 0"},
    {"image_large.jpeg", "mjpeg", "",
     "-f lavfi -i testsrc2=size=1600x900 -frames:v 1 -c:v {enc} -pix_fmt yuvj420p -f image2"},
    {"image_alpha.png", "png", "",
     "-f lavfi -i testsrc2=size=400x300 -frames:v 1 -vf format=rgba,colorchannelmixer=aa=0.5 "
     "-c:v {enc}"},
    {"image_marker.jpeg", "mjpeg", "",
     "-f lavfi -i color=c=blue:size=320x160 -frames:v 1 "
     "-vf drawbox=x=0:y=0:w=80:h=40:color=red:t=fill -c:v {enc} -pix_fmt yuvj420p -f image2"},
    {"picture.png", "png", "", "-f lavfi -i testsrc2=size=640x480 -frames:v 1 -c:v {enc}"},
    {"picture_q60.jpeg", "mjpeg", "",
     "-f lavfi -i testsrc2=size=640x480 -frames:v 1 -c:v {enc} -q:v 10 -pix_fmt yuvj420p "
     "-f image2"},
    {"picture_half.png", "png", "",
     "-f lavfi -i testsrc2=size=640x480 -frames:v 1 -vf scale=320:240 -c:v {enc}"},
    {"picture_bright.png", "png", "",
     "-f lavfi -i testsrc2=size=640x480 -frames:v 1 -vf eq=brightness=0.04 -c:v {enc}"},
    {"picture_ccw.jpeg", "mjpeg", "",
     "-f lavfi -i testsrc2=size=640x480 -frames:v 1 -vf transpose=cclock -c:v {enc} -q:v 2 "
     "-pix_fmt yuvj420p -f image2"},
    {"picture_later.png", "png", "",
     "-f lavfi -i testsrc2=size=640x480:rate=25 -ss 9 -frames:v 1 -c:v {enc}"},
    {"mandelbrot.png", "png", "", "-f lavfi -i mandelbrot=size=640x480 -frames:v 1 -c:v {enc}"},
    {"smptebars.png", "png", "", "-f lavfi -i smptebars=size=640x480 -frames:v 1 -c:v {enc}"},
    {"fade_in.mp4", "libx264", "mpeg4",
     "-f lavfi -i testsrc2=size=320x240:rate=25:duration=8 -vf fade=t=in:st=2:d=2 -c:v {enc} "
     "-pix_fmt yuv420p"},
    {"single_frame.mp4", "libx264", "mpeg4",
     "-f lavfi -i testsrc2=size=320x240 -frames:v 1 -c:v {enc} -pix_fmt yuv420p"},
    {"hdr_pq.mp4", "libx265", "",
     "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -vf "
     "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=smpte2084:m=bt2020nc:p=bt2020:r=tv:npl=100,"
     "format=yuv420p10le -c:v {enc} -x265-params log-level=error -color_primaries bt2020 "
     "-color_trc smpte2084 -colorspace bt2020nc"},
    {"audio_half_silent.wav", "pcm_s16le", "",
     "-f lavfi -i sine=frequency=440:duration=2 -af 'volume=volume=0:enable=lt(t\\,1)' "
     "-c:a {enc}"},
});

std::string Quote(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

bool Run(const std::string& command) { return std::system(command.c_str()) == 0; }

const std::string& EncoderList() {
  static const std::string list = [] {
    std::string out;
    const std::string command = std::string(PIXVAULT_FFMPEG) + " -hide_banner -encoders";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
    if (pipe == nullptr) return out;
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
      out.append(buffer.data(), n);
    }
    return out;
  }();
  return list;
}

bool HasEncoder(std::string_view encoder) {
  return EncoderList().find(" " + std::string(encoder) + " ") != std::string::npos;
}

std::optional<std::string> PickEncoder(const Recipe& recipe) {
  if (HasEncoder(recipe.encoder)) return std::string(recipe.encoder);
  if (!recipe.fallback_encoder.empty() && HasEncoder(recipe.fallback_encoder)) {
    return std::string(recipe.fallback_encoder);
  }
  return std::nullopt;
}

std::filesystem::path Generate(std::string_view name) {
  if (name == "rotated.mp4") {
    const std::filesystem::path source = MediaFile("video.mp4");
    if (source.empty()) return {};
    const std::filesystem::path out = ScratchDir() / "rotated.mp4";
    const bool ok = Run(std::string(PIXVAULT_FFMPEG) + std::string(kFfmpegFlags) + "-i " +
                        Quote(source) + " -c copy -metadata:s:v:0 rotate=90 " + Quote(out));
    return ok ? out : std::filesystem::path();
  }
  for (const Recipe& recipe : kRecipes) {
    if (recipe.name != name) continue;
    const std::optional<std::string> encoder = PickEncoder(recipe);
    if (!encoder) return {};
    std::string args(recipe.args);
    args.replace(args.find("{enc}"), 5, *encoder);
    const std::filesystem::path out = ScratchDir() / std::string(name);
    const bool ok =
        Run(std::string(PIXVAULT_FFMPEG) + std::string(kFfmpegFlags) + args + " " + Quote(out));
    return ok ? out : std::filesystem::path();
  }
  std::fprintf(stderr, "test_media: no recipe for %.*s\n", static_cast<int>(name.size()),
               name.data());
  std::abort();
}

}  // namespace

const std::filesystem::path& ScratchDir() {
  static const pixvault::testing::TempDir dir;
  return dir.path();
}

std::filesystem::path MediaFile(std::string_view name) {
  static std::map<std::string, std::filesystem::path, std::less<>> cache;
  if (const auto it = cache.find(name); it != cache.end()) return it->second;
  std::filesystem::path path = Generate(name);
  cache.emplace(std::string(name), path);
  return path;
}

std::string JpegWithOrientation(std::string_view jpeg, int orientation) {
  // APP1 "Exif": a little-endian TIFF header and one IFD with one entry, Orientation (0x0112),
  // type SHORT, count 1. Length 34 counts itself (2) + "Exif\0\0" (6) + header (8) + entry
  // count (2) + entry (12) + next-IFD offset (4).
  const auto o = static_cast<char>(orientation);
  const std::string app1 = std::string("\xFF\xE1\x00\x22", 4) + std::string("Exif\0\0", 6) +
                           std::string("II*\0\x08\0\0\0", 8) + std::string("\x01\0", 2) +
                           std::string("\x12\x01\x03\0\x01\0\0\0", 8) + std::string(1, o) +
                           std::string("\0\0\0", 3) + std::string("\0\0\0\0", 4);
  std::string out(jpeg.substr(0, 2));  // SOI
  out += app1;
  out += jpeg.substr(2);
  return out;
}

std::filesystem::path GeneratedFile(std::string_view name, std::string_view args) {
  static std::map<std::string, std::filesystem::path, std::less<>> cache;
  if (const auto it = cache.find(name); it != cache.end()) return it->second;
  const std::filesystem::path out = ScratchDir() / std::string(name);
  const bool ok = Run(std::string(PIXVAULT_FFMPEG) + std::string(kFfmpegFlags) + std::string(args) +
                      " " + Quote(out));
  const std::filesystem::path result = ok ? out : std::filesystem::path();
  cache.emplace(std::string(name), result);
  return result;
}

std::optional<std::string> RunFfmpeg(std::string_view args) {
  const std::string command =
      std::string(PIXVAULT_FFMPEG) + " -hide_banner -nostdin " + std::string(args) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace pixvault::media::testing
