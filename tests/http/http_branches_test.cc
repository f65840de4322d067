// Branch points, variants, clips and state variables over HTTP, on both backends: the good
// paths, and every bad input answered with a 4xx problem that writes nothing.
#include <boost/json.hpp>

#include <string>

#include "http/http_lineage_fixture.h"

namespace pixvault::http::testing {
namespace {

class HttpBranchesTest : public HttpLineageTest {
 protected:
  HttpResponse Send(std::string method, const std::string& target, std::string body,
                    std::string_view key = {}) {
    return Call(std::move(method), target, key.empty() ? alice_key_ : key, std::move(body),
                {{"Content-Type", "application/json"}});
  }
  // Sends and expects `status` with a problem body (for 4xx).
  boost::json::value Expect(int status, std::string method, const std::string& target,
                            std::string body, std::string_view key = {}) {
    HttpResponse res = Send(std::move(method), target, body, key);
    EXPECT_EQ(res.status, status) << target << " " << body << " -> " << res.body;
    if (status >= 400) {
      EXPECT_FALSE(res.ProblemCode().empty()) << res.body;
    }
    return res.body.empty() ? boost::json::value() : ParseJson(res.body);
  }
  std::int64_t NewBranch(std::int64_t source, std::string fields = "") {
    auto b = Expect(201, "POST", Branches(source),
                    R"({"branch_time":6,"branch_name":"door")" + fields + "}");
    return b.is_object() ? b.at("id").as_int64() : 0;
  }
  std::int64_t NewVariant(std::int64_t branch, std::int64_t asset, std::string fields = "") {
    auto v = Expect(201, "POST", Variants(branch),
                    R"({"variant_asset_id":)" + std::to_string(asset) + R"(,"variant_name":"v")" +
                        fields + "}");
    return v.is_object() ? v.at("id").as_int64() : 0;
  }
  static std::string Branches(std::int64_t asset) {
    return "/api/v1/assets/" + std::to_string(asset) + "/branches";
  }
  static std::string Branch(std::int64_t id) { return "/api/v1/branches/" + std::to_string(id); }
  static std::string Variants(std::int64_t branch) { return Branch(branch) + "/variants"; }
  static std::string Variant(std::int64_t id) { return "/api/v1/variants/" + std::to_string(id); }
  static std::string Clips(std::int64_t asset) {
    return "/api/v1/assets/" + std::to_string(asset) + "/clips";
  }
  std::size_t VariantCount(std::int64_t branch) {
    auto vars = store_->ListVariants(Viewer{0, true, true}, branch);
    EXPECT_TRUE(vars.has_value());
    return vars ? vars->size() : 0;
  }
};

TEST_P(HttpBranchesTest, BranchPointWithVariantsDefaultAndWindow) {
  std::int64_t source = Make(alice_, 10);
  std::int64_t left = Make(alice_, 4), right = Make(alice_, 5);
  std::int64_t branch = NewBranch(source, R"(,"show_at":4.5,"hide_at":6,"branch_tag":"door")");
  ASSERT_GT(branch, 0);
  std::int64_t v1 = NewVariant(branch, left, R"(,"weight":1)");
  std::int64_t v2 = NewVariant(branch, right, R"(,"weight":3,"variant_tag":"walk")");
  auto patched = Expect(200, "PATCH", Branch(branch),
                        R"({"default_variant_id":)" + std::to_string(v2) +
                            R"(,"branch_type":"random","branch_description":"the door"})");
  EXPECT_EQ(patched.at("default_variant_id").as_int64(), v2);
  EXPECT_EQ(patched.at("branch_type").as_string(), "random");
  EXPECT_EQ(patched.at("show_at").to_number<double>(), 4.5);
  EXPECT_EQ(patched.at("variants").as_array().size(), 2u);

  // A second, earlier branch point: the list is in time order, each with its own variants.
  auto early = Expect(201, "POST", Branches(source), R"({"branch_time":2,"branch_name":"hall"})");
  std::int64_t v3 = NewVariant(early.at("id").as_int64(), right);
  auto list = Get(Branches(source));
  ASSERT_EQ(list.at("items").as_array().size(), 2u);
  const auto& first = list.at("items").as_array()[0].as_object();
  EXPECT_EQ(first.at("branch_name").as_string(), "hall");
  ASSERT_EQ(first.at("variants").as_array().size(), 1u);
  EXPECT_EQ(first.at("variants").as_array()[0].at("id").as_int64(), v3);
  const auto& b = list.at("items").as_array()[1].as_object();
  ASSERT_EQ(b.at("variants").as_array().size(), 2u);
  EXPECT_EQ(b.at("branch_tag").as_string(), "door");
  EXPECT_EQ(b.at("variants").as_array()[0].at("id").as_int64(), v1);
  EXPECT_EQ(b.at("variants").as_array()[1].at("variant_tag").as_string(), "walk");

  // null clears an optional field.
  auto cleared = Expect(200, "PATCH", Branch(branch), R"({"default_variant_id":null})");
  EXPECT_TRUE(cleared.at("default_variant_id").is_null());
  // Deleting the default variant clears the reference.
  Expect(200, "PATCH", Branch(branch), R"({"default_variant_id":)" + std::to_string(v1) + "}");
  Expect(204, "DELETE", Variant(v1), "");
  EXPECT_TRUE(Get(Branch(branch)).at("default_variant_id").is_null());
  Expect(204, "DELETE", Branch(branch), "");
  Expect(404, "GET", Branch(branch), "");
  Expect(404, "GET", Variant(v2), "");
}

TEST_P(HttpBranchesTest, BadBranchPointsAreRefusedAndNothingIsWritten) {
  std::int64_t source = Make(alice_, 10);
  const std::string target = Branches(source);
  Expect(400, "POST", target, R"({"branch_time":10.5,"branch_name":"late"})");  // past the end
  Expect(400, "POST", target, R"({"branch_time":-1,"branch_name":"neg"})");
  Expect(400, "POST", target, R"({"branch_time":1e400,"branch_name":"inf"})");
  Expect(400, "POST", target, R"({"branch_time":"6","branch_name":"str"})");
  Expect(400, "POST", target, R"({"branch_name":"no time"})");
  Expect(400, "POST", target, R"({"branch_time":6})");
  Expect(400, "POST", target, R"({"branch_time":6,"branch_name":"x","colour":"red"})");
  Expect(400, "POST", target, R"({"branch_time":6,"branch_name":"x","branch_type":"magic"})");
  Expect(400, "POST", target, R"({"branch_time":6,"branch_name":"x","show_at":5,"hide_at":4})");
  Expect(400, "POST", target, R"({"branch_time":6,"branch_name":"x","hide_at":7})");
  Expect(400, "POST", target, R"({"branch_time":6,"branch_name":"x","default_variant_id":1})");
  Expect(400, "POST", target, R"({"branch_time":6,"branch_name":)");
  Expect(400, "POST", target, "[]");
  Expect(404, "POST", Branches(source + 1000), R"({"branch_time":1,"branch_name":"x"})");
  Expect(404, "POST", target, R"({"branch_time":1,"branch_name":"x"})", bob_key_);
  EXPECT_EQ(Get(target).at("items").as_array().size(), 0u);

  // A default variant must be one of this branch point's.
  std::int64_t other_source = Make(alice_, 10);
  std::int64_t other = NewBranch(other_source);
  std::int64_t foreign = NewVariant(other, Make(alice_, 3));
  std::int64_t branch = NewBranch(source);
  Expect(400, "PATCH", Branch(branch), R"({"default_variant_id":)" + std::to_string(foreign) + "}");
  Expect(400, "PATCH", Branch(branch), R"({"branch_time":11})");
  EXPECT_EQ(Get(Branch(branch)).at("branch_time").to_number<double>(), 6.0);
}

TEST_P(HttpBranchesTest, VariantRulesAreCheckedAgainstDeclaredState) {
  Expect(200, "PUT", "/api/v1/state-variables/has_key", R"({"type":"bool","initial":false})");
  Expect(200, "PUT", "/api/v1/state-variables/coins", R"({"type":"int","initial":0})");
  Expect(200, "PUT", "/api/v1/state-variables/ally", R"({"type":"string"})");
  std::int64_t branch = NewBranch(Make(alice_, 10));
  std::int64_t target = Make(alice_, 4);
  const std::string asset = R"({"variant_asset_id":)" + std::to_string(target) + ",";
  auto ok = Expect(201, "POST", Variants(branch),
                   asset + R"("variant_name":"open","conditions":{"and":[{"eq":["has_key",true]},
                   {"ge":["coins",5]}]},"effects":[{"set":"has_key","value":false},
                   {"add":"coins","value":-5}]})");
  EXPECT_EQ(ok.at("conditions").at("and").as_array().size(), 2u);
  EXPECT_EQ(ok.at("effects").as_array().size(), 2u);

  const std::vector<std::string> bad = {
      R"("conditions":"{\"eq\":[\"has_key\",true]}")",        // a string, not an expression
      R"("conditions":{"xor":[true,false]})",                 // unknown operator
      R"("conditions":{"eq":["coins","five"]})",              // string compared with an int
      R"("conditions":{"lt":["ally","bob"]})",                // ordering on a string
      R"("conditions":{"eq":["lives",3]})",                   // undeclared variable
      R"("conditions":{"eq":["coins",1],"ne":["coins",2]})",  // two operators in one object
      R"("effects":[{"set":"coins","value":true}])",          // wrong type
      R"("effects":[{"add":"has_key","value":1}])",           // add on a bool
      R"("effects":[{"set":"lives","value":1}])",             // undeclared
      R"("effects":{"set":"coins","value":1})",               // not a list
      R"("weight":-1)",
      R"("weight":1e400)",
      R"("weight":"heavy")",
  };
  for (const std::string& fields : bad) {
    Expect(400, "POST", Variants(branch), asset + R"("variant_name":"bad",)" + fields + "}");
  }
  // Another user's asset as the variant, and another user's branch point: not found.
  Expect(404, "POST", Variants(branch),
         R"({"variant_asset_id":)" + std::to_string(Make(bob_, 4)) + R"(,"variant_name":"x"})");
  Expect(404, "POST", Variants(branch), asset + R"("variant_name":"x"})", bob_key_);
  EXPECT_EQ(VariantCount(branch), 1u);

  // A patch is checked the same way and changes nothing when refused.
  std::int64_t id = ok.at("id").as_int64();
  Expect(400, "PATCH", Variant(id), R"({"conditions":{"has":"lives"}})");
  Expect(404, "PATCH", Variant(id), R"({"weight":2})", bob_key_);
  auto patched = Expect(200, "PATCH", Variant(id), R"({"weight":0.5,"conditions":{"has":"ally"}})");
  EXPECT_EQ(patched.at("weight").to_number<double>(), 0.5);
  EXPECT_EQ(patched.at("effects").as_array().size(), 2u);
}

