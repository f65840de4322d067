// SqlStore: API keys.
#include "core/sha256.h"
#include "core/utf8.h"
#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

namespace {

constexpr std::size_t kMaxLabelBytes = 200;
constexpr std::size_t kMaxPrefixChars = 12;

// The key's columns under alias "k" plus its owner's, renamed so they do not collide.
constexpr const char* kKeyAndUserColumns =
    "k.id, k.user_id, k.label, k.prefix, k.key_hash, k.created_at, k.last_used_at, "
    "k.revoked_at, u.name AS user_name, u.is_admin AS user_is_admin, u.allow_adult AS "
    "user_allow_adult, u.created_at AS user_created_at";

}  // namespace

Result<ApiKey> SqlStore::CreateApiKey(UserId user_id, std::string_view label,
                                      std::string_view prefix, std::string_view key_hash) {
  // A hash check also stops a caller that passes the plaintext key by mistake.
  if (!IsSha256Hex(key_hash)) {
    return Fail(ErrorCode::kInvalidArgument, "key_hash must be 64 lowercase hex characters");
  }
  if (prefix.empty() || prefix.size() > kMaxPrefixChars) {
    return Fail(ErrorCode::kInvalidArgument, "key prefix must be 1 to 12 characters");
  }
  if (label.size() > kMaxLabelBytes || !IsValidUtf8(label)) {
    return Fail(ErrorCode::kInvalidArgument, "key label must be UTF-8 of at most 200 bytes");
  }
  ApiKey out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    // Checked first so that a missing user is kNotFound, not a foreign-key violation.
    PV_ASSIGN_OR_RETURN(Rows user, c.Query("SELECT 1 FROM users WHERE id = ?", {user_id}));
    if (user.empty()) {
      return Fail(ErrorCode::kNotFound, "user " + std::to_string(user_id) + " not found");
    }
    auto rows = c.Query(std::string("INSERT INTO api_keys (user_id, label, prefix, key_hash, "
                                    "created_at) VALUES (?, ?, ?, ?, ?) RETURNING ") +
                            kApiKeyColumns,
                        {user_id, Str(label), Str(prefix), Str(key_hash), clock_.Now()});
    if (!rows && rows.error().code == ErrorCode::kAlreadyExists) {
      // 256-bit keys do not collide; a caller is reusing a key.
      return Fail(ErrorCode::kAlreadyExists, "an API key with this hash already exists");
    }
    if (!rows) return Fail(rows.error());
    out = ToApiKey(RowView(*rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::pair<User, ApiKey>> SqlStore::FindUserByApiKeyHash(std::string_view key_hash) {
  std::pair<User, ApiKey> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    // One indexed lookup (key_hash is UNIQUE). Matching by hash in SQL leaks nothing through
    // timing: learning how many leading characters of a SHA-256 matched does not help
    // anyone forge a key.
    PV_ASSIGN_OR_RETURN(Rows rows,
                        c.Query(std::string("SELECT ") + kKeyAndUserColumns +
                                    " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE "
                                    "k.key_hash = ? AND k.revoked_at IS NULL",
                                {Str(key_hash)}));
    // Unknown and revoked keys deliberately share one error.
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "API key not found");
    RowView r(rows, 0);
    out.second = ToApiKey(r);
    out.first = User{r.Int("user_id"), r.Text("user_name"), r.Bool("user_is_admin"),
                     r.Bool("user_allow_adult"), r.Int("user_created_at")};
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<ApiKey>> SqlStore::ListApiKeys(UserId user_id) {
  std::vector<ApiKey> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kApiKeyColumns +
                                               " FROM api_keys WHERE user_id = ? ORDER BY id",
                                           {user_id}));
    out = MapRows(rows, ToApiKey);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<ApiKey> SqlStore::RevokeApiKey(const Viewer& viewer, std::int64_t id) {
  ApiKey out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    // COALESCE keeps the first revocation time, which makes a second revoke a no-op.
    std::string sql =
        std::string("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?");
    std::vector<Value> params{clock_.Now(), id};
    if (!viewer.is_admin) sql += " AND user_id = ?", params.emplace_back(viewer.user_id);
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql + " RETURNING " + kApiKeyColumns, params));
    if (rows.empty()) {
      return Fail(ErrorCode::kNotFound, "API key " + std::to_string(id) + " not found");
    }
    out = ToApiKey(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::TouchApiKey(std::int64_t id, Timestamp when) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(
        c.Query("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL "
                "OR last_used_at < ?)",
                {when, id, when - kApiKeyTouchInterval}));
    return Ok();
  });
}

}  // namespace pixvault::storage
