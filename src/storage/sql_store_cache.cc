// SqlStore: the local cache's pins and its eviction decisions (service/cache.h).
//
// A blob is local while one of its assets is `downloaded`; eviction marks them all `remote`.
// Whether a blob may go is decided per blob from its assets in one grouped query: pinned if
// any asset of it is pinned, fetchable if any asset of it has an origin ref or an unexpired
// `uploaded` provider_uploads row at a provider the policy accepts, under an enabled account
// of the asset's owner (the only accounts a reader's fetch-back uses).
#include <algorithm>
#include <map>

#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Dialect;
using sql::Rows;
using sql::RowView;

namespace {

constexpr std::size_t kMaxEvictBatch = 500;

// "<column> IN (?, ...)" for the policy's providers, or "<column> <> 'user_upload'" when
// any provider counts.
std::string ProviderCondition(const CachePolicy& policy, std::string_view column,
                              std::vector<Value>& params) {
  std::string out(column);
  if (!policy.providers) return out + " <> 'user_upload'";
  if (policy.providers->empty()) return "1 = 0";
  out += " IN (";
  for (std::size_t i = 0; i < policy.providers->size(); ++i) {
    out += i == 0 ? "?" : ", ?";
    params.emplace_back((*policy.providers)[i]);
  }
  return out + ")";
}

// A PostgreSQL text[] literal of `items` (each quoted, backslashes and quotes escaped), for
// `= ANY(CAST(? AS TEXT[]))`.
Value PgTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (const char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// The account whose id is `column` is an enabled account of the owner of the asset aliased
// `a`.
std::string OwnersAccountCondition(std::string_view column) {
  return "EXISTS (SELECT 1 FROM provider_accounts pa WHERE pa.id = " + std::string(column) +
         " AND pa.user_id = a.user_id AND pa.enabled = TRUE)";
}

// The asset aliased `a` came from a provider the policy accepts, which has not said it lost
// the file (its origin ref is a copy).
std::string OriginCopyCondition(const CachePolicy& policy, std::vector<Value>& params) {
  return "(a.provider_asset_id IS NOT NULL AND a.provider_account_id IS NOT NULL AND "
         "a.origin_lost_at IS NULL AND " +
         ProviderCondition(policy, "a.provider_id", params) + " AND " +
         OwnersAccountCondition("a.provider_account_id") + ")";
}

// The provider_uploads row aliased `u` is an uploaded, unexpired copy of the asset aliased
// `a` at a provider the policy accepts.
std::string UploadedCopyCondition(const CachePolicy& policy, std::vector<Value>& params) {
  std::string sql =
      "u.asset_id = a.id AND u.status = 'uploaded' AND u.provider_ref IS NOT NULL "
      "AND (u.expires_at IS NULL OR u.expires_at > ?) AND ";
  params.emplace_back(policy.now);
  // `|| ''`: SQLite would otherwise look rows up by provider (provider_uploads_ref) and scan
  // them all for each asset, instead of by the asset's id.
  return sql + ProviderCondition(policy, "(u.provider_id || '')", params) + " AND " +
         OwnersAccountCondition("u.account_id");
}

std::string FetchableExpression(const CachePolicy& policy, std::vector<Value>& params) {
  std::string sql = "CASE WHEN " + OriginCopyCondition(policy, params);
  sql += " OR EXISTS (SELECT 1 FROM provider_uploads u WHERE ";
  sql += UploadedCopyCondition(policy, params);
  return sql + ") THEN 1 ELSE 0 END";
}

struct BlobState {
  CacheCandidate blob;
  bool pinned = false;
  bool fetchable = false;
};

// Every local blob, least recently accessed first: one grouped query.
Result<std::vector<BlobState>> LoadBlobStates(Connection& c, const CachePolicy& policy) {
  std::vector<Value> params;
  std::string sql =
      "SELECT a.sha256 AS sha256, MAX(b.size_bytes) AS size_bytes, "
      "MAX(COALESCE(a.last_accessed_at, a.created_at)) AS last_access, "
      "MAX(CASE WHEN p.asset_id IS NOT NULL THEN 1 ELSE 0 END) AS pinned, MAX(";
  sql += FetchableExpression(policy, params);
  sql +=
      ") AS fetchable FROM assets a JOIN blobs b ON b.sha256 = a.sha256 "
      "LEFT JOIN asset_pins p ON p.asset_id = a.id WHERE a.sha256 IS NOT NULL "
      "GROUP BY a.sha256 "
      "HAVING MAX(CASE WHEN a.sync_status = 'downloaded' THEN 1 ELSE 0 END) = 1 "
      "ORDER BY last_access, sha256";
  PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
  return MapRows(rows, [](const RowView& r) {
    return BlobState{CacheCandidate{r.Text("sha256"), r.Int("size_bytes"), r.Int("last_access")},
                     r.Int("pinned") != 0, r.Int("fetchable") != 0};
  });
}

}  // namespace

Result<AssetPin> SqlStore::PinAsset(const Viewer& v, AssetId id) {
  AssetPin pin;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_RETURN_IF_ERROR(
        c.Query("INSERT INTO asset_pins (asset_id, pinned_by, pinned_at) VALUES (?, ?, ?) "
                "ON CONFLICT (asset_id) DO NOTHING",
                {id, v.user_id, clock_.Now()}));
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT pinned_by, pinned_at FROM asset_pins WHERE asset_id = ?", {id}));
    if (rows.empty()) return Fail(ErrorCode::kInternal, "pin not recorded");
    RowView r(rows, 0);
    pin = AssetPin{id, r.Int("pinned_by"), r.Int("pinned_at")};
    return Ok();
  });
  if (!st) return Fail(st.error());
  return pin;
}

