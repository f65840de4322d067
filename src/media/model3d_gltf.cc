// glTF 2.0 through tinygltf. This is the one translation unit that compiles tinygltf's
// implementation; stb_image is left out: the image loader below reads only the picture size
// from the header, so no texture is ever decoded.
#define TINYGLTF_IMPLEMENTATION
#define TINYGLTF_NO_STB_IMAGE
#define TINYGLTF_NO_STB_IMAGE_WRITE
#include <tiny_gltf.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <span>

#include "media/model3d_parsers.h"

namespace pixvault::media::model3d_internal {
namespace {

namespace fs = std::filesystem;

// ---- File access confined to the model's directory ----

struct FsContext {
  fs::path directory;
  std::int64_t max_bytes = 0;
};

bool ConfinedFileExists(const std::string& file, void* user) {
  return IsInside(static_cast<FsContext*>(user)->directory, fs::path(file));
}

std::string NoExpansion(const std::string& file, void*) { return file; }

bool ConfinedReadWholeFile(std::vector<unsigned char>* out, std::string* err,
                           const std::string& file, void* user) {
  const auto* context = static_cast<FsContext*>(user);
  if (!IsInside(context->directory, fs::path(file))) {
    if (err) *err += "not inside the model's directory";
    return false;
  }
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec || size > static_cast<std::uintmax_t>(context->max_bytes)) {
    if (err) *err += ec ? "cannot read" : "larger than the buffer limit";
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  out->resize(static_cast<std::size_t>(size));
  if (size > 0 &&
      !in.read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(size))) {
    if (err) *err += "cannot read";
    return false;
  }
  return true;
}

bool RefuseWrite(std::string* err, const std::string&, const std::vector<unsigned char>&, void*) {
  if (err) *err += "writing is not allowed";
  return false;
}

// Image "loader": the size from the header, no pixels. Unknown formats are not an error (the
// texture's resolution is just unknown).
bool ReadImageHeader(tinygltf::Image* image, const int, std::string*, std::string*, int, int,
                     const unsigned char* bytes, int size, void*) {
  image->width = -1;
  image->height = -1;
  if (bytes != nullptr && size > 0) {
    if (const std::optional<ImageSize> s =
            ImageSizeFromHeader(std::span(bytes, static_cast<std::size_t>(size)))) {
      image->width = s->width;
      image->height = s->height;
    }
  }
  return true;
}

// ---- Geometry ----

// Column-major 4x4, as glTF stores it.
using Mat4 = std::array<double, 16>;
constexpr Mat4 kIdentity = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

Mat4 Multiply(const Mat4& a, const Mat4& b) {
  Mat4 r{};
  for (int c = 0; c < 4; ++c) {
    for (int row = 0; row < 4; ++row) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += a[k * 4 + row] * b[c * 4 + k];
      r[c * 4 + row] = sum;
    }
  }
  return r;
}

Mat4 LocalTransform(const tinygltf::Node& node) {
  if (node.matrix.size() == 16) {
    Mat4 m;
    for (std::size_t i = 0; i < 16; ++i) m[i] = node.matrix[i];
    return m;
  }
  Mat4 t = kIdentity, r = kIdentity, s = kIdentity;
  if (node.translation.size() == 3) {
    t[12] = node.translation[0];
    t[13] = node.translation[1];
    t[14] = node.translation[2];
  }
  if (node.rotation.size() == 4) {
    const double x = node.rotation[0], y = node.rotation[1], z = node.rotation[2],
                 w = node.rotation[3];
    r = {1 - 2 * (y * y + z * z),
         2 * (x * y + z * w),
         2 * (x * z - y * w),
         0,
         2 * (x * y - z * w),
         1 - 2 * (x * x + z * z),
         2 * (y * z + x * w),
         0,
         2 * (x * z + y * w),
         2 * (y * z - x * w),
         1 - 2 * (x * x + y * y),
         0,
         0,
         0,
         0,
         1};
  }
  if (node.scale.size() == 3) {
    s[0] = node.scale[0];
    s[5] = node.scale[1];
    s[10] = node.scale[2];
  }
  return Multiply(t, Multiply(r, s));
}

void AddPoint(Bounds& bounds, const Mat4& m, double x, double y, double z) {
  bounds.Add(m[0] * x + m[4] * y + m[8] * z + m[12], m[1] * x + m[5] * y + m[9] * z + m[13],
             m[2] * x + m[6] * y + m[10] * z + m[14]);
}

std::int64_t Triangles(int mode, std::int64_t count) {
  switch (mode) {
    case TINYGLTF_MODE_TRIANGLES:
      return count / 3;
    case TINYGLTF_MODE_TRIANGLE_STRIP:
    case TINYGLTF_MODE_TRIANGLE_FAN:
      return count >= 3 ? count - 2 : 0;
    default:  // points, lines, line loops, line strips
      return 0;
  }
}

