#include "storage/sql_rows.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <tuple>

namespace pixvault::storage::internal {

const char* const kUserColumns = "id, name, is_admin, allow_adult, created_at";
const char* const kApiKeyColumns =
    "id, user_id, label, prefix, key_hash, created_at, last_used_at, revoked_at";
const char* const kAssetColumns =
    "a.id, a.user_id, a.media_type, a.provider_id, a.provider_asset_id, a.provider_account_id, "
    "a.remote_url, a.original_source_url, a.original_filename, a.upload_method, a.sync_status, "
    "a.sha256, a.file_size_bytes, a.mime_type, a.width, a.height, a.duration_sec, a.fps, "
    "a.description, a.embedding, a.embedding_model, a.content_domain, a.content_category, "
    "a.content_taxonomy, a.content_rating, a.age_restricted, a.searchable, a.media_metadata, "
    "a.created_at, a.updated_at, a.last_accessed_at, a.tag_list, a.analysis_errors, "
    "a.origin_missing_since, a.origin_lost_at, EXISTS (SELECT 1 FROM asset_pins pin WHERE "
    "pin.asset_id = a.id) AS pinned";
const char* const kBlobColumns = "sha256, size_bytes, refcount, location, created_at";
const char* const kSegmentColumns =
    "id, asset_id, segment_type, timestamp_sec, end_sec, frame_number, thumbnail_url, "
    "description, objects, actions, embedding, embedding_model, brightness, dominant_colors, "
    "camera_motion, created_at";
const char* const kEdgeColumns =
    "l.id, l.child_asset_id, l.parent_asset_id, l.parent_role, l.operation_type, "
    "l.operation_job_id, l.parent_start_time, l.parent_end_time, l.parent_frame, "
    "l.transformation, l.sequence_order, l.created_at";
const char* const kBranchColumns =
    "id, user_id, source_asset_id, branch_time, branch_frame, branch_name, branch_description, "
    "branch_tag, branch_type, game_metadata, show_at, hide_at, default_variant_id, "
    "keyframe_time, created_at, updated_at";
const char* const kStateVariableColumns =
    "id, user_id, name, var_type, initial_value, created_at, updated_at";
const char* const kVariantColumns =
    "id, branch_id, variant_asset_id, variant_name, variant_tag, weight, conditions, effects, "
    "created_at";
const char* const kClipColumns =
    "id, user_id, source_asset_id, start_time, end_time, clip_tag, clip_name, "
    "extracted_asset_id, playback_metadata, created_at";
const char* const kAccountColumns =
    "id, user_id, provider_id, label, credentials_encrypted, settings, enabled, created_at";
const char* const kUploadColumns =
    "id, asset_id, provider_id, account_id, provider_ref, provider_url, status, uploaded_at, "
    "expires_at, last_error, last_error_code, attempts, updated_at, lease_owner, "
    "lease_expires_at";
const char* const kAttemptColumns =
    "id, asset_id, provider_id, account_id, operation, outcome, error_code, error, bytes, "
    "worker, started_at, finished_at";
const char* const kJobColumns =
    "id, kind, user_id, idempotency_key, status, priority, payload, result, attempts, "
    "max_attempts, run_after, lease_owner, lease_expires_at, last_error, created_at, updated_at";

sql::Bytes EncodeFloats(const std::vector<float>& values) {
  sql::Bytes out;
  out.data.resize(values.size() * sizeof(float));
  // x86-64 and aarch64 are little-endian; the layout is documented as LE IEEE-754.
  if (!values.empty()) std::memcpy(out.data.data(), values.data(), out.data.size());
  return out;
}

std::vector<float> DecodeFloats(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

std::string TagListExpression(sql::Dialect dialect, std::string_view asset_id) {
  const bool pg = dialect == sql::Dialect::kPostgres;
  return std::string("COALESCE((SELECT ") + (pg ? "string_agg" : "group_concat") +
         "(t.kind || ',' || t.position || ',' || " +
         (pg ? "octet_length(t.tag)" : "length(CAST(t.tag AS BLOB))") +
         " || ':' || t.tag, '') FROM asset_tags t WHERE t.asset_id = " + std::string(asset_id) +
         "), '')";
}

bool DecodeTagList(std::string_view list, Asset& a) {
  struct Entry {
    bool style;
    std::int64_t position;
    std::string_view tag;
  };
  std::vector<Entry> entries;
  // Reads a decimal number ending at `end` and consumes it with its terminator.
  auto number = [&](char end) -> std::optional<std::int64_t> {
    const std::size_t stop = list.find(end);
    if (stop == std::string_view::npos) return std::nullopt;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(list.data(), list.data() + stop, v);
    if (ec != std::errc() || ptr != list.data() + stop) return std::nullopt;
    list.remove_prefix(stop + 1);
    return v;
  };
  bool ok = true;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (comma == std::string_view::npos) {
      ok = false;
      break;
    }
    const bool style = list.substr(0, comma) == "style";
    list.remove_prefix(comma + 1);
    const auto position = number(',');
    const auto length = number(':');
    if (!position || !length || *length < 0 || static_cast<std::size_t>(*length) > list.size()) {
      ok = false;
      break;
    }
    entries.push_back({style, *position, list.substr(0, static_cast<std::size_t>(*length))});
    list.remove_prefix(static_cast<std::size_t>(*length));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
    return std::tie(x.style, x.position) < std::tie(y.style, y.position);
  });
  for (const Entry& e : entries) (e.style ? a.style_tags : a.tags).emplace_back(e.tag);
  return ok;
}

