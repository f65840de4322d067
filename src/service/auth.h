// API keys: issuing them, and authenticating HTTP requests that carry one in
// `Authorization: Bearer <key>`.
//
// A key is "pxv_" followed by 43 base64url characters: 32 bytes (256 bits) from OpenSSL's
// CSPRNG. The plaintext exists only in the value IssueApiKey returns; the store keeps its
// SHA-256 and its first kApiKeyPrefixLength characters. Error messages never contain a key.
//
// Thread-safe; the functions borrow the store and clock for the duration of the call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/object.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

inline constexpr std::string_view kApiKeyScheme = "pxv_";
// 4 + ceil(32 * 4 / 3) characters.
inline constexpr std::size_t kApiKeyLength = 47;
// The part of a key that listings show: "pxv_" and 8 random characters (48 bits), enough to
// tell keys apart and far too little to use one.
inline constexpr std::size_t kApiKeyPrefixLength = 12;

// A fresh random key. kUnavailable if the system's random generator fails (never returns a
// weak key instead).
Result<std::string> GenerateApiKey();

// True for a string of the form GenerateApiKey returns (no store lookup).
bool LooksLikeApiKey(std::string_view key);

// Creates a key for `user` and returns its row and the plaintext, which cannot be
// recovered later. Errors: kNotFound (no such user), kInvalidArgument (label not UTF-8 or
// longer than 200 bytes), kUnavailable, plus store errors.
Result<std::pair<ApiKey, std::string>> IssueApiKey(storage::Store& store, UserId user,
                                                   std::string_view label);

// Authenticates the value of an Authorization header and returns the key's owner.
// The value must be exactly "Bearer <key>": the scheme in any case, one space, the key, and
// nothing else (no other whitespace, no trailing newline). Then the key's SHA-256 is looked
// up and the key's last_used_at refreshed (at most once a minute; best effort).
// Errors: kPermissionDenied "missing or malformed Authorization header" for anything but
// that shape; kPermissionDenied "invalid API key" for a key that is unknown or revoked (the
// same answer for both); store errors such as kUnavailable pass through.
Result<User> AuthenticateBearer(storage::Store& store, const Clock& clock,
                                std::string_view authorization_header_value);

// {"id", "user_id", "label", "prefix", "created_at", "last_used_at", "revoked_at"}, times as
// RFC 3339 strings or null. The hash is left out.
boost::json::object ApiKeyToJson(const ApiKey& key);

}  // namespace pixvault::service
