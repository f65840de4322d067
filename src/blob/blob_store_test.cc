#include "blob/blob_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "blob/env.h"
#include "blob/fault_injection_env.h"
#include "core/sha256.h"
#include "testing/temp_dir.h"

namespace pixvault::blob {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string RandomContent(std::size_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

// Writes `content` in pieces of `piece` bytes, then finishes and publishes.
Result<std::string> Put(BlobStore& store, std::string_view content, std::size_t piece = 1000) {
  PV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, store.BeginWrite({}));
  for (std::size_t i = 0; i < content.size(); i += piece) {
    PV_RETURN_IF_ERROR(writer->Append(Bytes(content.substr(i, piece))));
  }
  PV_ASSIGN_OR_RETURN(std::string sha, writer->Finish());
  PV_RETURN_IF_ERROR(writer->Publish());
  return sha;
}

std::string ReadAll(BlobReader& reader) {
  std::string out;
  std::vector<std::byte> buffer(64 * 1024);
  for (;;) {
    auto n = reader.Read(buffer);
    EXPECT_TRUE(n) << n.error().message;
    if (!n) break;
    out.append(reinterpret_cast<const char*>(buffer.data()), *n);
    if (*n < buffer.size()) break;
  }
  return out;
}

std::map<std::string, std::int64_t> ListBlobs(BlobStore& store, std::vector<fs::path>* strays) {
  std::map<std::string, std::int64_t> blobs;
  auto status = store.ForEach(
      [&](std::string_view sha, std::int64_t size) -> Status {
        blobs.emplace(sha, size);
        return Ok();
      },
      [&](const fs::path& path) {
        if (strays != nullptr) strays->push_back(path);
      });
  EXPECT_TRUE(status) << status.error().message;
  return blobs;
}

std::vector<std::string> FilesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().string());
  return names;
}

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsBlobStore::Create(env_, dir_.path() / "store");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  pixvault::testing::TempDir dir_;
  PosixEnv env_;
  std::unique_ptr<FsBlobStore> store_;
};

TEST_F(FsBlobStoreTest, PutThenGetReturnsSameBytes) {
  const std::string content = RandomContent(2 * kChunkSize + 17, 1);
  auto sha = Put(*store_, content, 100'000);
  ASSERT_TRUE(sha) << sha.error().message;
  EXPECT_EQ(*sha, Sha256Hex(content));
  EXPECT_EQ(store_->PathFor(*sha),
            store_->root() / "blobs" / sha->substr(0, 2) / sha->substr(2, 2) / *sha);
  EXPECT_TRUE(fs::is_regular_file(store_->PathFor(*sha)));
  EXPECT_EQ(store_->Exists(*sha).value(), true);
  EXPECT_EQ(store_->Size(*sha).value(), static_cast<std::int64_t>(content.size()));

  auto reader = store_->Open(*sha);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->size(), static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(ReadAll(**reader), content);

  std::vector<std::byte> buffer(100);
  auto n = (*reader)->ReadAt(1'234'567, buffer);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 100u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), 100),
            content.substr(1'234'567, 100));
  n = (*reader)->ReadAt(static_cast<std::int64_t>(content.size()) - 10, buffer);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 10u);
  EXPECT_THAT(FilesIn(store_->temp_dir()), IsEmpty());
}

TEST_F(FsBlobStoreTest, EmptyBlobIsStored) {
  auto sha = Put(*store_, "");
  ASSERT_TRUE(sha) << sha.error().message;
  EXPECT_EQ(*sha, Sha256Hex(""));
  EXPECT_EQ(store_->Size(*sha).value(), 0);
}

TEST_F(FsBlobStoreTest, IdenticalBytesAreStoredOnce) {
  const std::string content = RandomContent(5000, 2);
  auto first = Put(*store_, content);
  auto second = Put(*store_, content, 333);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);
  EXPECT_THAT(ListBlobs(*store_, nullptr), ElementsAre(std::pair(*first, 5000)));
  EXPECT_THAT(FilesIn(store_->temp_dir()), IsEmpty());
}

