// Store contract, part 1: users, blobs, assets, filters, pagination, metadata tables.
// Runs against SQLite and PostgreSQL.
#include <set>
#include <thread>

#include "core/sha256.h"
#include "testing/store_fixture.h"

namespace pixvault::testing {
namespace {

using storage::AssetFilter;
using storage::BlobRef;
using storage::PageRequest;

class StoreAssets : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
    PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, true, 0}));
    PV_ASSERT_OK_AND_ASSIGN(admin_, store_->CreateUser(User{0, "root", true, true, 0}));
  }

  // Creates an asset for `owner` pointing at fresh bytes derived from `seed`.
  Asset Make(const User& owner, const std::string& seed, Asset a = {}) {
    a.user_id = owner.id;
    std::string sha = Sha256Hex(seed);
    a.sha256 = sha;
    a.file_size_bytes = static_cast<std::int64_t>(seed.size());
    clock_.Advance(1000);
    auto created = store_->CreateAsset(a, BlobRef{sha, a.file_size_bytes.value_or(0), "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset : Asset{};
  }

  std::vector<AssetId> Ids(const std::vector<Asset>& assets) {
    std::vector<AssetId> out;
    for (const auto& a : assets) out.push_back(a.id);
    return out;
  }

  std::vector<AssetId> List(const User& u, AssetFilter f = {}) {
    auto page = store_->ListAssets(Viewer::For(u), f, PageRequest{200, {}});
    EXPECT_TRUE(page.has_value()) << page.error().message;
    return page ? Ids(page->items) : std::vector<AssetId>{};
  }

  User alice_, bob_, admin_;
};

TEST_P(StoreAssets, UserNamesAreUnique) {
  PV_EXPECT_ERROR(store_->CreateUser(User{0, "alice", false, false, 0}), ErrorCode::kAlreadyExists);
  PV_EXPECT_ERROR(store_->CreateUser(User{0, "", false, false, 0}), ErrorCode::kInvalidArgument);
  PV_ASSERT_OK_AND_ASSIGN(auto found, store_->GetUserByName("bob"));
  EXPECT_EQ(found.id, bob_.id);
  EXPECT_TRUE(found.allow_adult);
  PV_EXPECT_ERROR(store_->GetUser(9999), ErrorCode::kNotFound);
}

TEST_P(StoreAssets, CreateThenGetRoundTripsEveryField) {
  Asset in;
  in.media_type = MediaType::kVideo;
  in.provider_id = "pixverse";
  in.provider_asset_id = "pv_123";
  in.remote_url = "https://cdn.example/v.mp4";
  in.original_filename = "v.mp4";
  in.upload_method = UploadMethod::kCli;
  in.mime_type = "video/mp4";
  in.width = 1280;
  in.height = 720;
  in.duration_sec = 5.5;
  in.fps = 24;
  in.description = "A dancer, ünïcode";
  in.tags = {"dance", "night", "dance"};
  in.style_tags = {"neon"};
  in.embedding = Embedding{"pv-color-v1", {0.5f, -1.25f, 3.0f}};
  in.content_domain = ContentDomain::kSports;
  in.content_category = "football";
  in.content_taxonomy = R"({"sport":{"type":"football","league":"nfl"}})";
  in.content_rating = ContentRating::kMature;
  in.media_metadata = R"({"video_codec":"h264"})";
  Asset a = Make(alice_, "bytes-1", in);
  PV_ASSERT_OK_AND_ASSIGN(Asset got, store_->GetAsset(Viewer::For(alice_), a.id));
  EXPECT_EQ(got.media_type, MediaType::kVideo);
  EXPECT_EQ(got.provider_asset_id, "pv_123");
  EXPECT_EQ(got.width, 1280);
  EXPECT_DOUBLE_EQ(*got.duration_sec, 5.5);
  EXPECT_EQ(got.description, "A dancer, ünïcode");
  EXPECT_EQ(got.tags, (std::vector<std::string>{"dance", "night"}));
  EXPECT_EQ(got.style_tags, (std::vector<std::string>{"neon"}));
  ASSERT_TRUE(got.embedding.has_value());
  EXPECT_EQ(*got.embedding, *in.embedding);
  EXPECT_EQ(got.content_category, "football");
  EXPECT_EQ(got.content_rating, ContentRating::kMature);
  EXPECT_EQ(got.sha256, Sha256Hex("bytes-1"));
  EXPECT_EQ(got.upload_method, UploadMethod::kCli);
  EXPECT_GT(got.created_at, 0);
}

TEST_P(StoreAssets, SameBytesSameUserIsDuplicateAndRefcountCountsAssets) {
  Asset first = Make(alice_, "same");
  std::string sha = Sha256Hex("same");
  Asset again;
  again.user_id = alice_.id;
  again.sha256 = sha;
  PV_ASSERT_OK_AND_ASSIGN(auto dup, store_->CreateAsset(again, BlobRef{sha, 4, "local", {}}));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.asset.id, first.id);
  // Another user's upload of the same bytes is a separate asset sharing the blob.
  Asset other = Make(bob_, "same");
  EXPECT_NE(other.id, first.id);
  // A provider generation that produced the same bytes is never merged.
  Asset gen;
  gen.user_id = alice_.id;
  gen.sha256 = sha;
  gen.upload_method = UploadMethod::kProvider;
  PV_ASSERT_OK_AND_ASSIGN(auto g, store_->CreateAsset(gen, BlobRef{sha, 4, "local", {}}));
  EXPECT_FALSE(g.duplicate);
  PV_ASSERT_OK_AND_ASSIGN(Blob blob, store_->GetBlob(sha));
  EXPECT_EQ(blob.refcount, 3);
}