std::string IdSetCondition(sql::Dialect dialect, std::string_view column) {
  std::string out(column);
  if (dialect == sql::Dialect::kPostgres) return out + " = ANY(CAST(? AS BIGINT[]))";
  return out + " IN (SELECT value FROM json_each(?))";
}

Value IdSetParam(sql::Dialect dialect, const std::vector<std::int64_t>& ids) {
  const bool pg = dialect == sql::Dialect::kPostgres;
  std::string out(1, pg ? '{' : '[');
  out.reserve(ids.size() * 8 + 2);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += pg ? '}' : ']';
  return out;
}

void AddVisibility(Where& w, const Viewer& v, std::string_view alias) {
  std::string a(alias);
  if (!v.is_admin) w.Add(a + ".user_id = ?", v.user_id);
  if (!v.allow_adult) w.Add(a + ".age_restricted = FALSE");
}

Status RequireVisibleAsset(sql::Connection& c, const Viewer& v, AssetId id) {
  Where w;
  w.params.push_back(id);
  AddVisibility(w, v);
  PV_ASSIGN_OR_RETURN(auto rows,
                      c.Query("SELECT 1 FROM assets a WHERE a.id = ?" + w.sql, w.params));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "asset " + std::to_string(id) + " not found");
  return Ok();
}

User ToUser(const sql::RowView& r) {
  return User{r.Int("id"), r.Text("name"), r.Bool("is_admin"), r.Bool("allow_adult"),
              r.Int("created_at")};
}

ApiKey ToApiKey(const sql::RowView& r) {
  ApiKey k;
  k.id = r.Int("id");
  k.user_id = r.Int("user_id");
  k.label = r.Text("label");
  k.prefix = r.Text("prefix");
  k.key_hash = r.Text("key_hash");
  k.created_at = r.Int("created_at");
  k.last_used_at = r.OptInt("last_used_at");
  k.revoked_at = r.OptInt("revoked_at");
  return k;
}

