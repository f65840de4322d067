#include "bench/cli_reference.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace pixvault::bench {
namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A script file in $TMPDIR, removed when this goes out of scope.
class TempScript {
 public:
  explicit TempScript(const std::string& text) {
    const char* dir = std::getenv("TMPDIR");
    std::string templ = std::string(dir && *dir ? dir : "/tmp") + "/pixvault-bench-XXXXXX";
    int fd = ::mkstemp(templ.data());
    if (fd >= 0) {
      ::close(fd);
      path_ = templ;
      std::ofstream(path_) << text;
    }
  }
  ~TempScript() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempScript(const TempScript&) = delete;
  TempScript& operator=(const TempScript&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct RunResult {
  std::string output;  // stdout and stderr
  double wall_ms = 0;
};

Result<RunResult> Run(const std::string& command) {
  RunResult r;
  auto start = std::chrono::steady_clock::now();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return Fail(ErrorCode::kUnavailable, "cannot run: " + command);
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(
        ErrorCode::kUnavailable,
        command + " failed: " + r.output.substr(0, std::min<std::size_t>(r.output.size(), 2000)));
  }
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

Result<ShellTiming> TimeSqliteShell(const std::string& db_path, const Iterations& iterations,
                                    int repeats) {
  std::string full = ".bail on\n.output /dev/null\n";
  for (const auto& it : iterations) {
    for (const auto& stmt : it) full += stmt + "\n";
  }
  const std::string empty = ".bail on\n.output /dev/null\nSELECT count(*) FROM sqlite_schema;\n";
  TempScript full_script(full), empty_script(empty);
  if (full_script.path().empty() || empty_script.path().empty()) {
    return Fail(ErrorCode::kUnavailable, "cannot create a temp file for sqlite3");
  }
  const std::string base = "sqlite3 -batch " + ShellQuote(db_path) + " < ";
  std::vector<double> full_ms, empty_ms;
  for (int i = 0; i < repeats; ++i) {
    PV_ASSIGN_OR_RETURN(RunResult f, Run(base + ShellQuote(full_script.path())));
    if (!f.output.empty()) return Fail(ErrorCode::kUnavailable, "sqlite3: " + f.output);
    full_ms.push_back(f.wall_ms);
    PV_ASSIGN_OR_RETURN(RunResult e, Run(base + ShellQuote(empty_script.path())));
    empty_ms.push_back(e.wall_ms);
  }
  ShellTiming t;
  t.tool = "sqlite3";
  t.mean_ms = std::max(0.0, Median(full_ms) - Median(empty_ms)) /
              static_cast<double>(std::max<std::size_t>(1, iterations.size()));
  return t;
}

Result<ShellTiming> TimePsql(const std::string& url, const Iterations& iterations) {
  std::string script = "\\set ON_ERROR_STOP 1\n\\o /dev/null\n\\timing on\n";
  std::size_t statements = 0;
  for (const auto& it : iterations) {
    for (const auto& stmt : it) script += stmt + "\n", ++statements;
  }
  TempScript file(script);
  if (file.path().empty())
    return Fail(ErrorCode::kUnavailable, "cannot create a temp file for psql");
  PV_ASSIGN_OR_RETURN(RunResult r,
                      Run("psql -X -q -d " + ShellQuote(url) + " -f " + ShellQuote(file.path())));
  // Lines "Time: 0.532 ms" (or "Time: 1234.567 ms (00:01.235)"), one per statement.
  std::vector<double> times;
  std::size_t pos = 0;
  while ((pos = r.output.find("Time: ", pos)) != std::string::npos) {
    pos += 6;
    times.push_back(std::strtod(r.output.c_str() + pos, nullptr));
  }
  if (times.size() != statements) {
    return Fail(ErrorCode::kUnavailable, "psql reported " + std::to_string(times.size()) +
                                             " timings for " + std::to_string(statements) +
                                             " statements: " + r.output.substr(0, 2000));
  }
  ShellTiming t;
  t.tool = "psql";
  std::size_t next = 0;
  double total = 0;
  for (const auto& it : iterations) {
    double sum = 0;
    for (std::size_t i = 0; i < it.size(); ++i) sum += times[next++];
    t.per_iteration_ms.push_back(sum);
    total += sum;
  }
  t.mean_ms = total / static_cast<double>(std::max<std::size_t>(1, iterations.size()));
  return t;
}

}  // namespace pixvault::bench
