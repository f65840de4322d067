// SqlStore: metadata tables, temporal segments, branches, variants and clips.
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

Result<Branch> SelectBranch(Connection& c, const Viewer& v, std::int64_t id) {
  std::string sql = std::string("SELECT ") + kBranchColumns + " FROM asset_branches WHERE id = ?";
  std::vector<Value> params{id};
  if (!v.is_admin) sql += " AND user_id = ?", params.emplace_back(v.user_id);
  PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
  if (rows.empty())
    return Fail(ErrorCode::kNotFound, "branch " + std::to_string(id) + " not found");
  Branch b = ToBranch(RowView(rows, 0));
  PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, b.source_asset_id));
  return b;
}

Status ValidateBranch(const Branch& b) {
  if (!(b.branch_time >= 0)) return Fail(ErrorCode::kInvalidArgument, "branch_time must be >= 0");
  if (b.branch_frame && *b.branch_frame < 0) {
    return Fail(ErrorCode::kInvalidArgument, "branch_frame must be >= 0");
  }
  if (b.branch_name.empty()) return Fail(ErrorCode::kInvalidArgument, "branch_name is required");
  return ValidateJson(b.game_metadata, "game_metadata");
}

Status ValidateVariant(const BranchVariant& v) {
  if (!std::isfinite(v.weight) || v.weight < 0) {
    return Fail(ErrorCode::kInvalidArgument, "weight must be a finite number >= 0");
  }
  if (v.variant_name.empty()) return Fail(ErrorCode::kInvalidArgument, "variant_name is required");
  PV_RETURN_IF_ERROR(ValidateJson(v.conditions, "conditions"));
  return ValidateJson(v.effects, "effects");
}

Status ValidateClip(const Clip& c) {
  if (!(c.start_time >= 0)) return Fail(ErrorCode::kInvalidArgument, "start_time must be >= 0");
  if (!(c.start_time < c.end_time)) {
    return Fail(ErrorCode::kInvalidArgument, "start_time must be before end_time");
  }
  if (c.clip_tag.empty()) return Fail(ErrorCode::kInvalidArgument, "clip_tag is required");
  return ValidateJson(c.playback_metadata, "playback_metadata");
}

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

// --- Branches, variants, clips ---------------------------------------------------------

Result<Branch> SqlStore::CreateBranch(const Viewer& v, const Branch& b) {
  PV_RETURN_IF_ERROR(ValidateBranch(b));
  Branch out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, b.source_asset_id));
    PV_ASSIGN_OR_RETURN(Rows owner, c.Query("SELECT user_id, duration_sec FROM assets WHERE id = ?",
                                            {b.source_asset_id}));
    RowView o(owner, 0);
    if (auto d = o.OptReal("duration_sec"); d && b.branch_time > *d) {
      return Fail(ErrorCode::kInvalidArgument, "branch_time is past the source's duration");
    }
    Timestamp now = clock_.Now();
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("INSERT INTO asset_branches (user_id, source_asset_id, branch_time, "
                            "branch_frame, branch_name, branch_description, branch_tag, "
                            "branch_type, game_metadata, created_at, updated_at) VALUES (?, ?, ?, "
                            "?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") +
                    kBranchColumns,
                {o.Int("user_id"), b.source_asset_id, b.branch_time, Opt(b.branch_frame),
                 b.branch_name, Opt(b.branch_description), Opt(b.branch_tag),
                 Str(ToString(b.branch_type)), b.game_metadata, now, now}));
    out = ToBranch(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Branch> SqlStore::GetBranch(const Viewer& v, std::int64_t id) {
  Branch out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(out, SelectBranch(c, v, id));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<Branch>> SqlStore::ListBranches(const Viewer& v, AssetId source) {
  std::vector<Branch> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, source));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kBranchColumns +
                                               " FROM asset_branches WHERE source_asset_id = ? "
                                               "ORDER BY branch_time, id",
                                           {source}));
    out = MapRows(rows, ToBranch);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Branch> SqlStore::UpdateBranch(const Viewer& v, const Branch& b) {
  PV_RETURN_IF_ERROR(ValidateBranch(b));
  Branch out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Branch old, SelectBranch(c, v, b.id));
    PV_ASSIGN_OR_RETURN(
        Rows src, c.Query("SELECT duration_sec FROM assets WHERE id = ?", {old.source_asset_id}));
    if (auto d = RowView(src, 0).OptReal("duration_sec"); d && b.branch_time > *d) {
      return Fail(ErrorCode::kInvalidArgument, "branch_time is past the source's duration");
    }
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("UPDATE asset_branches SET branch_time = ?, branch_frame = ?, "
                            "branch_name = ?, branch_description = ?, branch_tag = ?, "
                            "branch_type = ?, game_metadata = ?, updated_at = ? WHERE id = ? "
                            "RETURNING ") +
                    kBranchColumns,
                {b.branch_time, Opt(b.branch_frame), b.branch_name, Opt(b.branch_description),
                 Opt(b.branch_tag), Str(ToString(b.branch_type)), b.game_metadata, clock_.Now(),
                 b.id}));
    out = ToBranch(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteBranch(const Viewer& v, std::int64_t id) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(SelectBranch(c, v, id));
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_branches WHERE id = ?", {id}));
    return Ok();
  });
}