TEST_P(StoreAssets, PublishRunsOnlyForNewAssetsAndItsFailureRollsBack) {
  int published = 0;
  std::string sha = Sha256Hex("pub");
  Asset a;
  a.user_id = alice_.id;
  a.sha256 = sha;
  BlobRef ref{sha, 3, "local", [&]() -> Status {
                ++published;
                return Ok();
              }};
  PV_ASSERT_OK(store_->CreateAsset(a, ref));
  PV_ASSERT_OK(store_->CreateAsset(a, ref));  // duplicate: no publish
  EXPECT_EQ(published, 1);

  std::string sha2 = Sha256Hex("fails");
  a.sha256 = sha2;
  PV_EXPECT_ERROR(
      store_->CreateAsset(a, BlobRef{sha2, 5, "local",
                                     [] { return Status(Fail(ErrorCode::kUnavailable, "disk")); }}),
      ErrorCode::kUnavailable);
  PV_EXPECT_ERROR(store_->GetBlob(sha2), ErrorCode::kNotFound);
  EXPECT_TRUE(List(alice_).size() == 1);
}

TEST_P(StoreAssets, AFollowUpJobIsEnqueuedWithTheNewAssetOrNeitherIs) {
  const auto job_for = [](std::string payload_prefix) {
    return [payload_prefix](const Asset& stored) -> std::optional<Job> {
      Job j;
      j.kind = "analyze";
      j.payload = payload_prefix + std::to_string(stored.id) + "}";
      j.idempotency_key = "follow-up:" + std::to_string(stored.id);
      return j;
    };
  };
  Asset a;
  a.user_id = alice_.id;
  a.sha256 = Sha256Hex("follow");
  const BlobRef ref{*a.sha256, 6, "local", {}};
  PV_ASSERT_OK_AND_ASSIGN(auto made, store_->CreateAsset(a, ref, job_for(R"({"asset_id": )")));
  ASSERT_TRUE(made.job.has_value());
  EXPECT_EQ(made.job->payload, R"({"asset_id": )" + std::to_string(made.asset.id) + "}");
  PV_ASSERT_OK_AND_ASSIGN(Job stored, store_->GetJob(made.job->id));
  EXPECT_EQ(stored.kind, "analyze");
  // A duplicate creates nothing, so it enqueues nothing.
  PV_ASSERT_OK_AND_ASSIGN(auto dup, store_->CreateAsset(a, ref, job_for(R"({"asset_id": )")));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_FALSE(dup.job.has_value());
  // No job wanted: none.
  Asset plain = a;
  plain.sha256 = Sha256Hex("plain");
  PV_ASSERT_OK_AND_ASSIGN(auto none,
                          store_->CreateAsset(plain, BlobRef{*plain.sha256, 5, "local", {}},
                                              [](const Asset&) { return std::nullopt; }));
  EXPECT_FALSE(none.job.has_value());
  // A job the store refuses (a payload that is not JSON) rolls the asset back with it.
  const std::size_t before = List(alice_).size();
  Asset bad = a;
  bad.sha256 = Sha256Hex("bad");
  PV_EXPECT_ERROR(
      store_->CreateAsset(bad, BlobRef{*bad.sha256, 3, "local", {}}, job_for("{not json ")),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(List(alice_).size(), before);
  PV_EXPECT_ERROR(store_->GetBlob(*bad.sha256), ErrorCode::kNotFound);
  PV_ASSERT_OK_AND_ASSIGN(auto jobs, store_->ListJobs(storage::JobFilter{}, 100));
  EXPECT_EQ(jobs.size(), 1u);
}

TEST_P(StoreAssets, ConcurrentIdenticalCreatesYieldOneAsset) {
  std::string sha = Sha256Hex("race");
  std::vector<std::thread> threads;
  std::vector<Result<storage::CreatedAsset>> results(6);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      Asset a;
      a.user_id = alice_.id;
      a.sha256 = sha;
      results[static_cast<std::size_t>(i)] = store_->CreateAsset(a, BlobRef{sha, 4, "local", {}});
    });
  }
  for (auto& t : threads) t.join();
  std::set<AssetId> ids;
  int created = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ids.insert(r->asset.id);
    created += r->duplicate ? 0 : 1;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  PV_ASSERT_OK_AND_ASSIGN(Blob blob, store_->GetBlob(sha));
  EXPECT_EQ(blob.refcount, 1);
}

