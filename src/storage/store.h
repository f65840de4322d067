// Persistent catalogue of users, assets and everything attached to them, plus the durable
// job queue. One implementation (SqlStore) runs on SQLite and on PostgreSQL.
//
// Every read or write of user-owned rows takes a Viewer and is filtered by it: a
// non-admin sees only their own rows; `age_restricted` assets are invisible without
// `allow_adult`. Rows a viewer may not see answer kNotFound, exactly like missing rows.
// Implementations are safe for concurrent use from many threads and processes.
// Errors: kNotFound, kAlreadyExists, kInvalidArgument, kUnavailable, kCorrupt, kInternal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"

namespace pixvault::storage {

// --- Queries ---------------------------------------------------------------------------

struct AssetFilter {
  std::optional<MediaType> media_type;
  std::optional<ContentDomain> content_domain;
  std::optional<std::string> content_category;
  std::optional<ContentRating> content_rating;
  std::vector<std::string> tags;        // all must be present
  std::vector<std::string> style_tags;  // all must be present
  // Taxonomy leaves: path "sport.type" equal to value "football" (all must match).
  std::vector<std::pair<std::string, std::string>> taxonomy;
  std::optional<std::string> provider_id;
  std::optional<SyncStatus> sync_status;
  std::optional<std::string> sha256;
  std::optional<Timestamp> created_after;   // exclusive
  std::optional<Timestamp> created_before;  // exclusive
  std::optional<std::string> text;          // substring of description or a tag
  // Metadata tables.
  std::optional<double> bpm_min, bpm_max;
  std::optional<std::string> audio_key;
  std::optional<bool> is_speech;
  std::optional<std::int64_t> polygons_min, polygons_max;
  std::optional<std::string> model_format;
  std::optional<std::string> intensity_level;
  std::optional<std::string> mood;
  // Lists leave out searchable=false assets unless this is set (owner views).
  bool include_unsearchable = false;
};

// Keyset page over (created_at DESC, id DESC). `cursor` is the opaque next_cursor of the
// previous page; an invalid cursor is kInvalidArgument.
struct PageRequest {
  std::int64_t limit = 50;
  std::optional<std::string> cursor;
};

template <class T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;
};

struct CreatedAsset {
  Asset asset;
  bool duplicate = false;  // an existing asset of the same user with the same bytes
  std::optional<Job> job;  // the follow-up job enqueued with it (see CreateAsset)
};

// A job to enqueue with a new asset, in the same transaction (e.g. its analysis); nullopt for
// none. Called with the asset as stored (its id set).
using AssetFollowUp = std::function<std::optional<Job>(const Asset&)>;

// Bytes that a new asset points at. `publish` runs inside the transaction after the blob row
// is locked and before commit (the blob store renames its temp file there), so a concurrent
// garbage collection of the same bytes cannot interleave.
struct BlobRef {
  std::string sha256;
  std::int64_t size_bytes = 0;
  std::string location = "local";
  std::function<Status()> publish;
};

// A branch graph rooted at an asset (Store::LoadBranchGraph).
struct BranchGraph {
  // The root first, then by id. Only id, user_id, media_type, sha256, file_size_bytes,
  // mime_type, width, height, duration_sec, fps and media_metadata are loaded.
  std::vector<Asset> nodes;
  std::vector<Branch> branches;         // of the nodes, by id
  std::vector<BranchVariant> variants;  // of those branch points, by branch point then id
  std::vector<Clip> clips;              // of the nodes, by id
};

struct JobClaim {
  std::string owner;  // worker identity
  Timestamp lease_micros = 30 * kMicrosPerSecond;
  std::vector<std::string> kinds;  // empty = any kind
};

struct JobFilter {
  std::optional<JobStatus> status;
  std::optional<std::string> kind;
  std::optional<UserId> user_id;
};

// How stale an API key's last_used_at may get before TouchApiKey writes it again.
inline constexpr Timestamp kApiKeyTouchInterval = 60 * kMicrosPerSecond;

// --- The local cache (service/cache.h) ------------------------------------------------

// Which copies elsewhere count as fetchable when deciding whether local bytes may be evicted.
struct CachePolicy {
  Timestamp now = 0;  // provider_uploads rows expiring at or before this do not count
  // Providers that can give bytes back (the registry's); unset: any provider except
  // user_upload. Only these providers' uploaded rows and origin refs make a blob evictable.
  std::optional<std::vector<std::string>> providers;
};

