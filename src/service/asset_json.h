// JSON shapes of domain objects, shared by the CLI and the HTTP API. Field names are the
// seed's snake_case names; timestamps are RFC 3339 strings in UTC; JSON-valued columns are
// embedded as JSON, not as strings.
#pragma once

#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "core/error.h"
#include "core/model.h"

namespace pixvault::service {

// `uploads` become the seed's `provider_uploads` map: {"<provider>": {"<account>": {...}}}.
// AppendAssetJson appends the asset as compact JSON text (no DOM: for responses on hot
// paths); AssetJsonText returns it; AssetToJson is the same document as a DOM.
void AppendAssetJson(const Asset& asset, const std::vector<ProviderUpload>& uploads,
                     std::string& out);
std::string AssetJsonText(const Asset& asset, const std::vector<ProviderUpload>& uploads = {});
boost::json::object AssetToJson(const Asset& asset,
                                const std::vector<ProviderUpload>& uploads = {});
boost::json::object ErrorToJson(const Error& error);

// Serialises JSON with numbers in their shortest round-trip form ("2", "0.5", not "2E0");
// non-finite numbers become null. `pretty` indents by two spaces.
std::string ToJsonText(const boost::json::value& value, bool pretty = false);

}  // namespace pixvault::service
