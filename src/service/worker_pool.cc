#include "service/worker_pool.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <system_error>
#include <utility>

namespace pixvault::service {
namespace {

std::string DefaultOwnerPrefix() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::string name = host[0] != '\0' ? std::string(host.data()) : std::string("localhost");
  return name + ":" + std::to_string(getpid());
}

// A tag that tells apart pools sharing a prefix (two pools in one process, or a restarted
// process that got the same pid). Not from the jitter generator: two pools seeded alike must
// still get different owners, or one could complete the other's claim.
std::string RandomTag() {
  std::random_device rd;
  std::array<char, 9> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x", static_cast<unsigned>(rd()));
  return std::string(buf.data());
}

// Raises `a` to at least `value` (concurrent heartbeats may finish out of order).
void StoreMax(std::atomic<Timestamp>& a, Timestamp value) {
  Timestamp cur = a.load();
  while (cur < value && !a.compare_exchange_weak(cur, value)) {
  }
}

std::chrono::microseconds Micros(Timestamp t) { return std::chrono::microseconds(t); }

}  // namespace

Timestamp RetryBackoff(Timestamp base, Timestamp max, std::int64_t attempt) {
  base = std::max<Timestamp>(base, 0);
  max = std::max(max, base);
  Timestamp delay = base;
  // Doubling in a loop instead of a shift: no overflow however large `attempt` is.
  for (std::int64_t i = 1; i < attempt && delay < max; ++i) {
    delay = delay > max / 2 ? max : delay * 2;
  }
  return std::min(delay, max);
}

bool IsRetryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kCorrupt:
    case ErrorCode::kUnsupported:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kNotFound:
      return false;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
      return true;
  }
  return true;
}

// --- JobContext --------------------------------------------------------------------------

JobContext::JobContext(storage::Store& store, const Clock& clock, Job job, std::string owner,
                       Timestamp lease, Timestamp claimed_at, const std::atomic<bool>& stopping)
    : store_(store),
      clock_(clock),
      job_(std::move(job)),
      owner_(std::move(owner)),
      lease_(lease),
      stopping_(stopping),
      last_beat_(claimed_at),
      lease_deadline_(claimed_at + lease) {}

bool JobContext::cancelled() const {
  return lost_.load() || stopping_.load() || clock_.Now() >= lease_deadline_.load();
}

Status JobContext::Heartbeat() {
  if (lost_.load()) {
    return Fail(ErrorCode::kPermissionDenied, "job " + std::to_string(job_.id) + " lease lost");
  }
  // `now` is taken before the call, so the local deadline is never later than the store's.
  Timestamp now = clock_.Now();
  Status st = store_.HeartbeatJob(job_.id, owner_, lease_);
  if (!st) {
    if (st.error().code == ErrorCode::kPermissionDenied) lost_.store(true);
    return st;
  }
  StoreMax(last_beat_, now);
  StoreMax(lease_deadline_, now + lease_);
  return Ok();
}

// --- WorkerPool --------------------------------------------------------------------------

