#include "media/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string_view>

namespace pixvault::media {
namespace {

// Wire format, child to parent: 8-byte little-endian length N, then N bytes: a tag byte and
// its payload. 'R' + answer; 'E' + one ErrorCode byte + message; 'M' (out of memory).
constexpr char kTagResult = 'R';
constexpr char kTagError = 'E';
constexpr char kTagMemory = 'M';
constexpr std::size_t kLengthBytes = 8;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// The parent's current virtual size, from /proc/self/statm (first field, in pages).
std::int64_t VirtualSizeBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return 0;
  long long pages = 0;
  const int n = std::fscanf(f, "%lld", &pages);
  std::fclose(f);
  if (n != 1) return 0;
  return static_cast<std::int64_t>(pages) * ::sysconf(_SC_PAGESIZE);
}

bool WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void WriteMessage(int fd, std::string_view body) {
  char length[kLengthBytes];
  std::uint64_t n = body.size();
  for (std::size_t i = 0; i < kLengthBytes; ++i) {
    length[i] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  if (WriteAll(fd, length, kLengthBytes)) WriteAll(fd, body.data(), body.size());
}

// Runs in the child; never returns.
[[noreturn]] void ChildMain(int fd, const ChildLimits& limits, std::int64_t inherited_bytes,
                            const std::function<Result<std::string>()>& work) {
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  if (limits.max_cpu_seconds > 0) {
    const auto cpu = static_cast<rlim_t>(limits.max_cpu_seconds);
    const rlimit r{cpu, cpu + 1};
    ::setrlimit(RLIMIT_CPU, &r);
  }
  if (limits.max_memory_bytes > 0 && !kAddressSanitizer) {
    const auto bytes = static_cast<rlim_t>(inherited_bytes + limits.max_memory_bytes);
    const rlimit r{bytes, bytes};
    ::setrlimit(RLIMIT_AS, &r);
  }
  int status = 0;
  try {
    Result<std::string> answer = work();
    if (answer) {
      std::string body(1, kTagResult);
      body += *answer;
      WriteMessage(fd, body);
    } else {
      std::string body(1, kTagError);
      body += static_cast<char>(answer.error().code);
      body += answer.error().message;
      WriteMessage(fd, body);
    }
  } catch (const std::bad_alloc&) {
    static constexpr char kMemory[] = {kTagMemory};
    WriteMessage(fd, std::string_view(kMemory, 1));
    status = 3;
  } catch (const std::exception& e) {
    std::string body(1, kTagError);
    body += static_cast<char>(ErrorCode::kInternal);
    body += std::string("parser threw: ") + e.what();
    WriteMessage(fd, body);
    status = 4;
  } catch (...) {
    std::string body(1, kTagError);
    body += static_cast<char>(ErrorCode::kInternal);
    body += "parser threw an unknown exception";
    WriteMessage(fd, body);
    status = 5;
  }
  ::_exit(status);
}

Error Parsing(std::string_view why) {
  return Error{ErrorCode::kCorrupt, "the model could not be parsed (" + std::string(why) + ")"};
}

// The complete message in `buffer`, once all of it has arrived.
std::optional<std::string_view> CompleteMessage(const std::string& buffer) {
  if (buffer.size() < kLengthBytes) return std::nullopt;
  std::uint64_t n = 0;
  for (std::size_t i = kLengthBytes; i-- > 0;) {
    n = (n << 8) | static_cast<unsigned char>(buffer[i]);
  }
  if (buffer.size() - kLengthBytes < n) return std::nullopt;
  return std::string_view(buffer).substr(kLengthBytes, n);
}

Result<std::string> DecodeMessage(std::string_view body) {
  if (body.empty()) return Fail(ErrorCode::kInternal, "empty answer from the parser process");
  switch (body[0]) {
    case kTagResult:
      return std::string(body.substr(1));
    case kTagMemory:
      return Fail(Parsing("memory limit"));
    case kTagError:
      if (body.size() >= 2) {
        const auto code = static_cast<unsigned char>(body[1]);
        if (code <= static_cast<unsigned char>(ErrorCode::kInternal)) {
          return Fail(static_cast<ErrorCode>(code), std::string(body.substr(2)));
        }
      }
      break;
    default:
      break;
  }
  return Fail(ErrorCode::kInternal, "malformed answer from the parser process");
}

}  // namespace

Result<std::string> RunInChild(const ChildLimits& limits,
                               const std::function<Result<std::string>()>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  const std::int64_t inherited = VirtualSizeBytes();
  const pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrorCode::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(fds[1], limits, inherited, work);
  }
  write_end.Reset();

  // Read until the whole message is in, the child is gone, or the deadline passes. Polling
  // waitpid as well as the pipe: a sibling child forked by another thread may hold a copy of
  // our write end, so end-of-file alone is not a reliable sign that our child has exited.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + limits.wall_timeout;
  std::string buffer;
  bool killed = false, reaped = false, too_long = false;
  int status = 0;
  char chunk[16384];
  for (;;) {
    if (CompleteMessage(buffer)) break;
    if (!reaped && ::waitpid(pid, &status, WNOHANG) == pid) reaped = true;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{read_end.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 50)));
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      const ssize_t n = ::read(read_end.get(), chunk, sizeof chunk);
      if (n < 0 && errno != EINTR && errno != EAGAIN) break;
      if (n == 0) {  // every writer is gone
        if (!reaped && ::waitpid(pid, &status, 0) == pid) reaped = true;
        break;
      }
      if (n > 0) buffer.append(chunk, static_cast<std::size_t>(n));
      if (buffer.size() > limits.max_answer_bytes + kLengthBytes) {
        too_long = true;
        break;
      }
    } else if (reaped) {
      break;  // exited and nothing more to read
    }
  }
  if (!reaped) {
    // Give a child that has answered a moment to exit; kill anything still running.
    const std::optional<std::string_view> done = CompleteMessage(buffer);
    const Clock::time_point grace =
        done ? std::min(deadline, Clock::now() + std::chrono::seconds(5)) : Clock::now();
    while (!reaped && Clock::now() < grace) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        reaped = true;
      } else {
        ::usleep(1000);
      }
    }
    if (!reaped) {
      ::kill(pid, SIGKILL);
      killed = true;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  if (too_long) return Fail(ErrorCode::kInternal, "the parser process answered too much");
  if (const std::optional<std::string_view> body = CompleteMessage(buffer)) {
    return DecodeMessage(*body);
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (killed) return Fail(Parsing("timed out"));
    if (sig == SIGXCPU) return Fail(Parsing("CPU limit"));
    if (sig == SIGKILL) return Fail(Parsing("killed: CPU limit or out of memory"));
    return Fail(Parsing("crashed: signal " + std::to_string(sig)));
  }
  if (killed) return Fail(Parsing("timed out"));
  // A library that calls exit(), or a sanitizer that reports a crash and exits.
  return Fail(
      Parsing("exited with status " + std::to_string(WEXITSTATUS(status)) + " without an answer"));
}

}  // namespace pixvault::media
