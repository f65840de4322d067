#include "blob/env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "blob/fault_injection_env.h"
#include "testing/temp_dir.h"

namespace pixvault::blob {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string AsString(std::span<const std::byte> data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

TEST(PosixEnv, WritesReadsAndListsFiles) {
  pixvault::testing::TempDir dir;
  PosixEnv env;
  const fs::path path = dir.path() / "a" / "b" / "file";
  ASSERT_TRUE(env.CreateDirs(path.parent_path()));
  ASSERT_TRUE(env.CreateDirs(path.parent_path()));  // idempotent
  auto file = env.NewWritableFile(path);
  ASSERT_TRUE(file) << file.error().message;
  ASSERT_TRUE((*file)->Append(Bytes("hello ")));
  ASSERT_TRUE((*file)->Append(Bytes("world")));
  ASSERT_TRUE((*file)->Sync());
  ASSERT_TRUE((*file)->Close());
  EXPECT_EQ((*file)->Append(Bytes("x")).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(env.SyncDir(path.parent_path()));

  // Creation is exclusive.
  EXPECT_EQ(env.NewWritableFile(path).error().code, ErrorCode::kAlreadyExists);

  auto reader = env.NewReadableFile(path);
  ASSERT_TRUE(reader);
  std::vector<std::byte> buffer(5);
  EXPECT_EQ((*reader)->Read(buffer).value(), 5u);
  EXPECT_EQ(AsString(buffer), "hello");
  EXPECT_EQ((*reader)->ReadAt(6, buffer).value(), 5u);
  EXPECT_EQ(AsString(buffer), "world");
  EXPECT_EQ((*reader)->Read(buffer).value(), 5u);  // ReadAt did not move the position
  EXPECT_EQ(AsString(buffer), " worl");
  EXPECT_EQ((*reader)->Read(buffer).value(), 1u);
  EXPECT_EQ((*reader)->Size().value(), 11);

  auto info = env.Stat(path);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, FileType::kRegular);
  EXPECT_EQ(info->size, 11);
  EXPECT_GT(info->modified, 0);
  EXPECT_EQ(env.Stat(dir.path()).value().type, FileType::kDirectory);
  EXPECT_EQ(env.FileExists(path).value(), true);
  EXPECT_EQ(env.FileExists(path / "below a file").value(), false);

  ASSERT_TRUE(env.RenameFile(path, dir.path() / "a" / "moved"));
  EXPECT_THAT(env.GetChildren(dir.path() / "a").value(), UnorderedElementsAre("b", "moved"));
  ASSERT_TRUE(env.RemoveFile(dir.path() / "a" / "moved"));
  EXPECT_EQ(env.FileExists(dir.path() / "a" / "moved").value(), false);
}

TEST(PosixEnv, ErrorsCarryCodePathAndReason) {
  pixvault::testing::TempDir dir;
  PosixEnv env;
  const fs::path missing = dir.path() / "missing";
  auto removed = env.RemoveFile(missing);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(removed.error().message, HasSubstr(missing.string()));
  EXPECT_THAT(removed.error().message, HasSubstr("No such file or directory"));
  EXPECT_EQ(env.NewReadableFile(missing).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(env.Stat(missing).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(env.GetChildren(missing).error().code, ErrorCode::kNotFound);

  pixvault::testing::WriteFile(dir.path() / "file", "x");
  EXPECT_FALSE(env.CreateDirs(dir.path() / "file" / "sub"));
  EXPECT_FALSE(env.CreateDirs(dir.path() / "file"));
}

TEST(FaultInjectionEnv, FailsFromTheArmedStepOn) {
  pixvault::testing::TempDir dir;
  PosixEnv posix;
  FaultInjectionEnv env(posix);
  env.FailFrom(3);
  auto file = env.NewWritableFile(dir.path() / "f");  // step 1
  ASSERT_TRUE(file);
  EXPECT_TRUE((*file)->Append(Bytes("a")));  // step 2
  auto failed = (*file)->Sync();             // step 3
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(failed.error().message, HasSubstr("injected fault at step 3"));
  EXPECT_FALSE(env.RenameFile(dir.path() / "f", dir.path() / "g"));  // step 4
  EXPECT_TRUE(fs::exists(dir.path() / "f"));              // the failed rename did not happen
  EXPECT_TRUE(env.FileExists(dir.path() / "f").value());  // reads are not steps
  EXPECT_EQ(env.mutating_ops(), 4);
  EXPECT_EQ(env.op_log().size(), 4u);

  env.Disarm();
  env.ResetCounter();
  EXPECT_TRUE(env.RemoveFile(dir.path() / "f"));
  EXPECT_EQ(env.mutating_ops(), 1);
}

}  // namespace
}  // namespace pixvault::blob
