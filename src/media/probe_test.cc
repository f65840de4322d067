#include "media/probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "media/sniff.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::Crc32;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Optional;

#define PV_MEDIA_OR_SKIP(var, name)                  \
  const std::filesystem::path var = MediaFile(name); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

TEST(ProbeFile, Mp4Video) {
  PV_MEDIA_OR_SKIP(path, "video.mp4");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_THAT(probe->width, Optional(320));
  EXPECT_THAT(probe->height, Optional(240));
  ASSERT_TRUE(probe->fps.has_value());
  EXPECT_NEAR(*probe->fps, 25.0, 0.01);
  ASSERT_TRUE(probe->duration_sec.has_value());
  EXPECT_NEAR(*probe->duration_sec, 2.0, 0.1);
  EXPECT_THAT(probe->video_codec, Optional(AnyOf("h264", "mpeg4")));
  EXPECT_THAT(probe->container, Optional(HasSubstr("mp4")));
  EXPECT_THAT(probe->pixel_format, Optional(std::string("yuv420p")));
  EXPECT_TRUE(probe->bitrate.has_value());
  EXPECT_FALSE(probe->audio_codec.has_value());
  EXPECT_EQ(probe->rotation, 0);
}

TEST(ProbeFile, VideoWithAudioTrack) {
  PV_MEDIA_OR_SKIP(path, "video_audio.mp4");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_THAT(probe->width, Optional(320));
  EXPECT_THAT(probe->audio_codec, Optional(std::string("aac")));
  EXPECT_THAT(probe->sample_rate, Optional(44100));
  EXPECT_THAT(probe->channels, Optional(1));
}

TEST(ProbeFile, DeepVideoFactsOfAnSdrClip) {
  PV_MEDIA_OR_SKIP(path, "video.mp4");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_FALSE(probe->hdr);
  EXPECT_THAT(probe->bit_depth, Optional(8));
  EXPECT_THAT(probe->variable_fps, Optional(false));
  if (probe->video_codec == "h264") {
    EXPECT_TRUE(probe->video_profile.has_value());
  }
  EXPECT_TRUE(probe->audio_streams.empty());
}

TEST(ProbeFile, HdrClipReportsTransferPrimariesAndTenBits) {
  PV_MEDIA_OR_SKIP(path, "hdr_pq.mp4");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_TRUE(probe->hdr);
  EXPECT_THAT(probe->color_transfer, Optional(std::string("smpte2084")));
  EXPECT_THAT(probe->color_primaries, Optional(std::string("bt2020")));
  EXPECT_THAT(probe->bit_depth, Optional(10));
  EXPECT_THAT(probe->video_codec, Optional(std::string("hevc")));
  EXPECT_THAT(probe->video_profile, Optional(std::string("Main 10")));
}

TEST(ProbeFile, EveryAudioStreamIsListedWithItsLanguage) {
  const std::filesystem::path path = testing::GeneratedFile(
      "two_audio_streams.mkv",
      "-f lavfi -i testsrc2=size=160x120:rate=25:duration=1 -f lavfi -i "
      "sine=frequency=440:duration=1 -f lavfi -i sine=frequency=880:sample_rate=22050:duration=1 "
      "-map 0 -map 1 -map 2 -c:v mpeg4 -c:a:0 libvorbis -c:a:1 flac -ac:a:1 2 "
      "-metadata:s:a:0 language=eng -metadata:s:a:1 language=fra");
  if (path.empty()) GTEST_SKIP() << "ffmpeg cannot produce two_audio_streams.mkv";
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  ASSERT_EQ(probe->audio_streams.size(), 2u);
  EXPECT_EQ(probe->audio_streams[0].codec, "vorbis");
  EXPECT_THAT(probe->audio_streams[0].language, Optional(std::string("eng")));
  EXPECT_THAT(probe->audio_streams[0].sample_rate, Optional(44100));
  EXPECT_EQ(probe->audio_streams[1].codec, "flac");
  EXPECT_THAT(probe->audio_streams[1].language, Optional(std::string("fra")));
  EXPECT_THAT(probe->audio_streams[1].sample_rate, Optional(22050));
  EXPECT_THAT(probe->audio_streams[1].channels, Optional(2));
  EXPECT_THAT(probe->audio_codec, Optional(std::string("vorbis")));  // the first one
}

