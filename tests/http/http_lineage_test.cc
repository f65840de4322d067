// /api/v1/lineage and the lineage views under /api/v1/assets/{id} over a real connection, on
// both backends: storyboard batches, parents/children, bounded walks, deletion, PROV-JSON,
// and every kind of bad input (each answered 4xx with nothing written).
#include <boost/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "http/http_lineage_fixture.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;

TEST_P(HttpLineageTest, StoryboardBatchWithKeyframesAndSequenceOrder) {
  std::int64_t video = Make(alice_);
  std::int64_t source = Make(alice_, 8, 30);
  std::int64_t k1 = Image(alice_), k2 = Image(alice_), k3 = Image(alice_);
  // Sent out of order on purpose: sequence_order, not request order, orders the parents.
  HttpResponse res = Post(Batch({
      Edge(video, k3, R"("parent_role":"keyframe","sequence_order":3)"),
      Edge(video, k1, R"("parent_role":"keyframe","sequence_order":1,"transformation":{"zoom":2})"),
      Edge(video, k2, R"("parent_role":"keyframe","sequence_order":2)"),
      Edge(video, source,
           R"("parent_role":"source","operation_type":"video_extend","operation_job_id":42,)"
           R"("parent_start_time":1.5,"parent_end_time":8,"parent_frame":239)"),
  }));
  ASSERT_EQ(res.status, 201) << res.body;
  json::value created = ParseJson(res.body);
  const auto& edges = created.at("edges").as_array();
  ASSERT_EQ(edges.size(), 4u);
  EXPECT_EQ(Int(edges[0], "parent_asset_id"), k3);  // request order
  EXPECT_GT(Int(edges[0], "id"), 0);
  EXPECT_EQ(edges[1].at("transformation"), (json::value{{"zoom", 2}}));
  EXPECT_EQ(edges[3].at("operation_type"), "video_extend");
  EXPECT_EQ(Int(edges[3], "operation_job_id"), 42);
  EXPECT_EQ(edges[3].at("parent_start_time").to_number<double>(), 1.5);
  EXPECT_EQ(Int(edges[3], "parent_frame"), 239);
  EXPECT_EQ(edges[2].at("operation_type"), nullptr);
  EXPECT_EQ(edges[2].at("parent_role"), "keyframe");
  EXPECT_TRUE(edges[2].at("created_at").is_string());

  json::value parents = Get(AssetPath(video) + "/parents");
  EXPECT_EQ(Int(parents, "asset_id"), video);
  const auto& items = parents.at("items").as_array();
  ASSERT_EQ(items.size(), 4u);
  std::vector<std::int64_t> order;
  for (const auto& item : items) order.push_back(Int(item, "parent_asset_id"));
  EXPECT_EQ(order, (std::vector<std::int64_t>{source, k1, k2, k3}));
  const auto& k1_summary = items[1].at("asset");
  EXPECT_EQ(Int(k1_summary, "id"), k1);
  EXPECT_EQ(k1_summary.at("media_type"), "image");
  EXPECT_EQ(k1_summary.at("mime_type"), "image/png");
  EXPECT_TRUE(k1_summary.at("description").is_string());
  EXPECT_TRUE(k1_summary.at("duration_sec").is_null());
  EXPECT_EQ(items[0].at("asset").at("duration_sec").to_number<double>(), 8);
  for (const char* k : {"width", "height", "created_at", "fps"}) {
    EXPECT_TRUE(k1_summary.as_object().contains(k)) << k;
  }

  json::value children = Get(AssetPath(k2) + "/children");
  ASSERT_EQ(children.at("items").as_array().size(), 1u);
  EXPECT_EQ(Int(children.at("items").at(0), "child_asset_id"), video);
  EXPECT_EQ(Int(children.at("items").at(0).at("asset"), "id"), video);
  EXPECT_EQ(children.at("items").at(0).at("asset").at("media_type"), "video");
  EXPECT_TRUE(Get(AssetPath(video) + "/children").at("items").as_array().empty());
}

