// SqlStore: branch points, variants, clips and game state variables.
#include <cmath>
#include <limits>

#include "core/text.h"
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

// The variant columns qualified with "v.", for joins that have their own id and created_at.
std::string QualifiedVariantColumns() {
  std::string out;
  for (const std::string& col : SplitCommaList(kVariantColumns)) {
    out += (out.empty() ? "v." : ", v.") + col;
  }
  return out;
}

Status ValidateBranch(const Branch& b) {
  if (!std::isfinite(b.branch_time) || b.branch_time < 0) {
    return Fail(ErrorCode::kInvalidArgument, "branch_time must be a finite number >= 0");
  }
  for (const auto& [name, t] : {std::pair{"show_at", b.show_at}, std::pair{"hide_at", b.hide_at}}) {
    if (t && (!std::isfinite(*t) || *t < 0 || *t > b.branch_time)) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(name) + " must be a finite number between 0 and branch_time");
    }
  }
  if (b.show_at && b.hide_at && *b.show_at > *b.hide_at) {
    return Fail(ErrorCode::kInvalidArgument, "show_at must not be after hide_at");
  }
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

}  // namespace

// --- Branches, variants, clips ---------------------------------------------------------

Result<Branch> SqlStore::CreateBranch(const Viewer& v, const Branch& b) {
  PV_RETURN_IF_ERROR(ValidateBranch(b));
  if (b.default_variant_id) {
    return Fail(ErrorCode::kInvalidArgument,
                "default_variant_id: a new branch point has no variants yet; set it once one "
                "exists");
  }
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
        c.Query(
            std::string("INSERT INTO asset_branches (user_id, source_asset_id, branch_time, "
                        "branch_frame, branch_name, branch_description, branch_tag, "
                        "branch_type, game_metadata, show_at, hide_at, keyframe_time, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "RETURNING ") +
                kBranchColumns,
            {o.Int("user_id"), b.source_asset_id, b.branch_time, Opt(b.branch_frame), b.branch_name,
             Opt(b.branch_description), Opt(b.branch_tag), Str(ToString(b.branch_type)),
             b.game_metadata, Opt(b.show_at), Opt(b.hide_at), Opt(b.keyframe_time), now, now}));
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
    if (b.default_variant_id) {
      PV_ASSIGN_OR_RETURN(Rows own, c.Query("SELECT id FROM asset_branch_variants WHERE id = ? "
                                            "AND branch_id = ?",
                                            {*b.default_variant_id, b.id}));
      if (own.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "default_variant_id " + std::to_string(*b.default_variant_id) +
                        " is not a variant of branch point " + std::to_string(b.id));
      }
    }
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(
            std::string("UPDATE asset_branches SET branch_time = ?, branch_frame = ?, "
                        "branch_name = ?, branch_description = ?, branch_tag = ?, "
                        "branch_type = ?, game_metadata = ?, show_at = ?, hide_at = ?, "
                        "default_variant_id = ?, keyframe_time = ?, updated_at = ? WHERE id = ? "
                        "RETURNING ") +
                kBranchColumns,
            {b.branch_time, Opt(b.branch_frame), b.branch_name, Opt(b.branch_description),
             Opt(b.branch_tag), Str(ToString(b.branch_type)), b.game_metadata, Opt(b.show_at),
             Opt(b.hide_at), Opt(b.default_variant_id), Opt(b.keyframe_time), clock_.Now(), b.id}));
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