// A copy of a local blob's bytes elsewhere that eviction may count on: an asset of the blob
// has an origin ref, or an `uploaded`, unexpired provider_uploads row, at a provider the
// policy accepts, under an enabled account of the asset's owner (the accounts a reader's
// fetch-back may use: Resolver::EnsureLocalCopy).
struct CacheCopy {
  std::string sha256;
  AssetId asset_id = 0;
  std::optional<std::int64_t> upload_id;  // the provider_uploads row; unset: the origin ref
  std::string provider_id;
  std::string ref;
  std::string url;
  std::optional<Timestamp> expires_at;
  ProviderAccount account;
  // An origin ref its provider has said it no longer has, since then (Asset::
  // origin_missing_since).
  std::optional<Timestamp> missing_since;
};

// A local blob that may be evicted: no asset of it is pinned and one of its assets has a copy
// elsewhere that can be fetched back (a CacheCopy).
struct CacheCandidate {
  std::string sha256;
  std::int64_t size_bytes = 0;
  Timestamp last_access = 0;  // newest last_accessed_at (or created_at) among its assets
};

// The local blobs (those with a `downloaded` asset), in one scan.
struct CacheInventory {
  std::int64_t local_bytes = 0;
  std::int64_t local_blobs = 0;
  std::int64_t pinned_assets = 0;
  std::int64_t pinned_blobs = 0;          // local blobs kept because an asset of theirs is pinned
  std::int64_t only_copy_blobs = 0;       // local blobs with no fetchable copy elsewhere
  std::vector<CacheCandidate> evictable;  // least recently accessed first
};

// --- The store -------------------------------------------------------------------------

class Store {
 public:
  virtual ~Store() = default;

  // Users.
  virtual Result<User> CreateUser(const User& user) = 0;  // id/created_at assigned
  virtual Result<User> GetUser(UserId id) = 0;
  virtual Result<User> GetUserByName(std::string_view name) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Result<User> UpdateUser(const User& user) = 0;

  // API keys. The store never sees a plaintext key: `key_hash` is the lowercase hex SHA-256
  // of the key and `prefix` its first characters (at most 12), kept for listings.
  // Creates a key for `user_id`: kNotFound if there is no such user, kInvalidArgument for a
  // key_hash that is not 64 lowercase hex characters, an empty or over-long prefix, or a
  // label that is not UTF-8 or longer than 200 bytes.
  virtual Result<ApiKey> CreateApiKey(UserId user_id, std::string_view label,
                                      std::string_view prefix, std::string_view key_hash) = 0;
  // The owner of the unrevoked key with this hash, and the key. An unknown key and a
  // revoked key both answer kNotFound with the same message, so callers cannot tell which.
  virtual Result<std::pair<User, ApiKey>> FindUserByApiKeyHash(std::string_view key_hash) = 0;
  // Every key of the user, revoked ones included, oldest first. Empty for an unknown user.
  virtual Result<std::vector<ApiKey>> ListApiKeys(UserId user_id) = 0;
  // Revokes a key of the viewer (any user's key for an admin) and returns it. Another user's
  // key answers kNotFound, like a missing one. Revoking is idempotent: revoking a revoked
  // key changes nothing and returns it with its original revoked_at.
  virtual Result<ApiKey> RevokeApiKey(const Viewer& viewer, std::int64_t id) = 0;
  // Records a use of the key: sets last_used_at to `when` unless it was set less than
  // kApiKeyTouchInterval before `when`, so a busy key costs one write a minute. A missing
  // key is not an error.
  virtual Status TouchApiKey(std::int64_t id, Timestamp when) = 0;

  // Blobs (global, not user-owned; used by ingest, deletion and fsck).
  virtual Result<Blob> GetBlob(std::string_view sha256) = 0;
  // Blobs with sha256 > after, in order.
  virtual Result<std::vector<Blob>> ListBlobs(std::string_view after, std::int64_t limit) = 0;
  // Recomputes every blob's refcount from the assets that point at it; returns how many
  // rows changed.
  virtual Result<std::int64_t> RepairBlobRefcounts() = 0;
  // Deletes the blob row if its refcount is zero, running `unlink` inside the same
  // transaction. Returns whether the row was deleted.
  virtual Result<bool> DeleteUnreferencedBlob(std::string_view sha256,
                                              const std::function<Status()>& unlink) = 0;
  // sha256 values referenced by assets that have no blobs row or whose blob is missing
  // from `present` — used by fsck.
  virtual Result<std::vector<std::string>> ListReferencedSha256(std::string_view after,
                                                                std::int64_t limit) = 0;

