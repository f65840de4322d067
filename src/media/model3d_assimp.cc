// Every other format (and glTF that tinygltf refuses) through assimp. Assimp's exceptions stay
// in here: Importer::ReadFile catches its own import errors, the rest is caught below.
#include <assimp/DefaultIOSystem.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <assimp/Importer.hpp>

#include <exception>
#include <set>
#include <string_view>

#include "media/model3d_parsers.h"

namespace pixvault::media::model3d_internal {
namespace {

namespace fs = std::filesystem;

// Assimp's file access, refusing anything outside the model's directory (OBJ material
// libraries, external textures, glTF buffers).
class ConfinedIOSystem final : public Assimp::DefaultIOSystem {
 public:
  explicit ConfinedIOSystem(fs::path directory) : directory_(std::move(directory)) {}
  bool Exists(const char* file) const override {
    return IsInside(directory_, fs::path(file)) && DefaultIOSystem::Exists(file);
  }
  Assimp::IOStream* Open(const char* file, const char* mode) override {
    if (std::string_view(mode).find_first_of("wa+") != std::string_view::npos) return nullptr;
    if (!IsInside(directory_, fs::path(file))) return nullptr;
    return DefaultIOSystem::Open(file, mode);
  }

 private:
  fs::path directory_;
};

struct Totals {
  std::int64_t triangles = 0;
  std::int64_t vertices = 0;
  Bounds bounds;
};

void AddMesh(const aiMesh& mesh, const aiMatrix4x4& world, Totals& totals) {
  totals.vertices += mesh.mNumVertices;
  for (unsigned f = 0; f < mesh.mNumFaces; ++f) {
    // After aiProcess_Triangulate every polygon is a triangle; points and lines stay as they are.
    if (mesh.mFaces[f].mNumIndices == 3) ++totals.triangles;
  }
  for (unsigned v = 0; v < mesh.mNumVertices; ++v) {
    const aiVector3D p = world * mesh.mVertices[v];
    totals.bounds.Add(p.x, p.y, p.z);
  }
}

void Walk(const aiScene& scene, const aiNode& node, const aiMatrix4x4& parent, int depth,
          Totals& totals) {
  if (depth > 1000) return;  // assimp's validation rejects cycles; this bounds the stack anyway
  const aiMatrix4x4 world = parent * node.mTransformation;
  for (unsigned i = 0; i < node.mNumMeshes; ++i) {
    if (node.mMeshes[i] < scene.mNumMeshes) AddMesh(*scene.mMeshes[node.mMeshes[i]], world, totals);
  }
  for (unsigned i = 0; i < node.mNumChildren; ++i) {
    Walk(scene, *node.mChildren[i], world, depth + 1, totals);
  }
}

std::optional<ImageSize> EmbeddedSize(const aiTexture& texture) {
  if (texture.mHeight > 0) {
    return ImageSize{static_cast<int>(texture.mWidth), static_cast<int>(texture.mHeight)};
  }
  // mHeight 0: mWidth bytes of a compressed file (PNG, JPEG, ...) in pcData.
  return ImageSizeFromHeader(
      std::span(reinterpret_cast<const unsigned char*>(texture.pcData), texture.mWidth));
}

void Textures(const aiScene& scene, const fs::path& directory, ModelFacts& facts) {
  std::optional<ImageSize> largest;
  for (unsigned i = 0; i < scene.mNumTextures; ++i) {
    facts.has_textures = true;
    if (const std::optional<ImageSize> size = EmbeddedSize(*scene.mTextures[i])) {
      KeepLargest(largest, *size);
    }
  }
  std::set<std::string> seen;
  for (unsigned m = 0; m < scene.mNumMaterials; ++m) {
    const aiMaterial& material = *scene.mMaterials[m];
    for (int type = aiTextureType_NONE; type <= AI_TEXTURE_TYPE_MAX; ++type) {
      const auto texture_type = static_cast<aiTextureType>(type);
      for (unsigned t = 0; t < material.GetTextureCount(texture_type); ++t) {
        aiString name;
        if (material.GetTexture(texture_type, t, &name) != aiReturn_SUCCESS) continue;
        facts.has_textures = true;
        const std::string file(name.C_Str());
        if (!seen.insert(file).second || scene.GetEmbeddedTexture(file.c_str()) != nullptr) {
          continue;  // embedded ones were measured above
        }
        std::optional<ImageSize> size;
        if (const std::optional<fs::path> resolved = ResolveInside(directory, file)) {
          size = ReadImageSize(*resolved);
        }
        if (size) {
          KeepLargest(largest, *size);
        } else {
          facts.warnings.push_back("texture \"" + file.substr(0, 100) +
                                   "\": not readable (missing, outside the model's directory, "
                                   "or not PNG/JPEG/GIF/BMP/WebP)");
        }
      }
    }
  }
  facts.texture_resolution = ResolutionText(largest);
}

std::string Lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Result<ModelFacts> ParseWithAssimp(const fs::path& path, const ParseLimits&) {
  const fs::path directory = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  try {
    Assimp::Importer importer;
    importer.SetIOHandler(new ConfinedIOSystem(directory));  // the importer owns it
    // JoinIdenticalVertices: see model3d.h (vertex_count). ValidateDataStructure rejects
    // out-of-range indices before anything reads through them.
    const aiScene* scene =
        importer.ReadFile(path.string(), aiProcess_Triangulate | aiProcess_JoinIdenticalVertices |
                                             aiProcess_ValidateDataStructure);
    if (scene == nullptr || scene->mRootNode == nullptr) {
      const std::string why = WithoutPath(importer.GetErrorString(), directory);
      const ErrorCode code = why.find("No suitable reader found") != std::string::npos
                                 ? ErrorCode::kUnsupported
                                 : ErrorCode::kCorrupt;
      return Fail(code, "assimp: " + why.substr(0, 300));
    }
    ModelFacts facts;
    facts.parser = ModelParser::kAssimp;
    facts.file_format =
        Lowercase(path.extension().string().substr(path.extension().empty() ? 0 : 1));
    Totals totals;
    Walk(*scene, *scene->mRootNode, aiMatrix4x4(), 0, totals);
    facts.polygon_count = totals.triangles;
    facts.vertex_count = totals.vertices;
    facts.bounding_box_size = totals.bounds.Size();
    for (unsigned m = 0; m < scene->mNumMaterials; ++m) {
      if (std::string_view(scene->mMaterials[m]->GetName().C_Str()) != AI_DEFAULT_MATERIAL_NAME) {
        ++facts.material_count;
      }
    }
    facts.has_materials = facts.material_count > 0;
    facts.has_animations = scene->mNumAnimations > 0;
    for (unsigned i = 0; i < scene->mNumMeshes; ++i) {
      if (scene->mMeshes[i]->HasBones()) facts.has_rigging = true;
    }
    Textures(*scene, directory, facts);
    return facts;
  } catch (const std::bad_alloc&) {
    throw;  // the child reports "memory limit"
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kCorrupt, "assimp: " + WithoutPath(e.what(), directory));
  }
}

}  // namespace pixvault::media::model3d_internal
