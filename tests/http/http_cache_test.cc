// The local cache through the API and the service: eviction under budget pressure (LRU first,
// pinned and only-copy bytes kept), evicted bytes served again by GET .../file (fetched back
// from a folder provider holding an uploaded copy), the pin routes, the eviction job, and
// eviction racing readers.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "http/http_fixture.h"
#include "providers/folder_provider.h"
#include "service/cache.h"
#include "service/worker_pool.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;

class HttpCacheTest : public HttpTest {
 protected:
  void AddProviders(providers::ProviderRegistry& registry) override {
    providers::FolderProviderOptions o;
    o.id = "cdn";
    o.root = folders_.path() / "cdn";
    o.base_url = "https://cdn.example/game/";
    o.capabilities.media_types = {MediaType::kImage, MediaType::kAudio};
    auto folder = providers::FolderProvider::Open(o);
    ASSERT_TRUE(folder.has_value()) << folder.error().message;
    PV_ASSERT_OK(registry.Add(*folder));
  }

  void SetUp() override {
    HttpTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // As the server builds it: a copy's provider is asked before the copy is counted on.
    cache_ = std::make_unique<service::Cache>(
        *store_, *blobs_, &providers_, system_clock_,
        [this](const storage::CacheCopy& copy) { return resolver_->CheckCopy(copy); });
  }

  std::int64_t AddAccount(std::string_view key) {
    HttpResponse res =
        Call("POST", "/api/v1/provider-accounts", key,
             json::serialize(json::object{{"provider_id", "cdn"},
                                          {"label", "main"},
                                          {"credentials", json::object{{"api_key", "k"}}}}),
             {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, 201) << res.body;
    return res.status == 201 ? ParseJson(res.body).at("id").to_number<std::int64_t>() : 0;
  }

  // Uploads WavBytes(seed) as alice's and, with `copy`, resolves it for the folder provider so
  // its bytes have a copy elsewhere. Its last access is set to `accessed`.
  std::int64_t MakeAsset(int seed, bool copy, Timestamp accessed) {
    const std::int64_t id = UploadWav(alice_key_, seed);
    EXPECT_NE(id, 0);
    if (copy) {
      HttpResponse res = Call("GET", AssetPath(id) + "/providers/cdn", alice_key_);
      EXPECT_EQ(res.status, 200) << res.body;
    }
    EXPECT_TRUE(store_->TouchAsset(id, accessed).has_value());
    return id;
  }

  std::string Sha(std::int64_t id) {
    return std::string(GetJson(alice_key_, id).at("sha256").as_string());
  }
  bool Local(std::int64_t id) { return blobs_->Exists(Sha(id)).value_or(false); }
  std::string SyncStatus(std::int64_t id) {
    return std::string(GetJson(alice_key_, id).at("sync_status").as_string());
  }

  // Where the folder provider keeps the copy of asset `id` under `account`.
  std::filesystem::path CopyPath(std::int64_t id, std::int64_t account) {
    auto row = store_->GetProviderUpload(id, "cdn", account);
    EXPECT_TRUE(row.has_value() && row->provider_ref.has_value());
    return folders_.path() / "cdn" / (row ? row->provider_ref.value_or("") : "");
  }

  pixvault::testing::TempDir folders_;
  std::unique_ptr<service::Cache> cache_;
};

TEST_P(HttpCacheTest, EvictionKeepsTheBudgetPinnedAndOnlyCopiesAndServesEvictedBytesAgain) {
  AddAccount(alice_key_);
  const Timestamp t0 = 1'000'000;
  const std::int64_t oldest = MakeAsset(1, true, t0);
  const std::int64_t older = MakeAsset(2, true, t0 + 1);
  const std::int64_t pinned = MakeAsset(3, true, t0 + 2);  // oldest of all but pinned below
  const std::int64_t only = MakeAsset(4, false, t0 - 5);   // no copy elsewhere
  const std::int64_t recent = MakeAsset(5, true, t0 + 10);
  PV_ASSERT_OK_AND_ASSIGN(AssetPin pin, store_->PinAsset(Viewer::For(alice_), pinned));
  EXPECT_TRUE(pin.pinned_at.has_value());

  PV_ASSERT_OK_AND_ASSIGN(service::CacheStatus status, cache_->GetStatus(std::nullopt));
  const std::int64_t blob = static_cast<std::int64_t>(WavBytes(1).size());
  EXPECT_EQ(status.local_blobs, 5);
  EXPECT_EQ(status.local_bytes, 5 * blob);
  EXPECT_EQ(status.evictable_blobs, 3);
  EXPECT_EQ(status.pinned_blobs, 1);
  EXPECT_EQ(status.pinned_assets, 1);
  EXPECT_EQ(status.only_copy_blobs, 1);

  // A dry run changes nothing.
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport dry, cache_->Evict(4 * blob, true));
  EXPECT_EQ(dry.evicted_blobs, 1);
  EXPECT_TRUE(Local(oldest));

