// SqlStore: the Store over the sql layer, for both SQLite and PostgreSQL.
//
// Dialect differences are confined to a few statements (job claims use FOR UPDATE SKIP
// LOCKED and lineage inserts take an advisory lock on PostgreSQL). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/sql/database.h"
#include "storage/store.h"

namespace pixvault::storage {

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<sql::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(clock) {}

  sql::Database& database() { return *db_; }

  Result<User> CreateUser(const User& user) override;
  Result<User> GetUser(UserId id) override;
  Result<User> GetUserByName(std::string_view name) override;
  Result<std::vector<User>> ListUsers() override;
  Result<User> UpdateUser(const User& user) override;

  Result<ApiKey> CreateApiKey(UserId user_id, std::string_view label, std::string_view prefix,
                              std::string_view key_hash) override;
  Result<std::pair<User, ApiKey>> FindUserByApiKeyHash(std::string_view key_hash) override;
  Result<std::vector<ApiKey>> ListApiKeys(UserId user_id) override;
  Result<ApiKey> RevokeApiKey(const Viewer& viewer, std::int64_t id) override;
  Status TouchApiKey(std::int64_t id, Timestamp when) override;

  Result<Blob> GetBlob(std::string_view sha256) override;
  Result<std::vector<Blob>> ListBlobs(std::string_view after, std::int64_t limit) override;
  Result<std::int64_t> RepairBlobRefcounts() override;
  Result<bool> DeleteUnreferencedBlob(std::string_view sha256,
                                      const std::function<Status()>& unlink) override;
  Result<std::vector<std::string>> ListReferencedSha256(std::string_view after,
                                                        std::int64_t limit) override;

  using Store::CreateAsset;
  Result<CreatedAsset> CreateAsset(const Asset& asset, const std::optional<BlobRef>& blob,
                                   const AssetFollowUp& follow_up) override;
  Result<std::vector<std::pair<std::string, AssetId>>> FindUploadsBySha256(
      UserId user, const std::vector<std::string>& sha256s) override;
  Result<Asset> GetAsset(const Viewer& viewer, AssetId id) override;
  Result<std::vector<Asset>> GetAssets(const Viewer& viewer,
                                       const std::vector<AssetId>& ids) override;
  Result<Page<Asset>> ListAssets(const Viewer& viewer, const AssetFilter& filter,
                                 const PageRequest& page) override;
  Result<std::int64_t> CountAssets(const Viewer& viewer, const AssetFilter& filter) override;
  Result<Asset> UpdateAsset(const Viewer& viewer, AssetId id, const AssetPatch& patch) override;
  Result<Asset> DeleteAsset(const Viewer& viewer, AssetId id) override;
  Status TouchAsset(AssetId id, Timestamp when) override;

  Result<Asset3dMetadata> Put3dMetadata(const Viewer& v, const Asset3dMetadata& m) override;
  Result<Asset3dMetadata> Get3dMetadata(const Viewer& v, AssetId id) override;
  Result<AssetAudioMetadata> PutAudioMetadata(const Viewer& v,
                                              const AssetAudioMetadata& m) override;
  Result<AssetAudioMetadata> GetAudioMetadata(const Viewer& v, AssetId id) override;
  Result<AssetAdultMetadata> PutAdultMetadata(const Viewer& v,
                                              const AssetAdultMetadata& m) override;
  Result<AssetAdultMetadata> GetAdultMetadata(const Viewer& v, AssetId id) override;

  Result<TemporalSegment> AddSegment(const Viewer& v, const TemporalSegment& s) override;
  Result<std::vector<TemporalSegment>> ListSegments(const Viewer& v, AssetId id) override;
  Result<std::vector<TemporalSegment>> ReplaceSegments(
      const Viewer& v, AssetId id, std::string_view segment_type,
      const std::vector<TemporalSegment>& segments) override;
  Status DeleteSegment(const Viewer& v, std::int64_t segment_id) override;

  Result<std::vector<LineageEdge>> AddLineage(const Viewer& v,
                                              const std::vector<LineageEdge>& edges) override;
  Result<std::vector<LineageEdge>> ListParents(const Viewer& v, AssetId child) override;
  Result<std::vector<LineageEdge>> ListChildren(const Viewer& v, AssetId parent) override;
  Result<std::vector<LineageEdge>> WalkLineage(const Viewer& v, AssetId start,
                                               LineageDirection direction,
                                               std::int64_t max_depth) override;
  Status DeleteLineageEdge(const Viewer& v, std::int64_t edge_id) override;

