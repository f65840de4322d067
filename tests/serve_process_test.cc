// `pixvault serve` as real processes sharing one database and data folder, against the fake
// provider server: two processes resolving one asset upload it once; a server killed in the
// middle of a generation job and started again finishes the job, leaving no partial file.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "http/http_client.h"
#include "providers/fake/fake_provider.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

extern char** environ;

namespace pixvault::testing {
namespace {

namespace json = boost::json;
using http::testing::Fetch;
using http::testing::HttpRequest;
using http::testing::HttpResponse;

constexpr const char* kToken = "process-test-token-5150";

int CountFiles(const std::filesystem::path& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file() ? 1 : 0;
  }
  return n;
}

// One `pixvault serve` child process.
class ServeProcess {
 public:
  ServeProcess(std::vector<std::string> argv, std::filesystem::path log) : log_(std::move(log)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    if (posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServeProcess() { Kill(SIGKILL); }

  // The port from the "serving http://HOST:PORT" line; 0 when it did not start within 20 s.
  std::uint16_t WaitForPort() {
    const std::regex serving("serving http://[^:]+:([0-9]+)");
    for (int i = 0; i < 400 && pid_ != 0; ++i) {
      std::ifstream in(log_);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::smatch m;
      if (std::regex_search(text, m, serving)) {
        return static_cast<std::uint16_t>(std::stoi(m[1].str()));
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  void Kill(int signal) {
    if (pid_ == 0) return;
    ::kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  std::string Log() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = 0;
};

class ServeProcesses : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      PV_REQUIRE_POSTGRES_OR_SKIP();
      auto scratch = ScratchPostgresDatabase::Create(*TestPostgresUrl());
      ASSERT_TRUE(scratch.has_value()) << scratch.error().message;
      pg_ = std::move(*scratch);
    }
    data_ = dir_.path() / "data";
    providers::fake::FakeProviderOptions o;
    o.data_dir = dir_.path() / "fake";
    o.tokens = {kToken};
    fake_ = std::make_unique<providers::fake::FakeProvider>(o);
    ASSERT_TRUE(fake_->Start().has_value());
    WriteFile(dir_.path() / "providers.toml",
              "[providers.fake]\ntype = \"http\"\nbase_url = \"" + fake_->base_url() +
                  "\"\nauth_value = \"Bearer {api_key}\"\n"
                  "operations = [\"text_to_video\", \"text_to_image\"]\n");
    ASSERT_EQ(Pixvault({"user", "create", "alice"}), 0);
    WriteFile(dir_.path() / "creds.json", std::string(R"({"api_key": ")") + kToken + "\"}");
    ASSERT_EQ(Pixvault({"--user", "alice", "account", "add", "fake", "main", "--credentials-file",
                        (dir_.path() / "creds.json").string()}),
              0);
    ASSERT_EQ(Pixvault({"key", "create", "alice"}, &key_), 0);
    while (!key_.empty() && (key_.back() == '\n' || key_.back() == '\r')) key_.pop_back();
  }

  void TearDown() override {
    if (fake_) fake_->Stop();
  }

  std::vector<std::string> Base() {
    std::vector<std::string> argv{PIXVAULT_BINARY, "--data-dir", data_.string()};
    if (pg_) {
      argv.push_back("--db");
      argv.push_back(pg_->url());
    }
    return argv;
  }

  // Runs the CLI; its stdout into `out` when given.
  int Pixvault(std::vector<std::string> args, std::string* out = nullptr) {
    std::vector<std::string> argv = Base();
    argv.insert(argv.end(), args.begin(), args.end());
    const std::filesystem::path out_file = dir_.path() / "cli.out";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    if (out != nullptr) *out = ReadFile(out_file);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::unique_ptr<ServeProcess> Serve(const std::string& name) {
    std::vector<std::string> argv = Base();
    for (const char* a : {"serve", "--listen", "127.0.0.1:0", "--providers"}) argv.emplace_back(a);
    argv.push_back((dir_.path() / "providers.toml").string());
    return std::make_unique<ServeProcess>(argv, dir_.path() / (name + ".log"));
  }

  HttpResponse Call(std::uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.headers = {{"Authorization", "Bearer " + key_}};
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    req.body = body;
    auto res = Fetch(port, req);
    if (!res) {
      ADD_FAILURE() << method << " " << target << ": " << res.error().message;
      return HttpResponse{};
    }
    return *res;
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::unique_ptr<ScratchPostgresDatabase> pg_;
  std::unique_ptr<providers::fake::FakeProvider> fake_;
  std::string key_;
};

TEST_P(ServeProcesses, TwoProcessesResolvingOneAssetUploadItOnce) {
  const std::filesystem::path media = media::testing::MediaFile("image.png");
  if (media.empty()) GTEST_SKIP() << "ffmpeg cannot make image.png";
  ASSERT_EQ(Pixvault({"--user", "alice", "import", media.string()}), 0);
  auto one = Serve("one");
  auto two = Serve("two");
  const std::uint16_t p1 = one->WaitForPort();
  const std::uint16_t p2 = two->WaitForPort();
  ASSERT_NE(p1, 0) << one->Log();
  ASSERT_NE(p2, 0) << two->Log();
  {
    auto f = fake_->faults().Get();
    f.latency_ms = 300;  // the first upload takes a while: the others must wait for it
    fake_->faults().Set(f);
  }
  std::vector<std::thread> threads;
  std::vector<HttpResponse> answers(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      answers[static_cast<std::size_t>(i)] =
          Call(i % 2 == 0 ? p1 : p2, "GET", "/api/v1/assets/1/providers/fake");
    });
  }
  for (auto& t : threads) t.join();
  std::string ref;
  for (const HttpResponse& a : answers) {
    ASSERT_EQ(a.status, 200) << a.body << "\n" << one->Log() << two->Log();
    const std::string got(json::parse(a.body).at("provider_ref").as_string());
    if (ref.empty()) ref = got;
    EXPECT_EQ(got, ref);
    EXPECT_EQ(a.body.find(kToken), std::string::npos);
  }
  EXPECT_EQ(fake_->stats().total.upload_requests, 1);
  EXPECT_EQ(fake_->stats().total.uploads, 1);
  one->Kill(SIGTERM);
  two->Kill(SIGTERM);
  // Credentials never reach a log.
  EXPECT_EQ(one->Log().find(kToken), std::string::npos);
  EXPECT_EQ(two->Log().find(kToken), std::string::npos);
}

TEST_P(ServeProcesses, AServerKilledMidJobFinishesItAfterARestart) {
  ::setenv("PIXVAULT_JOB_LEASE_SEC", "3", 1);
  auto first = Serve("first");
  const std::uint16_t port = first->WaitForPort();
  ASSERT_NE(port, 0) << first->Log();
  {
    // The provider's job finishes at once, but every request then takes 2 s: the server is
    // killed while it waits for the output's bytes.
    auto f = fake_->faults().Get();
    f.latency_ms = 2000;
    fake_->faults().Set(f);
  }
  HttpResponse queued = Call(port, "POST", "/api/v1/jobs",
                             R"({"provider_id":"fake","operation_type":"text_to_video",)"
                             R"("params":{"duration_s":2,"width":320,"height":240}})");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::int64_t job = json::parse(queued.body).at("id").as_int64();
  // Wait until the output's download is under way (the job recorded the provider's job and
  // the fake has a content request in flight), then kill -9.
  bool downloading = false;
  for (int i = 0; i < 300 && !downloading; ++i) {
    downloading = fake_->stats().total.download_requests > 0;
    if (!downloading) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(downloading) << first->Log();
  first->Kill(SIGKILL);
  {
    auto f = fake_->faults().Get();
    f.latency_ms = 0;
    fake_->faults().Set(f);
  }
  auto second = Serve("second");
  const std::uint16_t port2 = second->WaitForPort();
  ASSERT_NE(port2, 0) << second->Log();
  std::string status;
  json::value last;
  for (int i = 0; i < 600 && status != "succeeded" && status != "failed" && status != "dead"; ++i) {
    HttpResponse res = Call(port2, "GET", "/api/v1/jobs/" + std::to_string(job));
    ASSERT_EQ(res.status, 200) << res.body;
    last = json::parse(res.body);
    status = std::string(last.at("status").as_string());
    if (status != "succeeded") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(status, "succeeded") << json::serialize(last) << "\n" << second->Log();
  EXPECT_EQ(last.at("attempts").as_int64(), 2);    // the killed attempt, then this one
  EXPECT_EQ(fake_->stats().total.generations, 1);  // not submitted twice
  const std::int64_t asset =
      last.at("result").at("outputs").as_array()[0].at("asset_id").as_int64();
  HttpResponse file = Call(port2, "GET", "/api/v1/assets/" + std::to_string(asset) + "/file");
  ASSERT_EQ(file.status, 200);
  EXPECT_GT(file.body.size(), 1000u);
  // No partial download or temp blob is left behind.
  EXPECT_EQ(CountFiles(data_ / "transfers"), 0);
  EXPECT_EQ(CountFiles(data_ / "tmp"), 0);
  second->Kill(SIGTERM);
  ::unsetenv("PIXVAULT_JOB_LEASE_SEC");
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeProcesses, ::testing::Values("sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace pixvault::testing
