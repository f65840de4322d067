// FaultInjectionEnv: a forwarding Env decorator for crash tests.
//
// Every mutating operation (file creation, Append, Sync, Close, rename, remove, mkdir,
// directory sync), including those on files it opened, is a numbered step. Once armed with
// FailFrom(n), step n and every later step fail without reaching the base Env, as if the
// process had been killed just before step n. A test runs an operation once to learn its step
// count, then repeats it with FailFrom(k) for k = 1..count. Reads are forwarded untouched.
// This models a killed process, not a power loss: data the base Env already accepted stays.
//
// Ownership: borrows `base`, which must outlive this Env and every file opened through it.
// Thread-safety: safe for concurrent use, like the base Env.
// Errors: the base Env's, plus kUnavailable "injected fault at step n: <op>" once armed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "blob/env.h"
#include "core/error.h"

namespace pixvault::blob {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env& base) : base_(base) {}

  // Arms the env: mutating step `step` (1-based, counted since the last ResetCounter) and all
  // later ones fail.
  void FailFrom(std::int64_t step);
  void Disarm();
  // Forgets counted steps; the next mutating operation is step 1. Keeps the arming.
  void ResetCounter();
  // Mutating operations attempted since the last ResetCounter, failed ones included.
  std::int64_t mutating_ops() const;
  // One line per counted step, e.g. "rename /r/tmp/x -> /r/blobs/ab/cd/abcd...".
  std::vector<std::string> op_log() const;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path) override;
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::filesystem::path& path) override;
  Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status RemoveFile(const std::filesystem::path& path) override;
  Status CreateDirs(const std::filesystem::path& path) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Result<bool> FileExists(const std::filesystem::path& path) override;
  Result<FileInfo> Stat(const std::filesystem::path& path) override;
  Result<std::vector<std::string>> GetChildren(const std::filesystem::path& dir) override;

 private:
  class File;  // WritableFile wrapper that counts its own steps.

  // Counts and logs one step; returns the injected failure if the step is at or past the
  // armed one.
  Status Step(std::string description);

  Env& base_;
  mutable std::mutex mu_;
  std::int64_t steps_ = 0;        // guarded by mu_
  std::int64_t fail_from_ = 0;    // guarded by mu_; 0 = disarmed
  std::vector<std::string> log_;  // guarded by mu_
};

}  // namespace pixvault::blob
