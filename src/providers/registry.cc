#include "providers/provider.h"

namespace pixvault::providers {

Status ProviderRegistry::Add(std::shared_ptr<Provider> provider) {
  const std::string id = provider->id();
  if (!providers_.emplace(id, std::move(provider)).second) {
    return Fail(ErrorCode::kAlreadyExists, "provider '" + id + "' is configured twice");
  }
  return Ok();
}

std::shared_ptr<Provider> ProviderRegistry::Find(std::string_view id) const {
  auto it = providers_.find(id);
  return it == providers_.end() ? nullptr : it->second;
}

std::vector<std::string> ProviderRegistry::Ids() const {
  std::vector<std::string> ids;
  ids.reserve(providers_.size());
  for (const auto& [id, provider] : providers_) ids.push_back(id);
  return ids;
}

}  // namespace pixvault::providers
