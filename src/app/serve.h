// `pixvault serve`: the HTTP API over the store and blob store named by the CLI context.
#pragma once

#include "app/serve_config.h"
#include "cli/context.h"

namespace pixvault::app {

// Runs until SIGINT/SIGTERM, then drains in-flight requests. Returns the exit code.
int RunServe(cli::Context& ctx, const ServeConfig& config);

}  // namespace pixvault::app