TEST_P(StoreAssets, OtherUsersAssetsAreNotFoundAndAdultNeedsPermission) {
  Asset mine = Make(alice_, "a1");
  Asset adult_in;
  adult_in.age_restricted = true;
  adult_in.content_domain = ContentDomain::kAdult;
  adult_in.content_rating = ContentRating::kAdult;
  Asset alices_adult = Make(alice_, "a2", adult_in);
  Asset bobs_adult = Make(bob_, "b1", adult_in);
  PV_EXPECT_ERROR(store_->GetAsset(Viewer::For(bob_), mine.id), ErrorCode::kNotFound);
  // alice may not see adult content, not even her own.
  PV_EXPECT_ERROR(store_->GetAsset(Viewer::For(alice_), alices_adult.id), ErrorCode::kNotFound);
  PV_ASSERT_OK(store_->GetAsset(Viewer::For(bob_), bobs_adult.id));
  PV_ASSERT_OK(store_->GetAsset(Viewer::For(admin_), mine.id));
  EXPECT_EQ(List(alice_), (std::vector<AssetId>{mine.id}));
  EXPECT_EQ(List(bob_), (std::vector<AssetId>{bobs_adult.id}));
  EXPECT_EQ(List(admin_).size(), 3u);
  PV_EXPECT_ERROR(store_->DeleteAsset(Viewer::For(bob_), mine.id), ErrorCode::kNotFound);
  PV_EXPECT_ERROR(store_->UpdateAsset(Viewer::For(bob_), mine.id, AssetPatch{}),
                  ErrorCode::kNotFound);
}

TEST_P(StoreAssets, UnsearchableAssetsLeaveListsButNotGet) {
  Asset in;
  in.searchable = false;
  Asset hidden = Make(alice_, "hidden", in);
  Asset shown = Make(alice_, "shown");
  EXPECT_EQ(List(alice_), (std::vector<AssetId>{shown.id}));
  PV_ASSERT_OK(store_->GetAsset(Viewer::For(alice_), hidden.id));
  AssetFilter f;
  f.include_unsearchable = true;
  EXPECT_EQ(List(alice_, f).size(), 2u);
}

