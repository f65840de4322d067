// Routes for what hangs off an asset: the per-media metadata tables (3d, audio, adult) and
// temporal segments; plus the bulk upload pre-check by content hash.
#include <boost/json.hpp>

#include <cmath>
#include <limits>
#include <map>

#include "core/sha256.h"
#include "http/api.h"
#include "http/api_util.h"
#include "service/json_fields.h"

namespace pixvault::http {

namespace {

constexpr std::size_t kMaxEmbeddingValues = 4096;
constexpr std::size_t kMaxHashesPerCheck = 1000;

tl::unexpected<Error> Invalid(std::string_view key, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, "field '" + std::string(key) + "' " + std::string(what));
}

// --- Rendering -------------------------------------------------------------------------

using service::OrNull;

// JSON columns are embedded as JSON. The store validated them on the way in.
boost::json::value Embedded(const std::string& text) { return service::Embedded(text, nullptr); }

boost::json::object ToJson(const Asset3dMetadata& m) {
  return {{"asset_id", m.asset_id},
          {"polygon_count", OrNull(m.polygon_count)},
          {"vertex_count", OrNull(m.vertex_count)},
          {"file_format", OrNull(m.file_format)},
          {"has_textures", m.has_textures},
          {"has_animations", m.has_animations},
          {"has_rigging", m.has_rigging},
          {"has_materials", m.has_materials},
          {"material_count", OrNull(m.material_count)},
          {"texture_resolution", OrNull(m.texture_resolution)},
          {"bounding_box_size", Embedded(m.bounding_box_size)},
          {"extra", Embedded(m.extra)}};
}

boost::json::object ToJson(const AssetAudioMetadata& m) {
  return {{"asset_id", m.asset_id},
          {"sample_rate", OrNull(m.sample_rate)},
          {"channels", OrNull(m.channels)},
          {"bitrate", OrNull(m.bitrate)},
          {"codec", OrNull(m.codec)},
          {"bpm", OrNull(m.bpm)},
          {"key", OrNull(m.key)},
          {"has_lyrics", OrNull(m.has_lyrics)},
          {"is_speech", OrNull(m.is_speech)},
          {"language", OrNull(m.language)},
          {"voice_id", OrNull(m.voice_id)},
          {"extra", Embedded(m.extra)}};
}

boost::json::object ToJson(const AssetAdultMetadata& m) {
  return {{"asset_id", m.asset_id},
          {"intensity_level", OrNull(m.intensity_level)},
          {"tempo", OrNull(m.tempo)},
          {"scene_type", OrNull(m.scene_type)},
          {"intimacy_level", OrNull(m.intimacy_level)},
          {"body_parts_visible", Embedded(m.body_parts_visible)},
          {"clothing_state", OrNull(m.clothing_state)},
          {"positions", Embedded(m.positions)},
          {"mood", OrNull(m.mood)},
          {"lighting", OrNull(m.lighting)}};
}

// The vector itself stays server-side (it can be 4096 numbers per segment); clients see
// which model made it and its size, as on assets.
boost::json::object ToJson(const TemporalSegment& s) {
  boost::json::value embedding = nullptr;
  if (s.embedding) {
    embedding = boost::json::object{{"model", s.embedding->model},
                                    {"dimension", s.embedding->values.size()}};
  }
  return {{"id", s.id},
          {"asset_id", s.asset_id},
          {"segment_type", s.segment_type},
          {"timestamp_sec", s.timestamp_sec},
          {"end_sec", OrNull(s.end_sec)},
          {"frame_number", OrNull(s.frame_number)},
          {"thumbnail_url", OrNull(s.thumbnail_url)},
          {"description", OrNull(s.description)},
          {"objects", Embedded(s.objects)},
          {"actions", Embedded(s.actions)},
          {"embedding", std::move(embedding)},
          {"brightness", OrNull(s.brightness)},
          {"dominant_colors", Embedded(s.dominant_colors)},
          {"camera_motion", OrNull(s.camera_motion)},
          {"created_at", FormatTimestamp(s.created_at)}};
}

// --- Parsing ---------------------------------------------------------------------------

// An integer that must be at least `min` when present.
Result<std::optional<std::int64_t>> OptIntAtLeast(const boost::json::object& o,
                                                  std::string_view key, std::int64_t min) {
  PV_ASSIGN_OR_RETURN(auto v, OptInt(o, key));
  if (v && *v < min) return Invalid(key, "must be >= " + std::to_string(min));
  return v;
}

Result<std::optional<double>> OptFinite(const boost::json::object& o, std::string_view key) {
  PV_ASSIGN_OR_RETURN(auto v, OptNumber(o, key));
  if (v && !std::isfinite(*v)) return Invalid(key, "must be a finite number");
  return v;
}

// A non-nullable boolean column: absent means `fallback`, null is refused.
Result<bool> BoolOr(const boost::json::object& o, std::string_view key, bool fallback) {
  if (IsNull(o, key)) return Invalid(key, "cannot be null");
  PV_ASSIGN_OR_RETURN(auto v, OptBool(o, key));
  return v.value_or(fallback);
}

// A non-nullable JSON column of `kind` ("object" or "array"): absent means `fallback`.
Result<std::string> JsonOr(const boost::json::object& o, std::string_view key,
                           std::string_view kind, std::string fallback) {
  if (IsNull(o, key)) return Invalid(key, "cannot be null");
  PV_ASSIGN_OR_RETURN(auto v, OptJson(o, key, kind));
  return v.value_or(std::move(fallback));
}

// A JSON array of strings column; absent means [].
Result<std::string> StringsJson(const boost::json::object& o, std::string_view key) {
  if (IsNull(o, key)) return Invalid(key, "cannot be null");
  PV_ASSIGN_OR_RETURN(auto v, OptStrings(o, key));
  boost::json::array a;
  for (auto& s : v.value_or(std::vector<std::string>{})) a.emplace_back(s);
  return boost::json::serialize(a);
}

Result<std::optional<std::string>> OptWord(const boost::json::object& o, std::string_view key,
                                           std::initializer_list<std::string_view> vocabulary) {
  PV_ASSIGN_OR_RETURN(auto v, OptString(o, key));
  if (!v) return v;
  for (std::string_view w : vocabulary) {
    if (*v == w) return v;
  }
  std::string list;
  for (std::string_view w : vocabulary) list += (list.empty() ? "" : ", ") + std::string(w);
  return Invalid(key, "must be one of " + list);
}

// A metadata body for the asset `id`: its own fields, plus asset_id, which a client that
// sends back what it read may include but cannot change.
Result<boost::json::object> ParseMetadataBody(const Request& req, std::int64_t id,
                                              std::set<std::string> fields) {
  fields.insert("asset_id");
  PV_ASSIGN_OR_RETURN(auto body, ParseObject(req.body, fields));
  PV_ASSIGN_OR_RETURN(auto asset_id, OptInt(body, "asset_id"));
  if (asset_id && *asset_id != id) return Invalid("asset_id", "does not match the path");
  return body;
}

Result<Asset3dMetadata> Parse3d(const Request& req, std::int64_t id) {
  PV_ASSIGN_OR_RETURN(
      auto o, ParseMetadataBody(req, id,
                                {"polygon_count", "vertex_count", "file_format", "has_textures",
                                 "has_animations", "has_rigging", "has_materials", "material_count",
                                 "texture_resolution", "bounding_box_size", "extra"}));
  Asset3dMetadata m;
  m.asset_id = id;
  PV_ASSIGN_OR_RETURN(m.polygon_count, OptIntAtLeast(o, "polygon_count", 0));
  PV_ASSIGN_OR_RETURN(m.vertex_count, OptIntAtLeast(o, "vertex_count", 0));
  PV_ASSIGN_OR_RETURN(m.file_format, OptString(o, "file_format"));
  PV_ASSIGN_OR_RETURN(m.has_textures, BoolOr(o, "has_textures", false));
  PV_ASSIGN_OR_RETURN(m.has_animations, BoolOr(o, "has_animations", false));
  PV_ASSIGN_OR_RETURN(m.has_rigging, BoolOr(o, "has_rigging", false));
  PV_ASSIGN_OR_RETURN(m.has_materials, BoolOr(o, "has_materials", false));
  PV_ASSIGN_OR_RETURN(m.material_count, OptIntAtLeast(o, "material_count", 0));
  PV_ASSIGN_OR_RETURN(m.texture_resolution, OptString(o, "texture_resolution"));
  if (!IsNull(o, "bounding_box_size")) {
    PV_ASSIGN_OR_RETURN(auto box, OptJson(o, "bounding_box_size", "object"));
    if (box) m.bounding_box_size = std::move(*box);
  }
  PV_ASSIGN_OR_RETURN(m.extra, JsonOr(o, "extra", "object", "{}"));
  return m;
}

Result<AssetAudioMetadata> ParseAudio(const Request& req, std::int64_t id) {
  PV_ASSIGN_OR_RETURN(
      auto o, ParseMetadataBody(req, id,
                                {"sample_rate", "channels", "bitrate", "codec", "bpm", "key",
                                 "has_lyrics", "is_speech", "language", "voice_id", "extra"}));
  AssetAudioMetadata m;
  m.asset_id = id;
  PV_ASSIGN_OR_RETURN(m.sample_rate, OptIntAtLeast(o, "sample_rate", 1));
  PV_ASSIGN_OR_RETURN(m.channels, OptIntAtLeast(o, "channels", 1));
  PV_ASSIGN_OR_RETURN(m.bitrate, OptIntAtLeast(o, "bitrate", 0));
  PV_ASSIGN_OR_RETURN(m.codec, OptString(o, "codec"));
  PV_ASSIGN_OR_RETURN(m.bpm, OptFinite(o, "bpm"));
  if (m.bpm && !(*m.bpm > 0)) return Invalid("bpm", "must be > 0");
  PV_ASSIGN_OR_RETURN(m.key, OptString(o, "key"));
  PV_ASSIGN_OR_RETURN(m.has_lyrics, OptBool(o, "has_lyrics"));
  PV_ASSIGN_OR_RETURN(m.is_speech, OptBool(o, "is_speech"));
  PV_ASSIGN_OR_RETURN(m.language, OptString(o, "language"));
  PV_ASSIGN_OR_RETURN(m.voice_id, OptString(o, "voice_id"));
  PV_ASSIGN_OR_RETURN(m.extra, JsonOr(o, "extra", "object", "{}"));
  return m;
}

Result<AssetAdultMetadata> ParseAdult(const Request& req, std::int64_t id) {
  PV_ASSIGN_OR_RETURN(
      auto o,
      ParseMetadataBody(req, id,
                        {"intensity_level", "tempo", "scene_type", "intimacy_level",
                         "body_parts_visible", "clothing_state", "positions", "mood", "lighting"}));
  AssetAdultMetadata m;
  m.asset_id = id;
  PV_ASSIGN_OR_RETURN(m.intensity_level,
                      OptWord(o, "intensity_level", {"warmup", "moderate", "heated", "intense"}));
  PV_ASSIGN_OR_RETURN(m.tempo, OptWord(o, "tempo", {"slow", "medium", "fast", "varied"}));
  PV_ASSIGN_OR_RETURN(m.scene_type, OptString(o, "scene_type"));
  PV_ASSIGN_OR_RETURN(m.intimacy_level, OptString(o, "intimacy_level"));
  PV_ASSIGN_OR_RETURN(m.body_parts_visible, StringsJson(o, "body_parts_visible"));
  PV_ASSIGN_OR_RETURN(m.clothing_state, OptString(o, "clothing_state"));
  PV_ASSIGN_OR_RETURN(m.positions, StringsJson(o, "positions"));
  PV_ASSIGN_OR_RETURN(m.mood, OptString(o, "mood"));
  PV_ASSIGN_OR_RETURN(m.lighting, OptString(o, "lighting"));
  return m;
}

Result<std::optional<Embedding>> ParseEmbedding(const boost::json::object& o) {
  auto it = o.find("embedding");
  if (it == o.end() || it->value().is_null()) return std::optional<Embedding>();
  constexpr std::string_view kShape = "must be {\"model\": string, \"values\": [numbers]}";
  if (!it->value().is_object()) return Invalid("embedding", kShape);
  const auto& e = it->value().get_object();
  const auto* model = e.if_contains("model");
  const auto* values = e.if_contains("values");
  if (e.size() != 2 || !model || !model->is_string() || model->get_string().empty() || !values ||
      !values->is_array()) {
    return Invalid("embedding", kShape);
  }
  const auto& arr = values->get_array();
  if (arr.empty() || arr.size() > kMaxEmbeddingValues) {
    return Invalid("embedding",
                   "must have 1 to " + std::to_string(kMaxEmbeddingValues) + " values");
  }
  Embedding out{std::string(model->get_string()), {}};
  out.values.reserve(arr.size());
  for (const auto& v : arr) {
    if (!v.is_number()) return Invalid("embedding", kShape);
    double d = v.to_number<double>();
    // Stored as 32-bit floats: a finite double beyond their range would become infinite.
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      return Invalid("embedding", "values must be finite 32-bit floats");
    }
    out.values.push_back(static_cast<float>(d));
  }
  return std::optional<Embedding>(std::move(out));
}

