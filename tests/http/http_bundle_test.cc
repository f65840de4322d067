// Game bundle export over HTTP (GET /api/v1/assets/{id}/bundle), on both backends: the graph
// reachable through variants, the document's fields, the validation a game would see, and the
// bundle played by the runtime itself.
#include <boost/json.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "http/http_lineage_fixture.h"
#include "pixvault/branch_runtime.hpp"

namespace pixvault::http::testing {
namespace {

class HttpBundleTest : public HttpLineageTest {
 protected:
  // A 1280x720 h264 video of `duration` s at 24 fps, with `size` bytes.
  std::int64_t Video(const User& owner, double duration = 10, std::int64_t width = 1280,
                     std::string codec = "h264") {
    Asset a;
    a.user_id = owner.id;
    a.media_type = MediaType::kVideo;
    a.duration_sec = duration;
    a.fps = 24;
    a.width = width;
    a.height = 720;
    a.mime_type = "video/mp4";
    a.file_size_bytes = 1'000'000;
    a.media_metadata =
        R"({"format":"mp4","video_codec":")" + codec + R"(","pixel_format":"yuv420p"})";
    a.sha256 = Sha256Hex("bundle-" + std::to_string(++made_));
    auto created = store_->CreateAsset(a, storage::BlobRef{*a.sha256, 1'000'000, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset.id : 0;
  }
  boost::json::value Send(int status, std::string method, const std::string& target,
                          std::string body = "", std::string_view key = {}) {
    HttpResponse res = Call(std::move(method), target, key.empty() ? alice_key_ : key,
                            std::move(body), {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.status, status) << target << " -> " << res.body;
    return res.body.empty() ? boost::json::value() : ParseJson(res.body);
  }
  std::int64_t Branch(std::int64_t source, std::string fields) {
    auto b = Send(201, "POST", "/api/v1/assets/" + std::to_string(source) + "/branches",
                  "{" + fields + "}");
    return b.is_object() ? b.at("id").as_int64() : 0;
  }
  std::int64_t Variant(std::int64_t branch, std::int64_t asset, std::string fields = "") {
    auto v = Send(201, "POST", "/api/v1/branches/" + std::to_string(branch) + "/variants",
                  R"({"variant_asset_id":)" + std::to_string(asset) + R"(,"variant_name":"v")" +
                      fields + "}");
    return v.is_object() ? v.at("id").as_int64() : 0;
  }
  static std::string BundleOf(std::int64_t asset) {
    return "/api/v1/assets/" + std::to_string(asset) + "/bundle";
  }
  // The validation issues of a bundle as "kind" strings, sorted.
  static std::vector<std::string> IssueKinds(const boost::json::value& bundle) {
    std::vector<std::string> kinds;
    for (const auto& i : bundle.at("validation").at("issues").as_array()) {
      kinds.emplace_back(i.at("kind").as_string());
    }
    std::sort(kinds.begin(), kinds.end());
    return kinds;
  }
};

TEST_P(HttpBundleTest, ExportsTheGraphReachableThroughVariantsAndPlaysIt) {
  Send(200, "PUT", "/api/v1/state-variables/has_key", R"({"type":"bool","initial":false})");
  Send(200, "PUT", "/api/v1/state-variables/coins", R"({"type":"int","initial":0})");
  const std::int64_t hall = Video(alice_), open = Video(alice_, 4), away = Video(alice_, 5);
  const std::int64_t treasure = Video(alice_, 3), unrelated = Video(alice_);
  const std::int64_t door =
      Branch(hall, R"("branch_time":6,"branch_name":"door","show_at":4.5,"hide_at":6)");
  const std::int64_t v_open = Variant(door, open,
                                      R"(,"variant_tag":"open","conditions":{"eq":["has_key",
                                      true]},"effects":[{"add":"coins","value":5}])");
  const std::int64_t v_away = Variant(door, away, R"(,"weight":2)");
  Send(200, "PATCH", "/api/v1/branches/" + std::to_string(door),
       R"({"default_variant_id":)" + std::to_string(v_away) + "}");
  // A second level, and an edge back to the hall (a loop with an exit: the choice is manual).
  const std::int64_t chest = Branch(open, R"("branch_time":3,"branch_name":"chest")");
  Variant(chest, treasure);
  const std::int64_t back = Branch(away, R"("branch_time":5,"branch_name":"back")");
  Variant(back, hall);
  Send(201, "POST", "/api/v1/assets/" + std::to_string(hall) + "/clips",
       R"({"start_time":0,"end_time":2.5,"clip_tag":"intro"})");
  // The unrelated asset has a branch point of its own; it is not reachable from the hall.
  Variant(Branch(unrelated, R"("branch_time":1,"branch_name":"elsewhere")"), hall);

  HttpResponse res = Call("GET", BundleOf(hall), alice_key_);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.Header("Content-Type").value_or(""), "application/json");
  const boost::json::value bundle = ParseJson(res.body);
  EXPECT_EQ(bundle.at("format"), "pixvault.bundle");
  EXPECT_EQ(bundle.at("version"), 1);
  EXPECT_EQ(bundle.at("root").as_int64(), hall);
  EXPECT_TRUE(bundle.at("validation").at("ok").as_bool()) << res.body;