TEST_P(HttpLineageTest, SingleEdgeDefaultsAndDuplicateConflict) {
  std::int64_t a = Make(alice_), b = Make(alice_);
  HttpResponse res = Post(Edge(b, a));
  ASSERT_EQ(res.status, 201) << res.body;
  json::value body = ParseJson(res.body);
  const auto& e = body.at("edges").at(0);
  EXPECT_EQ(e.at("parent_role"), "source");
  EXPECT_EQ(Int(e, "sequence_order"), 0);
  EXPECT_EQ(e.at("transformation"), json::object{});
  ExpectRefused(Edge(b, a), 409, "already_exists");
  // Another role or order is another edge.
  EXPECT_EQ(Post(Edge(b, a, R"("parent_role":"reference")")).status, 201);
  EXPECT_EQ(Post(Edge(b, a, R"("sequence_order":1)")).status, 201);
  // A duplicate inside one batch is refused too, and takes the batch with it.
  std::int64_t c = Make(alice_);
  ExpectRefused(Batch({Edge(c, a), Edge(c, a)}), 409, "already_exists");
  EXPECT_EQ(AllEdges({a, b, c}), 3u);
}

TEST_P(HttpLineageTest, LineageWalksBothDirectionsWithADepthBound) {
  // n0 <- n1 <- n2 <- n3 <- n4, and a side parent p of n3.
  std::vector<std::int64_t> n;
  for (int i = 0; i < 5; ++i) n.push_back(Make(alice_));
  std::int64_t p = Image(alice_);
  std::vector<std::string> edges;
  for (int i = 1; i < 5; ++i) edges.push_back(Edge(n[i], n[i - 1]));
  edges.push_back(Edge(n[3], p, R"("parent_role":"reference","sequence_order":1)"));
  ASSERT_EQ(Post(Batch(edges)).status, 201);

  auto node_ids = [](const json::value& g) {
    std::set<std::int64_t> ids;
    for (const auto& node : g.at("nodes").as_array()) ids.insert(Int(node, "id"));
    return ids;
  };
  auto check_closed = [&](const json::value& g) {
    // Every edge's ends are nodes; the root comes first.
    std::set<std::int64_t> ids = node_ids(g);
    for (const auto& e : g.at("edges").as_array()) {
      EXPECT_TRUE(ids.count(Int(e, "child_asset_id")));
      EXPECT_TRUE(ids.count(Int(e, "parent_asset_id")));
      EXPECT_GE(Int(e, "depth"), 1);
      EXPECT_LE(Int(e, "depth"), Int(g, "depth"));
    }
    EXPECT_EQ(Int(g.at("nodes").at(0), "id"), Int(g, "root"));
  };

  json::value near = Get(AssetPath(n[2]) + "/lineage?direction=both&depth=1");
  check_closed(near);
  EXPECT_EQ(node_ids(near), (std::set<std::int64_t>{n[1], n[2], n[3]}));
  ASSERT_EQ(near.at("edges").as_array().size(), 2u);
  std::set<std::string> directions;
  for (const auto& e : near.at("edges").as_array()) {
    directions.insert(std::string(e.at("direction").as_string()));
  }
  EXPECT_EQ(directions, (std::set<std::string>{"ancestors", "descendants"}));

  json::value all = Get(AssetPath(n[2]) + "/lineage");  // both, depth 10
  check_closed(all);
  EXPECT_EQ(all.at("direction"), "both");
  EXPECT_EQ(Int(all, "depth"), 10);
  EXPECT_EQ(node_ids(all), (std::set<std::int64_t>{n[0], n[1], n[2], n[3], n[4]}));

  json::value up = Get(AssetPath(n[4]) + "/lineage?direction=ancestors&depth=2");
  check_closed(up);
  EXPECT_EQ(node_ids(up), (std::set<std::int64_t>{n[4], n[3], n[2], p}));
  json::value up_all = Get(AssetPath(n[4]) + "/lineage?direction=ancestors&depth=100");
  EXPECT_EQ(up_all.at("edges").as_array().size(), 5u);
  json::value down = Get(AssetPath(p) + "/lineage?direction=descendants");
  check_closed(down);
  EXPECT_EQ(node_ids(down), (std::set<std::int64_t>{p, n[3], n[4]}));
  // An asset without lineage is a graph of one node.
  std::int64_t alone = Make(alice_);
  json::value single = Get(AssetPath(alone) + "/lineage");
  EXPECT_EQ(node_ids(single), (std::set<std::int64_t>{alone}));
  EXPECT_TRUE(single.at("edges").as_array().empty());
}

