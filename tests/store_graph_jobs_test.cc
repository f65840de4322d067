// Store contract, part 2: lineage, branches, variants, clips, provider rows, jobs and
// migrations. Runs against SQLite and PostgreSQL.
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "core/sha256.h"
#include "storage/migrations/migrator.h"
#include "storage/sql/database.h"
#include "testing/store_fixture.h"

namespace pixvault::testing {
namespace {

using storage::BlobRef;
using storage::JobClaim;

class StoreGraph : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, false, 0}));
  }
  AssetId Make(const User& owner, const std::string& seed, double duration = 10) {
    Asset a;
    a.user_id = owner.id;
    a.media_type = MediaType::kVideo;
    a.duration_sec = duration;
    a.sha256 = Sha256Hex(seed);
    clock_.Advance(1000);
    auto created = store_->CreateAsset(a, BlobRef{*a.sha256, 1, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset.id : 0;
  }
  // Alice's video made on the provider of `account` (its origin ref there: `ref`).
  Asset MakeGenerated(const ProviderAccount& account, const std::string& ref) {
    Asset a;
    a.user_id = alice_.id;
    a.media_type = MediaType::kVideo;
    a.upload_method = UploadMethod::kProvider;
    a.provider_id = account.provider_id;
    a.provider_asset_id = ref;
    a.provider_account_id = account.id;
    a.sha256 = Sha256Hex("generated");
    auto made = store_->CreateAsset(a, BlobRef{*a.sha256, 1, "local", {}});
    EXPECT_TRUE(made.has_value()) << made.error().message;
    return made ? made->asset : Asset{};
  }
  LineageEdge Edge(AssetId child, AssetId parent, std::int64_t order = 0) {
    LineageEdge e;
    e.child_asset_id = child;
    e.parent_asset_id = parent;
    e.parent_role = "source";
    e.operation_type = OperationType::kVideoExtend;
    e.sequence_order = order;
    return e;
  }
  Viewer A() { return Viewer::For(alice_); }
  Viewer B() { return Viewer::For(bob_); }
  User alice_, bob_;
};

TEST_P(StoreGraph, LineageParentsChildrenAndBoundedWalks) {
  // chain: a0 <- a1 <- a2 <- a3 <- a4, plus a storyboard a4 <- {k1, k2} as keyframes.
  std::vector<AssetId> chain;
  for (int i = 0; i < 5; ++i) chain.push_back(Make(alice_, "c" + std::to_string(i)));
  for (int i = 1; i < 5; ++i) PV_ASSERT_OK(store_->AddLineage(A(), {Edge(chain[i], chain[i - 1])}));
  AssetId k1 = Make(alice_, "k1"), k2 = Make(alice_, "k2");
  LineageEdge e1 = Edge(chain[4], k1, 0), e2 = Edge(chain[4], k2, 1);
  e1.parent_role = e2.parent_role = "keyframe";
  e1.parent_frame = 48;
  e2.parent_frame = 132;
  e1.transformation = R"({"action":"zoom_in"})";
  PV_ASSERT_OK_AND_ASSIGN(auto added, store_->AddLineage(A(), {e1, e2}));
  EXPECT_EQ(added.size(), 2u);

  PV_ASSERT_OK_AND_ASSIGN(auto parents, store_->ListParents(A(), chain[4]));
  ASSERT_EQ(parents.size(), 3u);
  PV_ASSERT_OK_AND_ASSIGN(auto children, store_->ListChildren(A(), chain[0]));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].child_asset_id, chain[1]);

  PV_ASSERT_OK_AND_ASSIGN(auto anc2,
                          store_->WalkLineage(A(), chain[4], LineageDirection::kAncestors, 2));
  std::set<AssetId> parents2;
  for (const auto& e : anc2) parents2.insert(e.parent_asset_id);
  EXPECT_EQ(parents2, (std::set<AssetId>{chain[3], chain[2], k1, k2}));
  PV_ASSERT_OK_AND_ASSIGN(auto all,
                          store_->WalkLineage(A(), chain[4], LineageDirection::kAncestors, 100));
  EXPECT_EQ(all.size(), 6u);
  EXPECT_EQ(all.back().depth, 4);
  PV_ASSERT_OK_AND_ASSIGN(auto desc,
                          store_->WalkLineage(A(), chain[0], LineageDirection::kDescendants, 10));
  EXPECT_EQ(desc.size(), 4u);
  // Keyframe metadata survives the round trip.
  bool found = false;
  for (const auto& e : all) {
    if (e.parent_asset_id == k1) {
      found = true;
      EXPECT_EQ(e.parent_frame, 48);
      EXPECT_EQ(e.parent_role, "keyframe");
      EXPECT_EQ(e.operation_type, OperationType::kVideoExtend);
    }
  }
  EXPECT_TRUE(found);
  PV_EXPECT_ERROR(store_->WalkLineage(B(), chain[4], LineageDirection::kAncestors, 3),
                  ErrorCode::kNotFound);
}

