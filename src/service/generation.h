// Generation jobs: "make this on provider P" as a durable job (issue 5, item 4).
//
// A request names a provider, the caller's account there, an operation and its params.
// Params whose name ends in `_asset_id` (an id) or `_asset_ids` (an array of ids) name input
// assets: the job resolves each for the provider and account (uploading it there at most
// once, service/resolver.h) and hands the provider `<role>_ref` / `<role>_refs` instead
// (`image_asset_id` becomes `image_ref`). Other params go to the provider unchanged.
//
// The job runs in the durable queue (kind "generate"): submit, poll with backoff until the
// provider's job ends or the attempt's deadline passes, download each output (waiting out the
// 404s of a CDN that has not caught up, resuming an interrupted download where it stopped),
// ingest it as an asset of the caller (provider, ref and account recorded, so resolving it
// for the same account needs no upload), and record lineage from every input: parent_role
// (the param's name without the suffix), operation_type, operation_job_id, and the times
// and frame given as `<role>_start_time`, `<role>_end_time`, `<role>_frame` (or without the
// role prefix).
//
// Progress (the submission's idempotency key, the provider's job id, the outputs done) is saved
// on the job after each step, so a worker that dies mid-job (or a server restart) resumes: an
// attempt never submits twice once the provider's job id is recorded, a submission retried
// before that carries the same key (Provider::Submit), and no output is ingested twice. The
// job's result, when it succeeds: {"submit_key", "submit_digest" (of the submitted request),
// "provider_job_id", "inputs": [...], "outputs": [{"ref", "url", "asset_id"}]}. A cancelled job
// (DELETE /api/v1/jobs/{id}) is cancelled at the provider.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "providers/provider.h"
#include "service/ingest.h"
#include "service/resolver.h"
#include "service/worker_pool.h"
#include "storage/store.h"

namespace pixvault::service {

inline constexpr std::string_view kGenerateJobKind = "generate";

struct GenerationRequest {
  std::string provider_id;
  std::optional<std::int64_t> account_id;  // unset: the caller's only account of the provider
  std::string operation_type;              // an OperationType name, e.g. "image_to_video"
  boost::json::object params;
  std::optional<std::string> idempotency_key;
  // How long one attempt waits for the provider's job (10 s .. 1 day; default 30 min).
  std::optional<std::int64_t> timeout_s;
};

// Validates the request as the caller (provider known and running the operation, the account
// the caller's, every input asset visible) and queues the job. Errors: kInvalidArgument
// naming the field, kNotFound for an unknown provider, account or input asset.
Result<storage::Store::Enqueued> EnqueueGeneration(storage::Store& store, Resolver& resolver,
                                                   const providers::ProviderRegistry& providers,
                                                   const User& caller, GenerationRequest request);

struct GenerationOptions {
  Timestamp poll_initial = 250 * 1000;
  Timestamp poll_max = 5 * kMicrosPerSecond;
  // 404s tolerated while an output reaches the provider's CDN (each waits like a retry).
  int cdn_not_found_retries = 40;
  std::filesystem::path temp_dir;                         // partial downloads (resumable); required
  std::int64_t max_output_bytes = std::int64_t{8} << 30;  // per output
  std::function<void(Timestamp)> sleep;                   // unset: real sleep
  // Draws a submission's idempotency key; unset: 128 random bits in hex ("pv-...").
  std::function<std::string()> new_submit_key;
};

class Generator {
 public:
  Generator(storage::Store& store, Ingestor& ingestor, Resolver& resolver,
            const providers::ProviderRegistry& providers, const Clock& clock,
            GenerationOptions options);

  // Runs (or resumes) one generation job; the WorkerPool handler.
  Result<std::string> Run(JobContext& ctx);

 private:
  void Sleep(Timestamp micros) const;
  // Removes the partial downloads of `job` (its provider job was forgotten).
  void RemovePartFiles(JobId job) const;

  storage::Store& store_;
  Ingestor& ingestor_;
  Resolver& resolver_;
  const providers::ProviderRegistry& providers_;
  const Clock& clock_;
  GenerationOptions options_;
};

void RegisterGenerationJob(WorkerPool& pool, Generator& generator);

}  // namespace pixvault::service
