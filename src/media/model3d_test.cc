#include "media/model3d.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "media/child_process.h"
#include "media/image_header.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

namespace fs = std::filesystem;

const fs::path kModels = "/usr/share/assimp/models";

fs::path Write(const std::string& name, std::string_view content) {
  const fs::path path = testing::ScratchDir() / name;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return path;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// Three float positions: (0,0,0), (1,0,0), (0,1,0).
std::string TriangleBytes() {
  const float p[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  return std::string(reinterpret_cast<const char*>(p), sizeof p);
}

// A one-triangle glTF; `buffer` is the buffer object, `node_extra` extra members of the node,
// `top_extra` extra top-level members (each with a leading comma when not empty).
std::string TriangleGltf(const std::string& buffer, const std::string& node_extra = "",
                         const std::string& top_extra = "") {
  return R"({"asset":{"version":"2.0"},"scene":0,"scenes":[{"nodes":[0]}],
    "nodes":[{"mesh":0)" +
         node_extra + R"(}],
    "meshes":[{"primitives":[{"attributes":{"POSITION":0}}]}],
    "accessors":[{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3",
                  "min":[0,0,0],"max":[1,1,0]}],
    "bufferViews":[{"buffer":0,"byteLength":36}],
    "buffers":[)" +
         buffer + "]" + top_extra + "}";
}

std::string EmbeddedBuffer() {
  return R"({"byteLength":36,"uri":"data:application/octet-stream;base64,)" +
         Base64(TriangleBytes()) + R"("})";
}

std::string Le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}

std::string Glb(std::string json, std::string bin) {
  while (json.size() % 4 != 0) json += ' ';
  while (bin.size() % 4 != 0) bin += '\0';
  const std::string body = Le32(static_cast<std::uint32_t>(json.size())) + "JSON" + json +
                           Le32(static_cast<std::uint32_t>(bin.size())) + std::string("BIN\0", 4) +
                           bin;
  return "glTF" + Le32(2) + Le32(static_cast<std::uint32_t>(12 + body.size())) + body;
}

// The first 24 bytes of a PNG of the given size (enough for a header-only reader).
std::string PngHeader(std::uint32_t width, std::uint32_t height) {
  const auto be = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  return std::string("\x89PNG\r\n\x1a\n", 8) + be(13) + "IHDR" + be(width) + be(height) +
         std::string("\x08\x06\x00\x00\x00", 5) + be(0);
}

void ExpectBox(const ModelFacts& facts, double x, double y, double z) {
  ASSERT_TRUE(facts.bounding_box_size.has_value());
  EXPECT_NEAR((*facts.bounding_box_size)[0], x, 1e-6);
  EXPECT_NEAR((*facts.bounding_box_size)[1], y, 1e-6);
  EXPECT_NEAR((*facts.bounding_box_size)[2], z, 1e-6);
}

TEST(AnalyzeModel, OneTriangleObj) {
  const fs::path path = Write("tri/tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  const Result<ModelFacts> facts = AnalyzeModel(path, "obj");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->polygon_count, 1);
  EXPECT_EQ(facts->vertex_count, 3);
  EXPECT_EQ(facts->file_format, "obj");
  EXPECT_EQ(facts->parser, ModelParser::kAssimp);
  EXPECT_FALSE(facts->has_materials);
  EXPECT_EQ(facts->material_count, 0);
  ExpectBox(*facts, 1, 1, 0);
}

TEST(AnalyzeModel, CubeObjWithMaterialAndTexture) {
  Write("cube/cube.mtl", "newmtl red\nKd 1 0 0\nmap_Kd red.png\n");
  Write("cube/red.png", PngHeader(64, 32));
  const fs::path path = Write("cube/cube.obj",
                              "mtllib cube.mtl\n"
                              "v -1 -1 -1\nv 1 -1 -1\nv 1 1 -1\nv -1 1 -1\n"
                              "v -1 -1 1\nv 1 -1 1\nv 1 1 1\nv -1 1 1\n"
                              "usemtl red\n"
                              "f 1 2 3 4\nf 5 8 7 6\nf 1 5 6 2\nf 2 6 7 3\nf 3 7 8 4\nf 5 1 4 8\n");
  const Result<ModelFacts> facts = AnalyzeModel(path, "");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->polygon_count, 12);  // six quads, triangulated
  EXPECT_EQ(facts->vertex_count, 8);    // corners re-joined (JoinIdenticalVertices)
  EXPECT_TRUE(facts->has_materials);
  EXPECT_EQ(facts->material_count, 1);
  EXPECT_TRUE(facts->has_textures);
  EXPECT_EQ(facts->texture_resolution, "64x32");
  ExpectBox(*facts, 2, 2, 2);
}

