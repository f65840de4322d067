// End-to-end tests of the `pixvault` binary: real processes, real files, SQLite and
// PostgreSQL.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/derived_files.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "storage/store.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

extern char** environ;

namespace pixvault::testing {
namespace {

using media::testing::MediaFile;

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
  // stdout as JSON lines.
  std::vector<boost::json::value> Lines() const {
    std::vector<boost::json::value> v;
    std::size_t start = 0;
    while (start < out.size()) {
      std::size_t end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      if (end > start) v.push_back(boost::json::parse(out.substr(start, end - start)));
      start = end + 1;
    }
    return v;
  }
  boost::json::value Json() const { return boost::json::parse(out); }
};

int CountFiles(const std::filesystem::path& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file() ? 1 : 0;
  }
  return n;
}

class Cli : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      PV_REQUIRE_POSTGRES_OR_SKIP();
      auto scratch = ScratchPostgresDatabase::Create(*TestPostgresUrl());
      ASSERT_TRUE(scratch.has_value()) << scratch.error().message;
      pg_ = std::move(*scratch);
    }
    data_ = dir_.path() / "data";
  }

  Outcome Pixvault(std::vector<std::string> args) {
    std::vector<std::string> full{PIXVAULT_BINARY, "--data-dir", data_.string()};
    if (pg_) {
      full.push_back("--db");
      full.push_back(pg_->url());
    }
    full.insert(full.end(), args.begin(), args.end());
    return Exec(full);
  }

  Outcome Exec(const std::vector<std::string>& argv) {
    std::filesystem::path out_file = dir_.path() / "stdout.txt";
    std::filesystem::path err_file = dir_.path() / "stderr.txt";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = 0;
    Outcome r;
    // The commands read PIXVAULT_* settings: the developer's own must not change the results.
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).rfind("PIXVAULT_", 0) != 0) env.push_back(*e);
    }
    env.push_back(nullptr);
    if (posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), env.data()) != 0) {
      posix_spawn_file_actions_destroy(&actions);
      ADD_FAILURE() << "cannot spawn " << argv[0];
      return r;
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out_file);
    r.err = ReadFile(err_file);
    return r;
  }

  std::filesystem::path Input(const std::string& name) { return dir_.path() / "in" / name; }
  void CopyMedia(const std::string& media, const std::string& name) {
    std::filesystem::create_directories(Input(name).parent_path());
    std::filesystem::copy_file(MediaFile(media), Input(name),
                               std::filesystem::copy_options::overwrite_existing);
  }
  int BlobFiles() { return CountFiles(data_ / "blobs") + CountFiles(data_ / "tmp"); }
  // The database the commands use, for a test to open it directly.
  std::string StoreUrl() const {
    return pg_ ? pg_->url()
               : "sqlite://" + (std::filesystem::absolute(data_) / "pixvault.db").string();
  }
  // Imports clip.mp4 (a video) and still.png (an image); their assets by file name.
  void ImportClipAndStill(std::map<std::string, boost::json::value>& assets) {
    CopyMedia("video.mp4", "clip.mp4");
    CopyMedia("image.png", "still.png");
    Outcome imp = Pixvault({"import", "--json", "--recursive", Input("").string()});
    ASSERT_EQ(imp.code, 0) << imp.err << imp.out;
    for (const auto& line : imp.Lines()) {
      assets[std::string(line.at("asset").at("original_filename").as_string())] = line.at("asset");
    }
    ASSERT_EQ(assets.size(), 2u);
  }
  // Imports clip.mp4 and still.png, adds the local user's account at a folder provider "cdn"
  // (cdn_dir()) and records an upload of each there; only the clip's copy is in the folder.
  // Returns the assets by file name.
  std::map<std::string, boost::json::value> ClipAndStillRecordedAtCdn() {
    std::map<std::string, boost::json::value> assets;
    ImportClipAndStill(assets);
    if (::testing::Test::HasFatalFailure()) return assets;
    const std::filesystem::path creds = dir_.path() / "creds.json";
    WriteFile(creds, R"({"api_key": "unused"})");
    Outcome added =
        Pixvault({"--json", "account", "add", "cdn", "main", "--credentials-file", creds.string()});
    EXPECT_EQ(added.code, 0) << added.err;
    if (added.code != 0) return assets;
    const std::int64_t account = added.Json().at("id").as_int64();
    std::filesystem::create_directories(cdn_dir());
    SystemClock clock;
    auto store = storage::OpenStore(StoreUrl(), clock);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    if (!store) return assets;
    for (const auto& [name, asset] : assets) {
      ProviderUpload u;
      u.asset_id = asset.at("id").as_int64();
      u.provider_id = "cdn";
      u.account_id = account;
      u.provider_ref = std::string(asset.at("sha256").as_string());
      u.status = UploadStatus::kUploaded;
      u.uploaded_at = clock.Now();
      EXPECT_TRUE((*store)->PutProviderUpload(u).has_value());
    }
    WriteFile(cdn_dir() / std::string(assets["clip.mp4"].at("sha256").as_string()),
              "the provider's copy");
    return assets;
  }
  std::filesystem::path cdn_dir() const { return dir_.path() / "cdn"; }
  // An account of the local user at `provider`, made in the database directly (its
  // credentials are never opened).
  std::optional<ProviderAccount> AddLocalAccount(storage::Store& store,
                                                 const std::string& provider) {
    auto local = store.GetUserByName("local");
    EXPECT_TRUE(local.has_value());
    if (!local) return std::nullopt;
    ProviderAccount a;
    a.user_id = local->id;
    a.provider_id = provider;
    a.label = "main";
    a.credentials_encrypted = "x";
    auto account = store.CreateProviderAccount(a);
    EXPECT_TRUE(account.has_value()) << account.error().message;
    if (!account) return std::nullopt;
    return *account;
  }
  // The [providers] table of the folder provider "cdn".
  std::string CdnProviders() const {
    return "[providers.cdn]\ntype = \"folder\"\nroot = \"" + cdn_dir().string() + "\"\n";
  }
  std::int64_t AssetCount() {
    Outcome r = Pixvault({"ls", "--json", "--all", "--limit", "1000"});
    EXPECT_EQ(r.code, 0) << r.err;
    return static_cast<std::int64_t>(r.Json().at("items").as_array().size());
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::unique_ptr<ScratchPostgresDatabase> pg_;
};

