// The `pixvault` binary: the CLI, with `serve` wired to the HTTP server.
#include <cstdlib>
#include <iostream>

#include "app/serve.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  pixvault::cli::CliHooks hooks;
  hooks.serve = [](pixvault::cli::Context& ctx, const pixvault::cli::ServeFlags& flags) {
    pixvault::app::ServeFlags f{
        flags.config_file,  flags.listen,   flags.threads, flags.max_connections,
        flags.upload_limit, flags.data_dir, flags.db,      flags.providers_file,
        flags.cache_budget};
    auto config =
        pixvault::app::LoadServeConfig(f, [](const char* name) { return std::getenv(name); });
    if (!config) return ctx.ReportError(config.error());
    ctx.SetStorage(config->data_dir, config->db);
    ctx.SetDatabasePool(config->db_connections);
    return pixvault::app::RunServe(ctx, *config);
  };
  return pixvault::cli::RunCli(argc, argv, std::cout, std::cerr, hooks);
}