Result<TemporalSegment> ParseSegment(const Request& req, std::int64_t id) {
  PV_ASSIGN_OR_RETURN(
      auto o,
      ParseObject(req.body, {"segment_type", "timestamp_sec", "end_sec", "frame_number",
                             "thumbnail_url", "description", "objects", "actions", "embedding",
                             "brightness", "dominant_colors", "camera_motion"}));
  TemporalSegment s;
  s.asset_id = id;
  PV_ASSIGN_OR_RETURN(auto type, OptString(o, "segment_type"));
  if (!type || type->empty()) return Invalid("segment_type", "is required");
  s.segment_type = std::move(*type);
  PV_ASSIGN_OR_RETURN(auto at, OptFinite(o, "timestamp_sec"));
  if (!at) return Invalid("timestamp_sec", "is required");
  if (*at < 0) return Invalid("timestamp_sec", "must be >= 0");
  s.timestamp_sec = *at;
  PV_ASSIGN_OR_RETURN(s.end_sec, OptFinite(o, "end_sec"));
  if (s.end_sec && *s.end_sec < s.timestamp_sec) {
    return Invalid("end_sec", "must not be before timestamp_sec");
  }
  PV_ASSIGN_OR_RETURN(s.frame_number, OptIntAtLeast(o, "frame_number", 0));
  PV_ASSIGN_OR_RETURN(s.thumbnail_url, OptString(o, "thumbnail_url"));
  PV_ASSIGN_OR_RETURN(s.description, OptString(o, "description"));
  PV_ASSIGN_OR_RETURN(s.objects, JsonOr(o, "objects", "array", "[]"));
  PV_ASSIGN_OR_RETURN(s.actions, JsonOr(o, "actions", "array", "[]"));
  PV_ASSIGN_OR_RETURN(s.embedding, ParseEmbedding(o));
  PV_ASSIGN_OR_RETURN(s.brightness, OptFinite(o, "brightness"));
  PV_ASSIGN_OR_RETURN(s.dominant_colors, JsonOr(o, "dominant_colors", "array", "[]"));
  PV_ASSIGN_OR_RETURN(s.camera_motion, OptString(o, "camera_motion"));
  return s;
}

