// Pins of the local cache: POST/DELETE/GET /api/v1/assets/{id}/pin. A pinned asset's bytes
// are never evicted (service/cache.h). Only the asset's owner (or an admin) sees its pin;
// anyone else gets 404, as for an unknown id.
#include <boost/json.hpp>

#include "http/api.h"
#include "http/api_util.h"

namespace pixvault::http {

namespace {

namespace json = boost::json;

Response PinResponse(const AssetPin& pin) {
  json::object o{{"asset_id", pin.asset_id}, {"pinned", pin.pinned_at.has_value()}};
  o["pinned_at"] =
      pin.pinned_at ? json::value(FormatTimestamp(*pin.pinned_at)) : json::value(nullptr);
  o["pinned_by"] = pin.pinned_by ? json::value(*pin.pinned_by) : json::value(nullptr);
  return JsonResponse(200, o);
}

Result<Response> Pin(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(AssetPin pin, api.store.PinAsset(Viewer::For(*req.user), id));
  return PinResponse(pin);
}

Result<Response> Unpin(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(api.store.UnpinAsset(Viewer::For(*req.user), id));
  return PinResponse(AssetPin{id, std::nullopt, std::nullopt});
}

Result<Response> GetPin(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(AssetPin pin, api.store.GetAssetPin(Viewer::For(*req.user), id));
  return PinResponse(pin);
}

}  // namespace

const char* const kCacheSchemas = R"json({
  "Pin": {"type": "object", "properties": {
    "asset_id": {"type": "integer"}, "pinned": {"type": "boolean"},
    "pinned_at": {"type": ["string", "null"], "format": "date-time"},
    "pinned_by": {"type": ["integer", "null"], "description": "the user who pinned it"}}}
})json";

void RegisterCacheRoutes(Router& router, ApiContext& api) {
  const ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  const ResponseDoc problem404{404, "Unknown asset (or another user's)", "Problem",
                               "application/problem+json"};
  router.Add(
      Route{"POST", "/api/v1/assets/{id}/pin", "pinAsset", true, 0,
            [&api](Request& r) { return Pin(api, r); }, nullptr,
            RouteDoc{"Pin the asset: the local cache never evicts its bytes",
                     "cache",
                     {id},
                     {},
                     "",
                     false,
                     {{200, "The pin (pinning twice keeps the first)", "Pin"}, problem404}}});
  router.Add(Route{"DELETE", "/api/v1/assets/{id}/pin", "unpinAsset", true, 0,
                   [&api](Request& r) { return Unpin(api, r); }, nullptr,
                   RouteDoc{"Unpin the asset (its bytes may be evicted again)",
                            "cache",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "Not pinned any more", "Pin"}, problem404}}});
  router.Add(Route{"GET", "/api/v1/assets/{id}/pin", "getAssetPin", true, 0,
                   [&api](Request& r) { return GetPin(api, r); }, nullptr,
                   RouteDoc{"Whether the asset is pinned",
                            "cache",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "The pin", "Pin"}, problem404}}});
}

}  // namespace pixvault::http