TEST(ProbeFile, ImageAlphaAnimationColourSpaceAndDepth) {
  PV_MEDIA_OR_SKIP(alpha, "image_alpha.png");
  PV_MEDIA_OR_SKIP(gif, "image_animated.gif");
  PV_MEDIA_OR_SKIP(jpeg, "image.jpeg");
  const Result<ProbeResult> a = ProbeFile(alpha, MediaType::kImage);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_THAT(a->has_alpha, Optional(true));
  EXPECT_THAT(a->frames, Optional(1));
  EXPECT_THAT(a->bit_depth, Optional(8));
  EXPECT_THAT(a->color_space, Optional(std::string("srgb")));
  const Result<ProbeResult> g = ProbeFile(gif, MediaType::kImage);
  ASSERT_TRUE(g.has_value()) << g.error().message;
  EXPECT_THAT(g->frames, Optional(5));
  const Result<ProbeResult> j = ProbeFile(jpeg, MediaType::kImage);
  ASSERT_TRUE(j.has_value()) << j.error().message;
  EXPECT_THAT(j->has_alpha, Optional(false));
  EXPECT_THAT(j->frames, Optional(1));
}

TEST(ProbeFile, WebmVideo) {
  PV_MEDIA_OR_SKIP(path, "video.webm");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_THAT(probe->width, Optional(320));
  EXPECT_THAT(probe->video_codec, Optional(AnyOf("vp9", "vp8")));
  ASSERT_TRUE(probe->duration_sec.has_value());
  EXPECT_NEAR(*probe->duration_sec, 1.0, 0.1);
}

TEST(ProbeFile, RotationFromDisplayMatrix) {
  PV_MEDIA_OR_SKIP(path, "rotated.mp4");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  // FFmpeg 5.1 turns "-metadata:s:v:0 rotate=90" into a display matrix of +90 degrees
  // counter-clockwise (ffprobe: "rotation of 90.00 degrees"); ffmpeg's own autorotate then
  // applies transpose=cclock, i.e. 270 degrees clockwise. (iPhone portrait clips carry -90,
  // which is 90 clockwise.)
  EXPECT_EQ(probe->rotation, 270);
  EXPECT_THAT(probe->width, Optional(320));  // stored size; rotation is for display
}

// "audio.wav" -> "wav", as a test name.
std::string ExtensionAsName(const ::testing::TestParamInfo<std::string_view>& param) {
  const std::string name(param.param);
  return name.substr(name.find('.') + 1);
}

class ProbeAudio : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ProbeAudio, SampleRateChannelsDuration) {
  PV_MEDIA_OR_SKIP(path, GetParam());
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kAudio);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_THAT(probe->sample_rate, Optional(44100));
  EXPECT_THAT(probe->channels, Optional(1));
  ASSERT_TRUE(probe->audio_codec.has_value());
  EXPECT_FALSE(probe->audio_codec->empty());
  ASSERT_TRUE(probe->duration_sec.has_value());
  EXPECT_NEAR(*probe->duration_sec, 1.0, 0.1);
  EXPECT_FALSE(probe->width.has_value());
  EXPECT_FALSE(probe->video_codec.has_value());
}

INSTANTIATE_TEST_SUITE_P(Formats, ProbeAudio,
                         ::testing::Values("audio.wav", "audio.mp3", "audio.ogg", "audio.flac"),
                         ExtensionAsName);

TEST(ProbeFile, WavCodec) {
  PV_MEDIA_OR_SKIP(path, "audio.wav");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kAudio);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_THAT(probe->audio_codec, Optional(std::string("pcm_s16le")));
  EXPECT_THAT(probe->container, Optional(std::string("wav")));
}