Result<BranchVariant> SqlStore::GetVariant(const Viewer& v, std::int64_t id) {
  BranchVariant out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kVariantColumns +
                                               " FROM asset_branch_variants WHERE id = ?",
                                           {id}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "variant not found");
    out = ToVariant(RowView(rows, 0));
    // Visible when its branch point is (another user's answers not found).
    PV_RETURN_IF_ERROR(SelectBranch(c, v, out.branch_id));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<BranchVariant>> SqlStore::ListVariantsOfSource(const Viewer& v, AssetId source) {
  std::vector<BranchVariant> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, source));
    const std::string sql = "SELECT " + QualifiedVariantColumns() +
                            " FROM asset_branch_variants v JOIN asset_branches b ON b.id = "
                            "v.branch_id WHERE b.source_asset_id = ? ORDER BY v.branch_id, v.id";
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, {source}));
    out = MapRows(rows, ToVariant);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Clip> SqlStore::GetClip(const Viewer& v, std::int64_t id) {
  Clip out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("SELECT ") + kClipColumns + " FROM asset_clips WHERE id = ?", {id}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "clip not found");
    out = ToClip(RowView(rows, 0));
    return RequireVisibleAsset(c, v, out.source_asset_id);
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<BranchGraph> SqlStore::LoadBranchGraph(const Viewer& v, AssetId root,
                                              std::int64_t max_nodes) {
  BranchGraph out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, root));
    // The walk: UNION (not UNION ALL) keeps each asset once, which also ends it on cycles.
    Where visible;
    AddVisibility(visible, v);
    std::vector<Value> params{root};
    params.insert(params.end(), visible.params.begin(), visible.params.end());
    params.emplace_back(max_nodes + 1);
    // SQLite takes CROSS JOIN as "join in this order": from the queue row through the
    // indexes. Left to itself its planner starts from the owner's assets (an equality on
    // user_id) and scans all of them for every step.
    const std::string join = c.dialect() == sql::Dialect::kSqlite ? " CROSS JOIN " : " JOIN ";
    PV_ASSIGN_OR_RETURN(
        Rows reach,
        c.Query("WITH RECURSIVE reach(node) AS (SELECT CAST(? AS BIGINT) UNION SELECT a.id FROM "
                "reach r" +
                    join + "asset_branches b ON b.source_asset_id = r.node" + join +
                    "asset_branch_variants v ON v.branch_id = b.id" + join +
                    "assets a ON a.id = v.variant_asset_id WHERE TRUE" + visible.sql +
                    ") SELECT node FROM reach LIMIT ?",
                params));
    if (static_cast<std::int64_t>(reach.size()) > max_nodes) {
      return Fail(ErrorCode::kInvalidArgument,
                  "more than " + std::to_string(max_nodes) + " assets are reachable from asset " +
                      std::to_string(root) + " through its branch points");
    }
    std::vector<AssetId> ids;
    ids.reserve(reach.size());
    for (std::size_t i = 0; i < reach.size(); ++i) ids.push_back(RowView(reach, i).Int("node"));
    const Value id_set = IdSetParam(c.dialect(), ids);

    // Only the columns a bundle node carries (a tenth of an asset row's values).
    PV_ASSIGN_OR_RETURN(Rows assets,
                        c.Query("SELECT id, user_id, media_type, sha256, file_size_bytes, "
                                "mime_type, width, height, duration_sec, fps, media_metadata "
                                "FROM assets WHERE " +
                                    IdSetCondition(c.dialect(), "id") + " ORDER BY id",
                                {id_set}));
    out.nodes.reserve(assets.size());
    for (std::size_t i = 0; i < assets.size(); ++i) {
      const RowView r(assets, i);
      Asset a;
      a.id = r.Int("id");
      a.user_id = r.Int("user_id");
      a.media_type = RowEnum<MediaType>(r, "media_type");
      a.sha256 = r.OptText("sha256");
      a.file_size_bytes = r.OptInt("file_size_bytes");
      a.mime_type = r.OptText("mime_type");
      a.width = r.OptInt("width");
      a.height = r.OptInt("height");
      a.duration_sec = r.OptReal("duration_sec");
      a.fps = r.OptReal("fps");
      a.media_metadata = r.Text("media_metadata");
      if (a.id == root) {
        out.nodes.insert(out.nodes.begin(), std::move(a));
      } else {
        out.nodes.push_back(std::move(a));
      }
    }
    if (out.nodes.empty() || out.nodes.front().id != root) {  // deleted meanwhile
      return Fail(ErrorCode::kNotFound, "asset " + std::to_string(root) + " not found");
    }
    PV_ASSIGN_OR_RETURN(
        Rows branches,
        c.Query(std::string("SELECT ") + kBranchColumns + " FROM asset_branches WHERE " +
                    IdSetCondition(c.dialect(), "source_asset_id") + " ORDER BY id",
                {id_set}));
    out.branches = MapRows(branches, ToBranch);
    PV_ASSIGN_OR_RETURN(
        Rows variants,
        c.Query("SELECT " + QualifiedVariantColumns() +
                    " FROM asset_branch_variants v JOIN asset_branches b ON b.id = v.branch_id "
                    "WHERE " +
                    IdSetCondition(c.dialect(), "b.source_asset_id") +
                    " ORDER BY v.branch_id, v.id",
                {id_set}));
    out.variants = MapRows(variants, ToVariant);
    PV_ASSIGN_OR_RETURN(Rows clips,
                        c.Query(std::string("SELECT ") + kClipColumns + " FROM asset_clips WHERE " +
                                    IdSetCondition(c.dialect(), "source_asset_id") + " ORDER BY id",
                                {id_set}));
    out.clips = MapRows(clips, ToClip);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