TEST_P(StoreGraph, LineageRejectsCyclesSelfEdgesAndForeignAssets) {
  std::vector<AssetId> n;
  for (int i = 0; i < 30; ++i) n.push_back(Make(alice_, "n" + std::to_string(i)));
  for (int i = 1; i < 30; ++i) PV_ASSERT_OK(store_->AddLineage(A(), {Edge(n[i], n[i - 1])}));
  // Direct cycle.
  PV_EXPECT_ERROR(store_->AddLineage(A(), {Edge(n[0], n[1])}), ErrorCode::kInvalidArgument);
  // Through a long path.
  PV_EXPECT_ERROR(store_->AddLineage(A(), {Edge(n[0], n[29])}), ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->AddLineage(A(), {Edge(n[3], n[3])}), ErrorCode::kInvalidArgument);
  // A batch whose second edge closes a cycle with its first inserts nothing.
  AssetId x = Make(alice_, "x"), y = Make(alice_, "y");
  PV_EXPECT_ERROR(store_->AddLineage(A(), {Edge(x, y), Edge(y, x)}), ErrorCode::kInvalidArgument);
  PV_ASSERT_OK_AND_ASSIGN(auto px, store_->ListParents(A(), x));
  EXPECT_TRUE(px.empty());
  AssetId theirs = Make(bob_, "theirs");
  PV_EXPECT_ERROR(store_->AddLineage(A(), {Edge(x, theirs)}), ErrorCode::kNotFound);
  PV_ASSERT_OK(store_->AddLineage(A(), {Edge(x, y)}));
  PV_EXPECT_ERROR(store_->AddLineage(A(), {Edge(x, y)}), ErrorCode::kAlreadyExists);
  LineageEdge bad = Edge(y, n[5]);
  bad.parent_start_time = 5;
  bad.parent_end_time = 2;
  PV_EXPECT_ERROR(store_->AddLineage(A(), {bad}), ErrorCode::kInvalidArgument);
}

TEST_P(StoreGraph, ConcurrentOppositeEdgesNeverFormACycle) {
  AssetId x = Make(alice_, "x"), y = Make(alice_, "y");
  auto other = OpenAnother(clock_);
  ASSERT_TRUE(other);
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> ok{0};
    std::thread t1([&] { ok += store_->AddLineage(A(), {Edge(x, y)}).has_value(); });
    std::thread t2([&] { ok += other->AddLineage(A(), {Edge(y, x)}).has_value(); });
    t1.join();
    t2.join();
    EXPECT_EQ(ok.load(), 1);
    PV_ASSERT_OK_AND_ASSIGN(auto edges,
                            store_->WalkLineage(A(), x, LineageDirection::kAncestors, 5));
    PV_ASSERT_OK_AND_ASSIGN(auto edges2,
                            store_->WalkLineage(A(), x, LineageDirection::kDescendants, 5));
    for (const auto& e : edges) PV_ASSERT_OK(store_->DeleteLineageEdge(A(), e.id));
    for (const auto& e : edges2) PV_ASSERT_OK(store_->DeleteLineageEdge(A(), e.id));
  }
}

TEST_P(StoreGraph, BranchesVariantsClipsCrudAndValidation) {
  AssetId src = Make(alice_, "src", 20);
  AssetId forest = Make(alice_, "forest"), cave = Make(alice_, "cave");
  AssetId bobs = Make(bob_, "bobs");
  Branch b;
  b.source_asset_id = src;
  b.branch_time = 10.5;
  b.branch_frame = 315;
  b.branch_name = "Fork in the Road";
  b.branch_tag = "path_choice_01";
  PV_ASSERT_OK_AND_ASSIGN(Branch br, store_->CreateBranch(A(), b));
  EXPECT_EQ(br.user_id, alice_.id);
  b.branch_time = 25;
  PV_EXPECT_ERROR(store_->CreateBranch(A(), b), ErrorCode::kInvalidArgument);
  b.branch_time = -1;
  PV_EXPECT_ERROR(store_->CreateBranch(A(), b), ErrorCode::kInvalidArgument);
  b.branch_time = 1;
  PV_EXPECT_ERROR(store_->CreateBranch(B(), b), ErrorCode::kNotFound);

  BranchVariant v;
  v.branch_id = br.id;
  v.variant_asset_id = forest;
  v.variant_name = "Forest Path";
  v.variant_tag = "path_forest";
  v.weight = 2;
  v.conditions = R"({"eq":["has_key",true]})";
  PV_ASSERT_OK_AND_ASSIGN(auto v1, store_->CreateVariant(A(), v));
  v.variant_asset_id = cave;
  v.variant_name = "Cave";
  PV_ASSERT_OK(store_->CreateVariant(A(), v));
  v.weight = -1;
  PV_EXPECT_ERROR(store_->CreateVariant(A(), v), ErrorCode::kInvalidArgument);
  v.weight = std::nan("");
  PV_EXPECT_ERROR(store_->CreateVariant(A(), v), ErrorCode::kInvalidArgument);
  v.weight = 1;
  v.variant_asset_id = bobs;  // not owned by the branch's owner
  PV_EXPECT_ERROR(store_->CreateVariant(A(), v), ErrorCode::kNotFound);
  PV_ASSERT_OK_AND_ASSIGN(auto variants, store_->ListVariants(A(), br.id));
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_EQ(variants[0].variant_tag, "path_forest");
  v1.weight = 0;
  PV_ASSERT_OK_AND_ASSIGN(auto v1b, store_->UpdateVariant(A(), v1));
  EXPECT_DOUBLE_EQ(v1b.weight, 0);
  PV_EXPECT_ERROR(store_->ListVariants(B(), br.id), ErrorCode::kNotFound);

  PV_ASSERT_OK_AND_ASSIGN(auto branches, store_->ListBranches(A(), src));
  ASSERT_EQ(branches.size(), 1u);
  br.branch_name = "Renamed";
  PV_ASSERT_OK_AND_ASSIGN(auto renamed, store_->UpdateBranch(A(), br));
  EXPECT_EQ(renamed.branch_name, "Renamed");

  Clip c;
  c.source_asset_id = src;
  c.start_time = 10;
  c.end_time = 15;
  c.clip_tag = "boss_intro";
  PV_ASSERT_OK(store_->CreateClip(A(), c));
  PV_EXPECT_ERROR(store_->CreateClip(A(), c), ErrorCode::kAlreadyExists);
  c.clip_tag = "late";
  c.end_time = 30;
  PV_EXPECT_ERROR(store_->CreateClip(A(), c), ErrorCode::kInvalidArgument);
  c.start_time = 5;
  c.end_time = 5;
  PV_EXPECT_ERROR(store_->CreateClip(A(), c), ErrorCode::kInvalidArgument);
  PV_ASSERT_OK_AND_ASSIGN(auto clips, store_->ListClips(A(), src));
  ASSERT_EQ(clips.size(), 1u);

  PV_ASSERT_OK(store_->DeleteBranch(A(), br.id));
  PV_EXPECT_ERROR(store_->GetBranch(A(), br.id), ErrorCode::kNotFound);
  // Deleting the source removes its clips.
  PV_ASSERT_OK(store_->DeleteAsset(A(), src));
  PV_EXPECT_ERROR(store_->DeleteClip(A(), clips[0].id), ErrorCode::kNotFound);
}