// --- Handlers --------------------------------------------------------------------------

// GET and PUT of one metadata table, as functions of the store.
template <class M>
struct MetadataTable {
  std::string path;    // "3d"
  std::string name;    // "3dMetadata" (operationId suffix)
  std::string schema;  // "Asset3dMetadata"
  std::string what;    // "3D model"
  Result<M> (storage::Store::*get)(const Viewer&, AssetId);
  Result<M> (storage::Store::*put)(const Viewer&, const M&);
  Result<M> (*parse)(const Request&, std::int64_t);
};

template <class M>
void RegisterTable(Router& router, ApiContext& api, const MetadataTable<M>& t) {
  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  std::string pattern = "/api/v1/assets/{id}/metadata/" + t.path;
  router.Add(Route{"GET", pattern, "get" + t.name, true, 0,
                   [&api, t](Request& req) -> Result<Response> {
                     PV_ASSIGN_OR_RETURN(std::int64_t asset, PathId(req, "id"));
                     PV_ASSIGN_OR_RETURN(M m, (api.store.*t.get)(Viewer::For(*req.user), asset));
                     return JsonResponse(200, ToJson(m));
                   },
                   nullptr,
                   RouteDoc{"Get the asset's " + t.what + " metadata",
                            "metadata",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "The metadata", t.schema},
                             {404, "No such asset, or it has no " + t.what + " metadata", "Problem",
                              "application/problem+json"}}}});
  router.Add(Route{"PUT", pattern, "put" + t.name, true, api.options.json_body_limit,
                   [&api, t](Request& req) -> Result<Response> {
                     PV_ASSIGN_OR_RETURN(std::int64_t asset, PathId(req, "id"));
                     PV_ASSIGN_OR_RETURN(M in, t.parse(req, asset));
                     PV_ASSIGN_OR_RETURN(M m, (api.store.*t.put)(Viewer::For(*req.user), in));
                     return JsonResponse(200, ToJson(m));
                   },
                   nullptr,
                   RouteDoc{"Set (replace) the asset's " + t.what +
                                " metadata; absent fields become null or their default",
                            "metadata",
                            {id},
                            {"application/json"},
                            t.schema,
                            true,
                            {{200, "The stored metadata", t.schema},
                             {400, "Invalid field", "Problem", "application/problem+json"}}}});
}