TEST_P(StoreAssets, FiltersOnColumnsTagsTaxonomyAndText) {
  Asset football;
  football.media_type = MediaType::kVideo;
  football.content_category = "football";
  football.content_rating = ContentRating::kGeneral;
  football.tags = {"goal", "crowd"};
  football.style_tags = {"broadcast"};
  football.content_taxonomy = R"({"sport":{"type":"football"},"teams":["red","blue"]})";
  football.description = "Last-minute GOAL 100%";
  Asset a = Make(alice_, "f1", football);
  football.content_rating = ContentRating::kMature;
  football.tags = {"crowd"};
  football.content_taxonomy = R"({"sport":{"type":"football"},"teams":["green"]})";
  football.description = "fans";
  Asset b = Make(alice_, "f2", football);
  Asset tennis;
  tennis.media_type = MediaType::kImage;
  tennis.content_category = "tennis";
  tennis.tags = {"goal"};
  Asset c = Make(alice_, "t1", tennis);

  AssetFilter f;
  f.content_category = "football";
  EXPECT_EQ(List(alice_, f), (std::vector<AssetId>{b.id, a.id}));
  f.content_rating = ContentRating::kGeneral;
  EXPECT_EQ(List(alice_, f), (std::vector<AssetId>{a.id}));

  AssetFilter tags;
  tags.tags = {"goal"};
  EXPECT_EQ(List(alice_, tags), (std::vector<AssetId>{c.id, a.id}));
  tags.tags = {"goal", "crowd"};
  EXPECT_EQ(List(alice_, tags), (std::vector<AssetId>{a.id}));
  AssetFilter style;
  style.style_tags = {"broadcast"};
  EXPECT_EQ(List(alice_, style), (std::vector<AssetId>{b.id, a.id}));

  AssetFilter tax;
  tax.taxonomy = {{"sport.type", "football"}, {"teams", "blue"}};
  EXPECT_EQ(List(alice_, tax), (std::vector<AssetId>{a.id}));

  AssetFilter media;
  media.media_type = MediaType::kImage;
  EXPECT_EQ(List(alice_, media), (std::vector<AssetId>{c.id}));

  AssetFilter text;
  text.text = "goal";  // description (case-insensitive) or tag
  EXPECT_EQ(List(alice_, text), (std::vector<AssetId>{c.id, a.id}));
  text.text = "100%";  // wildcards match literally
  EXPECT_EQ(List(alice_, text), (std::vector<AssetId>{a.id}));
  text.text = "1_0";
  EXPECT_TRUE(List(alice_, text).empty());

  PV_ASSERT_OK_AND_ASSIGN(auto n, store_->CountAssets(Viewer::For(alice_), f));
  EXPECT_EQ(n, 1);
}

