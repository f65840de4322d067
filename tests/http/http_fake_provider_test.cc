// Cross-provider resolution and generation jobs end to end: the API server in-process, the
// fake provider server (src/providers/fake) on its own port, the real http adapter configured
// from TOML between them. Every count asserted here is the fake server's own count of what it
// received.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "http/http_fixture.h"
#include "providers/fake/fake_provider.h"
#include "providers/folder_provider.h"
#include "providers/provider_config.h"
#include "service/cache.h"
#include "service/generation.h"
#include "service/worker_pool.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;
using providers::fake::FakeProvider;
using providers::fake::FakeProviderOptions;
using providers::fake::FaultSettings;

constexpr const char* kAliceToken = "alice-token-7f3e9a";
constexpr const char* kAliceToken2 = "alice-second-token-11";

class HttpFakeProviderTest : public HttpTest {
 protected:
  void AddProviders(providers::ProviderRegistry& registry) override {
    FakeProviderOptions o;
    o.data_dir = fake_dir_.path();
    o.tokens = {kAliceToken, kAliceToken2};
    fake_ = std::make_unique<FakeProvider>(o);
    PV_ASSERT_OK(fake_->Start());
    // The adapter's timeouts are short so a hung provider fails a test in seconds.
    const std::string toml = R"([providers.fake]
type = "http"
base_url = ")" + fake_->base_url() +
                             R"("
auth_value = "Bearer {api_key}"
media_types = ["image", "video", "audio"]
operations = ["text_to_video", "image_to_video", "video_extend", "text_to_image"]
timeout_s = )" + std::to_string(adapter_timeout_s_) +
                             R"(
connect_timeout_s = 2
[providers.fake.upload]
path = "/v1/files"
ref_pointer = "/id"
url_pointer = "/url"
expires_pointer = "/expires_at"
[providers.fake.download]
path = "/v1/files/{ref}/content"
[providers.fake.check]
path = "/v1/files/{ref}"
[providers.fake.delete]
method = "DELETE"
path = "/v1/files/{ref}"
[providers.fake.submit]
path = "/v1/generations"
job_id_pointer = "/id"
[providers.fake.poll]
path = "/v1/generations/{job}"
status_pointer = "/status"
outputs_pointer = "/outputs"
output_ref_pointer = "/id"
output_url_pointer = "/url"
error_pointer = "/error"
[providers.fake.cancel]
method = "DELETE"
path = "/v1/generations/{job}"
)";
    auto loaded = providers::LoadProviderRegistryText(toml);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    PV_ASSERT_OK(registry.Add((*loaded)->Find("fake")));
    providers::FolderProviderOptions folder;
    folder.id = "archive";
    folder.root = fake_dir_.path() / "archive";
    auto archive = providers::FolderProvider::Open(folder);
    ASSERT_TRUE(archive.has_value());
    PV_ASSERT_OK(registry.Add(*archive));
    resolver_options_.initial_backoff = 20 * 1000;
    resolver_options_.poll_interval = 5 * 1000;
  }

  void TearDown() override {
    generation_pool_.reset();
    generator_.reset();
    if (fake_) fake_->Stop();
    HttpTest::TearDown();
  }

  std::int64_t AddAccount(std::string_view key, std::string_view provider, std::string_view label,
                          std::string_view token) {
    HttpResponse res =
        Call("POST", "/api/v1/provider-accounts", key,
             json::serialize(json::object{{"provider_id", provider},
                                          {"label", label},
                                          {"credentials", json::object{{"api_key", token}}}}),
             {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, 201) << res.body;
    responses_.push_back(res.body);
    return res.status == 201 ? ParseJson(res.body).at("id").to_number<std::int64_t>() : 0;
  }

  HttpResponse Resolve(std::int64_t asset, std::int64_t account, std::string_view extra = "") {
    HttpResponse res =
        Call("GET",
             AssetPath(asset) + "/providers/fake?account=" + std::to_string(account) +
                 std::string(extra),
             alice_key_);
    responses_.push_back(res.body);
    return res;
  }

  void SetFaults(const std::function<void(FaultSettings&)>& change) {
    FaultSettings f = fake_->faults().Get();
    change(f);
    fake_->faults().Set(f);
  }

  // The next `n` uploads the fake receives are answered `status`.
  void FailUploads(std::int64_t n, int status) {
    SetFaults([&](FaultSettings& f) {
      f.fail_next_n = n;
      f.fail_status = status;
      f.fail_only = "upload";
    });
  }

  providers::fake::AccountStats Stats(const std::string& account = "account_1") {
    return fake_->stats().accounts[account];
  }

  // The generator and a pool that runs its jobs on demand (RunOnce).
  service::WorkerPool& GenerationPool() {
    if (!generation_pool_) {
      service::GenerationOptions o;
      o.temp_dir = blob_dir_->path();
      o.poll_initial = 20 * 1000;
      o.poll_max = 100 * 1000;
      o.new_submit_key = [this] {
        return "pv-test-" + std::to_string(submit_keys_.fetch_add(1) + 1);
      };
      generator_ = std::make_unique<service::Generator>(*store_, *ingestor_, *resolver_, providers_,
                                                        system_clock_, o);
      service::WorkerPoolOptions p;
      p.threads = 1;
      p.kinds = {std::string(service::kGenerateJobKind)};
      p.backoff_base = 0;
      p.lease = 3 * kMicrosPerSecond;  // a cancel is noticed within a second
      generation_pool_ = std::make_unique<service::WorkerPool>(*store_, system_clock_, p);
      service::RegisterGenerationJob(*generation_pool_, *generator_);
    }
    return *generation_pool_;
  }

  json::value Job(std::int64_t id) {
    HttpResponse res = Call("GET", "/api/v1/jobs/" + std::to_string(id), alice_key_);
    EXPECT_EQ(res.status, 200) << res.body;
    responses_.push_back(res.body);
    return ParseJson(res.body);
  }

  HttpResponse Generate(const json::object& body) {
    HttpResponse res = Call("POST", "/api/v1/jobs", alice_key_, json::serialize(body),
                            {{"Content-Type", "application/json"}});
    responses_.push_back(res.body);
    return res;
  }

  // No response of the test carried a provider token.
  void ExpectNoTokenInResponses() {
    for (const std::string& body : responses_) {
      EXPECT_EQ(body.find(kAliceToken), std::string::npos) << body;
      EXPECT_EQ(body.find(kAliceToken2), std::string::npos) << body;
    }
  }

  std::atomic<int> submit_keys_{0};  // keys drawn by the generator
  // The adapter's timeout_s: short, so a hung provider fails a test in seconds.
  int adapter_timeout_s_ = 2;
  pixvault::testing::TempDir fake_dir_;
  std::unique_ptr<FakeProvider> fake_;
  std::unique_ptr<service::Generator> generator_;
  std::unique_ptr<service::WorkerPool> generation_pool_;
  std::vector<std::string> responses_;
};

