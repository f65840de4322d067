// Cross-provider resolution through the API: the configured providers, resolving an asset for
// an account (uploaded once), re-uploading, the attempts, the asset's provider_uploads map,
// and the bad requests around them. The folder provider here is real (a directory); the fake
// provider server's faults are exercised in http_fake_provider_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <boost/json.hpp>

#include "http/http_fixture.h"
#include "providers/folder_provider.h"
#include "testing/test_media.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;

class HttpResolveTest : public HttpTest {
 protected:
  void AddProviders(providers::ProviderRegistry& registry) override {
    providers::FolderProviderOptions o;
    o.id = "cdn";
    o.root = folders_.path() / "cdn";
    o.base_url = "https://cdn.example/game/";
    o.capabilities.media_types = {MediaType::kImage, MediaType::kAudio};
    o.capabilities.max_pixels = 100'000;
    auto folder = providers::FolderProvider::Open(o);
    ASSERT_TRUE(folder.has_value()) << folder.error().message;
    PV_ASSERT_OK(registry.Add(*folder));
  }

  std::int64_t AddAccount(std::string_view key, std::string_view provider, std::string_view label,
                          json::object settings = {}) {
    HttpResponse res =
        Call("POST", "/api/v1/provider-accounts", key,
             json::serialize(json::object{{"provider_id", provider},
                                          {"label", label},
                                          {"credentials", json::object{{"api_key", "k"}}},
                                          {"settings", std::move(settings)}}),
             {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, 201) << res.body;
    return res.status == 201 ? ParseJson(res.body).at("id").to_number<std::int64_t>() : 0;
  }

  pixvault::testing::TempDir folders_;
};

TEST_P(HttpResolveTest, ProvidersAreListedWithTheirLimits) {
  HttpResponse res = Call("GET", "/api/v1/providers", alice_key_);
  ASSERT_EQ(res.status, 200) << res.body;
  const json::value body = ParseJson(res.body);
  const json::array& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("id").as_string(), "cdn");
  EXPECT_EQ(items[0].at("max_pixels").as_int64(), 100'000);
  EXPECT_TRUE(items[0].at("max_bytes").is_null());
  EXPECT_EQ(items[0].at("media_types").as_array().size(), 2u);
  EXPECT_EQ(items[1].at("id").as_string(), "user_upload");
  EXPECT_FALSE(items[1].at("uploads").as_bool());
  EXPECT_EQ(Call("GET", "/api/v1/providers").status, 401);
}

TEST_P(HttpResolveTest, ResolvingUploadsOnceAndShowsInTheAsset) {
  const std::int64_t id = UploadWav(alice_key_, 1);
  ASSERT_NE(id, 0);
  const std::int64_t account = AddAccount(alice_key_, "cdn", "main");
  const std::string path = AssetPath(id) + "/providers/cdn";
  HttpResponse first = Call("GET", path, alice_key_);
  ASSERT_EQ(first.status, 200) << first.body;
  const json::value r1 = ParseJson(first.body);
  EXPECT_TRUE(r1.at("uploaded_now").as_bool());
  EXPECT_EQ(r1.at("status").as_string(), "uploaded");
  EXPECT_EQ(r1.at("account_id").as_int64(), account);
  const std::string ref(r1.at("provider_ref").as_string());
  EXPECT_EQ(r1.at("provider_url").as_string(), "https://cdn.example/game/" + ref);
  EXPECT_TRUE(std::filesystem::exists(folders_.path() / "cdn" / ref));

  HttpResponse second = Call("GET", path + "?account=" + std::to_string(account), alice_key_);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(ParseJson(second.body).at("uploaded_now").as_bool());
  EXPECT_EQ(ParseJson(second.body).at("provider_ref").as_string(), ref);

  // The asset's provider_uploads map: {"cdn": {"<account>": {...}}}, for its owner only.
  const json::value asset = GetJson(alice_key_, id);
  const json::value& row = asset.at("provider_uploads").at("cdn").at(std::to_string(account));
  EXPECT_EQ(row.at("provider_ref").as_string(), ref);
  EXPECT_EQ(row.at("status").as_string(), "uploaded");
  HttpResponse as_admin = Call("GET", AssetPath(id), admin_key_);
  ASSERT_EQ(as_admin.status, 200);
  EXPECT_TRUE(ParseJson(as_admin.body).at("provider_uploads").as_object().contains("cdn"));

  // Re-upload on demand; the attempts show both uploads.
  HttpResponse again = Call("POST", AssetPath(id) + "/reupload", alice_key_,
                            R"({"provider_id":"cdn"})", {{"Content-Type", "application/json"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(ParseJson(again.body).at("uploaded_now").as_bool());
  HttpResponse attempts = Call("GET", path + "/attempts", alice_key_);
  ASSERT_EQ(attempts.status, 200) << attempts.body;
  const json::value listed = ParseJson(attempts.body);
  const json::array& items = listed.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("operation").as_string(), "upload");
  EXPECT_TRUE(items[0].at("succeeded").as_bool());
}

TEST_P(HttpResolveTest, BadRequestsGetProblemsAndUploadNothing) {
  const std::int64_t id = UploadWav(alice_key_, 2);
  const std::int64_t bobs_asset = UploadWav(bob_key_, 3);
  ASSERT_NE(id, 0);
  const std::int64_t account = AddAccount(alice_key_, "cdn", "main");
  const std::int64_t bobs_account = AddAccount(bob_key_, "cdn", "bob");
  struct Case {
    std::string method, target, body;
    int status;
  };
  const std::string path = AssetPath(id) + "/providers/cdn";
  const std::vector<Case> cases = {
      {"GET", AssetPath(id) + "/providers/nope", "", 404},
      {"GET", AssetPath(id) + "/providers/user_upload", "", 415},
      {"GET", AssetPath(999999) + "/providers/cdn", "", 404},
      {"GET", AssetPath(bobs_asset) + "/providers/cdn", "", 404},  // bob's private asset
      {"GET", path + "?account=abc", "", 400},
      {"GET", path + "?account=0", "", 400},
      {"GET", path + "?account=" + std::to_string(bobs_account), "", 404},
      {"GET", path + "?verify=maybe", "", 400},
      {"POST", AssetPath(id) + "/reupload", "{", 400},
      {"POST", AssetPath(id) + "/reupload", "[]", 400},
      {"POST", AssetPath(id) + "/reupload", "{}", 400},
      {"POST", AssetPath(id) + "/reupload", R"({"provider_id":"cdn","extra":1})", 400},
      {"POST", AssetPath(id) + "/reupload", R"({"provider_id":5})", 400},
      {"POST", AssetPath(id) + "/reupload", R"({"provider_id":"cdn","account_id":"x"})", 400},
      {"GET", path + "/attempts?account=" + std::to_string(bobs_account), "", 404},
  };
  for (const Case& c : cases) {
    HttpResponse res =
        Call(c.method, c.target, alice_key_, c.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, c.status)
        << c.method << " " << c.target << " " << c.body << ": " << res.body;
    CheckResponse(res, c.target);
  }
  // Bob has no account alice can use, and no access to her asset even with his own account.
  HttpResponse bob = Call("GET", path + "?account=" + std::to_string(bobs_account), bob_key_);
  EXPECT_EQ(bob.status, 404);
  EXPECT_TRUE(std::filesystem::is_empty(folders_.path() / "cdn"));
  (void)account;
}

TEST_P(HttpResolveTest, AnImageOverThePixelLimitIsRefusedOrDownscaled) {
  if (MediaBytes("picture.png").empty()) GTEST_SKIP() << "ffmpeg cannot make picture.png";
  const std::int64_t id = UploadMedia(alice_key_, "picture.png");  // 640x480 > 100,000
  ASSERT_NE(id, 0);
  const std::int64_t strict = AddAccount(alice_key_, "cdn", "strict");
  const std::int64_t lenient =
      AddAccount(alice_key_, "cdn", "lenient", json::object{{"allow_downscale", true}});
  const std::string path = AssetPath(id) + "/providers/cdn?account=";
  HttpResponse refused = Call("GET", path + std::to_string(strict), alice_key_);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("allow_downscale"), std::string::npos);
  HttpResponse ok = Call("GET", path + std::to_string(lenient), alice_key_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(ParseJson(ok.body).at("downscaled").as_bool());
}

PV_INSTANTIATE_STORE_TEST(HttpResolveTest);

}  // namespace
}  // namespace pixvault::http::testing