TEST_P(StoreAssets, FiltersOnMetadataTables) {
  Asset song = Make(alice_, "song");
  Asset speech = Make(alice_, "speech");
  Asset model = Make(alice_, "model");
  Asset scene = Make(bob_, "scene");
  AssetAudioMetadata m1;
  m1.asset_id = song.id;
  m1.bpm = 128;
  m1.key = "Am";
  m1.is_speech = false;
  PV_ASSERT_OK(store_->PutAudioMetadata(Viewer::For(alice_), m1));
  AssetAudioMetadata m2;
  m2.asset_id = speech.id;
  m2.bpm = 90;
  m2.is_speech = true;
  PV_ASSERT_OK(store_->PutAudioMetadata(Viewer::For(alice_), m2));
  Asset3dMetadata m3;
  m3.asset_id = model.id;
  m3.polygon_count = 12000;
  m3.file_format = "glb";
  m3.bounding_box_size = R"({"x":1,"y":2,"z":3})";
  PV_ASSERT_OK(store_->Put3dMetadata(Viewer::For(alice_), m3));
  AssetAdultMetadata m4;
  m4.asset_id = scene.id;
  m4.intensity_level = "moderate";
  m4.mood = "artistic";
  PV_ASSERT_OK(store_->PutAdultMetadata(Viewer::For(bob_), m4));

  AssetFilter bpm;
  bpm.bpm_min = 100;
  bpm.bpm_max = 140;
  EXPECT_EQ(List(alice_, bpm), (std::vector<AssetId>{song.id}));
  AssetFilter sp;
  sp.is_speech = true;
  EXPECT_EQ(List(alice_, sp), (std::vector<AssetId>{speech.id}));
  AssetFilter poly;
  poly.polygons_min = 10000;
  poly.model_format = "glb";
  EXPECT_EQ(List(alice_, poly), (std::vector<AssetId>{model.id}));
  poly.polygons_max = 11000;
  EXPECT_TRUE(List(alice_, poly).empty());
  AssetFilter adult;
  adult.intensity_level = "moderate";
  adult.mood = "artistic";
  EXPECT_EQ(List(bob_, adult), (std::vector<AssetId>{scene.id}));
  EXPECT_TRUE(List(alice_, adult).empty());

  // Upsert replaces; metadata of another user's asset is not found.
  m1.bpm = 64;
  PV_ASSERT_OK_AND_ASSIGN(auto updated, store_->PutAudioMetadata(Viewer::For(alice_), m1));
  EXPECT_DOUBLE_EQ(*updated.bpm, 64);
  PV_EXPECT_ERROR(store_->GetAudioMetadata(Viewer::For(bob_), song.id), ErrorCode::kNotFound);
  PV_EXPECT_ERROR(store_->PutAudioMetadata(Viewer::For(bob_), m1), ErrorCode::kNotFound);
  PV_ASSERT_OK_AND_ASSIGN(auto got3d, store_->Get3dMetadata(Viewer::For(alice_), model.id));
  EXPECT_EQ(got3d.polygon_count, 12000);
  PV_EXPECT_ERROR(store_->Get3dMetadata(Viewer::For(alice_), song.id), ErrorCode::kNotFound);
  m4.intensity_level = "extreme";  // not in the vocabulary
  PV_EXPECT_ERROR(store_->PutAdultMetadata(Viewer::For(bob_), m4), ErrorCode::kInvalidArgument);
}

TEST_P(StoreAssets, KeysetPaginationVisitsEveryAssetOnceNewestFirst) {
  std::vector<AssetId> made;
  for (int i = 0; i < 23; ++i) {
    Asset in;
    in.content_category = i % 2 ? "odd" : "even";
    made.push_back(Make(alice_, "p" + std::to_string(i), in).id);
  }
  // Two assets with the same created_at must still page deterministically.
  std::vector<AssetId> seen;
  std::optional<std::string> cursor;
  do {
    PV_ASSERT_OK_AND_ASSIGN(auto page,
                            store_->ListAssets(Viewer::For(alice_), {}, PageRequest{5, cursor}));
    EXPECT_LE(page.items.size(), 5u);
    for (const auto& a : page.items) seen.push_back(a.id);
    cursor = page.next_cursor;
  } while (cursor);
  std::vector<AssetId> expected(made.rbegin(), made.rend());
  EXPECT_EQ(seen, expected);

  AssetFilter odd;
  odd.content_category = "odd";
  PV_ASSERT_OK_AND_ASSIGN(auto first,
                          store_->ListAssets(Viewer::For(alice_), odd, PageRequest{10, {}}));
  ASSERT_TRUE(first.next_cursor);
  PV_ASSERT_OK_AND_ASSIGN(auto second, store_->ListAssets(Viewer::For(alice_), odd,
                                                          PageRequest{10, first.next_cursor}));
  EXPECT_EQ(first.items.size() + second.items.size(), 11u);
  EXPECT_FALSE(second.next_cursor);

  PV_EXPECT_ERROR(store_->ListAssets(Viewer::For(alice_), {}, PageRequest{5, "garbage"}),
                  ErrorCode::kInvalidArgument);
  PV_EXPECT_ERROR(store_->ListAssets(Viewer::For(alice_), {}, PageRequest{0, {}}),
                  ErrorCode::kInvalidArgument);
}