TEST_P(HttpBranchesTest, ClipsAreRangesOfTheSourceWithUniqueTags) {
  std::int64_t source = Make(alice_, 8);
  auto clip = Expect(201, "POST", Clips(source),
                     R"({"start_time":0,"end_time":2.5,"clip_tag":"intro","clip_name":"Intro"})");
  Expect(409, "POST", Clips(source), R"({"start_time":3,"end_time":4,"clip_tag":"intro"})");
  Expect(400, "POST", Clips(source), R"({"start_time":3,"end_time":3,"clip_tag":"empty"})");
  Expect(400, "POST", Clips(source), R"({"start_time":4,"end_time":3,"clip_tag":"backwards"})");
  Expect(400, "POST", Clips(source), R"({"start_time":7,"end_time":9,"clip_tag":"late"})");
  Expect(400, "POST", Clips(source), R"({"start_time":1,"clip_tag":"no end"})");
  Expect(404, "POST", Clips(source), R"({"start_time":1,"end_time":2,"clip_tag":"b"})", bob_key_);
  EXPECT_EQ(Get(Clips(source)).at("items").as_array().size(), 1u);

  const std::string path = "/api/v1/clips/" + std::to_string(clip.at("id").as_int64());
  auto patched = Expect(200, "PATCH", path, R"({"end_time":3,"clip_name":null})");
  EXPECT_EQ(patched.at("end_time").to_number<double>(), 3.0);
  EXPECT_TRUE(patched.at("clip_name").is_null());
  Expect(400, "PATCH", path, R"({"start_time":5})");  // after its end
  Expect(404, "GET", path, "", bob_key_);
  Expect(404, "DELETE", path, "", bob_key_);
  Expect(204, "DELETE", path, "");
  EXPECT_EQ(Get(Clips(source)).at("items").as_array().size(), 0u);
}

