// SqlStore: bulk lookups by content hash (the upload pre-check).
#include <algorithm>
#include <set>

#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

namespace {

// Hashes per statement. Keeps every statement well under SQLite's host-parameter limit
// (999 on old builds) and PostgreSQL's plans small.
constexpr std::size_t kHashesPerQuery = 500;

}  // namespace

Result<std::vector<std::pair<std::string, AssetId>>> SqlStore::FindUploadsBySha256(
    UserId user, const std::vector<std::string>& sha256s) {
  // Distinct hashes only: a client may repeat one, and each costs a placeholder.
  std::set<std::string> distinct(sha256s.begin(), sha256s.end());
  std::vector<std::string> hashes(distinct.begin(), distinct.end());
  std::vector<std::pair<std::string, AssetId>> out;
  if (hashes.empty()) return out;
  Status st = db_->Read([&](Connection& c) -> Status {
    out.clear();
    for (std::size_t begin = 0; begin < hashes.size(); begin += kHashesPerQuery) {
      std::size_t end = std::min(hashes.size(), begin + kHashesPerQuery);
      // Provider generations are not uploads: identical bytes from a provider do not make
      // an upload a duplicate (the same rule as CreateAsset and the unique index
      // assets_user_sha256_upload, which also guarantees at most one row per hash).
      std::string sql =
          "SELECT sha256, id FROM assets WHERE user_id = ? AND upload_method <> 'provider' AND "
          "sha256 IN (";
      std::vector<Value> params{user};
      for (std::size_t i = begin; i < end; ++i) {
        sql += i == begin ? "?" : ", ?";
        params.emplace_back(hashes[i]);
      }
      sql += ")";
      PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
      for (std::size_t i = 0; i < rows.size(); ++i) {
        RowView r(rows, i);
        out.emplace_back(r.Text("sha256"), r.Int("id"));
      }
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

}  // namespace pixvault::storage
