#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <ostream>

#include "cli/commands.h"

namespace pixvault::cli {

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           const CliHooks& hooks) {
  CLI::App app{"pixvault: one home for every video, image, audio file and 3D model you generate"};
  app.name("pixvault");
  app.require_subcommand(1);
  // Global options may also follow the command: `pixvault ls --json`.
  app.fallthrough();
  GlobalOptions global;
  auto* data_dir_opt =
      app.add_option("--data-dir", global.data_dir, "Data folder (database and blobs)")
          ->envname("PIXVAULT_DATA_DIR")
          ->capture_default_str();
  auto* db_opt =
      app.add_option("--db", global.db,
                     "Database URL: sqlite:///path.db or postgresql://... (default: SQLite in the "
                     "data folder)")
          ->envname("PIXVAULT_DB");
  app.add_option("--user", global.user, "User to act as")
      ->envname("PIXVAULT_USER")
      ->capture_default_str();
  app.add_flag("--json", global.json, "Machine-readable JSON output");

  std::function<int(Context&)> run;

  ImportOptions import;
  auto* imp = app.add_subcommand("import", "Import files and folders");
  imp->add_option("paths", import.paths, "Files or folders")->required();
  imp->add_flag("-r,--recursive", import.recursive, "Descend into folders");
  imp->add_option("--tag", import.tags, "Tag (repeatable)");
  imp->add_option("--style-tag", import.style_tags, "Style tag (repeatable)");
  imp->add_option("--category", import.category, "Content category, e.g. football");
  imp->add_option("--domain", import.domain, "Content domain: " + EnumChoices<ContentDomain>());
  imp->add_option("--rating", import.rating, "Content rating: " + EnumChoices<ContentRating>());
  imp->add_option("--description", import.description, "Description");
  imp->callback([&] { run = [&](Context& c) { return CmdImport(c, import); }; });

  ListOptions list;
  auto* ls = app.add_subcommand("ls", "List assets, newest first");
  ls->add_option("--type", list.type, "Media type: " + EnumChoices<MediaType>());
  ls->add_option("--category", list.category, "Content category");
  ls->add_option("--domain", list.domain, "Content domain");
  ls->add_option("--rating", list.rating, "Content rating");
  ls->add_option("--tag", list.tags, "Tag (repeatable; all must match)");
  ls->add_option("-q,--query", list.query, "Text in the description or a tag");
  ls->add_option("--limit", list.limit, "Page size (1..1000)")->capture_default_str();
  ls->add_option("--cursor", list.cursor, "Cursor from the previous page");
  ls->add_flag("--all", list.all, "Include assets marked not searchable");
  ls->callback([&] { run = [&](Context& c) { return CmdList(c, list); }; });

  std::int64_t show_id = 0;
  auto* show = app.add_subcommand("show", "Show one asset as JSON");
  show->add_option("id", show_id, "Asset id")->required();
  show->callback([&] { run = [&](Context& c) { return CmdShow(c, show_id); }; });

  std::vector<std::int64_t> rm_ids;
  auto* rm = app.add_subcommand("rm", "Delete assets (bytes go with the last asset using them)");
  rm->add_option("ids", rm_ids, "Asset ids")->required();
  rm->callback([&] { run = [&](Context& c) { return CmdRemove(c, rm_ids); }; });

  auto* db = app.add_subcommand("db", "Schema migrations");
  db->require_subcommand(1);
  std::optional<std::int64_t> up_target, down_target;
  auto* up = db->add_subcommand("upgrade", "Apply migrations (up to VERSION, default latest)");
  up->add_option("version", up_target, "Target version");
  up->callback([&] { run = [&](Context& c) { return CmdDbUpgrade(c, up_target); }; });
  auto* down = db->add_subcommand("downgrade", "Revert migrations down to VERSION (default: one)");
  down->add_option("version", down_target, "Target version (0 = empty schema)");
  down->callback([&] { run = [&](Context& c) { return CmdDbDowngrade(c, down_target); }; });
  auto* status = db->add_subcommand("status", "Show applied and pending migrations");
  status->callback([&] { run = [&](Context& c) { return CmdDbStatus(c); }; });

  FsckCliOptions fsck;
  auto* fsck_cmd = app.add_subcommand("fsck", "Check that database rows and blob files agree");
  fsck_cmd->add_flag("--repair", fsck.repair, "Fix what can be fixed");
  fsck_cmd->add_flag("--verify", fsck.verify, "Re-hash every blob (reads every byte)");
  fsck_cmd->callback([&] { run = [&](Context& c) { return CmdFsck(c, fsck); }; });

  auto* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  std::string user_name;
  bool user_admin = false, user_adult = false;
  auto* ucreate = user->add_subcommand("create", "Create a user");
  ucreate->add_option("name", user_name, "User name")->required();
  ucreate->add_flag("--admin", user_admin, "May see every user's assets");
  ucreate->add_flag("--allow-adult", user_adult, "May see age-restricted assets");
  ucreate->callback([&] {
    run = [&](Context& c) { return CmdUserCreate(c, user_name, user_admin, user_adult); };
  });
  auto* ulist = user->add_subcommand("ls", "List users");
  ulist->callback([&] { run = [&](Context& c) { return CmdUserList(c); }; });

  auto* key = app.add_subcommand("key", "Manage API keys for the HTTP API");
  key->require_subcommand(1);
  std::string key_user, key_label;
  auto* kcreate = key->add_subcommand("create", "Create an API key (printed once, stored hashed)");
  kcreate->add_option("user", key_user, "User the key authenticates as")->required();
  kcreate->add_option("--label", key_label, "What the key is for, e.g. laptop or ci");
  kcreate->callback(
      [&] { run = [&](Context& c) { return CmdKeyCreate(c, key_user, key_label); }; });
  std::optional<std::string> klist_user;
  auto* klist = key->add_subcommand("ls", "List API keys (default: your own)");
  klist->add_option("user", klist_user, "Whose keys");
  klist->callback([&] { run = [&](Context& c) { return CmdKeyList(c, klist_user); }; });
  std::int64_t krevoke_id = 0;
  auto* krevoke = key->add_subcommand("revoke", "Revoke an API key");
  krevoke->add_option("id", krevoke_id, "Key id (from `key ls`)")->required();
  krevoke->callback([&] { run = [&](Context& c) { return CmdKeyRevoke(c, krevoke_id); }; });

  auto* account = app.add_subcommand(
      "account", "Your accounts on providers (credentials stored encrypted, never shown)");
  account->require_subcommand(1);
  AccountAddOptions account_add;
  auto* aadd = account->add_subcommand(
      "add", "Add an account; credentials are a JSON object read from a file or stdin");
  aadd->add_option("provider", account_add.provider, "Provider id, e.g. runway or my-cdn")
      ->required();
  aadd->add_option("label", account_add.label, "Your name for the account, e.g. work")->required();
  aadd->add_option("--credentials-file", account_add.credentials_file,
                   "JSON object such as {\"api_key\": \"...\"}; - for stdin (default)");
  aadd->add_option("--setting", account_add.settings, "Adapter setting NAME=VALUE (repeatable)");
  aadd->callback([&] { run = [&](Context& c) { return CmdAccountAdd(c, account_add); }; });
  auto* als = account->add_subcommand("ls", "List your provider accounts");
  als->callback([&] { run = [&](Context& c) { return CmdAccountList(c); }; });
  std::int64_t arm_id = 0;
  auto* arm = account->add_subcommand("rm", "Remove a provider account and its credentials");
  arm->add_option("id", arm_id, "Account id (from `account ls`)")->required();
  arm->callback([&] { run = [&](Context& c) { return CmdAccountRemove(c, arm_id); }; });

  auto* cache = app.add_subcommand(
      "cache", "The local cache of downloaded bytes: its budget, pins and eviction");
  cache->require_subcommand(1);
  CacheOptions cache_options;
  auto* cstatus = cache->add_subcommand(
      "status", "Local bytes and blobs, what is evictable, pinned or the only copy");
  cache_options.settings = hooks.server_settings;
  // As the server reads them: flags, then the environment, then the config file.
  const auto cache_callback = [&](int (*command)(Context&, const CacheOptions&)) {
    return [&, command] {
      if (data_dir_opt->count() > 0) cache_options.data_dir = global.data_dir;
      if (db_opt->count() > 0) cache_options.db = global.db;
      run = [&, command](Context& c) { return command(c, cache_options); };
    };
  };
  const auto add_cache_settings = [&](CLI::App* sub) {
    sub->add_option("--budget", cache_options.budget,
                    "Bytes to keep at most (or 500M, 10G); default PIXVAULT_CACHE_BUDGET, or "
                    "cache_budget in the config file");
    sub->add_option("--providers", cache_options.providers,
                    "Providers file (as for serve; default PIXVAULT_PROVIDERS_FILE, or the "
                    "config file's): only copies at these providers count, and eviction asks "
                    "each copy's provider before counting on it");
    sub->add_option("--config", cache_options.config,
                    "The server's TOML configuration file (default PIXVAULT_CONFIG): its data "
                    "folder, database, providers and cache budget");
  };
  add_cache_settings(cstatus);
  cstatus->callback(cache_callback(&CmdCacheStatus));
  auto* cevict = cache->add_subcommand(
      "evict",
      "Evict least recently accessed bytes that a provider still holds until within the budget");
  add_cache_settings(cevict);
  cevict->add_flag("--dry-run", cache_options.dry_run, "Only say what would be evicted");
  cevict->callback(cache_callback(&CmdCacheEvict));
  auto* crecheck = cache->add_subcommand(
      "recheck-origins",
      "Count the origins their providers said they lost as copies again: the next eviction pass "
      "asks the providers once more (after fixing a provider's configuration)");
  crecheck->add_option("--provider", cache_options.provider, "Only the origins at this provider");
  crecheck->add_option("--config", cache_options.config,
                       "The server's TOML configuration file (default PIXVAULT_CONFIG): its data "
                       "folder and database");
  crecheck->callback(cache_callback(&CmdCacheRecheckOrigins));

  AnalyzeOptions analyze;
  auto* analyze_cmd = app.add_subcommand(
      "analyze", "Analyse assets now: probe, thumbnail and preview, perceptual hashes, audio");
  analyze_cmd->add_option("ids", analyze.ids, "Asset ids");
  analyze_cmd->add_flag("--all", analyze.all, "Every asset you can see");
  analyze_cmd->add_flag("--force", analyze.force, "Also re-run steps that are up to date");
  analyze_cmd->add_option("--steps", analyze.steps, "Only these steps, comma-separated");
  analyze_cmd->callback([&] { run = [&](Context& c) { return CmdAnalyze(c, analyze); }; });

  auto* bundle = app.add_subcommand("bundle", "Game bundles (docs/bundle-format.md)");
  bundle->require_subcommand(1);
  BundleExportOptions bundle_export;
  auto* bexport = bundle->add_subcommand(
      "export",
      "Export the branch graph rooted at an asset as a bundle (stdout, or DIR/bundle.json)");
  bexport->add_option("id", bundle_export.id, "Root asset id")->required();
  bexport->add_option("--out", bundle_export.out, "Folder to write bundle.json to");
  bexport->add_flag("--with-media", bundle_export.with_media,
                    "Also copy the media files to DIR/media/, ready to ship");
  bexport->callback([&] { run = [&](Context& c) { return CmdBundleExport(c, bundle_export); }; });

  ServeFlags serve_flags;
  if (hooks.serve) {
    auto* serve =
        app.add_subcommand("serve", "Run the HTTP API (Ctrl-C or SIGTERM stops it gracefully)");
    serve->add_option("--listen", serve_flags.listen,
                      "HOST:PORT to listen on (default 127.0.0.1:8080)");
    serve->add_option("--config", serve_flags.config_file, "TOML configuration file")
        ->envname("PIXVAULT_CONFIG");
    serve->add_option("--threads", serve_flags.threads, "I/O threads");
    serve->add_option("--max-connections", serve_flags.max_connections, "Open connections at most");
    serve->add_option("--upload-limit", serve_flags.upload_limit, "Largest upload in bytes");
    serve->add_option("--providers", serve_flags.providers_file,
                      "TOML file with a [providers] table (docs/providers.md)");
    serve->add_option("--cache-budget", serve_flags.cache_budget,
                      "Bytes of local copies to keep (500M, 10G); least recently accessed "
                      "bytes a provider still holds are evicted beyond it");
    serve->callback([&] {
      if (data_dir_opt->count() > 0) serve_flags.data_dir = global.data_dir;
      if (db_opt->count() > 0) serve_flags.db = global.db;
      run = [&](Context& c) { return hooks.serve(c, serve_flags); };
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    // Help for a subcommand arrives as a CallForHelp thrown from it; anything else is misuse.
    if (e.get_exit_code() == 0) {
      out << app.help();
      return 0;
    }
    err << "pixvault: " << e.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  if (!run) {
    err << "pixvault: no command given\n";
    return 2;
  }
  Context ctx(global, out, err);
  return run(ctx);
}

}  // namespace pixvault::cli