Result<Response> ListSegments(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto segments, api.store.ListSegments(Viewer::For(*req.user), id));
  boost::json::array items;
  for (const TemporalSegment& s : segments) items.push_back(ToJson(s));
  return JsonResponse(200, boost::json::object{{"items", std::move(items)}});
}

Result<Response> CreateSegment(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(TemporalSegment in, ParseSegment(req, id));
  PV_ASSIGN_OR_RETURN(TemporalSegment s, api.store.AddSegment(Viewer::For(*req.user), in));
  return JsonResponse(201, ToJson(s));
}

Result<Response> DeleteSegment(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(std::int64_t segment_id, PathId(req, "segment_id"));
  Viewer viewer = Viewer::For(*req.user);
  // The store deletes by segment id alone; the path also names the asset, so the segment
  // must be one of that asset's (a segment never moves between assets).
  PV_ASSIGN_OR_RETURN(auto segments, api.store.ListSegments(viewer, id));
  bool found = false;
  for (const TemporalSegment& s : segments) found = found || s.id == segment_id;
  if (!found) {
    return Fail(ErrorCode::kNotFound, "segment " + std::to_string(segment_id) +
                                          " not found on asset " + std::to_string(id));
  }
  PV_RETURN_IF_ERROR(api.store.DeleteSegment(viewer, segment_id));
  Response r;
  r.status = 204;
  return r;
}