TEST_P(HttpFakeProviderTest, HundredConcurrentResolvesMakeOneDownloadAndOneUpload) {
  if (MediaBytes("image.png").empty()) GTEST_SKIP() << "ffmpeg cannot make image.png";
  const std::int64_t id = UploadMedia(alice_key_, "image.png");
  ASSERT_NE(id, 0);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  const std::int64_t holder = AddAccount(alice_key_, "fake", "holder", kAliceToken2);
  // The bytes live on the provider under another account only: the local copy was evicted.
  HttpResponse held = Resolve(id, holder);
  ASSERT_EQ(held.status, 200) << held.body;
  const json::value asset = GetJson(alice_key_, id);
  PV_ASSERT_OK(blobs_->Remove(std::string(asset.at("sha256").as_string())));
  SetFaults([](FaultSettings& f) { f.latency_ms = 100; });  // callers pile up meanwhile

  std::vector<std::thread> threads;
  std::vector<HttpResponse> answers(100);
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      answers[static_cast<std::size_t>(i)] = Call(
          "GET", AssetPath(id) + "/providers/fake?account=" + std::to_string(account), alice_key_);
    });
  }
  for (auto& t : threads) t.join();
  std::string ref;
  for (const HttpResponse& a : answers) {
    ASSERT_EQ(a.status, 200) << a.body;
    const std::string got(ParseJson(a.body).at("provider_ref").as_string());
    if (ref.empty()) ref = got;
    EXPECT_EQ(got, ref);
    responses_.push_back(a.body);
  }
  EXPECT_EQ(Stats("account_1").uploads, 1);
  EXPECT_EQ(Stats("account_1").upload_requests, 1);
  EXPECT_EQ(Stats("account_1").downloads, 0);
  EXPECT_EQ(Stats("account_2").downloads, 1);  // the evicted bytes, fetched back once
  EXPECT_EQ(Stats("account_2").uploads, 1);    // the holder's own upload, before
  PV_ASSERT_OK_AND_ASSIGN(bool back, blobs_->Exists(std::string(asset.at("sha256").as_string())));
  EXPECT_TRUE(back);
  // Each attempt is recorded under the account it used: the upload under the target account,
  // the download under the account that held the bytes (after that account's own upload).
  auto operations = [&](std::int64_t acc) {
    HttpResponse res =
        Call("GET", AssetPath(id) + "/providers/fake/attempts?account=" + std::to_string(acc),
             alice_key_);
    std::vector<std::string> ops;
    if (res.status != 200) return ops;
    const json::value listed = ParseJson(res.body);
    for (const json::value& a : listed.at("items").as_array()) {
      ops.emplace_back(a.at("operation").as_string());
    }
    return ops;
  };
  EXPECT_EQ(operations(account), (std::vector<std::string>{"upload"}));
  EXPECT_EQ(operations(holder), (std::vector<std::string>{"download", "upload"}));
  ExpectNoTokenInResponses();
}