TEST_P(StoreGraph, ProviderAccountsAndUploads) {
  ProviderAccount acc;
  acc.user_id = alice_.id;
  acc.provider_id = "sora";
  acc.label = "main";
  acc.credentials_encrypted = std::string("\x00\x01secret", 8);
  PV_ASSERT_OK_AND_ASSIGN(auto a, store_->CreateProviderAccount(acc));
  EXPECT_EQ(a.credentials_encrypted, acc.credentials_encrypted);
  PV_EXPECT_ERROR(store_->CreateProviderAccount(acc), ErrorCode::kAlreadyExists);
  PV_EXPECT_ERROR(store_->GetProviderAccount(B(), a.id), ErrorCode::kNotFound);
  AssetId asset = Make(alice_, "up");
  ProviderUpload u;
  u.asset_id = asset;
  u.provider_id = "sora";
  u.account_id = a.id;
  u.status = UploadStatus::kUploaded;
  u.provider_ref = "media_01";
  u.attempts = 1;
  PV_ASSERT_OK(store_->PutProviderUpload(u));
  u.provider_ref = "media_02";
  u.attempts = 2;
  PV_ASSERT_OK(store_->PutProviderUpload(u));
  PV_ASSERT_OK_AND_ASSIGN(auto got, store_->GetProviderUpload(asset, "sora", a.id));
  EXPECT_EQ(got.provider_ref, "media_02");
  PV_ASSERT_OK_AND_ASSIGN(auto all, store_->ListProviderUploads(A(), asset));
  EXPECT_EQ(all.size(), 1u);
  // Another user's view of the asset does not include alice's account's refs.
  PV_ASSERT_OK_AND_ASSIGN(auto bobs, store_->ListProviderUploads(B(), asset));
  EXPECT_TRUE(bobs.empty());
  PV_ASSERT_OK(store_->DeleteProviderAccount(A(), a.id));
  PV_EXPECT_ERROR(store_->GetProviderUpload(asset, "sora", a.id), ErrorCode::kNotFound);
}

