#include "providers/folder_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "testing/temp_dir.h"

namespace pixvault::providers {
namespace {

namespace fs = std::filesystem;
using pixvault::testing::ReadFile;
using pixvault::testing::TempDir;
using pixvault::testing::WriteFile;

constexpr const char* kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class FolderProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FolderProviderOptions options;
    options.id = "cdn";
    options.root = dir_ / "cdn";
    options.base_url = "https://cdn.example.com/game/";
    auto p = FolderProvider::Open(options);
    ASSERT_TRUE(p) << p.error().message;
    provider_ = *p;
    source_ = dir_ / "source.mp4";
    WriteFile(source_, content_);
  }
  UploadFile File() const {
    UploadFile f;
    f.path = source_;
    f.size = static_cast<std::int64_t>(content_.size());
    f.sha256 = kSha;
    f.content_type = "video/mp4";
    f.filename = "clip.mp4";
    f.media_type = MediaType::kVideo;
    return f;
  }
  // Downloads `ref` from `offset`: the bytes, or the error.
  Result<std::string> Download(const ProviderRef& ref, std::int64_t offset,
                               std::optional<std::int64_t>* total = nullptr) {
    std::string out;
    DownloadSink sink;
    sink.on_start = [&](std::optional<std::int64_t> size) -> Status {
      if (total != nullptr) *total = size;
      return Ok();
    };
    sink.on_data = [&](std::span<const std::byte> data) -> Status {
      out.append(reinterpret_cast<const char*>(data.data()), data.size());
      return Ok();
    };
    PV_RETURN_IF_ERROR(provider_->Download(account_, ref, offset, sink));
    return out;
  }

  TempDir dir_;
  std::shared_ptr<FolderProvider> provider_;
  fs::path source_;
  std::string content_ = std::string(3 << 20, 'v') + "tail";
  AccountAccess account_;
};

TEST_F(FolderProviderTest, UploadTwiceGivesTheSameRef) {
  auto a = provider_->Upload(account_, File());
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->ref, std::string(kSha) + ".mp4");
  EXPECT_EQ(a->url, "https://cdn.example.com/game/" + a->ref);
  auto b = provider_->Upload(account_, File());
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(a->ref, b->ref);
  EXPECT_EQ(ReadFile(dir_ / "cdn" / a->ref), content_);
  // No temp files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "cdn")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(FolderProviderTest, DownloadWholeAndFromAnOffset) {
  auto ref = provider_->Upload(account_, File());
  ASSERT_TRUE(ref);
  std::optional<std::int64_t> total;
  auto all = Download(*ref, 0, &total);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, content_);
  EXPECT_EQ(total, static_cast<std::int64_t>(content_.size()));
  auto rest = Download(*ref, 1000, &total);
  ASSERT_TRUE(rest) << rest.error().message;
  EXPECT_EQ(*rest, content_.substr(1000));
  EXPECT_EQ(total, static_cast<std::int64_t>(content_.size()));
  auto none = Download(*ref, static_cast<std::int64_t>(content_.size()));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto past = Download(*ref, static_cast<std::int64_t>(content_.size()) + 1);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(FolderProviderTest, RefsOutsideTheFolderAreUnknown) {
  WriteFile(dir_ / "secret", "secret");
  const std::vector<std::string> bad_refs = {"../secret",
                                             "/etc/passwd",
                                             "",
                                             ".",
                                             "..",
                                             std::string(kSha) + "/../../secret",
                                             std::string(kSha) + ".mp4/..",
                                             std::string(kSha).substr(0, 63) + "/"};
  for (const std::string& bad : bad_refs) {
    ProviderRef ref{bad, "", std::nullopt};
    auto d = Download(ref, 0);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::kNotFound) << bad;
    auto c = provider_->Check(account_, ref);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, ErrorCode::kNotFound) << bad;
    auto r = provider_->Delete(account_, ref);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << bad;
  }
  EXPECT_EQ(ReadFile(dir_ / "secret"), "secret");
}

TEST_F(FolderProviderTest, DeleteThenCheckIsNotFound) {
  auto ref = provider_->Upload(account_, File());
  ASSERT_TRUE(ref);
  EXPECT_TRUE(provider_->Check(account_, *ref));
  ASSERT_TRUE(provider_->Delete(account_, *ref));
  auto c = provider_->Check(account_, *ref);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  auto again = provider_->Delete(account_, *ref);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(FolderProviderTest, ABadShaIsRefusedAndGenerationIsUnsupported) {
  UploadFile f = File();
  f.sha256 = "../../etc/passwd";
  auto r = provider_->Upload(account_, f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  auto s = provider_->Submit(account_, "text_to_video", {}, "key");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);
}

TEST_F(FolderProviderTest, ExtensionsAreLowercasedAndAMissingSourceIsNotNotFound) {
  UploadFile f = File();
  f.filename = "CLIP.MP4";
  auto upper = provider_->Upload(account_, f);
  ASSERT_TRUE(upper) << upper.error().message;
  EXPECT_EQ(upper->ref, std::string(kSha) + ".mp4");
  f.path = dir_ / "missing.mp4";
  f.sha256 = std::string(64, 'e');
  auto missing = provider_->Upload(account_, f);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInternal) << missing.error().message;
  // The message reaches API clients: the file's name, not the server's folders.
  EXPECT_THAT(missing.error().message, ::testing::HasSubstr("missing.mp4"));
  EXPECT_THAT(missing.error().message, ::testing::Not(::testing::HasSubstr(dir_.path().string())));
}

TEST(FolderProvider, BaseUrlWithoutTrailingSlash) {
  TempDir dir;
  WriteFile(dir / "f.png", "png");
  FolderProviderOptions options;
  options.id = "cdn";
  options.root = dir / "cdn";
  options.base_url = "https://cdn.example.com/game";
  auto p = FolderProvider::Open(options);
  ASSERT_TRUE(p) << p.error().message;
  UploadFile f;
  f.path = dir / "f.png";
  f.size = 3;
  f.sha256 = kSha;
  f.filename = "f.png";
  auto ref = (*p)->Upload(AccountAccess{}, f);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->url, "https://cdn.example.com/game/" + std::string(kSha) + ".png");
}

TEST(FolderProvider, ARootThatIsAFileIsRefused) {
  TempDir dir;
  WriteFile(dir / "file", "x");
  FolderProviderOptions options;
  options.id = "cdn";
  options.root = dir / "file";
  auto p = FolderProvider::Open(options);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
}

TEST(UserUploadProvider, EverythingIsUnsupported) {
  auto p = MakeUserUploadProvider();
  EXPECT_EQ(p->id(), "user_upload");
  EXPECT_FALSE(p->capabilities().uploads);
  AccountAccess account;
  auto c = p->Check(account, ProviderRef{"x", "", std::nullopt});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace pixvault::providers