TEST_P(StoreAssets, TagFilterPagesOwnTaggedAssetsInOrder) {
  std::vector<AssetId> tagged;
  for (int i = 0; i < 13; ++i) {
    Asset in;
    in.tags = i % 3 ? std::vector<std::string>{"hero", "x"} : std::vector<std::string>{"x"};
    in.style_tags = {"noir"};
    Asset a = Make(alice_, "tag" + std::to_string(i), in);
    if (i % 3) tagged.push_back(a.id);
    Asset other = Make(bob_, "bobtag" + std::to_string(i), in);  // same tags, other owner
    (void)other;
  }
  // A patch that adds the tag later is found too.
  Asset late = Make(alice_, "late");
  AssetPatch p;
  p.tags = std::vector<std::string>{"hero"};
  PV_ASSERT_OK(store_->UpdateAsset(Viewer::For(alice_), late.id, p));
  tagged.push_back(late.id);
  AssetFilter f;
  f.tags = {"hero", "x"};  // the first drives the query, the second is checked per row
  std::vector<AssetId> seen;
  std::optional<std::string> cursor;
  do {
    PV_ASSERT_OK_AND_ASSIGN(auto page,
                            store_->ListAssets(Viewer::For(alice_), f, PageRequest{3, cursor}));
    for (const auto& a : page.items) seen.push_back(a.id);
    cursor = page.next_cursor;
  } while (cursor);
  std::vector<AssetId> expected(tagged.rbegin() + 1, tagged.rend());  // `late` lacks "x"
  EXPECT_EQ(seen, expected);
  f.tags = {"hero"};
  EXPECT_EQ(List(alice_, f).size(), tagged.size());
  EXPECT_EQ(List(alice_, f).front(), late.id);
  AssetFilter style;
  style.style_tags = {"noir"};
  EXPECT_EQ(List(alice_, style).size(), 13u);
  EXPECT_EQ(List(admin_, style).size(), 26u);  // admins see every owner's
}

TEST_P(StoreAssets, SameTimestampPagesByIdWithoutLoss) {
  std::vector<AssetId> made;
  for (int i = 0; i < 7; ++i) {
    Asset in;
    in.user_id = alice_.id;
    in.created_at = 42;  // identical created_at
    std::string sha = Sha256Hex("tie" + std::to_string(i));
    in.sha256 = sha;
    PV_ASSERT_OK_AND_ASSIGN(auto c, store_->CreateAsset(in, BlobRef{sha, 1, "local", {}}));
    made.push_back(c.asset.id);
  }
  std::vector<AssetId> seen;
  std::optional<std::string> cursor;
  do {
    PV_ASSERT_OK_AND_ASSIGN(auto page,
                            store_->ListAssets(Viewer::For(alice_), {}, PageRequest{3, cursor}));
    for (const auto& a : page.items) seen.push_back(a.id);
    cursor = page.next_cursor;
  } while (cursor);
  EXPECT_EQ(seen, std::vector<AssetId>(made.rbegin(), made.rend()));
}

