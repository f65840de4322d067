// Store contract, lineage values: times and frames against the parent's duration and frame
// count, roles, and which edge of a batch failed. Runs against SQLite and PostgreSQL.
// (Cycles, self edges, visibility and walks are in store_graph_jobs_test.cc.)
#include <cmath>
#include <limits>

#include "core/sha256.h"
#include "testing/store_fixture.h"

namespace pixvault::testing {
namespace {

class StoreLineage : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
  }
  AssetId Make(std::optional<double> duration, std::optional<double> fps) {
    Asset a;
    a.user_id = alice_.id;
    a.media_type = MediaType::kVideo;
    a.duration_sec = duration;
    a.fps = fps;
    a.sha256 = Sha256Hex("lineage-" + std::to_string(++made_));
    clock_.Advance(1000);
    auto created = store_->CreateAsset(a, storage::BlobRef{*a.sha256, 1, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset.id : 0;
  }
  static LineageEdge Edge(AssetId child, AssetId parent) {
    LineageEdge e;
    e.child_asset_id = child;
    e.parent_asset_id = parent;
    return e;
  }
  Viewer A() { return Viewer::For(alice_); }
  User alice_;
  int made_ = 0;
};

TEST_P(StoreLineage, TimesAndFramesLieInsideTheParent) {
  AssetId parent = Make(10, 25);  // 250 frames
  AssetId child = Make(4, 25);
  auto refused = [&](auto change) {
    LineageEdge e = Edge(child, parent);
    change(e);
    auto r = store_->AddLineage(A(), {e});
    EXPECT_FALSE(r.has_value());
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
    }
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  refused([](LineageEdge& e) { e.parent_frame = 250; });
  refused([](LineageEdge& e) { e.parent_frame = -1; });
  refused([](LineageEdge& e) { e.parent_end_time = 10.01; });
  refused([](LineageEdge& e) { e.parent_start_time = 12; });
  refused([](LineageEdge& e) { e.parent_start_time = -0.1; });
  refused([&](LineageEdge& e) { e.parent_start_time = nan; });
  refused([&](LineageEdge& e) { e.parent_end_time = inf; });
  refused([](LineageEdge& e) { e.parent_role = "Keyframe"; });
  refused([](LineageEdge& e) { e.parent_role = std::string(65, 'a'); });
  refused([](LineageEdge& e) { e.sequence_order = -1; });
  refused([](LineageEdge& e) { e.operation_job_id = 0; });
  PV_ASSERT_OK_AND_ASSIGN(auto none, store_->ListParents(A(), child));
  EXPECT_TRUE(none.empty());

  LineageEdge ok = Edge(child, parent);
  ok.parent_frame = 249;
  ok.parent_start_time = 0;
  ok.parent_end_time = 10;
  ok.parent_role = "paused_frame2";
  PV_ASSERT_OK(store_->AddLineage(A(), {ok}));
  // Without a known duration or fps, only the signs are checked.
  AssetId open = Make(std::nullopt, std::nullopt);
  LineageEdge far = Edge(child, open);
  far.parent_frame = 100000;
  far.parent_end_time = 1e6;
  PV_ASSERT_OK(store_->AddLineage(A(), {far}));
}

TEST_P(StoreLineage, BatchErrorsNameTheEdge) {
  AssetId parent = Make(10, 25);
  AssetId a = Make(1, 25), b = Make(1, 25);
  LineageEdge bad = Edge(b, parent);
  bad.parent_frame = 9999;
  auto r = store_->AddLineage(A(), {Edge(a, parent), bad});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.rfind("edges[1]: ", 0), 0u) << r.error().message;
  auto missing = store_->AddLineage(A(), {Edge(a, parent), Edge(b, 424242)});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message.rfind("edges[1]: ", 0), 0u) << missing.error().message;
  PV_ASSERT_OK_AND_ASSIGN(auto none, store_->ListChildren(A(), parent));
  EXPECT_TRUE(none.empty());
}

}  // namespace

PV_INSTANTIATE_STORE_TEST(StoreLineage);

}  // namespace pixvault::testing