TEST(AnalyzeModel, GltfEmbeddedBufferWithNodeScale) {
  const fs::path path =
      Write("gltf/scaled.gltf", TriangleGltf(EmbeddedBuffer(), R"(,"scale":[2,2,2])"));
  const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->parser, ModelParser::kTinyGltf);
  EXPECT_EQ(facts->file_format, "gltf");
  EXPECT_EQ(facts->polygon_count, 1);
  EXPECT_EQ(facts->vertex_count, 3);
  ExpectBox(*facts, 2, 2, 0);  // doubled by the node

  ModelOptions assimp;
  assimp.parser = ModelParser::kAssimp;
  const Result<ModelFacts> same = AnalyzeModel(path, "gltf", assimp);
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(same->parser, ModelParser::kAssimp);
  EXPECT_EQ(same->polygon_count, 1);
  EXPECT_EQ(same->vertex_count, 3);
  ExpectBox(*same, 2, 2, 0);
}

TEST(AnalyzeModel, Glb) {
  const fs::path path =
      Write("glb/tri.glb", Glb(TriangleGltf(R"({"byteLength":36})"), TriangleBytes()));
  const Result<ModelFacts> facts = AnalyzeModel(path, "glb");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->file_format, "glb");
  EXPECT_EQ(facts->polygon_count, 1);
  EXPECT_EQ(facts->vertex_count, 3);
  ExpectBox(*facts, 1, 1, 0);
}

constexpr std::string_view kTexture =
    R"(,"materials":[{"pbrMetallicRoughness":{"baseColorTexture":{"index":0}}}],
        "textures":[{"source":0}],"images":[{"uri":"IMAGE"}])";

std::string WithImage(std::string_view image) {
  std::string extra(kTexture);
  extra.replace(extra.find("IMAGE"), 5, image);
  return extra;
}

TEST(AnalyzeModel, GltfMissingTextureIsAWarning) {
  const fs::path path =
      Write("missing_tex/m.gltf", TriangleGltf(EmbeddedBuffer(), "", WithImage("missing.png")));
  const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_TRUE(facts->has_textures);
  EXPECT_FALSE(facts->texture_resolution.has_value());
  EXPECT_FALSE(facts->warnings.empty());
  EXPECT_EQ(facts->material_count, 1);
}

TEST(AnalyzeModel, GltfTextureResolutionFromHeaderOnly) {
  Write("tex/albedo.png", PngHeader(2048, 1024));  // no pixel data at all
  const fs::path path =
      Write("tex/t.gltf", TriangleGltf(EmbeddedBuffer(), "", WithImage("albedo.png")));
  const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->texture_resolution, "2048x1024");
}

TEST(AnalyzeModel, GltfImageOutsideItsDirectoryIsNotRead) {
  Write("outside.png", PngHeader(16, 16));
  const fs::path path =
      Write("escape/e.gltf", TriangleGltf(EmbeddedBuffer(), "", WithImage("../outside.png")));
  const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_TRUE(facts->has_textures);
  EXPECT_FALSE(facts->texture_resolution.has_value());
}

