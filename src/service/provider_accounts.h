// Provider accounts: the credentials under which a user reaches a provider (an API key, a
// token, a folder's path), stored sealed (credentials.h) and never shown again. The HTTP
// routes and the CLI share these functions, so both validate alike.
//
// Thread-safety: stateless functions over the store, safe to call concurrently.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "core/error.h"
#include "core/model.h"
#include "service/credentials.h"
#include "storage/store.h"

namespace pixvault::service {

struct NewProviderAccount {
  std::string provider_id;  // [a-z0-9][a-z0-9._-]{0,63}
  std::string label;        // 1..100 characters of UTF-8 text, unique per user and provider
  // A JSON object of strings (at most 32 members, each value at most 8 KiB): {"api_key": ...}.
  boost::json::object credentials;
  boost::json::object settings;  // adapter settings, at most 64 KiB as JSON
  bool enabled = true;
};

// Validates and stores a new account of `owner`, its credentials sealed with `cipher`.
// Errors: kInvalidArgument naming the field, kAlreadyExists for a label the user already has
// for the provider, kUnavailable from the store.
[[nodiscard]] Result<ProviderAccount> AddProviderAccount(storage::Store& store,
                                                         const CredentialCipher& cipher,
                                                         UserId owner, NewProviderAccount account);

// The account's credentials as the JSON object they were given as. kCorrupt when they cannot
// be opened with `cipher` (another key, or altered).
[[nodiscard]] Result<boost::json::object> OpenProviderCredentials(const CredentialCipher& cipher,
                                                                  const ProviderAccount& account);

// The account as the API shows it: everything but the credentials.
boost::json::object ProviderAccountToJson(const ProviderAccount& account);

}  // namespace pixvault::service