  // One blob over: the least recently accessed evictable one goes.
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport one, cache_->Evict(4 * blob, false));
  EXPECT_EQ(one.evicted_blobs, 1);
  EXPECT_EQ(one.local_bytes_after, 4 * blob);
  EXPECT_FALSE(one.over_budget);
  EXPECT_FALSE(Local(oldest));
  EXPECT_EQ(SyncStatus(oldest), "remote");
  EXPECT_TRUE(Local(older));

  // Nothing allowed: every evictable blob goes; pinned and only-copy bytes stay.
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport all, cache_->Evict(0, false));
  EXPECT_EQ(all.evicted_blobs, 2);
  EXPECT_TRUE(all.over_budget);
  EXPECT_EQ(all.local_bytes_after, 2 * blob);
  EXPECT_FALSE(Local(older));
  EXPECT_FALSE(Local(recent));
  EXPECT_TRUE(Local(pinned));
  EXPECT_TRUE(Local(only));
  EXPECT_EQ(SyncStatus(pinned), "downloaded");
  EXPECT_EQ(SyncStatus(only), "downloaded");

  // Evicted bytes are fetched back on request, verified, and local again.
  HttpResponse file = Call("GET", AssetPath(oldest) + "/file", alice_key_);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, WavBytes(1));
  EXPECT_TRUE(Local(oldest));
  EXPECT_EQ(SyncStatus(oldest), "downloaded");
  // A range of evicted bytes too.
  HttpResponse range =
      Call("GET", AssetPath(older) + "/file", alice_key_, "", {{"Range", "bytes=0-3"}});
  ASSERT_EQ(range.status, 206) << range.body;
  EXPECT_EQ(range.body, "RIFF");
  PV_ASSERT_OK_AND_ASSIGN(service::CacheStatus after, cache_->GetStatus(std::int64_t{0}));
  EXPECT_EQ(after.local_blobs, 4);
  EXPECT_EQ(after.budget, 0);

  // Unpinned, the bytes may go.
  PV_ASSERT_OK(store_->UnpinAsset(Viewer::For(alice_), pinned));
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport unpinned, cache_->Evict(blob, false));
  EXPECT_FALSE(Local(pinned));
  EXPECT_TRUE(Local(only));
  EXPECT_FALSE(unpinned.over_budget);
}

TEST_P(HttpCacheTest, AnExpiredOrMissingCopyKeepsTheBytes) {
  const std::int64_t account = AddAccount(alice_key_);
  const std::int64_t id = MakeAsset(6, true, 1);
  PV_ASSERT_OK_AND_ASSIGN(ProviderUpload row, store_->GetProviderUpload(id, "cdn", account));
  row.expires_at = 2;  // long past
  PV_ASSERT_OK(store_->PutProviderUpload(row));
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport report, cache_->Evict(0, false));
  EXPECT_EQ(report.evicted_blobs, 0);
  EXPECT_TRUE(Local(id));
  // Without the provider in the registry, a recorded copy does not count either.
  providers::ProviderRegistry none;
  service::Cache strict(*store_, *blobs_, &none, system_clock_);
  row.expires_at.reset();
  PV_ASSERT_OK(store_->PutProviderUpload(row));
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport kept, strict.Evict(0, false));
  EXPECT_EQ(kept.evicted_blobs, 0);
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport gone, cache_->Evict(0, false));
  EXPECT_EQ(gone.evicted_blobs, 1);
}

