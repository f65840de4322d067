// SqlStore: users, blobs and assets.
#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>

#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

namespace {

std::vector<std::string> Dedupe(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& t : tags) {
    if (seen.insert(t).second) out.push_back(t);
  }
  return out;
}

Status WriteTags(Connection& c, AssetId id, std::string_view kind,
                 const std::vector<std::string>& tags) {
  PV_RETURN_IF_ERROR(
      c.Query("DELETE FROM asset_tags WHERE asset_id = ? AND kind = ?", {id, Str(kind)}));
  std::int64_t pos = 0;
  for (const auto& t : Dedupe(tags)) {
    // user_id and created_at are copied from the asset (both immutable) so a tag filter can
    // page through one user's tagged assets in index order (migration 0005).
    PV_RETURN_IF_ERROR(
        c.Query("INSERT INTO asset_tags (asset_id, kind, tag, position, user_id, created_at) "
                "SELECT a.id, ?, ?, ?, a.user_id, a.created_at FROM assets a WHERE a.id = ?",
                {Str(kind), t, pos++, id}));
  }
  // The row's copy of its tags (migration 0009), rebuilt from the rows just written; the
  // asset row is already locked by this transaction's insert or update of it.
  return c
      .Query(
          "UPDATE assets SET tag_list = " + TagListExpression(c.dialect(), "?") + " WHERE id = ?",
          {id, id})
      .map([](auto&&) {});
}

Status WriteTaxonomy(Connection& c, AssetId id,
                     const std::vector<std::pair<std::string, std::string>>& leaves) {
  PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_taxonomy WHERE asset_id = ?", {id}));
  for (const auto& [path, value] : leaves) {
    PV_RETURN_IF_ERROR(c.Query(
        "INSERT INTO asset_taxonomy (asset_id, path, value) VALUES (?, ?, ?)", {id, path, value}));
  }
  return Ok();
}

Result<Asset> SelectAsset(Connection& c, const Viewer& v, AssetId id) {
  Where w;
  w.params.push_back(id);
  AddVisibility(w, v);
  PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kAssetColumns +
                                             " FROM assets a WHERE a.id = ?" + w.sql,
                                         w.params));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "asset " + std::to_string(id) + " not found");
  return ToAsset(RowView(rows, 0));
}

Value EmbeddingValue(const std::optional<Embedding>& e) {
  if (!e) return std::monostate{};
  return EncodeFloats(e->values);
}
Value EmbeddingModel(const std::optional<Embedding>& e) {
  if (!e) return std::monostate{};
  return e->model;
}

