#include "http/http_fixture.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <thread>

#include "providers/folder_provider.h"
#include "service/auth.h"
#include "testing/test_media.h"

namespace pixvault::http::testing {

namespace {

int CountFiles(const std::filesystem::path& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file(ec) ? 1 : 0;
  }
  return n;
}

}  // namespace

boost::json::value ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) {
    ADD_FAILURE() << "not JSON (" << ec.message() << "): " << text.substr(0, 500);
    return nullptr;
  }
  return v;
}

std::string AssetPath(std::int64_t id) { return "/api/v1/assets/" + std::to_string(id); }

std::vector<std::int64_t> Sorted(std::vector<std::int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string WavBytes(int seed) {
  constexpr std::uint32_t kRate = 8000, kSamples = 4000;
  std::string out;
  auto put = [&out](std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  out += "RIFF";
  put(36 + kSamples * 2, 4);
  out += "WAVEfmt ";
  put(16, 4);
  put(1, 2);  // PCM
  put(1, 2);  // mono
  put(kRate, 4);
  put(kRate * 2, 4);
  put(2, 2);
  put(16, 2);
  out += "data";
  put(kSamples * 2, 4);
  for (std::uint32_t i = 0; i < kSamples; ++i) {
    auto sample =
        static_cast<std::uint32_t>((i * (static_cast<std::uint32_t>(seed) + 3) * 97) % 4000);
    put(sample, 2);
  }
  return out;
}

std::string ChunkedBody(std::string_view body, std::size_t piece) {
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    std::string_view chunk = body.substr(at, piece);
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    out += size;
    out += chunk;
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

std::string MultipartBody(std::string_view boundary,
                          const std::vector<std::pair<std::string, std::string>>& parts,
                          bool close) {
  std::string out;
  for (const auto& [headers, data] : parts) {
    out += "--" + std::string(boundary) + "\r\n" + headers + "\r\n\r\n" + data + "\r\n";
  }
  if (close) out += "--" + std::string(boundary) + "--\r\n";
  return out;
}

HttpTest::HttpTest() {
  server_options_.host = "127.0.0.1";
  server_options_.port = 0;
  server_options_.threads = 2;
  server_options_.header_timeout = 2 * kMicrosPerSecond;
  server_options_.body_timeout = 2 * kMicrosPerSecond;
  server_options_.idle_timeout = 2 * kMicrosPerSecond;
  server_options_.shutdown_grace = 2 * kMicrosPerSecond;
}

void HttpTest::SetUp() {
  StoreTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  // The server's store runs on real time (key last-use, asset times); the fixture's
  // ManualClock store is replaced by one on the same database.
  store_ = OpenAnother(system_clock_);
  ASSERT_NE(store_, nullptr);
  blob_dir_ = std::make_unique<pixvault::testing::TempDir>();
  auto blobs = blob::FsBlobStore::Create(env_, blob_dir_->path());
  ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
  blobs_ = std::move(*blobs);
  ingestor_ = std::make_unique<service::Ingestor>(*store_, *blobs_, system_clock_);
  derived_ = std::make_unique<blob::DerivedFiles>(blob_dir_->path());
  analyzer_ = std::make_unique<service::Analyzer>(*store_, *blobs_, *derived_, system_clock_);

  PV_ASSERT_OK_AND_ASSIGN(alice_, store_->CreateUser(User{0, "alice", false, false, 0}));
  PV_ASSERT_OK_AND_ASSIGN(bob_, store_->CreateUser(User{0, "bob", false, true, 0}));
  PV_ASSERT_OK_AND_ASSIGN(admin_, store_->CreateUser(User{0, "admin", true, false, 0}));
  PV_ASSERT_OK_AND_ASSIGN(auto alice_key, service::IssueApiKey(*store_, alice_.id, "test"));
  PV_ASSERT_OK_AND_ASSIGN(auto bob_key, service::IssueApiKey(*store_, bob_.id, "test"));
  PV_ASSERT_OK_AND_ASSIGN(auto admin_key, service::IssueApiKey(*store_, admin_.id, "test"));
  alice_key_ = alice_key.second;
  bob_key_ = bob_key.second;
  admin_key_ = admin_key.second;

  api_ = std::make_unique<ApiContext>(
      ApiContext{*store_, *blobs_, *ingestor_, system_clock_, metrics_, api_options_});
  api_->analyzer = analyzer_.get();
  api_->derived = derived_.get();
  auto cipher = service::CredentialCipher::FromHex(std::string(64, 'a'));
  ASSERT_TRUE(cipher.has_value());
  credentials_ = std::make_unique<service::CredentialCipher>(*cipher);
  api_->credentials = credentials_.get();
  PV_ASSERT_OK(providers_.Add(providers::MakeUserUploadProvider()));
  AddProviders(providers_);
  if (HasFatalFailure() || IsSkipped()) return;
  if (resolver_options_.temp_dir.empty()) resolver_options_.temp_dir = blob_dir_->path();
  resolver_ = std::make_unique<service::Resolver>(*store_, *blobs_, providers_, *credentials_,
                                                  system_clock_, resolver_options_);
  api_->resolver = resolver_.get();
  api_->providers = &providers_;
  RegisterRoutes(router_, *api_);
  storage::Store* store = store_.get();
  const Clock* clock = &system_clock_;
  // As `pixvault serve` runs with a database server: its work off the I/O threads.
  if (GetParam() == "postgres" && server_options_.database_threads == 0) {
    server_options_.database_threads = 4;
  }
  server_ = std::make_unique<Server>(
      router_,
      [store, clock](std::string_view header) {
        return service::AuthenticateBearer(*store, *clock, header);
      },
      metrics_, server_options_);
  PV_ASSERT_OK(server_->Start());
  ASSERT_NE(server_->port(), 0);
}

void HttpTest::TearDown() {
  if (server_) {
    server_->Stop();
    // No request of the test, however malformed, may have been answered with a 5xx.
    std::istringstream metrics(metrics_.Render());
    for (std::string line; std::getline(metrics, line);) {
      if (line.starts_with("pixvault_http_requests_total{")) {
        const bool allowed =
            provider_failures_expected_ && line.find("status=\"503\"") != std::string::npos;
        if (!allowed) {
          EXPECT_EQ(line.find("status=\"5"), std::string::npos) << line;
        }
      }
    }
    server_.reset();
  }
  api_.reset();
  ingestor_.reset();
  blobs_.reset();
  blob_dir_.reset();
  store_.reset();  // it borrows system_clock_, which goes before the base's members
  StoreTest::TearDown();
}

void HttpTest::CheckResponse(const HttpResponse& res, std::string_view what, bool head) {
  EXPECT_NE(res.status, 0) << what;
  EXPECT_LT(res.status, 500) << what << ": " << res.body;
  if (res.status >= 400) {
    EXPECT_TRUE(res.IsProblem()) << what << ": " << res.status << " " << res.body;
    if (!head) {
      EXPECT_NE(res.ProblemCode(), "") << what << ": " << res.body;
    }
  }
  // A JSON body is valid JSON, which includes being valid UTF-8.
  std::string type = res.Header("Content-Type").value_or("");
  if (!head && !res.body.empty() &&
      (type == "application/json" || type == "application/problem+json")) {
    boost::system::error_code ec;
    boost::json::parse(res.body, ec);
    EXPECT_FALSE(ec) << what << ": the " << type << " body is not valid JSON (" << ec.message()
                     << "): " << res.body.substr(0, 300);
  }
}

HttpResponse HttpTest::Call(std::string method, std::string target, std::string_view key,
                            std::string body, std::vector<Header> headers) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.headers = std::move(headers);
  if (!key.empty()) req.headers.emplace_back("Authorization", Bearer(key));
  req.body = std::move(body);
  auto res = Fetch(port(), req);
  std::string what = req.method + " " + req.target;
  if (!res) {
    ADD_FAILURE() << what << ": " << res.error().message;
    return HttpResponse{};
  }
  if (provider_failures_expected_ && res->status == 503) {
    // A provider that keeps failing: still a problem document with a code.
    EXPECT_TRUE(res->IsProblem()) << what << ": " << res->body;
    EXPECT_EQ(res->ProblemCode(), "unavailable") << what << ": " << res->body;
  } else {
    CheckResponse(*res, what, req.method == "HEAD");
  }
  return std::move(*res);
}

HttpResponse HttpTest::UploadRaw(std::string_view key, std::string bytes, std::string_view query,
                                 std::string content_type) {
  std::string target = "/api/v1/assets/upload";
  if (!query.empty()) target += "?" + std::string(query);
  return Call("POST", target, key, std::move(bytes), {{"Content-Type", std::move(content_type)}});
}

std::string HttpTest::MediaBytes(std::string_view name) {
  auto path = media::testing::MediaFile(name);
  if (path.empty()) return "";
  return pixvault::testing::ReadFile(path);
}

std::int64_t HttpTest::UploadMedia(std::string_view key, std::string_view name,
                                   std::string_view query) {
  std::string bytes = MediaBytes(name);
  if (bytes.empty()) {
    ADD_FAILURE() << "cannot generate " << name;
    return 0;
  }
  HttpResponse res = UploadRaw(key, std::move(bytes), query);
  if (res.status != 201 && res.status != 200) {
    ADD_FAILURE() << "upload of " << name << ": " << res.status << " " << res.body;
    return 0;
  }
  boost::json::value v = ParseJson(res.body);
  if (!v.is_object()) return 0;
  return v.at("asset").at("id").to_number<std::int64_t>();
}

std::vector<std::int64_t> HttpTest::ListIds(std::string_view key, std::string_view query) {
  std::vector<std::int64_t> ids;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string target = "/api/v1/assets?limit=200";
    if (!query.empty()) target += "&" + std::string(query);
    if (!cursor.empty()) target += "&cursor=" + cursor;
    HttpResponse res = Call("GET", target, key);
    if (res.status != 200) {
      ADD_FAILURE() << target << ": " << res.status << " " << res.body;
      break;
    }
    boost::json::value v = ParseJson(res.body);
    if (!v.is_object()) break;
    for (const auto& item : v.at("items").as_array()) {
      ids.push_back(item.at("id").to_number<std::int64_t>());
    }
    const auto& next = v.at("next_cursor");
    if (next.is_null()) break;
    cursor = std::string(next.as_string());
  }
  return ids;
}

std::int64_t HttpTest::UploadWav(std::string_view key, int seed, std::string_view query) {
  HttpResponse res = UploadRaw(key, WavBytes(seed), query);
  if (res.status != 201) {
    ADD_FAILURE() << "upload: " << res.status << " " << res.body;
    return 0;
  }
  boost::json::value v = ParseJson(res.body);
  return v.is_object() ? v.at("asset").at("id").to_number<std::int64_t>() : 0;
}

boost::json::value HttpTest::GetJson(std::string_view key, std::int64_t id) {
  HttpResponse res = Call("GET", AssetPath(id), key);
  EXPECT_EQ(res.status, 200) << res.body;
  return ParseJson(res.body);
}

HttpResponse HttpTest::Patch(std::string_view key, std::int64_t id, std::string body) {
  return Call("PATCH", AssetPath(id), key, std::move(body), {{"Content-Type", "application/json"}});
}

int HttpTest::BlobFiles() const { return CountFiles(blob_dir_->path() / "blobs"); }

int HttpTest::TempFiles() const { return CountFiles(blobs_->temp_dir()); }

bool HttpTest::Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void HttpTest::ExpectNothingStored() {
  auto page = store_->ListAssets(Viewer{0, true, true}, {}, storage::PageRequest{10, {}});
  ASSERT_TRUE(page.has_value()) << page.error().message;
  EXPECT_TRUE(page->items.empty()) << page->items.size() << " assets stored";
  EXPECT_EQ(BlobFiles(), 0);
  // The upload's temp file goes when the server drops the request, which may be just after
  // the response was sent.
  EXPECT_TRUE(Eventually([this] { return TempFiles() == 0; })) << TempFiles() << " temp files";
}

}  // namespace pixvault::http::testing