Result<BranchVariant> SqlStore::CreateVariant(const Viewer& v, const BranchVariant& var) {
  PV_RETURN_IF_ERROR(ValidateVariant(var));
  BranchVariant out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Branch b, SelectBranch(c, v, var.branch_id));
    // The variant must belong to the branch's owner.
    PV_RETURN_IF_ERROR(
        RequireVisibleAsset(c, Viewer{b.user_id, false, true}, var.variant_asset_id));
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, var.variant_asset_id));
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("INSERT INTO asset_branch_variants (branch_id, variant_asset_id, "
                            "variant_name, variant_tag, weight, conditions, effects, created_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") +
                    kVariantColumns,
                {var.branch_id, var.variant_asset_id, var.variant_name, Opt(var.variant_tag),
                 var.weight, var.conditions, var.effects, clock_.Now()}));
    out = ToVariant(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<BranchVariant>> SqlStore::ListVariants(const Viewer& v, std::int64_t branch_id) {
  std::vector<BranchVariant> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(SelectBranch(c, v, branch_id));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kVariantColumns +
                                               " FROM asset_branch_variants WHERE branch_id = ? "
                                               "ORDER BY id",
                                           {branch_id}));
    out = MapRows(rows, ToVariant);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<BranchVariant> SqlStore::UpdateVariant(const Viewer& v, const BranchVariant& var) {
  PV_RETURN_IF_ERROR(ValidateVariant(var));
  BranchVariant out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows cur, c.Query("SELECT branch_id FROM asset_branch_variants WHERE "
                                          "id = ?",
                                          {var.id}));
    if (cur.empty()) return Fail(ErrorCode::kNotFound, "variant not found");
    PV_ASSIGN_OR_RETURN(Branch b, SelectBranch(c, v, RowView(cur, 0).Int("branch_id")));
    PV_RETURN_IF_ERROR(
        RequireVisibleAsset(c, Viewer{b.user_id, false, true}, var.variant_asset_id));
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("UPDATE asset_branch_variants SET variant_asset_id = ?, variant_name "
                            "= ?, variant_tag = ?, weight = ?, conditions = ?, effects = ? WHERE "
                            "id = ? RETURNING ") +
                    kVariantColumns,
                {var.variant_asset_id, var.variant_name, Opt(var.variant_tag), var.weight,
                 var.conditions, var.effects, var.id}));
    out = ToVariant(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteVariant(const Viewer& v, std::int64_t id) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows cur, c.Query("SELECT branch_id FROM asset_branch_variants WHERE "
                                          "id = ?",
                                          {id}));
    if (cur.empty()) return Fail(ErrorCode::kNotFound, "variant not found");
    PV_RETURN_IF_ERROR(SelectBranch(c, v, RowView(cur, 0).Int("branch_id")));
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_branch_variants WHERE id = ?", {id}));
    return Ok();
  });
}

