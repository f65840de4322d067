#include "blob/derived_files.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/sha256.h"
#include "testing/temp_dir.h"

namespace pixvault::blob {
namespace {

namespace fs = std::filesystem;
const std::string kSha = Sha256Hex("derived files test");

TEST(DerivedFiles, WriteThenReadReturnsTheBytesUnderTheBlobsFanOut) {
  testing::TempDir dir;
  DerivedFiles files(dir.path());
  ASSERT_TRUE(files.Write(kSha, "thumb-320.webp", "RIFF....WEBP"));
  auto read = files.Read(kSha, "thumb-320.webp");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, "RIFF....WEBP");
  auto path = files.PathFor(kSha, "thumb-320.webp");
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, dir.path() / "derived" / kSha.substr(0, 2) / kSha.substr(2, 2) /
                       (kSha + ".thumb-320.webp"));
  // Replacing leaves exactly one file and no temp file behind.
  ASSERT_TRUE(files.Write(kSha, "thumb-320.webp", "second"));
  EXPECT_EQ(*files.Read(kSha, "thumb-320.webp"), "second");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(path->parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(DerivedFiles, MissingFileIsNotFound) {
  testing::TempDir dir;
  DerivedFiles files(dir.path());
  auto read = files.Read(kSha, "preview-1280.webp");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
}

TEST(DerivedFiles, RefusesNamesAndHashesThatCouldLeaveTheFolder) {
  testing::TempDir dir;
  DerivedFiles files(dir.path());
  for (std::string name :
       std::vector<std::string>{"", "../x", "a/b", ".hidden", "UPPER", std::string(65, 'a')}) {
    auto st = files.Write(kSha, name, "x");
    ASSERT_FALSE(st) << name;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << name;
  }
  for (std::string sha :
       std::vector<std::string>{"../../etc", kSha.substr(1), std::string(64, 'G')}) {
    auto st = files.Write(sha, "thumb.webp", "x");
    ASSERT_FALSE(st) << sha;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << sha;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "derived"));
}

TEST(DerivedFiles, ConcurrentWritersLeaveOneCompleteFile) {
  testing::TempDir dir;
  DerivedFiles files(dir.path());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&files, t] {
      const std::string body(100'000, static_cast<char>('a' + t));
      for (int i = 0; i < 20; ++i) ASSERT_TRUE(files.Write(kSha, "preview.webp", body));
    });
  }
  for (auto& t : threads) t.join();
  auto read = files.Read(kSha, "preview.webp");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 100'000u);
  EXPECT_EQ(read->find_first_not_of(read->front()), std::string::npos);
}

TEST(DerivedFiles, RemoveAllRemovesOnlyThatBlobsFiles) {
  testing::TempDir dir;
  DerivedFiles files(dir.path());
  // Same fan-out folder, different hash: kSha with its last digit changed.
  std::string other = kSha;
  other.back() = other.back() == '0' ? '1' : '0';
  ASSERT_TRUE(files.Write(kSha, "thumb.webp", "a"));
  ASSERT_TRUE(files.Write(kSha, "preview.webp", "b"));
  ASSERT_TRUE(files.Write(other, "thumb.webp", "c"));
  ASSERT_TRUE(files.RemoveAll(kSha));
  EXPECT_FALSE(files.Read(kSha, "thumb.webp"));
  EXPECT_FALSE(files.Read(kSha, "preview.webp"));
  EXPECT_EQ(*files.Read(other, "thumb.webp"), "c");
  EXPECT_TRUE(files.RemoveAll(Sha256Hex("never written")));
}

TEST(DerivedFiles, RemoveWithPrefixKeepsTheOtherFiles) {
  testing::TempDir dir;
  DerivedFiles files(dir.path());
  ASSERT_TRUE(files.Write(kSha, "shot-0.webp", "a"));
  ASSERT_TRUE(files.Write(kSha, "shot-48.webp", "b"));
  ASSERT_TRUE(files.Write(kSha, "thumb.webp", "c"));
  ASSERT_TRUE(files.RemoveWithPrefix(kSha, "shot-"));
  EXPECT_FALSE(files.Read(kSha, "shot-0.webp"));
  EXPECT_FALSE(files.Read(kSha, "shot-48.webp"));
  EXPECT_EQ(*files.Read(kSha, "thumb.webp"), "c");
  // A prefix that could reach outside the blob's names is refused.
  const Status bad = files.RemoveWithPrefix(kSha, "../");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pixvault::blob
