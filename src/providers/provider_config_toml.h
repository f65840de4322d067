// LoadProviderRegistry for a toml::table already parsed (e.g. by the server's config loader).
// Separate from provider_config.h so that only callers that already use toml++ include it.
#pragma once

#include <memory>

#include <toml++/toml.h>

#include "core/error.h"
#include "providers/provider.h"

namespace pixvault::providers {

// `providers` is the `[providers]` table itself (its members are the provider ids). Errors as
// described in provider_config.h.
Result<std::unique_ptr<ProviderRegistry>> LoadProviderRegistry(const toml::table& providers);

}  // namespace pixvault::providers
