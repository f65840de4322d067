// WorkerPool: runs the durable job queue of a Store on a few threads of this process.
//
// Each worker thread loops: claim a job of a registered kind (with a lease) -> run its
// handler -> CompleteJob, or FailJob with an exponential, jittered backoff. While a handler
// runs, one pool-wide heartbeat thread extends the lease every `lease / 3`, so a job is never
// run twice unless its worker really stopped heartbeating (crashed, hung store). Several
// pools, in one process or many, may share one database: the store's leases arbitrate.
// Delivery is at-least-once; handlers must be safe to re-run after a crash.
//
// Ownership: the pool borrows the Store and the Clock (both must outlive it) and owns its
// threads. Handlers are copied in and run on the pool's threads (or on the caller's thread
// for RunOnce); they must not call Stop() or destroy the pool.
//
// Thread-safety: Register, Start, Stop, Wake and RunOnce may be called from any thread;
// Register is meant to happen before Start/RunOnce (later registrations apply to later
// claims). Stop() is idempotent; the destructor calls it.
//
// Errors: a handler's error is retryable unless its code is kInvalidArgument, kCorrupt,
// kUnsupported, kPermissionDenied or kNotFound (then the job ends `failed`); an exception
// escaping a handler is a retryable failure carrying its text. Retries stop when the job's
// max_attempts is reached (the store marks it `dead`). A lost lease (kPermissionDenied from
// the store, e.g. the job was cancelled or reclaimed) is not an error: the result is dropped.
// Store failures are reported through `WorkerPoolOptions::log` and retried on the next poll.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

struct WorkerPoolOptions {
  int threads = 2;                                 // worker threads started by Start()
  Timestamp lease = 30 * kMicrosPerSecond;         // lease taken per claim; beat every lease/3
  Timestamp poll_interval = kMicrosPerSecond / 2;  // idle wait between empty claims
  Timestamp backoff_base = 2 * kMicrosPerSecond;   // retry delay after the first attempt
  Timestamp backoff_max = 600 * kMicrosPerSecond;  // cap before jitter
  std::string owner_prefix;                        // empty: "<hostname>:<pid>"
  // Kinds this pool claims; empty: every registered kind. Kinds without a handler are never
  // claimed either way.
  std::vector<std::string> kinds;
  // Seed of the jitter generator; unset: seeded from std::random_device.
  std::optional<std::uint64_t> jitter_seed;
  // Receives non-fatal problems (store unavailable, ...); unset: silent. Called from pool
  // threads, possibly concurrently.
  std::function<void(std::string_view)> log;
};

// What a handler sees of its job. Created by the pool for one claim; thread-safe.
class JobContext {
 public:
  // `claimed_at`: the pool's clock just before ClaimJob, so the local lease deadline is never
  // later than the store's.
  JobContext(storage::Store& store, const Clock& clock, Job job, std::string owner, Timestamp lease,
             Timestamp claimed_at, const std::atomic<bool>& stopping);

  // The job as claimed (attempts already counts this run, so the first run sees 1).
  const Job& job() const { return job_; }
  const std::string& owner() const { return owner_; }
  // True once a heartbeat found the lease lost (job cancelled or reclaimed), once the lease
  // ran out locally without a successful heartbeat, or while the pool is stopping. A
  // long-running handler should check it between steps and give up early.
  bool cancelled() const;
  // Extends the lease now (the pool also does this every lease/3). kPermissionDenied when the
  // lease is lost (cancelled() then turns true); other store errors pass through.
  Status Heartbeat();

  // When the last successful heartbeat (or the claim) happened, by the pool's clock.
  Timestamp last_beat() const { return last_beat_.load(); }
  // True once the store said the lease is no longer ours.
  bool lease_lost() const { return lost_.load(); }

 private:
  storage::Store& store_;
  const Clock& clock_;
  const Job job_;
  const std::string owner_;
  const Timestamp lease_;
  const std::atomic<bool>& stopping_;
  std::atomic<bool> lost_{false};
  std::atomic<Timestamp> last_beat_;
  std::atomic<Timestamp> lease_deadline_;
};

// Returns the result JSON text; an error fails the attempt (see the header comment).
using JobHandler = std::function<Result<std::string>(JobContext&)>;

// min(max, base * 2^(attempt-1)) without overflow; attempt < 1 counts as 1.
Timestamp RetryBackoff(Timestamp base, Timestamp max, std::int64_t attempt);
// Whether a handler error of this code should be retried.
bool IsRetryable(ErrorCode code);

class WorkerPool {
 public:
  WorkerPool(storage::Store& store, const Clock& clock, WorkerPoolOptions options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Installs the handler for `kind` (replacing any earlier one).
  void Register(std::string kind, JobHandler handler);
  // Starts the worker threads. kInvalidArgument for bad options, when nothing is claimable
  // (no handler for any wanted kind), or when already started or stopped; kInternal if a
  // thread cannot be created.
  Status Start();
  // Stops claiming, wakes idle workers, lets running handlers (and in-flight RunOnce calls)
  // finish and record their outcome, then joins every thread. Idempotent.
  void Stop();
  // Wakes idle workers so they claim at once (e.g. right after enqueueing in this process).
  void Wake();
  // Claims and runs one job on the calling thread, heartbeating it meanwhile. Returns
  // whether a job ran (false when none is runnable, the claim failed, or the pool stopped).
  bool RunOnce();

 private:
  enum class Outcome { kRan, kIdle, kError };
  Outcome ClaimAndRun(const std::string& owner);
  void RecordOutcome(JobContext& ctx, Result<std::string> result);
  Timestamp RetryDelay(std::int64_t attempts);
  std::vector<std::string> ClaimKinds();
  void WorkerLoop(int index);
  void HeartbeatLoop();
  Status EnsureHeartbeatThread();  // requires lifecycle_mu_
  void StopLocked();               // requires lifecycle_mu_
  void Log(const std::string& message);

  storage::Store& store_;
  const Clock& clock_;
  const WorkerPoolOptions options_;
  const std::string owner_base_;  // "<prefix>:<random tag>", unique per pool

  std::mutex handlers_mu_;
  std::map<std::string, JobHandler, std::less<>> handlers_;

  std::mutex lifecycle_mu_;  // Start/Stop and the thread handles
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::thread> workers_;
  std::thread heartbeat_thread_;

  std::atomic<bool> stopping_{false};  // no new claims; handlers see cancelled()
  std::atomic<std::uint64_t> run_once_counter_{0};

  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
  std::uint64_t wake_generation_ = 0;  // guarded by idle_mu_

  std::mutex active_mu_;
  std::condition_variable active_cv_;
  std::vector<std::shared_ptr<JobContext>> active_;  // jobs being heartbeaten
  int inflight_ = 0;             // ClaimAndRun calls under way; guarded by active_mu_
  bool heartbeat_stop_ = false;  // guarded by active_mu_

  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace pixvault::service