TEST(AnalyzeModel, HugeDeclaredBufferFailsWithoutAllocating) {
  // A small memory cap: allocating the declared 100 GB would be a "memory limit" error, not
  // the kInvalidArgument the preflight gives.
  ModelOptions options;
  options.max_memory_bytes = 256 << 20;
  const std::string huge =
      R"({"byteLength":100000000000,"uri":"data:application/octet-stream;base64,)" +
      Base64(TriangleBytes()) + R"("})";
  for (const auto& [name, content] :
       {std::pair{std::string("huge/uri.gltf"), TriangleGltf(huge)},
        std::pair{std::string("huge/bin.glb"),
                  Glb(TriangleGltf(R"({"byteLength":100000000000})"), TriangleBytes())},
        std::pair{std::string("huge/small.gltf"),
                  TriangleGltf(R"({"byteLength":1000,"uri":"data:;base64,AAAA"})")}}) {
    for (const std::optional<ModelParser> parser :
         {std::optional<ModelParser>(), std::optional(ModelParser::kAssimp)}) {
      options.parser = parser;
      const Result<ModelFacts> facts = AnalyzeModel(Write(name, content), "", options);
      ASSERT_FALSE(facts) << name;
      EXPECT_EQ(facts.error().code, ErrorCode::kInvalidArgument) << facts.error().message;
    }
  }
}

TEST(AnalyzeModel, BufferOutsideItsDirectoryIsRefused) {
  Write("tri.bin", TriangleBytes());
  const fs::path path =
      Write("escape2/b.gltf", TriangleGltf(R"({"byteLength":36,"uri":"../tri.bin"})"));
  const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(facts.error().message.find(testing::ScratchDir().string()), std::string::npos);
}

TEST(AnalyzeModel, GarbageIsAnError) {
  std::string garbage(4096, '\0');
  std::uint32_t x = 12345;
  for (char& c : garbage) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  for (const std::string name : {"garbage.glb", "garbage.gltf", "garbage.obj", "garbage.fbx"}) {
    const Result<ModelFacts> facts = AnalyzeModel(Write("garbage/" + name, garbage), "");
    ASSERT_FALSE(facts) << name;
    for (const char c : facts.error().message) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << name << ": unprintable byte in the message";
    }
    EXPECT_TRUE(facts.error().code == ErrorCode::kCorrupt ||
                facts.error().code == ErrorCode::kUnsupported)
        << name << ": " << facts.error().message;
  }
  const Result<ModelFacts> unknown = AnalyzeModel(Write("garbage/garbage.xyz", garbage), "");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported) << unknown.error().message;
}

TEST(AnalyzeModel, EmptyMissingAndOversizedFiles) {
  const Result<ModelFacts> empty = AnalyzeModel(Write("empty/empty.glb", ""), "glb");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);

  const Result<ModelFacts> missing = AnalyzeModel(testing::ScratchDir() / "nope.obj", "obj");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  ModelOptions small;
  small.max_file_bytes = 10;
  const Result<ModelFacts> big =
      AnalyzeModel(Write("big/tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"), "obj", small);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kInvalidArgument);
}

// ---- Sample models shipped by assimp-testmodels ----

fs::path Sample(const std::string& relative) {
  const fs::path path = kModels / relative;
  return fs::exists(path) ? path : fs::path();
}