Status SqlStore::UnpinAsset(const Viewer& v, AssetId id) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_pins WHERE asset_id = ?", {id}));
    return Ok();
  });
}

Result<AssetPin> SqlStore::GetAssetPin(const Viewer& v, AssetId id) {
  AssetPin pin;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT pinned_by, pinned_at FROM asset_pins WHERE asset_id = ?", {id}));
    pin = AssetPin{id, std::nullopt, std::nullopt};
    if (!rows.empty()) {
      RowView r(rows, 0);
      pin.pinned_by = r.Int("pinned_by");
      pin.pinned_at = r.Int("pinned_at");
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return pin;
}

Result<CacheInventory> SqlStore::ScanCache(const CachePolicy& policy) {
  CacheInventory inv;
  Status st = db_->Read([&](Connection& c) -> Status {
    inv = CacheInventory{};
    PV_ASSIGN_OR_RETURN(std::vector<BlobState> states, LoadBlobStates(c, policy));
    for (BlobState& s : states) {
      ++inv.local_blobs;
      inv.local_bytes += s.blob.size_bytes;
      if (s.pinned) {
        ++inv.pinned_blobs;
      } else if (!s.fetchable) {
        ++inv.only_copy_blobs;
      } else {
        inv.evictable.push_back(std::move(s.blob));
      }
    }
    PV_ASSIGN_OR_RETURN(Rows pins, c.Query("SELECT COUNT(*) AS n FROM asset_pins"));
    inv.pinned_assets = RowView(pins, 0).Int("n");
    return Ok();
  });
  if (!st) return Fail(st.error());
  return inv;
}

Result<std::vector<std::string>> SqlStore::EvictBlobs(
    const std::vector<std::string>& sha256s, const CachePolicy& policy,
    const std::function<Status(const std::vector<std::string>&)>& unlink) {
  if (sha256s.size() > kMaxEvictBatch) {
    return Fail(ErrorCode::kInvalidArgument, "at most 500 blobs are evicted per call");
  }
  std::vector<std::string> evicted;
  if (sha256s.empty()) return evicted;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    evicted.clear();
    // Re-check per asset, then decide per blob here.
    std::vector<Rows> results;
    if (c.dialect() == Dialect::kPostgres) {
      // Lock the blobs' assets before re-checking, in a statement of its own: a pin (its
      // foreign key takes a KEY SHARE lock on the asset) or a reader marking the bytes local
      // waits for this decision, and one that committed first is seen by the re-check, whose
      // snapshot is taken after the locks are held. SQLite serialises writers anyway.
      // Both statements take the batch as one array parameter, so their text (and plan) is the
      // same for every batch.
      const Value batch = PgTextArray(sha256s);
      PV_RETURN_IF_ERROR(c.Query(
          "SELECT id FROM assets WHERE sha256 = ANY(CAST(? AS TEXT[])) ORDER BY id FOR UPDATE",
          {batch}));
      // The upload check is a LATERAL probe with LIMIT 1, one index lookup per asset: as an
      // EXISTS the planner hashes the whole provider_uploads table once per batch.
      std::vector<Value> params;
      std::string sql =
          "SELECT a.id AS id, a.sha256 AS sha256, a.sync_status AS sync_status, "
          "CASE WHEN p.asset_id IS NOT NULL THEN 1 ELSE 0 END AS pinned, CASE WHEN ";
      sql += OriginCopyCondition(policy, params);
      sql +=
          " OR up.found IS NOT NULL THEN 1 ELSE 0 END AS fetchable "
          "FROM assets a LEFT JOIN asset_pins p ON p.asset_id = a.id "
          "LEFT JOIN LATERAL (SELECT 1 AS found FROM provider_uploads u WHERE ";
      sql += UploadedCopyCondition(policy, params);
      sql += " LIMIT 1) up ON TRUE WHERE a.sha256 = ANY(CAST(? AS TEXT[]))";
      params.push_back(batch);
      PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
      results.push_back(std::move(rows));
    } else {
      // SQLite (in process, so statements are cheap): one indexed lookup per hash, as its
      // planner turned every set-shaped form of this into an index walk.
      std::vector<Value> params;
      std::string sql =
          "SELECT a.id AS id, a.sha256 AS sha256, a.sync_status AS sync_status, "
          "CASE WHEN EXISTS (SELECT 1 FROM asset_pins p WHERE p.asset_id = a.id) THEN 1 ELSE 0 "
          "END AS pinned, ";
      sql += FetchableExpression(policy, params);
      sql += " AS fetchable FROM assets a WHERE a.sha256 = ?";
      params.emplace_back(std::monostate{});
      for (const std::string& sha : sha256s) {
        params.back() = sha;
        PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
        results.push_back(std::move(rows));
      }
    }
    struct Decision {
      bool local = false, pinned = false, fetchable = false;
      std::vector<std::int64_t> downloaded;
    };
    std::map<std::string, Decision> blobs;
    for (const Rows& rows : results) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        RowView r(rows, i);
        Decision& d = blobs[r.Text("sha256")];
        if (r.Text("sync_status") == "downloaded") {
          d.local = true;
          d.downloaded.push_back(r.Int("id"));
        }
        d.pinned = d.pinned || r.Int("pinned") != 0;
        d.fetchable = d.fetchable || r.Int("fetchable") != 0;
      }
    }
    std::vector<std::int64_t> ids;
    for (const auto& [sha, d] : blobs) {
      if (!d.local || d.pinned || !d.fetchable) continue;
      evicted.push_back(sha);
      ids.insert(ids.end(), d.downloaded.begin(), d.downloaded.end());
    }
    if (evicted.empty()) return Ok();
    if (c.dialect() == Dialect::kPostgres) {
      PV_RETURN_IF_ERROR(c.Query(
          "UPDATE assets SET sync_status = 'remote' WHERE " + IdSetCondition(c.dialect(), "id"),
          {IdSetParam(c.dialect(), ids)}));
    } else {
      for (const std::int64_t id : ids) {
        PV_RETURN_IF_ERROR(c.Query("UPDATE assets SET sync_status = 'remote' WHERE id = ?", {id}));
      }
    }
    return unlink(evicted);
  });
  if (!st) return Fail(st.error());
  return evicted;
}

