#include "providers/provider_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "providers/fake/fake_provider.h"
#include "providers/folder_provider.h"
#include "providers/provider_config_toml.h"
#include "providers/raw_server_testing.h"
#include "testing/temp_dir.h"

namespace pixvault::providers {
namespace {

using pixvault::testing::RawServer;
using pixvault::testing::ReadFile;
using pixvault::testing::Reply;
using pixvault::testing::TempDir;
using pixvault::testing::WriteFile;

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// The README's walk-through configuration loads as it is.
TEST(ProviderConfig, TheDemoExampleLoads) {
  auto registry =
      LoadProviderRegistryFile(std::string(PIXVAULT_SOURCE_DIR) + "/examples/providers-demo.toml");
  ASSERT_TRUE(registry) << registry.error().message;
  EXPECT_EQ((*registry)->Ids(), (std::vector<std::string>{"studio-a", "studio-b", "user_upload"}));
  EXPECT_EQ((*registry)->Find("studio-b")->capabilities().max_pixels, 2073600);
  EXPECT_EQ((*registry)->Find("studio-b")->capabilities().operations.size(), 2u);
}

// The example shipped in examples/, pointed at a live fake provider and a temp folder.
TEST(ProviderConfig, TheExampleLoadsAndWorksAgainstTheFakeProvider) {
  TempDir dir;
  fake::FakeProviderOptions options;
  options.data_dir = dir / "fake";
  options.tokens = {"alice-secret"};
  fake::FakeProvider fake(options);
  ASSERT_TRUE(fake.Start());

  std::string text = ReadFile(std::string(PIXVAULT_SOURCE_DIR) + "/examples/providers-fake.toml");
  text = Replace(text, "http://127.0.0.1:9100", fake.base_url());
  text = Replace(text, "/tmp/pixvault-example-cdn", (dir / "cdn").string());
  WriteFile(dir / "providers.toml", text);
  auto registry = LoadProviderRegistryFile(dir / "providers.toml");
  ASSERT_TRUE(registry) << registry.error().message;
  EXPECT_EQ((*registry)->Ids(), (std::vector<std::string>{"fake", "game-cdn", "user_upload"}));

  auto provider = (*registry)->Find("fake");
  ASSERT_NE(provider, nullptr);
  const Capabilities& c = provider->capabilities();
  EXPECT_EQ(c.media_types, (std::vector<MediaType>{MediaType::kImage, MediaType::kVideo}));
  EXPECT_EQ(c.max_bytes, 1073741824);
  EXPECT_EQ(c.operations.size(), 4u);

  WriteFile(dir / "in.png", "png bytes");
  UploadFile file;
  file.path = dir / "in.png";
  file.size = 9;
  file.sha256 = std::string(64, 'c');
  file.content_type = "image/png";
  file.filename = "in.png";
  AccountAccess alice;
  alice.account_id = 1;
  alice.credentials["api_key"] = "alice-secret";
  auto ref = provider->Upload(alice, file);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_TRUE(provider->Check(alice, *ref));
  auto job = provider->Submit(alice, "text_to_image", {}, "");
  ASSERT_TRUE(job) << job.error().message;
  auto status = provider->Poll(alice, *job);
  ASSERT_TRUE(status) << status.error().message;

  auto cdn = (*registry)->Find("game-cdn");
  ASSERT_NE(cdn, nullptr);
  auto copied = cdn->Upload(alice, file);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(copied->url, "https://cdn.example.com/game/" + std::string(64, 'c') + ".png");
  EXPECT_EQ(ReadFile(dir / "cdn" / copied->ref), "png bytes");
  EXPECT_NE((*registry)->Find("user_upload"), nullptr);
}

// Non-default keys reach the adapter: multipart upload with fields and pointers, custom
// statuses, refusal statuses and the auth template.
TEST(ProviderConfig, CustomKeysShapeTheRequestsAndAnswers) {
  std::string answer;
  RawServer server([&](const std::string&, const std::string&) { return answer; });
  const std::string text = R"([providers.acme]
type = "http"
base_url = ")" + server.Url("/api") +
                           R"("
auth_header = "X-Api-Key"
auth_value = "key-{key}"
operations = ["render"]
timeout_s = 0.5
refusal_statuses = [451]
error_pointer = "/problem/text"
[providers.acme.upload]
method = "PUT"
path = "/up?kind=media"
body = "multipart"
field = "media"
ref_pointer = "/data/name"
url_pointer = ""
expires_pointer = "/data/ttl_end"
[providers.acme.upload.fields]
purpose = "gen-{media_type}"
[providers.acme.submit]
path = "/jobs"
idempotency_header = "X-Request-Id"
[providers.acme.poll]
path = "/jobs/{job}/state"
status_pointer = "/state"
outputs_pointer = "/files"
output_ref_pointer = ""
[providers.acme.poll.states]
succeeded = ["READY"]
)";
  auto registry = LoadProviderRegistryText(text);
  ASSERT_TRUE(registry) << registry.error().message;
  auto acme = (*registry)->Find("acme");
  ASSERT_NE(acme, nullptr);
  TempDir dir;
  WriteFile(dir / "in.mp4", "mp4 bytes");
  UploadFile file;
  file.path = dir / "in.mp4";
  file.size = 9;
  file.sha256 = std::string(64, 'd');
  file.content_type = "video/mp4";
  file.filename = "in.mp4";
  file.media_type = MediaType::kVideo;
  AccountAccess account;
  account.credentials["key"] = "k-77-secret";

