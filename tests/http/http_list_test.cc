// GET /api/v1/assets over a real connection: filters, parameter validation, keyset paging
// and its cursors.
#include <boost/json.hpp>

#include "http/http_fixture.h"

namespace pixvault::http::testing {
namespace {

class HttpListTest : public HttpTest {};

TEST_P(HttpListTest, ListFilters) {
  std::string png = MediaBytes("image.png");
  if (png.empty()) GTEST_SKIP() << "ffmpeg cannot generate image.png";
  HttpResponse image = UploadRaw(alice_key_, png, "tags=b&content_category=cat2");
  ASSERT_EQ(image.status, 201) << image.body;
  std::int64_t image_id = ParseJson(image.body).at("asset").at("id").to_number<std::int64_t>();
  std::int64_t a1 = UploadWav(alice_key_, 1, "tags=a&content_category=cat1");
  std::int64_t a2 = UploadWav(alice_key_, 2, "tags=a,b");

  EXPECT_EQ(Sorted(ListIds(alice_key_)), Sorted({image_id, a1, a2}));
  EXPECT_EQ(ListIds(alice_key_, "media_type=image"), (std::vector<std::int64_t>{image_id}));
  EXPECT_EQ(Sorted(ListIds(alice_key_, "media_type=audio")), Sorted({a1, a2}));
  EXPECT_TRUE(ListIds(alice_key_, "media_type=video").empty());
  EXPECT_EQ(ListIds(alice_key_, "content_category=cat2"), (std::vector<std::int64_t>{image_id}));
  EXPECT_EQ(Sorted(ListIds(alice_key_, "tag=a")), Sorted({a1, a2}));
  EXPECT_EQ(ListIds(alice_key_, "tag=a&tag=b"), (std::vector<std::int64_t>{a2}));
  EXPECT_EQ(ListIds(alice_key_, "tag=b&media_type=audio"), (std::vector<std::int64_t>{a2}));
  EXPECT_TRUE(ListIds(alice_key_, "tag=nope").empty());

  for (const char* bad :
       {"limit=0", "limit=201", "limit=100000", "limit=abc", "limit=-1", "limit=", "limit=1.5",
        "media_type=bogus", "content_rating=x", "include_total=maybe", "created_after=yesterday",
        "bpm_min=fast", "taxonomy=novalue", "polygons_min=-3", "is_speech=2"}) {
    HttpResponse res = Call("GET", std::string("/api/v1/assets?") + bad, alice_key_);
    EXPECT_EQ(res.status, 400) << bad << ": " << res.body;
  }
  EXPECT_EQ(Call("GET", "/api/v1/assets?limit=200", alice_key_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/assets?limit=1", alice_key_).status, 200);
}

TEST_P(HttpListTest, HostileListParametersAreRefusedOrHarmless) {
  UploadWav(alice_key_, 3);
  // Call() checks that no answer is a 5xx and that every JSON body (problem details echo
  // the parameter) is valid JSON, so valid UTF-8.
  for (const char* query : {"q=%00",
                            "q=%FF%FE",
                            "q=%25",
                            "q=%27%3B--",
                            "tag=%00",
                            "tag=%FF",
                            "content_category=%00",
                            "content_category=%C3%28",
                            "key=%FF",
                            "mood=%00",
                            "taxonomy=a%00=b",
                            "taxonomy=%FF=x",
                            "provider_id=%00",
                            "model_format=%FF",
                            "cursor=",
                            "cursor=%00",
                            "cursor=%FF",
                            "media_type=%FF",
                            "limit=%FF",
                            "created_after=%FF"}) {
    HttpResponse res = Call("GET", std::string("/api/v1/assets?") + query, alice_key_);
    EXPECT_TRUE(res.status == 200 || res.status == 400) << query << ": " << res.body;
  }
}

TEST_P(HttpListTest, TimesOutOfRangeAreBadRequests) {
  // Unix seconds are multiplied into microseconds: values whose product does not fit an
  // int64 must be refused, not overflow (undefined behaviour, in practice a wrapped time).
  for (const char* query :
       {"created_after=9223372036854775807", "created_after=-9223372036854775807",
        "created_before=10000000000000", "created_after=99999999999-01-01T00:00:00Z"}) {
    HttpResponse res = Call("GET", std::string("/api/v1/assets?") + query, alice_key_);
    EXPECT_EQ(res.status, 400) << query << ": " << res.body;
  }
  EXPECT_EQ(Call("GET", "/api/v1/assets?created_after=2026-01-01T00:00:00Z", alice_key_).status,
            200);
  EXPECT_EQ(Call("GET", "/api/v1/assets?created_before=1700000000", alice_key_).status, 200);
}

TEST_P(HttpListTest, KeysetPagingVisitsEveryAssetOnce) {
  std::vector<std::int64_t> uploaded;
  for (int i = 0; i < 7; ++i) uploaded.push_back(UploadWav(alice_key_, 100 + i));
  std::vector<std::int64_t> seen;
  std::string cursor;
  int pages = 0;
  for (; pages < 20; ++pages) {
    std::string target = "/api/v1/assets?limit=2&include_total=true";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    HttpResponse res = Call("GET", target, alice_key_);
    ASSERT_EQ(res.status, 200) << res.body;
    boost::json::value v = ParseJson(res.body);
    EXPECT_EQ(v.at("total"), 7);
    EXPECT_LE(v.at("items").as_array().size(), 2u);
    for (const auto& item : v.at("items").as_array()) {
      seen.push_back(item.at("id").to_number<std::int64_t>());
    }
    if (v.at("next_cursor").is_null()) break;
    cursor = std::string(v.at("next_cursor").as_string());
  }
  EXPECT_EQ(pages + 1, 4);
  EXPECT_EQ(seen.size(), uploaded.size());
  EXPECT_EQ(Sorted(seen), Sorted(uploaded));
  // Newest first.
  std::vector<std::int64_t> newest_first(uploaded.rbegin(), uploaded.rend());
  EXPECT_EQ(seen, newest_first);

  HttpResponse no_total = Call("GET", "/api/v1/assets?limit=2", alice_key_);
  EXPECT_FALSE(ParseJson(no_total.body).as_object().contains("total"));
  HttpResponse filtered =
      Call("GET", "/api/v1/assets?limit=1&include_total=1&tag=none", alice_key_);
  EXPECT_EQ(ParseJson(filtered.body).at("total"), 0);
}

TEST_P(HttpListTest, TamperedCursorsAreBadRequests) {
  for (int i = 0; i < 3; ++i) UploadWav(alice_key_, 200 + i);
  HttpResponse first = Call("GET", "/api/v1/assets?limit=1", alice_key_);
  ASSERT_EQ(first.status, 200);
  std::string cursor(ParseJson(first.body).at("next_cursor").as_string());
  ASSERT_FALSE(cursor.empty());
  std::string flipped = cursor;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {flipped, cursor + "x", cursor.substr(0, cursor.size() - 1), std::string("garbage"),
        std::string("%00"), std::string("eyJpZCI6MX0"), std::string(300, 'A')}) {
    HttpResponse res = Call("GET", "/api/v1/assets?limit=1&cursor=" + bad, alice_key_);
    EXPECT_EQ(res.status, 400) << bad << ": " << res.body;
  }
  // A cursor made for other filters does not leak into this listing's shape either.
  HttpResponse other = Call("GET", "/api/v1/assets?limit=1&cursor=" + cursor, bob_key_);
  EXPECT_TRUE(other.status == 200 || other.status == 400) << other.body;
  if (other.status == 200) {
    EXPECT_TRUE(ParseJson(other.body).at("items").as_array().empty());
  }
}

PV_INSTANTIATE_STORE_TEST(HttpListTest);

}  // namespace
}  // namespace pixvault::http::testing