TEST(ProbeFile, AudioProbedAsVideoHasNoVideoStream) {
  PV_MEDIA_OR_SKIP(path, "audio.wav");
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo);
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(probe.error().message, "no video stream");
}

TEST(ProbeFile, Mp4CutInHalfIsCorrupt) {
  PV_MEDIA_OR_SKIP(path, "video.mp4");
  const std::string bytes = ReadFile(path);
  // Default movflags put the moov atom (the index) at the end, so the first half has none.
  ASSERT_EQ(bytes.find("moov"), bytes.rfind("moov"));
  ASSERT_GT(bytes.find("moov"), bytes.size() / 2);
  const std::filesystem::path half = ScratchDir() / "half.mp4";
  WriteFile(half, bytes.substr(0, bytes.size() / 2));

  const Result<ProbeResult> probe = ProbeFile(half, MediaType::kVideo);
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(probe.error().message, HasSubstr("moov atom not found"));
}

TEST(ProbeFile, TruncatedFileWithItsIndexFirstIsCorrupt) {
  // With +faststart the index comes first: a cut file still has a complete-looking header.
  for (const std::string_view name : {"faststart.mp4", "cues.mkv"}) {
    const std::filesystem::path path = ::pixvault::media::testing::GeneratedFile(
        name, name.ends_with(".mp4")
                  ? "-f lavfi -i testsrc2=s=160x120:r=25:d=4 -c:v libx264 -pix_fmt yuv420p "
                    "-g 25 -movflags +faststart"
                  : "-f lavfi -i testsrc2=s=160x120:r=25:d=4 -c:v libx264 -pix_fmt yuv420p "
                    "-g 25 -reserve_index_space 4096");
    if (path.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name;
    SCOPED_TRACE(std::string(name));
    const std::string bytes = ReadFile(path);
    ASSERT_TRUE(ProbeFile(path, MediaType::kVideo).has_value());
    const std::filesystem::path cut = ScratchDir() / ("cut-" + std::string(name));
    WriteFile(cut, bytes.substr(0, bytes.size() * 6 / 10));
    const Result<ProbeResult> probe = ProbeFile(cut, MediaType::kVideo);
    ASSERT_FALSE(probe.has_value());
    EXPECT_EQ(probe.error().code, ErrorCode::kCorrupt);
    EXPECT_THAT(probe.error().message, HasSubstr("truncated"));
  }
}

TEST(ProbeFile, Mp4WithFlippedBytesDoesNotCrash) {
  PV_MEDIA_OR_SKIP(path, "video.mp4");
  const std::string original = ReadFile(path);
  for (const double where : {0.02, 0.5, 0.97}) {
    std::string bytes = original;
    const auto middle = static_cast<std::size_t>(static_cast<double>(bytes.size()) * where);
    for (std::size_t i = middle; i < std::min(bytes.size(), middle + 512); ++i) {
      bytes[i] = static_cast<char>(~bytes[i]);
    }
    const std::filesystem::path flipped = ScratchDir() / "flipped.mp4";
    WriteFile(flipped, bytes);
    const Result<ProbeResult> probe = ProbeFile(flipped, MediaType::kVideo);
    if (!probe.has_value()) {
      EXPECT_FALSE(probe.error().message.empty());
    }
  }
}

TEST(ProbeFile, RandomBytesAreErrors) {
  std::string noise(64 * 1024, '\0');
  std::uint32_t state = 99;
  for (char& c : noise) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  const std::filesystem::path as_mp4 = ScratchDir() / "noise.mp4";
  const std::filesystem::path as_png = ScratchDir() / "noise.png";
  WriteFile(as_mp4, noise);
  WriteFile(as_png, noise);
  const Result<ProbeResult> video = ProbeFile(as_mp4, MediaType::kVideo);
  ASSERT_FALSE(video.has_value());
  EXPECT_FALSE(video.error().message.empty());
  const Result<ProbeResult> image = ProbeFile(as_png, MediaType::kImage);
  ASSERT_FALSE(image.has_value());
  EXPECT_EQ(image.error().code, ErrorCode::kCorrupt);
}

TEST(ProbeFile, MissingFileIsNotFound) {
  for (const MediaType type : {MediaType::kVideo, MediaType::kImage}) {
    const Result<ProbeResult> probe = ProbeFile("/nonexistent/pixvault/x", type);
    ASSERT_FALSE(probe.has_value());
    EXPECT_EQ(probe.error().code, ErrorCode::kNotFound) << probe.error().message;
  }
}

TEST(ProbeFile, PlaylistsAreRefused) {
  // An HLS playlist would make libavformat open other files; it must not even be parsed.
  PV_MEDIA_OR_SKIP(path, "video.mp4");
  const std::filesystem::path playlist = ScratchDir() / "list.m3u8";
  WriteFile(playlist, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n" + path.string() +
                          "\n#EXT-X-ENDLIST\n");
  const Result<ProbeResult> probe = ProbeFile(playlist, MediaType::kVideo);
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kUnsupported) << probe.error().message;
  EXPECT_THAT(probe.error().message, HasSubstr("hls"));
}

