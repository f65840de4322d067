// The resolver over a real folder provider, the real blob store and both database backends.
// The provider is wrapped to count calls and to answer like a remote provider that fails
// (5xx, moderation) when told to; the HTTP adapter against the fake provider server is tested
// end to end in tests/http/http_resolve_test.cc.
#include "service/resolver.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "blob/env.h"
#include "blob/fault_injection_env.h"
#include "core/sha256.h"
#include "media/image_header.h"
#include "providers/folder_provider.h"
#include "service/ingest.h"
#include "service/provider_accounts.h"
#include "testing/store_fixture.h"
#include "testing/test_media.h"

namespace pixvault::service {
namespace {

using media::testing::MediaFile;
using pixvault::testing::TempDir;

// A real adapter with counters and injected answers.
class Instrumented final : public providers::Provider {
 public:
  explicit Instrumented(std::shared_ptr<providers::Provider> inner) : inner_(std::move(inner)) {}

  const std::string& id() const override { return inner_->id(); }
  const providers::Capabilities& capabilities() const override { return inner_->capabilities(); }
  Result<providers::ProviderRef> Upload(const providers::AccountAccess& account,
                                        const providers::UploadFile& file) override {
    uploads.fetch_add(1);
    {
      std::lock_guard lock(mu);
      uploaded_files.push_back(file);
    }
    if (upload_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(upload_delay_ms.load()));
    }
    if (during_upload) during_upload();
    if (fail_uploads.load() > 0) {
      fail_uploads.fetch_sub(1);
      return Fail(fail_code,
                  fail_code == ErrorCode::kPermissionDenied ? "moderated" : "503 injected failure");
    }
    return inner_->Upload(account, file);
  }
  Status Download(const providers::AccountAccess& account, const providers::ProviderRef& ref,
                  std::int64_t offset, const providers::DownloadSink& sink) override {
    downloads.fetch_add(1);
    if (fail_downloads.load() > 0) {
      fail_downloads.fetch_sub(1);
      return Fail(ErrorCode::kUnavailable, "503 injected download failure");
    }
    return inner_->Download(account, ref, offset, sink);
  }
  Status Check(const providers::AccountAccess& account,
               const providers::ProviderRef& ref) override {
    checks.fetch_add(1);
    return inner_->Check(account, ref);
  }
  Status Delete(const providers::AccountAccess& account,
                const providers::ProviderRef& ref) override {
    return inner_->Delete(account, ref);
  }
  Result<std::string> Submit(const providers::AccountAccess& account, std::string_view op,
                             const boost::json::object& params, std::string_view key) override {
    return inner_->Submit(account, op, params, key);
  }
  Result<providers::GenerationStatus> Poll(const providers::AccountAccess& account,
                                           std::string_view job) override {
    return inner_->Poll(account, job);
  }
  Status Cancel(const providers::AccountAccess& account, std::string_view job) override {
    return inner_->Cancel(account, job);
  }

  std::atomic<int> uploads{0}, downloads{0}, checks{0};
  std::atomic<int> fail_uploads{0}, fail_downloads{0};
  ErrorCode fail_code = ErrorCode::kUnavailable;
  std::atomic<int> upload_delay_ms{0};
  std::function<void()> during_upload;  // set while no upload runs
  std::mutex mu;
  std::vector<providers::UploadFile> uploaded_files;

