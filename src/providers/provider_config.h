// Loading the providers a process knows from TOML (docs/providers.md): the `[providers]`
// table, one subtable per provider id, each with `type = "http"` (HttpProvider) or
// `type = "folder"` (FolderProvider). The registry always holds `user_upload` as well.
//
// Every bad configuration is kInvalidArgument naming the key ("providers.fake.upload.path:
// ..."): an unknown type or key, a value of the wrong type, a missing required key, a bad URL,
// JSON pointer or placeholder, an id not matching [a-z0-9][a-z0-9._-]{0,63} or equal to
// "user_upload". Folder roots are created when missing.
//
// toml++ stays out of this header; provider_config_toml.h takes a parsed toml::table.
// Thread-safe (no shared state).
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "core/error.h"
#include "providers/provider.h"

namespace pixvault::providers {

// Reads the TOML file `path` and loads its `[providers]` table (none: only user_upload).
// kNotFound when the file does not exist; kInvalidArgument for a TOML syntax error (with the
// line) or a bad provider configuration.
Result<std::unique_ptr<ProviderRegistry>> LoadProviderRegistryFile(
    const std::filesystem::path& path);

// The same for TOML text (a whole document, whose `[providers]` table is used).
Result<std::unique_ptr<ProviderRegistry>> LoadProviderRegistryText(std::string_view toml_text);

// Whether `id` can name a configured provider: [a-z0-9][a-z0-9._-]{0,63}, not "user_upload".
bool IsValidProviderId(std::string_view id);

}  // namespace pixvault::providers
