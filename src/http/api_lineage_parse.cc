#include "http/api_lineage_parse.h"

#include <boost/json.hpp>

#include <cmath>
#include <set>
#include <string>

#include "http/api_util.h"

namespace pixvault::http {

namespace {

const std::set<std::string> kEdgeFields = {
    "child_asset_id",    "parent_asset_id", "parent_role",  "operation_type", "operation_job_id",
    "parent_start_time", "parent_end_time", "parent_frame", "transformation", "sequence_order"};

tl::unexpected<Error> Invalid(std::string_view key, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, "field '" + std::string(key) + "' " + std::string(what));
}

Result<AssetId> RequiredId(const boost::json::object& o, std::string_view key) {
  PV_ASSIGN_OR_RETURN(auto id, OptInt(o, key));
  if (!id) return Invalid(key, "is required");
  if (*id < 1) return Invalid(key, "must be a positive asset id");
  return *id;
}

Result<std::optional<double>> OptTime(const boost::json::object& o, std::string_view key) {
  PV_ASSIGN_OR_RETURN(auto v, OptNumber(o, key));
  // 1e400 parses as infinity; JSON has no NaN.
  if (v && !std::isfinite(*v)) return Invalid(key, "must be a finite number");
  return v;
}

Result<LineageEdge> ParseEdge(const boost::json::value& v) {
  if (!v.is_object()) return Fail(ErrorCode::kInvalidArgument, "an edge must be a JSON object");
  const boost::json::object& o = v.get_object();
  for (const auto& kv : o) {
    if (!kEdgeFields.count(std::string(kv.key()))) {
      return Fail(ErrorCode::kInvalidArgument, "unknown field '" + std::string(kv.key()) + "'");
    }
  }
  LineageEdge e;
  PV_ASSIGN_OR_RETURN(e.child_asset_id, RequiredId(o, "child_asset_id"));
  PV_ASSIGN_OR_RETURN(e.parent_asset_id, RequiredId(o, "parent_asset_id"));
  if (IsNull(o, "parent_role")) return Invalid("parent_role", "cannot be null");
  PV_ASSIGN_OR_RETURN(auto role, OptString(o, "parent_role"));
  if (role) e.parent_role = std::move(*role);
  PV_ASSIGN_OR_RETURN(auto op, OptString(o, "operation_type"));
  if (op) {
    auto parsed = Parse<OperationType>(*op);
    if (!parsed) return Fail(WithContext(parsed.error(), "field 'operation_type'"));
    e.operation_type = *parsed;
  }
  PV_ASSIGN_OR_RETURN(e.operation_job_id, OptInt(o, "operation_job_id"));
  PV_ASSIGN_OR_RETURN(e.parent_start_time, OptTime(o, "parent_start_time"));
  PV_ASSIGN_OR_RETURN(e.parent_end_time, OptTime(o, "parent_end_time"));
  PV_ASSIGN_OR_RETURN(e.parent_frame, OptInt(o, "parent_frame"));
  if (IsNull(o, "transformation")) return Invalid("transformation", "cannot be null");
  PV_ASSIGN_OR_RETURN(auto transformation, OptJson(o, "transformation", "object"));
  if (transformation) e.transformation = std::move(*transformation);
  if (IsNull(o, "sequence_order")) return Invalid("sequence_order", "cannot be null");
  PV_ASSIGN_OR_RETURN(auto order, OptInt(o, "sequence_order"));
  e.sequence_order = order.value_or(0);
  return e;
}

}  // namespace

Result<std::vector<LineageEdge>> ParseLineageEdges(std::string_view body) {
  PV_ASSIGN_OR_RETURN(boost::json::object o, ParseObject(body));
  std::vector<LineageEdge> edges;
  const auto* batch = o.if_contains("edges");
  if (batch == nullptr) {
    PV_ASSIGN_OR_RETURN(LineageEdge e, ParseEdge(o));
    edges.push_back(std::move(e));
    return edges;
  }
  if (o.size() != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "a batch is {\"edges\": [...]} with no other fields; send one edge's fields "
                "without \"edges\"");
  }
  if (!batch->is_array()) return Invalid("edges", "must be an array of edge objects");
  const auto& items = batch->get_array();
  if (items.empty() || items.size() > kMaxLineageBatch) {
    return Invalid("edges", "must hold 1 to " + std::to_string(kMaxLineageBatch) + " edges (got " +
                                std::to_string(items.size()) + ")");
  }
  edges.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto e = ParseEdge(items[i]);
    if (!e) return Fail(WithContext(e.error(), "edges[" + std::to_string(i) + "]"));
    edges.push_back(std::move(*e));
  }
  return edges;
}