TEST_P(HttpFakeProviderTest, TwoAccountsMakeTwoUploads) {
  const std::int64_t id = UploadWav(alice_key_, 11);
  const std::int64_t a1 = AddAccount(alice_key_, "fake", "one", kAliceToken);
  const std::int64_t a2 = AddAccount(alice_key_, "fake", "two", kAliceToken2);
  HttpResponse r1 = Resolve(id, a1);
  HttpResponse r2 = Resolve(id, a2);
  ASSERT_EQ(r1.status, 200) << r1.body;
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(Resolve(id, a1).status, 200);
  EXPECT_EQ(Stats("account_1").uploads, 1);
  EXPECT_EQ(Stats("account_2").uploads, 1);
  // Each account's ref is its own: the other account cannot see it.
  const json::value asset = GetJson(alice_key_, id);
  EXPECT_EQ(asset.at("provider_uploads").at("fake").as_object().size(), 2u);
  ExpectNoTokenInResponses();
}

TEST_P(HttpFakeProviderTest, AFiveXXBurstIsRetriedIntoOneRef) {
  const std::int64_t id = UploadWav(alice_key_, 12);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  FailUploads(2, 503);
  HttpResponse r = Resolve(id, account);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseJson(r.body).at("attempts").as_int64(), 3);
  EXPECT_EQ(Stats().upload_requests, 3);
  EXPECT_EQ(Stats().uploads, 1);
}

TEST_P(HttpFakeProviderTest, ALostUploadAnswerLeavesOneCopy) {
  const std::int64_t id = UploadWav(alice_key_, 18);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  // The provider stores the file and its answer is lost: the resolver's next try carries the
  // same key and gets that file, so the provider keeps one copy.
  SetFaults([](FaultSettings& f) { f.lose_next_n_uploads = 1; });
  HttpResponse r = Resolve(id, account);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Stats().upload_requests, 2);
  EXPECT_EQ(Stats().uploads, 1);
  EXPECT_EQ(Stats().replayed_uploads, 1);
  const std::string ref(ParseJson(r.body).at("provider_ref").as_string());
  EXPECT_EQ(ParseJson(Call("GET",
                           AssetPath(id) + "/providers/fake?account=" + std::to_string(account) +
                               "&verify=true",
                           alice_key_)
                          .body)
                .at("provider_ref")
                .as_string(),
            ref);
  // A forced re-upload is a new upload: a new key, a second file.
  HttpResponse forced =
      Call("POST", AssetPath(id) + "/reupload", alice_key_,
           R"({"provider_id":"fake","account_id":)" + std::to_string(account) + "}",
           {{"Content-Type", "application/json"}});
  ASSERT_EQ(forced.status, 200) << forced.body;
  EXPECT_NE(ParseJson(forced.body).at("provider_ref").as_string(), ref);
  EXPECT_EQ(Stats().uploads, 2);
  EXPECT_EQ(Stats().replayed_uploads, 1);
}

TEST_P(HttpFakeProviderTest, AResolveWhoseAnswersWereAllLostLeavesOneCopyForTheNext) {
  const std::int64_t id = UploadWav(alice_key_, 21);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  // Every try of the first resolve stores (or finds) the file, and every answer is lost: the
  // resolve gives up. The next resolve still carries the same key, so it gets that file.
  SetFaults([this](FaultSettings& f) { f.lose_next_n_uploads = resolver_options_.max_attempts; });
  provider_failures_expected_ = true;
  HttpResponse lost = Resolve(id, account);
  EXPECT_NE(lost.status, 200) << lost.body;
  EXPECT_EQ(Stats().upload_requests, resolver_options_.max_attempts);
  EXPECT_EQ(Stats().uploads, 1);
  HttpResponse r = Resolve(id, account);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Stats().uploads, 1);
  EXPECT_EQ(Stats().replayed_uploads, resolver_options_.max_attempts);
}

