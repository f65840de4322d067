// The pixvault-fakeprovider executable end to end: started as a process, used over HTTP,
// stopped with SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "http/http_client.h"
#include "testing/temp_dir.h"

namespace pixvault::providers::fake {
namespace {

// Reads from `fd` until a newline or `timeout_ms` passes; the line without its newline.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  char c = 0;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    if (read(fd, &c, 1) != 1 || c == '\n') break;
    line += c;
  }
  return line;
}

TEST(FakeProviderMain, ServesUntilSigterm) {
  testing::TempDir dir;
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {
      PIXVAULT_FAKEPROVIDER_BINARY, "--listen", "127.0.0.1:0", "--data",
      (dir / "data").string(),      "--token",  "t1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);

  const std::string line = ReadLine(out[0], 20'000);
  close(out[0]);
  const auto colon = line.rfind(':');
  ASSERT_NE(colon, std::string::npos) << line;
  const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));

  http::testing::HttpRequest up;
  up.method = "POST";
  up.target = "/v1/files";
  up.body = "bytes";
  up.headers = {{"Authorization", "Bearer t1"}};
  auto created = http::testing::Fetch(port, up);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  http::testing::HttpRequest get;
  get.target = "/v1/files/file_1/content";
  get.headers = {{"Authorization", "Bearer t1"}};
  auto content = http::testing::Fetch(port, get);
  ASSERT_TRUE(content);
  EXPECT_EQ(content->body, "bytes");

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace pixvault::providers::fake