const char* const kLineageSchemas = R"json({
  "LineageEdgeInput": {"type": "object", "additionalProperties": false,
    "required": ["child_asset_id", "parent_asset_id"], "properties": {
    "child_asset_id": {"type": "integer", "minimum": 1,
      "description": "The derived asset; must be the caller's (any asset for an admin)"},
    "parent_asset_id": {"type": "integer", "minimum": 1,
      "description": "The asset it derives from; must be the caller's (any asset for an admin)"},
    "parent_role": {"type": "string", "default": "source", "pattern": "^[a-z][a-z0-9_]{0,63}$",
      "description": "source, keyframe, reference, paused_frame, transition_from, transition_to, composition_part, or another snake_case word"},
    "operation_type": {"enum": ["text_to_video", "image_to_video", "video_extend",
      "video_transition", "fusion", "text_to_image", "image_to_image", "text_to_audio",
      "text_to_3d", "image_to_3d", "upscale", "clip_extract", "frame_extract", "concat",
      "loop_extract", "upload", null]},
    "operation_job_id": {"type": ["integer", "null"], "minimum": 1},
    "parent_start_time": {"type": ["number", "null"], "minimum": 0,
      "description": "Seconds into the parent; at most its duration when known"},
    "parent_end_time": {"type": ["number", "null"], "minimum": 0,
      "description": "At or after parent_start_time; at most the parent's duration when known"},
    "parent_frame": {"type": ["integer", "null"], "minimum": 0,
      "description": "Below the parent's frame count (duration x fps) when known"},
    "transformation": {"type": "object", "default": {}},
    "sequence_order": {"type": "integer", "minimum": 0, "default": 0}}},
  "LineageEdgeBatch": {"oneOf": [{"$ref": "#/components/schemas/LineageEdgeInput"},
    {"type": "object", "additionalProperties": false, "required": ["edges"], "properties": {
      "edges": {"type": "array", "minItems": 1, "maxItems": 1000,
        "items": {"$ref": "#/components/schemas/LineageEdgeInput"}}}}]},
  "LineageEdge": {"type": "object", "properties": {
    "id": {"type": "integer"}, "child_asset_id": {"type": "integer"},
    "parent_asset_id": {"type": "integer"}, "parent_role": {"type": "string"},
    "operation_type": {"type": ["string", "null"]},
    "operation_job_id": {"type": ["integer", "null"]},
    "parent_start_time": {"type": ["number", "null"]},
    "parent_end_time": {"type": ["number", "null"]},
    "parent_frame": {"type": ["integer", "null"]}, "transformation": {"type": "object"},
    "sequence_order": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"}}},
  "LineageEdgeList": {"type": "object", "required": ["edges"], "properties": {
    "edges": {"type": "array", "items": {"$ref": "#/components/schemas/LineageEdge"}}}},
  "AssetSummary": {"type": "object", "properties": {
    "id": {"type": "integer"}, "media_type": {"enum": ["video", "image", "audio", "3d_model"]},
    "mime_type": {"type": ["string", "null"]}, "description": {"type": ["string", "null"]},
    "duration_sec": {"type": ["number", "null"]}, "fps": {"type": ["number", "null"]},
    "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
    "created_at": {"type": "string", "format": "date-time"}}},
  "LineageNeighbours": {"type": "object", "required": ["asset_id", "items"], "properties": {
    "asset_id": {"type": "integer"},
    "items": {"type": "array", "description": "Direct edges in sequence order, each with the other asset",
      "items": {"allOf": [{"$ref": "#/components/schemas/LineageEdge"}, {"type": "object",
        "properties": {"asset": {"$ref": "#/components/schemas/AssetSummary"}}}]}}}},
  "LineageGraph": {"type": "object", "required": ["root", "direction", "depth", "nodes", "edges"],
    "properties": {"root": {"type": "integer"},
      "direction": {"enum": ["ancestors", "descendants", "both"]},
      "depth": {"type": "integer", "minimum": 1, "maximum": 100},
      "nodes": {"type": "array", "description": "The root first",
        "items": {"$ref": "#/components/schemas/AssetSummary"}},
      "edges": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/LineageEdge"},
        {"type": "object", "properties": {"depth": {"type": "integer", "minimum": 1},
          "direction": {"enum": ["ancestors", "descendants"]}}}]}}}},
  "ProvDocument": {"type": "object", "description": "W3C PROV-JSON (https://www.w3.org/Submission/prov-json/)",
    "required": ["prefix"], "properties": {"prefix": {"type": "object"},
      "entity": {"type": "object"}, "activity": {"type": "object"}, "agent": {"type": "object"},
      "used": {"type": "object"}, "wasGeneratedBy": {"type": "object"},
      "wasDerivedFrom": {"type": "object"}, "wasAssociatedWith": {"type": "object"},
      "wasAttributedTo": {"type": "object"}}}
})json";

}  // namespace pixvault::http
