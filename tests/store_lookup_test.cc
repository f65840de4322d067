// Store contract, part 4: bulk lookups by content hash. Runs against SQLite and PostgreSQL.
#include <algorithm>
#include <map>

#include "core/sha256.h"
#include "testing/store_fixture.h"

namespace pixvault::testing {
namespace {

using storage::BlobRef;

class StoreLookup : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, true, 0}));
  }

  // Creates an asset for `owner` over the bytes `content`.
  Asset Make(const User& owner, const std::string& content,
             UploadMethod method = UploadMethod::kApi) {
    Asset a;
    a.user_id = owner.id;
    a.upload_method = method;
    if (method == UploadMethod::kProvider) a.provider_id = "pixverse";
    a.sha256 = Sha256Hex(content);
    a.file_size_bytes = static_cast<std::int64_t>(content.size());
    clock_.Advance(1000);
    auto created = store_->CreateAsset(a, BlobRef{*a.sha256, *a.file_size_bytes, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    EXPECT_FALSE(created && created->duplicate);
    return created ? created->asset : Asset{};
  }

  std::map<std::string, AssetId> Find(const User& u, const std::vector<std::string>& hashes) {
    auto found = store_->FindUploadsBySha256(u.id, hashes);
    EXPECT_TRUE(found.has_value()) << found.error().message;
    std::map<std::string, AssetId> out;
    if (!found) return out;
    for (const auto& [sha, id] : *found) {
      EXPECT_TRUE(out.emplace(sha, id).second) << "hash reported twice: " << sha;
    }
    return out;
  }

  User alice_, bob_;
};

TEST_P(StoreLookup, FindsOnlyTheUsersOwnUploads) {
  Asset mine = Make(alice_, "alice's photo");
  Asset other = Make(alice_, "alice's song", UploadMethod::kWeb);
  // Bob holds the same bytes as Alice's photo, and bytes Alice does not have at all.
  Make(bob_, "alice's photo");
  Make(bob_, "bob's only");
  // A provider generation is not an upload, even when its bytes are identical.
  Make(alice_, "generated", UploadMethod::kProvider);

  std::vector<std::string> ask = {Sha256Hex("alice's photo"), Sha256Hex("bob's only"),
                                  Sha256Hex("generated"),     Sha256Hex("never stored"),
                                  Sha256Hex("alice's song"),  Sha256Hex("alice's photo")};
  auto found = Find(alice_, ask);
  EXPECT_EQ(found, (std::map<std::string, AssetId>{{Sha256Hex("alice's photo"), mine.id},
                                                   {Sha256Hex("alice's song"), other.id}}));

  auto bobs = Find(bob_, ask);
  EXPECT_EQ(bobs.size(), 2u);
  EXPECT_TRUE(bobs.contains(Sha256Hex("alice's photo")));
  EXPECT_NE(bobs[Sha256Hex("alice's photo")], mine.id);
  EXPECT_TRUE(bobs.contains(Sha256Hex("bob's only")));
}

TEST_P(StoreLookup, AnUploadOverProviderBytesCounts) {
  // The provider asset came first; the user's own upload of the same bytes is a new asset
  // and is the one found.
  Make(alice_, "same bytes", UploadMethod::kProvider);
  Asset upload = Make(alice_, "same bytes", UploadMethod::kCli);
  EXPECT_EQ(Find(alice_, {Sha256Hex("same bytes")}),
            (std::map<std::string, AssetId>{{Sha256Hex("same bytes"), upload.id}}));
}

TEST_P(StoreLookup, EmptyAndUnknownInputFindNothing) {
  Make(alice_, "something");
  EXPECT_TRUE(Find(alice_, {}).empty());
  EXPECT_TRUE(Find(alice_, {"not a hash", std::string(64, 'f'), ""}).empty());
  EXPECT_TRUE(Find(User{424242, "ghost", false, false, 0}, {Sha256Hex("something")}).empty());
}

TEST_P(StoreLookup, ManyHashesSpanSeveralStatements) {
  // More than one chunk of placeholders, with the matches in different chunks.
  std::vector<Asset> stored;
  for (int i = 0; i < 5; ++i) stored.push_back(Make(alice_, "stored " + std::to_string(i)));
  std::vector<std::string> ask;
  for (int i = 0; i < 1200; ++i) ask.push_back(Sha256Hex("absent " + std::to_string(i)));
  for (int i = 0; i < 5; ++i) {
    ask.insert(ask.begin() + i * 290, Sha256Hex("stored " + std::to_string(i)));
  }
  auto found = Find(alice_, ask);
  ASSERT_EQ(found.size(), 5u);
  for (const Asset& a : stored) EXPECT_EQ(found[*a.sha256], a.id);
}

PV_INSTANTIATE_STORE_TEST(StoreLookup);

}  // namespace
}  // namespace pixvault::testing