  const auto& nodes = bundle.at("nodes").as_array();
  std::set<std::int64_t> ids;
  for (const auto& n : nodes) ids.insert(n.at("id").as_int64());
  EXPECT_EQ(ids, (std::set<std::int64_t>{hall, open, away, treasure}));
  EXPECT_EQ(nodes.at(0).at("id").as_int64(), hall);  // the root first
  const auto& root = nodes.at(0).as_object();
  EXPECT_EQ(root.at("width"), 1280);
  EXPECT_EQ(root.at("codec"), "h264");
  EXPECT_EQ(root.at("pixel_format"), "yuv420p");
  EXPECT_EQ(root.at("duration").to_number<double>(), 10.0);
  EXPECT_EQ(root.at("size_bytes"), 1'000'000);
  EXPECT_EQ(root.at("sha256").as_string().size(), 64u);
  EXPECT_TRUE(root.at("file").is_null());
  EXPECT_EQ(root.at("url").as_string(), "/api/v1/assets/" + std::to_string(hall) + "/file");

  const auto& state = bundle.at("state").as_array();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].at("name"), "coins");
  EXPECT_EQ(state[0].at("initial"), 0);

  const auto& points = bundle.at("branch_points").as_array();
  ASSERT_EQ(points.size(), 3u);
  const auto& bp = points[0].as_object();
  EXPECT_EQ(bp.at("id").as_int64(), door);
  EXPECT_EQ(bp.at("show_at").to_number<double>(), 4.5);
  EXPECT_EQ(bp.at("default_variant").as_int64(), v_away);
  ASSERT_EQ(bp.at("variants").as_array().size(), 2u);
  EXPECT_EQ(bp.at("variants").at(0).at("condition").at("eq").at(0), "has_key");
  EXPECT_EQ(bp.at("variants").at(0).at("effects").at(0).at("add"), "coins");
  EXPECT_EQ(bp.at("variants").at(1).at("weight").to_number<double>(), 2.0);
  ASSERT_EQ(bp.at("prefetch").as_array().size(), 2u);
  EXPECT_EQ(bp.at("prefetch").at(0).at("node").as_int64(), open);
  EXPECT_EQ(bp.at("prefetch").at(0).at("bytes"), 256 * 1024);
  // A branch point saved without a window is offered from 0 until its time.
  EXPECT_EQ(points[1].at("show_at").to_number<double>(), 0.0);
  EXPECT_EQ(points[1].at("hide_at").to_number<double>(), 3.0);
  ASSERT_EQ(bundle.at("clips").as_array().size(), 1u);
  EXPECT_EQ(bundle.at("clips").at(0).at("tag"), "intro");

  // The runtime loads it strictly and plays it: without the key the door times out to the
  // default (walk away), and walking back returns to the hall.
  auto loaded = branch::LoadBundle(res.body);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  branch::Player player(*loaded, 7);
  std::vector<branch::Event> events;
  ASSERT_TRUE(player.Advance(6, events).ok());
  ASSERT_NE(player.node(), nullptr);
  EXPECT_EQ(player.node()->id, away);
  ASSERT_TRUE(player.Set("has_key", true).ok());
  ASSERT_TRUE(player.Advance(5 + 5, events).ok());
  EXPECT_EQ(player.node()->id, hall);
  std::vector<branch::Choice> open_now = player.OpenChoices();
  ASSERT_EQ(open_now.size(), 2u);
  ASSERT_TRUE(player.Choose(v_open, events).ok());
  EXPECT_EQ(player.node()->id, open);
  EXPECT_EQ(std::get<std::int64_t>(*player.Get("coins")), 5);