Asset ToAsset(const sql::RowView& r) {
  Asset a;
  a.id = r.Int("id");
  a.user_id = r.Int("user_id");
  a.media_type = RowEnum<MediaType>(r, "media_type");
  a.provider_id = r.Text("provider_id");
  a.provider_asset_id = r.OptText("provider_asset_id");
  a.provider_account_id = r.OptInt("provider_account_id");
  a.remote_url = r.OptText("remote_url");
  a.original_source_url = r.OptText("original_source_url");
  a.original_filename = r.OptText("original_filename");
  a.upload_method = RowEnum<UploadMethod>(r, "upload_method");
  a.sync_status = RowEnum<SyncStatus>(r, "sync_status");
  a.sha256 = r.OptText("sha256");
  a.file_size_bytes = r.OptInt("file_size_bytes");
  a.mime_type = r.OptText("mime_type");
  a.width = r.OptInt("width");
  a.height = r.OptInt("height");
  a.duration_sec = r.OptReal("duration_sec");
  a.fps = r.OptReal("fps");
  a.description = r.OptText("description");
  if (!r.IsNull("embedding")) {
    a.embedding =
        Embedding{r.OptText("embedding_model").value_or(""), DecodeFloats(r.Blob("embedding"))};
  }
  a.content_domain = RowEnum<ContentDomain>(r, "content_domain");
  a.content_category = r.OptText("content_category");
  a.content_taxonomy = r.Text("content_taxonomy");
  a.content_rating = RowEnum<ContentRating>(r, "content_rating");
  a.age_restricted = r.Bool("age_restricted");
  a.searchable = r.Bool("searchable");
  a.media_metadata = r.Text("media_metadata");
  a.analysis_errors = r.Text("analysis_errors");
  a.created_at = r.Int("created_at");
  a.updated_at = r.Int("updated_at");
  a.last_accessed_at = r.OptInt("last_accessed_at");
  a.origin_missing_since = r.OptInt("origin_missing_since");
  a.origin_lost_at = r.OptInt("origin_lost_at");
  a.pinned = r.Bool("pinned");
  // A malformed list (never written by the store) loses only the tags after the fault.
  (void)DecodeTagList(r.Text("tag_list"), a);
  return a;
}

Blob ToBlob(const sql::RowView& r) {
  return Blob{r.Text("sha256"), r.Int("size_bytes"), r.Int("refcount"), r.Text("location"),
              r.Int("created_at")};
}

Asset3dMetadata To3d(const sql::RowView& r) {
  Asset3dMetadata m;
  m.asset_id = r.Int("asset_id");
  m.polygon_count = r.OptInt("polygon_count");
  m.vertex_count = r.OptInt("vertex_count");
  m.file_format = r.OptText("file_format");
  m.has_textures = r.Bool("has_textures");
  m.has_animations = r.Bool("has_animations");
  m.has_rigging = r.Bool("has_rigging");
  m.has_materials = r.Bool("has_materials");
  m.material_count = r.OptInt("material_count");
  m.texture_resolution = r.OptText("texture_resolution");
  m.bounding_box_size = r.Text("bounding_box_size");
  m.extra = r.Text("extra");
  return m;
}

AssetAudioMetadata ToAudio(const sql::RowView& r) {
  AssetAudioMetadata m;
  m.asset_id = r.Int("asset_id");
  m.sample_rate = r.OptInt("sample_rate");
  m.channels = r.OptInt("channels");
  m.bitrate = r.OptInt("bitrate");
  m.codec = r.OptText("codec");
  m.bpm = r.OptReal("bpm");
  m.key = r.OptText("key");
  m.has_lyrics = r.OptBool("has_lyrics");
  m.is_speech = r.OptBool("is_speech");
  m.language = r.OptText("language");
  m.voice_id = r.OptText("voice_id");
  m.extra = r.Text("extra");
  return m;
}

AssetAdultMetadata ToAdult(const sql::RowView& r) {
  AssetAdultMetadata m;
  m.asset_id = r.Int("asset_id");
  m.intensity_level = r.OptText("intensity_level");
  m.tempo = r.OptText("tempo");
  m.scene_type = r.OptText("scene_type");
  m.intimacy_level = r.OptText("intimacy_level");
  m.body_parts_visible = r.Text("body_parts_visible");
  m.clothing_state = r.OptText("clothing_state");
  m.positions = r.Text("positions");
  m.mood = r.OptText("mood");
  m.lighting = r.OptText("lighting");
  return m;
}

TemporalSegment ToSegment(const sql::RowView& r) {
  TemporalSegment s;
  s.id = r.Int("id");
  s.asset_id = r.Int("asset_id");
  s.segment_type = r.Text("segment_type");
  s.timestamp_sec = r.Real("timestamp_sec");
  s.end_sec = r.OptReal("end_sec");
  s.frame_number = r.OptInt("frame_number");
  s.thumbnail_url = r.OptText("thumbnail_url");
  s.description = r.OptText("description");
  s.objects = r.Text("objects");
  s.actions = r.Text("actions");
  if (!r.IsNull("embedding")) {
    s.embedding =
        Embedding{r.OptText("embedding_model").value_or(""), DecodeFloats(r.Blob("embedding"))};
  }
  s.brightness = r.OptReal("brightness");
  s.dominant_colors = r.Text("dominant_colors");
  s.camera_motion = r.OptText("camera_motion");
  s.created_at = r.Int("created_at");
  return s;
}

