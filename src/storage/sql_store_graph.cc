// SqlStore: metadata tables and temporal segments.
#include <cmath>
#include <limits>

#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

namespace {

Status ValidateSegment(const TemporalSegment& s) {
  if (s.segment_type.empty()) return Fail(ErrorCode::kInvalidArgument, "segment_type is required");
  if (!(s.timestamp_sec >= 0))
    return Fail(ErrorCode::kInvalidArgument, "timestamp_sec must be >= 0");
  if (s.end_sec && !(*s.end_sec >= s.timestamp_sec)) {
    return Fail(ErrorCode::kInvalidArgument, "end_sec must not be before timestamp_sec");
  }
  for (auto [json, name] : {std::pair{&s.objects, "objects"},
                            {&s.actions, "actions"},
                            {&s.dominant_colors, "dominant_colors"}}) {
    PV_RETURN_IF_ERROR(ValidateJson(*json, name));
  }
  return Ok();
}

Result<TemporalSegment> InsertSegment(Connection& c, const TemporalSegment& s, Timestamp now) {
  Value emb = s.embedding ? Value(EncodeFloats(s.embedding->values)) : Value();
  Value model = s.embedding ? Value(s.embedding->model) : Value();
  PV_ASSIGN_OR_RETURN(
      Rows rows,
      c.Query(std::string("INSERT INTO asset_temporal_segments (asset_id, segment_type, "
                          "timestamp_sec, end_sec, frame_number, thumbnail_url, description, "
                          "objects, actions, embedding, embedding_model, brightness, "
                          "dominant_colors, camera_motion, created_at) VALUES (?, ?, ?, ?, ?, ?, "
                          "?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") +
                  kSegmentColumns,
              {s.asset_id, s.segment_type, s.timestamp_sec, Opt(s.end_sec), Opt(s.frame_number),
               Opt(s.thumbnail_url), Opt(s.description), s.objects, s.actions, emb, model,
               Opt(s.brightness), s.dominant_colors, Opt(s.camera_motion), now}));
  return ToSegment(RowView(rows, 0));
}

}  // namespace

// --- Metadata tables -------------------------------------------------------------------