TEST_P(StoreGraph, UploadLeasesGiveTheWorkToOneOwnerAtATime) {
  ProviderAccount acc;
  acc.user_id = alice_.id;
  acc.provider_id = "fake";
  acc.label = "main";
  PV_ASSERT_OK_AND_ASSIGN(auto account, store_->CreateProviderAccount(acc));
  const AssetId asset = Make(alice_, "lease");
  const Timestamp now = clock_.Now();
  storage::Store::UploadClaimRequest req;
  req.asset_id = asset;
  req.provider_id = "fake";
  req.account_id = account.id;
  req.owner = "p1";
  req.lease_until = now + 60 * kMicrosPerSecond;
  req.fresh_until = now;
  // The first claim creates the row, leased.
  PV_ASSERT_OK_AND_ASSIGN(auto first, store_->ClaimProviderUpload(req));
  EXPECT_TRUE(first.leased);
  EXPECT_EQ(first.upload.status, UploadStatus::kPending);
  EXPECT_EQ(first.upload.lease_owner, "p1");
  // A second owner is refused while the lease runs; the same owner may claim again.
  storage::Store::UploadClaimRequest other = req;
  other.owner = "p2";
  PV_ASSERT_OK_AND_ASSIGN(auto refused, store_->ClaimProviderUpload(other));
  EXPECT_FALSE(refused.leased);
  EXPECT_EQ(refused.upload.lease_owner, "p1");
  PV_ASSERT_OK_AND_ASSIGN(auto again, store_->ClaimProviderUpload(req));
  EXPECT_TRUE(again.leased);
  // Only the holder can finish; finishing releases the lease and records the attempts.
  ProviderUpload done = first.upload;
  done.status = UploadStatus::kUploaded;
  done.provider_ref = "file_1";
  done.provider_url = "http://x/file_1";
  done.uploaded_at = now;
  done.attempts = 2;
  ProviderAttempt attempt;
  attempt.asset_id = asset;
  attempt.provider_id = "fake";
  attempt.account_id = account.id;
  attempt.operation = "upload";
  attempt.worker = "p1";
  attempt.error_code = "unavailable";
  attempt.error = "503";
  std::vector<ProviderAttempt> attempts{attempt, attempt};
  attempts[1].succeeded = true;
  attempts[1].error_code.reset();
  attempts[1].error.reset();
  attempts[1].bytes = 10;
  PV_EXPECT_ERROR(store_->FinishProviderUpload(done, "p2", attempts), ErrorCode::kUnavailable);
  PV_ASSERT_OK_AND_ASSIGN(auto finished, store_->FinishProviderUpload(done, "p1", attempts));
  EXPECT_EQ(finished.status, UploadStatus::kUploaded);
  EXPECT_EQ(finished.provider_ref, "file_1");
  EXPECT_FALSE(finished.lease_owner.has_value());
  PV_ASSERT_OK_AND_ASSIGN(auto listed, store_->ListProviderAttempts(asset, "fake", account.id, 10));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].succeeded);  // newest first
  EXPECT_EQ(listed[0].bytes, 10);
  EXPECT_FALSE(listed[1].succeeded);
  EXPECT_EQ(listed[1].error_code, "unavailable");
  // A fresh upload is not claimed again; an expired one is.
  PV_ASSERT_OK_AND_ASSIGN(auto fresh, store_->ClaimProviderUpload(other));
  EXPECT_FALSE(fresh.leased);
  EXPECT_EQ(fresh.upload.provider_ref, "file_1");
  // Expiring a ref the row no longer holds changes nothing.
  PV_ASSERT_OK(store_->ExpireProviderUpload(asset, "fake", account.id, "file_0"));
  PV_ASSERT_OK_AND_ASSIGN(auto still, store_->GetProviderUpload(asset, "fake", account.id));
  EXPECT_EQ(still.status, UploadStatus::kUploaded);
  PV_ASSERT_OK(store_->ExpireProviderUpload(asset, "fake", account.id, "file_1"));
  PV_ASSERT_OK_AND_ASSIGN(auto gone, store_->GetProviderUpload(asset, "fake", account.id));
  EXPECT_EQ(gone.status, UploadStatus::kExpired);
  PV_ASSERT_OK(store_->ExpireProviderUpload(asset, "fake", account.id));
  PV_ASSERT_OK_AND_ASSIGN(auto expired, store_->ClaimProviderUpload(other));
  EXPECT_TRUE(expired.leased);
  EXPECT_EQ(expired.upload.status, UploadStatus::kExpired);
  // An expired lease can be taken over by another owner.
  ProviderUpload failed = expired.upload;
  failed.status = UploadStatus::kFailed;
  failed.last_error = "moderated";
  failed.last_error_code = "permission_denied";
  PV_ASSERT_OK(store_->FinishProviderUpload(failed, "p2", {}));
  storage::Store::UploadClaimRequest no_retry = req;
  no_retry.retry_failed = false;
  PV_ASSERT_OK_AND_ASSIGN(auto kept, store_->ClaimProviderUpload(no_retry));
  EXPECT_FALSE(kept.leased);
  EXPECT_EQ(kept.upload.last_error_code, "permission_denied");
  storage::Store::UploadClaimRequest stale = req;
  stale.lease_until = now - 1;  // a lease that is already over
  PV_ASSERT_OK_AND_ASSIGN(auto taken, store_->ClaimProviderUpload(stale));
  EXPECT_TRUE(taken.leased);
  PV_ASSERT_OK_AND_ASSIGN(auto takeover, store_->ClaimProviderUpload(other));
  EXPECT_TRUE(takeover.leased);
  EXPECT_EQ(takeover.upload.lease_owner, "p2");
  PV_EXPECT_ERROR(store_->ExpireProviderUpload(asset, "nope", account.id), ErrorCode::kNotFound);
}

TEST_P(StoreGraph, CacheCopiesAreOriginsThenUploadsUnderTheOwnersEnabledAccounts) {
  ProviderAccount acc;
  acc.user_id = alice_.id;
  acc.provider_id = "gen";
  acc.label = "main";
  acc.credentials_encrypted = "sealed";
  acc.settings = R"({"region":"eu"})";
  PV_ASSERT_OK_AND_ASSIGN(const ProviderAccount gen, store_->CreateProviderAccount(acc));
  acc.provider_id = "cdn";
  PV_ASSERT_OK_AND_ASSIGN(const ProviderAccount cdn, store_->CreateProviderAccount(acc));
  acc.label = "off";
  acc.enabled = false;
  PV_ASSERT_OK_AND_ASSIGN(const ProviderAccount off, store_->CreateProviderAccount(acc));
  acc.user_id = bob_.id;
  acc.label = "bobs";
  acc.enabled = true;
  PV_ASSERT_OK_AND_ASSIGN(const ProviderAccount bobs, store_->CreateProviderAccount(acc));

  // A generated asset (its origin ref is a copy) with an upload, and an upload-only asset.
  const Asset generated = MakeGenerated(gen, "gen_17");
  ASSERT_NE(generated.id, 0);
  const AssetId uploaded = Make(alice_, "uploaded");
  const auto upload = [&](AssetId asset, const ProviderAccount& account, std::string ref,
                          std::optional<Timestamp> expires) {
    ProviderUpload u;
    u.asset_id = asset;
    u.provider_id = account.provider_id;
    u.account_id = account.id;
    u.provider_ref = std::move(ref);
    u.provider_url = "https://cdn.example/" + *u.provider_ref;
    u.status = UploadStatus::kUploaded;
    u.uploaded_at = clock_.Now();
    u.expires_at = expires;
    PV_ASSERT_OK(store_->PutProviderUpload(u));
  };
  upload(generated.id, cdn, "cdn_1", std::nullopt);
  upload(uploaded, cdn, "cdn_2", clock_.Now() + kMicrosPerSecond);
  upload(uploaded, off, "off_2", std::nullopt);    // a disabled account: not a copy
  upload(uploaded, bobs, "bobs_2", std::nullopt);  // another user's account: not a copy

  storage::CachePolicy policy;
  policy.now = clock_.Now();
  PV_ASSERT_OK_AND_ASSIGN(
      std::vector<storage::CacheCopy> copies,
      store_->ListCacheCopies({Sha256Hex("uploaded"), *generated.sha256, Sha256Hex("none")},
                              policy));
  ASSERT_EQ(copies.size(), 3u);
  std::map<std::string, std::vector<storage::CacheCopy>> of;
  for (const auto& c : copies) of[c.sha256].push_back(c);
  ASSERT_EQ(of[*generated.sha256].size(), 2u);
  const storage::CacheCopy& origin = of[*generated.sha256][0];  // the origin first
  EXPECT_FALSE(origin.upload_id.has_value());
  EXPECT_EQ(origin.asset_id, generated.id);
  EXPECT_EQ(origin.provider_id, "gen");
  EXPECT_EQ(origin.ref, "gen_17");
  EXPECT_EQ(origin.url, "");
  EXPECT_FALSE(origin.expires_at.has_value());
  EXPECT_EQ(origin.account.id, gen.id);
  EXPECT_EQ(origin.account.credentials_encrypted, "sealed");
  EXPECT_NE(origin.account.settings.find(R"("eu")"), std::string::npos);  // JSON as stored
  const storage::CacheCopy& at_cdn = of[*generated.sha256][1];
  EXPECT_TRUE(at_cdn.upload_id.has_value());
  EXPECT_EQ(at_cdn.ref, "cdn_1");
  EXPECT_EQ(at_cdn.url, "https://cdn.example/cdn_1");
  EXPECT_EQ(at_cdn.account.id, cdn.id);
  ASSERT_EQ(of[Sha256Hex("uploaded")].size(), 1u);
  EXPECT_EQ(of[Sha256Hex("uploaded")][0].ref, "cdn_2");
  EXPECT_TRUE(of[Sha256Hex("uploaded")][0].expires_at.has_value());
  // The policy decides too: an expired row and providers it does not accept are no copies.
  policy.now = clock_.Now() + 2 * kMicrosPerSecond;
  policy.providers = std::vector<std::string>{"cdn"};
  PV_ASSERT_OK_AND_ASSIGN(
      copies, store_->ListCacheCopies({Sha256Hex("uploaded"), *generated.sha256}, policy));
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].ref, "cdn_1");
  PV_EXPECT_ERROR(store_->ListCacheCopies(std::vector<std::string>(501, "x"), policy),
                  ErrorCode::kInvalidArgument);
}