// Appends the filter's conditions on assets aliased `a`.
// Appends the filter's conditions on assets aliased `a`. A tag that drives the query (see
// ListAssets) is not repeated as an EXISTS.
void AddFilter(Where& w, const AssetFilter& f, const std::string* driving_tag = nullptr,
               std::string_view driving_kind = {}) {
  if (f.media_type) w.Add("a.media_type = ?", Str(ToString(*f.media_type)));
  if (f.content_domain) w.Add("a.content_domain = ?", Str(ToString(*f.content_domain)));
  if (f.content_category) w.Add("a.content_category = ?", *f.content_category);
  if (f.content_rating) w.Add("a.content_rating = ?", Str(ToString(*f.content_rating)));
  for (const auto& t : f.tags) {
    if (driving_tag && driving_kind == "tag" && &t == driving_tag) continue;
    w.Add(
        "EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_id = a.id AND t.kind = 'tag' "
        "AND t.tag = ?)",
        t);
  }
  for (const auto& t : f.style_tags) {
    if (driving_tag && driving_kind == "style" && &t == driving_tag) continue;
    w.Add(
        "EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_id = a.id AND t.kind = 'style' "
        "AND t.tag = ?)",
        t);
  }
  for (const auto& [path, value] : f.taxonomy) {
    w.Add(
        "EXISTS (SELECT 1 FROM asset_taxonomy x WHERE x.asset_id = a.id AND x.path = ? "
        "AND x.value = ?)");
    w.params.emplace_back(path);
    w.params.emplace_back(value);
  }
  if (f.provider_id) w.Add("a.provider_id = ?", *f.provider_id);
  if (f.sync_status) w.Add("a.sync_status = ?", Str(ToString(*f.sync_status)));
  if (f.sha256) w.Add("a.sha256 = ?", *f.sha256);
  if (f.created_after) w.Add("a.created_at > ?", *f.created_after);
  if (f.created_before) w.Add("a.created_at < ?", *f.created_before);
  if (f.text) {
    // Escape LIKE wildcards so the text matches literally.
    std::string pattern = "%";
    for (char ch : *f.text) {
      if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
      pattern += ch;
    }
    pattern += "%";
    w.Add(
        "(lower(a.description) LIKE lower(?) ESCAPE '\\' OR EXISTS (SELECT 1 FROM asset_tags t "
        "WHERE t.asset_id = a.id AND lower(t.tag) LIKE lower(?) ESCAPE '\\'))");
    w.params.emplace_back(pattern);
    w.params.emplace_back(pattern);
  }
  if (f.bpm_min || f.bpm_max || f.audio_key || f.is_speech) {
    std::string sub = "EXISTS (SELECT 1 FROM asset_audio_metadata m WHERE m.asset_id = a.id";
    std::vector<Value> p;
    if (f.bpm_min) sub += " AND m.bpm >= ?", p.emplace_back(*f.bpm_min);
    if (f.bpm_max) sub += " AND m.bpm <= ?", p.emplace_back(*f.bpm_max);
    if (f.audio_key) sub += " AND m.key = ?", p.emplace_back(*f.audio_key);
    if (f.is_speech) sub += " AND m.is_speech = ?", p.emplace_back(*f.is_speech);
    w.Add(sub + ")");
    w.params.insert(w.params.end(), p.begin(), p.end());
  }
  if (f.polygons_min || f.polygons_max || f.model_format) {
    std::string sub = "EXISTS (SELECT 1 FROM asset_3d_metadata m WHERE m.asset_id = a.id";
    std::vector<Value> p;
    if (f.polygons_min) sub += " AND m.polygon_count >= ?", p.emplace_back(*f.polygons_min);
    if (f.polygons_max) sub += " AND m.polygon_count <= ?", p.emplace_back(*f.polygons_max);
    if (f.model_format) sub += " AND m.file_format = ?", p.emplace_back(*f.model_format);
    w.Add(sub + ")");
    w.params.insert(w.params.end(), p.begin(), p.end());
  }
  if (f.intensity_level || f.mood) {
    std::string sub = "EXISTS (SELECT 1 FROM asset_adult_metadata m WHERE m.asset_id = a.id";
    std::vector<Value> p;
    if (f.intensity_level) sub += " AND m.intensity_level = ?", p.emplace_back(*f.intensity_level);
    if (f.mood) sub += " AND m.mood = ?", p.emplace_back(*f.mood);
    w.Add(sub + ")");
    w.params.insert(w.params.end(), p.begin(), p.end());
  }
  if (!f.include_unsearchable) w.Add("a.searchable = TRUE");
}

}  // namespace

// --- Users -----------------------------------------------------------------------------

