// What resolver.cc and resolver_copies.cc share; not part of the service's interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/model.h"

namespace pixvault::service::resolver_internal {

// The resolver's own reads: every row, whoever owns it.
inline constexpr Viewer kSystem{0, true, true};

// An attempt of `operation` ("upload", "download") started `now`, its outcome still unset.
ProviderAttempt NewAttempt(const Asset& asset, std::string_view provider, std::int64_t account,
                           std::string_view operation, const std::string& worker, Timestamp now);

}  // namespace pixvault::service::resolver_internal