TEST_P(StoreGraph, AnOriginItsProviderLostIsNoCopyAndAPinShowsOnTheAsset) {
  ProviderAccount acc;
  acc.user_id = alice_.id;
  acc.provider_id = "gen";
  acc.label = "main";
  acc.credentials_encrypted = "sealed";
  PV_ASSERT_OK_AND_ASSIGN(const ProviderAccount gen, store_->CreateProviderAccount(acc));
  const Asset generated = MakeGenerated(gen, "gen_17");
  ASSERT_NE(generated.id, 0);
  const AssetId id = generated.id;
  EXPECT_FALSE(generated.origin_lost_at.has_value());
  EXPECT_FALSE(generated.pinned);

  storage::CachePolicy policy;
  policy.now = clock_.Now();
  PV_ASSERT_OK_AND_ASSIGN(storage::CacheInventory before, store_->ScanCache(policy));
  ASSERT_EQ(before.evictable.size(), 1u);  // the origin holds the bytes
  EXPECT_EQ(before.only_copy_blobs, 0);

  constexpr Timestamp kConfirm = 1000 * kMicrosPerSecond;
  // Another ref than the asset's origin changes nothing.
  PV_ASSERT_OK_AND_ASSIGN(bool other, store_->ReportOriginMissing(id, "gen_18", kConfirm));
  EXPECT_FALSE(other);
  PV_ASSERT_OK_AND_ASSIGN(Asset still, store_->GetAsset(Viewer::For(alice_), id));
  EXPECT_FALSE(still.origin_missing_since.has_value());

  // One answer is not believed; a second one too soon after it neither; the origin found
  // again forgets them.
  const Timestamp first = clock_.Now();
  PV_ASSERT_OK_AND_ASSIGN(bool once, store_->ReportOriginMissing(id, "gen_17", kConfirm));
  EXPECT_FALSE(once);
  clock_.Advance(kConfirm / 2);
  PV_ASSERT_OK_AND_ASSIGN(bool soon, store_->ReportOriginMissing(id, "gen_17", kConfirm));
  EXPECT_FALSE(soon);
  PV_ASSERT_OK_AND_ASSIGN(Asset suspect, store_->GetAsset(Viewer::For(alice_), id));
  EXPECT_EQ(suspect.origin_missing_since, first);
  EXPECT_FALSE(suspect.origin_lost_at.has_value());
  PV_ASSERT_OK_AND_ASSIGN(std::vector<storage::CacheCopy> suspected,
                          store_->ListCacheCopies({*generated.sha256}, policy));
  ASSERT_EQ(suspected.size(), 1u);  // still a copy, asked about again
  EXPECT_EQ(suspected[0].missing_since, first);
  PV_ASSERT_OK(store_->ReportOriginFound(id, "gen_17"));
  clock_.Advance(kConfirm);
  PV_ASSERT_OK_AND_ASSIGN(bool after_found, store_->ReportOriginMissing(id, "gen_17", kConfirm));
  EXPECT_FALSE(after_found);  // a new first answer

  // Said again once confirm_after has passed: lost.
  clock_.Advance(kConfirm);
  const Timestamp lost_at = clock_.Now();
  PV_ASSERT_OK_AND_ASSIGN(bool lost_now, store_->ReportOriginMissing(id, "gen_17", kConfirm));
  EXPECT_TRUE(lost_now);
  clock_.Advance(5000);
  PV_ASSERT_OK_AND_ASSIGN(bool again, store_->ReportOriginMissing(id, "gen_17", kConfirm));
  EXPECT_TRUE(again);
  PV_ASSERT_OK(store_->ReportOriginFound(id, "gen_17"));  // too late: only a recheck clears it
  PV_ASSERT_OK_AND_ASSIGN(Asset lost, store_->GetAsset(Viewer::For(alice_), id));
  EXPECT_EQ(lost.origin_lost_at, lost_at);      // the first time stays
  EXPECT_EQ(lost.provider_asset_id, "gen_17");  // still the asset's origin, for the record
  PV_ASSERT_OK_AND_ASSIGN(std::vector<storage::CacheCopy> copies,
                          store_->ListCacheCopies({*generated.sha256}, policy));
  EXPECT_TRUE(copies.empty());
  PV_ASSERT_OK_AND_ASSIGN(storage::CacheInventory after, store_->ScanCache(policy));
  EXPECT_TRUE(after.evictable.empty());
  EXPECT_EQ(after.only_copy_blobs, 1);
  PV_EXPECT_ERROR(store_->ReportOriginMissing(id + 1000, "gen_17", kConfirm), ErrorCode::kNotFound);

  // A recheck counts it again (of its provider; another provider's recheck leaves it).
  PV_ASSERT_OK_AND_ASSIGN(std::int64_t elsewhere, store_->RecheckLostOrigins("cdn"));
  EXPECT_EQ(elsewhere, 0);
  PV_ASSERT_OK_AND_ASSIGN(std::int64_t rechecked, store_->RecheckLostOrigins("gen"));
  EXPECT_EQ(rechecked, 1);
  PV_ASSERT_OK_AND_ASSIGN(Asset counted, store_->GetAsset(Viewer::For(alice_), id));
  EXPECT_FALSE(counted.origin_lost_at.has_value());
  EXPECT_FALSE(counted.origin_missing_since.has_value());
  PV_ASSERT_OK_AND_ASSIGN(storage::CacheInventory again_evictable, store_->ScanCache(policy));
  EXPECT_EQ(again_evictable.evictable.size(), 1u);

  // The pin is part of the asset as read, in lists too.
  PV_ASSERT_OK(store_->PinAsset(Viewer::For(alice_), id));
  PV_ASSERT_OK_AND_ASSIGN(Asset pinned, store_->GetAsset(Viewer::For(alice_), id));
  EXPECT_TRUE(pinned.pinned);
  PV_ASSERT_OK_AND_ASSIGN(
      storage::Page<Asset> page,
      store_->ListAssets(Viewer::For(alice_), {}, storage::PageRequest{10, {}}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_TRUE(page.items[0].pinned);
  PV_ASSERT_OK(store_->UnpinAsset(Viewer::For(alice_), id));
  PV_ASSERT_OK_AND_ASSIGN(Asset unpinned, store_->GetAsset(Viewer::For(alice_), id));
  EXPECT_FALSE(unpinned.pinned);
}

// --- Jobs ------------------------------------------------------------------------------

TEST_P(StoreGraph, EnqueueIsIdempotentByKey) {
  Job j;
  j.kind = "analyze";
  j.idempotency_key = "analyze:1";
  j.payload = R"({"asset_id":1})";
  PV_ASSERT_OK_AND_ASSIGN(auto first, store_->EnqueueJob(j));
  PV_ASSERT_OK_AND_ASSIGN(auto second, store_->EnqueueJob(j));
  EXPECT_FALSE(first.existed);
  EXPECT_TRUE(second.existed);
  EXPECT_EQ(first.job.id, second.job.id);
  j.payload = "{oops";
  j.idempotency_key = "other";
  PV_EXPECT_ERROR(store_->EnqueueJob(j), ErrorCode::kInvalidArgument);
}

TEST_P(StoreGraph, ClaimHeartbeatCompleteAndLostLease) {
  Job j;
  j.kind = "k";
  PV_ASSERT_OK_AND_ASSIGN(auto q, store_->EnqueueJob(j));
  PV_ASSERT_OK_AND_ASSIGN(auto claimed,
                          store_->ClaimJob(JobClaim{"w1", 10 * kMicrosPerSecond, {}}));
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, q.job.id);
  EXPECT_EQ(claimed->attempts, 1);
  PV_ASSERT_OK_AND_ASSIGN(auto none, store_->ClaimJob(JobClaim{"w2", 10 * kMicrosPerSecond, {}}));
  EXPECT_FALSE(none);
  PV_ASSERT_OK(store_->HeartbeatJob(q.job.id, "w1", 10 * kMicrosPerSecond));
  PV_EXPECT_ERROR(store_->HeartbeatJob(q.job.id, "w2", 10), ErrorCode::kPermissionDenied);
  // w1 dies; after the lease expires w2 reclaims the job and w1 can no longer finish it.
  clock_.Advance(11 * kMicrosPerSecond);
  PV_ASSERT_OK_AND_ASSIGN(auto re, store_->ClaimJob(JobClaim{"w2", 10 * kMicrosPerSecond, {}}));
  ASSERT_TRUE(re);
  EXPECT_EQ(re->id, q.job.id);
  EXPECT_EQ(re->attempts, 2);
  PV_EXPECT_ERROR(store_->CompleteJob(q.job.id, "w1", "{}"), ErrorCode::kPermissionDenied);
  PV_ASSERT_OK(store_->CompleteJob(q.job.id, "w2", R"({"ok":true})"));
  PV_ASSERT_OK_AND_ASSIGN(auto done, store_->GetJob(q.job.id));
  EXPECT_EQ(done.status, JobStatus::kSucceeded);
}

TEST_P(StoreGraph, FailuresRetryWithDelayThenDie) {
  Job j;
  j.kind = "k";
  j.max_attempts = 2;
  PV_ASSERT_OK_AND_ASSIGN(auto q, store_->EnqueueJob(j));
  PV_ASSERT_OK_AND_ASSIGN(auto c1, store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {}}));
  ASSERT_TRUE(c1);
  PV_ASSERT_OK(store_->FailJob(q.job.id, "w", "boom", true, 5 * kMicrosPerSecond));
  PV_ASSERT_OK_AND_ASSIGN(auto early, store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {}}));
  EXPECT_FALSE(early);  // backoff not over
  clock_.Advance(6 * kMicrosPerSecond);
  PV_ASSERT_OK_AND_ASSIGN(auto c2, store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {}}));
  ASSERT_TRUE(c2);
  PV_ASSERT_OK(store_->FailJob(q.job.id, "w", "boom again", true, 0));
  PV_ASSERT_OK_AND_ASSIGN(auto dead, store_->GetJob(q.job.id));
  EXPECT_EQ(dead.status, JobStatus::kDead);
  EXPECT_EQ(dead.last_error, "boom again");
  // A non-retryable failure ends `failed` at once.
  PV_ASSERT_OK_AND_ASSIGN(auto q2, store_->EnqueueJob(j));
  PV_ASSERT_OK(store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {}}));
  PV_ASSERT_OK(store_->FailJob(q2.job.id, "w", "bad input", false, 0));
  PV_ASSERT_OK_AND_ASSIGN(auto failed, store_->GetJob(q2.job.id));
  EXPECT_EQ(failed.status, JobStatus::kFailed);
}

