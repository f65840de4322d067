// Routes under /api/v1/assets: list, get, patch, delete, metadata tables and segments.
#include <boost/json.hpp>

#include "core/json_writer.h"
#include "http/api.h"
#include "http/api_util.h"
#include "http/problem.h"
#include "service/asset_json.h"
#include "service/assets.h"

namespace pixvault::http {

namespace {

template <class E>
Result<std::optional<E>> QueryEnum(const Request& req, std::string_view name) {
  auto v = req.QueryParam(name);
  if (!v) return std::optional<E>();
  PV_ASSIGN_OR_RETURN(E e, Parse<E>(*v));
  return std::optional<E>(e);
}

template <class E>
Result<std::optional<E>> JsonEnum(const boost::json::object& o, std::string_view key) {
  PV_ASSIGN_OR_RETURN(auto s, OptString(o, key));
  if (!s) return std::optional<E>();
  auto e = Parse<E>(*s);
  if (!e) return Fail(WithContext(e.error(), "field '" + std::string(key) + "'"));
  return std::optional<E>(*e);
}

Result<storage::AssetFilter> FilterFromQuery(const Request& req) {
  storage::AssetFilter f;
  PV_ASSIGN_OR_RETURN(f.media_type, QueryEnum<MediaType>(req, "media_type"));
  PV_ASSIGN_OR_RETURN(f.content_domain, QueryEnum<ContentDomain>(req, "content_domain"));
  PV_ASSIGN_OR_RETURN(f.content_rating, QueryEnum<ContentRating>(req, "content_rating"));
  PV_ASSIGN_OR_RETURN(f.sync_status, QueryEnum<SyncStatus>(req, "sync_status"));
  if (auto v = req.QueryParam("content_category")) f.content_category = std::string(*v);
  if (auto v = req.QueryParam("provider_id")) f.provider_id = std::string(*v);
  if (auto v = req.QueryParam("q"); v && !v->empty()) f.text = std::string(*v);
  for (auto t : req.QueryParams("tag")) f.tags.emplace_back(t);
  for (auto t : req.QueryParams("style_tag")) f.style_tags.emplace_back(t);
  for (auto t : req.QueryParams("taxonomy")) {
    auto eq = t.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Fail(ErrorCode::kInvalidArgument, "taxonomy filters look like path.to.key=value");
    }
    f.taxonomy.emplace_back(std::string(t.substr(0, eq)), std::string(t.substr(eq + 1)));
  }
  PV_ASSIGN_OR_RETURN(f.created_after, QueryTime(req, "created_after"));
  PV_ASSIGN_OR_RETURN(f.created_before, QueryTime(req, "created_before"));
  PV_ASSIGN_OR_RETURN(f.bpm_min, QueryDouble(req, "bpm_min"));
  PV_ASSIGN_OR_RETURN(f.bpm_max, QueryDouble(req, "bpm_max"));
  if (auto v = req.QueryParam("key")) f.audio_key = std::string(*v);
  PV_ASSIGN_OR_RETURN(f.is_speech, QueryBool(req, "is_speech"));
  PV_ASSIGN_OR_RETURN(f.polygons_min, QueryInt(req, "polygons_min", 0, INT64_MAX));
  PV_ASSIGN_OR_RETURN(f.polygons_max, QueryInt(req, "polygons_max", 0, INT64_MAX));
  if (auto v = req.QueryParam("model_format")) f.model_format = std::string(*v);
  if (auto v = req.QueryParam("intensity_level")) f.intensity_level = std::string(*v);
  if (auto v = req.QueryParam("mood")) f.mood = std::string(*v);
  return f;
}

Result<Response> ListAssets(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(storage::AssetFilter filter, FilterFromQuery(req));
  PV_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 200));
  PV_ASSIGN_OR_RETURN(auto include_total, QueryBool(req, "include_total"));
  storage::PageRequest page{limit.value_or(50), std::nullopt};
  if (auto c = req.QueryParam("cursor")) page.cursor = std::string(*c);
  Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(auto result, api.store.ListAssets(viewer, filter, page));
  std::optional<std::int64_t> total;
  if (include_total.value_or(false)) {
    PV_ASSIGN_OR_RETURN(total, api.store.CountAssets(viewer, filter));
  }
  // Written as text directly: this is the busiest route, and a DOM of 50 assets cost more
  // than the queries behind it.
  std::string body;
  body.reserve(1024 * (result.items.size() + 1));
  body += "{\"items\":[";
  for (std::size_t i = 0; i < result.items.size(); ++i) {
    if (i) body += ',';
    service::AppendAssetJson(result.items[i], {}, body);
  }
  body += "],";
  JsonWriter w(body);
  w.Key("next_cursor");
  w.Optional(result.next_cursor);
  if (total) {
    w.Key("total");
    w.Int(*total);
  }
  body += '}';
  return Response::Json(200, std::move(body));
}

