// Store contract, analysis part: per-step records mirrored into assets.analysis_errors, and
// the perceptual-hash band index. Runs against SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/sha256.h"
#include "testing/store_fixture.h"

namespace pixvault::testing {
namespace {

using storage::BlobRef;

class StoreAnalysis : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, false, 0}));
  }
  AssetId Make(const User& owner, const std::string& seed, bool age_restricted = false) {
    Asset a;
    a.user_id = owner.id;
    a.media_type = MediaType::kImage;
    a.sha256 = Sha256Hex(seed);
    a.age_restricted = age_restricted;
    clock_.Advance(1000);
    auto created = store_->CreateAsset(a, BlobRef{*a.sha256, 1, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset.id : 0;
  }
  AnalysisRecord Record(AssetId id, std::string step, AnalysisStatus status,
                        std::optional<std::string> error = std::nullopt) {
    AnalysisRecord r;
    r.asset_id = id;
    r.step = std::move(step);
    r.status = status;
    r.error = std::move(error);
    r.result = status == AnalysisStatus::kDone ? R"({"width": 640})" : "{}";
    return r;
  }
  std::vector<AssetId> Candidates(const Viewer& v, std::uint64_t hash, AssetId exclude) {
    std::vector<std::int64_t> keys;
    for (int band = 0; band < 8; ++band) {
      keys.push_back(256 * band + static_cast<std::int64_t>((hash >> (8 * band)) & 0xff));
    }
    auto found = store_->FindHashCandidates(v, keys, exclude, 100);
    EXPECT_TRUE(found.has_value()) << found.error().message;
    std::vector<AssetId> ids;
    if (found) {
      for (const PerceptualHash& h : *found) ids.push_back(h.asset_id);
    }
    return ids;
  }

  User alice_, bob_;
};

TEST_P(StoreAnalysis, FailedStepsAreMirroredOntoTheAssetAndClearedWhenTheyPass) {
  const AssetId id = Make(alice_, "a");
  const Viewer v = Viewer::For(alice_);
  PV_ASSERT_OK(store_->PutAnalysis(Record(id, "probe", AnalysisStatus::kDone)));
  PV_ASSERT_OK(store_->PutAnalysis(
      Record(id, "thumbnail", AnalysisStatus::kFailed, "cannot decode \"frame\" 3")));
  PV_ASSERT_OK_AND_ASSIGN(Asset a, store_->GetAsset(v, id));
  EXPECT_EQ(a.analysis_errors.find("probe"), std::string::npos) << a.analysis_errors;
  EXPECT_NE(a.analysis_errors.find("thumbnail"), std::string::npos) << a.analysis_errors;
  EXPECT_NE(a.analysis_errors.find("cannot decode"), std::string::npos) << a.analysis_errors;

  PV_ASSERT_OK_AND_ASSIGN(auto records, store_->ListAnalysis(v, id));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].step, "probe");
  EXPECT_EQ(records[0].status, AnalysisStatus::kDone);
  EXPECT_NE(records[0].result.find("640"), std::string::npos);
  EXPECT_EQ(records[1].status, AnalysisStatus::kFailed);
  EXPECT_EQ(records[1].error.value_or(""), "cannot decode \"frame\" 3");

  // Replaced by a later run that passes: the error goes away.
  AnalysisRecord passed = Record(id, "thumbnail", AnalysisStatus::kDone);
  passed.version = 2;
  PV_ASSERT_OK(store_->PutAnalysis(passed));
  PV_ASSERT_OK_AND_ASSIGN(Asset after, store_->GetAsset(v, id));
  EXPECT_EQ(after.analysis_errors, "{}");
  PV_ASSERT_OK_AND_ASSIGN(records, store_->ListAnalysis(v, id));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].version, 2);
}