  Result<Branch> CreateBranch(const Viewer& v, const Branch& b) override;
  Result<Branch> GetBranch(const Viewer& v, std::int64_t id) override;
  Result<std::vector<Branch>> ListBranches(const Viewer& v, AssetId source) override;
  Result<Branch> UpdateBranch(const Viewer& v, const Branch& b) override;
  Status DeleteBranch(const Viewer& v, std::int64_t id) override;
  Result<BranchVariant> CreateVariant(const Viewer& v, const BranchVariant& var) override;
  Result<std::vector<BranchVariant>> ListVariants(const Viewer& v, std::int64_t branch_id) override;
  Result<BranchVariant> UpdateVariant(const Viewer& v, const BranchVariant& var) override;
  Status DeleteVariant(const Viewer& v, std::int64_t id) override;
  Result<Clip> CreateClip(const Viewer& v, const Clip& c) override;
  Result<std::vector<Clip>> ListClips(const Viewer& v, AssetId source) override;
  Result<Clip> UpdateClip(const Viewer& v, const Clip& c) override;
  Status DeleteClip(const Viewer& v, std::int64_t id) override;
  Result<BranchVariant> GetVariant(const Viewer& v, std::int64_t id) override;
  Result<std::vector<BranchVariant>> ListVariantsOfSource(const Viewer& v, AssetId source) override;
  Result<Clip> GetClip(const Viewer& v, std::int64_t id) override;
  Result<BranchGraph> LoadBranchGraph(const Viewer& v, AssetId root,
                                      std::int64_t max_nodes) override;
  Result<StateVariable> PutStateVariable(const Viewer& v, const StateVariable& var) override;
  Result<std::vector<StateVariable>> ListStateVariables(const Viewer& v, UserId owner) override;
  Status DeleteStateVariable(const Viewer& v, UserId owner, const std::string& name) override;

  Result<ProviderAccount> CreateProviderAccount(const ProviderAccount& a) override;
  Result<ProviderAccount> GetProviderAccount(const Viewer& v, std::int64_t id) override;
  Result<std::vector<ProviderAccount>> ListProviderAccounts(const Viewer& v) override;
  Status DeleteProviderAccount(const Viewer& v, std::int64_t id) override;
  Result<ProviderUpload> PutProviderUpload(const ProviderUpload& u) override;
  Result<ProviderUpload> GetProviderUpload(AssetId asset, std::string_view provider,
                                           std::int64_t account) override;
  Result<std::vector<ProviderUpload>> ListProviderUploads(const Viewer& v, AssetId asset) override;
  Result<UploadClaim> ClaimProviderUpload(const UploadClaimRequest& request) override;
  Result<ProviderUpload> FinishProviderUpload(
      const ProviderUpload& u, std::string_view owner,
      const std::vector<ProviderAttempt>& attempts) override;
  Result<bool> ReportOriginMissing(AssetId asset, std::string_view ref,
                                   Timestamp confirm_after) override;
  Status ReportOriginFound(AssetId asset, std::string_view ref) override;
  Result<std::int64_t> RecheckLostOrigins(std::optional<std::string_view> provider) override;
  using Store::ExpireProviderUpload;
  Status ExpireProviderUpload(AssetId asset, std::string_view provider, std::int64_t account,
                              std::optional<std::string_view> only_ref) override;
  Status RecordProviderAttempts(const std::vector<ProviderAttempt>& attempts) override;
  Result<std::vector<ProviderAttempt>> ListProviderAttempts(AssetId asset,
                                                            std::string_view provider,
                                                            std::int64_t account,
                                                            std::int64_t limit) override;
  Status DeleteProviderUpload(AssetId asset, std::string_view provider,
                              std::int64_t account) override;

  Result<AssetPin> PinAsset(const Viewer& v, AssetId id) override;
  Status UnpinAsset(const Viewer& v, AssetId id) override;
  Result<AssetPin> GetAssetPin(const Viewer& v, AssetId id) override;
  Result<CacheInventory> ScanCache(const CachePolicy& policy) override;
  Result<std::vector<std::string>> EvictBlobs(
      const std::vector<std::string>& sha256s, const CachePolicy& policy,
      const std::function<Status(const std::vector<std::string>&)>& unlink) override;
  Result<std::vector<CacheCopy>> ListCacheCopies(const std::vector<std::string>& sha256s,
                                                 const CachePolicy& policy) override;
  Status MarkBlobLocal(std::string_view sha256) override;

  Status PutAnalysis(const AnalysisRecord& record) override;
  Result<std::vector<AnalysisRecord>> ListAnalysis(const Viewer& v, AssetId id) override;
  Status PutPerceptualHash(const PerceptualHash& hash) override;
  Result<PerceptualHash> GetPerceptualHash(const Viewer& v, AssetId id) override;
  Result<std::vector<PerceptualHash>> FindHashCandidates(const Viewer& v,
                                                         const std::vector<std::int64_t>& band_keys,
                                                         AssetId exclude,
                                                         std::int64_t limit) override;

  Result<Enqueued> EnqueueJob(const Job& job) override;
  Result<std::optional<Job>> ClaimJob(const JobClaim& claim) override;
  Status HeartbeatJob(JobId id, std::string_view owner, Timestamp lease_micros) override;
  Status SaveJobProgress(JobId id, std::string_view owner, std::string_view result_json) override;
  Status CompleteJob(JobId id, std::string_view owner, std::string_view result_json) override;
  Status FailJob(JobId id, std::string_view owner, std::string_view error, bool retryable,
                 Timestamp retry_delay) override;
  Status CancelJob(const Viewer& v, JobId id) override;
  Result<Job> GetJob(JobId id) override;
  Result<std::vector<Job>> ListJobs(const JobFilter& filter, std::int64_t limit) override;
  Result<std::vector<std::pair<JobStatus, std::int64_t>>> CountJobsByStatus() override;

 private:
  std::unique_ptr<sql::Database> db_;
  const Clock& clock_;
};

}  // namespace pixvault::storage