TEST_F(FsBlobStoreTest, SizeLimitIsEnforcedWhileStreaming) {
  auto writer = store_->BeginWrite({.max_size = 10});
  ASSERT_TRUE(writer);
  const fs::path temp = (*writer)->temp_path();
  EXPECT_TRUE((*writer)->Append(Bytes("123456")));
  EXPECT_TRUE((*writer)->Append(Bytes("7890")));  // exactly at the limit
  EXPECT_EQ((*writer)->size(), 10);
  auto status = (*writer)->Append(Bytes("x"));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(status.error().message, HasSubstr("too large"));
  EXPECT_FALSE(fs::exists(temp));  // the failed write is cleaned up at once
  auto finish = (*writer)->Finish();
  ASSERT_FALSE(finish);
  EXPECT_EQ(finish.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(store_->BeginWrite({.max_size = -1}));
}

TEST_F(FsBlobStoreTest, MalformedShaIsRefused) {
  const std::string good = Sha256Hex("x");
  std::string upper = good;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  const std::vector<std::string> bad = {
      "",
      "abc",
      upper,
      good.substr(1),
      good + "0",
      "../../../../etc/passwd",
      "../" + good.substr(3),
      std::string(64, 'g'),
      good.substr(0, 63) + '/',
  };
  for (const std::string& sha : bad) {
    SCOPED_TRACE(sha);
    EXPECT_EQ(store_->Open(sha).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Exists(sha).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Size(sha).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Remove(sha).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Verify(sha).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->PathFor(sha), fs::path());
  }
}

TEST_F(FsBlobStoreTest, MissingBlobIsNotFoundAndRemovingItSucceeds) {
  const std::string sha = Sha256Hex("never stored");
  EXPECT_EQ(store_->Open(sha).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Size(sha).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Verify(sha).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Exists(sha).value(), false);
  EXPECT_TRUE(store_->Remove(sha));

  auto stored = Put(*store_, "stored");
  ASSERT_TRUE(stored);
  EXPECT_TRUE(store_->Remove(*stored));
  EXPECT_EQ(store_->Exists(*stored).value(), false);
}

TEST_F(FsBlobStoreTest, VerifyDetectsCorruption) {
  const std::string content = RandomContent(kChunkSize + 5, 3);
  auto sha = Put(*store_, content, 4096);
  ASSERT_TRUE(sha);
  EXPECT_EQ(store_->Verify(*sha).value(), *sha);

  std::string tampered = content;
  tampered[kChunkSize + 1] ^= 1;
  pixvault::testing::WriteFile(store_->PathFor(*sha), tampered);
  auto verified = store_->Verify(*sha);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::kCorrupt);

  // Writing the same bytes again repairs the blob.
  ASSERT_TRUE(Put(*store_, content));
  EXPECT_EQ(store_->Verify(*sha).value(), *sha);
}

TEST_F(FsBlobStoreTest, ForEachListsBlobsAndReportsStrays) {
  std::map<std::string, std::int64_t> expected;
  for (unsigned i = 0; i < 3; ++i) {
    const std::string content = RandomContent(100 * (i + 1), 10 + i);
    auto sha = Put(*store_, content);
    ASSERT_TRUE(sha);
    expected.emplace(*sha, static_cast<std::int64_t>(content.size()));
  }
  const fs::path blobs = store_->root() / "blobs";
  const std::string some_sha = expected.begin()->first;
  const fs::path blob_dir = store_->PathFor(some_sha).parent_path();
  const std::string misplaced = Sha256Hex("misplaced");
  ASSERT_NE(misplaced.substr(0, 4), "0000");
  pixvault::testing::WriteFile(blobs / "README", "x");
  pixvault::testing::WriteFile(blobs / "0g" / "file", "x");
  pixvault::testing::WriteFile(blob_dir / "notes.txt", "x");
  pixvault::testing::WriteFile(blobs / "00" / "00" / misplaced, "misplaced");
  fs::create_directories(blob_dir / Sha256Hex("a directory"));

  std::vector<fs::path> strays;
  EXPECT_EQ(ListBlobs(*store_, &strays), expected);
  EXPECT_THAT(strays, UnorderedElementsAre(blobs / "README", blobs / "0g", blob_dir / "notes.txt",
                                           blobs / "00" / "00" / misplaced,
                                           blob_dir / Sha256Hex("a directory")));

  int visited = 0;
  auto status = store_->ForEach(
      [&](std::string_view, std::int64_t) -> Status {
        ++visited;
        return Fail(ErrorCode::kUnavailable, "stop");
      },
      nullptr);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "stop");
  EXPECT_EQ(visited, 1);
}

TEST_F(FsBlobStoreTest, CleanTempRemovesStaleFilesButNotLiveWriters) {
  const fs::path tmp = store_->temp_dir();
  pixvault::testing::WriteFile(tmp / "old.tmp", "old");
  pixvault::testing::WriteFile(tmp / "new.tmp", "new");
  fs::last_write_time(tmp / "old.tmp", fs::file_time_type::clock::now() - std::chrono::hours(2));
  auto writer = store_->BeginWrite({});
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Append(Bytes("in flight")));

  const Timestamp now = SystemClock().Now();
  const Timestamp hour = 3600 * kMicrosPerSecond;
  ASSERT_TRUE(store_->CleanTemp(now - hour));
  EXPECT_FALSE(fs::exists(tmp / "old.tmp"));
  EXPECT_TRUE(fs::exists(tmp / "new.tmp"));
  EXPECT_TRUE(fs::exists((*writer)->temp_path()));

  ASSERT_TRUE(store_->CleanTemp(now + hour));
  EXPECT_THAT(FilesIn(tmp), ElementsAre((*writer)->temp_path().string()));
  auto sha = (*writer)->Finish();
  ASSERT_TRUE(sha);
  ASSERT_TRUE((*writer)->Publish());
  EXPECT_EQ(store_->Verify(*sha).value(), Sha256Hex("in flight"));
}

