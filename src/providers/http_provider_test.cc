// The http adapter against the REAL fake provider (docs/fake-provider.md), in process, over a
// socket: every fault the fake can inject maps onto the error the Provider contract promises.
#include "providers/http_provider.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "providers/fake/fake_provider.h"
#include "testing/temp_dir.h"

namespace pixvault::providers {
namespace {

namespace json = boost::json;
using fake::FakeProvider;
using fake::FakeProviderOptions;
using fake::FaultSettings;
using pixvault::testing::TempDir;
using pixvault::testing::WriteFile;

constexpr const char* kAlice = "alice-secret-token-7f3a";
constexpr const char* kBob = "bob-secret-token-91c2";

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

class HttpProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeProviderOptions options;
    options.data_dir = dir_ / "fake";
    options.tokens = {kAlice, kBob};
    options.clock = &clock_;
    fake_ = std::make_unique<FakeProvider>(options);
    ASSERT_TRUE(fake_->Start());
    provider_ = Make(Options());
    alice_ = Account(1, kAlice);
    bob_ = Account(2, kBob);
    content_ = RandomBytes(700 * 1000 + 17, 1);
    file_ = dir_ / "upload.bin";
    WriteFile(file_, content_);
  }
  void TearDown() override { fake_->Stop(); }