// Which of these bytes does the caller already have as an upload? Lets a client skip
// sending files the server would answer "duplicate" for (immich's bulk-upload-check).
Result<Response> CheckByHash(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(auto body, ParseObject(req.body, {"sha256"}));
  if (IsNull(body, "sha256")) return Invalid("sha256", "is required");
  PV_ASSIGN_OR_RETURN(auto hashes, OptStrings(body, "sha256"));
  if (!hashes) return Invalid("sha256", "is required");
  if (hashes->empty() || hashes->size() > kMaxHashesPerCheck) {
    return Invalid("sha256", "must hold 1 to " + std::to_string(kMaxHashesPerCheck) + " hashes");
  }
  for (std::size_t i = 0; i < hashes->size(); ++i) {
    if (!IsSha256Hex((*hashes)[i])) {
      return Fail(ErrorCode::kInvalidArgument,
                  "sha256[" + std::to_string(i) + "] must be 64 lowercase hex characters");
    }
  }
  PV_ASSIGN_OR_RETURN(auto found, api.store.FindUploadsBySha256(req.user->id, *hashes));
  std::map<std::string, AssetId> by_hash(found.begin(), found.end());
  boost::json::array results;
  for (const std::string& h : *hashes) {
    auto it = by_hash.find(h);
    if (it == by_hash.end()) {
      results.push_back(boost::json::object{{"sha256", h}, {"action", "accept"}});
    } else {
      results.push_back(
          boost::json::object{{"sha256", h}, {"action", "duplicate"}, {"asset_id", it->second}});
    }
  }
  return JsonResponse(200, boost::json::object{{"results", std::move(results)}});
}

}  // namespace

