// API key issuing and Bearer authentication against both database backends.
#include "service/auth.h"

#include <set>

#include "core/sha256.h"
#include "storage/sql/database.h"
#include "testing/store_fixture.h"

namespace pixvault::service {
namespace {

class AuthTest : public pixvault::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, true, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, false, 0}));
  }

  // Issues a key for `user` and returns its plaintext.
  std::pair<ApiKey, std::string> Issue(const User& user, std::string_view label = "test") {
    auto issued = IssueApiKey(*store_, user.id, label);
    EXPECT_TRUE(issued.has_value()) << issued.error().message;
    return issued ? *issued : std::pair<ApiKey, std::string>{};
  }

  Result<User> Auth(std::string_view header) { return AuthenticateBearer(*store_, clock_, header); }

  // Expects `header` to be refused with kPermissionDenied and `message`, which never
  // contains the key.
  void ExpectDenied(std::string_view header, std::string_view message, std::string_view key) {
    auto r = Auth(header);
    ASSERT_FALSE(r.has_value()) << "accepted: " << header;
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied) << header;
    EXPECT_EQ(r.error().message, message) << header;
    if (!key.empty()) {
      EXPECT_EQ(r.error().message.find(key), std::string::npos);
    }
  }

  User alice_, bob_;
};

constexpr std::string_view kMalformed = "missing or malformed Authorization header";
constexpr std::string_view kInvalid = "invalid API key";

TEST(ApiKeys, GeneratedKeysAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto key = GenerateApiKey();
    ASSERT_TRUE(key.has_value()) << key.error().message;
    EXPECT_EQ(key->size(), kApiKeyLength);
    EXPECT_TRUE(key->starts_with("pxv_"));
    EXPECT_TRUE(LooksLikeApiKey(*key)) << *key;
    seen.insert(*key);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_FALSE(LooksLikeApiKey(""));
  EXPECT_FALSE(LooksLikeApiKey("pxv_short"));
  EXPECT_FALSE(LooksLikeApiKey("xyz_" + std::string(43, 'a')));
  EXPECT_FALSE(LooksLikeApiKey("pxv_" + std::string(42, 'a') + "="));
  EXPECT_TRUE(LooksLikeApiKey("pxv_" + std::string(42, 'a') + "-"));
}

TEST_P(AuthTest, IssuedKeyAuthenticatesItsOwner) {
  auto [row, key] = Issue(alice_, "laptop");
  EXPECT_EQ(row.user_id, alice_.id);
  EXPECT_EQ(row.label, "laptop");
  EXPECT_EQ(row.prefix, key.substr(0, kApiKeyPrefixLength));
  EXPECT_EQ(row.key_hash, Sha256Hex(key));
  auto [bob_row, bob_key] = Issue(bob_);

  PV_ASSERT_OK_AND_ASSIGN(User who, Auth("Bearer " + key));
  EXPECT_EQ(who.id, alice_.id);
  EXPECT_EQ(who.name, "alice");
  EXPECT_TRUE(who.allow_adult);
  // The scheme is case-insensitive (RFC 7235); the key is not.
  PV_ASSERT_OK_AND_ASSIGN(User lower, Auth("bearer " + key));
  EXPECT_EQ(lower.id, alice_.id);
  PV_ASSERT_OK_AND_ASSIGN(User upper, Auth("BEARER " + bob_key));
  EXPECT_EQ(upper.id, bob_.id);
  std::string flipped = key;
  char& c = flipped.back();
  c = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : 'a';
  ExpectDenied("Bearer " + flipped, kInvalid, flipped);
}

TEST_P(AuthTest, WrongAndRevokedKeysAreDeniedAlike) {
  auto [row, key] = Issue(alice_);
  auto other = GenerateApiKey();
  ASSERT_TRUE(other.has_value());
  ExpectDenied("Bearer " + *other, kInvalid, *other);
  ExpectDenied("Bearer not-a-pixvault-key", kInvalid, "not-a-pixvault-key");
  ExpectDenied("Bearer " + key.substr(0, key.size() - 1), kInvalid, key.substr(0, 20));

  PV_ASSERT_OK(Auth("Bearer " + key));
  PV_ASSERT_OK(store_->RevokeApiKey(Viewer::For(alice_), row.id));
  ExpectDenied("Bearer " + key, kInvalid, key);
  // Other keys of the same user keep working.
  auto [row2, key2] = Issue(alice_);
  PV_ASSERT_OK(Auth("Bearer " + key2));
}