  HttpProviderOptions Options() const {
    HttpProviderOptions o;
    o.id = "fake";
    o.base_url = fake_->base_url();
    o.auth_value = "Bearer {api_key}";
    o.capabilities.operations = {"text_to_video", "image_to_video", "video_extend",
                                 "text_to_image"};
    o.timeout = 1 * kMicrosPerSecond;
    o.transfer_timeout = 5 * kMicrosPerSecond;
    o.connect_timeout = 1 * kMicrosPerSecond;
    return o;
  }
  static std::shared_ptr<HttpProvider> Make(HttpProviderOptions o) {
    auto p = HttpProvider::Create(std::move(o));
    EXPECT_TRUE(p) << p.error().message;
    return p ? *p : nullptr;
  }
  static AccountAccess Account(std::int64_t id, const std::string& token) {
    AccountAccess a;
    a.account_id = id;
    a.label = "acct" + std::to_string(id);
    a.credentials["api_key"] = token;
    return a;
  }
  UploadFile File() const {
    UploadFile f;
    f.path = file_;
    f.size = static_cast<std::int64_t>(content_.size());
    f.sha256 = std::string(64, 'a');
    f.content_type = "image/png";
    f.filename = "a.png";
    f.media_type = MediaType::kImage;
    return f;
  }
  void Faults(const std::function<void(FaultSettings&)>& change) {
    FaultSettings s = fake_->faults().Get();
    change(s);
    fake_->faults().Set(s);
  }
  Result<std::string> Download(const ProviderRef& ref, std::int64_t offset,
                               std::optional<std::int64_t>* total = nullptr,
                               const AccountAccess* account = nullptr) {
    std::string out;
    int starts = 0;
    DownloadSink sink;
    sink.on_start = [&](std::optional<std::int64_t> size) -> Status {
      ++starts;
      if (total != nullptr) *total = size;
      return Ok();
    };
    sink.on_data = [&](std::span<const std::byte> data) -> Status {
      EXPECT_EQ(starts, 1);
      out.append(reinterpret_cast<const char*>(data.data()), data.size());
      return Ok();
    };
    PV_RETURN_IF_ERROR(provider_->Download(account ? *account : alice_, ref, offset, sink));
    EXPECT_EQ(starts, 1);
    return out;
  }
  // Polls until the job leaves queued/running (at most a minute).
  GenerationStatus WaitForJob(const std::string& job) {
    GenerationStatus s;
    for (int i = 0; i < 600; ++i) {
      auto p = provider_->Poll(alice_, job);
      EXPECT_TRUE(p) << p.error().message;
      if (!p) break;
      s = *p;
      if (s.state != GenerationState::kQueued && s.state != GenerationState::kRunning) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return s;
  }
  // Every error message seen, to check no credential leaks.
  template <class T>
  void Expect(const Result<T>& r, ErrorCode code, std::string_view contains = "") {
    ASSERT_FALSE(r) << "expected " << ErrorCodeName(code);
    EXPECT_EQ(r.error().code, code) << r.error().message;
    if (!contains.empty()) {
      EXPECT_NE(r.error().message.find(contains), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(r.error().message.find(kAlice), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(kBob), std::string::npos) << r.error().message;
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<FakeProvider> fake_;
  std::shared_ptr<HttpProvider> provider_;
  AccountAccess alice_, bob_;
  std::string content_;
  std::filesystem::path file_;
};

TEST_F(HttpProviderTest, UploadThenDownloadWholeAndResumed) {
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->ref, "file_1");
  EXPECT_EQ(ref->url, fake_->base_url() + "/v1/files/file_1/content");
  EXPECT_FALSE(ref->expires_at);
  EXPECT_EQ(fake_->stats().total.uploads, 1);
  EXPECT_EQ(fake_->stats().total.upload_bytes, static_cast<std::int64_t>(content_.size()));

  std::optional<std::int64_t> total;
  auto all = Download(*ref, 0, &total);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_TRUE(*all == content_);
  EXPECT_EQ(total, static_cast<std::int64_t>(content_.size()));

  total.reset();
  auto rest = Download(*ref, 123457, &total);
  ASSERT_TRUE(rest) << rest.error().message;
  EXPECT_TRUE(*rest == content_.substr(123457));
  EXPECT_EQ(total, static_cast<std::int64_t>(content_.size()));  // the whole file's size

  // Resuming with every byte already there: nothing more, and the size.
  auto none = Download(*ref, static_cast<std::int64_t>(content_.size()), &total);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(total, static_cast<std::int64_t>(content_.size()));
  Expect(Download(*ref, static_cast<std::int64_t>(content_.size()) + 1),
         ErrorCode::kInvalidArgument);
  EXPECT_EQ(fake_->stats().total.downloads, 2);
}

TEST_F(HttpProviderTest, ConcurrentCallsFromManyThreads) {
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const AccountAccess& who = t % 2 == 0 ? alice_ : bob_;
      auto ref = provider_->Upload(who, File());
      if (!ref) return;
      std::string out;
      DownloadSink sink;
      sink.on_data = [&](std::span<const std::byte> d) -> Status {
        out.append(reinterpret_cast<const char*>(d.data()), d.size());
        return Ok();
      };
      if (provider_->Download(who, *ref, 0, sink) && out == content_) ++ok;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(fake_->stats().total.uploads, kThreads);
}

TEST_F(HttpProviderTest, ConnectionsAreReused) {
  auto client = std::make_shared<HttpClient>();
  auto p = HttpProvider::Create(Options(), client);
  ASSERT_TRUE(p) << p.error().message;
  auto ref = (*p)->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE((*p)->Check(alice_, *ref));
  std::string out;
  DownloadSink sink;
  sink.on_data = [&](std::span<const std::byte> d) -> Status {
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
    return Ok();
  };
  ASSERT_TRUE((*p)->Download(alice_, *ref, 0, sink));
  EXPECT_TRUE(out == content_);
  Expect((*p)->Check(bob_, *ref), ErrorCode::kNotFound);  // an error answer keeps it too
  EXPECT_TRUE((*p)->Check(alice_, *ref));
  EXPECT_EQ(client->connections_opened(), 1);
  // An upload (a POST that may be sent twice) takes the pooled connection too ...
  ASSERT_TRUE((*p)->Upload(alice_, File()));
  EXPECT_EQ(client->connections_opened(), 1);
  // ... a generation request never does: sent twice, it would start two jobs.
  auto job = (*p)->Submit(alice_, "text_to_image", json::object{{"width", 16}, {"height", 16}}, "");
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(client->connections_opened(), 2);
}

TEST_F(HttpProviderTest, AnUnreadableFileIsAnErrorNamingTheFileNotItsFolder) {
  UploadFile f = File();
  f.path = file_.parent_path() / "gone.png";
  auto ref = provider_->Upload(alice_, f);
  Expect(ref, ErrorCode::kInternal, "gone.png");
  // The message reaches API clients and stored attempts: no server folder in it.
  EXPECT_EQ(ref.error().message.find(file_.parent_path().string()), std::string::npos)
      << ref.error().message;
}

TEST_F(HttpProviderTest, CheckDeleteThenCheckIsNotFound) {
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_TRUE(provider_->Check(alice_, *ref));
  ASSERT_TRUE(provider_->Delete(alice_, *ref));
  Expect(provider_->Check(alice_, *ref), ErrorCode::kNotFound, "unknown ref");
  Expect(provider_->Delete(alice_, *ref), ErrorCode::kNotFound);
  Expect(Download(*ref, 0), ErrorCode::kNotFound);
}

TEST_F(HttpProviderTest, RefsAreScopedToTheirAccount) {
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  Expect(provider_->Check(bob_, *ref), ErrorCode::kNotFound);
  Expect(Download(*ref, 0, nullptr, &bob_), ErrorCode::kNotFound);
  Expect(provider_->Delete(bob_, *ref), ErrorCode::kNotFound);
  EXPECT_TRUE(provider_->Check(alice_, *ref));
}

TEST_F(HttpProviderTest, RefsWithOddCharactersArePercentEncoded) {
  // Pasted raw, these would change the route or end the path; encoded, the fake looks up
  // one unknown file id.
  Expect(provider_->Check(alice_, ProviderRef{"x y?z=1#w", "", std::nullopt}), ErrorCode::kNotFound,
         "unknown ref");
  EXPECT_EQ(fake_->stats().requests, 1);
  // An empty ref or job id is unknown without asking.
  Expect(provider_->Check(alice_, ProviderRef{}), ErrorCode::kNotFound, "empty");
  Expect(provider_->Poll(alice_, ""), ErrorCode::kNotFound, "empty");
  EXPECT_EQ(fake_->stats().requests, 1);
}

TEST_F(HttpProviderTest, ExpiredRefsAreNotFound) {
  Faults([](FaultSettings& s) { s.ref_ttl_s = 60; });
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  ASSERT_TRUE(ref->expires_at);
  EXPECT_EQ(*ref->expires_at, (clock_.Now() / kMicrosPerSecond + 60) * kMicrosPerSecond);
  EXPECT_TRUE(provider_->Check(alice_, *ref));
  clock_.Advance(61 * kMicrosPerSecond);
  Expect(provider_->Check(alice_, *ref), ErrorCode::kNotFound);
  Expect(Download(*ref, 0), ErrorCode::kNotFound);

  Faults([](FaultSettings& s) { s.ref_ttl_s = 0; });
  auto other = provider_->Upload(alice_, File());
  ASSERT_TRUE(other);
  fake_->ExpireAllRefs();
  Expect(provider_->Check(alice_, *other), ErrorCode::kNotFound);
}

TEST_F(HttpProviderTest, CdnDelayIsNotFoundThenSuccess) {
  Faults([](FaultSettings& s) { s.cdn_delay_ms = 5000; });
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_TRUE(provider_->Check(alice_, *ref));  // metadata answers at once
  Expect(Download(*ref, 0), ErrorCode::kNotFound, "not yet propagated");
  clock_.Advance(5001 * 1000);
  auto all = Download(*ref, 0);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_TRUE(*all == content_);
}

TEST_F(HttpProviderTest, ServerErrorsAreUnavailableAndOneAttemptIsMade) {
  Faults([](FaultSettings& s) {
    s.fail_next_n = 2;
    s.fail_status = 503;
    s.fail_only = "upload";
  });
  Expect(provider_->Upload(alice_, File()), ErrorCode::kUnavailable, "503");
  EXPECT_EQ(fake_->stats().requests, 1);  // no retry inside the adapter
  Expect(provider_->Upload(alice_, File()), ErrorCode::kUnavailable);
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;

  const std::pair<int, ErrorCode> cases[] = {
      {500, ErrorCode::kUnavailable},      {502, ErrorCode::kUnavailable},
      {429, ErrorCode::kUnavailable},      {408, ErrorCode::kUnavailable},
      {400, ErrorCode::kInvalidArgument},  {413, ErrorCode::kInvalidArgument},
      {401, ErrorCode::kPermissionDenied}, {403, ErrorCode::kPermissionDenied},
      {410, ErrorCode::kNotFound},         {422, ErrorCode::kPermissionDenied},
  };
  for (const auto& [status, code] : cases) {
    const int st = status;
    Faults([st](FaultSettings& s) {
      s.fail_next_n = 1;
      s.fail_status = st;
      s.fail_only = "";
    });
    SCOPED_TRACE(status);
    Expect(provider_->Check(alice_, *ref), code, std::to_string(status));
  }
  EXPECT_TRUE(provider_->Check(alice_, *ref));
}

TEST_F(HttpProviderTest, AHangIsUnavailableWithinTheTimeout) {
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  Faults([](FaultSettings& s) { s.hang = true; });
  // Each call fails with a timeout (the 1 s idle timeout), not by waiting for the release.
  Expect(provider_->Check(alice_, *ref), ErrorCode::kUnavailable, "timed out");
  Expect(Download(*ref, 0), ErrorCode::kUnavailable, "timed out");
  Expect(provider_->Upload(alice_, File()), ErrorCode::kUnavailable, "timed out");
  fake_->faults().Reset();
  EXPECT_TRUE(provider_->Check(alice_, *ref));
}

TEST_F(HttpProviderTest, LatencyBelowTheTimeoutIsFineAboveItUnavailable) {
  auto ref = provider_->Upload(alice_, File());
  ASSERT_TRUE(ref) << ref.error().message;
  Faults([](FaultSettings& s) { s.latency_ms = 300; });
  EXPECT_TRUE(provider_->Check(alice_, *ref));
  Faults([](FaultSettings& s) { s.latency_ms = 2500; });
  Expect(provider_->Check(alice_, *ref), ErrorCode::kUnavailable, "timed out");
}

TEST_F(HttpProviderTest, ModerationIsPermissionDeniedWithTheProvidersText) {
  Faults([](FaultSettings& s) { s.moderate_next_n = 1; });
  Expect(provider_->Upload(alice_, File()), ErrorCode::kPermissionDenied, "moderated");
  EXPECT_TRUE(provider_->Upload(alice_, File()));
}

TEST_F(HttpProviderTest, BadOrMissingCredentials) {
  AccountAccess wrong = Account(3, "wrong-secret-value");
  auto r = provider_->Upload(wrong, File());
  Expect(r, ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.error().message.find("wrong-secret-value"), std::string::npos);

  AccountAccess empty;
  empty.account_id = 4;
  empty.credentials["token"] = "another-secret";
  auto m = provider_->Check(empty, ProviderRef{"file_1", "", std::nullopt});
  Expect(m, ErrorCode::kInvalidArgument, "'api_key'");
  EXPECT_EQ(m.error().message.find("another-secret"), std::string::npos);
  EXPECT_EQ(fake_->stats().requests, 1);  // the missing credential never left the process
}

TEST_F(HttpProviderTest, GenerationSubmitPollAndDownloadTheOutput) {
  json::object params{{"width", 32}, {"height", 32}, {"prompt", "a cat"}};
  auto job = provider_->Submit(alice_, "text_to_image", params, "key-1");
  ASSERT_TRUE(job) << job.error().message;
  GenerationStatus s = WaitForJob(*job);
  ASSERT_EQ(s.state, GenerationState::kSucceeded) << s.error;
  EXPECT_EQ(s.job_id, *job);
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_FALSE(s.outputs[0].url.empty());
  auto png = Download(s.outputs[0], 0);
  ASSERT_TRUE(png) << png.error().message;
  ASSERT_GT(png->size(), 8u);
  EXPECT_EQ(png->substr(1, 3), "PNG");

  // Another account does not see the job.
  Expect(provider_->Poll(bob_, *job), ErrorCode::kNotFound);
}

TEST_F(HttpProviderTest, AnUploadCarriesItsIdempotencyKey) {
  Faults([](FaultSettings& s) { s.lose_next_n_uploads = 1; });
  UploadFile file = File();
  file.idempotency_key = "pv-up-1";
  Expect(provider_->Upload(alice_, file), ErrorCode::kUnavailable);  // stored, answer lost
  auto ref = provider_->Upload(alice_, file);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(fake_->stats().total.uploads, 1);
  EXPECT_EQ(fake_->stats().total.replayed_uploads, 1);
  // Switched off, the header is not sent: every upload is a file.
  HttpProviderOptions o = Options();
  o.upload.idempotency_header = "";
  auto keyless = Make(o);
  ASSERT_TRUE(keyless->Upload(alice_, file));
  EXPECT_EQ(fake_->stats().total.uploads, 2);
  EXPECT_EQ(fake_->stats().total.replayed_uploads, 1);
}

TEST_F(HttpProviderTest, ASubmissionCarriesItsIdempotencyKey) {
  // A lost answer: the fake makes the job and answers 504; the retry, under the same key,
  // gets that job instead of a second one.
  Faults([](FaultSettings& s) { s.lose_next_n_submits = 1; });
  Expect(provider_->Submit(alice_, "text_to_image", json::object{}, "pv-1"),
         ErrorCode::kUnavailable);
  auto job = provider_->Submit(alice_, "text_to_image", json::object{}, "pv-1");
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(fake_->stats().total.generations, 1);
  EXPECT_EQ(fake_->stats().total.replayed_submits, 1);
  // Another key is another job; so is every submission when the header is switched off.
  ASSERT_TRUE(provider_->Submit(alice_, "text_to_image", json::object{}, "pv-2"));
  EXPECT_EQ(fake_->stats().total.generations, 2);
  HttpProviderOptions o = Options();
  o.submit.idempotency_header = "";
  auto keyless = Make(o);
  ASSERT_TRUE(keyless->Submit(alice_, "text_to_image", json::object{}, "pv-2"));
  EXPECT_EQ(fake_->stats().total.generations, 3);
  EXPECT_EQ(fake_->stats().total.replayed_submits, 1);
}

TEST_F(HttpProviderTest, AFailedGeneration) {
  Faults([](FaultSettings& s) { s.fail_generations = 1; });
  auto job = provider_->Submit(alice_, "text_to_image", json::object{}, "");
  ASSERT_TRUE(job) << job.error().message;
  GenerationStatus s = WaitForJob(*job);
  EXPECT_EQ(s.state, GenerationState::kFailed);
  EXPECT_FALSE(s.error.empty());
  EXPECT_TRUE(s.outputs.empty());
}

TEST_F(HttpProviderTest, CancelAJob) {
  Faults([](FaultSettings& s) { s.generation_delay_ms = 10000; });
  auto job = provider_->Submit(alice_, "text_to_image", json::object{}, "");
  ASSERT_TRUE(job) << job.error().message;
  ASSERT_TRUE(provider_->Cancel(alice_, *job));
  auto s = provider_->Poll(alice_, *job);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->state, GenerationState::kCanceled);
  Expect(provider_->Cancel(alice_, *job), ErrorCode::kInvalidArgument, "409");  // ended
  Expect(provider_->Cancel(alice_, "gen_999"), ErrorCode::kNotFound);
}

TEST_F(HttpProviderTest, RefusedOrUnknownOperations) {
  Expect(provider_->Submit(alice_, "image_to_video", json::object{}, ""),
         ErrorCode::kInvalidArgument,
         "400");  // no image_ref
  Expect(provider_->Submit(alice_, "text_to_song", json::object{}, ""), ErrorCode::kUnsupported);
  Expect(provider_->Poll(alice_, "gen_404"), ErrorCode::kNotFound);

  HttpProviderOptions o = Options();
  o.capabilities.operations.clear();
  auto no_generation = Make(o);
  ASSERT_TRUE(no_generation);
  Expect(no_generation->Submit(alice_, "text_to_image", json::object{}, ""),
         ErrorCode::kUnsupported);
  Expect(no_generation->Poll(alice_, "gen_1"), ErrorCode::kUnsupported);
}

TEST_F(HttpProviderTest, LimitsAreCheckedBeforeUploading) {
  HttpProviderOptions o = Options();
  o.capabilities.max_bytes = 1000;
  o.capabilities.media_types = {MediaType::kVideo};
  auto limited = Make(o);
  ASSERT_TRUE(limited);
  Expect(limited->Upload(alice_, File()), ErrorCode::kInvalidArgument, "1000");
  UploadFile small = File();
  small.size = 10;
  Expect(limited->Upload(alice_, small), ErrorCode::kInvalidArgument, "image");
  EXPECT_EQ(fake_->stats().requests, 0);
}

TEST_F(HttpProviderTest, ConnectionRefusedIsUnavailable) {
  const std::string base = fake_->base_url();
  fake_->Stop();
  HttpProviderOptions o = Options();
  o.base_url = base;
  auto p = Make(o);
  ASSERT_TRUE(p);
  Expect(p->Check(alice_, ProviderRef{"file_1", "", std::nullopt}), ErrorCode::kUnavailable,
         "connecting");
}

TEST(HttpProviderOptions, BadOptionsNameTheirKey) {
  auto make = [](const std::function<void(HttpProviderOptions&)>& change) {
    HttpProviderOptions o;
    o.id = "p";
    o.base_url = "http://127.0.0.1:9";
    change(o);
    return HttpProvider::Create(std::move(o));
  };
  const std::pair<std::function<void(HttpProviderOptions&)>, std::string> cases[] = {
      {[](HttpProviderOptions& o) { o.base_url = "ftp://x"; }, "providers.p.base_url"},
      {[](HttpProviderOptions& o) { o.base_url = "http://x/?q=1"; }, "providers.p.base_url"},
      {[](HttpProviderOptions& o) { o.base_url = ""; }, "providers.p.base_url"},
      {[](HttpProviderOptions& o) { o.auth_value = "Bearer {api key}"; }, "providers.p.auth_value"},
      {[](HttpProviderOptions& o) { o.auth_value = "Bearer {api_key"; }, "providers.p.auth_value"},
      {[](HttpProviderOptions& o) {
         o.auth_value = "x";
         o.auth_header = "Bad Header";
       },
       "providers.p.auth_header"},
      {[](HttpProviderOptions& o) { o.submit.idempotency_header = "Idempotency Key"; },
       "providers.p.submit.idempotency_header"},
      {[](HttpProviderOptions& o) { o.upload.idempotency_header = "Key:"; },
       "providers.p.upload.idempotency_header"},
      {[](HttpProviderOptions& o) { o.upload.idempotency_header = "content-LENGTH"; },
       "providers.p.upload.idempotency_header"},
      {[](HttpProviderOptions& o) {
         o.auth_value = "{key}";
         o.auth_header = "X-Key";
         o.submit.idempotency_header = "x-key";
       },
       "providers.p.submit.idempotency_header"},
      {[](HttpProviderOptions& o) { o.download.path = "/v1/{job}"; }, "providers.p.download.path"},
      {[](HttpProviderOptions& o) { o.upload.endpoint.path = "/v1/{ref}"; },
       "providers.p.upload.path"},
      {[](HttpProviderOptions& o) { o.check.path = "v1/files"; }, "providers.p.check.path"},
      {[](HttpProviderOptions& o) { o.remove.method = "PATCH"; }, "providers.p.delete.method"},
      {[](HttpProviderOptions& o) { o.poll.status_pointer = "status"; },
       "providers.p.poll.status_pointer"},
      {[](HttpProviderOptions& o) { o.upload.ref_pointer = "/a~2"; },
       "providers.p.upload.ref_pointer"},
      {[](HttpProviderOptions& o) { o.upload.fields["purpose"] = "{secret}"; },
       "providers.p.upload.fields.purpose"},
      {[](HttpProviderOptions& o) { o.refusal_statuses = {200}; }, "providers.p.refusal_statuses"},
      {[](HttpProviderOptions& o) { o.timeout = 0; }, "providers.p.timeout_s"},
      {[](HttpProviderOptions& o) { o.capabilities.max_bytes = -1; }, "providers.p.max_bytes"},
  };
  for (const auto& [change, key] : cases) {
    auto p = make(change);
    ASSERT_FALSE(p) << key;
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument) << key;
    EXPECT_EQ(p.error().message.rfind(key, 0), 0u) << p.error().message;
  }
  EXPECT_TRUE(make([](HttpProviderOptions&) {}));
}

}  // namespace
}  // namespace pixvault::providers
