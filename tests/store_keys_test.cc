// Store contract, part 3: API keys. Runs against SQLite and PostgreSQL.
#include <cctype>

#include "core/sha256.h"
#include "storage/sql/database.h"
#include "testing/store_fixture.h"

namespace pixvault::testing {
namespace {

class StoreKeys : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, true, 0}));
    PV_ASSERT_OK_AND_ASSIGN(admin_, store_->CreateUser(User{0, "root", true, true, 0}));
  }

  // Creates a key whose (fake) plaintext is `secret`.
  ApiKey Make(const User& owner, const std::string& secret, const std::string& label = "") {
    clock_.Advance(1000);
    auto key = store_->CreateApiKey(owner.id, label, secret.substr(0, 12), Sha256Hex(secret));
    EXPECT_TRUE(key.has_value()) << key.error().message;
    return key ? *key : ApiKey{};
  }

  User alice_, bob_, admin_;
};

TEST_P(StoreKeys, CreateFindAndListByOwner) {
  ApiKey laptop = Make(alice_, "pxv_alice-laptop-secret", "laptop");
  EXPECT_GT(laptop.id, 0);
  EXPECT_EQ(laptop.user_id, alice_.id);
  EXPECT_EQ(laptop.label, "laptop");
  EXPECT_EQ(laptop.prefix, "pxv_alice-la");
  EXPECT_EQ(laptop.key_hash, Sha256Hex("pxv_alice-laptop-secret"));
  EXPECT_EQ(laptop.created_at, clock_.Now());
  EXPECT_FALSE(laptop.last_used_at.has_value());
  EXPECT_FALSE(laptop.revoked_at.has_value());
  ApiKey ci = Make(alice_, "pxv_alice-ci-secret", "ci");
  ApiKey bobs = Make(bob_, "pxv_bob-secret");
  EXPECT_EQ(bobs.label, "");

  PV_ASSERT_OK_AND_ASSIGN(auto found, store_->FindUserByApiKeyHash(ci.key_hash));
  EXPECT_EQ(found.first.id, alice_.id);
  EXPECT_EQ(found.first.name, "alice");
  EXPECT_FALSE(found.first.is_admin);
  EXPECT_EQ(found.first.created_at, alice_.created_at);
  EXPECT_EQ(found.second.id, ci.id);
  EXPECT_EQ(found.second.label, "ci");
  PV_ASSERT_OK_AND_ASSIGN(auto found_bob, store_->FindUserByApiKeyHash(bobs.key_hash));
  EXPECT_EQ(found_bob.first.id, bob_.id);
  EXPECT_TRUE(found_bob.first.allow_adult);

  PV_ASSERT_OK_AND_ASSIGN(auto alices, store_->ListApiKeys(alice_.id));
  ASSERT_EQ(alices.size(), 2u);
  EXPECT_EQ(alices[0].id, laptop.id);  // oldest first
  EXPECT_EQ(alices[1].id, ci.id);
  PV_ASSERT_OK_AND_ASSIGN(auto bobs_list, store_->ListApiKeys(bob_.id));
  ASSERT_EQ(bobs_list.size(), 1u);
  PV_ASSERT_OK_AND_ASSIGN(auto nobody, store_->ListApiKeys(9999));
  EXPECT_TRUE(nobody.empty());
}

TEST_P(StoreKeys, UnknownAndRevokedKeysAnswerTheSameError) {
  ApiKey key = Make(alice_, "pxv_soon-revoked");
  auto unknown = store_->FindUserByApiKeyHash(Sha256Hex("pxv_never-issued"));
  ASSERT_FALSE(unknown.has_value());
  PV_ASSERT_OK(store_->RevokeApiKey(Viewer::For(alice_), key.id));
  auto revoked = store_->FindUserByApiKeyHash(key.key_hash);
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(revoked.error().code, unknown.error().code);
  EXPECT_EQ(revoked.error().message, unknown.error().message);
}

TEST_P(StoreKeys, RevokeIsOwnerOrAdminAndIdempotent) {
  ApiKey a1 = Make(alice_, "pxv_alice-one");
  ApiKey a2 = Make(alice_, "pxv_alice-two");
  // Another user's key looks missing, and stays usable.
  PV_EXPECT_ERROR(store_->RevokeApiKey(Viewer::For(bob_), a1.id), ErrorCode::kNotFound);
  PV_ASSERT_OK(store_->FindUserByApiKeyHash(a1.key_hash));
  PV_EXPECT_ERROR(store_->RevokeApiKey(Viewer::For(alice_), 9999), ErrorCode::kNotFound);

  clock_.Advance(5 * kMicrosPerSecond);
  Timestamp first = clock_.Now();
  PV_ASSERT_OK_AND_ASSIGN(ApiKey revoked, store_->RevokeApiKey(Viewer::For(alice_), a1.id));
  EXPECT_EQ(revoked.id, a1.id);
  EXPECT_EQ(revoked.revoked_at, first);
  clock_.Advance(5 * kMicrosPerSecond);
  PV_ASSERT_OK_AND_ASSIGN(ApiKey again, store_->RevokeApiKey(Viewer::For(alice_), a1.id));
  EXPECT_EQ(again.revoked_at, first);  // a no-op: the first revocation time stays

  PV_ASSERT_OK_AND_ASSIGN(ApiKey by_admin, store_->RevokeApiKey(Viewer::For(admin_), a2.id));
  EXPECT_EQ(by_admin.revoked_at, clock_.Now());
  PV_EXPECT_ERROR(store_->FindUserByApiKeyHash(a2.key_hash), ErrorCode::kNotFound);

  // Revoked keys stay listed, with their revocation time.
  PV_ASSERT_OK_AND_ASSIGN(auto listed, store_->ListApiKeys(alice_.id));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].revoked_at, first);
  EXPECT_EQ(listed[1].revoked_at, clock_.Now());
}

