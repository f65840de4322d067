// A fake media provider: an HTTP server speaking the generic provider protocol of the `http`
// adapter (docs/fake-provider.md), for tests and demos. Files are uploaded raw and stored
// under a data folder; generation jobs make real media with ffmpeg (lavfi) on background
// threads. Tests steer it through Faults (latency, 5xx bursts, hangs, moderation, CDN
// propagation delay, ref expiry, failed jobs), either in-process (faults()) or over HTTP
// (`POST /_control`), and read exact counters (stats(), `GET /_stats`).
//
// Every bearer token given at start is one account; refs belong to the account that made
// them and are "unknown" to every other.
//
// Thread-safe: all methods may be called from any thread. Start once, Stop once (idempotent;
// the destructor stops).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "providers/fake/faults.h"
#include "providers/fake/generator.h"

namespace pixvault::providers::fake {

struct FakeProviderOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;           // 0 = any free port (see port())
  std::filesystem::path data_dir;   // required; files live in data_dir/files
  std::vector<std::string> tokens;  // one account each
  std::int64_t max_upload_bytes = 1LL << 30;
  std::string ffmpeg = "ffmpeg";  // program used for generation jobs
  int generation_threads = 2;
  int blocking_threads = 64;     // bounds the requests that can hang at once
  const Clock* clock = nullptr;  // nullptr = the system clock; borrowed
};

// Counters of one account (or of all, in Stats::total).
struct AccountStats {
  std::int64_t upload_requests = 0;    // POST /v1/files with a valid token, any answer
  std::int64_t uploads = 0;            // files stored (201)
  std::int64_t replayed_uploads = 0;   // uploads answered with the file of their key (200)
  std::int64_t upload_bytes = 0;       // bytes of the files stored
  std::int64_t download_requests = 0;  // content GETs with a valid token, any answer
  std::int64_t downloads = 0;          // content answered 200 or 206 (a resumed download: 2)
  std::int64_t download_bytes = 0;     // bytes of content answered
  std::int64_t generations = 0;        // jobs made (202, or 504 from lose_next_n_submits)
  std::int64_t replayed_submits = 0;   // submissions answered with the job of their key
  std::int64_t deletes = 0;            // files deleted
};

struct Stats {
  AccountStats total;
  std::map<std::string, AccountStats> accounts;  // by account name "account_<n>" (token order)
  std::int64_t requests = 0;                     // every /v1 request
  std::int64_t failures_injected = 0;            // answered by fail_next_n
};

class FakeProvider {
 public:
  explicit FakeProvider(FakeProviderOptions options);
  ~FakeProvider();
  FakeProvider(const FakeProvider&) = delete;
  FakeProvider& operator=(const FakeProvider&) = delete;

  // Creates the data folder, binds and serves. kInvalidArgument without tokens or data_dir,
  // kUnavailable when the address cannot be bound, kInternal when the folder cannot be made.
  Status Start();
  // Releases hung requests, stops serving, waits for running jobs. Idempotent.
  void Stop();
  std::uint16_t port() const { return server_ ? server_->port() : 0; }
  // "http://127.0.0.1:<port>".
  std::string base_url() const;

  Faults& faults() { return faults_; }
  Stats stats() const;
  void ResetStats();
  // Makes every existing ref expired (later uploads are unaffected).
  void ExpireAllRefs();
  // The account name of a token ("account_1" for the first), or nullopt.
  std::optional<std::string> AccountOf(const std::string& token) const;

 private:
  struct File {
    std::string id;
    std::string account;
    std::filesystem::path path;
    std::string content_type;
    std::int64_t size = 0;
    Timestamp created_at = 0;
    Timestamp expires_at = 0;  // 0 = never; guarded by mu_ (ExpireAllRefs)
  };
  struct Job {
    std::string id;
    std::string account;
    GenerationSpec spec;
    std::string request;  // the submitted JSON, serialized (compared on an idempotent replay)
    // Guarded by mu_.
    std::string status = "queued";  // running, succeeded, failed, canceled
    std::vector<std::string> outputs;
    std::string error;
  };
  class UploadSink;

  void AddRoutes();
  // Hang, latency, forced failure and authentication, in that order, for a request to the
  // route named `route`: a response to send instead of handling the request, or nullopt with
  // `account` set to the caller's.
  std::optional<http::Response> Admit(const http::Request& req, const std::string& route,
                                      std::string& account);
  // The file `id` when it exists, is unexpired and belongs to `account`.
  std::shared_ptr<File> FindFile(const std::string& id, const std::string& account) const;
  std::string FileUrl(const http::Request& req, const std::string& id) const;
  std::string FileJson(const http::Request& req, const File& file) const;
  std::string JobJson(const http::Request& req, const Job& job) const;
  std::shared_ptr<File> AddFile(const std::string& account, const std::filesystem::path& from,
                                std::string content_type);
  void Count(const std::string& account, std::int64_t AccountStats::*counter, std::int64_t n = 1);

  Result<std::unique_ptr<http::BodySink>> BeginUpload(http::Request& req);
  Result<http::Response> FinishUpload(const http::Request& req, const std::filesystem::path& temp);
  Result<http::Response> GetFile(http::Request& req);
  Result<http::Response> GetContent(http::Request& req);
  Result<http::Response> DeleteFile(http::Request& req);
  Result<http::Response> Submit(http::Request& req);
  Result<http::Response> GetJob(http::Request& req);
  Result<http::Response> CancelJob(http::Request& req);
  Result<http::Response> Control(http::Request& req);
  Result<http::Response> StatsRoute(http::Request& req);

  void GenerationWorker();
  void RunJob(const std::shared_ptr<Job>& job);

  FakeProviderOptions options_;
  SystemClock system_clock_;
  const Clock& clock_;
  Faults faults_;
  http::Router router_;
  http::Metrics metrics_;
  std::unique_ptr<http::Server> server_;
  std::map<std::string, std::string> accounts_;  // token -> account; fixed after construction

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<File>> files_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  // Jobs by (account, Idempotency-Key) of their submission.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Job>> keyed_jobs_;
  // Files by (account, Idempotency-Key) of their upload; keyed_upload_mu_ (taken before mu_)
  // makes the look-up and the storing of a keyed upload one step.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<File>> keyed_files_;
  std::mutex keyed_upload_mu_;
  std::deque<std::shared_ptr<Job>> queue_;
  Stats stats_;
  std::int64_t next_file_ = 1;
  std::int64_t next_job_ = 1;
  std::int64_t next_temp_ = 1;
  bool stopping_ = false;
  std::condition_variable queue_cv_;
  std::vector<std::thread> workers_;
  std::atomic<bool> started_{false};
};

// Internal to the fake provider's .cc files: the provider's own error answer,
// `{"error": message}` with `status`.
http::Response JsonError(int status, std::string_view message);

// The request's `Idempotency-Key` header: "" when there is none, nullopt when it is not 1 to
// 255 visible ASCII characters.
std::optional<std::string> IdempotencyKeyOf(const http::Request& req);

}  // namespace pixvault::providers::fake