  // Assets.
  // Creates an asset owned by asset.user_id. With `blob`, the blob row is upserted and its
  // refcount raised in the same transaction. If the user already has an upload of the same
  // bytes, returns that asset with duplicate=true and changes nothing. A new asset's
  // `follow_up` job is enqueued in the same transaction (as EnqueueJob would: an existing
  // idempotency key yields the existing job), so no crash leaves one without the other.
  virtual Result<CreatedAsset> CreateAsset(const Asset& asset, const std::optional<BlobRef>& blob,
                                           const AssetFollowUp& follow_up) = 0;
  Result<CreatedAsset> CreateAsset(const Asset& asset, const std::optional<BlobRef>& blob) {
    return CreateAsset(asset, blob, nullptr);
  }
  // The user's own uploads (assets not generated by a provider) of any of `sha256s`, as
  // (sha256, asset id) pairs, one per distinct hash found, in no particular order. Hashes
  // the user has no upload of are simply absent; other users' assets never count. One
  // query per 500 distinct hashes.
  virtual Result<std::vector<std::pair<std::string, AssetId>>> FindUploadsBySha256(
      UserId user, const std::vector<std::string>& sha256s) = 0;
  virtual Result<Asset> GetAsset(const Viewer& viewer, AssetId id) = 0;
  virtual Result<std::vector<Asset>> GetAssets(const Viewer& viewer,
                                               const std::vector<AssetId>& ids) = 0;
  virtual Result<Page<Asset>> ListAssets(const Viewer& viewer, const AssetFilter& filter,
                                         const PageRequest& page) = 0;
  virtual Result<std::int64_t> CountAssets(const Viewer& viewer, const AssetFilter& filter) = 0;
  virtual Result<Asset> UpdateAsset(const Viewer& viewer, AssetId id, const AssetPatch& patch) = 0;
  // Deletes the asset and everything attached; lowers its blob's refcount. Returns the
  // deleted asset (its sha256 tells the caller which bytes may now be unreferenced).
  virtual Result<Asset> DeleteAsset(const Viewer& viewer, AssetId id) = 0;
  virtual Status TouchAsset(AssetId id, Timestamp when) = 0;

  // Metadata tables (upsert by asset id).
  virtual Result<Asset3dMetadata> Put3dMetadata(const Viewer& v, const Asset3dMetadata& m) = 0;
  virtual Result<Asset3dMetadata> Get3dMetadata(const Viewer& v, AssetId id) = 0;
  virtual Result<AssetAudioMetadata> PutAudioMetadata(const Viewer& v,
                                                      const AssetAudioMetadata& m) = 0;
  virtual Result<AssetAudioMetadata> GetAudioMetadata(const Viewer& v, AssetId id) = 0;
  virtual Result<AssetAdultMetadata> PutAdultMetadata(const Viewer& v,
                                                      const AssetAdultMetadata& m) = 0;
  virtual Result<AssetAdultMetadata> GetAdultMetadata(const Viewer& v, AssetId id) = 0;

  // Temporal segments.
  virtual Result<TemporalSegment> AddSegment(const Viewer& v, const TemporalSegment& s) = 0;
  virtual Result<std::vector<TemporalSegment>> ListSegments(const Viewer& v, AssetId id) = 0;
  // Replaces every segment of one type (an analyzer's output) atomically.
  virtual Result<std::vector<TemporalSegment>> ReplaceSegments(
      const Viewer& v, AssetId id, std::string_view segment_type,
      const std::vector<TemporalSegment>& segments) = 0;
  virtual Status DeleteSegment(const Viewer& v, std::int64_t segment_id) = 0;

  // Lineage. Edges are validated (both assets visible to the viewer, no self edge, no
  // cycle; parent_role a snake_case word; times finite, >= 0, start <= end and inside the
  // parent's duration; parent_frame >= 0 and before the parent's last frame, when the
  // parent's duration and fps are known) and inserted atomically: all or none. In a batch,
  // messages start with "edges[i]: ". A repeated (child, parent, role, order) is
  // kAlreadyExists.
  virtual Result<std::vector<LineageEdge>> AddLineage(const Viewer& v,
                                                      const std::vector<LineageEdge>& edges) = 0;
  virtual Result<std::vector<LineageEdge>> ListParents(const Viewer& v, AssetId child) = 0;
  virtual Result<std::vector<LineageEdge>> ListChildren(const Viewer& v, AssetId parent) = 0;
  // Every edge reachable from `start` within `max_depth` steps, one recursive query; each
  // edge carries its smallest depth.
  virtual Result<std::vector<LineageEdge>> WalkLineage(const Viewer& v, AssetId start,
                                                       LineageDirection direction,
                                                       std::int64_t max_depth) = 0;
  virtual Status DeleteLineageEdge(const Viewer& v, std::int64_t edge_id) = 0;