TEST_P(Cli, ImportListShowRemoveRoundTrip) {
  if (MediaFile("video.mp4").empty() || MediaFile("image.png").empty()) GTEST_SKIP();
  CopyMedia("video.mp4", "clip.mp4");
  CopyMedia("image.png", "sub/still.png");
  Outcome imp = Pixvault({"import", "--json", "--recursive", Input("").string(), "--tag", "demo",
                          "--category", "tests", "--rating", "mature"});
  ASSERT_EQ(imp.code, 0) << imp.err << imp.out;
  auto lines = imp.Lines();
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) EXPECT_EQ(l.at("status"), "created");
  const boost::json::value& video = lines[0].at("asset");
  EXPECT_EQ(video.at("media_type"), "video");
  EXPECT_EQ(video.at("width"), 320);
  EXPECT_EQ(video.at("tags").at(0), "demo");
  EXPECT_EQ(video.at("content_rating"), "mature");
  EXPECT_EQ(video.at("sha256").as_string(), Sha256Hex(ReadFile(Input("clip.mp4"))));
  std::int64_t id = video.at("id").as_int64();

  Outcome again = Pixvault({"import", "--json", Input("clip.mp4").string()});
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(again.Lines().at(0).at("status"), "duplicate");
  EXPECT_EQ(again.Lines().at(0).at("asset").at("id").as_int64(), id);

  Outcome ls = Pixvault({"ls", "--type", "image", "--json"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  ASSERT_EQ(ls.Json().at("items").as_array().size(), 1u);
  Outcome human = Pixvault({"ls"});
  EXPECT_NE(human.out.find("clip.mp4"), std::string::npos);

  Outcome page1 = Pixvault({"ls", "--json", "--limit", "1"});
  ASSERT_EQ(page1.code, 0);
  std::string cursor(page1.Json().at("next_cursor").as_string());
  Outcome page2 = Pixvault({"ls", "--json", "--limit", "1", "--cursor", cursor});
  EXPECT_EQ(page2.Json().at("items").at(0).at("id").as_int64(), id);
  EXPECT_TRUE(page2.Json().at("next_cursor").is_null());

  Outcome show = Pixvault({"show", std::to_string(id), "--json"});
  ASSERT_EQ(show.code, 0);
  EXPECT_EQ(show.Json().at("original_filename"), "clip.mp4");
  EXPECT_TRUE(show.Json().at("provider_uploads").is_object());

  Outcome rm = Pixvault({"rm", std::to_string(id)});
  EXPECT_EQ(rm.code, 0) << rm.err;
  EXPECT_EQ(Pixvault({"show", std::to_string(id)}).code, 3);
  EXPECT_EQ(BlobFiles(), 1);
  Outcome fsck = Pixvault({"fsck", "--json"});
  EXPECT_EQ(fsck.code, 0) << fsck.out;
  EXPECT_EQ(fsck.Json().at("clean"), true);
}

TEST_P(Cli, BadFilesFailAloneAndLeaveNothing) {
  if (MediaFile("video.mp4").empty()) GTEST_SKIP();
  std::filesystem::create_directories(Input(""));
  WriteFile(Input("empty.mp4"), "");
  WriteFile(Input("notes.mp4"), "this is text, not a video\n");
  std::string video = ReadFile(MediaFile("video.mp4"));
  WriteFile(Input("truncated.mp4"), video.substr(0, video.size() / 2));
  std::filesystem::create_symlink(Input("gone.mp4"), Input("dangling.mp4"));
  Outcome r = Pixvault({"import", "--json", "-r", Input("").string()});
  EXPECT_EQ(r.code, 1);
  auto lines = r.Lines();
  ASSERT_EQ(lines.size(), 4u) << r.out;
  std::map<std::string, std::string> codes;
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("status"), "error");
    std::string path(l.at("path").as_string());
    codes[std::filesystem::path(path).filename().string()] =
        std::string(l.at("error").at("code").as_string());
  }
  EXPECT_EQ(codes["empty.mp4"], "invalid_argument");
  EXPECT_EQ(codes["notes.mp4"], "unsupported");
  EXPECT_EQ(codes["truncated.mp4"], "corrupt");
  EXPECT_EQ(codes["dangling.mp4"], "not_found");
  EXPECT_EQ(BlobFiles(), 0);
  EXPECT_EQ(AssetCount(), 0);
}

