// OpenAPI 3.1 generated from the route table plus the component schemas below.
#include <boost/json.hpp>

#include "http/api.h"
#include "http/api_lineage_parse.h"
#include "service/asset_json.h"

namespace pixvault::http {

namespace {

// Component schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses).
constexpr const char* kSchemas = R"json({
  "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "code"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
      "status": {"type": "integer"}, "detail": {"type": "string"},
      "code": {"type": "string", "description": "Stable machine-readable error code"}}},
  "Status": {"type": "object", "properties": {"status": {"type": "string"}}},
  "Asset": {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "integer"},
    "media_type": {"enum": ["video", "image", "audio", "3d_model"]},
    "provider_id": {"type": "string"}, "provider_asset_id": {"type": ["string", "null"]},
    "provider_account_id": {"type": ["integer", "null"]},
    "origin_lost_at": {"type": ["string", "null"], "format": "date-time", "description":
      "when the origin provider said it no longer has provider_asset_id"},
    "remote_url": {"type": ["string", "null"]}, "original_source_url": {"type": ["string", "null"]},
    "original_filename": {"type": ["string", "null"]},
    "upload_method": {"enum": ["extension", "api", "web", "mobile", "cli", "provider"]},
    "sync_status": {"enum": ["remote", "downloading", "downloaded", "error"]},
    "sha256": {"type": ["string", "null"]}, "file_size_bytes": {"type": ["integer", "null"]},
    "mime_type": {"type": ["string", "null"]}, "width": {"type": ["integer", "null"]},
    "height": {"type": ["integer", "null"]}, "duration_sec": {"type": ["number", "null"]},
    "fps": {"type": ["number", "null"]}, "description": {"type": ["string", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "style_tags": {"type": "array", "items": {"type": "string"}},
    "embedding": {"type": ["object", "null"], "properties": {"model": {"type": "string"},
      "dimension": {"type": "integer"}}},
    "content_domain": {"enum": ["general", "adult", "medical", "sports", "fashion", "education"]},
    "content_category": {"type": ["string", "null"]}, "content_taxonomy": {"type": "object"},
    "content_rating": {"enum": ["general", "mature", "adult", "explicit"]},
    "age_restricted": {"type": "boolean"}, "searchable": {"type": "boolean"},
    "media_metadata": {"type": "object"},
    "analysis_errors": {"type": "object",
      "description": "analysis step -> message of its last failure (empty when none failed)"},
    "provider_uploads": {"type": "object", "description":
      "provider id -> account id -> {provider_ref, provider_url, status, attempts, uploaded_at, expires_at}"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "last_accessed_at": {"type": ["string", "null"], "format": "date-time"},
    "pinned": {"type": "boolean", "description": "never evicted from the local cache"}}},
  "AssetPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Asset"}},
    "next_cursor": {"type": ["string", "null"]}, "total": {"type": "integer"}}},
  "AssetPatch": {"type": "object", "additionalProperties": false, "properties": {
    "description": {"type": ["string", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "style_tags": {"type": "array", "items": {"type": "string"}},
    "content_domain": {"enum": ["general", "adult", "medical", "sports", "fashion", "education"]},
    "content_category": {"type": ["string", "null"]}, "content_taxonomy": {"type": "object"},
    "content_rating": {"enum": ["general", "mature", "adult", "explicit"]},
    "age_restricted": {"type": "boolean"}, "searchable": {"type": "boolean"},
    "media_metadata": {"type": "object"}}},
  "UploadForm": {"type": "object", "description":
    "multipart/form-data: a 'file' part and optional metadata fields; or the raw bytes",
    "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"},
      "filename": {"type": "string"}, "description": {"type": "string"},
      "tags": {"type": "string", "description": "comma-separated"},
      "style_tags": {"type": "string", "description": "comma-separated"},
      "content_domain": {"type": "string"}, "content_category": {"type": "string"},
      "content_rating": {"type": "string"}, "age_restricted": {"type": "string"},
      "sha256": {"type": "string", "description": "announced content hash, verified"},
      "upload_method": {"enum": ["extension", "api", "web", "mobile"]},
      "original_source_url": {"type": "string"}}},
  "UploadFromUrl": {"type": "object", "additionalProperties": false, "required": ["url"],
    "properties": {
      "url": {"type": "string", "format": "uri", "description":
        "http or https; private, loopback and link-local destinations are refused"},
      "filename": {"type": "string",
        "description": "defaults to Content-Disposition or the URL's last path segment"},
      "description": {"type": "string"},
      "tags": {"type": "array", "items": {"type": "string"}},
      "style_tags": {"type": "array", "items": {"type": "string"}},
      "content_domain": {"enum": ["general", "adult", "medical", "sports", "fashion", "education"]},
      "content_category": {"type": "string"},
      "content_rating": {"enum": ["general", "mature", "adult", "explicit"]},
      "age_restricted": {"type": "boolean"},
      "sha256": {"type": "string", "description": "announced content hash, verified"},
      "upload_method": {"enum": ["extension", "api", "web", "mobile"], "default": "web"}}},
  "UploadResult": {"type": "object", "required": ["status", "asset"], "properties": {
    "status": {"enum": ["created", "duplicate"]},
    "asset": {"$ref": "#/components/schemas/Asset"}}},
  "Asset3dMetadata": {"type": "object", "additionalProperties": false, "properties": {
    "asset_id": {"type": "integer", "description": "Read-only; may be sent back unchanged"},
    "polygon_count": {"type": ["integer", "null"], "minimum": 0},
    "vertex_count": {"type": ["integer", "null"], "minimum": 0},
    "file_format": {"type": ["string", "null"], "description": "glb, fbx, obj, ..."},
    "has_textures": {"type": "boolean", "default": false},
    "has_animations": {"type": "boolean", "default": false},
    "has_rigging": {"type": "boolean", "default": false},
    "has_materials": {"type": "boolean", "default": false},
    "material_count": {"type": ["integer", "null"], "minimum": 0},
    "texture_resolution": {"type": ["string", "null"]},
    "bounding_box_size": {"type": ["object", "null"]},
    "extra": {"type": "object", "default": {}}}},
  "AssetAudioMetadata": {"type": "object", "additionalProperties": false, "properties": {
    "asset_id": {"type": "integer", "description": "Read-only; may be sent back unchanged"},
    "sample_rate": {"type": ["integer", "null"], "minimum": 1},
    "channels": {"type": ["integer", "null"], "minimum": 1},
    "bitrate": {"type": ["integer", "null"], "minimum": 0},
    "codec": {"type": ["string", "null"]},
    "bpm": {"type": ["number", "null"], "exclusiveMinimum": 0},
    "key": {"type": ["string", "null"]}, "has_lyrics": {"type": ["boolean", "null"]},
    "is_speech": {"type": ["boolean", "null"]}, "language": {"type": ["string", "null"]},
    "voice_id": {"type": ["string", "null"]},
    "extra": {"type": "object", "default": {}}}},
  "AssetAdultMetadata": {"type": "object", "additionalProperties": false, "properties": {
    "asset_id": {"type": "integer", "description": "Read-only; may be sent back unchanged"},
    "intensity_level": {"enum": ["warmup", "moderate", "heated", "intense", null]},
    "tempo": {"enum": ["slow", "medium", "fast", "varied", null]},
    "scene_type": {"type": ["string", "null"]}, "intimacy_level": {"type": ["string", "null"]},
    "body_parts_visible": {"type": "array", "items": {"type": "string"}, "default": []},
    "clothing_state": {"type": ["string", "null"]},
    "positions": {"type": "array", "items": {"type": "string"}, "default": []},
    "mood": {"type": ["string", "null"]}, "lighting": {"type": ["string", "null"]}}},
  "SegmentInput": {"type": "object", "additionalProperties": false,
    "required": ["segment_type", "timestamp_sec"], "properties": {
    "segment_type": {"type": "string", "minLength": 1,
      "description": "shot, keyframe, scene, action, ..."},
    "timestamp_sec": {"type": "number", "minimum": 0},
    "end_sec": {"type": ["number", "null"], "description": "At or after timestamp_sec"},
    "frame_number": {"type": ["integer", "null"], "minimum": 0},
    "thumbnail_url": {"type": ["string", "null"]}, "description": {"type": ["string", "null"]},
    "objects": {"type": "array", "default": []}, "actions": {"type": "array", "default": []},
    "embedding": {"type": ["object", "null"], "additionalProperties": false,
      "required": ["model", "values"], "properties": {"model": {"type": "string", "minLength": 1},
        "values": {"type": "array", "items": {"type": "number"}, "minItems": 1,
          "maxItems": 4096}}},
    "brightness": {"type": ["number", "null"]},
    "dominant_colors": {"type": "array", "default": []},
    "camera_motion": {"type": ["string", "null"]}}},
  "Segment": {"type": "object", "properties": {
    "id": {"type": "integer"}, "asset_id": {"type": "integer"},
    "segment_type": {"type": "string"}, "timestamp_sec": {"type": "number"},
    "end_sec": {"type": ["number", "null"]}, "frame_number": {"type": ["integer", "null"]},
    "thumbnail_url": {"type": ["string", "null"]}, "description": {"type": ["string", "null"]},
    "objects": {"type": "array"}, "actions": {"type": "array"},
    "embedding": {"type": ["object", "null"], "properties": {"model": {"type": "string"},
      "dimension": {"type": "integer"}}},
    "brightness": {"type": ["number", "null"]}, "dominant_colors": {"type": "array"},
    "camera_motion": {"type": ["string", "null"]},
    "created_at": {"type": "string", "format": "date-time"}}},
  "SegmentList": {"type": "object", "required": ["items"], "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Segment"}}}},
  "HashCheck": {"type": "object", "additionalProperties": false, "required": ["sha256"],
    "properties": {"sha256": {"type": "array", "minItems": 1, "maxItems": 1000,
      "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}},
  "HashCheckResult": {"type": "object", "required": ["results"], "properties": {
    "results": {"type": "array", "items": {"type": "object", "required": ["sha256", "action"],
      "properties": {"sha256": {"type": "string"}, "action": {"enum": ["accept", "duplicate"]},
        "asset_id": {"type": "integer",
          "description": "With duplicate: the caller's asset holding these bytes"}}}}}}
})json";

boost::json::object ParamSchema(const ParamDoc& p) {
  boost::json::object s{{"type", p.type}};
  if (!p.enum_values.empty()) {
    boost::json::array e;
    for (const auto& v : p.enum_values) e.emplace_back(v);
    s["enum"] = std::move(e);
  }
  if (p.minimum) s["minimum"] = *p.minimum;
  if (p.maximum) s["maximum"] = *p.maximum;
  if (p.repeated) return boost::json::object{{"type", "array"}, {"items", std::move(s)}};
  return s;
}

// The shared schemas plus those of route files that keep their own.
boost::json::object Schemas() {
  boost::json::object all = boost::json::parse(kSchemas).as_object();
  for (const char* more : {kLineageSchemas, kBranchSchemas, kAnalysisSchemas, kAccountSchemas,
                           kProviderSchemas, kCacheSchemas}) {
    boost::json::value parsed = boost::json::parse(more);
    for (auto& kv : parsed.as_object()) all[kv.key()] = kv.value();
  }
  return all;
}

boost::json::value SchemaRef(const std::string& name) {
  return boost::json::object{{"$ref", "#/components/schemas/" + name}};
}

}  // namespace