TEST_P(HttpCacheTest, ACopyTheProviderLostKeepsTheBytesAndIsUploadedAgain) {
  const std::int64_t account = AddAccount(alice_key_);
  const std::int64_t lost = MakeAsset(11, true, 1);
  const std::int64_t kept = MakeAsset(12, true, 2);
  // The provider dropped one file before the (unset) expiry its row records.
  ASSERT_TRUE(std::filesystem::remove(CopyPath(lost, account)));
  PV_ASSERT_OK_AND_ASSIGN(service::CacheStatus status, cache_->GetStatus(std::nullopt));
  EXPECT_EQ(status.evictable_blobs, 2);  // the records alone say both could go

  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport report, cache_->Evict(0, false));
  EXPECT_EQ(report.evicted_blobs, 1);
  EXPECT_EQ(report.unverified_blobs, 1);
  EXPECT_NE(report.unverified_error.find("asset " + std::to_string(lost)), std::string::npos)
      << report.unverified_error;
  EXPECT_NE(report.ToJson().find("\"unverified_blobs\":1"), std::string::npos);
  EXPECT_TRUE(Local(lost));
  EXPECT_EQ(SyncStatus(lost), "downloaded");
  EXPECT_FALSE(Local(kept));
  // The lost copy no longer counts: the row is expired ...
  PV_ASSERT_OK_AND_ASSIGN(ProviderUpload row, store_->GetProviderUpload(lost, "cdn", account));
  EXPECT_EQ(row.status, UploadStatus::kExpired);
  PV_ASSERT_OK_AND_ASSIGN(service::CacheStatus after, cache_->GetStatus(std::nullopt));
  EXPECT_EQ(after.only_copy_blobs, 1);
  EXPECT_EQ(after.evictable_blobs, 0);
  // ... and the next resolve uploads the bytes again, after which they may go.
  HttpResponse again = Call("GET", AssetPath(lost) + "/providers/cdn", alice_key_);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(ParseJson(again.body).at("uploaded_now").as_bool()) << again.body;
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport second, cache_->Evict(0, false));
  EXPECT_EQ(second.evicted_blobs, 1);
  EXPECT_EQ(second.unverified_blobs, 0);
  HttpResponse file = Call("GET", AssetPath(lost) + "/file", alice_key_);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, WavBytes(11));
}

TEST_P(HttpCacheTest, OnlyCopiesUnderTheOwnersEnabledAccountsCount) {
  const std::int64_t id = MakeAsset(13, false, 1);
  // Two recorded copies whose files are there: under a disabled account of the owner, and
  // under another user's account. A reader's fetch-back would use neither.
  ProviderAccount disabled;
  disabled.user_id = alice_.id;
  disabled.provider_id = "cdn";
  disabled.label = "off";
  disabled.credentials_encrypted = "x";
  disabled.enabled = false;
  ProviderAccount bobs = disabled;
  bobs.user_id = bob_.id;
  bobs.label = "bob";
  bobs.enabled = true;
  std::filesystem::create_directories(folders_.path() / "cdn");
  for (const ProviderAccount& a : {disabled, bobs}) {
    PV_ASSERT_OK_AND_ASSIGN(ProviderAccount made, store_->CreateProviderAccount(a));
    ProviderUpload u;
    u.asset_id = id;
    u.provider_id = "cdn";
    u.account_id = made.id;
    u.provider_ref = Sha(id) + ".wav";
    u.status = UploadStatus::kUploaded;
    u.uploaded_at = 1;
    PV_ASSERT_OK(store_->PutProviderUpload(u));
    pixvault::testing::WriteFile(folders_.path() / "cdn" / *u.provider_ref, WavBytes(13));
  }
  PV_ASSERT_OK_AND_ASSIGN(service::CacheStatus status, cache_->GetStatus(std::nullopt));
  EXPECT_EQ(status.evictable_blobs, 0);
  EXPECT_EQ(status.only_copy_blobs, 1);
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport report, cache_->Evict(0, false));
  EXPECT_EQ(report.evicted_blobs, 0);
  EXPECT_TRUE(Local(id));
  // The owner's own enabled account makes it a copy.
  AddAccount(alice_key_);
  HttpResponse res = Call("GET", AssetPath(id) + "/providers/cdn", alice_key_);
  ASSERT_EQ(res.status, 200) << res.body;
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport gone, cache_->Evict(0, false));
  EXPECT_EQ(gone.evicted_blobs, 1);
}