 private:
  std::shared_ptr<providers::Provider> inner_;
};

class ResolverTest : public pixvault::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto blobs = blob::FsBlobStore::Create(faulty_env_, blob_dir_.path());
    ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
    blobs_ = std::move(*blobs);
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, false, 0}));
    ingestor_ = std::make_unique<Ingestor>(*store_, *blobs_, clock_);
    cdn_ = AddFolder("cdn", {});
    archive_ = AddFolder("archive", {});
  }

  std::shared_ptr<Instrumented> AddFolder(const std::string& id, providers::Capabilities caps) {
    providers::FolderProviderOptions o;
    o.id = id;
    o.root = folders_.path() / id;
    o.base_url = "https://" + id + ".example/";
    o.capabilities = std::move(caps);
    auto folder = providers::FolderProvider::Open(o);
    EXPECT_TRUE(folder.has_value());
    auto wrapped = std::make_shared<Instrumented>(*folder);
    EXPECT_TRUE(registry_.Add(wrapped).has_value());
    return wrapped;
  }

  ResolverOptions Options(std::string worker = "test-1") {
    ResolverOptions o;
    o.worker = std::move(worker);
    o.temp_dir = scratch_.path();
    o.poll_interval = 5 * 1000;
    o.sleep = [this](Timestamp t) {
      std::lock_guard lock(sleeps_mu_);
      sleeps_.push_back(t);
      std::this_thread::sleep_for(std::chrono::microseconds(std::min<Timestamp>(t, 2000)));
    };
    return o;
  }
  // Options whose breaker opens after `threshold` failures in a row, for 60 s.
  ResolverOptions BreakerOptions(int threshold) {
    ResolverOptions o = Options();
    o.breaker_threshold = threshold;
    o.breaker_cooldown = 60 * kMicrosPerSecond;
    return o;
  }

  Resolver& MakeResolver() {
    resolver_ = std::make_unique<Resolver>(*store_, *blobs_, registry_, cipher_, clock_, Options());
    return *resolver_;
  }

  std::int64_t AddAccount(const User& user, const std::string& provider, const std::string& label,
                          boost::json::object settings = {}) {
    NewProviderAccount a;
    a.provider_id = provider;
    a.label = label;
    a.credentials = {{"api_key", "secret-" + label}};
    a.settings = std::move(settings);
    auto account = AddProviderAccount(*store_, cipher_, user.id, a);
    EXPECT_TRUE(account.has_value()) << account.error().message;
    return account ? account->id : 0;
  }

  Asset Ingest(const User& user, const std::string& media) {
    const auto path = MediaFile(media);
    EXPECT_FALSE(path.empty());
    auto r = ingestor_->IngestFile(user, path, IngestRequest{});
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? r->asset : Asset{};
  }

  ResolveRequest Request(const Asset& asset, const std::string& provider,
                         std::optional<std::int64_t> account = std::nullopt) {
    ResolveRequest r;
    r.asset_id = asset.id;
    r.provider_id = provider;
    r.account_id = account;
    return r;
  }

  blob::PosixEnv env_;
  blob::FaultInjectionEnv faulty_env_{env_};  // disarmed unless a test arms it
  TempDir blob_dir_, folders_, scratch_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<Ingestor> ingestor_;
  providers::ProviderRegistry registry_;
  CredentialCipher cipher_ = *CredentialCipher::FromHex(std::string(64, 'b'));
  std::shared_ptr<Instrumented> cdn_, archive_;
  std::unique_ptr<Resolver> resolver_;
  std::mutex sleeps_mu_;
  std::vector<Timestamp> sleeps_;
  User alice_, bob_;
};

