// The fault knobs of the fake provider: what tests tell it to do wrong (latency, 5xx bursts,
// hangs, moderation, CDN propagation delay, ref expiry, failed generations, lost answers).
//
// Thread-safe: every method may be called from any thread. Hung requests wait inside
// WaitWhileHung() until Reset() or Shutdown().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace pixvault::providers::fake {

// The settable knobs; also what `POST /_control` accepts (same names, JSON).
struct FaultSettings {
  std::int64_t latency_ms = 0;    // added before every answered API request
  std::int64_t cdn_delay_ms = 0;  // content of a new file answers 404 this long after creation
  std::int64_t ref_ttl_s = 0;     // 0 = refs never expire
  std::int64_t fail_next_n = 0;   // the next N API requests answer `fail_status`
  int fail_status = 503;
  // Which requests fail_next_n hits: "" = any API request, else one route: "upload", "file",
  // "content", "delete", "submit", "generation" or "cancel".
  std::string fail_only;
  bool hang = false;                     // API requests are never answered until Reset()
  std::int64_t moderate_next_n = 0;      // the next N uploads answer 422 {"error":"moderated"}
  std::int64_t fail_generations = 0;     // the next N generation jobs end "failed"
  std::int64_t generation_delay_ms = 0;  // a job stays "running" at least this long
  std::int64_t lose_next_n_submits = 0;  // the next N jobs made are answered 504 all the same
  // The next N uploads that store a file (or replay one under its key) are answered 504 all
  // the same.
  std::int64_t lose_next_n_uploads = 0;
};

class Faults {
 public:
  FaultSettings Get() const;
  void Set(const FaultSettings& settings);
  // Back to defaults; releases hung requests.
  void Reset();
  // Releases hung requests for good (server stopping).
  void Shutdown();

  // Blocks while `hang` is set. Returns false when released by Shutdown (answer nothing useful).
  bool WaitWhileHung();
  // Consumes one forced failure for a request to `route`: the status to answer, or nullopt
  // to proceed normally.
  std::optional<int> TakeFailure(const std::string& route);
  // Consumes one moderation rejection.
  bool TakeModeration();
  // Consumes one failed generation.
  bool TakeGenerationFailure();
  // Consume one lost submission or upload answer.
  bool TakeLostSubmit();
  bool TakeLostUpload();

 private:
  // Consumes one of the `count` knob (false when it is 0).
  bool TakeOne(std::int64_t FaultSettings::*count);

  mutable std::mutex mu_;
  std::condition_variable released_;
  FaultSettings settings_;
  bool shutdown_ = false;
};

}  // namespace pixvault::providers::fake