TEST_P(HttpCacheTest, AProviderThatKeepsFailingIsNotAskedOncePerBlob) {
  AddAccount(alice_key_);
  constexpr int kAssets = 40;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kAssets; ++i) ids.push_back(MakeAsset(100 + i, true, 1 + i));
  std::atomic<int> asked{0};
  // Failures that hold for the whole account: the provider is down, refuses the credentials,
  // or they cannot be opened.
  for (const Error& failure : {Error{ErrorCode::kUnavailable, "503 from the provider"},
                               Error{ErrorCode::kPermissionDenied, "401 invalid api key"},
                               Error{ErrorCode::kCorrupt, "credentials cannot be opened"}}) {
    SCOPED_TRACE(failure.message);
    asked = 0;
    service::Cache down(*store_, *blobs_, &providers_, system_clock_,
                        [&](const storage::CacheCopy&) -> Status {
                          ++asked;
                          return Fail(failure);
                        });
    PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport report, down.Evict(0, false));
    EXPECT_EQ(report.evicted_blobs, 0);
    EXPECT_EQ(report.unverified_blobs, kAssets);
    EXPECT_TRUE(report.over_budget);
    EXPECT_NE(report.unverified_error.find(failure.message), std::string::npos);
    // A few failures (and the checks already under way on the other threads), not one per
    // blob.
    EXPECT_GE(asked.load(), 3);
    EXPECT_LE(asked.load(), 12);
  }
  for (const std::int64_t id : ids) EXPECT_TRUE(Local(id)) << id;
  // A copy the provider forgot is that copy's own failure: every blob is asked about.
  asked = 0;
  service::Cache forgetful(*store_, *blobs_, &providers_, system_clock_,
                           [&asked](const storage::CacheCopy&) -> Status {
                             ++asked;
                             return Fail(ErrorCode::kNotFound, "404 no such file");
                           });
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport forgotten, forgetful.Evict(0, false));
  EXPECT_EQ(forgotten.unverified_blobs, kAssets);
  EXPECT_EQ(asked.load(), kAssets);
  // A provider that answers again is asked again in the next pass.
  asked = 0;
  service::Cache up(*store_, *blobs_, &providers_, system_clock_,
                    [&asked](const storage::CacheCopy&) -> Status {
                      ++asked;
                      return Ok();
                    });
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport later, up.Evict(0, false));
  EXPECT_EQ(later.evicted_blobs, kAssets);
  EXPECT_EQ(asked.load(), kAssets);
}

TEST_P(HttpCacheTest, ManyBatchesMakeUpForBlobsTheyKeep) {
  AddAccount(alice_key_);
  constexpr int kAssets = 10;
  std::vector<std::int64_t> ids;  // least recently accessed first
  for (int i = 0; i < kAssets; ++i) ids.push_back(MakeAsset(200 + i, true, 1 + i));
  const std::int64_t blob = static_cast<std::int64_t>(WavBytes(200).size());
  // Batches of 3, so a pass runs several of them, each checked while the one before it is
  // evicted. The provider cannot confirm the two oldest copies, and the first check pins an
  // asset of a later batch: the pass still evicts exactly what the budget asks (6 blobs), from
  // further down the LRU order.
  std::atomic<bool> pinned{false};
  std::mutex mu;
  std::vector<AssetId> asked;
  service::CacheOptions options;
  options.batch = 3;
  options.check_threads = 2;
  service::Cache cache(
      *store_, *blobs_, &providers_, system_clock_,
      [&](const storage::CacheCopy& copy) -> Status {
        {
          const std::lock_guard lock(mu);
          asked.push_back(copy.asset_id);
        }
        if (!pinned.exchange(true)) {
          EXPECT_TRUE(store_->PinAsset(Viewer::For(alice_), ids[4]).has_value());
        }
        if (copy.asset_id == ids[0] || copy.asset_id == ids[1]) {
          return Fail(ErrorCode::kPermissionDenied, "not yours");
        }
        return resolver_->CheckCopy(copy);
      },
      options);
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport report, cache.Evict((kAssets - 6) * blob, false));
  EXPECT_EQ(report.evicted_blobs, 6);
  EXPECT_EQ(report.unverified_blobs, 2);
  EXPECT_FALSE(report.over_budget);
  EXPECT_EQ(report.local_bytes_after, (kAssets - 6) * blob);
  EXPECT_NE(report.unverified_error.find("not yours"), std::string::npos);
  // Kept: the two unconfirmed and the one pinned meanwhile; evicted: the six oldest others.
  for (int i = 0; i < kAssets; ++i) {
    const bool kept = i == 0 || i == 1 || i == 4 || i > 8;
    EXPECT_EQ(Local(ids[static_cast<std::size_t>(i)]), kept) << i;
  }
  // Nothing past what was needed was asked about by a batch whose checks were wasted: at most
  // one batch beyond the last blob evicted.
  EXPECT_LE(asked.size(), static_cast<std::size_t>(kAssets));
}