  answer = Reply(200, R"({"data":{"name":"m-1","ttl_end":1800000000}})");
  auto ref = acme->Upload(account, file);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->ref, "m-1");
  EXPECT_EQ(ref->url, "");
  EXPECT_EQ(ref->expires_at, Timestamp{1800000000} * kMicrosPerSecond);
  EXPECT_EQ(server.last_head().rfind("PUT /api/up?kind=media HTTP/1.1", 0), 0u);
  EXPECT_NE(server.last_head().find("X-Api-Key: key-k-77-secret"), std::string::npos);
  EXPECT_NE(server.last_body().find("name=\"purpose\"\r\n\r\ngen-video\r\n"), std::string::npos);
  EXPECT_NE(server.last_body().find("name=\"media\"; filename=\"in.mp4\""), std::string::npos);

  answer = Reply(451, R"({"problem":{"text":"not here"}})");
  auto refused = acme->Upload(account, file);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message.find("not here"), std::string::npos);
  answer = Reply(422, R"({"problem":{"text":"bad"}})");  // no longer a refusal status
  auto bad = acme->Upload(account, file);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  answer = Reply(200, R"({"state":"READY","files":["f-9","f-10"]})");
  auto status = acme->Poll(account, "j/1");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(server.last_head().rfind("GET /api/jobs/j%2F1/state HTTP/1.1", 0), 0u);
  EXPECT_EQ(status->state, GenerationState::kSucceeded);
  ASSERT_EQ(status->outputs.size(), 2u);
  EXPECT_EQ(status->outputs[1].ref, "f-10");
  answer = Reply(200, R"({"state":"succeeded","files":[]})");  // the default name is replaced
  auto unknown = acme->Poll(account, "j");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnavailable);

  answer = Reply(202, R"({"id":"j-5"})");
  auto job = acme->Submit(account, "render", {}, "pv-9");
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(*job, "j-5");
  EXPECT_EQ(server.last_head().rfind("POST /api/jobs HTTP/1.1", 0), 0u);
  EXPECT_NE(server.last_head().find("\nX-Request-Id: pv-9"), std::string::npos)
      << server.last_head();
  EXPECT_EQ(server.last_head().find("Idempotency-Key"), std::string::npos);

  answer = "";  // hangs: timeout_s = 0.5
  auto hung = acme->Check(account, *ref);
  ASSERT_FALSE(hung);
  EXPECT_EQ(hung.error().code, ErrorCode::kUnavailable);
}