TEST_P(HttpBranchesTest, StateVariablesArePerUserAndTyped) {
  Expect(200, "PUT", "/api/v1/state-variables/coins", R"({"type":"int","initial":3})");
  Expect(400, "PUT", "/api/v1/state-variables/9lives", R"({"type":"int"})");
  Expect(400, "PUT", "/api/v1/state-variables/mood", R"({"type":"float"})");
  Expect(400, "PUT", "/api/v1/state-variables/mood", R"({"type":"int","initial":"happy"})");
  Expect(400, "PUT", "/api/v1/state-variables/mood", R"({"type":"int","initial":1.5})");
  Expect(400, "PUT", "/api/v1/state-variables/mood", R"({"type":"bool","initial":0})");
  Expect(400, "PUT", "/api/v1/state-variables/mood", R"({"initial":true})");
  auto list = Get("/api/v1/state-variables");
  ASSERT_EQ(list.at("items").as_array().size(), 1u);
  EXPECT_EQ(list.at("items").as_array()[0].at("initial").as_int64(), 3);
  EXPECT_EQ(Get("/api/v1/state-variables", bob_key_).at("items").as_array().size(), 0u);
  Expect(404, "DELETE", "/api/v1/state-variables/coins", "", bob_key_);
  // Redeclaring replaces.
  auto redeclared =
      Expect(200, "PUT", "/api/v1/state-variables/coins", R"({"type":"string","initial":"x"})");
  EXPECT_EQ(redeclared.at("type").as_string(), "string");
  Expect(204, "DELETE", "/api/v1/state-variables/coins", "");
  Expect(404, "DELETE", "/api/v1/state-variables/coins", "");
}