TEST(AnalyzeModel, SampleBoxTexturedBothParsersAgree) {
  const fs::path path = Sample("glTF2/BoxTextured-glTF/BoxTextured.gltf");
  if (path.empty()) GTEST_SKIP() << "assimp-testmodels is not installed";
  const Result<ModelFacts> gltf = AnalyzeModel(path, "gltf");
  ASSERT_TRUE(gltf) << gltf.error().message;
  EXPECT_EQ(gltf->parser, ModelParser::kTinyGltf);
  EXPECT_EQ(gltf->polygon_count, 12);
  EXPECT_EQ(gltf->vertex_count, 24);
  EXPECT_TRUE(gltf->has_textures);
  EXPECT_EQ(gltf->texture_resolution, "211x211");  // CesiumLogoFlat.png
  EXPECT_EQ(gltf->material_count, 1);
  ExpectBox(*gltf, 1, 1, 1);

  ModelOptions assimp;
  assimp.parser = ModelParser::kAssimp;
  const Result<ModelFacts> other = AnalyzeModel(path, "gltf", assimp);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->polygon_count, 12);
  EXPECT_EQ(other->vertex_count, 24);
  EXPECT_EQ(other->texture_resolution, "211x211");
  ExpectBox(*other, 1, 1, 1);
}

TEST(AnalyzeModel, GltfThatTinyGltfRefusesFallsBackToAssimp) {
  // glTF 1.0 (tinygltf reads 2.0 only) and Draco-compressed meshes (no decoder in tinygltf).
  for (const std::string relative :
       {"glTF/TwoBoxes/TwoBoxes.gltf", "glTF2/draco/2CylinderEngine.gltf"}) {
    const fs::path path = Sample(relative);
    if (path.empty()) GTEST_SKIP() << "assimp-testmodels is not installed";
    const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
    ASSERT_TRUE(facts) << relative << ": " << facts.error().message;
    EXPECT_EQ(facts->parser, ModelParser::kAssimp) << relative;
    EXPECT_EQ(facts->file_format, "gltf");
    EXPECT_GT(facts->polygon_count, 0) << relative;
    ASSERT_FALSE(facts->warnings.empty());
    EXPECT_NE(facts->warnings[0].find("read by assimp after tinygltf"), std::string::npos)
        << facts->warnings[0];

    ModelOptions only_tinygltf;
    only_tinygltf.parser = ModelParser::kTinyGltf;
    EXPECT_FALSE(AnalyzeModel(path, "gltf", only_tinygltf)) << relative;
  }
}

TEST(AnalyzeModel, SampleSkinHasRiggingAndAnimation) {
  const fs::path path = Sample("glTF2/simple_skin/simple_skin.gltf");
  if (path.empty()) GTEST_SKIP() << "assimp-testmodels is not installed";
  const Result<ModelFacts> facts = AnalyzeModel(path, "gltf");
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_TRUE(facts->has_rigging);
  EXPECT_TRUE(facts->has_animations);
  EXPECT_GT(facts->polygon_count, 0);
}

TEST(AnalyzeModel, SampleOtherFormatsThroughAssimp) {
  for (const std::string relative : {"OBJ/spider.obj", "FBX/box.fbx", "PLY/cube.ply",
                                     "STL/Spider_ascii.stl", "Collada/duck.dae", "3DS/fels.3ds"}) {
    const fs::path path = Sample(relative);
    if (path.empty()) continue;
    const Result<ModelFacts> facts = AnalyzeModel(path, "");
    ASSERT_TRUE(facts) << relative << ": " << facts.error().message;
    EXPECT_EQ(facts->parser, ModelParser::kAssimp) << relative;
    EXPECT_GT(facts->polygon_count, 0) << relative;
    EXPECT_GT(facts->vertex_count, 0) << relative;
    EXPECT_TRUE(facts->bounding_box_size.has_value()) << relative;
  }
}

bool AddressSanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
}

