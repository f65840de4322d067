// Test-only: a gtest fixture that runs the real HTTP server in-process for each test, on
// 127.0.0.1 and a free port, over either storage backend ("sqlite" or "postgres", like
// StoreTest): the store opened with a SystemClock, an FsBlobStore in a temp dir, an Ingestor,
// Metrics, the API's routes and a Server with small limits (header/body/idle 2 s, 2 threads).
//
// Users: alice (normal), bob (allow_adult) and admin (is_admin), each with an API key issued
// by service::IssueApiKey; requests authenticate through service::AuthenticateBearer.
//
// Every response a test reads through the helpers is checked not to be a 5xx, and TearDown
// checks the server's metrics for any 5xx it answered, including on raw connections.
// Variants change `api_options_` / `server_options_` in their constructor.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "blob/blob_store.h"
#include "blob/derived_files.h"
#include "blob/env.h"
#include "core/clock.h"
#include "http/api.h"
#include "http/http_client.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "providers/provider.h"
#include "service/analysis.h"
#include "service/credentials.h"
#include "service/ingest.h"
#include "service/resolver.h"
#include "testing/store_fixture.h"
#include "testing/temp_dir.h"

namespace pixvault::http::testing {

using Header = std::pair<std::string, std::string>;

class HttpTest : public pixvault::testing::StoreTest {
 protected:
  HttpTest();
  void SetUp() override;
  void TearDown() override;

  std::uint16_t port() const { return server_->port(); }

  // One request on a fresh connection, with `Authorization: Bearer <key>` unless `key` is
  // empty. Fails the test on a transport error (status 0) or a 5xx.
  HttpResponse Call(std::string method, std::string target, std::string_view key = {},
                    std::string body = {}, std::vector<Header> headers = {});
  // Checks a response read by hand: not a 5xx and, for errors, problem+json with a code
  // (in the body, unless it answers a HEAD).
  static void CheckResponse(const HttpResponse& res, std::string_view what, bool head = false);

  // Raw upload of `bytes` with query `query` ("tags=a,b&...", may be empty).
  HttpResponse UploadRaw(std::string_view key, std::string bytes, std::string_view query = {},
                         std::string content_type = "application/octet-stream");
  // Uploads the generated media file `name` (see MediaFile) and returns the asset id, or 0
  // after failing the test. Skips (GTEST_SKIP is the caller's job) when ffmpeg is missing:
  // check MediaBytes first.
  std::int64_t UploadMedia(std::string_view key, std::string_view name,
                           std::string_view query = {});
  // Bytes of the generated media file `name`; empty when it cannot be generated.
  static std::string MediaBytes(std::string_view name);

  // Asset ids in the viewer's list (following every page).
  std::vector<std::int64_t> ListIds(std::string_view key, std::string_view query = {});
  // Uploads WavBytes(seed) as `key`'s and returns the new asset's id (0 after a failure).
  std::int64_t UploadWav(std::string_view key, int seed, std::string_view query = {});
  // GET /api/v1/assets/{id} as `key`, expecting 200; the asset's JSON.
  boost::json::value GetJson(std::string_view key, std::int64_t id);
  // PATCH /api/v1/assets/{id} with a JSON body.
  HttpResponse Patch(std::string_view key, std::int64_t id, std::string body);

  // Regular files under the blob tree and under the temp folder.
  int BlobFiles() const;
  int TempFiles() const;
  // Polls `done` until it holds or `timeout` passes; returns its last value.
  static bool Eventually(const std::function<bool()>& done,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Asserts that the store has no asset and the blob root no file (blob or temp).
  void ExpectNothingStored();

  std::string Bearer(std::string_view key) const { return "Bearer " + std::string(key); }

  // Called in SetUp before the server starts: a suite adds the providers it resolves for
  // (the registry always has user_upload) and may adjust resolver_options_.
  virtual void AddProviders(providers::ProviderRegistry& /*registry*/) {}

  ApiOptions api_options_;
  ServerOptions server_options_;

  SystemClock system_clock_;
  blob::PosixEnv env_;
  std::unique_ptr<pixvault::testing::TempDir> blob_dir_;
  std::unique_ptr<blob::FsBlobStore> blobs_;
  std::unique_ptr<service::Ingestor> ingestor_;
  // Derived files beside the blobs; the analyzer the analysis routes use (tests run its jobs
  // themselves, e.g. with a WorkerPool's RunOnce).
  std::unique_ptr<blob::DerivedFiles> derived_;
  std::unique_ptr<service::Analyzer> analyzer_;
  // Seals provider credentials (a fixed test key).
  std::unique_ptr<service::CredentialCipher> credentials_;
  // Cross-provider resolution (see AddProviders).
  providers::ProviderRegistry providers_;
  service::ResolverOptions resolver_options_;
  std::unique_ptr<service::Resolver> resolver_;
  // Set by tests whose provider is meant to fail: TearDown then accepts 503 answers (a
  // provider that keeps failing is the server's "unavailable"), never a 500.
  bool provider_failures_expected_ = false;
  Metrics metrics_;
  Router router_;
  std::unique_ptr<ApiContext> api_;
  std::unique_ptr<Server> server_;

  User alice_, bob_, admin_;
  std::string alice_key_, bob_key_, admin_key_;
};

// "/api/v1/assets/<id>".
std::string AssetPath(std::int64_t id);
// `ids` in ascending order.
std::vector<std::int64_t> Sorted(std::vector<std::int64_t> ids);

// A distinct, valid WAV file (8 kHz mono 16-bit PCM, half a second) for each `seed`: cheap
// unique assets without ffmpeg.
std::string WavBytes(int seed);

// Parses a JSON body; a null value (and a test failure) when it is not JSON.
boost::json::value ParseJson(std::string_view text);

// `body` in chunked transfer coding, in chunks of `piece` bytes, with the last chunk.
std::string ChunkedBody(std::string_view body, std::size_t piece);

// A multipart/form-data body: each part is (headers block without the final CRLF, data).
std::string MultipartBody(std::string_view boundary,
                          const std::vector<std::pair<std::string, std::string>>& parts,
                          bool close = true);

}  // namespace pixvault::http::testing
