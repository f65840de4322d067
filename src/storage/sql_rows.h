// Internal to SqlStore: column lists, row mappers and small helpers shared by its .cc files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "storage/sql/database.h"
#include "storage/store.h"

namespace pixvault::storage::internal {

using sql::Value;

template <class T>
Value Opt(const std::optional<T>& v) {
  if (!v) return std::monostate{};
  if constexpr (std::is_same_v<T, int> || std::is_same_v<T, long> ||
                std::is_same_v<T, std::int64_t>) {
    return static_cast<std::int64_t>(*v);
  } else {
    return *v;
  }
}
inline Value OptEnum(const auto& v) {
  if (!v) return std::monostate{};
  return std::string(ToString(*v));
}
inline Value Str(std::string_view s) { return std::string(s); }

// Floats as little-endian IEEE-754 bytes.
sql::Bytes EncodeFloats(const std::vector<float>& values);
std::vector<float> DecodeFloats(const std::string& bytes);

// Parses an enum stored in a row; a value outside the enum is database corruption.
template <class E>
E RowEnum(const sql::RowView& r, std::string_view col) {
  auto parsed = Parse<E>(r.Text(col));
  return parsed ? *parsed : E{};
}

// A SQL WHERE clause under construction, with its parameters in order.
struct Where {
  std::string sql;
  std::vector<Value> params;
  void Add(std::string_view clause) { sql.append(" AND ").append(clause); }
  void Add(std::string_view clause, Value v) {
    Add(clause);
    params.push_back(std::move(v));
  }
};

// `column IN <a set of ids passed as one parameter>`: a JSON array through json_each on
// SQLite, a bigint[] literal on PostgreSQL. Any number of ids in one bound value, where an IN
// list of placeholders would hit the parameter limits.
std::string IdSetCondition(sql::Dialect dialect, std::string_view column);
Value IdSetParam(sql::Dialect dialect, const std::vector<std::int64_t>& ids);

// The value of assets.tag_list (migration 0009) for the asset whose id is the SQL expression
// `asset_id`, computed from asset_tags: "<kind>,<position>,<byte length>:<tag>" entries.
std::string TagListExpression(sql::Dialect dialect, std::string_view asset_id);
// Fills a.tags and a.style_tags from a tag_list value (ordered by position); false when the
// value is malformed (what was decoded before the fault is kept).
bool DecodeTagList(std::string_view list, Asset& a);

// Restricts assets aliased `alias` to those the viewer may see.
void AddVisibility(Where& w, const Viewer& v, std::string_view alias = "a");
// Fails with kNotFound unless the asset exists and is visible to the viewer.
Status RequireVisibleAsset(sql::Connection& c, const Viewer& v, AssetId id);

extern const char* const kUserColumns;
extern const char* const kApiKeyColumns;
extern const char* const kAssetColumns;  // prefixed with "a."
extern const char* const kBlobColumns;
extern const char* const kSegmentColumns;
extern const char* const kEdgeColumns;  // prefixed with "l."
extern const char* const kBranchColumns;
extern const char* const kVariantColumns;
extern const char* const kClipColumns;
extern const char* const kStateVariableColumns;
extern const char* const kAccountColumns;
extern const char* const kUploadColumns;
extern const char* const kJobColumns;
extern const char* const kAttemptColumns;

User ToUser(const sql::RowView& r);
ApiKey ToApiKey(const sql::RowView& r);
Asset ToAsset(const sql::RowView& r);  // tags and style_tags from tag_list
Blob ToBlob(const sql::RowView& r);
Asset3dMetadata To3d(const sql::RowView& r);
AssetAudioMetadata ToAudio(const sql::RowView& r);
AssetAdultMetadata ToAdult(const sql::RowView& r);
TemporalSegment ToSegment(const sql::RowView& r);
LineageEdge ToEdge(const sql::RowView& r);
Branch ToBranch(const sql::RowView& r);
BranchVariant ToVariant(const sql::RowView& r);
Clip ToClip(const sql::RowView& r);
StateVariable ToStateVariable(const sql::RowView& r);
ProviderAccount ToAccount(const sql::RowView& r);
ProviderUpload ToUpload(const sql::RowView& r);
ProviderAttempt ToAttempt(const sql::RowView& r);
Job ToJob(const sql::RowView& r);

// Maps every row of a result with `fn`.
template <class Fn>
auto MapRows(const sql::Rows& rows, Fn fn) {
  std::vector<decltype(fn(sql::RowView(rows, 0)))> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(fn(sql::RowView(rows, i)));
  return out;
}

// Flattens a JSON object into (dotted path, leaf text) pairs; arrays contribute each
// element under the array's path. kInvalidArgument for invalid JSON or a non-object.
Result<std::vector<std::pair<std::string, std::string>>> FlattenTaxonomy(std::string_view json);
// kInvalidArgument unless `json` parses.
Status ValidateJson(std::string_view json, std::string_view field);

// A job's fields as EnqueueJob requires them (kInvalidArgument otherwise).
Status ValidateNewJob(const Job& job);
// Enqueues `job` on `c` (inside the caller's transaction): an existing idempotency key yields
// the existing job with `existed`.
Result<Store::Enqueued> InsertJob(sql::Connection& c, const Job& job, Timestamp now);

// Keyset cursor "<created_at>.<id>".
std::string EncodeCursor(Timestamp created_at, AssetId id);
Result<std::pair<Timestamp, AssetId>> DecodeCursor(std::string_view cursor);

}  // namespace pixvault::storage::internal