// Forking while other threads run: glibc's malloc is fork-safe (atfork handlers), so every
// child must answer. AddressSanitizer's allocator is not: a child forked while another thread
// holds its lock deadlocks, which the wall-clock timeout turns into an error (the documented
// caveat of child_process.h), so there only "timed out" is tolerated.
TEST(AnalyzeModel, ConcurrentCallsFromSeveralThreads) {
  const fs::path obj = Write("threads/tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  const fs::path gltf = Write("threads/tri.gltf", TriangleGltf(EmbeddedBuffer()));
  ModelOptions options;
  options.wall_timeout = std::chrono::seconds(20);
  std::vector<Result<ModelFacts>> results(8, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] { results[t] = AnalyzeModel(t % 2 ? obj : gltf, "", options); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Result<ModelFacts>& facts : results) {
    if (!facts && AddressSanitizer() &&
        facts.error().message.find("timed out") != std::string::npos) {
      continue;
    }
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_EQ(facts->polygon_count, 1);
  }
}

TEST(AnalyzeModel, ChildThatHangsTimesOut) {
  const fs::path path = Write("iso/tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  ModelOptions options;
  options.wall_timeout = std::chrono::milliseconds(300);
  options.child_hook_for_testing = [] {
    for (;;) ::pause();
  };
  const Result<ModelFacts> facts = AnalyzeModel(path, "obj", options);
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(facts.error().message.find("timed out"), std::string::npos) << facts.error().message;
  EXPECT_TRUE(AnalyzeModel(path, "obj")) << "the caller is unaffected";
}

TEST(AnalyzeModel, ChildThatCrashesIsAnError) {
  const fs::path path = Write("iso/tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  ModelOptions options;
  options.child_hook_for_testing = [] { std::raise(SIGSEGV); };
  const Result<ModelFacts> facts = AnalyzeModel(path, "obj", options);
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().code, ErrorCode::kCorrupt);
  // Under AddressSanitizer its SEGV handler reports and exits instead of dying by the signal.
  EXPECT_NE(
      facts.error().message.find(AddressSanitizer() ? "could not be parsed"
                                                    : "crashed: signal " + std::to_string(SIGSEGV)),
      std::string::npos)
      << facts.error().message;
  EXPECT_TRUE(AnalyzeModel(path, "obj"));
}

TEST(AnalyzeModel, ChildOverItsMemoryCapIsAnError) {
  if (AddressSanitizer()) GTEST_SKIP() << "RLIMIT_AS is not applied under AddressSanitizer";
  const fs::path path = Write("iso/tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  ModelOptions options;
  options.max_memory_bytes = 64 << 20;
  options.child_hook_for_testing = [] {
    std::vector<std::vector<char>> hog;
    for (int i = 0; i < 64; ++i) hog.emplace_back(std::size_t{64} << 20, 'x');  // 4 GiB
  };
  const Result<ModelFacts> facts = AnalyzeModel(path, "obj", options);
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(facts.error().message.find("memory limit"), std::string::npos) << facts.error().message;
}

TEST(RunInChild, CpuLimitAndPassThrough) {
  ChildLimits limits;
  limits.max_cpu_seconds = 1;
  limits.wall_timeout = std::chrono::seconds(30);
  const Result<std::string> spin = RunInChild(limits, []() -> Result<std::string> {
    volatile std::uint64_t x = 0;
    for (;;) x = x + 1;
  });
  ASSERT_FALSE(spin);
  EXPECT_NE(spin.error().message.find("CPU limit"), std::string::npos) << spin.error().message;

  const Result<std::string> answer =
      RunInChild({}, []() -> Result<std::string> { return std::string(100000, 'a'); });
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->size(), 100000u);

  const Result<std::string> error =
      RunInChild({}, []() -> Result<std::string> { return Fail(ErrorCode::kUnsupported, "nope"); });
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(error.error().message, "nope");
}

TEST(ImageSizeFromHeader, PngAndUnknown) {
  const std::string png = PngHeader(300, 200);
  const auto size = ImageSizeFromHeader(
      std::span(reinterpret_cast<const unsigned char*>(png.data()), png.size()));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 300);
  EXPECT_EQ(size->height, 200);
  const std::string text = "hello world, not an image";
  EXPECT_FALSE(ImageSizeFromHeader(
      std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size())));
}

}  // namespace
}  // namespace pixvault::media
