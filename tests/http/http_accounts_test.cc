// Provider accounts through the API: created with credentials that are sealed in the database
// and never returned by any route; listed, fetched and deleted by their owner only; bad bodies
// refused with a problem.
#include <gtest/gtest.h>

#include <string>

#include <boost/json.hpp>

#include "http/http_fixture.h"
#include "service/provider_accounts.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;

constexpr std::string_view kSecret = "sk-test-very-secret-4242";

class HttpAccountsTest : public HttpTest {
 protected:
  HttpResponse Create(std::string_view key, std::string body) {
    return Call("POST", "/api/v1/provider-accounts", key, std::move(body),
                {{"Content-Type", "application/json"}});
  }
  std::string NewAccount(std::string_view provider, std::string_view label) {
    return json::serialize(json::object{{"provider_id", provider},
                                        {"label", label},
                                        {"credentials", json::object{{"api_key", kSecret}}},
                                        {"settings", json::object{{"region", "eu"}}}});
  }
};

TEST_P(HttpAccountsTest, CredentialsGoInOnceAndNeverComeOut) {
  HttpResponse created = Create(alice_key_, NewAccount("runway", "work"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find(kSecret), std::string::npos);
  const json::value account = ParseJson(created.body);
  const std::int64_t id = account.at("id").to_number<std::int64_t>();
  EXPECT_EQ(created.Header("Location").value_or(""),
            "/api/v1/provider-accounts/" + std::to_string(id));
  EXPECT_EQ(account.at("provider_id").as_string(), "runway");
  EXPECT_EQ(account.at("label").as_string(), "work");
  EXPECT_EQ(account.at("settings").at("region").as_string(), "eu");
  EXPECT_TRUE(account.at("has_credentials").as_bool());
  EXPECT_FALSE(account.as_object().contains("credentials"));

  for (const std::string& path : {std::string("/api/v1/provider-accounts"),
                                  "/api/v1/provider-accounts/" + std::to_string(id)}) {
    HttpResponse res = Call("GET", path, alice_key_);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.body.find(kSecret), std::string::npos) << path;
  }
  // Sealed in the database: the row holds no trace of the secret, and opens with the key.
  auto row = store_->GetProviderAccount(Viewer::For(alice_), id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->credentials_encrypted.find(kSecret), std::string::npos);
  auto opened = service::OpenProviderCredentials(*credentials_, *row);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(opened->at("api_key").as_string(), kSecret);
  // Nor in the OpenAPI document's examples, the metrics, or anything else served.
  EXPECT_EQ(Call("GET", "/metrics").body.find(kSecret), std::string::npos);
}

TEST_P(HttpAccountsTest, AccountsBelongToTheirOwner) {
  HttpResponse created = Create(alice_key_, NewAccount("runway", "work"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path =
      "/api/v1/provider-accounts/" +
      std::to_string(ParseJson(created.body).at("id").to_number<std::int64_t>());
  // Bob sees nothing of it and cannot remove it; nobody without a key gets anything.
  EXPECT_EQ(Call("GET", path, bob_key_).status, 404);
  EXPECT_EQ(Call("DELETE", path, bob_key_).status, 404);
  EXPECT_EQ(ParseJson(Call("GET", "/api/v1/provider-accounts", bob_key_).body)
                .at("items")
                .as_array()
                .size(),
            0u);
  EXPECT_EQ(Call("GET", "/api/v1/provider-accounts").status, 401);
  EXPECT_EQ(Create("", NewAccount("runway", "x")).status, 401);
  // The same label on the same provider twice is a conflict; on another provider, or for
  // another user, it is fine.
  EXPECT_EQ(Create(alice_key_, NewAccount("runway", "work")).status, 409);
  EXPECT_EQ(Create(alice_key_, NewAccount("luma", "work")).status, 201);
  EXPECT_EQ(Create(bob_key_, NewAccount("runway", "work")).status, 201);
  EXPECT_EQ(ParseJson(Call("GET", "/api/v1/provider-accounts", alice_key_).body)
                .at("items")
                .as_array()
                .size(),
            2u);
  // The owner removes it; then it is gone.
  EXPECT_EQ(Call("DELETE", path, alice_key_).status, 204);
  EXPECT_EQ(Call("GET", path, alice_key_).status, 404);
  EXPECT_EQ(Call("DELETE", path, alice_key_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/provider-accounts/abc", alice_key_).status, 404);
}

TEST_P(HttpAccountsTest, BadBodiesAreRefusedAndStoreNothing) {
  for (
      const std::string& body : {
          std::string("not json"),
          std::string("[]"),
          std::string(R"({"label": "x", "credentials": {"k": "v"}})"),
          std::string(R"({"provider_id": "runway", "credentials": {"k": "v"}})"),
          std::string(R"({"provider_id": "runway", "label": "x"})"),
          std::string(R"({"provider_id": "Run Way", "label": "x", "credentials": {"k": "v"}})"),
          std::string(R"({"provider_id": "../etc", "label": "x", "credentials": {"k": "v"}})"),
          std::string(R"({"provider_id": "runway", "label": "", "credentials": {"k": "v"}})"),
          std::string(
              R"({"provider_id": "runway", "label": "a\u0001b", "credentials": {"k": "v"}})"),
          std::string(R"({"provider_id": "runway", "label": "x", "credentials": {}})"),
          std::string(R"({"provider_id": "runway", "label": "x", "credentials": "sk"})"),
          std::string(R"({"provider_id": "runway", "label": "x", "credentials": {"k": 5}})"),
          std::string(
              R"({"provider_id": "runway", "label": "x", "credentials": {"k": "v"}, "settings": []})"),
          std::string(
              R"({"provider_id": "runway", "label": "x", "credentials": {"k": "v"}, "enabled": "yes"})"),
          std::string(
              R"({"provider_id": "runway", "label": "x", "credentials": {"k": "v"}, "owner": 3})"),
      }) {
    HttpResponse res = Create(alice_key_, body);
    EXPECT_EQ(res.status, 400) << body << " -> " << res.body;
    CheckResponse(res, body);
  }
  // A secret value that is refused is not echoed in the problem either.
  HttpResponse res = Create(alice_key_, R"({"provider_id": "runway", "label": "x",
      "credentials": {"api_key": ")" + std::string(9000, 's') +
                                            R"("}})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body.find("ssssssss"), std::string::npos);
  EXPECT_EQ(ParseJson(Call("GET", "/api/v1/provider-accounts", alice_key_).body)
                .at("items")
                .as_array()
                .size(),
            0u);
}

PV_INSTANTIATE_STORE_TEST(HttpAccountsTest);

}  // namespace
}  // namespace pixvault::http::testing