TEST_P(StoreGraph, ExpiredLeaseWithNoAttemptsLeftGoesDead) {
  Job j;
  j.kind = "k";
  j.max_attempts = 1;
  PV_ASSERT_OK_AND_ASSIGN(auto q, store_->EnqueueJob(j));
  PV_ASSERT_OK(store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {}}));
  clock_.Advance(2 * kMicrosPerSecond);
  PV_ASSERT_OK_AND_ASSIGN(auto none, store_->ClaimJob(JobClaim{"w2", kMicrosPerSecond, {}}));
  EXPECT_FALSE(none);
  PV_ASSERT_OK_AND_ASSIGN(auto dead, store_->GetJob(q.job.id));
  EXPECT_EQ(dead.status, JobStatus::kDead);
}

TEST_P(StoreGraph, ClaimFiltersByKindAndPriority) {
  Job low, high, other;
  low.kind = high.kind = "a";
  other.kind = "b";
  high.priority = 10;
  PV_ASSERT_OK(store_->EnqueueJob(low));
  PV_ASSERT_OK_AND_ASSIGN(auto h, store_->EnqueueJob(high));
  PV_ASSERT_OK_AND_ASSIGN(auto o, store_->EnqueueJob(other));
  PV_ASSERT_OK_AND_ASSIGN(auto first, store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {"a"}}));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, h.job.id);
  PV_ASSERT_OK_AND_ASSIGN(auto b, store_->ClaimJob(JobClaim{"w", kMicrosPerSecond, {"b"}}));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->id, o.job.id);
}

