// Configuration of `pixvault serve`, merged from (highest first) command-line flags,
// PIXVAULT_* environment variables and an optional TOML file, over built-in defaults.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "core/error.h"
#include "http/api.h"
#include "http/server.h"
#include "service/analysis.h"

namespace pixvault::app {

struct ServeConfig {
  std::string data_dir = "./pixvault-data";
  std::string db;  // empty: SQLite in data_dir
  http::ServerOptions server;
  http::ApiOptions api;
  // Media analysis: worker threads running the job queue (0: none; jobs wait for a server
  // that runs some), rendition sizes, and which media types are queued for analysis on ingest.
  int analysis_workers = 1;
  service::AnalyzerOptions analysis;
  std::vector<MediaType> analyze_on_ingest = {MediaType::kVideo, MediaType::kImage,
                                              MediaType::kAudio, MediaType::kModel3d};
  // Providers (docs/providers.md): the TOML file whose [providers] table configures them;
  // the config file itself when it has such a table. Unset: only user_upload.
  std::optional<std::string> providers_file;
  // Worker threads running generation jobs (they mostly wait on providers).
  int generation_workers = 2;
  // Lease of a claimed job; a job whose process died is taken over this long after its last
  // heartbeat.
  Timestamp job_lease = 30 * kMicrosPerSecond;
  // The local cache: a byte budget for local copies (unset: no eviction), kept by an
  // eviction pass enqueued every `cache_evict_interval` (service/cache.h).
  std::optional<std::int64_t> cache_budget;
  Timestamp cache_evict_interval = 60 * kMicrosPerSecond;
  // Database connections at most (PostgreSQL; SQLite: idle reader connections kept). With a
  // database server, the requests' database work runs on as many threads
  // (http::ServerOptions::database_threads) instead of on the I/O threads.
  int db_connections = 16;
};

// Values given on the command line (cli::ServeFlags); unset fields fall through to the
// environment, then the file, then the defaults.
using ServeFlags = cli::ServeFlags;

// `getenv` is injected so tests control the environment. Errors: kInvalidArgument naming
// the bad key and its source; kNotFound for a missing config file.
Result<ServeConfig> LoadServeConfig(const ServeFlags& flags,
                                    const std::function<const char*(const char*)>& getenv);

// Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (host 127.0.0.1).
Status ParseListen(std::string_view text, http::ServerOptions& out);

}  // namespace pixvault::app