TEST_P(HttpLineageTest, DepthAndDirectionOutOfRangeAre400) {
  std::int64_t a = Make(alice_);
  for (std::string suffix : {"/lineage", "/provenance"}) {
    for (const char* depth : {"0", "-1", "1000", "101", "abc", "", "1.5", "10abc"}) {
      HttpResponse res = Call("GET", AssetPath(a) + suffix + "?depth=" + depth, alice_key_);
      EXPECT_EQ(res.status, 400) << suffix << " depth=" << depth << ": " << res.body;
      EXPECT_EQ(res.ProblemCode(), "invalid_argument");
    }
    EXPECT_EQ(Call("GET", AssetPath(a) + suffix + "?depth=100", alice_key_).status, 200);
    EXPECT_EQ(Call("GET", AssetPath(a) + suffix + "?depth=1", alice_key_).status, 200);
  }
  EXPECT_EQ(Call("GET", AssetPath(a) + "/lineage?direction=sideways", alice_key_).status, 400);
  EXPECT_EQ(Call("GET", AssetPath(a) + "/lineage?direction=", alice_key_).status, 400);
  // Unknown or foreign roots are not found; no key is unauthorized.
  EXPECT_EQ(Call("GET", AssetPath(999999) + "/lineage", alice_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(a) + "/lineage", bob_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(a) + "/provenance", bob_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(a) + "/parents", bob_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(a) + "/children", bob_key_).status, 404);
  EXPECT_EQ(Call("GET", AssetPath(a) + "/lineage").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/assets/abc/parents", alice_key_).status, 404);
}

TEST_P(HttpLineageTest, CyclesAndSelfEdgesAreRefused) {
  // A 21-asset chain in one batch: n0 <- n1 <- ... <- n20.
  std::vector<std::int64_t> n;
  for (int i = 0; i <= 20; ++i) n.push_back(Make(alice_));
  std::vector<std::string> chain;
  for (int i = 1; i <= 20; ++i) chain.push_back(Edge(n[i], n[i - 1]));
  ASSERT_EQ(Post(Batch(chain)).status, 201);
  ExpectRefused(Edge(n[0], n[1]), 400, "invalid_argument");   // directly
  ExpectRefused(Edge(n[0], n[20]), 400, "invalid_argument");  // through 20 steps
  ExpectRefused(Edge(n[5], n[5]), 400, "invalid_argument");   // self
  // A batch that closes a cycle between its own edges.
  std::int64_t x = Make(alice_), y = Make(alice_), z = Make(alice_);
  ExpectRefused(Batch({Edge(x, y), Edge(y, z), Edge(z, x)}), 400, "invalid_argument");
  HttpResponse res = Post(Edge(n[0], n[20]));
  EXPECT_NE(res.body.find("cycle"), std::string::npos) << res.body;
  EXPECT_EQ(AllEdges(n), 20u);
  EXPECT_EQ(AllEdges({x, y, z}), 0u);
  EXPECT_TRUE(Get(AssetPath(n[20]) + "/children").at("items").as_array().empty());
}

TEST_P(HttpLineageTest, TimesAndFramesMustLieInsideTheParent) {
  std::int64_t parent = Make(alice_, 10, 24);  // 240 frames: 0..239
  std::int64_t child = Make(alice_);
  for (const char* extra : {
           R"("parent_frame":240)",          R"("parent_frame":100000)",
           R"("parent_frame":-1)",           R"("parent_frame":1.5)",
           R"("parent_frame":"12")",         R"("parent_end_time":10.5)",
           R"("parent_start_time":11)",      R"("parent_start_time":-0.5)",
           R"("parent_end_time":-2)",        R"("parent_start_time":5,"parent_end_time":2)",
           R"("parent_start_time":"5")",     R"("parent_start_time":"abc")",
           R"("parent_start_time":true)",    R"("parent_start_time":[1])",
           R"("parent_end_time":1e400)",     R"("parent_start_time":-1e400)",
           R"("parent_role":"Key Frame")",   R"("parent_role":"")",
           R"("parent_role":null)",          R"("parent_role":"keyframe; DROP TABLE assets")",
           R"("operation_type":"teleport")", R"("operation_type":7)",
           R"("operation_job_id":0)",        R"("operation_job_id":"x")",
           R"("transformation":[1,2])",      R"("transformation":"{}")",
           R"("transformation":null)",       R"("sequence_order":-1)",
           R"("sequence_order":null)",       R"("colour":"red")",
       }) {
    ExpectRefused(Edge(child, parent, extra), 400, "invalid_argument");
  }
  EXPECT_EQ(AllEdges({child}), 0u);
  // The edges of the range are accepted.
  EXPECT_EQ(Post(Edge(child, parent, R"("parent_frame":239,"parent_role":"paused_frame")")).status,
            201);
  EXPECT_EQ(
      Post(Edge(child, parent,
                R"("parent_start_time":0,"parent_end_time":10,"parent_role":"transition_from")"))
          .status,
      201);
  // Unknown duration or fps: only the signs are checked.
  std::int64_t image = Image(alice_);
  EXPECT_EQ(Post(Edge(child, image, R"("parent_frame":5000,"parent_start_time":99)")).status, 201);
  std::int64_t no_fps = Make(alice_, 4, std::nullopt);
  EXPECT_EQ(Post(Edge(child, no_fps, R"("parent_frame":5000)")).status, 201);
  ExpectRefused(Edge(child, no_fps, R"("parent_end_time":4.5)"), 400, "invalid_argument");
}

TEST_P(HttpLineageTest, UnknownAndForeignAssetsAre404AndWriteNothing) {
  std::int64_t mine = Make(alice_), mine2 = Make(alice_);
  std::int64_t bobs = Make(bob_);
  ExpectRefused(Edge(mine, 999999), 404, "not_found");
  ExpectRefused(Edge(999999, mine), 404, "not_found");
  ExpectRefused(Edge(mine, bobs), 404, "not_found");
  ExpectRefused(Edge(bobs, mine), 404, "not_found");
  ExpectRefused(Batch({Edge(mine2, mine), Edge(mine, bobs)}), 404, "not_found");
  EXPECT_EQ(AllEdges({mine, mine2, bobs}), 0u);
  // The admin may link anyone's assets; the owner of the child then sees the edge, but alice
  // cannot delete an edge whose child is bob's.
  HttpResponse res = Post(Edge(bobs, mine), admin_key_);
  ASSERT_EQ(res.status, 201) << res.body;
  std::int64_t edge = Int(ParseJson(res.body).at("edges").at(0), "id");
  EXPECT_EQ(Call("DELETE", "/api/v1/lineage/" + std::to_string(edge), alice_key_).status, 404);
  EXPECT_EQ(AllEdges({bobs}), 1u);
}

TEST_P(HttpLineageTest, MalformedAndOversizedBodiesAre400) {
  std::int64_t a = Make(alice_), b = Make(alice_);
  for (std::string body :
       {std::string("not json"), std::string("{\"child_asset_id\":"), std::string("[]"),
        std::string("null"), std::string("{}"), std::string("{\"edges\":[]}"),
        std::string("{\"edges\":{}}"), std::string("{\"edges\":null}"),
        std::string("{\"edges\":[1]}"), Batch({Edge(b, a)}).insert(1, "\"x\":1,"),
        std::string("{\"child_asset_id\":1}"), std::string("{\"parent_asset_id\":1}"), Edge(0, a),
        Edge(b, -3),
        "{\"child_asset_id\":\"" + std::to_string(b) +
            "\",\"parent_asset_id\":" + std::to_string(a) + "}"}) {
    ExpectRefused(body, 400, "invalid_argument");
  }
  std::vector<std::string> many(1001, Edge(b, a));
  HttpResponse res = Post(Batch(many));
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_NE(res.body.find("1000"), std::string::npos) << res.body;
  EXPECT_EQ(AllEdges({a, b}), 0u);
}

TEST_P(HttpLineageTest, ABatchWhoseLastEdgeIsBadWritesNothing) {
  std::int64_t parent = Make(alice_, 10, 24);
  std::vector<std::int64_t> kids;
  std::vector<std::string> good;
  for (int i = 0; i < 5; ++i) {
    kids.push_back(Make(alice_));
    good.push_back(Edge(kids.back(), parent, "\"parent_frame\":" + std::to_string(i * 10)));
  }
  std::int64_t bobs = Make(bob_);
  struct Case {
    std::string last;
    int status;
    std::string code;
  };
  for (const Case& c : std::vector<Case>{
           {Edge(kids[0], parent, R"("parent_frame":240)"), 400, "invalid_argument"},
           {Edge(parent, kids[4]), 400, "invalid_argument"},  // closes a cycle
           {Edge(kids[0], kids[0]), 400, "invalid_argument"},
           {Edge(kids[0], bobs), 404, "not_found"},
           {Edge(kids[0], 999999), 404, "not_found"},
           {good[0], 409, "already_exists"},
           {Edge(kids[0], parent, R"("parent_start_time":"soon")"), 400, "invalid_argument"},
       }) {
    std::vector<std::string> batch = good;
    batch.push_back(c.last);
    HttpResponse res = Post(Batch(batch));
    EXPECT_EQ(res.status, c.status) << c.last << ": " << res.body;
    EXPECT_EQ(res.ProblemCode(), c.code) << c.last;
    EXPECT_NE(res.body.find("edges[5]"), std::string::npos) << c.last << ": " << res.body;
    EXPECT_EQ(AllEdges(kids), 0u) << c.last;
  }
  EXPECT_EQ(Post(Batch(good)).status, 201);
  EXPECT_EQ(AllEdges(kids), 5u);
}

TEST_P(HttpLineageTest, DeleteRemovesOneEdge) {
  std::int64_t a = Make(alice_), b = Make(alice_), c = Make(alice_);
  HttpResponse res = Post(Batch({Edge(b, a), Edge(c, b)}));
  ASSERT_EQ(res.status, 201);
  std::int64_t first = Int(ParseJson(res.body).at("edges").at(0), "id");
  const std::string path = "/api/v1/lineage/" + std::to_string(first);
  EXPECT_EQ(Call("DELETE", path, bob_key_).status, 404);
  EXPECT_EQ(Call("DELETE", path, alice_key_).status, 204);
  EXPECT_EQ(Call("DELETE", path, alice_key_).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/lineage/xyz", alice_key_).status, 404);
  EXPECT_TRUE(Get(AssetPath(b) + "/parents").at("items").as_array().empty());
  EXPECT_EQ(Get(AssetPath(b) + "/children").at("items").as_array().size(), 1u);
  // With the edge gone, the reverse edge no longer closes a cycle.
  EXPECT_EQ(Post(Edge(a, b)).status, 201);
}

}  // namespace

PV_INSTANTIATE_STORE_TEST(HttpLineageTest);

}  // namespace pixvault::http::testing