Result<Response> GetAsset(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Asset a, api.store.GetAsset(Viewer::For(*req.user), id));
  PV_ASSIGN_OR_RETURN(auto uploads, api.store.ListProviderUploads(Viewer::For(*req.user), id));
  return Response::Json(200, service::AssetJsonText(a, uploads));
}

Result<Response> PatchAsset(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(
      auto body, ParseObject(req.body, {"description", "tags", "style_tags", "content_domain",
                                        "content_category", "content_taxonomy", "content_rating",
                                        "age_restricted", "searchable", "media_metadata"}));
  AssetPatch p;
  if (body.contains("description")) {
    PV_ASSIGN_OR_RETURN(auto d, OptString(body, "description"));
    p.description = d;
  }
  if (body.contains("content_category")) {
    PV_ASSIGN_OR_RETURN(auto c, OptString(body, "content_category"));
    p.content_category = c;
  }
  PV_ASSIGN_OR_RETURN(p.tags, OptStrings(body, "tags"));
  PV_ASSIGN_OR_RETURN(p.style_tags, OptStrings(body, "style_tags"));
  PV_ASSIGN_OR_RETURN(p.content_domain, JsonEnum<ContentDomain>(body, "content_domain"));
  PV_ASSIGN_OR_RETURN(p.content_rating, JsonEnum<ContentRating>(body, "content_rating"));
  PV_ASSIGN_OR_RETURN(p.age_restricted, OptBool(body, "age_restricted"));
  PV_ASSIGN_OR_RETURN(p.searchable, OptBool(body, "searchable"));
  PV_ASSIGN_OR_RETURN(p.content_taxonomy, OptJson(body, "content_taxonomy", "object"));
  PV_ASSIGN_OR_RETURN(p.media_metadata, OptJson(body, "media_metadata", "object"));
  for (const char* k : {"tags", "style_tags", "content_domain", "content_rating", "age_restricted",
                        "searchable", "content_taxonomy", "media_metadata"}) {
    if (IsNull(body, k)) {
      return Fail(ErrorCode::kInvalidArgument, std::string("field '") + k + "' cannot be null");
    }
  }
  PV_ASSIGN_OR_RETURN(Asset a, api.store.UpdateAsset(Viewer::For(*req.user), id, p));
  PV_ASSIGN_OR_RETURN(auto uploads, api.store.ListProviderUploads(Viewer::For(*req.user), id));
  return JsonResponse(200, service::AssetToJson(a, uploads));
}

Result<Response> DeleteAsset(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(
      service::DeleteAsset(api.store, api.blobs, Viewer::For(*req.user), id, api.derived));
  Response r;
  r.status = 204;
  return r;
}

}  // namespace