TEST_P(ResolverTest, UploadsOnceThenAnswersFromTheRecordedRef) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  const std::int64_t account = AddAccount(alice_, "cdn", "main");
  PV_ASSERT_OK_AND_ASSIGN(Resolution first,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn")));
  EXPECT_TRUE(first.uploaded_now);
  EXPECT_EQ(first.upload.status, UploadStatus::kUploaded);
  EXPECT_EQ(first.upload.account_id, account);
  EXPECT_EQ(first.upload.provider_ref, *asset.sha256 + ".png");
  EXPECT_EQ(first.upload.provider_url, "https://cdn.example/" + *asset.sha256 + ".png");
  EXPECT_TRUE(std::filesystem::exists(folders_.path() / "cdn" / (*asset.sha256 + ".png")));
  EXPECT_EQ(first.upload.attempts, 1);
  EXPECT_FALSE(first.upload.lease_owner.has_value());

  PV_ASSERT_OK_AND_ASSIGN(Resolution second,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn", account)));
  EXPECT_FALSE(second.uploaded_now);
  EXPECT_EQ(second.upload.provider_ref, first.upload.provider_ref);
  EXPECT_EQ(cdn_->uploads.load(), 1);
  PV_ASSERT_OK_AND_ASSIGN(auto attempts,
                          store_->ListProviderAttempts(asset.id, "cdn", account, 10));
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_TRUE(attempts[0].succeeded);
  EXPECT_EQ(attempts[0].operation, "upload");
  EXPECT_EQ(attempts[0].worker, "test-1");
  EXPECT_EQ(attempts[0].bytes, *asset.file_size_bytes);
}

// What TryCached reads is handed to Resolve; a read gone stale meanwhile (another caller
// uploaded) still ends in one upload, and the recorded answer comes back once there is one.
TEST_P(ResolverTest, TryCachedHandsItsReadsToResolve) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  const std::int64_t account = AddAccount(alice_, "cdn", "main");
  const Viewer alice = Viewer::For(alice_);

  auto first = resolver.TryCached(alice, Request(asset, "cdn"));
  ASSERT_TRUE(std::holds_alternative<Resolver::Subject>(first));
  auto stale = resolver.TryCached(alice, Request(asset, "cdn"));
  ASSERT_TRUE(std::holds_alternative<Resolver::Subject>(stale));
  EXPECT_EQ(std::get<Resolver::Subject>(first).asset.id, asset.id);
  EXPECT_EQ(std::get<Resolver::Subject>(first).account.id, account);
  EXPECT_FALSE(std::get<Resolver::Subject>(first).row.has_value());
  EXPECT_EQ(cdn_->uploads.load(), 0);  // reading alone asks no one

  PV_ASSERT_OK_AND_ASSIGN(
      Resolution uploaded,
      resolver.Resolve(alice, Request(asset, "cdn"), std::get<Resolver::Subject>(first)));
  EXPECT_TRUE(uploaded.uploaded_now);
  // The second read saw no row; the row it did not see is found by the claim.
  PV_ASSERT_OK_AND_ASSIGN(Resolution joined, resolver.Resolve(alice, Request(asset, "cdn"),
                                                              std::get<Resolver::Subject>(stale)));
  EXPECT_FALSE(joined.uploaded_now);
  EXPECT_EQ(joined.upload.provider_ref, uploaded.upload.provider_ref);
  EXPECT_EQ(cdn_->uploads.load(), 1);

  auto cached = resolver.TryCached(alice, Request(asset, "cdn"));
  ASSERT_TRUE(std::holds_alternative<Result<Resolution>>(cached));
  const Result<Resolution>& answer = std::get<Result<Resolution>>(cached);
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_FALSE(answer->uploaded_now);
  EXPECT_EQ(answer->upload.provider_ref, uploaded.upload.provider_ref);
  // A request error is an answer too.
  auto unknown = resolver.TryCached(alice, Request(asset, "nope"));
  ASSERT_TRUE(std::holds_alternative<Result<Resolution>>(unknown));
  EXPECT_EQ(std::get<Result<Resolution>>(unknown).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(cdn_->uploads.load(), 1);
}

TEST_P(ResolverTest, HundredConcurrentResolvesMakeOneUpload) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  AddAccount(alice_, "cdn", "main");
  cdn_->upload_delay_ms = 50;  // callers pile up while the leader uploads
  std::vector<std::thread> threads;
  std::vector<std::string> refs(100);
  std::atomic<int> errors{0};
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      auto r = resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn"));
      if (!r) {
        errors.fetch_add(1);
        return;
      }
      refs[static_cast<std::size_t>(i)] = r->upload.provider_ref.value_or("");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(cdn_->uploads.load(), 1);
  for (const std::string& ref : refs) EXPECT_EQ(ref, refs[0]);
  EXPECT_FALSE(refs[0].empty());
}

TEST_P(ResolverTest, TwoResolversSharingOneDatabaseUploadOnce) {
  // Two resolvers with their own store connections and worker names stand for two processes:
  // only the row's lease keeps them from uploading twice.
  const Asset asset = Ingest(alice_, "image.png");
  AddAccount(alice_, "cdn", "main");
  auto other_store = OpenAnother(clock_);
  ASSERT_NE(other_store, nullptr);
  Resolver one(*store_, *blobs_, registry_, cipher_, clock_, Options("process-1"));
  Resolver two(*other_store, *blobs_, registry_, cipher_, clock_, Options("process-2"));
  cdn_->upload_delay_ms = 200;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  std::vector<std::string> refs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Resolver& r = i % 2 == 0 ? one : two;
      auto got = r.Resolve(Viewer::For(alice_), Request(asset, "cdn"));
      if (!got) {
        errors.fetch_add(1);
        ADD_FAILURE() << got.error().message;
        return;
      }
      refs[static_cast<std::size_t>(i)] = got->upload.provider_ref.value_or("");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(cdn_->uploads.load(), 1);
  for (const std::string& ref : refs) EXPECT_EQ(ref, refs[0]);
}

TEST_P(ResolverTest, EachAccountGetsItsOwnUpload) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  const std::int64_t a1 = AddAccount(alice_, "cdn", "one");
  const std::int64_t a2 = AddAccount(alice_, "cdn", "two");
  // With two accounts the caller must say which.
  auto ambiguous = resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn"));
  ASSERT_FALSE(ambiguous.has_value());
  EXPECT_EQ(ambiguous.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ambiguous.error().message.find("account=ID"), std::string::npos);
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn", a1)));
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn", a2)));
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn", a1)));
  EXPECT_EQ(cdn_->uploads.load(), 2);
  PV_ASSERT_OK_AND_ASSIGN(auto rows, store_->ListProviderUploads(Viewer::For(alice_), asset.id));
  EXPECT_EQ(rows.size(), 2u);
}

