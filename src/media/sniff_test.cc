#include "media/sniff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::MediaFile;
using ::pixvault::testing::ReadFile;
using ::testing::HasSubstr;

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

Result<Sniffed> SniffText(const std::string& text, std::string_view hint) {
  return SniffType(Bytes(text), hint);
}

struct Expected {
  std::string_view file;
  MediaType type;
  std::string_view mime;
  std::string_view format;
};

class SniffGeneratedMedia : public ::testing::TestWithParam<Expected> {};

TEST_P(SniffGeneratedMedia, DetectsTypeFromBytes) {
  const Expected& expected = GetParam();
  const std::filesystem::path path = MediaFile(expected.file);
  if (path.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << expected.file;

  const Result<Sniffed> sniffed = SniffFile(path);
  ASSERT_TRUE(sniffed.has_value()) << sniffed.error().message;
  EXPECT_EQ(sniffed->type, expected.type);
  EXPECT_EQ(sniffed->mime_type, expected.mime);
  EXPECT_EQ(sniffed->format, expected.format);

  // The name is not what decides: the same bytes under a misleading name sniff the same.
  const std::string head = ReadFile(path).substr(0, kSniffHeadBytes);
  const Result<Sniffed> renamed = SniffText(head, "holiday.txt");
  ASSERT_TRUE(renamed.has_value()) << renamed.error().message;
  EXPECT_EQ(renamed->format, expected.format);
}

INSTANTIATE_TEST_SUITE_P(
    Media, SniffGeneratedMedia,
    ::testing::Values(Expected{"video.mp4", MediaType::kVideo, "video/mp4", "mp4"},
                      Expected{"video.webm", MediaType::kVideo, "video/webm", "webm"},
                      Expected{"audio.wav", MediaType::kAudio, "audio/wav", "wav"},
                      Expected{"audio.mp3", MediaType::kAudio, "audio/mpeg", "mp3"},
                      Expected{"audio.ogg", MediaType::kAudio, "audio/ogg", "ogg"},
                      Expected{"audio.flac", MediaType::kAudio, "audio/flac", "flac"},
                      Expected{"image.png", MediaType::kImage, "image/png", "png"},
                      Expected{"image.jpeg", MediaType::kImage, "image/jpeg", "jpeg"},
                      Expected{"image.webp", MediaType::kImage, "image/webp", "webp"},
                      Expected{"image.gif", MediaType::kImage, "image/gif", "gif"}),
    [](const ::testing::TestParamInfo<Expected>& param) {
      std::string name(param.param.file);
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

TEST(SniffType, TextNamedMp4IsUnsupported) {
  const Result<Sniffed> sniffed = SniffText("just some notes\nnothing to see\n", "x.mp4");
  ASSERT_FALSE(sniffed.has_value());
  EXPECT_EQ(sniffed.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(sniffed.error().message, "file content is text/plain, not a supported media type");
}

TEST(SniffType, EmptyIsInvalidArgument) {
  const Result<Sniffed> sniffed = SniffType({}, "x.mp4");
  ASSERT_FALSE(sniffed.has_value());
  EXPECT_EQ(sniffed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(sniffed.error().message, "empty file");
}

TEST(SniffType, RandomBytesAreUnsupported) {
  std::string noise(4096, '\0');
  std::uint32_t state = 12345;
  for (char& c : noise) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  const Result<Sniffed> sniffed = SniffText(noise, "noise.png");
  ASSERT_FALSE(sniffed.has_value());
  EXPECT_EQ(sniffed.error().code, ErrorCode::kUnsupported);
}

TEST(SniffType, GlbByMagic) {
  const std::string glb("glTF\x02\x00\x00\x00\x14\x00\x00\x00", 12);
  const Result<Sniffed> sniffed = SniffText(glb + std::string(8, '\0'), "");
  ASSERT_TRUE(sniffed.has_value()) << sniffed.error().message;
  EXPECT_EQ(sniffed->type, MediaType::kModel3d);
  EXPECT_EQ(sniffed->format, "glb");
  EXPECT_EQ(sniffed->mime_type, "model/gltf-binary");
}

TEST(SniffType, GltfJsonNeedsTopLevelAsset) {
  const Result<Sniffed> gltf = SniffText(
      "\xEF\xBB\xBF {\"scenes\": [{\"nodes\": [0]}], \"asset\" : {\"version\": \"2.0\"}}", "");
  ASSERT_TRUE(gltf.has_value()) << gltf.error().message;
  EXPECT_EQ(gltf->type, MediaType::kModel3d);
  EXPECT_EQ(gltf->format, "gltf");

  // "asset" nested deeper, or as a value, is ordinary JSON.
  for (const char* json :
       {R"({"meta": {"asset": {"version": "2.0"}}})", R"({"name": "asset", "list": ["asset"]})"}) {
    const Result<Sniffed> other = SniffText(json, "scene.gltf");
    ASSERT_FALSE(other.has_value()) << json;
    EXPECT_EQ(other.error().code, ErrorCode::kUnsupported);
  }
}

TEST(SniffType, FbxBinaryAndAscii) {
  const std::string binary = std::string("Kaydara FBX Binary  \0\x1a\0", 23) + "\xe8\x1c\0\0";
  const Result<Sniffed> from_binary = SniffText(binary, "");
  ASSERT_TRUE(from_binary.has_value()) << from_binary.error().message;
  EXPECT_EQ(from_binary->format, "fbx");

  const Result<Sniffed> from_ascii = SniffText("; FBX 7.4.0 project file\n; ---\n", "a.fbx");
  ASSERT_TRUE(from_ascii.has_value()) << from_ascii.error().message;
  EXPECT_EQ(from_ascii->type, MediaType::kModel3d);
  EXPECT_EQ(from_ascii->format, "fbx");
}

TEST(SniffType, ObjNeedsExtensionAndObjLines) {
  const std::string obj =
      "# cube\nmtllib cube.mtl\no Cube\nv 1.0 1.0 -1.0\nv 1.0 -1.0 -1.0\nv 1.0 1.0 1.0\n"
      "vt 0.0 0.0\nvn 0.0 1.0 0.0\nusemtl Material\ns off\nf 1/1/1 2/1/1 3/1/1\n";
  const Result<Sniffed> as_obj = SniffText(obj, "Cube.OBJ");
  ASSERT_TRUE(as_obj.has_value()) << as_obj.error().message;
  EXPECT_EQ(as_obj->type, MediaType::kModel3d);
  EXPECT_EQ(as_obj->format, "obj");

  const Result<Sniffed> as_txt = SniffText(obj, "cube.txt");
  ASSERT_FALSE(as_txt.has_value());
  EXPECT_EQ(as_txt.error().code, ErrorCode::kUnsupported);

  const Result<Sniffed> prose = SniffText("Dear diary,\nvery tired today\n", "notes.obj");
  ASSERT_FALSE(prose.has_value());
  EXPECT_EQ(prose.error().code, ErrorCode::kUnsupported);
}

TEST(SniffType, ObjHeadCutMidLineStillCounts) {
  std::string obj;
  while (obj.size() < kSniffHeadBytes + 100) obj += "v 0.125 0.25 0.5\n";
  const Result<Sniffed> sniffed = SniffText(obj.substr(0, kSniffHeadBytes), "big.obj");
  ASSERT_TRUE(sniffed.has_value()) << sniffed.error().message;
  EXPECT_EQ(sniffed->format, "obj");
}

TEST(SniffFile, MissingFileIsNotFound) {
  const Result<Sniffed> sniffed = SniffFile("/nonexistent/pixvault/clip.mp4");
  ASSERT_FALSE(sniffed.has_value());
  EXPECT_EQ(sniffed.error().code, ErrorCode::kNotFound);
}

TEST(SniffFile, UsesGivenHintForBlobNames) {
  const pixvault::testing::TempDir dir;
  pixvault::testing::WriteFile(dir / "3f1a9c", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  EXPECT_FALSE(SniffFile(dir / "3f1a9c").has_value());
  const Result<Sniffed> sniffed = SniffFile(dir / "3f1a9c", "triangle.obj");
  ASSERT_TRUE(sniffed.has_value()) << sniffed.error().message;
  EXPECT_EQ(sniffed->format, "obj");
}

}  // namespace
}  // namespace pixvault::media