// --- Game state variables ----------------------------------------------------------------

namespace {

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto alpha = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
  };
  if (!alpha(s[0])) return false;
  for (char ch : s) {
    if (!alpha(ch) && !(ch >= '0' && ch <= '9')) return false;
  }
  return true;
}

Status ValidateStateVariable(const StateVariable& var) {
  if (!IsIdentifier(var.name)) {
    return Fail(ErrorCode::kInvalidArgument,
                "name must be 1 to 64 letters, digits or underscores, not starting with a digit");
  }
  if (var.type != "bool" && var.type != "int" && var.type != "string") {
    return Fail(ErrorCode::kInvalidArgument, "type must be one of bool, int, string");
  }
  if (!var.initial_value) return Ok();
  const std::string& v = *var.initial_value;
  bool ok = false;
  if (var.type == "bool") {
    ok = v == "true" || v == "false";
  } else if (var.type == "int") {
    // A JSON integer in int64 range: optional minus, digits, no leading zero.
    std::string_view d = v;
    if (!d.empty() && d[0] == '-') d.remove_prefix(1);
    ok = !d.empty() && d.size() <= 19 && (d == "0" || d[0] != '0') &&
         d.find_first_not_of("0123456789") == std::string_view::npos;
    if (ok && d.size() == 19) {
      ok = d <= (v[0] == '-' ? std::string_view("9223372036854775808")
                             : std::string_view("9223372036854775807"));
    }
  } else {
    ok = v.size() >= 2 && v.front() == '"' && v.back() == '"';
  }
  if (ok) PV_RETURN_IF_ERROR(ValidateJson(v, "initial_value"));
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument, "initial_value must be a JSON " + var.type +
                                                 " literal (got " + v.substr(0, 40) + ")");
  }
  return Ok();
}

}  // namespace

Result<StateVariable> SqlStore::PutStateVariable(const Viewer& v, const StateVariable& var) {
  PV_RETURN_IF_ERROR(ValidateStateVariable(var));
  const UserId owner = var.user_id ? var.user_id : v.user_id;
  if (owner != v.user_id && !v.is_admin) return Fail(ErrorCode::kNotFound, "user not found");
  StateVariable out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    Timestamp now = clock_.Now();
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("INSERT INTO game_state_variables (user_id, name, var_type, "
                            "initial_value, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (user_id, name) DO UPDATE SET var_type = "
                            "excluded.var_type, initial_value = excluded.initial_value, "
                            "updated_at = excluded.updated_at RETURNING ") +
                    kStateVariableColumns,
                {owner, var.name, var.type, Opt(var.initial_value), now, now}));
    out = ToStateVariable(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<StateVariable>> SqlStore::ListStateVariables(const Viewer& v, UserId owner) {
  if (owner != v.user_id && !v.is_admin) return Fail(ErrorCode::kNotFound, "user not found");
  std::vector<StateVariable> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kStateVariableColumns +
                                               " FROM game_state_variables WHERE user_id = ? "
                                               "ORDER BY name",
                                           {owner}));
    out = MapRows(rows, ToStateVariable);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteStateVariable(const Viewer& v, UserId owner, const std::string& name) {
  if (owner != v.user_id && !v.is_admin) return Fail(ErrorCode::kNotFound, "user not found");
  return db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("DELETE FROM game_state_variables WHERE user_id = ? "
                                           "AND name = ? RETURNING id",
                                           {owner, name}));
    if (rows.empty()) {
      return Fail(ErrorCode::kNotFound, "state variable '" + name + "' not found");
    }
    return Ok();
  });
}

}  // namespace pixvault::storage