class ProbeImage : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ProbeImage, DimensionsFromHeader) {
  PV_MEDIA_OR_SKIP(path, GetParam());
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kImage);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_THAT(probe->width, Optional(320));
  EXPECT_THAT(probe->height, Optional(240));
  const std::string name(GetParam());
  EXPECT_THAT(probe->container, Optional(name.substr(name.find('.') + 1)));
  EXPECT_THAT(probe->pixel_format, Optional(AnyOf("rgb", "rgba")));
  EXPECT_FALSE(probe->duration_sec.has_value());
}

INSTANTIATE_TEST_SUITE_P(Formats, ProbeImage,
                         ::testing::Values("image.png", "image.jpeg", "image.webp", "image.gif"),
                         ExtensionAsName);

// Rewrites the IHDR size of a real PNG and fixes the chunk's CRC.
std::string PngWithSize(std::string png, std::uint32_t width, std::uint32_t height) {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4) ... CRC at 29.
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  auto put32 = [&png](std::size_t at, std::uint32_t value) {
    for (std::size_t i = 0; i < 4; ++i) {
      png[at + i] = static_cast<char>((value >> (24 - 8 * i)) & 0xFFu);
    }
  };
  put32(16, width);
  put32(20, height);
  put32(29, Crc32(std::string_view(png).substr(12, 17)));
  return png;
}

TEST(ProbeFile, ImageOverPixelLimitIsRefusedBeforeDecoding) {
  PV_MEDIA_OR_SKIP(path, "image.png");
  const std::filesystem::path huge = ScratchDir() / "huge.png";
  WriteFile(huge, PngWithSize(ReadFile(path), 65000, 65000));
  const Result<ProbeResult> probe = ProbeFile(huge, MediaType::kImage);
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kInvalidArgument) << probe.error().message;
  EXPECT_THAT(probe.error().message, HasSubstr("65000x65000"));

  // The limit is an option.
  ProbeOptions small;
  small.max_pixels = 320 * 240 - 1;
  const Result<ProbeResult> limited = ProbeFile(path, MediaType::kImage, small);
  ASSERT_FALSE(limited.has_value());
  EXPECT_EQ(limited.error().code, ErrorCode::kInvalidArgument);
  small.max_pixels = 320 * 240;
  EXPECT_TRUE(ProbeFile(path, MediaType::kImage, small).has_value());
}

// Rewrites the size in the SOF0 (baseline) header of a real JPEG.
std::string JpegWithSize(std::string jpeg, std::uint16_t width, std::uint16_t height) {
  const std::size_t sof = jpeg.find("\xFF\xC0");
  EXPECT_NE(sof, std::string::npos);
  if (sof == std::string::npos) return jpeg;
  // Marker (2) + length (2) + precision (1), then height and width, big-endian.
  jpeg[sof + 5] = static_cast<char>(height >> 8);
  jpeg[sof + 6] = static_cast<char>(height & 0xFF);
  jpeg[sof + 7] = static_cast<char>(width >> 8);
  jpeg[sof + 8] = static_cast<char>(width & 0xFF);
  return jpeg;
}

