#include "service/provider_accounts.h"

#include <boost/json.hpp>

#include "core/text.h"
#include "core/utf8.h"

namespace pixvault::service {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxProviderId = 64;
constexpr std::size_t kMaxLabel = 100;
constexpr std::size_t kMaxCredentialFields = 32;
constexpr std::size_t kMaxCredentialValue = 8 * 1024;
constexpr std::size_t kMaxSettings = 64 * 1024;

bool IsProviderId(std::string_view id) {
  if (id.empty() || id.size() > kMaxProviderId) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

Status ValidateLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabel || !IsValidUtf8(label)) {
    return Fail(ErrorCode::kInvalidArgument,
                "field 'label': 1 to " + std::to_string(kMaxLabel) + " bytes of UTF-8 text");
  }
  for (const char c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Fail(ErrorCode::kInvalidArgument, "field 'label': control characters are not allowed");
    }
  }
  return Ok();
}

Status ValidateCredentials(const json::object& credentials) {
  if (credentials.empty() || credentials.size() > kMaxCredentialFields) {
    return Fail(ErrorCode::kInvalidArgument, "field 'credentials': an object of 1 to " +
                                                 std::to_string(kMaxCredentialFields) +
                                                 " named strings, e.g. {\"api_key\": \"...\"}");
  }
  for (const auto& [name, value] : credentials) {
    // Names are echoed in messages; values never are.
    if (name.empty() || name.size() > 64 || !IsValidUtf8(name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "field 'credentials': member names are 1 to 64 bytes of UTF-8");
    }
    if (!value.is_string() || value.as_string().size() > kMaxCredentialValue) {
      return Fail(ErrorCode::kInvalidArgument, "field 'credentials': member '" + std::string(name) +
                                                   "' must be a string of at most " +
                                                   std::to_string(kMaxCredentialValue) + " bytes");
    }
  }
  return Ok();
}

// What a sealed value is bound to: the row's owner, provider and label (unique together).
std::string SealContext(UserId owner, std::string_view provider_id, std::string_view label) {
  return "pixvault provider account\n" + std::to_string(owner) + "\n" + std::string(provider_id) +
         "\n" + std::string(label);
}

}  // namespace

Result<ProviderAccount> AddProviderAccount(storage::Store& store, const CredentialCipher& cipher,
                                           UserId owner, NewProviderAccount account) {
  if (!IsProviderId(account.provider_id)) {
    return Fail(ErrorCode::kInvalidArgument,
                "field 'provider_id': lowercase letters, digits, '.', '_' and '-' (starting with "
                "a letter or digit), at most 64");
  }
  PV_RETURN_IF_ERROR(ValidateLabel(account.label));
  PV_RETURN_IF_ERROR(ValidateCredentials(account.credentials));
  std::string settings = json::serialize(account.settings);
  if (settings.size() > kMaxSettings) {
    return Fail(ErrorCode::kInvalidArgument, "field 'settings': at most 64 KiB of JSON");
  }
  std::string plaintext = json::serialize(account.credentials);
  auto sealed = cipher.Seal(plaintext, SealContext(owner, account.provider_id, account.label));
  std::fill(plaintext.begin(), plaintext.end(), '\0');
  if (!sealed) return Fail(sealed.error());
  ProviderAccount row;
  row.user_id = owner;
  row.provider_id = std::move(account.provider_id);
  row.label = std::move(account.label);
  row.credentials_encrypted = std::move(*sealed);
  row.settings = std::move(settings);
  row.enabled = account.enabled;
  return store.CreateProviderAccount(row);
}

Result<json::object> OpenProviderCredentials(const CredentialCipher& cipher,
                                             const ProviderAccount& account) {
  auto plaintext = cipher.Open(account.credentials_encrypted,
                               SealContext(account.user_id, account.provider_id, account.label));
  if (!plaintext) {
    return Fail(WithContext(plaintext.error(), "provider account " + std::to_string(account.id)));
  }
  boost::system::error_code ec;
  json::value v = json::parse(*plaintext, ec);
  std::fill(plaintext->begin(), plaintext->end(), '\0');
  if (ec || !v.is_object()) {
    return Fail(ErrorCode::kCorrupt, "provider account " + std::to_string(account.id) +
                                         ": the stored credentials are not a JSON object");
  }
  return std::move(v.as_object());
}

json::object ProviderAccountToJson(const ProviderAccount& account) {
  boost::system::error_code ec;
  json::value settings = json::parse(account.settings, ec);
  if (ec) settings = json::object{};
  return json::object{{"id", account.id},
                      {"user_id", account.user_id},
                      {"provider_id", account.provider_id},
                      {"label", account.label},
                      {"settings", std::move(settings)},
                      {"enabled", account.enabled},
                      {"has_credentials", !account.credentials_encrypted.empty()},
                      {"created_at", FormatTimestamp(account.created_at)}};
}

}  // namespace pixvault::service