TEST_P(HttpFakeProviderTest, EvictionAsksTheProviderAndKeepsBytesItForgot) {
  const std::int64_t kept = UploadWav(alice_key_, 22);
  const std::int64_t forgotten = UploadWav(alice_key_, 23);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  ASSERT_EQ(Resolve(kept, account).status, 200);
  ASSERT_EQ(Resolve(forgotten, account).status, 200);
  service::Cache cache(
      *store_, *blobs_, &providers_, system_clock_,
      [this](const storage::CacheCopy& copy) { return resolver_->CheckCopy(copy); });
  // Every ref the provider had is forgotten (a restart, an early expiry): the records still
  // say uploaded and unexpired, and the provider says 404 to each check.
  fake_->ExpireAllRefs();
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport nothing, cache.Evict(0, false));
  EXPECT_EQ(nothing.evicted_blobs, 0);
  EXPECT_EQ(nothing.unverified_blobs, 2);
  EXPECT_TRUE(nothing.over_budget);
  for (const std::int64_t id : {kept, forgotten}) {
    PV_ASSERT_OK_AND_ASSIGN(ProviderUpload row, store_->GetProviderUpload(id, "fake", account));
    EXPECT_EQ(row.status, UploadStatus::kExpired) << id;
  }
  // Uploaded again, one of them may go; the other's local bytes are all there is.
  HttpResponse again = Resolve(kept, account);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(ParseJson(again.body).at("uploaded_now").as_bool());
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport one, cache.Evict(0, false));
  EXPECT_EQ(one.evicted_blobs, 1);
  EXPECT_EQ(one.unverified_blobs, 0);
  PV_ASSERT_OK_AND_ASSIGN(
      bool gone, blobs_->Exists(std::string(GetJson(alice_key_, kept).at("sha256").as_string())));
  EXPECT_FALSE(gone);
  // Read back through the API: fetched from the provider with the account's token.
  const int downloads_before = static_cast<int>(Stats().downloads);
  HttpResponse file = Call("GET", AssetPath(kept) + "/file", alice_key_);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, WavBytes(22));
  EXPECT_EQ(Stats().downloads, downloads_before + 1);
  for (const std::string& body : responses_) {
    EXPECT_EQ(body.find(kAliceToken), std::string::npos) << body;
  }
}

TEST_P(HttpFakeProviderTest, AGeneratedFileTheProviderLostIsNotAskedForAgain) {
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  HttpResponse queued =
      Generate(json::object{{"provider_id", "fake"},
                            {"account_id", account},
                            {"operation_type", "text_to_image"},
                            {"params", json::object{{"width", 64}, {"height", 48}}}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  ASSERT_TRUE(GenerationPool().RunOnce());
  const json::value done = Job(ParseJson(queued.body).at("id").as_int64());
  ASSERT_EQ(done.at("status").as_string(), "succeeded") << json::serialize(done);
  const std::int64_t image =
      done.at("result").at("outputs").as_array()[0].at("asset_id").as_int64();
  EXPECT_TRUE(GetJson(alice_key_, image).at("origin_lost_at").is_null());
  // An origin counts as lost once its provider said so twice, some time apart (here: any).
  service::ResolverOptions confirm_at_once = resolver_options_;
  confirm_at_once.origin_confirm_after = 1;
  service::Resolver resolver(*store_, *blobs_, providers_, *credentials_, system_clock_,
                             confirm_at_once);
  service::Cache cache(
      *store_, *blobs_, &providers_, system_clock_,
      [&resolver](const storage::CacheCopy& copy) { return resolver.CheckCopy(copy); });
  // The provider dropped the file it made: the row that records it there is expired at once;
  // the origin ref is asked about again in the next pass, and is lost when the answer stays.
  fake_->ExpireAllRefs();
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport first, cache.Evict(0, false));
  EXPECT_EQ(first.evicted_blobs, 0);
  EXPECT_EQ(first.unverified_blobs, 1);
  json::value asset = GetJson(alice_key_, image);
  EXPECT_TRUE(asset.at("origin_lost_at").is_null()) << json::serialize(asset);
  EXPECT_EQ(asset.at("provider_uploads").at("fake").at(std::to_string(account)).at("status"),
            "expired");
  std::int64_t requests = fake_->stats().requests;
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport confirmed, cache.Evict(0, false));
  EXPECT_EQ(confirmed.unverified_blobs, 1);
  EXPECT_EQ(fake_->stats().requests, requests + 1);  // the origin, once
  asset = GetJson(alice_key_, image);
  EXPECT_TRUE(asset.at("origin_lost_at").is_string()) << json::serialize(asset);
  requests = fake_->stats().requests;
  PV_ASSERT_OK_AND_ASSIGN(service::EvictionReport second, cache.Evict(0, false));
  EXPECT_EQ(second.evicted_blobs, 0);
  EXPECT_EQ(second.unverified_blobs, 0);  // nothing left to ask about: the only copy
  EXPECT_TRUE(second.over_budget);
  EXPECT_EQ(fake_->stats().requests, requests);
  PV_ASSERT_OK_AND_ASSIGN(service::CacheStatus status, cache.GetStatus(0));
  EXPECT_EQ(status.only_copy_blobs, 1);
  HttpResponse file = Call("GET", AssetPath(image) + "/file", alice_key_);
  EXPECT_EQ(file.status, 200);
}

TEST_P(HttpFakeProviderTest, AProviderFailingInARowIsAnswered503AtOnce) {
  provider_failures_expected_ = true;
  const std::int64_t first = UploadWav(alice_key_, 19);
  const std::int64_t second = UploadWav(alice_key_, 20);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  FailUploads(1000, 502);
  HttpResponse failed = Resolve(first, account);
  EXPECT_EQ(failed.status, 503) << failed.body;
  const std::int64_t asked = Stats().upload_requests;
  EXPECT_EQ(asked, 4);  // every try of the first resolve (the default breaker opens at 8)
  HttpResponse again = Resolve(first, account);
  EXPECT_EQ(again.status, 503) << again.body;
  EXPECT_EQ(Stats().upload_requests, 8);
  // The breaker is open: the next resolve is answered without asking the provider.
  HttpResponse fast = Resolve(second, account);
  EXPECT_EQ(fast.status, 503) << fast.body;
  EXPECT_EQ(fast.Header("Content-Type").value_or(""), "application/problem+json");
  EXPECT_NE(fast.body.find("not asked again"), std::string::npos) << fast.body;
  EXPECT_EQ(Stats().upload_requests, 8);
}