  // Another user's asset, an unknown one and a path that is not an id are not found.
  EXPECT_EQ(Call("GET", BundleOf(hall), bob_key_).ProblemCode(), "not_found");
  EXPECT_EQ(Call("GET", BundleOf(hall + 1000), alice_key_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/assets/abc/bundle", alice_key_).status, 404);
  EXPECT_EQ(Call("GET", BundleOf(hall)).status, 401);
  // The admin sees the owner's bundle, with the owner's state variables.
  auto as_admin = ParseJson(Call("GET", BundleOf(hall), admin_key_).body);
  EXPECT_EQ(as_admin.at("nodes").as_array().size(), 4u);
  EXPECT_EQ(as_admin.at("state").as_array().size(), 2u);
}

TEST_P(HttpBundleTest, AnAssetWithoutBranchesIsAnEmptyValidBundle) {
  const std::int64_t still = Image(alice_);
  auto bundle = Send(200, "GET", BundleOf(still));
  ASSERT_EQ(bundle.at("nodes").as_array().size(), 1u);
  EXPECT_TRUE(bundle.at("nodes").at(0).at("duration").is_null());
  EXPECT_EQ(bundle.at("branch_points").as_array().size(), 0u);
  EXPECT_EQ(bundle.at("clips").as_array().size(), 0u);
  EXPECT_EQ(bundle.at("state").as_array().size(), 0u);
  EXPECT_TRUE(bundle.at("validation").at("ok").as_bool());
  auto loaded = branch::LoadBundle(boost::json::serialize(bundle));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  branch::Player player(*loaded, 1);
  std::vector<branch::Event> events;
  ASSERT_TRUE(player.Advance(0, events).ok());
  EXPECT_TRUE(player.ended());
}

TEST_P(HttpBundleTest, ValidationReportsWhatAGameWouldSeeWithTheOffendingIds) {
  Send(200, "PUT", "/api/v1/state-variables/lives", R"({"type":"int","initial":3})");
  const std::int64_t root = Video(alice_), wide = Video(alice_, 4, 1920);
  const std::int64_t vp9 = Video(alice_, 4, 1280, "vp9"), hidden = Video(alice_, 4);
  const std::int64_t ping = Video(alice_, 2), pong = Video(alice_, 2);
  const std::int64_t fork = Branch(root, R"("branch_time":5,"branch_name":"fork")");
  const std::int64_t v_wide = Variant(fork, wide, R"(,"conditions":{"gt":["lives",0]})");
  const std::int64_t v_vp9 = Variant(fork, vp9);
  const std::int64_t v_hidden = Variant(fork, hidden);
  // ping and pong hand over to each other automatically, for ever: a cycle without exit.
  const std::int64_t v_ping = Variant(fork, ping);
  const std::int64_t to_pong =
      Branch(ping, R"("branch_time":2,"branch_name":"p","branch_type":"automatic")");
  const std::int64_t v_pong = Variant(to_pong, pong);
  Send(200, "PATCH", "/api/v1/branches/" + std::to_string(to_pong),
       R"({"default_variant_id":)" + std::to_string(v_pong) + "}");
  const std::int64_t to_ping =
      Branch(pong, R"("branch_time":2,"branch_name":"q","branch_type":"automatic")");
  const std::int64_t v_back = Variant(to_ping, ping);
  Send(200, "PATCH", "/api/v1/branches/" + std::to_string(to_ping),
       R"({"default_variant_id":)" + std::to_string(v_back) + "}");
  // The variable a condition names is deleted after the variant was saved, and one target
  // is age-restricted: alice (no adult content) can no longer see it.
  Send(204, "DELETE", "/api/v1/state-variables/lives");
  AssetPatch patch;
  patch.age_restricted = true;
  ASSERT_TRUE(store_->UpdateAsset(Viewer{0, true, true}, hidden, patch).has_value());

  auto bundle = Send(200, "GET", BundleOf(root));
  EXPECT_FALSE(bundle.at("validation").at("ok").as_bool());
  EXPECT_EQ(IssueKinds(bundle),
            (std::vector<std::string>{"cycle_without_exit", "dangling_target", "format_mismatch",
                                      "format_mismatch", "undeclared_variable"}))
      << boost::json::serialize(bundle.at("validation"));
  std::set<std::int64_t> node_ids;
  for (const auto& n : bundle.at("nodes").as_array()) node_ids.insert(n.at("id").as_int64());
  EXPECT_FALSE(node_ids.contains(hidden));  // never shown, not even its facts
  for (const auto& i : bundle.at("validation").at("issues").as_array()) {
    const auto& ids = i.at("ids").as_object();
    const std::string_view kind = i.at("kind").as_string();
    if (kind == "dangling_target") {
      EXPECT_EQ(ids.at("variant").as_int64(), v_hidden);
      EXPECT_EQ(ids.at("branch_point").as_int64(), fork);
    } else if (kind == "undeclared_variable") {
      EXPECT_EQ(ids.at("variant").as_int64(), v_wide);
    } else if (kind == "format_mismatch") {
      const std::int64_t variant = ids.at("variant").as_int64();
      EXPECT_TRUE(variant == v_wide || variant == v_vp9);
      EXPECT_EQ(i.at("fields").at(0), variant == v_wide ? "width" : "codec");
    } else if (kind == "cycle_without_exit") {
      std::set<std::int64_t> cycle;
      for (const auto& n : ids.at("nodes").as_array()) cycle.insert(n.as_int64());
      EXPECT_EQ(cycle, (std::set<std::int64_t>{ping, pong}));
    }
  }
  (void)v_ping;
  // A game refuses to load it (strict) for the dangling target and the undeclared variable.
  EXPECT_FALSE(branch::LoadBundle(boost::json::serialize(bundle)).ok());
  // bob (adult content allowed) cannot see alice's bundle at all.
  EXPECT_EQ(Call("GET", BundleOf(root), bob_key_).status, 404);
}

PV_INSTANTIATE_STORE_TEST(HttpBundleTest);

}  // namespace
}  // namespace pixvault::http::testing