TEST(ProviderConfig, MinimalConfigsAndNoProvidersAtAll) {
  auto none = LoadProviderRegistryText("listen = \"127.0.0.1:8080\"\n");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ((*none)->Ids(), std::vector<std::string>{"user_upload"});

  auto minimal = LoadProviderRegistryText(
      "[providers.p1]\ntype = \"http\"\nbase_url = \"https://api.example.com/v2\"\n");
  ASSERT_TRUE(minimal) << minimal.error().message;
  ASSERT_NE((*minimal)->Find("p1"), nullptr);
  EXPECT_TRUE((*minimal)->Find("p1")->capabilities().operations.empty());

  toml::table table = toml::parse("[p2]\ntype = \"http\"\nbase_url = \"http://x:1\"\n");
  auto from_table = LoadProviderRegistry(table);
  ASSERT_TRUE(from_table) << from_table.error().message;
  EXPECT_NE((*from_table)->Find("p2"), nullptr);

  auto missing = LoadProviderRegistryFile("/nonexistent/providers.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(ProviderConfig, EveryBadConfigNamesItsKey) {
  TempDir dir;
  const std::string http = "type = \"http\"\nbase_url = \"http://127.0.0.1:9\"\n";
  const std::pair<std::string, std::string> cases[] = {
      {"[providers.p]\ntype = \"ftp\"\n", "providers.p.type"},
      {"[providers.p]\nbase_url = \"http://x\"\n", "providers.p.type"},
      {"[providers.p]\ntype = 3\n", "providers.p.type"},
      {"[providers.p]\ntype = \"http\"\n", "providers.p.base_url"},
      {"[providers.p]\ntype = \"http\"\nbase_url = \"gopher://x\"\n", "providers.p.base_url"},
      {"[providers.p]\ntype = \"http\"\nbase_url = 7\n", "providers.p.base_url"},
      {"[providers.p]\n" + http + "colour = \"red\"\n", "providers.p.colour"},
      {"[providers.p]\n" + http + "timeout_s = \"fast\"\n", "providers.p.timeout_s"},
      {"[providers.p]\n" + http + "timeout_s = 0\n", "providers.p.timeout_s"},
      {"[providers.p]\n" + http + "max_bytes = -5\n", "providers.p.max_bytes"},
      {"[providers.p]\n" + http + "max_bytes = 1.5\n", "providers.p.max_bytes"},
      {"[providers.p]\n" + http + "media_types = [\"smell\"]\n", "providers.p.media_types"},
      {"[providers.p]\n" + http + "media_types = \"image\"\n", "providers.p.media_types"},
      {"[providers.p]\n" + http + "operations = [1]\n", "providers.p.operations"},
      {"[providers.p]\n" + http + "refusal_statuses = [\"422\"]\n", "providers.p.refusal_statuses"},
      {"[providers.p]\n" + http + "auth_value = \"Bearer {api-key}\"\n", "providers.p.auth_value"},
      {"[providers.p]\n" + http + "[providers.p.upload]\nbody = \"form\"\n",
       "providers.p.upload.body"},
      {"[providers.p]\n" + http + "[providers.p.upload]\nref_pointer = \"id\"\n",
       "providers.p.upload.ref_pointer"},
      {"[providers.p]\n" + http + "[providers.p.upload]\nshape = 1\n", "providers.p.upload.shape"},
      {"[providers.p]\n" + http + "[providers.p.upload.fields]\nx = 1\n",
       "providers.p.upload.fields.x"},
      {"[providers.p]\n" + http + "[providers.p.download]\npath = \"/f/{job}\"\n",
       "providers.p.download.path"},
      {"[providers.p]\n" + http + "[providers.p.delete]\nmethod = \"PURGE\"\n",
       "providers.p.delete.method"},
      {"[providers.p]\n" + http + "[providers.p.poll]\nstatus_pointer = \"/a~9\"\n",
       "providers.p.poll.status_pointer"},
      {"[providers.p]\n" + http + "[providers.p.poll.states]\ndone = [\"ok\"]\n",
       "providers.p.poll.states.done"},
      {"[providers.p]\n" + http + "upload = \"POST /\"\n", "providers.p.upload"},
      {"[providers.p]\ntype = \"folder\"\n", "providers.p.root"},
      {"[providers.p]\ntype = \"folder\"\nroot = \"/tmp\"\nbase_url = \"ftp://x/\"\n",
       "providers.p.base_url"},
      {"[providers.p]\ntype = \"folder\"\nroot = \"/tmp\"\noperations = []\n",
       "providers.p.operations"},
      {"[providers.Big]\n" + http, "providers.Big"},
      {"[providers._x]\n" + http, "providers._x"},
      {"[providers.user_upload]\n" + http, "providers.user_upload"},
      {"[providers.\"" + std::string(65, 'a') + "\"]\n" + http, "providers.aaaa"},
      {"providers = 3\n", "providers"},
      {"[providers]\np = \"http\"\n", "providers.p"},
  };
  for (const auto& [text, key] : cases) {
    auto r = LoadProviderRegistryText(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
    EXPECT_EQ(r.error().message.rfind(key, 0), 0u) << text << "\n=> " << r.error().message;
  }
  auto syntax = LoadProviderRegistryText("[providers.p\n");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(syntax.error().message.find("line 1"), std::string::npos) << syntax.error().message;
}

TEST(ProviderConfig, ProviderIds) {
  EXPECT_TRUE(IsValidProviderId("fake"));
  EXPECT_TRUE(IsValidProviderId("0pixverse.v4_b-2"));
  EXPECT_TRUE(IsValidProviderId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidProviderId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidProviderId(""));
  EXPECT_FALSE(IsValidProviderId("-x"));
  EXPECT_FALSE(IsValidProviderId("a/b"));
  EXPECT_FALSE(IsValidProviderId("user_upload"));
}

}  // namespace
}  // namespace pixvault::providers