TEST_P(ResolverTest, AccountsAndAssetsOfOthersAreNotReachable) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  const std::int64_t alices = AddAccount(alice_, "cdn", "main");
  // No account of bob's for the provider; alice's account is not his to use.
  PV_EXPECT_ERROR(resolver.Resolve(Viewer::For(bob_), Request(asset, "cdn")),
                  ErrorCode::kNotFound);  // the asset is private to alice
  const Asset bobs = Ingest(bob_, "picture.png");
  auto none = resolver.Resolve(Viewer::For(bob_), Request(bobs, "cdn"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(none.error().message.find("no enabled account"), std::string::npos);
  PV_EXPECT_ERROR(resolver.Resolve(Viewer::For(bob_), Request(bobs, "cdn", alices)),
                  ErrorCode::kNotFound);
  // An account of another provider, an unknown provider, a provider without uploads.
  PV_EXPECT_ERROR(resolver.Resolve(Viewer::For(alice_), Request(asset, "archive", alices)),
                  ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(resolver.Resolve(Viewer::For(alice_), Request(asset, "nope")),
                  ErrorCode::kNotFound);
  ASSERT_TRUE(registry_.Add(providers::MakeUserUploadProvider()).has_value());
  PV_EXPECT_ERROR(resolver.Resolve(Viewer::For(alice_), Request(asset, "user_upload")),
                  ErrorCode::kUnsupported);
  EXPECT_EQ(cdn_->uploads.load(), 0);
}

TEST_P(ResolverTest, TransientFailuresAreRetriedWithBackoffAndRecorded) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  const std::int64_t account = AddAccount(alice_, "cdn", "main");
  cdn_->fail_uploads = 2;
  PV_ASSERT_OK_AND_ASSIGN(Resolution r,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn")));
  EXPECT_EQ(cdn_->uploads.load(), 3);
  EXPECT_EQ(r.upload.attempts, 3);
  EXPECT_EQ(sleeps_, (std::vector<Timestamp>{200'000, 400'000}));
  PV_ASSERT_OK_AND_ASSIGN(auto attempts,
                          store_->ListProviderAttempts(asset.id, "cdn", account, 10));
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_TRUE(attempts[0].succeeded);
  EXPECT_FALSE(attempts[1].succeeded);
  EXPECT_EQ(attempts[1].error_code, "unavailable");
  EXPECT_EQ(attempts[1].error, "503 injected failure");

  // A provider that keeps failing: the attempts run out and the error is recorded; a later
  // call tries again (the failure was transient).
  const Asset other = Ingest(alice_, "picture.png");
  cdn_->fail_uploads = 100;
  auto failed = resolver.Resolve(Viewer::For(alice_), Request(other, "cdn"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(cdn_->uploads.load(), 3 + 4);
  PV_ASSERT_OK_AND_ASSIGN(auto row, store_->GetProviderUpload(other.id, "cdn", account));
  EXPECT_EQ(row.status, UploadStatus::kFailed);
  EXPECT_EQ(row.last_error_code, "unavailable");
  EXPECT_FALSE(row.lease_owner.has_value());
  cdn_->fail_uploads = 0;
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(other, "cdn")));
  EXPECT_EQ(cdn_->uploads.load(), 3 + 4 + 1);
}

TEST_P(ResolverTest, AProviderFailingInARowIsNotAskedUntilItsCooldownEnds) {
  const ResolverOptions o = BreakerOptions(3);
  Resolver resolver(*store_, *blobs_, registry_, cipher_, clock_, o);
  const Asset image = Ingest(alice_, "image.png");
  const Asset picture = Ingest(alice_, "picture.png");
  const Asset video = Ingest(alice_, "video.mp4");
  const std::int64_t main = AddAccount(alice_, "cdn", "main");
  const std::int64_t second = AddAccount(alice_, "cdn", "second");
  AddAccount(alice_, "archive", "main");
  const Viewer alice = Viewer::For(alice_);

  // Three failures in a row open the account's breaker: the resolve's fourth try is not
  // made, and its error is still the provider's.
  cdn_->fail_uploads = 100;
  auto failed = resolver.Resolve(alice, Request(image, "cdn", main));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message.find("503 injected failure"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("not asked again for 60 s"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(cdn_->uploads.load(), 3);
  // Other resolves for the account fail at once without asking the provider, also when asked
  // through TryCached (the I/O thread's answer), even once it has recovered, until the
  // cooldown ends. Other accounts and providers are not affected.
  auto fast = resolver.Resolve(alice, Request(picture, "cdn", main));
  ASSERT_FALSE(fast.has_value());
  EXPECT_EQ(fast.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(fast.error().message.find("not asked again for 60 s"), std::string::npos)
      << fast.error().message;
  auto at_once = resolver.TryCached(alice, Request(picture, "cdn", main));
  ASSERT_TRUE(std::holds_alternative<Result<Resolution>>(at_once));
  EXPECT_FALSE(std::get<Result<Resolution>>(at_once).has_value());
  EXPECT_EQ(cdn_->uploads.load(), 3);
  PV_ASSERT_OK(resolver.Resolve(alice, Request(picture, "archive")));
  cdn_->fail_uploads = 0;
  PV_ASSERT_OK(resolver.Resolve(alice, Request(picture, "cdn", second)));
  EXPECT_EQ(cdn_->uploads.load(), 4);
  clock_.Advance(30 * kMicrosPerSecond);
  auto still = resolver.Resolve(alice, Request(picture, "cdn", main));
  ASSERT_FALSE(still.has_value());
  EXPECT_NE(still.error().message.find("not asked again for 30 s"), std::string::npos)
      << still.error().message;
  EXPECT_EQ(cdn_->uploads.load(), 4);

  // After the cooldown a single try is let through: while it runs, others fail at once;
  // failing, it opens the breaker again.
  clock_.Advance(31 * kMicrosPerSecond);
  cdn_->fail_uploads = 1;
  Result<Resolution> during = Fail(ErrorCode::kInternal, "not run");
  cdn_->during_upload = [&] { during = resolver.Resolve(alice, Request(video, "cdn", main)); };
  EXPECT_FALSE(resolver.Resolve(alice, Request(picture, "cdn", main)).has_value());
  cdn_->during_upload = nullptr;
  ASSERT_FALSE(during.has_value());
  EXPECT_NE(during.error().message.find("one try is under way"), std::string::npos)
      << during.error().message;
  EXPECT_EQ(cdn_->uploads.load(), 5);
  EXPECT_FALSE(resolver.Resolve(alice, Request(picture, "cdn", main)).has_value());
  EXPECT_EQ(cdn_->uploads.load(), 5);
  // Succeeding, it closes it: the next failures are retried as usual.
  clock_.Advance(61 * kMicrosPerSecond);
  PV_ASSERT_OK(resolver.Resolve(alice, Request(picture, "cdn", main)));
  cdn_->fail_uploads = 2;
  PV_ASSERT_OK(resolver.Resolve(alice, Request(video, "cdn", main)));
  EXPECT_EQ(cdn_->uploads.load(), 5 + 1 + 3);
}

TEST_P(ResolverTest, ARefusalIsRecordedAndNotRetriedUntilForced) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  AddAccount(alice_, "cdn", "main");
  cdn_->fail_code = ErrorCode::kPermissionDenied;
  cdn_->fail_uploads = 1;
  auto refused = resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message.find("moderated"), std::string::npos);
  EXPECT_EQ(cdn_->uploads.load(), 1);  // no retry of a refusal
  for (int i = 0; i < 5; ++i) {
    auto again = resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn"));
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, ErrorCode::kPermissionDenied);
    EXPECT_NE(again.error().message.find("reupload"), std::string::npos);
  }
  EXPECT_EQ(cdn_->uploads.load(), 1);  // no retry storm
  ResolveRequest force = Request(asset, "cdn");
  force.force = true;
  PV_ASSERT_OK_AND_ASSIGN(Resolution r, resolver.Resolve(Viewer::For(alice_), force));
  EXPECT_TRUE(r.uploaded_now);
  EXPECT_EQ(cdn_->uploads.load(), 2);
}

TEST_P(ResolverTest, AForgottenRefIsUploadedAgainOnce) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  const std::int64_t account = AddAccount(alice_, "cdn", "main");
  PV_ASSERT_OK_AND_ASSIGN(Resolution first,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn")));
  // The provider loses the file; a verified resolve notices and uploads again.
  std::filesystem::remove(folders_.path() / "cdn" / *first.upload.provider_ref);
  ResolveRequest verify = Request(asset, "cdn");
  verify.verify = true;
  PV_ASSERT_OK_AND_ASSIGN(Resolution second, resolver.Resolve(Viewer::For(alice_), verify));
  EXPECT_TRUE(second.uploaded_now);
  EXPECT_EQ(cdn_->uploads.load(), 2);
  EXPECT_EQ(cdn_->checks.load(), 1);
  PV_ASSERT_OK_AND_ASSIGN(Resolution third, resolver.Resolve(Viewer::For(alice_), verify));
  EXPECT_FALSE(third.uploaded_now);
  EXPECT_EQ(cdn_->uploads.load(), 2);
  // A caller that learned of it elsewhere invalidates the row: the next resolve uploads.
  PV_ASSERT_OK(resolver.Invalidate(asset.id, "cdn", account));
  PV_ASSERT_OK_AND_ASSIGN(auto row, store_->GetProviderUpload(asset.id, "cdn", account));
  EXPECT_EQ(row.status, UploadStatus::kExpired);
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn")));
  EXPECT_EQ(cdn_->uploads.load(), 3);
}

TEST_P(ResolverTest, ARefAboutToExpireIsRenewed) {
  providers::Capabilities caps;
  caps.ref_ttl = 3600 * kMicrosPerSecond;
  auto expiring = AddFolder("expiring", caps);
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  AddAccount(alice_, "expiring", "main");
  PV_ASSERT_OK_AND_ASSIGN(Resolution first,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "expiring")));
  ASSERT_TRUE(first.upload.expires_at.has_value());
  EXPECT_EQ(*first.upload.expires_at, *first.upload.uploaded_at + caps.ref_ttl);
  clock_.Advance(3500 * kMicrosPerSecond);  // 100 s left: still fresh
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "expiring")));
  EXPECT_EQ(expiring->uploads.load(), 1);
  clock_.Advance(50 * kMicrosPerSecond);  // within the 60 s margin
  PV_ASSERT_OK_AND_ASSIGN(Resolution renewed,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "expiring")));
  EXPECT_TRUE(renewed.uploaded_now);
  EXPECT_EQ(expiring->uploads.load(), 2);
}

