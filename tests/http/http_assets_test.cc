// /api/v1/assets/{id} over a real connection: who sees what (owners, adult content,
// searchable), PATCH validation and concurrency, DELETE and the bytes it collects.
#include <boost/json.hpp>

#include <thread>

#include "http/http_fixture.h"

namespace pixvault::http::testing {
namespace {

class HttpAssetsTest : public HttpTest {};

TEST_P(HttpAssetsTest, OtherUsersAssetsAreInvisible) {
  std::int64_t bobs = UploadWav(bob_key_, 300);
  std::int64_t alices = UploadWav(alice_key_, 301);
  const std::string path = AssetPath(bobs);
  EXPECT_EQ(Call("GET", path, alice_key_).status, 404);
  EXPECT_EQ(Call("GET", path + "/file", alice_key_).status, 404);
  EXPECT_EQ(Call("HEAD", path + "/file", alice_key_).status, 404);
  EXPECT_EQ(Patch(alice_key_, bobs, R"({"description":"mine now"})").status, 404);
  EXPECT_EQ(Call("DELETE", path, alice_key_).status, 404);
  EXPECT_EQ(ListIds(alice_key_), (std::vector<std::int64_t>{alices}));
  EXPECT_EQ(ListIds(bob_key_), (std::vector<std::int64_t>{bobs}));
  // Nothing alice tried changed bob's asset.
  boost::json::value asset = GetJson(bob_key_, bobs);
  EXPECT_TRUE(asset.at("description").is_null());
  EXPECT_EQ(Call("GET", path + "/file", bob_key_).status, 200);
  // The admin sees everyone's.
  EXPECT_EQ(Sorted(ListIds(admin_key_)), Sorted({bobs, alices}));
  EXPECT_EQ(Call("GET", path, admin_key_).status, 200);
}

TEST_P(HttpAssetsTest, AgeRestrictedAssetsNeedTheAdultSetting) {
  // alice (no adult content) uploads one: it is stored but she cannot see it.
  HttpResponse up = UploadRaw(alice_key_, WavBytes(400), "age_restricted=true");
  ASSERT_EQ(up.status, 201) << up.body;
  std::int64_t hidden = ParseJson(up.body).at("asset").at("id").to_number<std::int64_t>();
  std::int64_t plain = UploadWav(alice_key_, 401);
  EXPECT_EQ(ListIds(alice_key_), (std::vector<std::int64_t>{plain}));
  EXPECT_EQ(Call("GET", AssetPath(hidden), alice_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(hidden) + "/file", alice_key_).status, 404);
  // A rating that implies it works the same way.
  std::int64_t rated = UploadWav(alice_key_, 402, "content_rating=explicit");
  EXPECT_EQ(Call("GET", AssetPath(rated), alice_key_).status, 404);

  // bob may see adult content: his own restricted asset is listed and readable.
  std::int64_t bobs = UploadWav(bob_key_, 403, "age_restricted=true");
  EXPECT_EQ(ListIds(bob_key_), (std::vector<std::int64_t>{bobs}));
  boost::json::value asset = GetJson(bob_key_, bobs);
  EXPECT_EQ(asset.at("age_restricted"), true);
  EXPECT_EQ(Call("GET", AssetPath(bobs) + "/file", bob_key_).status, 200);
  // The admin, without the adult setting, does not see restricted assets.
  EXPECT_EQ(ListIds(admin_key_), (std::vector<std::int64_t>{plain}));

  // Restricting an asset by PATCH hides it from its owner without the setting.
  HttpResponse patched = Patch(alice_key_, plain, R"({"age_restricted":true})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Call("GET", AssetPath(plain), alice_key_).status, 404);
  EXPECT_TRUE(ListIds(alice_key_).empty());
}

TEST_P(HttpAssetsTest, UnsearchableAssetsAreHiddenFromListsButNotFromGet) {
  std::int64_t id = UploadWav(alice_key_, 500);
  std::int64_t other = UploadWav(alice_key_, 501);
  HttpResponse res = Patch(alice_key_, id, R"({"searchable":false})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(ParseJson(res.body).at("searchable"), false);
  EXPECT_EQ(ListIds(alice_key_), (std::vector<std::int64_t>{other}));
  HttpResponse total = Call("GET", "/api/v1/assets?include_total=true", alice_key_);
  EXPECT_EQ(ParseJson(total.body).at("total"), 1);
  EXPECT_EQ(GetJson(alice_key_, id).at("searchable"), false);
  EXPECT_EQ(Call("GET", AssetPath(id) + "/file", alice_key_).status, 200);
  EXPECT_EQ(Call("GET", AssetPath(id), bob_key_).status, 404);
}

TEST_P(HttpAssetsTest, PatchChangesTheGivenFields) {
  std::int64_t id = UploadWav(alice_key_, 600, "tags=old&description=before");
  HttpResponse res = Patch(alice_key_, id, R"({
      "description": "after",
      "tags": ["x", "y"],
      "style_tags": ["noir"],
      "content_domain": "sports",
      "content_category": "goals",
      "content_rating": "mature",
      "content_taxonomy": {"sport": {"kind": "football"}},
      "media_metadata": {"note": 1}
  })");
  ASSERT_EQ(res.status, 200) << res.body;
  for (const boost::json::value& asset : {ParseJson(res.body), GetJson(alice_key_, id)}) {
    EXPECT_EQ(asset.at("description"), "after");
    EXPECT_EQ(asset.at("tags"), (boost::json::array{"x", "y"}));
    EXPECT_EQ(asset.at("style_tags"), (boost::json::array{"noir"}));
    EXPECT_EQ(asset.at("content_domain"), "sports");
    EXPECT_EQ(asset.at("content_category"), "goals");
    EXPECT_EQ(asset.at("content_rating"), "mature");
    EXPECT_EQ(asset.at("content_taxonomy").at("sport").at("kind"), "football");
    EXPECT_EQ(asset.at("media_type"), "audio");  // untouched
  }
  // Clearing a nullable field; an empty patch changes nothing.
  HttpResponse cleared = Patch(alice_key_, id, R"({"description": null})");
  EXPECT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(GetJson(alice_key_, id).at("description").is_null());
  EXPECT_EQ(Patch(alice_key_, id, "{}").status, 200);
  EXPECT_EQ(GetJson(alice_key_, id).at("tags"), (boost::json::array{"x", "y"}));
}

TEST_P(HttpAssetsTest, InvalidPatchesAreBadRequestsAndChangeNothing) {
  std::int64_t id = UploadWav(alice_key_, 700, "description=kept&tags=t");
  for (const char* body : {
           R"({"colour": "red"})",
           R"({"id": 5})",
           R"({"user_id": 2})",
           R"({"sha256": "00"})",
           R"({"tags": "x"})",
           R"({"tags": [1, 2]})",
           R"({"tags": null})",
           R"({"description": 5})",
           R"({"age_restricted": "yes"})",
           R"({"age_restricted": null})",
           R"({"searchable": 1})",
           R"({"content_domain": "nowhere"})",
           R"({"content_domain": 3})",
           R"({"content_rating": "R"})",
           R"({"content_taxonomy": []})",
           R"({"content_taxonomy": "a"})",
           R"({"media_metadata": 5})",
           R"({"description": "x", "tags": "y"})",
           "{",
           "",
           "[]",
           "null",
           "\"text\"",
           R"({"description": "x"} trailing)",
           "\xff\xfe",
       }) {
    HttpResponse res = Patch(alice_key_, id, body);
    EXPECT_EQ(res.status, 400) << body << ": " << res.body;
  }
  boost::json::value asset = GetJson(alice_key_, id);
  EXPECT_EQ(asset.at("description"), "kept");
  EXPECT_EQ(asset.at("tags"), (boost::json::array{"t"}));
}

TEST_P(HttpAssetsTest, PatchTextEdgeCasesNeverFail) {
  std::int64_t id = UploadWav(alice_key_, 5);
  for (const char* body :
       {R"({"description": "a\u0000b"})", R"({"tags": ["\u0000"]})",
        R"({"content_taxonomy": {"a\u0000": "b"}})", R"({"content_category": "\ud800"})",
        R"({"tags": [""]})", R"({"description": "\u00e9\ud83d\ude00"})"}) {
    HttpResponse res = Patch(alice_key_, id, body);
    EXPECT_TRUE(res.status == 200 || res.status == 400) << body << ": " << res.body;
  }
  EXPECT_EQ(Call("GET", AssetPath(id), alice_key_).status, 200);
}

TEST_P(HttpAssetsTest, PatchBodiesOverTheJsonLimitAreRefused) {
  std::int64_t id = UploadWav(alice_key_, 750, "description=kept");
  std::string big = R"({"description":")" + std::string((1 << 20) + 10, 'x') + R"("})";
  HttpResponse res = Patch(alice_key_, id, big);
  EXPECT_EQ(res.status, 413) << res.body;
  // Without a Content-Length the limit applies as the body arrives.
  std::string chunked = ChunkedBody(big, 65536);
  HttpResponse streamed =
      Call("PATCH", AssetPath(id), alice_key_, chunked, {{"Transfer-Encoding", "chunked"}});
  EXPECT_EQ(streamed.status, 413) << streamed.body;
  EXPECT_EQ(GetJson(alice_key_, id).at("description"), "kept");
}

TEST_P(HttpAssetsTest, ConcurrentPatchesOfDifferentFieldsBothSurvive) {
  std::int64_t id = UploadWav(alice_key_, 800);
  for (int round = 0; round < 10; ++round) {
    std::string description = "round " + std::to_string(round);
    std::string tag = "tag" + std::to_string(round);
    std::vector<Result<HttpResponse>> results(2, Fail(ErrorCode::kInternal, "not run"));
    auto patch = [&](int slot, std::string body) {
      HttpRequest req{
          "PATCH", AssetPath(id), {{"Authorization", Bearer(alice_key_)}}, std::move(body), {}};
      results[static_cast<std::size_t>(slot)] = Fetch(port(), req);
    };
    std::thread a(patch, 0, R"({"description":")" + description + R"("})");
    std::thread b(patch, 1, R"({"tags":[")" + tag + R"("]})");
    a.join();
    b.join();
    for (const auto& r : results) {
      ASSERT_TRUE(r.has_value()) << r.error().message;
      CheckResponse(*r, "concurrent patch");
      EXPECT_EQ(r->status, 200) << r->body;
    }
    boost::json::value asset = GetJson(alice_key_, id);
    EXPECT_EQ(asset.at("description"), description.c_str()) << "round " << round;
    EXPECT_EQ(asset.at("tags"), (boost::json::array{tag.c_str()})) << "round " << round;
  }
}

TEST_P(HttpAssetsTest, DeleteRemovesTheAssetAndTheLastUseOfItsBytes) {
  std::string wav = WavBytes(900);
  HttpResponse a = UploadRaw(alice_key_, wav);
  HttpResponse b = UploadRaw(bob_key_, wav);
  ASSERT_EQ(a.status, 201);
  ASSERT_EQ(b.status, 201);
  std::int64_t alices = ParseJson(a.body).at("asset").at("id").to_number<std::int64_t>();
  std::int64_t bobs = ParseJson(b.body).at("asset").at("id").to_number<std::int64_t>();
  EXPECT_EQ(BlobFiles(), 1);

  HttpResponse del = Call("DELETE", AssetPath(alices), alice_key_);
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(Call("GET", AssetPath(alices), alice_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(alices) + "/file", alice_key_).status, 404);
  EXPECT_EQ(Call("DELETE", AssetPath(alices), alice_key_).status, 404);
  EXPECT_TRUE(ListIds(alice_key_).empty());
  // bob's asset still uses the bytes.
  EXPECT_EQ(BlobFiles(), 1);
  HttpResponse file = Call("GET", AssetPath(bobs) + "/file", bob_key_);
  EXPECT_EQ(file.status, 200);
  EXPECT_TRUE(file.body == wav);

  EXPECT_EQ(Call("DELETE", AssetPath(bobs), bob_key_).status, 204);
  EXPECT_EQ(BlobFiles(), 0);
  // Uploading the bytes again works and stores them anew.
  EXPECT_EQ(UploadRaw(alice_key_, wav).status, 201);
  EXPECT_EQ(BlobFiles(), 1);
}

PV_INSTANTIATE_STORE_TEST(HttpAssetsTest);

}  // namespace
}  // namespace pixvault::http::testing