TEST_P(StoreKeys, TouchWritesAtMostOnceAMinute) {
  ApiKey key = Make(alice_, "pxv_busy-key");
  Timestamp t0 = clock_.Now();
  PV_ASSERT_OK(store_->TouchApiKey(key.id, t0));
  auto last_used = [&] {
    auto found = store_->FindUserByApiKeyHash(key.key_hash);
    EXPECT_TRUE(found.has_value());
    return found ? found->second.last_used_at : std::nullopt;
  };
  EXPECT_EQ(last_used(), t0);
  PV_ASSERT_OK(store_->TouchApiKey(key.id, t0 + 30 * kMicrosPerSecond));
  EXPECT_EQ(last_used(), t0);
  PV_ASSERT_OK(store_->TouchApiKey(key.id, t0 + storage::kApiKeyTouchInterval));
  EXPECT_EQ(last_used(), t0);
  Timestamp t1 = t0 + storage::kApiKeyTouchInterval + 1;
  PV_ASSERT_OK(store_->TouchApiKey(key.id, t1));
  EXPECT_EQ(last_used(), t1);
  // An earlier time (another instance's clock running behind) never moves it back.
  PV_ASSERT_OK(store_->TouchApiKey(key.id, t0));
  EXPECT_EQ(last_used(), t1);
  PV_ASSERT_OK(store_->TouchApiKey(9999, t1));  // a missing key is not an error
}

TEST_P(StoreKeys, CreateValidatesItsInput) {
  std::string hash = Sha256Hex("pxv_valid");
  PV_EXPECT_ERROR(store_->CreateApiKey(9999, "", "pxv_valid", hash), ErrorCode::kNotFound);
  // The plaintext passed where the hash belongs is refused, so it cannot end up stored.
  PV_EXPECT_ERROR(store_->CreateApiKey(alice_.id, "", "pxv_valid", "pxv_valid"),
                  ErrorCode::kInvalidArgument);
  std::string upper = hash;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  PV_EXPECT_ERROR(store_->CreateApiKey(alice_.id, "", "pxv_valid", upper),
                  ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->CreateApiKey(alice_.id, "", "", hash), ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->CreateApiKey(alice_.id, "", "pxv_valid_and_far_too_long", hash),
                  ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->CreateApiKey(alice_.id, std::string(201, 'x'), "pxv_valid", hash),
                  ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->CreateApiKey(alice_.id, "caf\xE9", "pxv_valid", hash),
                  ErrorCode::kInvalidArgument);
  PV_ASSERT_OK(store_->CreateApiKey(alice_.id, std::string(200, 'x'), "pxv_valid", hash));
  PV_EXPECT_ERROR(store_->CreateApiKey(bob_.id, "", "pxv_valid", hash), ErrorCode::kAlreadyExists);
  PV_ASSERT_OK_AND_ASSIGN(auto listed, store_->ListApiKeys(alice_.id));
  EXPECT_EQ(listed.size(), 1u);
}

TEST_P(StoreKeys, DeletingAUserDeletesItsKeys) {
  ApiKey key = Make(bob_, "pxv_bob-key");
  Make(alice_, "pxv_alice-key");
  auto db = storage::sql::OpenDatabase(url_);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  PV_ASSERT_OK((*db)->Transaction([&](storage::sql::Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM users WHERE id = ?", {bob_.id}));
    return Ok();
  }));
  PV_EXPECT_ERROR(store_->FindUserByApiKeyHash(key.key_hash), ErrorCode::kNotFound);
  PV_ASSERT_OK_AND_ASSIGN(auto rows, store_->ListApiKeys(bob_.id));
  EXPECT_TRUE(rows.empty());
  PV_ASSERT_OK_AND_ASSIGN(auto alices, store_->ListApiKeys(alice_.id));
  EXPECT_EQ(alices.size(), 1u);
}

PV_INSTANTIATE_STORE_TEST(StoreKeys);

}  // namespace
}  // namespace pixvault::testing