TEST_P(ResolverTest, LimitsRefuseWithTheNumbersOrDownscaleWhenAllowed) {
  providers::Capabilities small;
  small.max_bytes = 1000;
  AddFolder("tiny", small);
  providers::Capabilities images;
  images.media_types = {MediaType::kImage};
  images.max_pixels = 10'000;
  auto pixels = AddFolder("pixels", images);
  Resolver& resolver = MakeResolver();
  const Asset image = Ingest(alice_, "picture.png");  // 640x480
  const Asset video = Ingest(alice_, "video.mp4");
  AddAccount(alice_, "tiny", "main");
  const std::int64_t strict = AddAccount(alice_, "pixels", "strict");
  const std::int64_t lenient =
      AddAccount(alice_, "pixels", "lenient", boost::json::object{{"allow_downscale", true}});

  auto too_big = resolver.Resolve(Viewer::For(alice_), Request(image, "tiny"));
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(too_big.error().message.find("at most 1000"), std::string::npos);
  auto wrong_type = resolver.Resolve(Viewer::For(alice_), Request(video, "pixels", lenient));
  ASSERT_FALSE(wrong_type.has_value());
  EXPECT_NE(wrong_type.error().message.find("does not take video"), std::string::npos);
  auto too_many = resolver.Resolve(Viewer::For(alice_), Request(image, "pixels", strict));
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().message.find("640x480"), std::string::npos);
  EXPECT_NE(too_many.error().message.find("allow_downscale"), std::string::npos);
  EXPECT_EQ(pixels->uploads.load(), 0);

  PV_ASSERT_OK_AND_ASSIGN(Resolution r,
                          resolver.Resolve(Viewer::For(alice_), Request(image, "pixels", lenient)));
  EXPECT_TRUE(r.downscaled);
  ASSERT_EQ(pixels->uploads.load(), 1);
  const providers::UploadFile sent = pixels->uploaded_files.at(0);
  EXPECT_EQ(sent.content_type, "image/png");
  // What reached the provider is a PNG of at most 10,000 pixels with the source's aspect.
  std::ifstream in(folders_.path() / "pixels" / *r.upload.provider_ref, std::ios::binary);
  std::vector<unsigned char> head(4096);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const auto size = media::ImageSizeFromHeader(head);
  ASSERT_TRUE(size.has_value());
  EXPECT_LE(size->width * size->height, 10'000);
  EXPECT_GE(size->width * size->height, 9'000);
  EXPECT_NEAR(static_cast<double>(size->width) / size->height, 640.0 / 480.0, 0.05);
  // No downscaled copy is left in the temp folder.
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.path()));
}

