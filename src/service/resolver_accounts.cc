// Resolver: the provider accounts a resolution uses (which one, its opened credentials) and
// the breaker of each (provider, account) that stops asking a provider failing in a row.
#include "service/resolver.h"

#include <boost/json/parse.hpp>

#include "service/provider_accounts.h"

namespace pixvault::service {

Status Resolver::BreakerAllows(const BreakerKey& key, bool take_try) {
  std::lock_guard lock(breaker_mu_);
  auto it = breakers_.find(key);
  if (it == breakers_.end() || it->second.failures < std::max(1, options_.breaker_threshold)) {
    return Ok();  // closed
  }
  Breaker& b = it->second;
  const Timestamp now = clock_.Now();
  const std::string what = "provider '" + key.first + "' failed " + std::to_string(b.failures) +
                           " transfers in a row for account " + std::to_string(key.second);
  if (b.open_until > now) {
    return Fail(ErrorCode::kUnavailable,
                what + "; it is not asked again for " +
                    std::to_string((b.open_until - now + kMicrosPerSecond - 1) / kMicrosPerSecond) +
                    " s");
  }
  if (b.trying) {
    return Fail(ErrorCode::kUnavailable, what + "; one try is under way, the others wait for it");
  }
  if (take_try) b.trying = true;
  return Ok();
}

void Resolver::BreakerRecord(const BreakerKey& key, bool unavailable) {
  std::lock_guard lock(breaker_mu_);
  if (!unavailable) {
    breakers_.erase(key);
    return;
  }
  Breaker& b = breakers_[key];
  b.trying = false;
  // Once open, every failure (the one try after a cooldown included) opens it again.
  if (++b.failures >= std::max(1, options_.breaker_threshold)) {
    b.open_until = clock_.Now() + options_.breaker_cooldown;
  }
}

Result<std::pair<ProviderAccount, providers::AccountAccess>> Resolver::OpenAccount(
    const Viewer& viewer, std::string_view provider, std::optional<std::int64_t> account_id) {
  PV_ASSIGN_OR_RETURN(ProviderAccount account, FindAccount(viewer, provider, account_id));
  PV_ASSIGN_OR_RETURN(providers::AccountAccess access, Access(account));
  return std::make_pair(std::move(account), std::move(access));
}

Result<ProviderAccount> Resolver::FindAccount(const Viewer& viewer, std::string_view provider,
                                              std::optional<std::int64_t> account_id) {
  ProviderAccount account;
  if (account_id) {
    auto found = store_.GetProviderAccount(viewer, *account_id);
    // An admin reaches every account through the store; resolution uses only the caller's.
    if (!found || found->user_id != viewer.user_id) {
      return Fail(ErrorCode::kNotFound,
                  "provider account " + std::to_string(*account_id) + " not found");
    }
    if (found->provider_id != provider) {
      return Fail(ErrorCode::kInvalidArgument, "provider account " + std::to_string(*account_id) +
                                                   " is an account of '" + found->provider_id +
                                                   "', not of '" + std::string(provider) + "'");
    }
    account = std::move(*found);
  } else {
    PV_ASSIGN_OR_RETURN(std::vector<ProviderAccount> all, store_.ListProviderAccounts(viewer));
    std::vector<ProviderAccount> mine;
    for (ProviderAccount& a : all) {
      if (a.user_id == viewer.user_id && a.provider_id == provider && a.enabled) {
        mine.push_back(std::move(a));
      }
    }
    if (mine.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "you have no enabled account for provider '" + std::string(provider) +
                      "' (add one with POST /api/v1/provider-accounts or `pixvault account add`)");
    }
    if (mine.size() > 1) {
      std::string ids;
      for (const ProviderAccount& a : mine) {
        ids += (ids.empty() ? "" : ", ") + std::to_string(a.id) + " (" + a.label + ")";
      }
      return Fail(ErrorCode::kInvalidArgument, "you have several accounts for provider '" +
                                                   std::string(provider) +
                                                   "': name one with account=ID: " + ids);
    }
    account = std::move(mine.front());
  }
  if (!account.enabled) {
    return Fail(ErrorCode::kInvalidArgument,
                "provider account " + std::to_string(account.id) + " is disabled");
  }
  return account;
}

Result<providers::AccountAccess> Resolver::Access(const ProviderAccount& account) const {
  providers::AccountAccess access;
  access.account_id = account.id;
  access.label = account.label;
  PV_ASSIGN_OR_RETURN(access.credentials, OpenProviderCredentials(cipher_, account));
  boost::system::error_code ec;
  const boost::json::value settings = boost::json::parse(account.settings, ec);
  if (!ec && settings.is_object()) access.settings = settings.as_object();
  return access;
}

}  // namespace pixvault::service
