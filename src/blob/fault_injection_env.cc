#include "blob/fault_injection_env.h"

#include <utility>

namespace pixvault::blob {

namespace fs = std::filesystem;

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::unique_ptr<WritableFile> base, fs::path path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}

  Status Append(std::span<const std::byte> data) override {
    PV_RETURN_IF_ERROR(
        env_.Step("append " + std::to_string(data.size()) + " bytes to " + path_.string()));
    return base_->Append(data);
  }
  Status Sync() override {
    PV_RETURN_IF_ERROR(env_.Step("sync " + path_.string()));
    return base_->Sync();
  }
  // A failed Close leaves the base file open; its destructor releases the descriptor, as the
  // kernel would for a killed process.
  Status Close() override {
    PV_RETURN_IF_ERROR(env_.Step("close " + path_.string()));
    return base_->Close();
  }

 private:
  FaultInjectionEnv& env_;
  std::unique_ptr<WritableFile> base_;
  fs::path path_;
};

void FaultInjectionEnv::FailFrom(std::int64_t step) {
  std::lock_guard lock(mu_);
  fail_from_ = step;
}

void FaultInjectionEnv::Disarm() {
  std::lock_guard lock(mu_);
  fail_from_ = 0;
}

void FaultInjectionEnv::ResetCounter() {
  std::lock_guard lock(mu_);
  steps_ = 0;
  log_.clear();
}

std::int64_t FaultInjectionEnv::mutating_ops() const {
  std::lock_guard lock(mu_);
  return steps_;
}

std::vector<std::string> FaultInjectionEnv::op_log() const {
  std::lock_guard lock(mu_);
  return log_;
}

Status FaultInjectionEnv::Step(std::string description) {
  std::lock_guard lock(mu_);
  ++steps_;
  const bool fail = fail_from_ > 0 && steps_ >= fail_from_;
  if (fail) {
    log_.push_back(description + " [injected fault]");
    return Fail(ErrorCode::kUnavailable,
                "injected fault at step " + std::to_string(steps_) + ": " + description);
  }
  log_.push_back(std::move(description));
  return Ok();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const fs::path& path) {
  PV_RETURN_IF_ERROR(Step("create " + path.string()));
  PV_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_.NewWritableFile(path));
  return std::make_unique<File>(*this, std::move(file), path);
}

Result<std::unique_ptr<ReadableFile>> FaultInjectionEnv::NewReadableFile(const fs::path& path) {
  return base_.NewReadableFile(path);
}

Status FaultInjectionEnv::RenameFile(const fs::path& from, const fs::path& to) {
  PV_RETURN_IF_ERROR(Step("rename " + from.string() + " -> " + to.string()));
  return base_.RenameFile(from, to);
}

Status FaultInjectionEnv::RemoveFile(const fs::path& path) {
  PV_RETURN_IF_ERROR(Step("remove " + path.string()));
  return base_.RemoveFile(path);
}

Status FaultInjectionEnv::CreateDirs(const fs::path& path) {
  PV_RETURN_IF_ERROR(Step("mkdir " + path.string()));
  return base_.CreateDirs(path);
}

Status FaultInjectionEnv::SyncDir(const fs::path& dir) {
  PV_RETURN_IF_ERROR(Step("syncdir " + dir.string()));
  return base_.SyncDir(dir);
}

Result<bool> FaultInjectionEnv::FileExists(const fs::path& path) { return base_.FileExists(path); }

Result<FileInfo> FaultInjectionEnv::Stat(const fs::path& path) { return base_.Stat(path); }

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const fs::path& dir) {
  return base_.GetChildren(dir);
}

}  // namespace pixvault::blob