  // Branch points, variants, clips.
  virtual Result<Branch> CreateBranch(const Viewer& v, const Branch& b) = 0;
  virtual Result<Branch> GetBranch(const Viewer& v, std::int64_t id) = 0;
  virtual Result<std::vector<Branch>> ListBranches(const Viewer& v, AssetId source) = 0;
  virtual Result<Branch> UpdateBranch(const Viewer& v, const Branch& b) = 0;
  virtual Status DeleteBranch(const Viewer& v, std::int64_t id) = 0;
  virtual Result<BranchVariant> CreateVariant(const Viewer& v, const BranchVariant& var) = 0;
  virtual Result<std::vector<BranchVariant>> ListVariants(const Viewer& v,
                                                          std::int64_t branch_id) = 0;
  virtual Result<BranchVariant> UpdateVariant(const Viewer& v, const BranchVariant& var) = 0;
  virtual Status DeleteVariant(const Viewer& v, std::int64_t id) = 0;
  virtual Result<Clip> CreateClip(const Viewer& v, const Clip& c) = 0;
  virtual Result<std::vector<Clip>> ListClips(const Viewer& v, AssetId source) = 0;
  virtual Result<Clip> UpdateClip(const Viewer& v, const Clip& c) = 0;
  virtual Status DeleteClip(const Viewer& v, std::int64_t id) = 0;
  virtual Result<BranchVariant> GetVariant(const Viewer& v, std::int64_t id) = 0;
  // The variants of every branch point of `source`, by branch point then id: one query.
  virtual Result<std::vector<BranchVariant>> ListVariantsOfSource(const Viewer& v,
                                                                  AssetId source) = 0;
  virtual Result<Clip> GetClip(const Viewer& v, std::int64_t id) = 0;
  // The assets reachable from `root` (visible to the viewer, else kNotFound) through branch
  // point variants, with their branch points, variants and clips: one recursive query, then
  // one query per kind over the node set. The walk passes only through assets the viewer can
  // see; a variant of a reached branch point whose asset is hidden is still returned (its
  // target is then missing from `nodes`). kInvalidArgument when more than `max_nodes` assets
  // are reachable.
  virtual Result<BranchGraph> LoadBranchGraph(const Viewer& v, AssetId root,
                                              std::int64_t max_nodes) = 0;

  // Game state variables, one namespace per user (`var.user_id`, 0 = the viewer; another
  // user's only for admins, else kNotFound). Put creates or replaces by name;
  // kInvalidArgument for a name that is not an identifier, an unknown type, or an initial
  // value that is not a JSON literal of that type.
  virtual Result<StateVariable> PutStateVariable(const Viewer& v, const StateVariable& var) = 0;
  virtual Result<std::vector<StateVariable>> ListStateVariables(const Viewer& v, UserId owner) = 0;
  virtual Status DeleteStateVariable(const Viewer& v, UserId owner, const std::string& name) = 0;

  // Provider accounts and uploads.
  virtual Result<ProviderAccount> CreateProviderAccount(const ProviderAccount& a) = 0;
  virtual Result<ProviderAccount> GetProviderAccount(const Viewer& v, std::int64_t id) = 0;
  virtual Result<std::vector<ProviderAccount>> ListProviderAccounts(const Viewer& v) = 0;
  virtual Status DeleteProviderAccount(const Viewer& v, std::int64_t id) = 0;
  // Insert or replace the row for (asset, provider, account).
  virtual Result<ProviderUpload> PutProviderUpload(const ProviderUpload& u) = 0;
  virtual Result<ProviderUpload> GetProviderUpload(AssetId asset, std::string_view provider,
                                                   std::int64_t account) = 0;
  // The rows of an asset whose account belongs to the viewer (an admin sees every row).
  virtual Result<std::vector<ProviderUpload>> ListProviderUploads(const Viewer& v,
                                                                  AssetId asset) = 0;
  virtual Status DeleteProviderUpload(AssetId asset, std::string_view provider,
                                      std::int64_t account) = 0;