Result<User> SqlStore::CreateUser(const User& user) {
  if (user.name.empty() || user.name.size() > 128) {
    return Fail(ErrorCode::kInvalidArgument, "user name must be 1..128 characters");
  }
  User out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    auto rows = c.Query(std::string("INSERT INTO users (name, is_admin, allow_adult, created_at) "
                                    "VALUES (?, ?, ?, ?) RETURNING ") +
                            kUserColumns,
                        {user.name, user.is_admin, user.allow_adult, clock_.Now()});
    if (!rows) {
      if (rows.error().code == ErrorCode::kAlreadyExists) {
        return Fail(ErrorCode::kAlreadyExists, "user '" + user.name + "' already exists");
      }
      return Fail(rows.error());
    }
    out = ToUser(RowView(*rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<User> SqlStore::GetUser(UserId id) {
  User out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?", {id}));
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, "user " + std::to_string(id) + " not found");
    out = ToUser(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<User> SqlStore::GetUserByName(std::string_view name) {
  User out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?", {Str(name)}));
    if (rows.empty()) {
      return Fail(ErrorCode::kNotFound, "user '" + std::string(name) + "' not found");
    }
    out = ToUser(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<User>> SqlStore::ListUsers() {
  std::vector<User> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows,
                        c.Query(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY id"));
    out = MapRows(rows, ToUser);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<User> SqlStore::UpdateUser(const User& user) {
  User out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("UPDATE users SET name = ?, is_admin = ?, "
                                                       "allow_adult = ? WHERE id = ? RETURNING ") +
                                               kUserColumns,
                                           {user.name, user.is_admin, user.allow_adult, user.id}));
    if (rows.empty()) {
      return Fail(ErrorCode::kNotFound, "user " + std::to_string(user.id) + " not found");
    }
    out = ToUser(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

// --- Blobs -----------------------------------------------------------------------------

Result<Blob> SqlStore::GetBlob(std::string_view sha256) {
  Blob out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query(std::string("SELECT ") + kBlobColumns + " FROM blobs WHERE sha256 = ?",
                           {Str(sha256)}));
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, "blob " + std::string(sha256) + " not found");
    out = ToBlob(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<Blob>> SqlStore::ListBlobs(std::string_view after, std::int64_t limit) {
  std::vector<Blob> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kBlobColumns +
                                               " FROM blobs WHERE sha256 > ? ORDER BY sha256 "
                                               "LIMIT ?",
                                           {Str(after), limit}));
    out = MapRows(rows, ToBlob);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::int64_t> SqlStore::RepairBlobRefcounts() {
  std::int64_t changed = 0;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query(
        "UPDATE blobs SET refcount = (SELECT count(*) FROM assets a WHERE a.sha256 = blobs.sha256) "
        "WHERE refcount <> (SELECT count(*) FROM assets a WHERE a.sha256 = blobs.sha256)"));
    changed = c.Changes();
    return Ok();
  });
  if (!st) return Fail(st.error());
  return changed;
}

Result<bool> SqlStore::DeleteUnreferencedBlob(std::string_view sha256,
                                              const std::function<Status()>& unlink) {
  bool deleted = false;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    deleted = false;
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("DELETE FROM blobs WHERE sha256 = ? AND refcount = 0 AND NOT EXISTS "
                "(SELECT 1 FROM assets a WHERE a.sha256 = blobs.sha256) RETURNING sha256",
                {Str(sha256)}));
    if (rows.empty()) return Ok();
    PV_RETURN_IF_ERROR(unlink());
    deleted = true;
    return Ok();
  });
  if (!st) return Fail(st.error());
  return deleted;
}

Result<std::vector<std::string>> SqlStore::ListReferencedSha256(std::string_view after,
                                                                std::int64_t limit) {
  std::vector<std::string> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT DISTINCT sha256 FROM assets WHERE sha256 > ? "
                                           "ORDER BY sha256 LIMIT ?",
                                           {Str(after), limit}));
    out = MapRows(rows, [](const RowView& r) { return r.Text("sha256"); });
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

// --- Assets ----------------------------------------------------------------------------