void RegisterAssetRoutes(Router& router, ApiContext& api) {
  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  std::vector<ParamDoc> list_params = {
      {"media_type",
       "query",
       "string",
       false,
       false,
       "Media type",
       {"video", "image", "audio", "3d_model"},
       {},
       {}},
      {"content_domain",
       "query",
       "string",
       false,
       false,
       "Content domain",
       {"general", "adult", "medical", "sports", "fashion", "education"},
       {},
       {}},
      {"content_category", "query", "string", false, false, "Content category (exact)", {}, {}, {}},
      {"content_rating",
       "query",
       "string",
       false,
       false,
       "Content rating",
       {"general", "mature", "adult", "explicit"},
       {},
       {}},
      {"tag", "query", "string", false, true, "Tag; repeat to require several", {}, {}, {}},
      {"style_tag",
       "query",
       "string",
       false,
       true,
       "Style tag; repeat to require several",
       {},
       {},
       {}},
      {"taxonomy",
       "query",
       "string",
       false,
       true,
       "Taxonomy leaf as path.to.key=value",
       {},
       {},
       {}},
      {"provider_id", "query", "string", false, false, "Provider that made the asset", {}, {}, {}},
      {"sync_status",
       "query",
       "string",
       false,
       false,
       "State of the local copy",
       {"remote", "downloading", "downloaded", "error"},
       {},
       {}},
      {"created_after",
       "query",
       "string",
       false,
       false,
       "RFC 3339 time or Unix seconds (exclusive)",
       {},
       {},
       {}},
      {"created_before",
       "query",
       "string",
       false,
       false,
       "RFC 3339 time or Unix seconds (exclusive)",
       {},
       {},
       {}},
      {"q", "query", "string", false, false, "Text in the description or a tag", {}, {}, {}},
      {"bpm_min", "query", "number", false, false, "Audio tempo at least", {}, {}, {}},
      {"bpm_max", "query", "number", false, false, "Audio tempo at most", {}, {}, {}},
      {"key", "query", "string", false, false, "Musical key of the audio", {}, {}, {}},
      {"is_speech", "query", "boolean", false, false, "Audio is speech", {}, {}, {}},
      {"polygons_min", "query", "integer", false, false, "3D polygon count at least", {}, 0, {}},
      {"polygons_max", "query", "integer", false, false, "3D polygon count at most", {}, 0, {}},
      {"model_format",
       "query",
       "string",
       false,
       false,
       "3D file format (glb, fbx, obj, ...)",
       {},
       {},
       {}},
      {"intensity_level",
       "query",
       "string",
       false,
       false,
       "Adult metadata intensity level",
       {"warmup", "moderate", "heated", "intense"},
       {},
       {}},
      {"mood", "query", "string", false, false, "Adult metadata mood", {}, {}, {}},
      {"limit", "query", "integer", false, false, "Page size (default 50)", {}, 1, 200},
      {"cursor", "query", "string", false, false, "next_cursor of the previous page", {}, {}, {}},
      {"include_total", "query", "boolean", false, false, "Also count every match", {}, {}, {}},
  };
  router.Add(Route{"GET", "/api/v1/assets", "listAssets", true, 0,
                   [&api](Request& r) { return ListAssets(api, r); }, nullptr,
                   RouteDoc{"List assets, newest first (keyset pagination)",
                            "assets",
                            list_params,
                            {},
                            "",
                            false,
                            {{200, "A page of assets", "AssetPage"}}}});
  router.Add(Route{
      "GET", "/api/v1/assets/{id}", "getAsset", true, 0,
      [&api](Request& r) { return GetAsset(api, r); }, nullptr,
      RouteDoc{"Get one asset", "assets", {id}, {}, "", false, {{200, "The asset", "Asset"}}}});
  router.Add(Route{"PATCH", "/api/v1/assets/{id}", "patchAsset", true, api.options.json_body_limit,
                   [&api](Request& r) { return PatchAsset(api, r); }, nullptr,
                   RouteDoc{"Change an asset's description and classification",
                            "assets",
                            {id},
                            {"application/json"},
                            "AssetPatch",
                            true,
                            {{200, "The updated asset", "Asset"}}}});
  router.Add(Route{"DELETE", "/api/v1/assets/{id}", "deleteAsset", true, 0,
                   [&api](Request& r) { return DeleteAsset(api, r); }, nullptr,
                   RouteDoc{"Delete an asset (its bytes go with the last asset using them)",
                            "assets",
                            {id},
                            {},
                            "",
                            false,
                            {{204, "Deleted", ""}}}});
}

}  // namespace pixvault::http
