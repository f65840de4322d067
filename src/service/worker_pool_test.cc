// WorkerPool against real stores (SQLite and PostgreSQL) driven by the system clock. Tests
// wait for outcomes with a generous deadline and never assert timings.
#include "service/worker_pool.h"

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "testing/store_fixture.h"

namespace pixvault::service {
namespace {

using namespace std::chrono_literals;
using testing::StoreTest;

constexpr Timestamp kMs = 1000;

// PostgreSQL keeps results as JSONB and hands them back reformatted ({"a": 1}).
std::string Compact(std::string json) {
  std::erase(json, ' ');
  return json;
}

bool Terminal(JobStatus s) { return s != JobStatus::kQueued && s != JobStatus::kRunning; }

// Counts handler executions per job id.
class Executions {
 public:
  int Add(JobId id) {
    std::lock_guard lock(mu_);
    return ++counts_[id];
  }
  std::map<JobId, int> Snapshot() {
    std::lock_guard lock(mu_);
    return counts_;
  }

 private:
  std::mutex mu_;
  std::map<JobId, int> counts_;
};

class WorkerPoolTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The fixture's store runs on a ManualClock; leases need real time to pass.
    live_ = OpenAnother(system_clock_);
    ASSERT_NE(live_, nullptr);
  }

  WorkerPoolOptions Options(std::string prefix) {
    WorkerPoolOptions o;
    o.threads = 2;
    // Long enough never to lapse by accident; tests about lease expiry shorten it.
    o.lease = 2000 * kMs;
    o.poll_interval = 20 * kMs;
    o.backoff_base = 10 * kMs;
    o.backoff_max = 50 * kMs;
    o.owner_prefix = std::move(prefix);
    o.jitter_seed = 42;
    return o;
  }

  JobId Enqueue(const std::string& kind, std::int64_t max_attempts = 5) {
    Job j;
    j.kind = kind;
    j.max_attempts = max_attempts;
    auto q = live_->EnqueueJob(j);
    EXPECT_TRUE(q.has_value()) << q.error().message;
    return q ? q->job.id : 0;
  }

  // Polls until the job is finished (or 30 s pass) and returns its last state.
  Job WaitDone(JobId id) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    Job last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto j = live_->GetJob(id);
      EXPECT_TRUE(j.has_value()) << j.error().message;
      if (!j) return last;
      last = *j;
      if (Terminal(last.status)) return last;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "job " << id << " not finished after 30 s, status " << ToString(last.status);
    return last;
  }

  SystemClock system_clock_;
  std::unique_ptr<storage::Store> live_;
};

TEST(RetryBackoff, DoublesUpToTheCap) {
  EXPECT_EQ(RetryBackoff(2, 100, 1), 2);
  EXPECT_EQ(RetryBackoff(2, 100, 0), 2);
  EXPECT_EQ(RetryBackoff(2, 100, 3), 8);
  EXPECT_EQ(RetryBackoff(2, 100, 7), 100);
  EXPECT_EQ(RetryBackoff(2, 100, std::numeric_limits<std::int64_t>::max()), 100);
  EXPECT_EQ(RetryBackoff(0, 100, 50), 0);
  EXPECT_FALSE(IsRetryable(ErrorCode::kInvalidArgument));
  EXPECT_FALSE(IsRetryable(ErrorCode::kNotFound));
  EXPECT_TRUE(IsRetryable(ErrorCode::kUnavailable));
  EXPECT_TRUE(IsRetryable(ErrorCode::kInternal));
}

TEST_P(WorkerPoolTest, TwoPoolsOnTwoStoresRunEveryJobExactlyOnce) {
  auto other = OpenAnother(system_clock_);
  ASSERT_NE(other, nullptr);
  constexpr int kJobs = 40;
  std::vector<JobId> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(Enqueue("count"));
  Executions runs;
  auto handler = [&](JobContext& ctx) -> Result<std::string> {
    runs.Add(ctx.job().id);
    return std::string(R"({"ok":true})");
  };
  WorkerPool a(*live_, system_clock_, Options("pool-a"));
  WorkerPool b(*other, system_clock_, Options("pool-b"));
  a.Register("count", handler);
  b.Register("count", handler);
  PV_ASSERT_OK(a.Start());
  PV_ASSERT_OK(b.Start());
  for (JobId id : ids) {
    Job done = WaitDone(id);
    EXPECT_EQ(done.status, JobStatus::kSucceeded) << id;
    EXPECT_EQ(Compact(done.result), R"({"ok":true})");
  }
  a.Stop();
  b.Stop();
  auto counts = runs.Snapshot();
  EXPECT_EQ(counts.size(), ids.size());
  for (JobId id : ids) EXPECT_EQ(counts[id], 1) << "job " << id;
}