TEST_P(Cli, FoldersLoopsAndOddNames) {
  if (MediaFile("video.mp4").empty() || MediaFile("image.png").empty()) GTEST_SKIP();
  CopyMedia("video.mp4", "a/.mp4");              // a name that is only an extension
  CopyMedia("image.png", "a/caf\xE9-\xFF.png");  // not UTF-8
  std::filesystem::create_directory_symlink(Input("a"), Input("a/loop"));
  Outcome no_r = Pixvault({"import", Input("a").string()});
  EXPECT_NE(no_r.code, 0);
  EXPECT_NE(no_r.err.find("--recursive"), std::string::npos);
  Outcome r = Pixvault({"import", "--json", "-r", Input("a").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  auto lines = r.Lines();  // parses: the output is valid JSON despite the file name
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("status"), "created");
    EXPECT_TRUE(IsValidUtf8(l.at("path").as_string()));
  }
  EXPECT_EQ(AssetCount(), 2);
}

TEST_P(Cli, UsageErrorsAndDatabaseCommands) {
  Outcome type = Pixvault({"ls", "--type", "hologram"});
  EXPECT_EQ(type.code, 2);
  EXPECT_NE(type.err.find("video, image, audio, 3d_model"), std::string::npos);
  Outcome rating = Pixvault({"import", "x", "--rating", "spicy"});
  EXPECT_EQ(rating.code, 2);
  EXPECT_EQ(Pixvault({"frobnicate"}).code, 2);
  Outcome below = Pixvault({"db", "downgrade", "-1"});
  EXPECT_EQ(below.code, 2);
  EXPECT_NE(below.err.find("below version 0"), std::string::npos);

  Outcome status = Pixvault({"db", "status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  boost::json::value before = status.Json();
  for (const auto& m : before.at("migrations").as_array()) EXPECT_EQ(m.at("applied"), false);
  EXPECT_EQ(Pixvault({"db", "upgrade"}).code, 0);
  Outcome down = Pixvault({"db", "downgrade", "0", "--json"});
  EXPECT_EQ(down.code, 0) << down.err;
  EXPECT_EQ(down.Json().at("version"), 0);
  // Ordinary commands bring the schema up to date.
  EXPECT_EQ(Pixvault({"ls"}).code, 0);
  boost::json::value after = Pixvault({"db", "status", "--json"}).Json();
  for (const auto& m : after.at("migrations").as_array()) EXPECT_EQ(m.at("applied"), true);
}

TEST_P(Cli, FsckCollectsDerivedFilesOfBytesThatAreGone) {
  if (MediaFile("image.png").empty()) GTEST_SKIP();
  CopyMedia("image.png", "p.png");
  Outcome imp = Pixvault({"import", "--json", Input("p.png").string()});
  ASSERT_EQ(imp.code, 0);
  const std::string sha(imp.Lines()[0].at("asset").at("sha256").as_string());
  const std::string gone = Sha256Hex("bytes deleted before their thumbnails");
  const std::string young = Sha256Hex("bytes deleted a moment ago");
  const blob::DerivedFiles derived(data_);
  ASSERT_TRUE(derived.Write(sha, "thumb-320.webp", "live").has_value());
  ASSERT_TRUE(derived.Write(gone, "thumb-320.webp", "orphan").has_value());
  ASSERT_TRUE(derived.Write(young, "thumb-320.webp", "orphan, but maybe in flight").has_value());
  const std::filesystem::path live = derived.PathFor(sha, "thumb-320.webp").value();
  const std::filesystem::path orphan = derived.PathFor(gone, "thumb-320.webp").value();
  const std::filesystem::path fresh = derived.PathFor(young, "thumb-320.webp").value();
  const std::filesystem::path temp = live.string() + ".tmp-4242-7";  // a crashed write
  const std::filesystem::path stray = data_ / "derived" / "notes.txt";
  WriteFile(temp, "half");
  WriteFile(stray, "not ours");
  const auto an_hour_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto& p : {live, orphan, temp, stray})
    std::filesystem::last_write_time(p, an_hour_ago);

  Outcome check = Pixvault({"fsck", "--json"});
  EXPECT_EQ(check.code, 1) << check.out;
  EXPECT_EQ(check.Json().at("clean"), false);
  ASSERT_EQ(check.Json().at("derived_orphans").as_array().size(), 1u) << check.out;
  EXPECT_EQ(check.Json().at("derived_orphans").at(0).as_string(), orphan.string());
  EXPECT_EQ(check.Json().at("derived_temps"), 1);
  ASSERT_EQ(check.Json().at("derived_strays").as_array().size(), 1u);
  EXPECT_EQ(check.Json().at("derived_strays").at(0).as_string(), stray.string());
  EXPECT_TRUE(std::filesystem::exists(orphan));

  Outcome repair = Pixvault({"fsck", "--repair", "--json"});
  EXPECT_EQ(repair.code, 0) << repair.out;
  EXPECT_EQ(repair.Json().at("derived_removed"), 2);
  EXPECT_FALSE(std::filesystem::exists(orphan));
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(fresh));  // within the grace period
  EXPECT_TRUE(std::filesystem::exists(stray));  // reported, never removed
  Outcome after = Pixvault({"fsck"});
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_NE(after.out.find("stray derived path"), std::string::npos) << after.out;
}

