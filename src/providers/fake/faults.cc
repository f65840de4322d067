#include "providers/fake/faults.h"

namespace pixvault::providers::fake {

FaultSettings Faults::Get() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void Faults::Set(const FaultSettings& settings) {
  {
    std::lock_guard lock(mu_);
    settings_ = settings;
  }
  released_.notify_all();
}

void Faults::Reset() { Set(FaultSettings{}); }

void Faults::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  released_.notify_all();
}

bool Faults::WaitWhileHung() {
  std::unique_lock lock(mu_);
  released_.wait(lock, [&] { return !settings_.hang || shutdown_; });
  return !shutdown_;
}

std::optional<int> Faults::TakeFailure(const std::string& route) {
  std::lock_guard lock(mu_);
  if (settings_.fail_next_n <= 0) return std::nullopt;
  if (!settings_.fail_only.empty() && settings_.fail_only != route) return std::nullopt;
  --settings_.fail_next_n;
  return settings_.fail_status;
}

bool Faults::TakeModeration() {
  std::lock_guard lock(mu_);
  if (settings_.moderate_next_n <= 0) return false;
  --settings_.moderate_next_n;
  return true;
}

bool Faults::TakeGenerationFailure() {
  std::lock_guard lock(mu_);
  if (settings_.fail_generations <= 0) return false;
  --settings_.fail_generations;
  return true;
}

bool Faults::TakeLostSubmit() {
  std::lock_guard lock(mu_);
  if (settings_.lose_next_n_submits <= 0) return false;
  --settings_.lose_next_n_submits;
  return true;
}

bool Faults::TakeLostUpload() {
  std::lock_guard lock(mu_);
  if (settings_.lose_next_n_uploads <= 0) return false;
  --settings_.lose_next_n_uploads;
  return true;
}

}  // namespace pixvault::providers::fake