TEST_P(WorkerPoolTest, RetryableFailureIsRetriedThenSucceeds) {
  JobId id = Enqueue("flaky");
  Executions runs;
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("flaky", [&](JobContext& ctx) -> Result<std::string> {
    runs.Add(ctx.job().id);
    if (ctx.job().attempts == 1) return Fail(ErrorCode::kUnavailable, "provider busy");
    return std::string("{}");
  });
  PV_ASSERT_OK(pool.Start());
  Job done = WaitDone(id);
  EXPECT_EQ(done.status, JobStatus::kSucceeded);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(runs.Snapshot()[id], 2);
}

TEST_P(WorkerPoolTest, NonRetryableErrorFailsAfterOneAttempt) {
  JobId id = Enqueue("strict");
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("strict", [&](JobContext&) -> Result<std::string> {
    return Fail(ErrorCode::kInvalidArgument, "bad payload");
  });
  PV_ASSERT_OK(pool.Start());
  Job done = WaitDone(id);
  EXPECT_EQ(done.status, JobStatus::kFailed);
  EXPECT_EQ(done.attempts, 1);
  ASSERT_TRUE(done.last_error);
  EXPECT_NE(done.last_error->find("bad payload"), std::string::npos) << *done.last_error;
}

TEST_P(WorkerPoolTest, ThrowingHandlerIsRetriedAndFinallyDies) {
  JobId once = Enqueue("throws-once");
  JobId always = Enqueue("throws", /*max_attempts=*/2);
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("throws-once", [&](JobContext& ctx) -> Result<std::string> {
    if (ctx.job().attempts == 1) throw std::runtime_error("kaboom");
    return std::string("{}");
  });
  pool.Register("throws", [&](JobContext&) -> Result<std::string> {
    throw std::runtime_error("always kaboom");
  });
  PV_ASSERT_OK(pool.Start());
  Job a = WaitDone(once);
  EXPECT_EQ(a.status, JobStatus::kSucceeded);
  EXPECT_EQ(a.attempts, 2);
  Job b = WaitDone(always);
  EXPECT_EQ(b.status, JobStatus::kDead);
  EXPECT_EQ(b.attempts, 2);
  ASSERT_TRUE(b.last_error);
  EXPECT_NE(b.last_error->find("always kaboom"), std::string::npos) << *b.last_error;
}