TEST_P(StoreAnalysis, BadRecordsAndUnknownAssetsAreRefused) {
  const AssetId id = Make(alice_, "a");
  PV_EXPECT_ERROR(store_->PutAnalysis(Record(id, "", AnalysisStatus::kDone)),
                  ErrorCode::kInvalidArgument);
  AnalysisRecord zero = Record(id, "probe", AnalysisStatus::kDone);
  zero.version = 0;
  PV_EXPECT_ERROR(store_->PutAnalysis(zero), ErrorCode::kInvalidArgument);
  AnalysisRecord array = Record(id, "probe", AnalysisStatus::kDone);
  array.result = "[1]";
  PV_EXPECT_ERROR(store_->PutAnalysis(array), ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->PutAnalysis(Record(id + 1000, "probe", AnalysisStatus::kDone)),
                  ErrorCode::kNotFound);
  PV_EXPECT_ERROR(store_->PutPerceptualHash(PerceptualHash{id + 1000, 1, 2}), ErrorCode::kNotFound);
  // Reads check who is asking.
  PV_EXPECT_ERROR(store_->ListAnalysis(Viewer::For(bob_), id), ErrorCode::kNotFound);
}

TEST_P(StoreAnalysis, HashesKeepAllSixtyFourBitsAndTheirBandsFindCandidates) {
  const AssetId a = Make(alice_, "a");
  const AssetId near = Make(alice_, "near");
  const AssetId far = Make(alice_, "far");
  const AssetId bobs = Make(bob_, "bobs");
  const AssetId restricted = Make(alice_, "restricted", true);
  const std::uint64_t h = 0xF0E1D2C3B4A59687ULL;  // high bit set: stored in a signed column
  PV_ASSERT_OK(store_->PutPerceptualHash(PerceptualHash{a, h, ~h}));
  PV_ASSERT_OK(store_->PutPerceptualHash(PerceptualHash{near, h ^ 0x0101, 0}));  // 2 bits
  PV_ASSERT_OK(store_->PutPerceptualHash(PerceptualHash{far, ~h, 0}));  // no band in common
  PV_ASSERT_OK(store_->PutPerceptualHash(PerceptualHash{bobs, h, 0}));
  PV_ASSERT_OK(store_->PutPerceptualHash(PerceptualHash{restricted, h, 0}));

  PV_ASSERT_OK_AND_ASSIGN(PerceptualHash got, store_->GetPerceptualHash(Viewer::For(alice_), a));
  EXPECT_EQ(got.phash, h);
  EXPECT_EQ(got.dhash, ~h);
  PV_EXPECT_ERROR(store_->GetPerceptualHash(Viewer::For(bob_), a), ErrorCode::kNotFound);

  // Alice (no adult content) finds her own near hash, not the far one, bob's or the
  // age-restricted one; an admin also sees bob's (and, allowed adult content, the restricted).
  EXPECT_EQ(Candidates(Viewer::For(alice_), h, a), std::vector<AssetId>{near});
  EXPECT_EQ(Candidates(Viewer{0, true, true}, h, a),
            (std::vector<AssetId>{near, bobs, restricted}));

  // Re-hashing replaces the bands: the old ones no longer find the asset.
  PV_ASSERT_OK(store_->PutPerceptualHash(PerceptualHash{near, ~h, 0}));
  EXPECT_TRUE(Candidates(Viewer::For(alice_), h, a).empty());
  EXPECT_EQ(Candidates(Viewer::For(alice_), ~h, a), (std::vector<AssetId>{near, far}));

  // Unsearchable assets stay out; deleting an asset removes its hash and bands.
  AssetPatch hide;
  hide.searchable = false;
  PV_ASSERT_OK(store_->UpdateAsset(Viewer::For(alice_), far, hide).map([](auto&&) {}));
  EXPECT_EQ(Candidates(Viewer::For(alice_), ~h, a), std::vector<AssetId>{near});
  PV_ASSERT_OK(store_->DeleteAsset(Viewer::For(alice_), near).map([](auto&&) {}));
  EXPECT_TRUE(Candidates(Viewer::For(alice_), ~h, a).empty());
}

PV_INSTANTIATE_STORE_TEST(StoreAnalysis);

}  // namespace
}  // namespace pixvault::testing