class Walker {
 public:
  Walker(const tinygltf::Model& model, ModelFacts& facts) : model_(model), facts_(facts) {}

  void Scene(const tinygltf::Scene& scene) {
    for (const int node : scene.nodes) Node(node, kIdentity);
  }

  void Mesh(int index, const Mat4& world) {
    if (index < 0 || static_cast<std::size_t>(index) >= model_.meshes.size()) return;
    for (const tinygltf::Primitive& primitive :
         model_.meshes[static_cast<std::size_t>(index)].primitives) {
      const auto position = primitive.attributes.find("POSITION");
      if (position == primitive.attributes.end()) continue;
      const tinygltf::Accessor* positions = AccessorAt(position->second);
      if (positions == nullptr) continue;
      const auto vertices = static_cast<std::int64_t>(positions->count);
      facts_.vertex_count += vertices;
      const tinygltf::Accessor* indices = AccessorAt(primitive.indices);
      if (indices != nullptr) CheckIndices(primitive.indices, positions->count);
      facts_.polygon_count +=
          Triangles(primitive.mode, indices ? static_cast<std::int64_t>(indices->count) : vertices);
      AddPositions(*positions, world);
    }
  }

  Bounds bounds;

 private:
  void Node(int index, const Mat4& parent) {
    if (index < 0 || static_cast<std::size_t>(index) >= model_.nodes.size()) return;
    if (!path_.insert(index).second) {  // a node among its own ancestors
      Warn("node " + std::to_string(index) + " is its own ancestor; the cycle is skipped");
      return;
    }
    const tinygltf::Node& node = model_.nodes[static_cast<std::size_t>(index)];
    const Mat4 world = Multiply(parent, LocalTransform(node));
    Mesh(node.mesh, world);
    for (const int child : node.children) Node(child, world);
    path_.erase(index);
  }

  // Indices at or past the vertex count are reported, not dropped: the triangles still count
  // as declared (assimp drops them; the benchmark explains the difference).
  void CheckIndices(int accessor_index, std::size_t vertices) {
    if (!checked_.insert(accessor_index).second) return;
    const tinygltf::Accessor& accessor = *AccessorAt(accessor_index);
    if (accessor.bufferView < 0 ||
        static_cast<std::size_t>(accessor.bufferView) >= model_.bufferViews.size()) {
      return;
    }
    const tinygltf::BufferView& view =
        model_.bufferViews[static_cast<std::size_t>(accessor.bufferView)];
    if (view.buffer < 0 || static_cast<std::size_t>(view.buffer) >= model_.buffers.size()) return;
    const std::vector<unsigned char>& data =
        model_.buffers[static_cast<std::size_t>(view.buffer)].data;
    const int size =
        tinygltf::GetComponentSizeInBytes(static_cast<std::uint32_t>(accessor.componentType));
    if (size != 1 && size != 2 && size != 4) return;
    const auto width = static_cast<std::size_t>(size);
    const std::size_t stride = view.byteStride > 0 ? view.byteStride : width;
    const std::size_t start = view.byteOffset + accessor.byteOffset;
    if (accessor.count == 0 || start + (accessor.count - 1) * stride + width > data.size()) {
      Warn("indices run past their buffer");
      return;
    }
    for (std::size_t i = 0; i < accessor.count; ++i) {
      std::uint32_t value = 0;
      for (std::size_t b = width; b-- > 0;) value = (value << 8) | data[start + i * stride + b];
      if (value >= vertices) {
        Warn("indices out of range (triangles counted as declared)");
        return;
      }
    }
  }

  const tinygltf::Accessor* AccessorAt(int index) const {
    if (index < 0 || static_cast<std::size_t>(index) >= model_.accessors.size()) return nullptr;
    return &model_.accessors[static_cast<std::size_t>(index)];
  }

  // Every position when they are plain floats in a buffer; the accessor's min/max corners
  // otherwise (quantized, sparse or Draco-compressed data).
  void AddPositions(const tinygltf::Accessor& accessor, const Mat4& world) {
    if (accessor.type == TINYGLTF_TYPE_VEC3 &&
        accessor.componentType == TINYGLTF_COMPONENT_TYPE_FLOAT && accessor.sparse.count == 0 &&
        accessor.bufferView >= 0 &&
        static_cast<std::size_t>(accessor.bufferView) < model_.bufferViews.size()) {
      const tinygltf::BufferView& view =
          model_.bufferViews[static_cast<std::size_t>(accessor.bufferView)];
      if (view.buffer >= 0 && static_cast<std::size_t>(view.buffer) < model_.buffers.size()) {
        const std::vector<unsigned char>& data =
            model_.buffers[static_cast<std::size_t>(view.buffer)].data;
        const std::size_t stride = view.byteStride > 0 ? view.byteStride : 12;
        const std::size_t start = view.byteOffset + accessor.byteOffset;
        const std::size_t end = view.byteOffset + view.byteLength;
        if (accessor.count == 0) return;
        const std::size_t last = start + (accessor.count - 1) * stride + 12;
        if (end <= data.size() && last <= end) {
          for (std::size_t i = 0; i < accessor.count; ++i) {
            float p[3];
            std::memcpy(p, data.data() + start + i * stride, sizeof p);
            AddPoint(bounds, world, p[0], p[1], p[2]);
          }
          return;
        }
        Warn("positions of accessor run past their buffer; bounds from min/max");
      }
    }
    if (accessor.minValues.size() < 3 || accessor.maxValues.size() < 3) {
      Warn("positions without readable data or min/max are left out of the bounding box");
      return;
    }
    for (int corner = 0; corner < 8; ++corner) {
      AddPoint(bounds, world, (corner & 1 ? accessor.maxValues : accessor.minValues)[0],
               (corner & 2 ? accessor.maxValues : accessor.minValues)[1],
               (corner & 4 ? accessor.maxValues : accessor.minValues)[2]);
    }
  }

