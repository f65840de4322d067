// The `pixvault` binary: the CLI, with `serve` wired to the HTTP server and the commands that
// act as the server does reading its configuration.
#include <cstdlib>
#include <iostream>

#include "app/serve.h"
#include "app/serve_config.h"
#include "cli/cli.h"

namespace {

pixvault::Result<pixvault::app::ServeConfig> Load(const pixvault::cli::ServeFlags& flags) {
  return pixvault::app::LoadServeConfig(flags, [](const char* name) { return std::getenv(name); });
}

}  // namespace

int main(int argc, char** argv) {
  pixvault::cli::CliHooks hooks;
  hooks.serve = [](pixvault::cli::Context& ctx, const pixvault::cli::ServeFlags& flags) {
    auto config = Load(flags);
    if (!config) return ctx.ReportError(config.error());
    ctx.SetStorage(config->data_dir, config->db);
    ctx.SetDatabasePool(config->db_connections);
    return pixvault::app::RunServe(ctx, *config);
  };
  hooks.server_settings = [](const pixvault::cli::ServeFlags& flags)
      -> pixvault::Result<pixvault::cli::ServerSettings> {
    PV_ASSIGN_OR_RETURN(pixvault::app::ServeConfig config, Load(flags));
    return pixvault::cli::ServerSettings{config.data_dir, config.db, config.providers_file,
                                         config.cache_budget};
  };
  return pixvault::cli::RunCli(argc, argv, std::cout, std::cerr, hooks);
}
