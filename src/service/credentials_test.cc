#include "service/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <string>

#include "testing/temp_dir.h"

namespace pixvault::service {
namespace {

const std::string kHexA(64, 'a');
const std::string kHexB = std::string(63, 'b') + "c";

CredentialCipher Cipher(const std::string& hex) {
  auto c = CredentialCipher::FromHex(hex);
  EXPECT_TRUE(c.has_value()) << c.error().message;
  return *c;
}

TEST(CredentialCipher, SealedValuesOpenOnlyWithTheSameKeyAndContext) {
  const CredentialCipher a = Cipher(kHexA);
  const std::string secret = R"({"api_key":"sk-live-1234"})";
  auto sealed = a.Seal(secret, "account 1");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->find("sk-live"), std::string::npos);  // not in the clear
  EXPECT_EQ(sealed->substr(0, 3), "pv1");
  auto opened = a.Open(*sealed, "account 1");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, secret);
  // A fresh nonce each time: sealing twice gives different bytes.
  EXPECT_NE(*a.Seal(secret, "account 1"), *sealed);

  // Another context (the value moved to another row), another key, altered bytes: refused.
  const auto refused = [](const Result<std::string>& r) {
    return !r.has_value() && r.error().code == ErrorCode::kCorrupt &&
           r.error().message.find("sk-live") == std::string::npos;
  };
  EXPECT_TRUE(refused(a.Open(*sealed, "account 2")));
  EXPECT_TRUE(refused(Cipher(kHexB).Open(*sealed, "account 1")));
  std::string altered = *sealed;
  altered[altered.size() / 2] = static_cast<char>(altered[altered.size() / 2] ^ 1);
  EXPECT_TRUE(refused(a.Open(altered, "account 1")));
  EXPECT_TRUE(refused(a.Open(sealed->substr(0, sealed->size() - 1), "account 1")));
  EXPECT_TRUE(refused(a.Open("", "account 1")));
  EXPECT_TRUE(refused(a.Open("pv2" + sealed->substr(3), "account 1")));
  // The empty plaintext round-trips too.
  EXPECT_EQ(*a.Open(*a.Seal("", "c"), "c"), "");
}

TEST(CredentialCipher, KeysAreSixtyFourHexDigits) {
  EXPECT_TRUE(CredentialCipher::FromHex("  " + kHexA + "\n").has_value());
  for (const std::string& bad : {std::string(), std::string(62, 'a'), std::string(66, 'a'),
                                 std::string(64, 'g'), kHexA.substr(0, 63) + " "}) {
    auto c = CredentialCipher::FromHex(bad);
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(CredentialCipher, LoadOrCreateWritesAPrivateKeyFileOnceAndReadsItBack) {
  pixvault::testing::TempDir dir;
  const std::filesystem::path path = dir.path() / "sub" / "secret.key";
  auto first = CredentialCipher::LoadOrCreate(path);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = CredentialCipher::LoadOrCreate(path);
  ASSERT_TRUE(second.has_value());
  // The same key: what one sealed, the other opens.
  EXPECT_EQ(*second->Open(*first->Seal("x", "c"), "c"), "x");
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);

  // A file that is not a key is an error, not replaced.
  const std::filesystem::path junk = dir.path() / "junk.key";
  { std::ofstream(junk) << "not a key"; }
  auto bad = CredentialCipher::LoadOrCreate(junk);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(LoadCredentialCipher, EnvironmentKeyThenKeyFileThenTheDataFolder) {
  pixvault::testing::TempDir dir;
  std::map<std::string, std::string> env;
  const auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  const CredentialCipher a = Cipher(kHexA);
  const std::string sealed_a = *a.Seal("x", "c");

  // Default: <data>/secret.key, created.
  auto from_dir = LoadCredentialCipher(dir.path(), getenv);
  ASSERT_TRUE(from_dir.has_value()) << from_dir.error().message;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "secret.key"));
  EXPECT_FALSE(from_dir->Open(sealed_a, "c").has_value());

  // A key file named in the environment wins over the data folder; a missing one is an error
  // (never created: a typo must not silently start a new key).
  const std::filesystem::path key_file = dir.path() / "team.key";
  env["PIXVAULT_SECRET_KEY_FILE"] = key_file.string();
  auto missing = LoadCredentialCipher(dir.path(), getenv);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(key_file));
  { std::ofstream(key_file) << kHexA << "\n"; }
  auto from_file = LoadCredentialCipher(dir.path(), getenv);
  ASSERT_TRUE(from_file.has_value());
  EXPECT_EQ(*from_file->Open(sealed_a, "c"), "x");

  // The key itself in the environment wins over both; a malformed one is an error.
  env["PIXVAULT_SECRET_KEY"] = kHexB;
  auto from_env = LoadCredentialCipher(dir.path(), getenv);
  ASSERT_TRUE(from_env.has_value());
  EXPECT_FALSE(from_env->Open(sealed_a, "c").has_value());
  env["PIXVAULT_SECRET_KEY"] = "short";
  auto malformed = LoadCredentialCipher(dir.path(), getenv);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(malformed.error().message.find("PIXVAULT_SECRET_KEY"), std::string::npos);
}

}  // namespace
}  // namespace pixvault::service