WorkerPool::WorkerPool(storage::Store& store, const Clock& clock, WorkerPoolOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      owner_base_((options_.owner_prefix.empty() ? DefaultOwnerPrefix() : options_.owner_prefix) +
                  ":" + RandomTag()) {
  std::uint64_t seed = 0;
  if (options_.jitter_seed) {
    seed = *options_.jitter_seed;
  } else {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ std::uint64_t{rd()};
  }
  rng_.seed(seed);
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Register(std::string kind, JobHandler handler) {
  std::lock_guard lock(handlers_mu_);
  handlers_[std::move(kind)] = std::move(handler);
}

std::vector<std::string> WorkerPool::ClaimKinds() {
  std::lock_guard lock(handlers_mu_);
  std::vector<std::string> kinds;
  if (options_.kinds.empty()) {
    for (const auto& [kind, handler] : handlers_) kinds.push_back(kind);
  } else {
    for (const auto& kind : options_.kinds) {
      if (handlers_.contains(kind)) kinds.push_back(kind);
    }
  }
  return kinds;  // empty means "nothing to claim", never "any kind"
}

Status WorkerPool::Start() {
  if (options_.threads < 1) return Fail(ErrorCode::kInvalidArgument, "threads must be >= 1");
  if (options_.lease < 3 || options_.poll_interval < 1) {
    return Fail(ErrorCode::kInvalidArgument, "lease and poll_interval must be positive");
  }
  if (options_.backoff_base < 0 || options_.backoff_max < options_.backoff_base) {
    return Fail(ErrorCode::kInvalidArgument, "need 0 <= backoff_base <= backoff_max");
  }
  if (ClaimKinds().empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no handler registered for any wanted job kind");
  }
  std::lock_guard lock(lifecycle_mu_);
  if (started_ || stopped_) {
    return Fail(ErrorCode::kInvalidArgument, "worker pool already started or stopped");
  }
  started_ = true;
  Status hb = EnsureHeartbeatThread();
  if (!hb) {
    StopLocked();
    return hb;
  }
  try {
    for (int i = 0; i < options_.threads; ++i) {
      workers_.emplace_back([this, i] { WorkerLoop(i); });
    }
  } catch (const std::system_error& e) {
    StopLocked();
    return Fail(ErrorCode::kInternal, std::string("cannot start worker thread: ") + e.what());
  }
  return Ok();
}

Status WorkerPool::EnsureHeartbeatThread() {
  if (heartbeat_thread_.joinable()) return Ok();
  try {
    heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  } catch (const std::system_error& e) {
    return Fail(ErrorCode::kInternal, std::string("cannot start heartbeat thread: ") + e.what());
  }
  return Ok();
}

void WorkerPool::Stop() {
  std::lock_guard lock(lifecycle_mu_);
  StopLocked();
}

void WorkerPool::StopLocked() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(idle_mu_);  // a worker between its check and its wait must see it
    stopping_.store(true);
  }
  idle_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  // Only now stop heartbeating: the handlers that were finishing needed their leases. The
  // heartbeat thread itself waits for in-flight RunOnce calls.
  {
    std::lock_guard lock(active_mu_);
    heartbeat_stop_ = true;
  }
  active_cv_.notify_all();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

void WorkerPool::Wake() {
  {
    std::lock_guard lock(idle_mu_);
    ++wake_generation_;
  }
  idle_cv_.notify_all();
}

bool WorkerPool::RunOnce() {
  {
    std::lock_guard lock(lifecycle_mu_);
    if (stopped_) return false;
    Status hb = EnsureHeartbeatThread();
    if (!hb) {
      Log(hb.error().message);
      return false;
    }
  }
  return ClaimAndRun(owner_base_ + "/r" + std::to_string(++run_once_counter_)) == Outcome::kRan;
}

void WorkerPool::WorkerLoop(int index) {
  // One owner per worker thread: a lease is then held by exactly one thread of one pool.
  const std::string owner = owner_base_ + "/w" + std::to_string(index);
  while (!stopping_.load()) {
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(idle_mu_);
      generation = wake_generation_;
    }
    if (ClaimAndRun(owner) == Outcome::kRan) continue;  // more may be waiting
    std::unique_lock lock(idle_mu_);
    idle_cv_.wait_for(lock, Micros(options_.poll_interval),
                      [&] { return stopping_.load() || wake_generation_ != generation; });
  }
}

WorkerPool::Outcome WorkerPool::ClaimAndRun(const std::string& owner) {
  {
    std::lock_guard lock(active_mu_);
    if (heartbeat_stop_ || stopping_.load()) return Outcome::kIdle;
    ++inflight_;
  }
  struct Leave {
    WorkerPool* pool;
    ~Leave() {
      {
        std::lock_guard lock(pool->active_mu_);
        --pool->inflight_;
      }
      pool->active_cv_.notify_all();
    }
  } leave{this};

  std::vector<std::string> kinds = ClaimKinds();
  if (kinds.empty()) return Outcome::kIdle;
  const Timestamp claimed_at = clock_.Now();
  auto claimed = store_.ClaimJob(storage::JobClaim{owner, options_.lease, std::move(kinds)});
  if (!claimed) {
    Log("claim job: " + claimed.error().message);
    return Outcome::kError;
  }
  if (!*claimed) return Outcome::kIdle;

  auto ctx = std::make_shared<JobContext>(store_, clock_, std::move(**claimed), owner,
                                          options_.lease, claimed_at, stopping_);
  {
    std::lock_guard lock(active_mu_);
    active_.push_back(ctx);
  }
  JobHandler handler;
  {
    std::lock_guard lock(handlers_mu_);
    auto it = handlers_.find(ctx->job().kind);
    if (it != handlers_.end()) handler = it->second;
  }
  Result<std::string> result =
      Fail(ErrorCode::kUnsupported, "no handler for job kind '" + ctx->job().kind + "'");
  if (handler) {
    // Exceptions must not escape a pool thread (std::terminate); they become a retryable
    // failure carrying their text.
    try {
      result = handler(*ctx);
    } catch (const std::exception& e) {
      result = Fail(ErrorCode::kInternal, std::string("handler threw: ") + e.what());
    } catch (...) {
      result = Fail(ErrorCode::kInternal, "handler threw a non-standard exception");
    }
  }
  // The job stays in `active_` (heartbeaten) until its outcome is recorded: a slow
  // CompleteJob must not let the lease lapse and the job run again.
  RecordOutcome(*ctx, std::move(result));
  {
    std::lock_guard lock(active_mu_);
    std::erase(active_, ctx);
  }
  return Outcome::kRan;
}