Result<CreatedAsset> SqlStore::CreateAsset(const Asset& in, const std::optional<BlobRef>& blob,
                                           const AssetFollowUp& follow_up) {
  PV_ASSIGN_OR_RETURN(auto leaves, FlattenTaxonomy(in.content_taxonomy));
  PV_RETURN_IF_ERROR(ValidateJson(in.media_metadata, "media_metadata"));
  if (blob && in.sha256 != blob->sha256) {
    return Fail(ErrorCode::kInvalidArgument, "asset sha256 does not match its blob");
  }
  if (!blob && in.sha256) {
    return Fail(ErrorCode::kInvalidArgument, "an asset with sha256 needs its blob");
  }
  CreatedAsset out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    out = CreatedAsset{};
    Timestamp now = clock_.Now();
    if (blob) {
      // Upsert locks the blob row until commit; concurrent ingests and collections of the
      // same bytes serialise here.
      PV_RETURN_IF_ERROR(c.Query(
          "INSERT INTO blobs (sha256, size_bytes, refcount, location, created_at) "
          "VALUES (?, ?, 0, ?, ?) ON CONFLICT (sha256) DO UPDATE SET location = excluded.location",
          {blob->sha256, blob->size_bytes, blob->location, now}));
      if (in.upload_method != UploadMethod::kProvider) {
        PV_ASSIGN_OR_RETURN(Rows dup, c.Query("SELECT id FROM assets WHERE user_id = ? AND "
                                              "sha256 = ? AND upload_method <> 'provider'",
                                              {in.user_id, blob->sha256}));
        if (!dup.empty()) {
          PV_ASSIGN_OR_RETURN(
              out.asset, SelectAsset(c, Viewer{in.user_id, true, true}, RowView(dup, 0).Int("id")));
          out.duplicate = true;
          return Ok();
        }
      }
    }
    Timestamp created = in.created_at ? in.created_at : now;
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("INSERT INTO assets (user_id, media_type, provider_id, provider_asset_id, "
                "provider_account_id, remote_url, original_source_url, original_filename, "
                "upload_method, sync_status, sha256, file_size_bytes, mime_type, width, height, "
                "duration_sec, fps, description, embedding, embedding_model, content_domain, "
                "content_category, content_taxonomy, content_rating, age_restricted, searchable, "
                "media_metadata, created_at, updated_at, last_accessed_at) VALUES (?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                {in.user_id,
                 Str(ToString(in.media_type)),
                 in.provider_id,
                 Opt(in.provider_asset_id),
                 Opt(in.provider_account_id),
                 Opt(in.remote_url),
                 Opt(in.original_source_url),
                 Opt(in.original_filename),
                 Str(ToString(in.upload_method)),
                 Str(ToString(in.sync_status)),
                 Opt(in.sha256),
                 Opt(in.file_size_bytes),
                 Opt(in.mime_type),
                 Opt(in.width),
                 Opt(in.height),
                 Opt(in.duration_sec),
                 Opt(in.fps),
                 Opt(in.description),
                 EmbeddingValue(in.embedding),
                 EmbeddingModel(in.embedding),
                 Str(ToString(in.content_domain)),
                 Opt(in.content_category),
                 in.content_taxonomy,
                 Str(ToString(in.content_rating)),
                 in.age_restricted,
                 in.searchable,
                 in.media_metadata,
                 created,
                 now,
                 Opt(in.last_accessed_at)}));
    AssetId id = RowView(rows, 0).Int("id");
    if (blob) {
      PV_RETURN_IF_ERROR(
          c.Query("UPDATE blobs SET refcount = refcount + 1 WHERE sha256 = ?", {blob->sha256}));
    }
    PV_RETURN_IF_ERROR(WriteTags(c, id, "tag", in.tags));
    PV_RETURN_IF_ERROR(WriteTags(c, id, "style", in.style_tags));
    PV_RETURN_IF_ERROR(WriteTaxonomy(c, id, leaves));
    PV_ASSIGN_OR_RETURN(out.asset, SelectAsset(c, Viewer{in.user_id, true, true}, id));
    if (follow_up) {
      if (std::optional<Job> job = follow_up(out.asset)) {
        PV_RETURN_IF_ERROR(ValidateNewJob(*job));
        PV_ASSIGN_OR_RETURN(Enqueued enqueued, InsertJob(c, *job, now));
        out.job = std::move(enqueued.job);
      }
    }
    // Last, so a statement the database refuses above leaves no published file behind; the
    // blob row locked at the start still serialises this with collection of the same bytes.
    if (blob && blob->publish) PV_RETURN_IF_ERROR(blob->publish());
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Asset> SqlStore::GetAsset(const Viewer& viewer, AssetId id) {
  Asset out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(out, SelectAsset(c, viewer, id));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<Asset>> SqlStore::GetAssets(const Viewer& viewer,
                                               const std::vector<AssetId>& ids) {
  std::vector<Asset> out;
  if (ids.empty()) return out;
  Status st = db_->Read([&](Connection& c) -> Status {
    Where w;
    std::string in_list;
    for (AssetId id : ids) {
      in_list += in_list.empty() ? "?" : ", ?";
      w.params.emplace_back(id);
    }
    AddVisibility(w, viewer);
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kAssetColumns +
                                               " FROM assets a WHERE a.id IN (" + in_list + ")" +
                                               w.sql + " ORDER BY a.id",
                                           w.params));
    out = MapRows(rows, ToAsset);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Page<Asset>> SqlStore::ListAssets(const Viewer& viewer, const AssetFilter& filter,
                                         const PageRequest& page) {
  if (page.limit < 1 || page.limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "limit must be between 1 and 1000");
  }
  // With a tag filter and a single owner, the query is driven by the tag's index rows
  // (kind, tag, user_id, created_at, asset_id): one range scan in page order instead of a
  // scan of every asset probing its tags.
  const std::string* driving = nullptr;
  std::string_view driving_kind;
  if (!viewer.is_admin) {
    if (!filter.tags.empty()) {
      driving = &filter.tags.front();
      driving_kind = "tag";
    } else if (!filter.style_tags.empty()) {
      driving = &filter.style_tags.front();
      driving_kind = "style";
    }
  }
  Where w;
  std::string from = " FROM assets a WHERE TRUE";
  std::string order = " ORDER BY a.created_at DESC, a.id DESC LIMIT ?";
  std::string key_cols = "(a.created_at, a.id)";
  if (driving) {
    from =
        " FROM asset_tags t0 JOIN assets a ON a.id = t0.asset_id WHERE t0.kind = ? AND "
        "t0.tag = ? AND t0.user_id = ?";
    w.params.emplace_back(std::string(driving_kind));
    w.params.emplace_back(*driving);
    w.params.emplace_back(viewer.user_id);
    order = " ORDER BY t0.created_at DESC, t0.asset_id DESC LIMIT ?";
    key_cols = "(t0.created_at, t0.asset_id)";
  }
  AddVisibility(w, viewer);
  AddFilter(w, filter, driving, driving_kind);
  if (page.cursor) {
    PV_ASSIGN_OR_RETURN(auto key, DecodeCursor(*page.cursor));
    w.Add(key_cols + " < (?, ?)");
    w.params.emplace_back(key.first);
    w.params.emplace_back(key.second);
  }
  w.params.emplace_back(page.limit + 1);
  Page<Asset> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("SELECT ") + kAssetColumns + from + w.sql + order, w.params));
    out.items = MapRows(rows, ToAsset);
    if (static_cast<std::int64_t>(out.items.size()) > page.limit) {
      out.items.pop_back();
      out.next_cursor = EncodeCursor(out.items.back().created_at, out.items.back().id);
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::int64_t> SqlStore::CountAssets(const Viewer& viewer, const AssetFilter& filter) {
  Where w;
  AddVisibility(w, viewer);
  AddFilter(w, filter);
  std::int64_t n = 0;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows,
                        c.Query("SELECT count(*) AS n FROM assets a WHERE TRUE" + w.sql, w.params));
    n = RowView(rows, 0).Int("n");
    return Ok();
  });
  if (!st) return Fail(st.error());
  return n;
}