TEST_P(HttpBranchesTest, BranchFramesSnapToTheNearestKeyframeOfTheSource) {
  // keyframes.mp4: 4 s at 25 fps with a keyframe every second (frames 0, 25, 50, 75).
  const std::int64_t source = UploadMedia(alice_key_, "keyframes.mp4");
  if (source == 0) GTEST_SKIP() << "ffmpeg cannot produce keyframes.mp4";
  auto near_two = Expect(201, "POST", Branches(source), R"({"branch_time":2.3,"branch_name":"a"})");
  EXPECT_EQ(near_two.at("branch_time").to_number<double>(), 2.3);  // the time stays as asked
  EXPECT_EQ(near_two.at("branch_frame").as_int64(), 50);
  EXPECT_NEAR(near_two.at("keyframe_time").to_number<double>(), 2.0, 1e-6);
  auto near_three =
      Expect(201, "POST", Branches(source), R"({"branch_time":2.7,"branch_name":"b"})");
  EXPECT_EQ(near_three.at("branch_frame").as_int64(), 75);
  EXPECT_NEAR(near_three.at("keyframe_time").to_number<double>(), 3.0, 1e-6);
  // A requested frame is snapped too (frame 60 = 2.4 s, nearest keyframe 2 s).
  auto by_frame = Expect(201, "POST", Branches(source),
                         R"({"branch_time":3.5,"branch_frame":60,"branch_name":"c"})");
  EXPECT_EQ(by_frame.at("branch_frame").as_int64(), 50);
  EXPECT_NEAR(by_frame.at("keyframe_time").to_number<double>(), 2.0, 1e-6);

  // Moving the time moves the frame; a patch that touches neither keeps it.
  const std::string a = Branch(near_two.at("id").as_int64());
  auto moved = Expect(200, "PATCH", a, R"({"branch_time":0.9})");
  EXPECT_EQ(moved.at("branch_frame").as_int64(), 25);
  EXPECT_NEAR(moved.at("keyframe_time").to_number<double>(), 1.0, 1e-6);
  auto renamed = Expect(200, "PATCH", a, R"({"branch_name":"renamed"})");
  EXPECT_EQ(renamed.at("branch_frame").as_int64(), 25);
  auto reframed = Expect(200, "PATCH", a, R"({"branch_frame":99})");
  EXPECT_EQ(reframed.at("branch_frame").as_int64(), 75);

  // Frames outside the source are refused and change nothing.
  Expect(400, "POST", Branches(source),
         R"({"branch_time":1,"branch_frame":100,"branch_name":"x"})");
  Expect(400, "POST", Branches(source), R"({"branch_time":1,"branch_frame":-1,"branch_name":"x"})");
  Expect(400, "PATCH", a, R"({"branch_frame":100})");
  EXPECT_EQ(Get(a).at("branch_frame").as_int64(), 75);
  EXPECT_EQ(Get(Branches(source)).at("items").as_array().size(), 3u);

  // A source without local video bytes keeps the frame as given, with no keyframe.
  auto plain = Expect(201, "POST", Branches(Make(alice_, 10)),
                      R"({"branch_time":2,"branch_frame":48,"branch_name":"p"})");
  EXPECT_EQ(plain.at("branch_frame").as_int64(), 48);
  EXPECT_TRUE(plain.at("keyframe_time").is_null());
}

PV_INSTANTIATE_STORE_TEST(HttpBranchesTest);

}  // namespace
}  // namespace pixvault::http::testing