Result<Clip> SqlStore::CreateClip(const Viewer& v, const Clip& in) {
  PV_RETURN_IF_ERROR(ValidateClip(in));
  Clip out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, in.source_asset_id));
    PV_ASSIGN_OR_RETURN(Rows src, c.Query("SELECT user_id, duration_sec FROM assets WHERE id = ?",
                                          {in.source_asset_id}));
    RowView s(src, 0);
    if (auto d = s.OptReal("duration_sec"); d && in.end_time > *d + 1e-6) {
      return Fail(ErrorCode::kInvalidArgument, "clip end_time is past the source's duration");
    }
    if (in.extracted_asset_id) {
      PV_RETURN_IF_ERROR(
          RequireVisibleAsset(c, Viewer{s.Int("user_id"), false, true}, *in.extracted_asset_id));
    }
    auto rows = c.Query(
        std::string("INSERT INTO asset_clips (user_id, source_asset_id, start_time, end_time, "
                    "clip_tag, clip_name, extracted_asset_id, playback_metadata, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") +
            kClipColumns,
        {s.Int("user_id"), in.source_asset_id, in.start_time, in.end_time, in.clip_tag,
         Opt(in.clip_name), Opt(in.extracted_asset_id), in.playback_metadata, clock_.Now()});
    if (!rows && rows.error().code == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists,
                  "clip_tag '" + in.clip_tag + "' already exists on this source");
    }
    if (!rows) return Fail(rows.error());
    out = ToClip(RowView(*rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<Clip>> SqlStore::ListClips(const Viewer& v, AssetId source) {
  std::vector<Clip> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, source));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kClipColumns +
                                               " FROM asset_clips WHERE source_asset_id = ? "
                                               "ORDER BY start_time, id",
                                           {source}));
    out = MapRows(rows, ToClip);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Clip> SqlStore::UpdateClip(const Viewer& v, const Clip& in) {
  PV_RETURN_IF_ERROR(ValidateClip(in));
  Clip out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows cur,
                        c.Query("SELECT source_asset_id FROM asset_clips WHERE id = ?", {in.id}));
    if (cur.empty()) return Fail(ErrorCode::kNotFound, "clip not found");
    AssetId source = RowView(cur, 0).Int("source_asset_id");
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, source));
    PV_ASSIGN_OR_RETURN(Rows src,
                        c.Query("SELECT user_id, duration_sec FROM assets WHERE id = ?", {source}));
    RowView s(src, 0);
    if (auto d = s.OptReal("duration_sec"); d && in.end_time > *d + 1e-6) {
      return Fail(ErrorCode::kInvalidArgument, "clip end_time is past the source's duration");
    }
    if (in.extracted_asset_id) {
      PV_RETURN_IF_ERROR(
          RequireVisibleAsset(c, Viewer{s.Int("user_id"), false, true}, *in.extracted_asset_id));
    }
    auto rows = c.Query(std::string("UPDATE asset_clips SET start_time = ?, end_time = ?, "
                                    "clip_tag = ?, clip_name = ?, extracted_asset_id = ?, "
                                    "playback_metadata = ? WHERE id = ? RETURNING ") +
                            kClipColumns,
                        {in.start_time, in.end_time, in.clip_tag, Opt(in.clip_name),
                         Opt(in.extracted_asset_id), in.playback_metadata, in.id});
    if (!rows && rows.error().code == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists,
                  "clip_tag '" + in.clip_tag + "' already exists on this source");
    }
    if (!rows) return Fail(rows.error());
    out = ToClip(RowView(*rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteClip(const Viewer& v, std::int64_t id) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows cur,
                        c.Query("SELECT source_asset_id FROM asset_clips WHERE id = ?", {id}));
    if (cur.empty()) return Fail(ErrorCode::kNotFound, "clip not found");
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, RowView(cur, 0).Int("source_asset_id")));
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_clips WHERE id = ?", {id}));
    return Ok();
  });
}

}  // namespace pixvault::storage