Result<std::vector<CacheCopy>> SqlStore::ListCacheCopies(const std::vector<std::string>& sha256s,
                                                         const CachePolicy& policy) {
  if (sha256s.size() > kMaxEvictBatch) {
    return Fail(ErrorCode::kInvalidArgument, "at most 500 blobs are listed per call");
  }
  std::vector<CacheCopy> copies;
  if (sha256s.empty()) return copies;
  Status st = db_->Read([&](Connection& c) -> Status {
    copies.clear();
    const bool pg = c.dialect() == Dialect::kPostgres;
    // Origin refs (kind 0) and uploaded rows (kind 1) of the blobs' assets, with the account
    // each is under (its columns as ToAccount reads them).
    std::string accounts;  // ", pa.id AS id, ..." for each of kAccountColumns
    for (std::string_view rest = kAccountColumns; !rest.empty();) {
      const std::size_t comma = rest.find(", ");
      const std::string col(rest.substr(0, comma));
      accounts += ", pa." + col + " AS " + col;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    const std::string blob_condition = pg ? "a.sha256 = ANY(CAST(? AS TEXT[]))" : "a.sha256 = ?";
    // The blob placeholders' values are set below, per call.
    const std::size_t first_blob = 0;
    std::vector<Value> params{std::monostate{}};
    std::string sql =
        "SELECT 0 AS kind, a.sha256 AS copy_sha256, a.id AS copy_asset_id, "
        "NULL AS copy_upload_id, a.provider_id AS copy_provider, a.provider_asset_id AS copy_ref, "
        " NULL AS copy_url, "
        "NULL AS copy_expires_at, a.origin_missing_since AS copy_missing_since" +
        accounts +
        " FROM assets a JOIN provider_accounts pa ON pa.id = a.provider_account_id WHERE " +
        blob_condition + " AND " + OriginCopyCondition(policy, params);
    sql +=
        " UNION ALL SELECT 1 AS kind, a.sha256 AS copy_sha256, a.id AS copy_asset_id, "
        "u.id AS copy_upload_id, u.provider_id AS copy_provider, u.provider_ref AS copy_ref, "
        " u.provider_url AS copy_url, "
        "u.expires_at AS copy_expires_at, NULL AS copy_missing_since" +
        accounts +
        " FROM assets a JOIN provider_uploads u ON u.asset_id = a.id "
        "JOIN provider_accounts pa ON pa.id = u.account_id WHERE " +
        blob_condition + " AND ";
    const std::size_t second_blob = params.size();
    params.emplace_back(std::monostate{});
    sql += UploadedCopyCondition(policy, params);
    sql += " ORDER BY copy_sha256, kind, copy_asset_id, copy_upload_id";
    const auto add = [&copies](const Rows& rows) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        RowView r(rows, i);
        CacheCopy copy;
        copy.sha256 = r.Text("copy_sha256");
        copy.asset_id = r.Int("copy_asset_id");
        copy.upload_id = r.OptInt("copy_upload_id");
        copy.ref = r.Text("copy_ref");
        copy.url = r.OptText("copy_url").value_or("");
        copy.expires_at = r.OptInt("copy_expires_at");
        copy.missing_since = r.OptInt("copy_missing_since");
        copy.account = ToAccount(r);
        copy.provider_id = r.Text("copy_provider");
        copies.push_back(std::move(copy));
      }
    };
    if (pg) {
      params[first_blob] = params[second_blob] = PgTextArray(sha256s);
      PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
      add(rows);
    } else {
      // One indexed lookup per hash (as in EvictBlobs).
      for (const std::string& sha : sha256s) {
        params[first_blob] = params[second_blob] = sha;
        PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
        add(rows);
      }
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return copies;
}

Status SqlStore::MarkBlobLocal(std::string_view sha256) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query(
        "UPDATE assets SET sync_status = 'downloaded' WHERE sha256 = ? AND sync_status = 'remote'",
        {Str(sha256)}));
    return Ok();
  });
}

}  // namespace pixvault::storage