Result<Asset> SqlStore::UpdateAsset(const Viewer& viewer, AssetId id, const AssetPatch& p) {
  std::optional<std::vector<std::pair<std::string, std::string>>> leaves;
  if (p.content_taxonomy) {
    PV_ASSIGN_OR_RETURN(leaves, FlattenTaxonomy(*p.content_taxonomy));
  }
  if (p.media_metadata) PV_RETURN_IF_ERROR(ValidateJson(*p.media_metadata, "media_metadata"));
  Asset out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, viewer, id));
    // Only the named columns are written, so concurrent patches of different fields keep
    // each other's changes.
    std::string set = "updated_at = ?";
    std::vector<Value> params{clock_.Now()};
    auto add = [&](const char* col, Value v) {
      set.append(", ").append(col).append(" = ?");
      params.push_back(std::move(v));
    };
    if (p.description) add("description", Opt(*p.description));
    if (p.content_domain) add("content_domain", Str(ToString(*p.content_domain)));
    if (p.content_category) add("content_category", Opt(*p.content_category));
    if (p.content_taxonomy) add("content_taxonomy", *p.content_taxonomy);
    if (p.content_rating) add("content_rating", Str(ToString(*p.content_rating)));
    if (p.age_restricted) add("age_restricted", *p.age_restricted);
    if (p.searchable) add("searchable", *p.searchable);
    if (p.media_metadata) add("media_metadata", *p.media_metadata);
    if (p.sync_status) add("sync_status", Str(ToString(*p.sync_status)));
    if (p.embedding) {
      add("embedding", EmbeddingValue(*p.embedding));
      add("embedding_model", EmbeddingModel(*p.embedding));
    }
    params.emplace_back(id);
    PV_RETURN_IF_ERROR(c.Query("UPDATE assets SET " + set + " WHERE id = ?", params));
    if (p.tags) PV_RETURN_IF_ERROR(WriteTags(c, id, "tag", *p.tags));
    if (p.style_tags) PV_RETURN_IF_ERROR(WriteTags(c, id, "style", *p.style_tags));
    if (leaves) PV_RETURN_IF_ERROR(WriteTaxonomy(c, id, *leaves));
    // Re-read as an admin: the patch may have made the asset age-restricted for this viewer.
    PV_ASSIGN_OR_RETURN(out, SelectAsset(c, Viewer{viewer.user_id, true, true}, id));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<Asset> SqlStore::DeleteAsset(const Viewer& viewer, AssetId id) {
  Asset out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(out, SelectAsset(c, viewer, id));
    // Variants and clips of other branches that point at this asset go with it (FK
    // cascades); extracted clips lose their link.
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM assets WHERE id = ?", {id}));
    if (out.sha256) {
      PV_RETURN_IF_ERROR(
          c.Query("UPDATE blobs SET refcount = refcount - 1 WHERE sha256 = ? AND refcount > 0",
                  {*out.sha256}));
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::TouchAsset(AssetId id, Timestamp when) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(
        c.Query("UPDATE assets SET last_accessed_at = ? WHERE id = ? AND "
                "(last_accessed_at IS NULL OR last_accessed_at < ?)",
                {when, id, when}));
    return Ok();
  });
}

}  // namespace pixvault::storage
