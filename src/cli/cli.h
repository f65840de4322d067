// Entry point of the `pixvault` command line: parses arguments and runs one command.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "core/error.h"

namespace pixvault::cli {

// Returns the process exit code: 0 on success, the ErrorCode's code for an error (see
// ExitCodeFor), 1 when an import or fsck found failures, 2 for a usage error.
class Context;

// `pixvault serve` flags; unset ones fall through to PIXVAULT_* variables and the config file.
struct ServeFlags {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<int> threads;
  std::optional<int> max_connections;
  std::optional<std::int64_t> upload_limit;
  std::optional<std::string> data_dir;  // only when given explicitly (flag or environment)
  std::optional<std::string> db;
  std::optional<std::string> providers_file;
  std::optional<std::string> cache_budget;  // "10G", "500M", bytes, or "none"
};

// What `serve` would run with, for commands that act as the server does (`cache`).
struct ServerSettings {
  std::string data_dir;
  std::string db;
  std::optional<std::string> providers_file;
  std::optional<std::int64_t> cache_budget;
};

// Commands implemented above the CLI layer (the HTTP server lives in app/).
struct CliHooks {
  std::function<int(Context&, const ServeFlags&)> serve;
  // The server's settings from `flags`, the environment and the config file, read as `serve`
  // reads them (its errors: a bad value names its source).
  std::function<Result<ServerSettings>(const ServeFlags&)> server_settings;
};

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           const CliHooks& hooks = {});

}  // namespace pixvault::cli
