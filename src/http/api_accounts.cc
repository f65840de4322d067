// Routes under /api/v1/provider-accounts: a user's accounts on providers. Credentials go in
// once, sealed (service/credentials.h), and never come out of any route.
#include <boost/json.hpp>

#include "http/api.h"
#include "http/api_util.h"
#include "service/provider_accounts.h"

namespace pixvault::http {
namespace {

namespace json = boost::json;

Result<const service::CredentialCipher*> RequireCipher(ApiContext& api) {
  if (api.credentials == nullptr) {
    return Fail(ErrorCode::kUnavailable, "provider accounts are not enabled on this server");
  }
  return api.credentials;
}

Result<json::object> RequireObject(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return json::object{};
  if (!v->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "field '" + std::string(key) + "' must be an object");
  }
  return v->as_object();
}

Result<Response> CreateAccount(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(const service::CredentialCipher* cipher, RequireCipher(api));
  PV_ASSIGN_OR_RETURN(
      json::object body,
      ParseObject(req.body, {"provider_id", "label", "credentials", "settings", "enabled"}));
  service::NewProviderAccount account;
  PV_ASSIGN_OR_RETURN(auto provider_id, OptString(body, "provider_id"));
  PV_ASSIGN_OR_RETURN(auto label, OptString(body, "label"));
  if (!provider_id || !label) {
    return Fail(ErrorCode::kInvalidArgument, "fields 'provider_id' and 'label' are required");
  }
  if (!body.contains("credentials")) {
    return Fail(ErrorCode::kInvalidArgument, "field 'credentials' is required");
  }
  account.provider_id = std::move(*provider_id);
  account.label = std::move(*label);
  PV_ASSIGN_OR_RETURN(account.credentials, RequireObject(body, "credentials"));
  PV_ASSIGN_OR_RETURN(account.settings, RequireObject(body, "settings"));
  PV_ASSIGN_OR_RETURN(auto enabled, OptBool(body, "enabled"));
  account.enabled = enabled.value_or(true);
  PV_ASSIGN_OR_RETURN(
      ProviderAccount created,
      service::AddProviderAccount(api.store, *cipher, req.user->id, std::move(account)));
  Response r = JsonResponse(201, service::ProviderAccountToJson(created));
  r.headers.Set("Location", "/api/v1/provider-accounts/" + std::to_string(created.id));
  return r;
}

Result<Response> ListAccounts(ApiContext& api, Request& req) {
  // Everyone sees their own accounts here, admins too: other users' accounts are no one
  // else's business in a list (an admin may still fetch or delete one by id).
  Viewer viewer = Viewer::For(*req.user);
  viewer.is_admin = false;
  PV_ASSIGN_OR_RETURN(std::vector<ProviderAccount> accounts,
                      api.store.ListProviderAccounts(viewer));
  json::array items;
  for (const ProviderAccount& a : accounts) items.push_back(service::ProviderAccountToJson(a));
  return JsonResponse(200, json::object{{"items", std::move(items)}});
}

Result<Response> GetAccount(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(ProviderAccount account,
                      api.store.GetProviderAccount(Viewer::For(*req.user), id));
  return JsonResponse(200, service::ProviderAccountToJson(account));
}

Result<Response> DeleteAccount(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(api.store.DeleteProviderAccount(Viewer::For(*req.user), id));
  Response r;
  r.status = 204;
  return r;
}

}  // namespace

const char* const kAccountSchemas = R"json({
  "ProviderAccount": {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "integer"},
    "provider_id": {"type": "string"}, "label": {"type": "string"},
    "settings": {"type": "object"}, "enabled": {"type": "boolean"},
    "has_credentials": {"type": "boolean",
      "description": "Credentials are stored sealed and never returned"},
    "created_at": {"type": "string", "format": "date-time"}}},
  "ProviderAccountList": {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/ProviderAccount"}}}},
  "NewProviderAccount": {"type": "object", "additionalProperties": false,
    "required": ["provider_id", "label", "credentials"], "properties": {
    "provider_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"},
    "label": {"type": "string", "minLength": 1, "maxLength": 100},
    "credentials": {"type": "object", "additionalProperties": {"type": "string"},
      "minProperties": 1, "maxProperties": 32,
      "description": "e.g. {\"api_key\": \"...\"}; sealed with the server's secret key"},
    "settings": {"type": "object"}, "enabled": {"type": "boolean"}}}
})json";

void RegisterAccountRoutes(Router& router, ApiContext& api) {
  ParamDoc id{"id", "path", "integer", true, false, "Provider account id", {}, 1, std::nullopt};
  const ResponseDoc problem404{404, "Unknown account (or another user's)", "Problem",
                               "application/problem+json"};
  router.Add(Route{"GET", "/api/v1/provider-accounts", "listProviderAccounts", true, 0,
                   [&api](Request& r) { return ListAccounts(api, r); }, nullptr,
                   RouteDoc{"The caller's provider accounts (never their credentials)",
                            "providers",
                            {},
                            {},
                            "",
                            false,
                            {{200, "The accounts, oldest first", "ProviderAccountList"}}}});
  router.Add(Route{
      "POST", "/api/v1/provider-accounts", "createProviderAccount", true,
      api.options.json_body_limit, [&api](Request& r) { return CreateAccount(api, r); }, nullptr,
      RouteDoc{"Add an account on a provider; its credentials are stored sealed",
               "providers",
               {},
               {"application/json"},
               "NewProviderAccount",
               true,
               {{201, "The account (Location: /api/v1/provider-accounts/{id})", "ProviderAccount"},
                {400, "Malformed body or invalid field", "Problem", "application/problem+json"},
                {409, "The caller already has an account with this label on the provider",
                 "Problem", "application/problem+json"}}}});
  router.Add(Route{"GET", "/api/v1/provider-accounts/{id}", "getProviderAccount", true, 0,
                   [&api](Request& r) { return GetAccount(api, r); }, nullptr,
                   RouteDoc{"One provider account (never its credentials)",
                            "providers",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "The account", "ProviderAccount"}, problem404}}});
  router.Add(Route{"DELETE", "/api/v1/provider-accounts/{id}", "deleteProviderAccount", true, 0,
                   [&api](Request& r) { return DeleteAccount(api, r); }, nullptr,
                   RouteDoc{"Remove a provider account and its credentials",
                            "providers",
                            {id},
                            {},
                            "",
                            false,
                            {{204, "Removed", ""}, problem404}}});
}

}  // namespace pixvault::http