void RegisterMetadataRoutes(Router& router, ApiContext& api) {
  RegisterTable(router, api,
                MetadataTable<Asset3dMetadata>{"3d", "3dMetadata", "Asset3dMetadata", "3D model",
                                               &storage::Store::Get3dMetadata,
                                               &storage::Store::Put3dMetadata, &Parse3d});
  RegisterTable(router, api,
                MetadataTable<AssetAudioMetadata>{"audio", "AudioMetadata", "AssetAudioMetadata",
                                                  "audio", &storage::Store::GetAudioMetadata,
                                                  &storage::Store::PutAudioMetadata, &ParseAudio});
  RegisterTable(
      router, api,
      MetadataTable<AssetAdultMetadata>{"adult", "AdultMetadata", "AssetAdultMetadata",
                                        "adult content", &storage::Store::GetAdultMetadata,
                                        &storage::Store::PutAdultMetadata, &ParseAdult});

  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  ParamDoc segment_id{"segment_id", "path", "integer", true,        false,
                      "Segment id", {},     1,         std::nullopt};
  router.Add(Route{"GET", "/api/v1/assets/{id}/segments", "listSegments", true, 0,
                   [&api](Request& r) { return ListSegments(api, r); }, nullptr,
                   RouteDoc{"List the asset's temporal segments, ordered by time",
                            "metadata",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "The segments", "SegmentList"}}}});
  router.Add(Route{"POST", "/api/v1/assets/{id}/segments", "createSegment", true,
                   api.options.json_body_limit,
                   [&api](Request& r) { return CreateSegment(api, r); }, nullptr,
                   RouteDoc{"Add a temporal segment (keyframe, shot, scene, ...) to the asset",
                            "metadata",
                            {id},
                            {"application/json"},
                            "SegmentInput",
                            true,
                            {{201, "The created segment", "Segment"},
                             {400, "Invalid field", "Problem", "application/problem+json"}}}});
  router.Add(Route{"DELETE", "/api/v1/assets/{id}/segments/{segment_id}", "deleteSegment", true, 0,
                   [&api](Request& r) { return DeleteSegment(api, r); }, nullptr,
                   RouteDoc{"Delete one of the asset's temporal segments",
                            "metadata",
                            {id, segment_id},
                            {},
                            "",
                            false,
                            {{204, "Deleted", ""}}}});
  router.Add(Route{
      "POST", "/api/v1/assets/check-by-hash", "checkAssetsByHash", true,
      api.options.json_body_limit, [&api](Request& r) { return CheckByHash(api, r); }, nullptr,
      RouteDoc{
          "Before uploading: which of these SHA-256s the caller already has "
          "as an upload (duplicate) and which to send (accept)",
          "assets",
          {},
          {"application/json"},
          "HashCheck",
          true,
          {{200, "One result per hash, in request order", "HashCheckResult"},
           {400, "Not 1 to 1000 lowercase hex SHA-256s", "Problem", "application/problem+json"}}}});
}

}  // namespace pixvault::http