  // The cross-process half of resolution's single-flight. Reads the row of (asset, provider,
  // account), creating it `pending` when missing, and gives `owner` its lease until
  // `lease_until` unless: the row is `uploaded` with an expiry after `fresh_until` (or none),
  // the row is `failed` and `retry_failed` is false, or another owner holds an unexpired
  // lease. `leased` says whether the caller now holds it.
  struct UploadClaim {
    ProviderUpload upload;
    bool leased = false;
  };
  struct UploadClaimRequest {
    AssetId asset_id = 0;
    std::string provider_id;
    std::int64_t account_id = 0;
    std::string owner;
    Timestamp lease_until = 0;
    Timestamp fresh_until = 0;
    bool retry_failed = true;
  };
  virtual Result<UploadClaim> ClaimProviderUpload(const UploadClaimRequest& request) = 0;
  // Stores the lease holder's outcome (`u`: status, ref, url, expiry, error, attempts) and
  // releases the lease, in one transaction with the attempts made. kUnavailable ("lease
  // lost") when `owner` no longer holds the lease (it expired and another took it): nothing
  // is written then.
  virtual Result<ProviderUpload> FinishProviderUpload(
      const ProviderUpload& u, std::string_view owner,
      const std::vector<ProviderAttempt>& attempts) = 0;
  // Marks an uploaded row `expired` (its ref is no longer known to the provider), unless a
  // lease is held; with `only_ref`, only while the row still holds that ref (the provider was
  // asked about it, and the row may have been uploaded again since). kNotFound when there is
  // no row.
  virtual Status ExpireProviderUpload(AssetId asset, std::string_view provider,
                                      std::int64_t account,
                                      std::optional<std::string_view> only_ref) = 0;
  Status ExpireProviderUpload(AssetId asset, std::string_view provider, std::int64_t account) {
    return ExpireProviderUpload(asset, provider, account, std::nullopt);
  }
  // The asset's origin provider answered that it does not have `ref` (the asset's
  // provider_asset_id). One answer is not trusted (a provider misconfigured or unreachable
  // for a while answers so for everything): the first sets origin_missing_since; one at
  // least `confirm_after` later, with no ReportOriginFound in between, sets origin_lost_at,
  // and from then on the origin is neither a copy (eviction) nor a source (fetch-back).
  // Returns whether the origin is lost. Nothing changes when `ref` is no longer the asset's
  // origin. kNotFound when there is no such asset.
  virtual Result<bool> ReportOriginMissing(AssetId asset, std::string_view ref,
                                           Timestamp confirm_after) = 0;
  // The origin provider has `ref` after all: clears origin_missing_since.
  virtual Status ReportOriginFound(AssetId asset, std::string_view ref) = 0;
  // Counts the lost origins again (clears origin_lost_at and origin_missing_since), of
  // `provider` or of every provider; the next eviction pass asks their providers again.
  // Returns how many.
  virtual Result<std::int64_t> RecheckLostOrigins(std::optional<std::string_view> provider) = 0;
  // Records attempts made outside a lease (re-fetching evicted bytes for a reader).
  virtual Status RecordProviderAttempts(const std::vector<ProviderAttempt>& attempts) = 0;
  // The latest `limit` attempts for (asset, provider, account), newest first.
  virtual Result<std::vector<ProviderAttempt>> ListProviderAttempts(AssetId asset,
                                                                    std::string_view provider,
                                                                    std::int64_t account,
                                                                    std::int64_t limit) = 0;

  // The local cache. Pins are the owner's (or an admin's): a viewer who cannot see the asset
  // gets kNotFound. Pinning twice keeps the first pin; unpinning an unpinned asset succeeds.
  virtual Result<AssetPin> PinAsset(const Viewer& v, AssetId id) = 0;
  virtual Status UnpinAsset(const Viewer& v, AssetId id) = 0;
  // The asset's pin; an unset pinned_at when it is not pinned. kNotFound when not visible.
  virtual Result<AssetPin> GetAssetPin(const Viewer& v, AssetId id) = 0;
  // Every local blob with what keeps it, and the evictable ones in LRU order: one query.
  virtual Result<CacheInventory> ScanCache(const CachePolicy& policy) = 0;
  // Evicts what is still evictable of `sha256s` (at most 500): in one transaction, locks
  // their assets, re-checks pins and fetchable copies under `policy`, marks the assets of the
  // confirmed blobs `remote`, and runs `unlink` with those hashes before committing. Returns
  // the evicted hashes. `unlink` may run again if the transaction is retried.
  virtual Result<std::vector<std::string>> EvictBlobs(
      const std::vector<std::string>& sha256s, const CachePolicy& policy,
      const std::function<Status(const std::vector<std::string>&)>& unlink) = 0;
  // The copies elsewhere (CacheCopy) of `sha256s` (at most 500) under `policy`: per blob,
  // origin refs first, then uploaded rows.
  virtual Result<std::vector<CacheCopy>> ListCacheCopies(const std::vector<std::string>& sha256s,
                                                         const CachePolicy& policy) = 0;
  // The bytes are local again (fetched back): every `remote` asset of them becomes
  // `downloaded`.
  virtual Status MarkBlobLocal(std::string_view sha256) = 0;

