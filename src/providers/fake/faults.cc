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

bool Faults::TakeOne(std::int64_t FaultSettings::*count) {
  std::lock_guard lock(mu_);
  if (settings_.*count <= 0) return false;
  --(settings_.*count);
  return true;
}

bool Faults::TakeModeration() { return TakeOne(&FaultSettings::moderate_next_n); }

bool Faults::TakeGenerationFailure() { return TakeOne(&FaultSettings::fail_generations); }

bool Faults::TakeLostSubmit() { return TakeOne(&FaultSettings::lose_next_n_submits); }

bool Faults::TakeLostUpload() { return TakeOne(&FaultSettings::lose_next_n_uploads); }

}  // namespace pixvault::providers::fake