TEST_P(StoreGraph, ConcurrentClaimersNeverShareAJob) {
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) {
    Job j;
    j.kind = "k";
    PV_ASSERT_OK(store_->EnqueueJob(j));
  }
  auto other = OpenAnother(clock_);
  ASSERT_TRUE(other);
  std::mutex mu;
  std::map<JobId, int> claims;
  auto worker = [&](storage::Store* s, std::string name) {
    for (;;) {
      auto c = s->ClaimJob(JobClaim{name, 60 * kMicrosPerSecond, {}});
      ASSERT_TRUE(c.has_value()) << c.error().message;
      if (!*c) return;
      {
        std::lock_guard lock(mu);
        ++claims[(*c)->id];
      }
      ASSERT_TRUE(s->CompleteJob((*c)->id, name, "{}").has_value());
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(worker, i % 2 ? other.get() : store_.get(), "w" + std::to_string(i));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, n] : claims) EXPECT_EQ(n, 1) << "job " << id;
}

TEST_P(StoreGraph, CancelOnlyOwnOpenJobs) {
  Job j;
  j.kind = "k";
  j.user_id = alice_.id;
  PV_ASSERT_OK_AND_ASSIGN(auto q, store_->EnqueueJob(j));
  PV_EXPECT_ERROR(store_->CancelJob(B(), q.job.id), ErrorCode::kNotFound);
  PV_ASSERT_OK(store_->CancelJob(A(), q.job.id));
  PV_EXPECT_ERROR(store_->CancelJob(A(), q.job.id), ErrorCode::kInvalidArgument);
  PV_ASSERT_OK_AND_ASSIGN(auto counts, store_->CountJobsByStatus());
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].first, JobStatus::kCancelled);
}

// --- Migrations ------------------------------------------------------------------------