LineageEdge ToEdge(const sql::RowView& r) {
  LineageEdge e;
  e.id = r.Int("id");
  e.child_asset_id = r.Int("child_asset_id");
  e.parent_asset_id = r.Int("parent_asset_id");
  e.parent_role = r.Text("parent_role");
  if (auto op = r.OptText("operation_type")) {
    if (auto parsed = Parse<OperationType>(*op)) e.operation_type = *parsed;
  }
  e.operation_job_id = r.OptInt("operation_job_id");
  e.parent_start_time = r.OptReal("parent_start_time");
  e.parent_end_time = r.OptReal("parent_end_time");
  e.parent_frame = r.OptInt("parent_frame");
  e.transformation = r.Text("transformation");
  e.sequence_order = r.Int("sequence_order");
  e.created_at = r.Int("created_at");
  return e;
}

Branch ToBranch(const sql::RowView& r) {
  Branch b;
  b.id = r.Int("id");
  b.user_id = r.Int("user_id");
  b.source_asset_id = r.Int("source_asset_id");
  b.branch_time = r.Real("branch_time");
  b.branch_frame = r.OptInt("branch_frame");
  b.branch_name = r.Text("branch_name");
  b.branch_description = r.OptText("branch_description");
  b.branch_tag = r.OptText("branch_tag");
  b.branch_type = RowEnum<BranchType>(r, "branch_type");
  b.game_metadata = r.Text("game_metadata");
  b.show_at = r.OptReal("show_at");
  b.hide_at = r.OptReal("hide_at");
  b.default_variant_id = r.OptInt("default_variant_id");
  b.keyframe_time = r.OptReal("keyframe_time");
  b.created_at = r.Int("created_at");
  b.updated_at = r.Int("updated_at");
  return b;
}

StateVariable ToStateVariable(const sql::RowView& r) {
  StateVariable v;
  v.id = r.Int("id");
  v.user_id = r.Int("user_id");
  v.name = r.Text("name");
  v.type = r.Text("var_type");
  v.initial_value = r.OptText("initial_value");
  v.created_at = r.Int("created_at");
  v.updated_at = r.Int("updated_at");
  return v;
}

BranchVariant ToVariant(const sql::RowView& r) {
  BranchVariant v;
  v.id = r.Int("id");
  v.branch_id = r.Int("branch_id");
  v.variant_asset_id = r.Int("variant_asset_id");
  v.variant_name = r.Text("variant_name");
  v.variant_tag = r.OptText("variant_tag");
  v.weight = r.Real("weight");
  v.conditions = r.Text("conditions");
  v.effects = r.Text("effects");
  v.created_at = r.Int("created_at");
  return v;
}

Clip ToClip(const sql::RowView& r) {
  Clip c;
  c.id = r.Int("id");
  c.user_id = r.Int("user_id");
  c.source_asset_id = r.Int("source_asset_id");
  c.start_time = r.Real("start_time");
  c.end_time = r.Real("end_time");
  c.clip_tag = r.Text("clip_tag");
  c.clip_name = r.OptText("clip_name");
  c.extracted_asset_id = r.OptInt("extracted_asset_id");
  c.playback_metadata = r.Text("playback_metadata");
  c.created_at = r.Int("created_at");
  return c;
}

ProviderAccount ToAccount(const sql::RowView& r) {
  ProviderAccount a;
  a.id = r.Int("id");
  a.user_id = r.Int("user_id");
  a.provider_id = r.Text("provider_id");
  a.label = r.Text("label");
  a.credentials_encrypted = r.Blob("credentials_encrypted");
  a.settings = r.Text("settings");
  a.enabled = r.Bool("enabled");
  a.created_at = r.Int("created_at");
  return a;
}