TEST_P(Cli, FsckReportsAndRepairsMissingBytes) {
  if (MediaFile("image.png").empty()) GTEST_SKIP();
  CopyMedia("image.png", "p.png");
  Outcome imp = Pixvault({"import", "--json", Input("p.png").string()});
  ASSERT_EQ(imp.code, 0);
  std::string sha(imp.Lines()[0].at("asset").at("sha256").as_string());
  std::filesystem::remove(data_ / "blobs" / sha.substr(0, 2) / sha.substr(2, 2) / sha);
  Outcome check = Pixvault({"fsck", "--json"});
  EXPECT_EQ(check.code, 1);
  EXPECT_EQ(check.Json().at("missing_files").at(0).as_string(), sha);
  Outcome repair = Pixvault({"fsck", "--repair", "--json"});
  EXPECT_EQ(repair.code, 0);
  EXPECT_EQ(repair.Json().at("assets_marked_error"), 1);
  Outcome show = Pixvault({"show", "1", "--json"});
  EXPECT_EQ(show.Json().at("sync_status"), "error");
}

TEST_P(Cli, CacheStatusAndEvictKeepOnlyCopiesAndHonourTheBudget) {
  if (MediaFile("video.mp4").empty() || MediaFile("image.png").empty()) GTEST_SKIP();
  std::map<std::string, boost::json::value> assets;
  ImportClipAndStill(assets);
  if (HasFatalFailure()) return;
  const std::int64_t clip_size = assets["clip.mp4"].at("file_size_bytes").as_int64();
  const std::int64_t still_size = assets["still.png"].at("file_size_bytes").as_int64();
  const std::string clip_sha(assets["clip.mp4"].at("sha256").as_string());

  // Both are the only copies of their bytes: nothing can go, whatever the budget.
  Outcome status = Pixvault({"cache", "status", "--json", "--budget", "1K"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(status.Json().at("local_blobs"), 2);
  EXPECT_EQ(status.Json().at("local_bytes"), clip_size + still_size);
  EXPECT_EQ(status.Json().at("only_copy_blobs"), 2);
  EXPECT_EQ(status.Json().at("budget"), 1024);
  Outcome kept = Pixvault({"cache", "evict", "--budget", "0", "--json"});
  ASSERT_EQ(kept.code, 0) << kept.err;
  EXPECT_EQ(kept.Json().at("evicted_blobs"), 0);
  EXPECT_EQ(kept.Json().at("over_budget"), true);

  // The clip was uploaded to a provider (recorded in the database, as a server would): the
  // CLI, which has no provider configuration, trusts that row.
  {
    SystemClock clock;
    auto store = storage::OpenStore(StoreUrl(), clock);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    std::optional<ProviderAccount> account = AddLocalAccount(**store, "cdn");
    ASSERT_TRUE(account.has_value());
    ProviderUpload u;
    u.asset_id = assets["clip.mp4"].at("id").as_int64();
    u.provider_id = "cdn";
    u.account_id = account->id;
    u.provider_ref = "clip-ref";
    u.status = UploadStatus::kUploaded;
    u.uploaded_at = clock.Now();
    ASSERT_TRUE((*store)->PutProviderUpload(u).has_value());
  }
  Outcome dry = Pixvault({"cache", "evict", "--budget", std::to_string(still_size), "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would evict 1 blobs"), std::string::npos) << dry.out;
  EXPECT_EQ(BlobFiles(), 2);
  Outcome evict = Pixvault({"cache", "evict", "--budget", std::to_string(still_size), "--json"});
  ASSERT_EQ(evict.code, 0) << evict.err;
  EXPECT_EQ(evict.Json().at("evicted_blobs"), 1);
  EXPECT_EQ(evict.Json().at("evicted_bytes"), clip_size);
  EXPECT_EQ(evict.Json().at("over_budget"), false);
  EXPECT_FALSE(std::filesystem::exists(data_ / "blobs" / clip_sha.substr(0, 2) /
                                       clip_sha.substr(2, 2) / clip_sha));
  Outcome show =
      Pixvault({"show", std::to_string(assets["clip.mp4"].at("id").as_int64()), "--json"});
  EXPECT_EQ(show.Json().at("sync_status"), "remote");
  Outcome after = Pixvault({"cache", "status"});
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_NE(after.out.find("local: " + std::to_string(still_size) + " bytes in 1 blobs"),
            std::string::npos)
      << after.out;
  EXPECT_NE(after.out.find("budget: none"), std::string::npos) << after.out;
  // fsck knows evicted bytes from lost ones, and repairs nothing.
  Outcome fsck = Pixvault({"fsck", "--json"});
  EXPECT_EQ(fsck.code, 0) << fsck.out;
  EXPECT_EQ(fsck.Json().at("evicted_blobs"), 1);
  EXPECT_EQ(Pixvault({"cache", "evict"}).code, 2);  // no budget anywhere
  EXPECT_EQ(Pixvault({"cache", "evict", "--budget", "lots"}).code, 2);
}

TEST_P(Cli, CacheEvictGivenTheProvidersAsksEachCopysProvider) {
  if (MediaFile("video.mp4").empty() || MediaFile("image.png").empty()) GTEST_SKIP();
  // A folder provider holding a copy of the clip only, though both are recorded as uploaded
  // under the local user's account (sealed as `account add` seals it).
  std::map<std::string, boost::json::value> assets = ClipAndStillRecordedAtCdn();
  if (HasFailure()) return;
  const std::filesystem::path toml = dir_.path() / "providers.toml";
  WriteFile(toml, CdnProviders());

  // Trusting the records, both could go; asked, the provider confirms the clip only.
  Outcome dry = Pixvault({"cache", "evict", "--budget", "0", "--dry-run", "--json"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.Json().at("evicted_blobs"), 2);
  Outcome evict =
      Pixvault({"cache", "evict", "--budget", "0", "--providers", toml.string(), "--json"});
  ASSERT_EQ(evict.code, 0) << evict.err;
  EXPECT_EQ(evict.Json().at("evicted_blobs"), 1);
  EXPECT_EQ(evict.Json().at("unverified_blobs"), 1);
  EXPECT_EQ(evict.Json().at("over_budget"), true);
  const std::string why(evict.Json().at("unverified_error").as_string());
  EXPECT_NE(
      why.find("asset " + std::to_string(assets["still.png"].at("id").as_int64()) + " at 'cdn'"),
      std::string::npos)
      << why;
  Outcome clip =
      Pixvault({"show", std::to_string(assets["clip.mp4"].at("id").as_int64()), "--json"});
  EXPECT_EQ(clip.Json().at("sync_status"), "remote");
  Outcome still =
      Pixvault({"show", std::to_string(assets["still.png"].at("id").as_int64()), "--json"});
  EXPECT_EQ(still.Json().at("sync_status"), "downloaded");
  EXPECT_EQ(BlobFiles(), 1);
  // The lost copy no longer counts, even for the CLI without the providers.
  Outcome status = Pixvault({"cache", "status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(status.Json().at("only_copy_blobs"), 1);
  EXPECT_EQ(status.Json().at("evictable_blobs"), 0);
  // The human output says what was kept and why; a providers file that cannot be read is an
  // error, not a fall-back to trusting the records.
  Outcome text = Pixvault({"cache", "evict", "--budget", "0", "--providers", toml.string()});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("evicted 0 blobs"), std::string::npos) << text.out;
  Outcome missing = Pixvault(
      {"cache", "evict", "--budget", "0", "--providers", (dir_.path() / "nope.toml").string()});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("nope.toml"), std::string::npos) << missing.err;
}

TEST_P(Cli, CacheCommandsReadTheServersConfigFile) {
  if (MediaFile("video.mp4").empty() || MediaFile("image.png").empty()) GTEST_SKIP();
  std::map<std::string, boost::json::value> assets = ClipAndStillRecordedAtCdn();
  if (HasFailure()) return;
  // The server's config: its budget and providers (and a data folder the flag overrides).
  const std::filesystem::path config = dir_.path() / "pixvault.toml";
  WriteFile(config, "cache_budget = \"0\"\ndata_dir = \"" + (dir_.path() / "elsewhere").string() +
                        "\"\n" + CdnProviders());
  Outcome status = Pixvault({"cache", "status", "--config", config.string(), "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(status.Json().at("budget"), 0);
  EXPECT_EQ(status.Json().at("local_blobs"), 2);
  EXPECT_EQ(status.Json().at("evictable_blobs"), 2);  // as recorded: status asks no provider
  // No --budget, no --providers: both from the config, and each copy is asked about.
  Outcome evict = Pixvault({"cache", "evict", "--config", config.string(), "--json"});
  ASSERT_EQ(evict.code, 0) << evict.err;
  EXPECT_EQ(evict.Json().at("evicted_blobs"), 1);
  EXPECT_EQ(evict.Json().at("unverified_blobs"), 1);
  EXPECT_EQ(evict.Json().at("budget"), 0);

  // Without --data-dir (and --db), the config's are used, as `serve` would.
  std::string own = "data_dir = \"" + data_.string() + "\"\n";
  if (pg_) own += "db = \"" + pg_->url() + "\"\n";
  WriteFile(config, own + CdnProviders());
  Outcome at_data =
      Exec({PIXVAULT_BINARY, "cache", "status", "--config", config.string(), "--json"});
  ASSERT_EQ(at_data.code, 0) << at_data.err;
  EXPECT_EQ(at_data.Json().at("local_blobs"), 1);
  EXPECT_TRUE(at_data.Json().at("budget").is_null());
  // A data folder without a database (a relative path read from elsewhere, a typo) is an
  // error, and no database is made there.
  if (!pg_) {
    const std::filesystem::path nowhere = dir_.path() / "nowhere";
    WriteFile(config, "data_dir = \"" + nowhere.string() + "\"\n");
    Outcome wrong =
        Exec({PIXVAULT_BINARY, "cache", "evict", "--budget", "0", "--config", config.string()});
    EXPECT_EQ(wrong.code, 3);
    EXPECT_NE(wrong.err.find("no pixvault database in " + nowhere.string()), std::string::npos)
        << wrong.err;
    EXPECT_FALSE(std::filesystem::exists(nowhere));
  }
  // A config the server would refuse is refused here too, naming the key.
  WriteFile(config, "colour = \"blue\"\n");
  Outcome bad = Pixvault({"cache", "status", "--config", config.string()});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("colour"), std::string::npos) << bad.err;
  Outcome missing = Pixvault({"cache", "evict", "--config", (dir_.path() / "nope.toml").string()});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("nope.toml"), std::string::npos) << missing.err;
}

TEST_P(Cli, CacheRecheckOriginsCountsLostOriginsAgain) {
  ASSERT_EQ(Pixvault({"ls"}).code, 0);  // the local user
  AssetId made = 0;
  {
    SystemClock clock;
    auto store = storage::OpenStore(StoreUrl(), clock);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    std::optional<ProviderAccount> account = AddLocalAccount(**store, "gen");
    ASSERT_TRUE(account.has_value());
    Asset generated;
    generated.user_id = account->user_id;
    generated.media_type = MediaType::kImage;
    generated.upload_method = UploadMethod::kProvider;
    generated.provider_id = "gen";
    generated.provider_asset_id = "gen_1";
    generated.provider_account_id = account->id;
    generated.sha256 = Sha256Hex("generated");
    auto created =
        (*store)->CreateAsset(generated, storage::BlobRef{*generated.sha256, 1, "local", {}});
    ASSERT_TRUE(created.has_value()) << created.error().message;
    made = created->asset.id;
    ASSERT_TRUE((*store)->ReportOriginMissing(made, "gen_1", 0).has_value());
    auto lost = (*store)->ReportOriginMissing(made, "gen_1", 0);
    ASSERT_TRUE(lost.has_value() && *lost);
  }
  Outcome before = Pixvault({"show", std::to_string(made), "--json"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_TRUE(before.Json().at("origin_lost_at").is_string());
  Outcome other = Pixvault({"cache", "recheck-origins", "--provider", "cdn", "--json"});
  ASSERT_EQ(other.code, 0) << other.err;
  EXPECT_EQ(other.Json().at("rechecked"), 0);
  Outcome recheck = Pixvault({"cache", "recheck-origins"});
  ASSERT_EQ(recheck.code, 0) << recheck.err;
  EXPECT_NE(recheck.out.find("1 lost origins"), std::string::npos) << recheck.out;
  Outcome after = Pixvault({"show", std::to_string(made), "--json"});
  EXPECT_TRUE(after.Json().at("origin_lost_at").is_null());
}

TEST_P(Cli, KeysArePrintedOnceListedByPrefixAndRevoked) {
  ASSERT_EQ(Pixvault({"user", "create", "alice"}).code, 0);
  Outcome made = Pixvault({"key", "create", "alice", "--label", "laptop"});
  ASSERT_EQ(made.code, 0) << made.err;
  // stdout is the key alone, so a script can capture it; the warning goes to stderr.
  ASSERT_FALSE(made.out.empty());
  std::string key = made.out.substr(0, made.out.size() - 1);
  EXPECT_EQ(made.out, key + "\n");
  EXPECT_EQ(key.size(), 47u);
  EXPECT_EQ(key.substr(0, 4), "pxv_");
  EXPECT_NE(made.err.find("will not be shown again"), std::string::npos) << made.err;

  Outcome json = Pixvault({"key", "create", "alice", "--label", "ci", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  boost::json::value ci = json.Json();
  std::string ci_key(ci.at("key").as_string());
  EXPECT_EQ(ci.at("user"), "alice");
  EXPECT_EQ(ci.at("label"), "ci");
  EXPECT_EQ(ci.at("prefix").as_string(), ci_key.substr(0, 12));
  EXPECT_NE(ci_key, key);
  std::int64_t ci_id = ci.at("id").as_int64();

  // Listings show each key by its prefix only.
  Outcome ls = Pixvault({"key", "ls", "alice"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find(key.substr(0, 12)), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(ci_key.substr(0, 12)), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("laptop"), std::string::npos);
  Outcome ls_json = Pixvault({"key", "ls", "alice", "--json"});
  ASSERT_EQ(ls_json.code, 0) << ls_json.err;
  boost::json::value listed = ls_json.Json();
  const auto& keys = listed.at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("prefix").as_string(), key.substr(0, 12));
  EXPECT_FALSE(keys[0].as_object().contains("key"));
  for (const Outcome& o : {ls, ls_json}) {
    EXPECT_EQ(o.out.find(key.substr(12)), std::string::npos);
    EXPECT_EQ(o.out.find(ci_key.substr(12)), std::string::npos);
  }
  if (!pg_) {
    // Stored hashed: the database files never contain the key.
    for (const char* file : {"pixvault.db", "pixvault.db-wal"}) {
      std::string bytes = ReadFile(data_ / file);
      EXPECT_EQ(bytes.find(key.substr(12)), std::string::npos) << file;
    }
  }

  Outcome revoke = Pixvault({"key", "revoke", std::to_string(ci_id)});
  EXPECT_EQ(revoke.code, 0) << revoke.err;
  EXPECT_NE(revoke.out.find("revoked"), std::string::npos);
  EXPECT_EQ(Pixvault({"key", "revoke", std::to_string(ci_id)}).code, 0);  // idempotent
  auto after = Pixvault({"key", "ls", "alice", "--json"}).Json().at("keys");
  EXPECT_TRUE(after.at(0).at("revoked_at").is_null());
  EXPECT_TRUE(after.at(1).at("revoked_at").is_string());

  // Unknown users and keys are "not found"; other users' keys are only an admin's business.
  Outcome no_user = Pixvault({"key", "create", "nobody"});
  EXPECT_EQ(no_user.code, 3);
  EXPECT_NE(no_user.err.find("nobody"), std::string::npos);
  EXPECT_EQ(Pixvault({"key", "revoke", "999"}).code, 3);
  EXPECT_EQ(Pixvault({"key", "ls", "nobody"}).code, 3);
  ASSERT_EQ(Pixvault({"user", "create", "bob"}).code, 0);
  EXPECT_EQ(Pixvault({"--user", "bob", "key", "create", "alice"}).code, 5);
  EXPECT_EQ(Pixvault({"--user", "bob", "key", "ls", "alice"}).code, 5);
  std::string laptop_id = std::to_string(keys[0].at("id").as_int64());
  EXPECT_EQ(Pixvault({"--user", "bob", "key", "revoke", laptop_id}).code, 3);
  Outcome own = Pixvault({"--user", "bob", "key", "create", "bob", "--json"});
  EXPECT_EQ(own.code, 0) << own.err;
  EXPECT_EQ(Pixvault({"--user", "alice", "key", "revoke", laptop_id}).code, 0);
  EXPECT_EQ(Pixvault({"key", "create"}).code, 2);
}

TEST_P(Cli, ProviderAccountsKeepTheirCredentialsSealed) {
  ASSERT_EQ(Pixvault({"user", "create", "alice"}).code, 0);
  ASSERT_EQ(Pixvault({"user", "create", "bob"}).code, 0);
  const std::string secret = "sk-cli-secret-98765";
  const std::filesystem::path creds = dir_.path() / "creds.json";
  WriteFile(creds, R"({"api_key": ")" + secret + R"("})");
  Outcome added = Pixvault({"--user", "alice", "--json", "account", "add", "runway", "work",
                            "--credentials-file", creds.string(), "--setting", "region=eu",
                            "--setting", "allow_downscale=true"});
  ASSERT_EQ(added.code, 0) << added.err;
  EXPECT_EQ(added.out.find(secret), std::string::npos);
  const std::int64_t id = added.Json().at("id").as_int64();
  EXPECT_EQ(added.Json().at("settings").at("region"), "eu");
  EXPECT_EQ(added.Json().at("settings").at("allow_downscale"), true);
  // The key that seals credentials was created beside the data, readable by its owner only.
  struct stat st {};
  ASSERT_EQ(::stat((data_ / "secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Outcome ls = Pixvault({"--user", "alice", "account", "ls"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find("runway"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("work"), std::string::npos);
  EXPECT_EQ(ls.out.find(secret), std::string::npos);
  if (!pg_) {
    for (const char* file : {"pixvault.db", "pixvault.db-wal"}) {
      EXPECT_EQ(ReadFile(data_ / file).find(secret), std::string::npos) << file;
    }
  }
  // Bob sees none of it and cannot remove it.
  Outcome bob_ls = Pixvault({"--user", "bob", "--json", "account", "ls"});
  EXPECT_EQ(bob_ls.Json().at("items").as_array().size(), 0u);
  EXPECT_EQ(Pixvault({"--user", "bob", "account", "rm", std::to_string(id)}).code, 3);

  // Bad input: the same label again, credentials that are not a JSON object, a missing file,
  // a malformed setting; none stores anything.
  Outcome again = Pixvault({"--user", "alice", "account", "add", "runway", "work",
                            "--credentials-file", creds.string()});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  const std::filesystem::path junk = dir_.path() / "junk.json";
  WriteFile(junk, "api_key=" + secret);
  Outcome not_json = Pixvault({"--user", "alice", "account", "add", "runway", "other",
                               "--credentials-file", junk.string()});
  EXPECT_NE(not_json.code, 0);
  EXPECT_EQ(not_json.err.find(secret), std::string::npos) << not_json.err;
  EXPECT_EQ(Pixvault({"--user", "alice", "account", "add", "runway", "other", "--credentials-file",
                      (dir_.path() / "none.json").string()})
                .code,
            3);
  EXPECT_NE(Pixvault({"--user", "alice", "account", "add", "runway", "other", "--credentials-file",
                      creds.string(), "--setting", "novalue"})
                .code,
            0);
  EXPECT_EQ(
      Pixvault({"--user", "alice", "--json", "account", "ls"}).Json().at("items").as_array().size(),
      1u);

  EXPECT_EQ(Pixvault({"--user", "alice", "account", "rm", std::to_string(id)}).code, 0);
  EXPECT_EQ(
      Pixvault({"--user", "alice", "--json", "account", "ls"}).Json().at("items").as_array().size(),
      0u);
}

TEST_P(Cli, BundleExportWritesAFolderReadyToShipThatTheExamplePlays) {
  if (MediaFile("video.mp4").empty() || MediaFile("video.webm").empty() ||
      MediaFile("video_audio.mp4").empty()) {
    GTEST_SKIP();
  }
  CopyMedia("video.mp4", "hall.mp4");
  CopyMedia("video_audio.mp4", "left.mp4");
  CopyMedia("video.webm", "right.webm");
  Outcome imp = Pixvault({"import", "--json", "--recursive", Input("").string()});
  ASSERT_EQ(imp.code, 0) << imp.err << imp.out;
  std::map<std::string, std::int64_t> ids;
  for (const auto& line : imp.Lines()) {
    ids[std::string(line.at("asset").at("original_filename").as_string())] =
        line.at("asset").at("id").as_int64();
  }
  ASSERT_EQ(ids.size(), 3u);
  // The CLI has no branch commands (the HTTP API does): the branch point and its variants
  // go straight into the same database, as the CLI's user.
  {
    SystemClock clock;
    auto store = storage::OpenStore(StoreUrl(), clock);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    auto local = (*store)->GetUserByName("local");
    ASSERT_TRUE(local.has_value());
    const Viewer me = Viewer::For(*local);
    Branch b;
    b.source_asset_id = ids["hall.mp4"];
    b.branch_time = 1.5;
    b.branch_name = "fork";
    auto branch = (*store)->CreateBranch(me, b);
    ASSERT_TRUE(branch.has_value()) << branch.error().message;
    for (const char* name : {"left.mp4", "right.webm"}) {
      BranchVariant v;
      v.branch_id = branch->id;
      v.variant_asset_id = ids[name];
      v.variant_name = name;
      ASSERT_TRUE((*store)->CreateVariant(me, v).has_value());
    }
  }
  const std::string root = std::to_string(ids["hall.mp4"]);
  const std::filesystem::path out = dir_.path() / "game";

  Outcome exported =
      Pixvault({"bundle", "export", root, "--out", out.string(), "--with-media", "--json"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.Json().at("nodes"), 3);
  EXPECT_EQ(exported.Json().at("media_files"), 3);
  // VP9 beside H.264 breaks seamless playback: reported, not fatal.
  EXPECT_EQ(exported.Json().at("validation_issues"), 1);
  EXPECT_NE(exported.err.find("validation: 1 issue"), std::string::npos) << exported.err;
  const boost::json::value bundle = boost::json::parse(ReadFile(out / "bundle.json"));
  const auto& issue = bundle.at("validation").at("issues").at(0);
  EXPECT_EQ(issue.at("kind"), "format_mismatch");
  EXPECT_EQ(issue.at("ids").at("node").as_int64(), ids["right.webm"]);
  for (const auto& node : bundle.at("nodes").as_array()) {
    const std::string file(node.at("file").as_string());
    EXPECT_EQ(file.rfind("media/", 0), 0u) << file;
    // The file is there, whole: its bytes hash to the node's sha256.
    EXPECT_EQ(Sha256Hex(ReadFile(out / file)), node.at("sha256").as_string()) << file;
  }
  EXPECT_EQ(CountFiles(out), 4);  // bundle.json and three media files, no temp files left
  EXPECT_NE(bundle.at("nodes").at(2).at("file").as_string().find(".webm"), std::string::npos);

  // The example program plays it: the branch point times out into a random variant, whose
  // node plays to its end.
  Outcome played = Exec({BUNDLE_PLAY_BINARY, (out / "bundle.json").string(), "--seed", "3"});
  EXPECT_EQ(played.code, 0) << played.out << played.err;
  EXPECT_NE(played.out.find("ended"), std::string::npos) << played.out;

  // Exporting again into the same folder keeps the media and replaces the bundle.
  EXPECT_EQ(Pixvault({"bundle", "export", root, "--out", out.string(), "--with-media"}).code, 0);
  EXPECT_EQ(CountFiles(out), 4);
  // Without --out, the bundle goes to stdout.
  Outcome printed = Pixvault({"bundle", "export", root});
  ASSERT_EQ(printed.code, 0) << printed.err;
  EXPECT_EQ(printed.Json().at("root").as_int64(), ids["hall.mp4"]);
  EXPECT_TRUE(printed.Json().at("nodes").at(0).at("file").is_null());

  // Bad requests: a clear message, a non-zero exit, nothing written.
  const std::filesystem::path nowhere = dir_.path() / "nowhere";
  Outcome unknown = Pixvault({"bundle", "export", "999999", "--out", nowhere.string()});
  EXPECT_EQ(unknown.code, 3);
  EXPECT_NE(unknown.err.find("not found"), std::string::npos) << unknown.err;
  EXPECT_FALSE(std::filesystem::exists(nowhere / "bundle.json"));
  Outcome no_out = Pixvault({"bundle", "export", root, "--with-media"});
  EXPECT_EQ(no_out.code, 2);
  EXPECT_NE(no_out.err.find("--out"), std::string::npos) << no_out.err;
  EXPECT_EQ(Pixvault({"bundle", "export"}).code, 2);
  EXPECT_EQ(Pixvault({"bundle", "export", "abc"}).code, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, Cli, ::testing::Values("sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

TEST(CliNoServer, UnreachableDatabaseFailsAndWritesNothing) {
  TempDir dir;
  std::filesystem::path data = dir.path() / "never-created";
  std::string cmd = std::string(PIXVAULT_BINARY) + " --data-dir " + data.string() +
                    " --db 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=2' import " +
                    dir.path().string() + " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 6);
  EXPECT_FALSE(std::filesystem::exists(data));
}

}  // namespace
}  // namespace pixvault::testing