TEST_P(HttpCacheTest, PinRoutesAreTheOwnersOrAnAdmins) {
  const std::int64_t id = UploadWav(alice_key_, 7);
  const std::string pin = AssetPath(id) + "/pin";
  HttpResponse got = Call("GET", pin, alice_key_);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_FALSE(ParseJson(got.body).at("pinned").as_bool());
  HttpResponse pinned = Call("POST", pin, alice_key_);
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  const json::value p = ParseJson(pinned.body);
  EXPECT_TRUE(p.at("pinned").as_bool());
  EXPECT_EQ(p.at("asset_id").as_int64(), id);
  EXPECT_EQ(p.at("pinned_by").as_int64(), alice_.id);
  // Pinning again keeps the first pin.
  HttpResponse again = Call("POST", pin, alice_key_);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(ParseJson(again.body).at("pinned_at"), p.at("pinned_at"));
  EXPECT_TRUE(ParseJson(Call("GET", pin, alice_key_).body).at("pinned").as_bool());
  EXPECT_TRUE(GetJson(alice_key_, id).at("pinned").as_bool());  // the asset's JSON says so too

  // Another user's asset is unknown to bob; an admin may pin it; bad ids are 400/404.
  struct Case {
    std::string method, target, key;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", pin, bob_key_, 404},
      {"DELETE", pin, bob_key_, 404},
      {"GET", pin, bob_key_, 404},
      {"POST", AssetPath(999999) + "/pin", alice_key_, 404},
      {"DELETE", AssetPath(999999) + "/pin", alice_key_, 404},
      {"POST", "/api/v1/assets/abc/pin", alice_key_, 404},  // as every route: not an id
      {"POST", pin, "", 401},
      {"POST", pin, admin_key_, 200},
  };
  for (const Case& c : cases) {
    HttpResponse res = Call(c.method, c.target, c.key);
    EXPECT_EQ(res.status, c.status) << c.method << " " << c.target << ": " << res.body;
    CheckResponse(res, c.target);
    if (res.status >= 400) {
      EXPECT_TRUE(res.IsProblem()) << c.target;
    }
  }
  HttpResponse unpinned = Call("DELETE", pin, alice_key_);
  ASSERT_EQ(unpinned.status, 200) << unpinned.body;
  EXPECT_FALSE(ParseJson(unpinned.body).at("pinned").as_bool());
  EXPECT_FALSE(ParseJson(Call("GET", pin, alice_key_).body).at("pinned").as_bool());
  EXPECT_FALSE(GetJson(alice_key_, id).at("pinned").as_bool());
  EXPECT_EQ(Call("DELETE", pin, alice_key_).status, 200);  // idempotent
}

TEST_P(HttpCacheTest, TheEvictionJobRunsOncePerIntervalFromTheQueue) {
  AddAccount(alice_key_);
  const std::int64_t id = MakeAsset(8, true, 1);
  const Timestamp interval = 3600 * kMicrosPerSecond;
  PV_ASSERT_OK_AND_ASSIGN(Job first, service::EnqueueEviction(*store_, system_clock_, 0, interval));
  PV_ASSERT_OK_AND_ASSIGN(Job second,
                          service::EnqueueEviction(*store_, system_clock_, 0, interval));
  EXPECT_EQ(first.id, second.id);  // same interval: one pass (unless the hour just turned)
  service::WorkerPoolOptions o;
  o.kinds = {std::string(service::kEvictJobKind)};
  service::WorkerPool pool(*store_, system_clock_, o);
  service::RegisterEvictionJob(pool, *cache_);
  EXPECT_TRUE(pool.RunOnce());
  PV_ASSERT_OK_AND_ASSIGN(Job done, store_->GetJob(first.id));
  EXPECT_EQ(done.status, JobStatus::kSucceeded) << done.last_error.value_or("");
  EXPECT_FALSE(Local(id));
  EXPECT_EQ(ParseJson(done.result).at("evicted_blobs").as_int64(), 1) << done.result;
}

TEST_P(HttpCacheTest, EvictionRacingReadersNeverFailsThem) {
  AddAccount(alice_key_);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(MakeAsset(20 + i, true, 1 + i));
  std::atomic<bool> stop{false};
  std::atomic<int> evicted{0};
  std::thread evictor([&] {
    while (!stop.load()) {
      auto r = cache_->Evict(0, false);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      evicted += static_cast<int>(r->evicted_blobs);
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      for (int round = 0; round < 15; ++round) {
        const std::size_t k = static_cast<std::size_t>(round + t) % ids.size();
        HttpResponse res = Call("GET", AssetPath(ids[k]) + "/file", alice_key_);
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(res.body, WavBytes(20 + static_cast<int>(k)));
      }
    });
  }
  for (std::thread& r : readers) r.join();
  stop = true;
  evictor.join();
  EXPECT_GT(evicted.load(), 0);
}

PV_INSTANTIATE_STORE_TEST(HttpCacheTest);

}  // namespace
}  // namespace pixvault::http::testing