  // Media analysis (issue 6). The writes are the analysis job's, which acts for the system
  // (no viewer); the reads check visibility.
  // Inserts or replaces the record of (asset_id, step) and rewrites the asset's
  // analysis_errors from its failed records, in one transaction. kNotFound when the asset is
  // gone, kInvalidArgument for an empty step, a version < 1 or a result that is not a JSON
  // object.
  virtual Status PutAnalysis(const AnalysisRecord& record) = 0;
  // Every step record of a visible asset, by step name. kNotFound when it is not visible.
  virtual Result<std::vector<AnalysisRecord>> ListAnalysis(const Viewer& v, AssetId id) = 0;
  // Records (or replaces) an asset's perceptual hashes and the eight 8-bit bands of its pHash
  // (the near-duplicate index). kNotFound when the asset is gone.
  virtual Status PutPerceptualHash(const PerceptualHash& hash) = 0;
  // kNotFound when the asset is not visible or has no hashes yet.
  virtual Result<PerceptualHash> GetPerceptualHash(const Viewer& v, AssetId id) = 0;
  // Hashes of the assets the viewer may see in lists (visible and searchable), other than
  // `exclude`, whose pHash has at least one of the given band keys (256 * band + value), by
  // asset id; at most `limit` of them.
  virtual Result<std::vector<PerceptualHash>> FindHashCandidates(
      const Viewer& v, const std::vector<std::int64_t>& band_keys, AssetId exclude,
      std::int64_t limit) = 0;

  // Jobs: a durable queue with leases.
  // Enqueues a job. With an idempotency key that already exists, returns the existing job
  // and `existed = true` instead.
  struct Enqueued {
    Job job;
    bool existed = false;
  };
  virtual Result<Enqueued> EnqueueJob(const Job& job) = 0;
  // Claims the next runnable job: queued with run_after <= now, or running with an expired
  // lease (its previous worker died). Claiming increments attempts. A job whose attempts
  // are exhausted when its lease expires goes to `dead` instead of being claimed.
  virtual Result<std::optional<Job>> ClaimJob(const JobClaim& claim) = 0;
  // Extends the lease; kPermissionDenied if `owner` no longer holds it.
  virtual Status HeartbeatJob(JobId id, std::string_view owner, Timestamp lease_micros) = 0;
  virtual Status CompleteJob(JobId id, std::string_view owner, std::string_view result_json) = 0;
  // Records a running job's progress as its result (a JSON text), so a later attempt resumes
  // from it. kPermissionDenied when `owner` no longer holds the lease.
  virtual Status SaveJobProgress(JobId id, std::string_view owner,
                                 std::string_view result_json) = 0;
  // Records a failure: back to queued after `retry_delay` while attempts remain (and
  // `retryable`), otherwise `dead` (or `failed` when not retryable).
  virtual Status FailJob(JobId id, std::string_view owner, std::string_view error, bool retryable,
                         Timestamp retry_delay) = 0;
  virtual Status CancelJob(const Viewer& v, JobId id) = 0;
  virtual Result<Job> GetJob(JobId id) = 0;
  virtual Result<std::vector<Job>> ListJobs(const JobFilter& filter, std::int64_t limit) = 0;
  virtual Result<std::vector<std::pair<JobStatus, std::int64_t>>> CountJobsByStatus() = 0;
};

struct StoreOptions {
  bool migrate = true;  // apply pending migrations on open
  // Connections at most (PostgreSQL); idle reader connections kept (SQLite).
  int pool_size = 4;
};

// Whether `url` names a database server (PostgreSQL), whose every query waits on the
// network, rather than an embedded file.
bool IsDatabaseServerUrl(std::string_view url);

// "sqlite:///abs/path.db", "sqlite://relative/path.db", "sqlite::memory:",
// "postgresql://..." / "postgres://...". The clock must outlive the store.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Clock& clock,
                                         const StoreOptions& options = {});

}  // namespace pixvault::storage