TEST_P(StoreAssets, PatchChangesOnlyNamedFieldsAndValidates) {
  Asset in;
  in.description = "old";
  in.tags = {"a"};
  Asset a = Make(alice_, "patch", in);
  AssetPatch p1;
  p1.content_category = std::optional<std::string>("portrait");
  AssetPatch p2;
  p2.tags = std::vector<std::string>{"x", "y"};
  // Two stores (as two processes) patch different fields; neither loses the other's change.
  auto other = OpenAnother(clock_);
  ASSERT_TRUE(other);
  std::thread t1(
      [&] { EXPECT_TRUE(store_->UpdateAsset(Viewer::For(alice_), a.id, p1).has_value()); });
  std::thread t2(
      [&] { EXPECT_TRUE(other->UpdateAsset(Viewer::For(alice_), a.id, p2).has_value()); });
  t1.join();
  t2.join();
  PV_ASSERT_OK_AND_ASSIGN(Asset got, store_->GetAsset(Viewer::For(alice_), a.id));
  EXPECT_EQ(got.content_category, "portrait");
  EXPECT_EQ(got.tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(got.description, "old");
  AssetPatch bad;
  bad.content_taxonomy = "{not json";
  PV_EXPECT_ERROR(store_->UpdateAsset(Viewer::For(alice_), a.id, bad), ErrorCode::kInvalidArgument);
  bad.content_taxonomy = "[1,2]";
  PV_EXPECT_ERROR(store_->UpdateAsset(Viewer::For(alice_), a.id, bad), ErrorCode::kInvalidArgument);
  AssetPatch clear;
  clear.description = std::optional<std::string>();
  PV_ASSERT_OK_AND_ASSIGN(got, store_->UpdateAsset(Viewer::For(alice_), a.id, clear));
  EXPECT_FALSE(got.description.has_value());
}

TEST_P(StoreAssets, DeleteReleasesBlobOnlyWhenLastReferenceGoes) {
  Asset a = Make(alice_, "shared");
  Asset b = Make(bob_, "shared");
  std::string sha = *a.sha256;
  int unlinked = 0;
  auto unlink = [&]() -> Status {
    ++unlinked;
    return Ok();
  };
  PV_ASSERT_OK(store_->DeleteAsset(Viewer::For(alice_), a.id));
  PV_ASSERT_OK_AND_ASSIGN(bool gone, store_->DeleteUnreferencedBlob(sha, unlink));
  EXPECT_FALSE(gone);
  PV_ASSERT_OK(store_->DeleteAsset(Viewer::For(bob_), b.id));
  PV_ASSERT_OK_AND_ASSIGN(gone, store_->DeleteUnreferencedBlob(sha, unlink));
  EXPECT_TRUE(gone);
  EXPECT_EQ(unlinked, 1);
  PV_EXPECT_ERROR(store_->GetBlob(sha), ErrorCode::kNotFound);
  PV_EXPECT_ERROR(store_->GetAsset(Viewer::For(alice_), a.id), ErrorCode::kNotFound);
}

TEST_P(StoreAssets, RepairBlobRefcountsFixesDrift) {
  Asset a = Make(alice_, "drift");
  PV_ASSERT_OK_AND_ASSIGN(auto changed, store_->RepairBlobRefcounts());
  EXPECT_EQ(changed, 0);
  PV_ASSERT_OK_AND_ASSIGN(auto refs, store_->ListReferencedSha256("", 10));
  EXPECT_EQ(refs, (std::vector<std::string>{*a.sha256}));
}

TEST_P(StoreAssets, SegmentsAddListReplace) {
  Asset v = Make(alice_, "video");
  TemporalSegment s;
  s.asset_id = v.id;
  s.segment_type = "shot";
  s.timestamp_sec = 2.5;
  s.end_sec = 4;
  s.embedding = Embedding{"m", {1, 2}};
  s.dominant_colors = R"(["#ff0000"])";
  PV_ASSERT_OK(store_->AddSegment(Viewer::For(alice_), s));
  s.timestamp_sec = 0;
  s.end_sec = 2.5;
  PV_ASSERT_OK(store_->AddSegment(Viewer::For(alice_), s));
  PV_ASSERT_OK_AND_ASSIGN(auto list, store_->ListSegments(Viewer::For(alice_), v.id));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_DOUBLE_EQ(list[0].timestamp_sec, 0);
  EXPECT_EQ(list[1].embedding->values, (std::vector<float>{1, 2}));
  s.timestamp_sec = 1;
  s.end_sec = std::nullopt;
  PV_ASSERT_OK(store_->ReplaceSegments(Viewer::For(alice_), v.id, "shot", {s}));
  PV_ASSERT_OK_AND_ASSIGN(list, store_->ListSegments(Viewer::For(alice_), v.id));
  ASSERT_EQ(list.size(), 1u);
  s.timestamp_sec = -1;
  PV_EXPECT_ERROR(store_->AddSegment(Viewer::For(alice_), s), ErrorCode::kInvalidArgument);
  s.timestamp_sec = 1;
  PV_EXPECT_ERROR(store_->AddSegment(Viewer::For(bob_), s), ErrorCode::kNotFound);
  PV_EXPECT_ERROR(store_->DeleteSegment(Viewer::For(bob_), list[0].id), ErrorCode::kNotFound);
  PV_ASSERT_OK(store_->DeleteSegment(Viewer::For(alice_), list[0].id));
}

PV_INSTANTIATE_STORE_TEST(StoreAssets);

}  // namespace
}  // namespace pixvault::testing