TEST_P(WorkerPoolTest, UnregisteredKindIsNeverClaimed) {
  JobId foreign = Enqueue("someone-else");
  JobId mine = Enqueue("mine");
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("mine", [](JobContext&) -> Result<std::string> { return std::string("{}"); });
  EXPECT_TRUE(pool.RunOnce());   // runs "mine" on this thread
  EXPECT_FALSE(pool.RunOnce());  // nothing else it may take
  PV_ASSERT_OK_AND_ASSIGN(Job m, live_->GetJob(mine));
  EXPECT_EQ(m.status, JobStatus::kSucceeded);
  PV_ASSERT_OK_AND_ASSIGN(Job f, live_->GetJob(foreign));
  EXPECT_EQ(f.status, JobStatus::kQueued);
  EXPECT_EQ(f.attempts, 0);
  // A pool with no handler at all refuses to start rather than claiming everything.
  WorkerPool empty(*live_, system_clock_, Options("e"));
  PV_EXPECT_ERROR(empty.Start(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(empty.RunOnce());
}

TEST_P(WorkerPoolTest, JobOfADeadWorkerIsReclaimedAfterItsLease) {
  JobId id = Enqueue("work");
  // A worker claims with a short lease and then "dies": it never heartbeats or finishes.
  PV_ASSERT_OK_AND_ASSIGN(auto claimed,
                          live_->ClaimJob(storage::JobClaim{"dead-worker", 300 * kMs, {"work"}}));
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->id, id);
  std::atomic<std::int64_t> seen_attempt{0};
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("work", [&](JobContext& ctx) -> Result<std::string> {
    seen_attempt = ctx.job().attempts;
    return std::string(R"({"by":"pool"})");
  });
  PV_ASSERT_OK(pool.Start());
  Job done = WaitDone(id);
  EXPECT_EQ(done.status, JobStatus::kSucceeded);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(seen_attempt.load(), 2);
  PV_EXPECT_ERROR(live_->CompleteJob(id, "dead-worker", "{}"), ErrorCode::kPermissionDenied);
}

TEST_P(WorkerPoolTest, LongHandlerKeepsItsLeaseAndRunsOnce) {
  auto other = OpenAnother(system_clock_);
  ASSERT_NE(other, nullptr);
  JobId id = Enqueue("long");
  Executions runs;
  std::atomic<bool> lost{false};
  auto handler = [&](JobContext& ctx) -> Result<std::string> {
    runs.Add(ctx.job().id);
    // Five lease periods; only the pool's heartbeats keep the job ours.
    auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
      if (ctx.cancelled()) lost = true;
      std::this_thread::sleep_for(20ms);
    }
    return std::string("{}");
  };
  WorkerPoolOptions options = Options("a");
  options.lease = 400 * kMs;
  WorkerPool a(*live_, system_clock_, options);
  a.Register("long", handler);
  PV_ASSERT_OK(a.Start());
  // Wait until pool A holds the job before starting the rival pool.
  for (int i = 0; i < 3000 && runs.Snapshot().empty(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(runs.Snapshot().empty());
  options.owner_prefix = "b";
  WorkerPool b(*other, system_clock_, options);
  b.Register("long", handler);
  PV_ASSERT_OK(b.Start());
  Job done = WaitDone(id);
  EXPECT_EQ(done.status, JobStatus::kSucceeded);
  EXPECT_EQ(done.attempts, 1);
  EXPECT_EQ(runs.Snapshot()[id], 1);
  EXPECT_FALSE(lost.load());
}

TEST_P(WorkerPoolTest, CancelledJobIsSeenByItsHandler) {
  JobId id = Enqueue("cancellable");
  std::atomic<bool> started{false}, saw_cancel{false};
  WorkerPoolOptions options = Options("p");
  options.lease = 300 * kMs;
  WorkerPool pool(*live_, system_clock_, options);
  pool.Register("cancellable", [&](JobContext& ctx) -> Result<std::string> {
    started = true;
    auto until = std::chrono::steady_clock::now() + 30s;
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    saw_cancel = ctx.cancelled();
    return Fail(ErrorCode::kUnavailable, "cancelled");
  });
  PV_ASSERT_OK(pool.Start());
  for (int i = 0; i < 3000 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started.load());
  PV_ASSERT_OK(live_->CancelJob(Viewer{0, true, false}, id));
  for (int i = 0; i < 3000 && !saw_cancel; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(saw_cancel.load());
  pool.Stop();
  PV_ASSERT_OK_AND_ASSIGN(Job j, live_->GetJob(id));
  EXPECT_EQ(j.status, JobStatus::kCancelled);  // the late FailJob did not resurrect it
}

TEST_P(WorkerPoolTest, StopLetsARunningHandlerFinish) {
  JobId id = Enqueue("slow");
  std::atomic<bool> started{false}, finished{false};
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("slow", [&](JobContext& ctx) -> Result<std::string> {
    started = true;
    auto until = std::chrono::steady_clock::now() + 30s;
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(100ms);  // a last step after noticing the stop
    finished = true;
    return std::string(R"({"finished":true})");
  });
  PV_ASSERT_OK(pool.Start());
  for (int i = 0; i < 3000 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started.load());
  pool.Stop();
  EXPECT_TRUE(finished.load());
  PV_ASSERT_OK_AND_ASSIGN(Job j, live_->GetJob(id));
  EXPECT_EQ(j.status, JobStatus::kSucceeded);
  EXPECT_EQ(Compact(j.result), R"({"finished":true})");
  pool.Stop();  // idempotent
  EXPECT_FALSE(pool.RunOnce());
}

TEST_P(WorkerPoolTest, InvalidResultJsonFailsTheJob) {
  JobId id = Enqueue("sloppy");
  WorkerPool pool(*live_, system_clock_, Options("p"));
  pool.Register("sloppy",
                [](JobContext&) -> Result<std::string> { return std::string("{not json"); });
  EXPECT_TRUE(pool.RunOnce());
  PV_ASSERT_OK_AND_ASSIGN(Job j, live_->GetJob(id));
  EXPECT_EQ(j.status, JobStatus::kFailed);
}

PV_INSTANTIATE_STORE_TEST(WorkerPoolTest);

}  // namespace
}  // namespace pixvault::service