ProviderUpload ToUpload(const sql::RowView& r) {
  ProviderUpload u;
  u.id = r.Int("id");
  u.asset_id = r.Int("asset_id");
  u.provider_id = r.Text("provider_id");
  u.account_id = r.Int("account_id");
  u.provider_ref = r.OptText("provider_ref");
  u.provider_url = r.OptText("provider_url");
  u.status = RowEnum<UploadStatus>(r, "status");
  u.uploaded_at = r.OptInt("uploaded_at");
  u.expires_at = r.OptInt("expires_at");
  u.last_error = r.OptText("last_error");
  u.last_error_code = r.OptText("last_error_code");
  u.attempts = r.Int("attempts");
  u.updated_at = r.Int("updated_at");
  u.lease_owner = r.OptText("lease_owner");
  u.lease_expires_at = r.OptInt("lease_expires_at");
  return u;
}

ProviderAttempt ToAttempt(const sql::RowView& r) {
  ProviderAttempt a;
  a.id = r.Int("id");
  a.asset_id = r.Int("asset_id");
  a.provider_id = r.Text("provider_id");
  a.account_id = r.Int("account_id");
  a.operation = r.Text("operation");
  a.succeeded = r.Text("outcome") == "succeeded";
  a.error_code = r.OptText("error_code");
  a.error = r.OptText("error");
  a.bytes = r.Int("bytes");
  a.worker = r.Text("worker");
  a.started_at = r.Int("started_at");
  a.finished_at = r.Int("finished_at");
  return a;
}

Job ToJob(const sql::RowView& r) {
  Job j;
  j.id = r.Int("id");
  j.kind = r.Text("kind");
  j.user_id = r.OptInt("user_id");
  j.idempotency_key = r.OptText("idempotency_key");
  j.status = RowEnum<JobStatus>(r, "status");
  j.priority = r.Int("priority");
  j.payload = r.Text("payload");
  j.result = r.Text("result");
  j.attempts = r.Int("attempts");
  j.max_attempts = r.Int("max_attempts");
  j.run_after = r.Int("run_after");
  j.lease_owner = r.OptText("lease_owner");
  j.lease_expires_at = r.OptInt("lease_expires_at");
  j.last_error = r.OptText("last_error");
  j.created_at = r.Int("created_at");
  j.updated_at = r.Int("updated_at");
  return j;
}

namespace {
void Flatten(const boost::json::value& v, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
  switch (v.kind()) {
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        std::string key(kv.key());
        Flatten(kv.value(), path.empty() ? key : path + "." + key, out);
      }
      break;
    case boost::json::kind::array:
      for (const auto& e : v.get_array()) Flatten(e, path, out);
      break;
    case boost::json::kind::string:
      out.emplace_back(path, std::string(v.get_string()));
      break;
    case boost::json::kind::null:
      break;
    default:
      out.emplace_back(path, boost::json::serialize(v));
  }
}
}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> FlattenTaxonomy(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "content_taxonomy is not valid JSON");
  if (!v.is_object())
    return Fail(ErrorCode::kInvalidArgument, "content_taxonomy must be an object");
  std::vector<std::pair<std::string, std::string>> out;
  Flatten(v, "", out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status ValidateJson(std::string_view json, std::string_view field) {
  boost::system::error_code ec;
  (void)boost::json::parse(json, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, std::string(field) + " is not valid JSON");
  return Ok();
}

std::string EncodeCursor(Timestamp created_at, AssetId id) {
  return std::to_string(created_at) + "." + std::to_string(id);
}

Result<std::pair<Timestamp, AssetId>> DecodeCursor(std::string_view cursor) {
  auto dot = cursor.find('.');
  Timestamp t = 0;
  AssetId id = 0;
  if (dot != std::string_view::npos) {
    auto r1 = std::from_chars(cursor.data(), cursor.data() + dot, t);
    auto r2 = std::from_chars(cursor.data() + dot + 1, cursor.data() + cursor.size(), id);
    if (r1.ec == std::errc() && r1.ptr == cursor.data() + dot && r2.ec == std::errc() &&
        r2.ptr == cursor.data() + cursor.size() && id > 0) {
      return std::make_pair(t, id);
    }
  }
  return Fail(ErrorCode::kInvalidArgument, "invalid cursor '" + std::string(cursor) + "'");
}

}  // namespace pixvault::storage::internal