TEST_F(FsBlobStoreTest, WriterDestructorRemovesTemp) {
  fs::path temp;
  {
    auto writer = store_->BeginWrite({});
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->Append(Bytes("abandoned")));
    temp = (*writer)->temp_path();
    EXPECT_EQ(temp.parent_path(), store_->temp_dir());
    EXPECT_EQ(pixvault::testing::ReadFile(temp), "abandoned");
  }
  EXPECT_FALSE(fs::exists(temp));
  {
    auto writer = store_->BeginWrite({});
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->Append(Bytes("finished, never published")));
    auto sha = (*writer)->Finish();
    ASSERT_TRUE(sha);
    temp = (*writer)->temp_path();
    EXPECT_TRUE(fs::exists(temp));
    (*writer)->Abort();
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_EQ(store_->Exists(*sha).value(), false);
  }
  EXPECT_THAT(FilesIn(store_->temp_dir()), IsEmpty());
}

TEST_F(FsBlobStoreTest, WriterCallsOutOfOrderAreRefused) {
  auto writer = store_->BeginWrite({});
  ASSERT_TRUE(writer);
  EXPECT_EQ((*writer)->Publish().error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE((*writer)->Finish());
  EXPECT_EQ((*writer)->Append(Bytes("late")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Finish().error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE((*writer)->Publish());
  EXPECT_EQ((*writer)->Publish().error().code, ErrorCode::kInvalidArgument);
}

TEST_F(FsBlobStoreTest, ConcurrentWritersOfIdenticalBytesAllSucceed) {
  const std::string content = RandomContent(300 * 1024, 4);
  constexpr int kThreads = 8;
  std::vector<Result<std::string>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { results[static_cast<std::size_t>(i)] = Put(*store_, content, 4096); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(*result, Sha256Hex(content));
  }
  EXPECT_EQ(ListBlobs(*store_, nullptr).size(), 1u);
  EXPECT_EQ(store_->Verify(Sha256Hex(content)).value(), Sha256Hex(content));
  EXPECT_THAT(FilesIn(store_->temp_dir()), IsEmpty());
}

// Kills the write at every mutating step in turn (the failing step and all later ones fail,
// so the writer cannot clean up either) and checks what a restarted store finds.
TEST(FsBlobStoreCrash, EveryStepLeavesNothingOrACompleteBlob) {
  const std::string content = RandomContent(3000, 5);
  const std::string sha = Sha256Hex(content);
  PosixEnv posix;

  std::int64_t total = 0;
  std::int64_t rename_step = 0;
  {
    pixvault::testing::TempDir dir;
    FaultInjectionEnv env(posix);
    auto store = FsBlobStore::Create(env, dir.path());
    ASSERT_TRUE(store);
    env.ResetCounter();
    ASSERT_TRUE(Put(**store, content, 1000));
    total = env.mutating_ops();
    const std::vector<std::string> log = env.op_log();
    // create, 3 appends, sync, close, mkdir, 2 parent syncs, rename, dir sync.
    ASSERT_EQ(total, 11) << ::testing::PrintToString(log);
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (log[i].starts_with("rename")) rename_step = static_cast<std::int64_t>(i) + 1;
    }
    ASSERT_GT(rename_step, 0);
  }

  for (std::int64_t k = 1; k <= total; ++k) {
    pixvault::testing::TempDir dir;
    FaultInjectionEnv env(posix);
    auto store = FsBlobStore::Create(env, dir.path());
    ASSERT_TRUE(store);
    env.ResetCounter();
    env.FailFrom(k);
    auto put = Put(**store, content, 1000);
    SCOPED_TRACE("failing from step " + std::to_string(k) + ": " + env.op_log().back());
    EXPECT_FALSE(put);
    store->reset();

    auto fresh = FsBlobStore::Create(posix, dir.path());
    ASSERT_TRUE(fresh);
    auto exists = (*fresh)->Exists(sha);
    ASSERT_TRUE(exists);
    EXPECT_EQ(*exists, k > rename_step);
    if (*exists) {
      EXPECT_EQ((*fresh)->Verify(sha).value(), sha);
    }
    std::vector<fs::path> strays;
    EXPECT_EQ(ListBlobs(**fresh, &strays).size(), *exists ? 1u : 0u);
    EXPECT_THAT(strays, IsEmpty());

    // Between creating and renaming the temp file, the crash leaves it behind.
    EXPECT_EQ(FilesIn((*fresh)->temp_dir()).size(), k > 1 && k <= rename_step ? 1u : 0u);
    ASSERT_TRUE((*fresh)->CleanTemp(SystemClock().Now() + kMicrosPerSecond));
    EXPECT_THAT(FilesIn((*fresh)->temp_dir()), IsEmpty());

    // The restarted store accepts the same blob again.
    auto again = Put(**fresh, content);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ((*fresh)->Verify(sha).value(), sha);
  }
}

}  // namespace
}  // namespace pixvault::blob