TEST_P(AuthTest, MalformedHeadersAreDenied) {
  auto [row, key] = Issue(alice_);
  for (const std::string& header : {
           std::string(),
           std::string("Bearer"),
           std::string("Bearer "),
           std::string("Basic ") + key,
           std::string("Basic YWxpY2U6c2VjcmV0"),
           std::string("Token ") + key,
           std::string("Bearer  ") + key,
           std::string("bearer  ") + key,
           std::string("Bearer\t") + key,
           std::string(" Bearer ") + key,
           std::string("Bearer ") + key + "\n",
           std::string("Bearer ") + key + "\r\n",
           std::string("Bearer ") + key + " ",
           std::string("Bearer ") + key + " extra",
           std::string("Bearer ") + key + "," + key,
           std::string("Bearer") + key,
           std::string("Bearer ") + std::string(1, '\0') + key,
           key,
       }) {
    ExpectDenied(header, kMalformed, key);
  }
  // A refused header does not count as a use of the key.
  PV_ASSERT_OK_AND_ASSIGN(auto keys, store_->ListApiKeys(alice_.id));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_FALSE(keys[0].last_used_at.has_value());
}

TEST_P(AuthTest, StoredRowNeverContainsThePlaintext) {
  auto [row, key] = Issue(alice_, "ci");
  PV_ASSERT_OK(Auth("Bearer " + key));
  auto db = storage::sql::OpenDatabase(url_);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  storage::sql::Rows rows;
  PV_ASSERT_OK((*db)->Read([&](storage::sql::Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(rows, c.Query("SELECT * FROM api_keys"));
    return Ok();
  }));
  ASSERT_EQ(rows.size(), 1u);
  storage::sql::RowView r(rows, 0);
  EXPECT_EQ(r.Text("key_hash"), Sha256Hex(key));
  EXPECT_EQ(r.Text("prefix"), key.substr(0, kApiKeyPrefixLength));
  // No column holds the key, or its secret part past the displayed prefix.
  std::string secret_tail = key.substr(kApiKeyPrefixLength);
  for (const auto& value : rows.row(0)) {
    std::string text;
    if (auto* s = std::get_if<std::string>(&value)) text = *s;
    if (auto* b = std::get_if<storage::sql::Bytes>(&value)) text = b->data;
    EXPECT_EQ(text.find(secret_tail.substr(0, 8)), std::string::npos) << text;
  }
}

TEST_P(AuthTest, AuthenticationRecordsUseAtMostOnceAMinute) {
  auto [row, key] = Issue(alice_);
  auto last_used = [&] {
    auto keys = store_->ListApiKeys(alice_.id);
    EXPECT_TRUE(keys.has_value() && keys->size() == 1u);
    return keys && !keys->empty() ? keys->front().last_used_at : std::nullopt;
  };
  EXPECT_EQ(last_used(), std::nullopt);
  Timestamp t0 = clock_.Now();
  PV_ASSERT_OK(Auth("Bearer " + key));
  EXPECT_EQ(last_used(), t0);
  clock_.Advance(30 * kMicrosPerSecond);
  PV_ASSERT_OK(Auth("Bearer " + key));
  EXPECT_EQ(last_used(), t0);
  clock_.Advance(31 * kMicrosPerSecond);
  PV_ASSERT_OK(Auth("Bearer " + key));
  EXPECT_EQ(last_used(), clock_.Now());
}

TEST_P(AuthTest, IssueChecksTheUserAndLabel) {
  auto missing = IssueApiKey(*store_, 9999, "x");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto bad_label = IssueApiKey(*store_, alice_.id, std::string(201, 'x'));
  ASSERT_FALSE(bad_label.has_value());
  EXPECT_EQ(bad_label.error().code, ErrorCode::kInvalidArgument);
  PV_ASSERT_OK_AND_ASSIGN(auto keys, store_->ListApiKeys(alice_.id));
  EXPECT_TRUE(keys.empty());
}

TEST_P(AuthTest, KeyJsonLeavesOutTheHash) {
  auto [row, key] = Issue(alice_, "laptop");
  boost::json::object o = ApiKeyToJson(row);
  EXPECT_EQ(o.at("id").as_int64(), row.id);
  EXPECT_EQ(o.at("user_id").as_int64(), alice_.id);
  EXPECT_EQ(o.at("label"), "laptop");
  EXPECT_EQ(o.at("prefix").as_string(), row.prefix);
  EXPECT_TRUE(o.at("last_used_at").is_null());
  EXPECT_TRUE(o.at("revoked_at").is_null());
  EXPECT_FALSE(o.contains("key_hash"));
  EXPECT_FALSE(o.contains("key"));
}

PV_INSTANTIATE_STORE_TEST(AuthTest);

}  // namespace
}  // namespace pixvault::service