Result<Asset3dMetadata> SqlStore::Put3dMetadata(const Viewer& v, const Asset3dMetadata& m) {
  PV_RETURN_IF_ERROR(ValidateJson(m.bounding_box_size, "bounding_box_size"));
  PV_RETURN_IF_ERROR(ValidateJson(m.extra, "extra"));
  Asset3dMetadata out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, m.asset_id));
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("INSERT INTO asset_3d_metadata (asset_id, polygon_count, vertex_count, "
                "file_format, has_textures, has_animations, has_rigging, has_materials, "
                "material_count, texture_resolution, bounding_box_size, extra) VALUES (?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id) DO UPDATE SET "
                "polygon_count = excluded.polygon_count, vertex_count = excluded.vertex_count, "
                "file_format = excluded.file_format, has_textures = excluded.has_textures, "
                "has_animations = excluded.has_animations, has_rigging = excluded.has_rigging, "
                "has_materials = excluded.has_materials, material_count = "
                "excluded.material_count, texture_resolution = excluded.texture_resolution, "
                "bounding_box_size = excluded.bounding_box_size, extra = excluded.extra "
                "RETURNING *",
                {m.asset_id, Opt(m.polygon_count), Opt(m.vertex_count), Opt(m.file_format),
                 m.has_textures, m.has_animations, m.has_rigging, m.has_materials,
                 Opt(m.material_count), Opt(m.texture_resolution), m.bounding_box_size, m.extra}));
    out = To3d(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Asset3dMetadata> SqlStore::Get3dMetadata(const Viewer& v, AssetId id) {
  Asset3dMetadata out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(Rows rows,
                        c.Query("SELECT * FROM asset_3d_metadata WHERE asset_id = ?", {id}));
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, "no 3d metadata for asset " + std::to_string(id));
    out = To3d(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<AssetAudioMetadata> SqlStore::PutAudioMetadata(const Viewer& v,
                                                      const AssetAudioMetadata& m) {
  PV_RETURN_IF_ERROR(ValidateJson(m.extra, "extra"));
  AssetAudioMetadata out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, m.asset_id));
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("INSERT INTO asset_audio_metadata (asset_id, sample_rate, channels, bitrate, "
                "codec, bpm, key, has_lyrics, is_speech, language, voice_id, extra) VALUES (?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id) DO UPDATE SET "
                "sample_rate = excluded.sample_rate, channels = excluded.channels, bitrate = "
                "excluded.bitrate, codec = excluded.codec, bpm = excluded.bpm, key = "
                "excluded.key, has_lyrics = excluded.has_lyrics, is_speech = excluded.is_speech, "
                "language = excluded.language, voice_id = excluded.voice_id, extra = "
                "excluded.extra RETURNING *",
                {m.asset_id, Opt(m.sample_rate), Opt(m.channels), Opt(m.bitrate), Opt(m.codec),
                 Opt(m.bpm), Opt(m.key), Opt(m.has_lyrics), Opt(m.is_speech), Opt(m.language),
                 Opt(m.voice_id), m.extra}));
    out = ToAudio(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<AssetAudioMetadata> SqlStore::GetAudioMetadata(const Viewer& v, AssetId id) {
  AssetAudioMetadata out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(Rows rows,
                        c.Query("SELECT * FROM asset_audio_metadata WHERE asset_id = ?", {id}));
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, "no audio metadata for asset " + std::to_string(id));
    out = ToAudio(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<AssetAdultMetadata> SqlStore::PutAdultMetadata(const Viewer& v,
                                                      const AssetAdultMetadata& m) {
  PV_RETURN_IF_ERROR(ValidateJson(m.body_parts_visible, "body_parts_visible"));
  PV_RETURN_IF_ERROR(ValidateJson(m.positions, "positions"));
  AssetAdultMetadata out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, m.asset_id));
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("INSERT INTO asset_adult_metadata (asset_id, intensity_level, tempo, scene_type, "
                "intimacy_level, body_parts_visible, clothing_state, positions, mood, lighting) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id) DO UPDATE SET "
                "intensity_level = excluded.intensity_level, tempo = excluded.tempo, scene_type "
                "= excluded.scene_type, intimacy_level = excluded.intimacy_level, "
                "body_parts_visible = excluded.body_parts_visible, clothing_state = "
                "excluded.clothing_state, positions = excluded.positions, mood = excluded.mood, "
                "lighting = excluded.lighting RETURNING *",
                {m.asset_id, Opt(m.intensity_level), Opt(m.tempo), Opt(m.scene_type),
                 Opt(m.intimacy_level), m.body_parts_visible, Opt(m.clothing_state), m.positions,
                 Opt(m.mood), Opt(m.lighting)}));
    out = ToAdult(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<AssetAdultMetadata> SqlStore::GetAdultMetadata(const Viewer& v, AssetId id) {
  AssetAdultMetadata out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(Rows rows,
                        c.Query("SELECT * FROM asset_adult_metadata WHERE asset_id = ?", {id}));
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, "no adult metadata for asset " + std::to_string(id));
    out = ToAdult(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

// --- Temporal segments -----------------------------------------------------------------

Result<TemporalSegment> SqlStore::AddSegment(const Viewer& v, const TemporalSegment& s) {
  PV_RETURN_IF_ERROR(ValidateSegment(s));
  TemporalSegment out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, s.asset_id));
    PV_ASSIGN_OR_RETURN(out, InsertSegment(c, s, clock_.Now()));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<TemporalSegment>> SqlStore::ListSegments(const Viewer& v, AssetId id) {
  std::vector<TemporalSegment> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kSegmentColumns +
                                               " FROM asset_temporal_segments WHERE asset_id = ? "
                                               "ORDER BY timestamp_sec, id",
                                           {id}));
    out = MapRows(rows, ToSegment);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<TemporalSegment>> SqlStore::ReplaceSegments(
    const Viewer& v, AssetId id, std::string_view segment_type,
    const std::vector<TemporalSegment>& segments) {
  for (const auto& s : segments) {
    PV_RETURN_IF_ERROR(ValidateSegment(s));
    if (s.asset_id != id || s.segment_type != segment_type) {
      return Fail(ErrorCode::kInvalidArgument, "segment does not belong to this replacement");
    }
  }
  std::vector<TemporalSegment> out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    out.clear();
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_RETURN_IF_ERROR(
        c.Query("DELETE FROM asset_temporal_segments WHERE asset_id = ? AND segment_type = ?",
                {id, Str(segment_type)}));
    Timestamp now = clock_.Now();
    for (const auto& s : segments) {
      PV_ASSIGN_OR_RETURN(auto row, InsertSegment(c, s, now));
      out.push_back(std::move(row));
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteSegment(const Viewer& v, std::int64_t segment_id) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT asset_id FROM asset_temporal_segments WHERE "
                                           "id = ?",
                                           {segment_id}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "segment not found");
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, RowView(rows, 0).Int("asset_id")));
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_temporal_segments WHERE id = ?", {segment_id}));
    return Ok();
  });
}

}  // namespace pixvault::storage