TEST_P(StoreGraph, MigrationsGoUpDownToZeroAndUpAgain) {
  std::string url = FreshUrl();
  auto db = storage::sql::OpenDatabase(url);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  storage::Migrator m(**db, clock_);
  PV_ASSERT_OK_AND_ASSIGN(auto v0, m.CurrentVersion());
  EXPECT_EQ(v0, 0);
  PV_ASSERT_OK_AND_ASSIGN(auto up, m.Upgrade());
  EXPECT_EQ(static_cast<std::int64_t>(up.size()), m.LatestVersion());
  PV_ASSERT_OK_AND_ASSIGN(auto again, m.Upgrade());
  EXPECT_TRUE(again.empty());
  PV_ASSERT_OK_AND_ASSIGN(auto one, m.Downgrade(m.LatestVersion() - 1));
  EXPECT_EQ(one.size(), 1u);
  PV_ASSERT_OK_AND_ASSIGN(auto down, m.Downgrade(0));
  EXPECT_EQ(static_cast<std::int64_t>(down.size()), m.LatestVersion() - 1);
  PV_ASSERT_OK_AND_ASSIGN(auto v, m.CurrentVersion());
  EXPECT_EQ(v, 0);
  PV_EXPECT_ERROR(m.Downgrade(-1), ErrorCode::kInvalidArgument);
  // No table of the schema remains.
  Status gone = (*db)->Read([](storage::sql::Connection& c) -> Status {
    auto r = c.Query("SELECT count(*) FROM assets");
    if (r) return Fail(ErrorCode::kInternal, "assets table still exists");
    return Ok();
  });
  EXPECT_TRUE(gone.has_value()) << gone.error().message;
  PV_ASSERT_OK_AND_ASSIGN(auto up2, m.Upgrade());
  EXPECT_EQ(static_cast<std::int64_t>(up2.size()), m.LatestVersion());
  PV_ASSERT_OK_AND_ASSIGN(auto states, m.List());
  for (const auto& s : states) EXPECT_TRUE(s.applied) << s.name;
}

TEST_P(StoreGraph, TagListMigrationCopiesEveryAssetsTagsOntoItsRow) {
  // Tags written at version 8 (no tag_list column yet), then migration 0009 backfills.
  std::string url = FreshUrl();
  auto db = storage::sql::OpenDatabase(url);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  storage::Migrator m(**db, clock_);
  PV_ASSERT_OK(m.Upgrade(8));
  PV_ASSERT_OK((*db)->Transaction([](storage::sql::Connection& c) -> Status {
    PV_RETURN_IF_ERROR(
        c.Query("INSERT INTO users (id, name, is_admin, allow_adult, created_at) "
                "VALUES (1, 'u', FALSE, FALSE, 0)"));
    for (int id : {1, 2}) {
      PV_RETURN_IF_ERROR(c.Query(
          "INSERT INTO assets (id, user_id, media_type, provider_id, upload_method, sync_status, "
          "content_domain, content_taxonomy, content_rating, age_restricted, searchable, "
          "media_metadata, created_at, updated_at) VALUES (?, 1, 'image', 'user_upload', 'api', "
          "'remote', 'general', '{}', 'general', FALSE, TRUE, '{}', 0, 0)",
          {std::int64_t{id}}));
    }
    // Out of position order, with separators and multi-byte text inside tags.
    const std::vector<std::tuple<std::string, std::string, std::int64_t>> rows = {
        {"tag", "b,c:3", 1}, {"style", "noir", 0}, {"tag", "été", 0}, {"tag", "", 2}};
    for (const auto& [kind, tag, pos] : rows) {
      PV_RETURN_IF_ERROR(
          c.Query("INSERT INTO asset_tags (asset_id, kind, tag, position, user_id, "
                  "created_at) VALUES (1, ?, ?, ?, 1, 0)",
                  {kind, tag, pos}));
    }
    return Ok();
  }));
  PV_ASSERT_OK(m.Upgrade());
  auto store = storage::OpenStore(url, clock_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const Viewer admin{0, true, true};
  PV_ASSERT_OK_AND_ASSIGN(Asset tagged, (*store)->GetAsset(admin, 1));
  EXPECT_EQ(tagged.tags, (std::vector<std::string>{"été", "b,c:3", ""}));
  EXPECT_EQ(tagged.style_tags, (std::vector<std::string>{"noir"}));
  PV_ASSERT_OK_AND_ASSIGN(Asset plain, (*store)->GetAsset(admin, 2));
  EXPECT_TRUE(plain.tags.empty());
  // Writes through the store keep the row's copy in step.
  AssetPatch patch;
  patch.tags = std::vector<std::string>{"x:1,", "y"};
  PV_ASSERT_OK((*store)->UpdateAsset(admin, 2, patch));
  PV_ASSERT_OK_AND_ASSIGN(auto page, (*store)->ListAssets(admin, {}, {}));
  ASSERT_EQ(page.items.size(), 2u);
  for (const Asset& a : page.items) {
    if (a.id == 2) {
      EXPECT_EQ(a.tags, (std::vector<std::string>{"x:1,", "y"}));
    } else {
      EXPECT_EQ(a.style_tags, (std::vector<std::string>{"noir"}));
    }
  }
}

TEST_P(StoreGraph, StoreRefusesAnOutdatedSchemaWithoutMigrate) {
  std::string url = FreshUrl();
  auto db = storage::sql::OpenDatabase(url);
  ASSERT_TRUE(db.has_value());
  storage::Migrator m(**db, clock_);
  PV_ASSERT_OK(m.Upgrade(1));
  storage::StoreOptions options;
  options.migrate = false;
  PV_EXPECT_ERROR(storage::OpenStore(url, clock_, options), ErrorCode::kUnavailable);
}

PV_INSTANTIATE_STORE_TEST(StoreGraph);

TEST(OpenStore, UnreachableOrUnknownUrlsFailClearly) {
  ManualClock clock;
  PV_EXPECT_ERROR(storage::OpenStore("mysql://x", clock), ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(storage::OpenStore("sqlite:///nonexistent-dir/x/db.sqlite", clock),
                  ErrorCode::kUnavailable);
  PV_EXPECT_ERROR(
      storage::OpenStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", clock),
      ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace pixvault::testing