TEST_P(ResolverTest, EvictedBytesAreFetchedBackAndVerifiedBeforeUploading) {
  Resolver& resolver = MakeResolver();
  const Asset asset = Ingest(alice_, "image.png");
  AddAccount(alice_, "archive", "main");
  AddAccount(alice_, "cdn", "main");
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "archive")));
  // The local copy goes (cache eviction); resolving for another provider fetches it back from
  // the archive, checks its hash and uploads it.
  PV_ASSERT_OK(blobs_->Remove(*asset.sha256));
  PV_ASSERT_OK_AND_ASSIGN(Resolution r,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn")));
  EXPECT_TRUE(r.uploaded_now);
  EXPECT_EQ(archive_->downloads.load(), 1);
  PV_ASSERT_OK_AND_ASSIGN(bool back, blobs_->Exists(*asset.sha256));
  EXPECT_TRUE(back);
  PV_ASSERT_OK(blobs_->Verify(*asset.sha256));

  // Bytes that come back different are refused and nothing is published.
  const Asset other = Ingest(alice_, "picture.png");
  PV_ASSERT_OK_AND_ASSIGN(Resolution archived,
                          resolver.Resolve(Viewer::For(alice_), Request(other, "archive")));
  PV_ASSERT_OK(blobs_->Remove(*other.sha256));
  {
    std::ofstream tamper(folders_.path() / "archive" / *archived.upload.provider_ref,
                         std::ios::binary | std::ios::trunc);
    tamper << "not the picture";
  }
  auto refused = resolver.Resolve(Viewer::For(alice_), Request(other, "cdn"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorrupt);
  PV_ASSERT_OK_AND_ASSIGN(bool published, blobs_->Exists(*other.sha256));
  EXPECT_FALSE(published);
  EXPECT_EQ(cdn_->uploads.load(), 1);
}

TEST_P(ResolverTest, FetchBacksAndEvictionChecksShareTheAccountsBreaker) {
  const ResolverOptions o = BreakerOptions(2);
  Resolver resolver(*store_, *blobs_, registry_, cipher_, clock_, o);
  const Asset asset = Ingest(alice_, "image.png");
  AddAccount(alice_, "archive", "main");
  PV_ASSERT_OK(resolver.Resolve(Viewer::For(alice_), Request(asset, "archive")));
  PV_ASSERT_OK(blobs_->Remove(*asset.sha256));  // evicted

  // Each fetch-back spends its retries; two of them failing open the account's breaker.
  archive_->fail_downloads = 1000;
  for (int i = 0; i < 2; ++i) {
    Status got = resolver.EnsureLocalCopy(asset);
    ASSERT_FALSE(got.has_value());
    EXPECT_NE(got.error().message.find("503 injected download failure"), std::string::npos)
        << got.error().message;
  }
  const int tried = archive_->downloads.load();
  EXPECT_EQ(tried, 2 * o.max_attempts);
  // Open: the next fetch-back fails at once, and eviction does not ask about the copy.
  Status fast = resolver.EnsureLocalCopy(asset);
  ASSERT_FALSE(fast.has_value());
  EXPECT_EQ(fast.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(fast.error().message.find("not asked again"), std::string::npos)
      << fast.error().message;
  EXPECT_EQ(archive_->downloads.load(), tried);
  storage::CachePolicy policy;
  policy.now = clock_.Now();
  policy.providers = std::vector<std::string>{"archive"};
  PV_ASSERT_OK_AND_ASSIGN(std::vector<storage::CacheCopy> copies,
                          store_->ListCacheCopies({*asset.sha256}, policy));
  ASSERT_EQ(copies.size(), 1u);
  const int checks = archive_->checks.load();
  PV_EXPECT_ERROR(resolver.CheckCopy(copies[0]), ErrorCode::kUnavailable);
  EXPECT_EQ(archive_->checks.load(), checks);
  // After the cooldown the provider is asked again; recovered, it gives the bytes back.
  clock_.Advance(61 * kMicrosPerSecond);
  archive_->fail_downloads = 0;
  PV_ASSERT_OK(resolver.EnsureLocalCopy(asset));
  EXPECT_EQ(archive_->downloads.load(), tried + 1);
  PV_ASSERT_OK(resolver.CheckCopy(copies[0]));
  EXPECT_EQ(archive_->checks.load(), checks + 1);

  // A disk that cannot take the bytes here is not the provider's failure: however often it
  // fails, the provider is still asked.
  PV_ASSERT_OK(blobs_->Remove(*asset.sha256));
  for (int i = 0; i < 3; ++i) {
    faulty_env_.ResetCounter();
    faulty_env_.FailFrom(2);  // the temp file is made; writing the bytes fails
    Status got = resolver.EnsureLocalCopy(asset);
    ASSERT_FALSE(got.has_value());
    EXPECT_NE(got.error().message.find("injected fault"), std::string::npos) << got.error().message;
  }
  const int asked = archive_->downloads.load();
  EXPECT_EQ(asked, tried + 1 + 3);  // one request each: a failing disk is not retried
  faulty_env_.Disarm();
  PV_ASSERT_OK(resolver.EnsureLocalCopy(asset));
  EXPECT_EQ(archive_->downloads.load(), asked + 1);
}

TEST_P(ResolverTest, AnOriginThatKeepsAnsweringItLostTheFileIsNoLongerAsked) {
  Resolver& resolver = MakeResolver();
  // Made on the archive (its origin ref there), then uploaded to the cdn.
  const std::int64_t archive_account = AddAccount(alice_, "archive", "main");
  AddAccount(alice_, "cdn", "main");
  IngestRequest made;
  made.upload_method = UploadMethod::kProvider;
  made.provider_id = "archive";
  std::ifstream in(MediaFile("image.png"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  made.provider_asset_id = Sha256Hex(bytes) + ".png";  // as the folder provider names files
  made.provider_account_id = archive_account;
  PV_ASSERT_OK_AND_ASSIGN(IngestResult ingested,
                          ingestor_->IngestFile(alice_, MediaFile("image.png"), made));
  const Asset asset = ingested.asset;
  const std::filesystem::path origin = folders_.path() / "archive" / *made.provider_asset_id;
  std::filesystem::copy_file(MediaFile("image.png"), origin);
  PV_ASSERT_OK_AND_ASSIGN(Resolution at_cdn,
                          resolver.Resolve(Viewer::For(alice_), Request(asset, "cdn")));
  // Both providers drop the file, and the local copy is evicted.
  std::filesystem::remove(origin);
  std::filesystem::remove(folders_.path() / "cdn" / *at_cdn.upload.provider_ref);
  PV_ASSERT_OK(blobs_->Remove(*asset.sha256));

  // The first answers are not believed: both are asked again next time, and the cdn's row
  // (its bytes are gone here, so nothing could upload them again) stays as it is.
  const auto read = [&] { return *store_->GetAsset(Viewer::For(alice_), asset.id); };
  PV_EXPECT_ERROR(resolver.EnsureLocalCopy(read()), ErrorCode::kUnavailable);
  EXPECT_EQ(archive_->downloads.load(), 1);
  EXPECT_EQ(cdn_->downloads.load(), 1);
  EXPECT_TRUE(read().origin_missing_since.has_value());
  EXPECT_FALSE(read().origin_lost_at.has_value());
  PV_ASSERT_OK_AND_ASSIGN(ProviderUpload row,
                          store_->GetProviderUpload(asset.id, "cdn", at_cdn.upload.account_id));
  EXPECT_EQ(row.status, UploadStatus::kUploaded);
  clock_.Advance(Options().origin_confirm_after / 2);
  PV_EXPECT_ERROR(resolver.EnsureLocalCopy(read()), ErrorCode::kUnavailable);
  EXPECT_EQ(archive_->downloads.load(), 2);
  EXPECT_FALSE(read().origin_lost_at.has_value());  // too soon to be sure

  // Still lost once origin_confirm_after has passed: the origin is not asked any more.
  clock_.Advance(Options().origin_confirm_after);
  PV_EXPECT_ERROR(resolver.EnsureLocalCopy(read()), ErrorCode::kUnavailable);
  EXPECT_EQ(archive_->downloads.load(), 3);
  EXPECT_TRUE(read().origin_lost_at.has_value());
  PV_EXPECT_ERROR(resolver.EnsureLocalCopy(read()), ErrorCode::kUnavailable);
  EXPECT_EQ(archive_->downloads.load(), 3);
  EXPECT_EQ(cdn_->downloads.load(), 4);  // the recorded copy is asked each time

  // An origin that has the file again before that is believed at once.
  PV_ASSERT_OK_AND_ASSIGN(std::int64_t rechecked, store_->RecheckLostOrigins(std::nullopt));
  EXPECT_EQ(rechecked, 1);
  PV_EXPECT_ERROR(resolver.EnsureLocalCopy(read()), ErrorCode::kUnavailable);
  EXPECT_EQ(archive_->downloads.load(), 4);
  EXPECT_TRUE(read().origin_missing_since.has_value());
  std::filesystem::copy_file(MediaFile("image.png"), origin);
  PV_ASSERT_OK(resolver.EnsureLocalCopy(read()));
  EXPECT_FALSE(read().origin_missing_since.has_value());
  EXPECT_FALSE(read().origin_lost_at.has_value());
}

PV_INSTANTIATE_STORE_TEST(ResolverTest);

}  // namespace
}  // namespace pixvault::service