void WorkerPool::RecordOutcome(JobContext& ctx, Result<std::string> result) {
  const Job& job = ctx.job();
  const std::string id = "job " + std::to_string(job.id);
  if (result) {
    Status st = store_.CompleteJob(job.id, ctx.owner(), *result);
    if (st) return;
    // Lease lost: the job was cancelled or reclaimed; its new owner records the outcome.
    if (st.error().code == ErrorCode::kPermissionDenied) return;
    if (st.error().code != ErrorCode::kInvalidArgument) {
      // Lease left to expire: the job runs again elsewhere (at-least-once).
      Log("complete " + id + ": " + st.error().message);
      return;
    }
    result = Fail(ErrorCode::kInvalidArgument,
                  "handler returned an invalid result: " + st.error().message);
  }
  const Error& error = result.error();
  const bool retryable = IsRetryable(error.code);
  // A failure while the pool stops is most likely the handler giving up on cancelled(): the
  // job was interrupted rather than broken, so another instance may take it at once.
  const Timestamp delay = !retryable || stopping_.load() ? 0 : RetryDelay(job.attempts);
  std::string text = std::string(ErrorCodeName(error.code)) + ": " + error.message;
  Status st = store_.FailJob(job.id, ctx.owner(), text, retryable, delay);
  if (!st && st.error().code != ErrorCode::kPermissionDenied) {
    Log("fail " + id + ": " + st.error().message);
  }
}

Timestamp WorkerPool::RetryDelay(std::int64_t attempts) {
  Timestamp delay = RetryBackoff(options_.backoff_base, options_.backoff_max, attempts);
  // Up to +25% so that jobs failing together (a provider outage) do not retry together.
  std::uniform_int_distribution<Timestamp> jitter(0, delay / 4);
  std::lock_guard lock(rng_mu_);
  return delay + jitter(rng_);
}

// One heartbeat thread for the whole pool rather than one per worker: a heartbeat is one
// short UPDATE every lease/3, so a single thread keeps up with any realistic number of
// workers, RunOnce callers get heartbeats for free, and the thread count stays
// `threads + 1`. Per-worker threads would not survive a stalled store any better, since all
// of them go through the same Store.
void WorkerPool::HeartbeatLoop() {
  const Timestamp interval = std::max<Timestamp>(options_.lease / 3, 1);
  std::unique_lock lock(active_mu_);
  while (!(heartbeat_stop_ && inflight_ == 0)) {
    std::vector<std::shared_ptr<JobContext>> snapshot = active_;
    lock.unlock();  // store calls happen outside the lock: workers must not wait on them
    Timestamp now = clock_.Now();
    Timestamp next_due = now + interval;
    for (const auto& ctx : snapshot) {
      if (ctx->lease_lost()) continue;
      Timestamp due = ctx->last_beat() + interval;
      if (due <= now) {
        Status st = ctx->Heartbeat();
        if (st) {
          due = ctx->last_beat() + interval;
        } else {
          if (st.error().code != ErrorCode::kPermissionDenied) {
            Log("heartbeat job " + std::to_string(ctx->job().id) + ": " + st.error().message);
          }
          due = now + std::max<Timestamp>(interval / 4, 1);  // retry soon, not in a spin
        }
      }
      next_due = std::min(next_due, due);
    }
    snapshot.clear();
    lock.lock();
    if (heartbeat_stop_ && inflight_ == 0) break;
    Timestamp wait = std::max<Timestamp>(next_due - clock_.Now(), 1000);
    active_cv_.wait_for(lock, Micros(wait));
  }
}

void WorkerPool::Log(const std::string& message) {
  if (options_.log) options_.log(message);
}

}  // namespace pixvault::service
