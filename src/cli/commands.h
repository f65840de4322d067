// The CLI commands. Each returns the process exit code and prints its own output; parsing
// of the command line lives in cli.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/context.h"

namespace pixvault::cli {

struct ImportOptions {
  std::vector<std::string> paths;
  bool recursive = false;
  std::vector<std::string> tags;
  std::vector<std::string> style_tags;
  std::optional<std::string> category;
  std::optional<std::string> domain;
  std::optional<std::string> rating;
  std::optional<std::string> description;
};
int CmdImport(Context& ctx, const ImportOptions& options);

struct ListOptions {
  std::optional<std::string> type;
  std::optional<std::string> category;
  std::optional<std::string> domain;
  std::optional<std::string> rating;
  std::vector<std::string> tags;
  std::optional<std::string> query;
  std::int64_t limit = 50;
  std::optional<std::string> cursor;
  bool all = false;  // include searchable=false assets
};
int CmdList(Context& ctx, const ListOptions& options);
int CmdShow(Context& ctx, std::int64_t id);
int CmdRemove(Context& ctx, const std::vector<std::int64_t>& ids);

int CmdDbUpgrade(Context& ctx, std::optional<std::int64_t> target);
int CmdDbDowngrade(Context& ctx, std::optional<std::int64_t> target);
int CmdDbStatus(Context& ctx);

struct FsckCliOptions {
  bool repair = false;
  bool verify = false;
};
int CmdFsck(Context& ctx, const FsckCliOptions& options);

int CmdUserCreate(Context& ctx, const std::string& name, bool admin, bool allow_adult);
int CmdUserList(Context& ctx);

// API keys. Acting as an admin, any user's keys; otherwise only one's own.
int CmdKeyCreate(Context& ctx, const std::string& user, const std::string& label);
int CmdKeyList(Context& ctx, const std::optional<std::string>& user);  // default: acting user
int CmdKeyRevoke(Context& ctx, std::int64_t id);

// Provider accounts of the acting user; credentials are read from a JSON file or stdin ("-").
struct AccountAddOptions {
  std::string provider;
  std::string label;
  std::string credentials_file = "-";
  std::vector<std::string> settings;  // NAME=VALUE
};
int CmdAccountAdd(Context& ctx, const AccountAddOptions& options);
int CmdAccountList(Context& ctx);
int CmdAccountRemove(Context& ctx, std::int64_t id);

// The local cache. `budget`: bytes or "10G"; unset: PIXVAULT_CACHE_BUDGET.
struct CacheOptions {
  std::optional<std::string> budget;
  bool dry_run = false;
  // The providers file (as `serve --providers`).
  std::optional<std::string> providers;
  // The server's config file (as `serve --config`): its data folder, database, providers and
  // cache budget, unless given otherwise.
  std::optional<std::string> config;
  // --data-dir / --db given explicitly (they beat the config file, as for serve).
  std::optional<std::string> data_dir;
  std::optional<std::string> db;
  // Reads the settings as `serve` does (CliHooks::server_settings); unset: flags and the
  // environment only.
  std::function<Result<ServerSettings>(const ServeFlags&)> settings;
  // recheck-origins: only those of this provider.
  std::optional<std::string> provider;
};
int CmdCacheStatus(Context& ctx, const CacheOptions& options);
int CmdCacheEvict(Context& ctx, const CacheOptions& options);
int CmdCacheRecheckOrigins(Context& ctx, const CacheOptions& options);

struct AnalyzeOptions {
  std::vector<std::int64_t> ids;
  bool all = false;
  bool force = false;
  std::optional<std::string> steps;  // comma-separated; all that apply when unset
};
int CmdAnalyze(Context& ctx, const AnalyzeOptions& options);

struct BundleExportOptions {
  std::int64_t id = 0;
  std::optional<std::string> out;  // folder for bundle.json (and media/); default: stdout
  bool with_media = false;
};
// Exports the game bundle rooted at an asset. Validation issues are reported on stderr and
// in the bundle; they do not fail the command.
int CmdBundleExport(Context& ctx, const BundleExportOptions& options);

}  // namespace pixvault::cli