std::string OpenApiDocument(const Router& router) {
  boost::json::object paths;
  for (const Route& r : router.routes()) {
    boost::json::object op{{"operationId", r.name}, {"summary", r.doc.summary}};
    if (!r.doc.tag.empty()) op["tags"] = boost::json::array{boost::json::value(r.doc.tag)};
    boost::json::array params;
    for (const ParamDoc& p : r.doc.params) {
      boost::json::object param{{"name", p.name},
                                {"in", p.in},
                                {"required", p.required || p.in == "path"},
                                {"schema", ParamSchema(p)}};
      if (!p.description.empty()) param["description"] = p.description;
      if (p.repeated) param["explode"] = true;
      params.push_back(std::move(param));
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!r.doc.request_content.empty()) {
      boost::json::object content;
      for (const auto& ct : r.doc.request_content) {
        boost::json::object media;
        if (ct == "application/json" || ct == "multipart/form-data") {
          if (!r.doc.request_schema.empty()) media["schema"] = SchemaRef(r.doc.request_schema);
        } else {
          media["schema"] = boost::json::object{{"type", "string"}, {"format", "binary"}};
        }
        content[ct] = std::move(media);
      }
      op["requestBody"] = boost::json::object{{"required", r.doc.request_required},
                                              {"content", std::move(content)}};
    }
    boost::json::object responses;
    for (const ResponseDoc& d : r.doc.responses) {
      boost::json::object resp{{"description", d.description}};
      if (!d.schema.empty()) {
        resp["content"] = boost::json::object{{d.content_type, {{"schema", SchemaRef(d.schema)}}}};
      } else if (d.status != 204 && d.status != 304) {
        resp["content"] = boost::json::object{{d.content_type, boost::json::object{}}};
      }
      responses[std::to_string(d.status)] = std::move(resp);
    }
    responses["default"] = boost::json::object{
        {"description", "An error"},
        {"content", {{"application/problem+json", {{"schema", SchemaRef("Problem")}}}}}};
    op["responses"] = std::move(responses);
    if (r.auth)
      op["security"] = boost::json::array{boost::json::object{{"bearer", boost::json::array{}}}};
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& item = paths[r.pattern];
    if (!item.is_object()) item = boost::json::object{};
    item.as_object()[method] = std::move(op);
  }
  boost::json::object doc{
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "pixvault"},
        {"version", "0.1.0"},
        {"description", "Media asset service for AI-generated video, images, audio and 3D"}}},
      {"paths", std::move(paths)},
      {"components",
       {{"schemas", Schemas()},
        {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
  return service::ToJsonText(doc);
}

}  // namespace pixvault::http