TEST(ProbeFile, ImageWhoseHeaderDeclaresMorePixelsThanItsDataHoldIsCorrupt) {
  PV_MEDIA_OR_SKIP(jpeg, "image.jpeg");  // 320x240
  const std::string bytes = ReadFile(jpeg);
  const std::filesystem::path lying = ScratchDir() / "lying.jpeg";
  WriteFile(lying, JpegWithSize(bytes, 8000, 6000));
  ASSERT_NE(ReadFile(lying), bytes);  // the test image is a baseline JPEG
  const Result<ProbeResult> probe = ProbeFile(lying, MediaType::kImage);
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(probe.error().message, HasSubstr("8000x6000"));
  EXPECT_THAT(probe.error().message, HasSubstr("header lies"));
  // A size the data could hold is the decoder's business, not the probe's.
  const std::filesystem::path plausible = ScratchDir() / "plausible.jpeg";
  WriteFile(plausible, JpegWithSize(bytes, 400, 300));
  EXPECT_TRUE(ProbeFile(plausible, MediaType::kImage).has_value());

  PV_MEDIA_OR_SKIP(png, "image.png");
  const std::filesystem::path big_png = ScratchDir() / "big.png";
  WriteFile(big_png, PngWithSize(ReadFile(png), 16000, 16000));
  const Result<ProbeResult> png_probe = ProbeFile(big_png, MediaType::kImage);
  ASSERT_FALSE(png_probe.has_value());
  EXPECT_EQ(png_probe.error().code, ErrorCode::kCorrupt);
}

TEST(ProbeFile, VideoOverPixelLimitIsRefused) {
  PV_MEDIA_OR_SKIP(path, "video.mp4");
  ProbeOptions small;
  small.max_pixels = 320 * 240 - 1;
  const Result<ProbeResult> probe = ProbeFile(path, MediaType::kVideo, small);
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kInvalidArgument);
}

TEST(ProbeFile, ModelReportsSniffedFormat) {
  const std::filesystem::path glb = ScratchDir() / "model.glb";
  WriteFile(glb, std::string("glTF\x02\x00\x00\x00\x14\x00\x00\x00", 12) + std::string(8, ' '));
  const Result<ProbeResult> sniffed = ProbeFile(glb, MediaType::kModel3d);
  ASSERT_TRUE(sniffed.has_value()) << sniffed.error().message;
  EXPECT_THAT(sniffed->container, Optional(std::string("glb")));
  EXPECT_FALSE(sniffed->width.has_value());

  ProbeOptions hinted;
  hinted.format_hint = "obj";
  const Result<ProbeResult> from_hint = ProbeFile(glb, MediaType::kModel3d, hinted);
  ASSERT_TRUE(from_hint.has_value());
  EXPECT_THAT(from_hint->container, Optional(std::string("obj")));
}

TEST(ProbeFile, SafeFromManyThreads) {
  PV_MEDIA_OR_SKIP(video, "video.mp4");
  PV_MEDIA_OR_SKIP(image, "image.png");
  PV_MEDIA_OR_SKIP(audio, "audio.wav");
  const std::filesystem::path half = ScratchDir() / "threads_half.mp4";
  const std::string bytes = ReadFile(video);
  WriteFile(half, bytes.substr(0, bytes.size() / 2));

  std::vector<int> failures(8, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        if (!SniffFile(video).has_value()) ++failures[t];
        if (!ProbeFile(video, MediaType::kVideo).has_value()) ++failures[t];
        if (!ProbeFile(image, MediaType::kImage).has_value()) ++failures[t];
        if (!ProbeFile(audio, MediaType::kAudio).has_value()) ++failures[t];
        const Result<ProbeResult> broken = ProbeFile(half, MediaType::kVideo);
        if (broken.has_value() || broken.error().message.find("moov") == std::string::npos) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int count : failures) EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace pixvault::media
