#include "service/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <optional>

#include "core/sha256.h"

namespace pixvault::service {
namespace {

constexpr std::size_t kRandomBytes = 32;
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Unpadded base64url (RFC 4648 §5).
std::string Base64Url(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                      std::uint32_t{data[i + 2]};
    out += kBase64Url[(n >> 18) & 63];
    out += kBase64Url[(n >> 12) & 63];
    out += kBase64Url[(n >> 6) & 63];
    out += kBase64Url[n & 63];
  }
  if (std::size_t rest = size - i; rest > 0) {
    std::uint32_t n = std::uint32_t{data[i]} << 16;
    if (rest == 2) n |= std::uint32_t{data[i + 1]} << 8;
    out += kBase64Url[(n >> 18) & 63];
    out += kBase64Url[(n >> 12) & 63];
    if (rest == 2) out += kBase64Url[(n >> 6) & 63];
  }
  return out;
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
bool IsB64Token(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && s[n - 1] == '=') --n;
  if (n == 0) return false;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (!IsBase64UrlChar(c) && c != '.' && c != '~' && c != '+' && c != '/') return false;
  }
  return true;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

boost::json::value OptTime(const std::optional<Timestamp>& t) {
  return t ? boost::json::value(FormatTimestamp(*t)) : boost::json::value(nullptr);
}

}  // namespace

Result<std::string> GenerateApiKey() {
  // OpenSSL rather than libsodium: OpenSSL is already a dependency (SHA-256), and RAND_bytes
  // is a CSPRNG seeded from the kernel (getrandom) and safe across fork in OpenSSL 3.
  // Randomness is not injected here on purpose: a key must never come from a fake source.
  std::array<unsigned char, kRandomBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Fail(ErrorCode::kUnavailable, "the system random number generator failed");
  }
  std::string key = std::string(kApiKeyScheme) + Base64Url(bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

bool LooksLikeApiKey(std::string_view key) {
  if (key.size() != kApiKeyLength || !key.starts_with(kApiKeyScheme)) return false;
  for (char c : key.substr(kApiKeyScheme.size())) {
    if (!IsBase64UrlChar(c)) return false;
  }
  return true;
}

Result<std::pair<ApiKey, std::string>> IssueApiKey(storage::Store& store, UserId user,
                                                   std::string_view label) {
  PV_ASSIGN_OR_RETURN(std::string key, GenerateApiKey());
  PV_ASSIGN_OR_RETURN(
      ApiKey row,
      store.CreateApiKey(user, label, key.substr(0, kApiKeyPrefixLength), Sha256Hex(key)));
  return std::make_pair(std::move(row), std::move(key));
}

Result<User> AuthenticateBearer(storage::Store& store, const Clock& clock,
                                std::string_view authorization_header_value) {
  constexpr std::string_view kScheme = "Bearer";
  std::string_view v = authorization_header_value;
  // Strict on purpose: exactly "<scheme> <token>". Anything looser (extra spaces, a
  // trailing newline) is a client bug better reported than guessed around.
  if (v.size() <= kScheme.size() + 1 ||
      !EqualsIgnoreAsciiCase(v.substr(0, kScheme.size()), kScheme) || v[kScheme.size()] != ' ' ||
      !IsB64Token(v.substr(kScheme.size() + 1))) {
    return Fail(ErrorCode::kPermissionDenied, "missing or malformed Authorization header");
  }
  std::string_view key = v.substr(kScheme.size() + 1);
  const auto invalid = [] { return Fail(ErrorCode::kPermissionDenied, "invalid API key"); };
  // A token that cannot be a key is refused without a database round trip.
  if (!LooksLikeApiKey(key)) return invalid();
  auto found = store.FindUserByApiKeyHash(Sha256Hex(key));
  if (!found) {
    if (found.error().code == ErrorCode::kNotFound) return invalid();
    return Fail(found.error());
  }
  auto& [user, api_key] = *found;
  // Checking here first spares the store a write transaction on almost every request; the
  // store's own condition settles races between instances. A failed touch must not fail a
  // request that authenticated: last_used_at is bookkeeping.
  Timestamp now = clock.Now();
  if (!api_key.last_used_at || *api_key.last_used_at < now - storage::kApiKeyTouchInterval) {
    (void)store.TouchApiKey(api_key.id, now);
  }
  return std::move(user);
}

boost::json::object ApiKeyToJson(const ApiKey& key) {
  return boost::json::object{{"id", key.id},
                             {"user_id", key.user_id},
                             {"label", key.label},
                             {"prefix", key.prefix},
                             {"created_at", FormatTimestamp(key.created_at)},
                             {"last_used_at", OptTime(key.last_used_at)},
                             {"revoked_at", OptTime(key.revoked_at)}};
}

}  // namespace pixvault::service