TEST_P(HttpFakeProviderTest, AModerationRefusalIsRecordedWithoutARetryStorm) {
  const std::int64_t id = UploadWav(alice_key_, 13);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  SetFaults([](FaultSettings& f) { f.moderate_next_n = 1; });
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = Resolve(id, account);
    EXPECT_EQ(r.status, 403) << r.body;
    CheckResponse(r, "moderated");
    EXPECT_NE(r.body.find("moderated"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Stats().upload_requests, 1);  // asked once, never again
  const json::value asset = GetJson(alice_key_, id);
  const json::value& row = asset.at("provider_uploads").at("fake").at(std::to_string(account));
  EXPECT_EQ(row.at("status").as_string(), "failed");
  // A forced re-upload asks again (and the provider now accepts it).
  HttpResponse again =
      Call("POST", AssetPath(id) + "/reupload", alice_key_,
           R"({"provider_id":"fake","account_id":)" + std::to_string(account) + "}",
           {{"Content-Type", "application/json"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Stats().uploads, 1);
}

TEST_P(HttpFakeProviderTest, AnExpiredRefIsUploadedAgainOnce) {
  const std::int64_t id = UploadWav(alice_key_, 14);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  HttpResponse first = Resolve(id, account);
  ASSERT_EQ(first.status, 200) << first.body;
  fake_->ExpireAllRefs();
  HttpResponse second = Resolve(id, account, "&verify=true");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(ParseJson(second.body).at("uploaded_now").as_bool());
  EXPECT_NE(ParseJson(second.body).at("provider_ref"), ParseJson(first.body).at("provider_ref"));
  HttpResponse third = Resolve(id, account, "&verify=true");
  ASSERT_EQ(third.status, 200);
  EXPECT_FALSE(ParseJson(third.body).at("uploaded_now").as_bool());
  EXPECT_EQ(Stats().uploads, 2);
}

TEST_P(HttpFakeProviderTest, AHungProviderFailsTheResolveWithinTheTimeout) {
  provider_failures_expected_ = true;
  const std::int64_t id = UploadWav(alice_key_, 15);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  SetFaults([](FaultSettings& f) { f.hang = true; });
  HttpResponse r = Resolve(id, account);
  EXPECT_EQ(r.status, 503) << r.body;
  SetFaults([](FaultSettings& f) { f.hang = false; });
  // The failure was transient: the next resolve uploads. (The fake stores the hung uploads
  // it finally answers, as a real provider may: refs nobody learned of.)
  HttpResponse ok = Resolve(id, account);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ParseJson(ok.body).at("attempts").as_int64(), 5);  // 4 timed out, then this one
  HttpResponse attempts =
      Call("GET", AssetPath(id) + "/providers/fake/attempts?account=" + std::to_string(account),
           alice_key_);
  const json::value listed = ParseJson(attempts.body);
  ASSERT_EQ(listed.at("items").as_array().size(), 5u);
  EXPECT_TRUE(listed.at("items").as_array()[0].at("succeeded").as_bool());
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(listed.at("items").as_array()[i].at("error_code").as_string(), "unavailable");
  }
}

TEST_P(HttpFakeProviderTest, AGenerationJobResolvesItsInputAndRecordsLineage) {
  if (MediaBytes("image.png").empty()) GTEST_SKIP() << "ffmpeg cannot make image.png";
  const std::int64_t image = UploadMedia(alice_key_, "image.png");
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  SetFaults([](FaultSettings& f) { f.cdn_delay_ms = 300; });  // outputs 404 for a while
  HttpResponse queued = Generate(json::object{
      {"provider_id", "fake"},
      {"operation_type", "image_to_video"},
      {"params", json::object{{"image_asset_id", image}, {"duration_s", 1}, {"image_frame", 0}}}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::int64_t job = ParseJson(queued.body).at("id").as_int64();
  EXPECT_EQ(queued.Header("Location").value_or(""), "/api/v1/jobs/" + std::to_string(job));
  ASSERT_TRUE(GenerationPool().RunOnce());
  const json::value done = Job(job);
  ASSERT_EQ(done.at("status").as_string(), "succeeded") << json::serialize(done);
  const json::array& outputs = done.at("result").at("outputs").as_array();
  ASSERT_EQ(outputs.size(), 1u);
  const std::int64_t video = outputs[0].at("asset_id").as_int64();
  EXPECT_EQ(Stats().uploads, 1);  // the input image
  EXPECT_EQ(Stats().generations, 1);

  const json::value asset = GetJson(alice_key_, video);
  EXPECT_EQ(asset.at("media_type").as_string(), "video");
  EXPECT_EQ(asset.at("provider_id").as_string(), "fake");
  EXPECT_EQ(asset.at("provider_asset_id").as_string(), outputs[0].at("ref").as_string());
  HttpResponse parents = Call("GET", AssetPath(video) + "/parents", alice_key_);
  ASSERT_EQ(parents.status, 200) << parents.body;
  const json::value p = ParseJson(parents.body);
  ASSERT_EQ(p.at("items").as_array().size(), 1u) << parents.body;
  const json::value& edge = p.at("items").as_array()[0];
  EXPECT_EQ(edge.at("parent_asset_id").as_int64(), image);
  EXPECT_EQ(edge.at("parent_role").as_string(), "image");
  EXPECT_EQ(edge.at("operation_type").as_string(), "image_to_video");
  EXPECT_EQ(edge.at("operation_job_id").as_int64(), job);
  EXPECT_EQ(edge.at("parent_frame").as_int64(), 0);

  // The output is on the provider already: using it there uploads nothing, and extending it
  // uploads nothing either.
  HttpResponse output_ref = Resolve(video, account);
  ASSERT_EQ(output_ref.status, 200) << output_ref.body;
  EXPECT_FALSE(ParseJson(output_ref.body).at("uploaded_now").as_bool());
  HttpResponse extend = Generate(json::object{{"provider_id", "fake"},
                                              {"account_id", account},
                                              {"operation_type", "video_extend"},
                                              {"params", json::object{{"video_asset_id", video}}}});
  ASSERT_EQ(extend.status, 202) << extend.body;
  ASSERT_TRUE(GenerationPool().RunOnce());
  const json::value extended = Job(ParseJson(extend.body).at("id").as_int64());
  EXPECT_EQ(extended.at("status").as_string(), "succeeded") << json::serialize(extended);
  EXPECT_EQ(Stats().uploads, 1);
  ExpectNoTokenInResponses();
}

TEST_P(HttpFakeProviderTest, BadGenerationRequestsAreRefused) {
  const std::int64_t image = UploadWav(alice_key_, 16);
  const std::int64_t bobs = UploadWav(bob_key_, 17);
  AddAccount(alice_key_, "fake", "main", kAliceToken);
  struct Case {
    std::string body;
    int status;
  };
  const std::vector<Case> cases = {
      {"{", 400},
      {"[]", 400},
      {"{}", 400},
      {R"({"provider_id":"fake"})", 400},
      {R"({"provider_id":"nope","operation_type":"text_to_video"})", 404},
      {R"({"provider_id":"fake","operation_type":"teleport"})", 400},
      {R"({"provider_id":"fake","operation_type":"upscale"})", 400},  // not one the fake runs
      {R"({"provider_id":"archive","operation_type":"text_to_video"})", 400},
      {R"({"provider_id":"fake","operation_type":"text_to_video","params":[]})", 400},
      {R"({"provider_id":"fake","operation_type":"text_to_video","extra":1})", 400},
      {R"({"provider_id":"fake","operation_type":"text_to_video","timeout_s":1})", 400},
      {R"({"provider_id":"fake","operation_type":"text_to_video","account_id":999})", 404},
      {R"({"provider_id":"fake","operation_type":"image_to_video","params":{"image_asset_id":"x"}})",
       400},
      {R"({"provider_id":"fake","operation_type":"image_to_video","params":{"image_asset_id":0}})",
       400},
      {R"({"provider_id":"fake","operation_type":"image_to_video","params":{"image_asset_id":)" +
           std::to_string(bobs) + "}}",
       404},
      {R"({"provider_id":"fake","operation_type":"image_to_video","params":{"image_asset_ids":[]}})",
       400},
  };
  for (const Case& c : cases) {
    HttpResponse res =
        Call("POST", "/api/v1/jobs", alice_key_, c.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, c.status) << c.body << ": " << res.body;
    CheckResponse(res, c.body);
  }
  // An idempotency key gives one job for repeated requests.
  const json::object body{{"provider_id", "fake"},
                          {"operation_type", "image_to_video"},
                          {"idempotency_key", "once"},
                          {"params", json::object{{"image_asset_id", image}}}};
  HttpResponse first = Generate(body);
  HttpResponse second = Generate(body);
  ASSERT_EQ(first.status, 202) << first.body;
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(ParseJson(first.body).at("id"), ParseJson(second.body).at("id"));
  EXPECT_EQ(Stats().upload_requests, 0);  // nothing reaches the provider before the job runs
}

TEST_P(HttpFakeProviderTest, AJobWhoseProviderHangsTimesOutAndResumesLater) {
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  // The provider's job runs 1.5 s; from 0.5 s on the provider hangs, so no poll of this
  // attempt learns that it finished.
  SetFaults([](FaultSettings& f) { f.generation_delay_ms = 1500; });
  HttpResponse queued = Generate(json::object{{"provider_id", "fake"},
                                              {"account_id", account},
                                              {"operation_type", "text_to_image"},
                                              {"timeout_s", 10}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::int64_t job = ParseJson(queued.body).at("id").as_int64();
  // Submitted, then the provider hangs: every poll times out until the attempt's deadline.
  std::thread hang([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    SetFaults([](FaultSettings& f) { f.hang = true; });
  });
  ASSERT_TRUE(GenerationPool().RunOnce());
  hang.join();
  const json::value timed_out = Job(job);
  EXPECT_EQ(timed_out.at("status").as_string(), "queued") << json::serialize(timed_out);
  EXPECT_NE(timed_out.at("last_error").as_string().find("did not finish within 10 s"),
            std::string::npos)
      << json::serialize(timed_out);
  const std::string provider_job(timed_out.at("result").at("provider_job_id").as_string());
  // The provider recovers: the next attempt polls the same provider job, submits nothing new.
  SetFaults([](FaultSettings& f) { f.hang = false; });
  const std::int64_t generations = Stats().generations;
  ASSERT_TRUE(Eventually([&] { return GenerationPool().RunOnce(); }));
  const json::value done = Job(job);
  EXPECT_EQ(done.at("status").as_string(), "succeeded") << json::serialize(done);
  EXPECT_EQ(done.at("result").at("provider_job_id").as_string(), provider_job);
  EXPECT_EQ(Stats().generations, generations);
}

TEST_P(HttpFakeProviderTest, ALostSubmissionAnswerMakesNoSecondJob) {
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  // The provider makes the job but its answer is lost (504 from its gateway): from here that
  // is the same as pixvault dying before it saved the provider's job id.
  SetFaults([](FaultSettings& f) { f.lose_next_n_submits = 1; });
  HttpResponse queued = Generate(json::object{
      {"provider_id", "fake"}, {"account_id", account}, {"operation_type", "text_to_image"}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::int64_t job = ParseJson(queued.body).at("id").as_int64();
  ASSERT_TRUE(GenerationPool().RunOnce());
  const json::value lost = Job(job);
  EXPECT_EQ(lost.at("status").as_string(), "queued") << json::serialize(lost);
  EXPECT_NE(lost.at("last_error").as_string().find("504"), std::string::npos)
      << json::serialize(lost);
  EXPECT_FALSE(lost.at("result").as_object().contains("provider_job_id"));
  const std::string key(lost.at("result").at("submit_key").as_string());
  EXPECT_EQ(key, "pv-test-1");
  EXPECT_EQ(Stats().generations, 1);
  // The next attempt submits under the same key and gets the job made the first time.
  ASSERT_TRUE(Eventually([&] { return GenerationPool().RunOnce(); }));
  const json::value done = Job(job);
  EXPECT_EQ(done.at("status").as_string(), "succeeded") << json::serialize(done);
  EXPECT_EQ(done.at("result").at("submit_key").as_string(), key);  // not drawn again
  EXPECT_EQ(submit_keys_, 1);
  EXPECT_EQ(done.at("result").at("outputs").as_array().size(), 1u);
  EXPECT_EQ(Stats().generations, 1);
  EXPECT_EQ(Stats().replayed_submits, 1);
}

TEST_P(HttpFakeProviderTest, ACancelledJobIsCancelledAtTheProvider) {
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  SetFaults([](FaultSettings& f) { f.generation_delay_ms = 60'000; });
  HttpResponse queued = Generate(json::object{
      {"provider_id", "fake"}, {"account_id", account}, {"operation_type", "text_to_video"}});
  ASSERT_EQ(queued.status, 202);
  const std::int64_t job = ParseJson(queued.body).at("id").as_int64();
  std::thread cancel([&] {
    Eventually([&] {  // submitted
      const json::value now = Job(job);
      return now.at("result").is_object() &&
             now.at("result").as_object().contains("provider_job_id");
    });
    HttpResponse res = Call("DELETE", "/api/v1/jobs/" + std::to_string(job), alice_key_);
    EXPECT_EQ(res.status, 200) << res.body;
  });
  ASSERT_TRUE(GenerationPool().RunOnce());
  cancel.join();
  const json::value cancelled = Job(job);
  EXPECT_EQ(cancelled.at("status").as_string(), "cancelled");
  // The provider's job was cancelled too.
  providers::AccountAccess access;
  access.credentials = json::object{{"api_key", kAliceToken}};
  auto at_provider = providers_.Find("fake")->Poll(
      access, std::string(cancelled.at("result").at("provider_job_id").as_string()));
  ASSERT_TRUE(at_provider.has_value()) << at_provider.error().message;
  EXPECT_EQ(at_provider->state, providers::GenerationState::kCanceled);
}

PV_INSTANTIATE_STORE_TEST(HttpFakeProviderTest);

// One thread in each pool: a resolve that waits on the provider holds all of the remote pool.
class HttpFakeProviderOnePoolThreadTest : public HttpFakeProviderTest {
 protected:
  HttpFakeProviderOnePoolThreadTest() {
    server_options_.blocking_threads = 1;
    server_options_.remote_threads = 1;
    // A hung resolve waits until the test releases the provider, however slow the machine.
    adapter_timeout_s_ = 120;
  }

  // Makes the provider hang and starts a first-time resolve of `asset` that waits on it;
  // returns once the provider has seen its request.
  void HangAResolve(std::int64_t asset, std::int64_t account) {
    provider_failures_expected_ = true;
    SetFaults([](FaultSettings& f) { f.hang = true; });
    const std::int64_t requests_before = fake_->stats().requests;
    hung_ = std::thread([this, asset, account] {
      hung_status_ =
          Call("GET", AssetPath(asset) + "/providers/fake?account=" + std::to_string(account),
               alice_key_)
              .status;
      hung_done_ = true;
    });
    for (int i = 0; i < 1000 && fake_->stats().requests == requests_before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(fake_->stats().requests, requests_before) << "the resolve never reached the fake";
  }

  // Releases the provider; the hung resolve's status (200, or 503 if it had timed out).
  int ReleaseHungResolve() {
    SetFaults([](FaultSettings& f) { f.hang = false; });
    if (hung_.joinable()) hung_.join();
    return hung_status_;
  }

  void TearDown() override {
    ReleaseHungResolve();
    HttpFakeProviderTest::TearDown();
  }

  std::thread hung_;
  std::atomic<bool> hung_done_{false};
  int hung_status_ = 0;
};

TEST_P(HttpFakeProviderOnePoolThreadTest, ACachedResolveIsAnsweredWhileTheRemotePoolWaits) {
  const std::int64_t cached = UploadWav(alice_key_, 11);
  const std::int64_t slow = UploadWav(alice_key_, 12);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  HttpResponse first = Resolve(cached, account);
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string ref(ParseJson(first.body).at("provider_ref").as_string());
  ASSERT_NO_FATAL_FAILURE(HangAResolve(slow, account));

  // The cached ref is answered from the database on the I/O thread, before the slow resolve
  // lets go of the pool; so are errors about the request.
  HttpResponse again = Resolve(cached, account);
  EXPECT_FALSE(hung_done_.load()) << "the cached resolve waited for the remote pool";
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(ParseJson(again.body).at("provider_ref").as_string(), ref);
  EXPECT_FALSE(ParseJson(again.body).at("uploaded_now").as_bool());
  HttpResponse unknown_account = Resolve(cached, account + 100);
  EXPECT_EQ(unknown_account.status, 404) << unknown_account.body;
  HttpResponse unknown_asset = Resolve(cached + 1000, account);
  EXPECT_EQ(unknown_asset.status, 404) << unknown_asset.body;
  HttpResponse bob_asks = Call(
      "GET", AssetPath(cached) + "/providers/fake?account=" + std::to_string(account), bob_key_);
  EXPECT_EQ(bob_asks.status, 404) << bob_asks.body;
  EXPECT_FALSE(hung_done_.load());

  // Released, the hung upload is answered, or the resolve had timed out by then.
  const int status = ReleaseHungResolve();
  EXPECT_TRUE(status == 200 || status == 503) << status;
  ExpectNoTokenInResponses();
}

TEST_P(HttpFakeProviderOnePoolThreadTest, LocalWorkGoesOnWhileAHungProviderHoldsTheRemotePool) {
  const std::int64_t slow = UploadWav(alice_key_, 13);
  const std::int64_t account = AddAccount(alice_key_, "fake", "main", kAliceToken);
  ASSERT_NO_FATAL_FAILURE(HangAResolve(slow, account));
  // An upload is finished (fsync) and a thumbnail rendered on the blocking pool, which the
  // hung resolve does not hold: both are answered while it still waits.
  const std::int64_t uploaded = UploadWav(alice_key_, 14);
  EXPECT_GT(uploaded, 0);
  HttpResponse waveform = Call("GET", AssetPath(uploaded) + "/thumbnail", alice_key_);
  EXPECT_EQ(waveform.status, 200) << waveform.body;
  // Local bytes are served too: the first read stamps the access time (blocking pool), the
  // next is answered on the I/O thread.
  for (int i = 0; i < 2; ++i) {
    HttpResponse file = Call("GET", AssetPath(uploaded) + "/file", alice_key_);
    EXPECT_EQ(file.status, 200) << file.body;
    EXPECT_EQ(file.body.substr(0, 4), "RIFF");
  }
  EXPECT_FALSE(hung_done_.load()) << "local work waited for the hung provider";
  const int status = ReleaseHungResolve();
  EXPECT_TRUE(status == 200 || status == 503) << status;
}

PV_INSTANTIATE_STORE_TEST(HttpFakeProviderOnePoolThreadTest);

}  // namespace
}  // namespace pixvault::http::testing