  void Warn(std::string warning) {
    if (warned_.insert(warning).second) facts_.warnings.push_back(std::move(warning));
  }

  const tinygltf::Model& model_;
  ModelFacts& facts_;
  std::set<int> path_;
  std::set<int> checked_;  // index accessors already checked
  std::set<std::string> warned_;
};

std::string FirstLines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ';';
  }
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

}  // namespace

Result<ModelFacts> ParseWithTinyGltf(const fs::path& path, const ParseLimits& limits) {
  char magic[4] = {};
  {
    std::ifstream in(path, std::ios::binary);
    in.read(magic, sizeof magic);
  }
  const bool binary = std::memcmp(magic, "glTF", 4) == 0;
  const fs::path directory = path.parent_path().empty() ? fs::path(".") : path.parent_path();

  FsContext context{directory, limits.max_buffer_bytes};
  tinygltf::TinyGLTF loader;
  loader.SetFsCallbacks(tinygltf::FsCallbacks{&ConfinedFileExists, &NoExpansion,
                                              &ConfinedReadWholeFile, &RefuseWrite, &context});
  loader.SetImageLoader(&ReadImageHeader, nullptr);

  tinygltf::Model model;
  std::string err, warn;
  const bool ok = binary ? loader.LoadBinaryFromFile(&model, &err, &warn, path.string())
                         : loader.LoadASCIIFromFile(&model, &err, &warn, path.string());
  if (!ok) {
    return Fail(ErrorCode::kCorrupt, "tinygltf: " + FirstLines(WithoutPath(err, directory)));
  }

  if (model.asset.version.empty() || model.asset.version[0] != '2') {
    // glTF 1.0 has a different schema; tinygltf would read it as an empty 2.0 file.
    return Fail(ErrorCode::kUnsupported, "tinygltf reads glTF 2.0 only (asset.version " +
                                             model.asset.version.substr(0, 10) + ")");
  }
  ModelFacts facts;
  facts.parser = ModelParser::kTinyGltf;
  facts.file_format = binary ? "glb" : "gltf";
  for (const std::string& extension : model.extensionsRequired) {
    if (extension == "KHR_draco_mesh_compression" || extension == "EXT_meshopt_compression") {
      facts.warnings.push_back(extension +
                               ": counts from accessors, bounding box from accessor min/max");
    }
  }
  Walker walker(model, facts);
  const int scene = model.defaultScene >= 0 ? model.defaultScene : (model.scenes.empty() ? -1 : 0);
  if (scene >= 0 && static_cast<std::size_t>(scene) < model.scenes.size()) {
    walker.Scene(model.scenes[static_cast<std::size_t>(scene)]);
  } else {
    facts.warnings.push_back("no scene: every mesh counted once, untransformed");
    for (std::size_t i = 0; i < model.meshes.size(); ++i)
      walker.Mesh(static_cast<int>(i), kIdentity);
  }
  facts.bounding_box_size = walker.bounds.Size();

  facts.material_count = static_cast<std::int64_t>(model.materials.size());
  facts.has_materials = facts.material_count > 0;
  facts.has_animations = !model.animations.empty();
  facts.has_rigging = !model.skins.empty();
  facts.has_textures = !model.textures.empty() || !model.images.empty();
  std::optional<ImageSize> largest;
  for (std::size_t i = 0; i < model.images.size(); ++i) {
    const tinygltf::Image& image = model.images[i];
    if (image.width > 0 && image.height > 0) {
      KeepLargest(largest, ImageSize{image.width, image.height});
    } else {
      facts.warnings.push_back("image " + std::to_string(i) +
                               ": not readable (missing, outside the model's directory, or "
                               "not PNG/JPEG/GIF/BMP/WebP)");
    }
  }
  facts.texture_resolution = ResolutionText(largest);
  return facts;
}

}  // namespace pixvault::media::model3d_internal
