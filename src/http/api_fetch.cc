// POST /api/v1/assets/upload-from-url: the server downloads a URL and ingests it. The
// download goes through fetch::Fetcher (http/https only, public destinations unless
// allowed by configuration, size cap, timeouts, every redirect checked again) and streams
// straight into an ingest session, so nothing is stored unless both succeed.
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <memory>

#include "core/sha256.h"
#include "fetch/fetcher.h"
#include "http/api.h"
#include "http/api_util.h"
#include "service/asset_json.h"

namespace pixvault::http {

namespace {

const std::set<std::string> kFields = {"url",
                                       "filename",
                                       "description",
                                       "tags",
                                       "style_tags",
                                       "content_domain",
                                       "content_category",
                                       "content_rating",
                                       "age_restricted",
                                       "sha256",
                                       "upload_method"};

// Parses enum-valued member `key` into `target` when present.
template <class E>
Status ParseEnumField(const boost::json::object& o, std::string_view key,
                      std::optional<E>& target) {
  PV_ASSIGN_OR_RETURN(auto text, OptString(o, key));
  if (!text) return Ok();
  auto v = Parse<E>(*text);
  if (!v) return Fail(WithContext(v.error(), key));
  target = *v;
  return Ok();
}

// The ingest request for the JSON body's metadata (everything but "url").
Result<service::IngestRequest> IngestRequestFrom(const boost::json::object& o) {
  service::IngestRequest r;
  r.upload_method = UploadMethod::kWeb;
  PV_ASSIGN_OR_RETURN(auto filename, OptString(o, "filename"));
  if (filename) r.filename = std::move(*filename);
  PV_ASSIGN_OR_RETURN(r.description, OptString(o, "description"));
  PV_ASSIGN_OR_RETURN(auto tags, OptStrings(o, "tags"));
  if (tags) r.tags = std::move(*tags);
  PV_ASSIGN_OR_RETURN(auto style_tags, OptStrings(o, "style_tags"));
  if (style_tags) r.style_tags = std::move(*style_tags);
  PV_RETURN_IF_ERROR(ParseEnumField(o, "content_domain", r.content_domain));
  PV_ASSIGN_OR_RETURN(r.content_category, OptString(o, "content_category"));
  PV_RETURN_IF_ERROR(ParseEnumField(o, "content_rating", r.content_rating));
  PV_ASSIGN_OR_RETURN(r.age_restricted, OptBool(o, "age_restricted"));
  PV_ASSIGN_OR_RETURN(auto sha256, OptString(o, "sha256"));
  if (sha256) {
    if (!IsSha256Hex(*sha256)) {
      return Fail(ErrorCode::kInvalidArgument, "sha256 must be 64 lowercase hex digits");
    }
    r.expected_sha256 = std::move(*sha256);
  }
  std::optional<UploadMethod> method;
  PV_RETURN_IF_ERROR(ParseEnumField(o, "upload_method", method));
  if (method) {
    if (*method == UploadMethod::kProvider || *method == UploadMethod::kCli) {
      return Fail(ErrorCode::kInvalidArgument,
                  "upload_method must be extension, api, web or mobile");
    }
    r.upload_method = *method;
  }
  return r;
}

fetch::FetchOptions FetchOptionsFrom(const ApiOptions& o) {
  fetch::FetchOptions f;
  f.max_bytes = o.fetch_limit > 0 ? o.fetch_limit : o.upload_limit;
  f.connect_timeout = o.fetch_connect_timeout;
  f.idle_timeout = o.fetch_idle_timeout;
  f.total_timeout = o.fetch_total_timeout;
  f.max_redirects = o.fetch_max_redirects;
  f.allow_hosts = o.fetch_allow_hosts;
  return f;
}

// Downloads in progress, shared by the requests of one route: each holds an I/O thread
// for as long as its download takes, so their number is capped.
struct FetchSlots {
  std::atomic<int> in_use{0};
};

class SlotGuard {
 public:
  explicit SlotGuard(FetchSlots& slots) : slots_(slots) {}
  ~SlotGuard() { slots_.in_use.fetch_sub(1); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  FetchSlots& slots_;
};

Result<Response> UploadFromUrl(ApiContext& api, fetch::Fetcher& fetcher, FetchSlots& slots,
                               Request& req) {
  PV_ASSIGN_OR_RETURN(boost::json::object body, ParseObject(req.body, kFields));
  PV_ASSIGN_OR_RETURN(auto url, OptString(body, "url"));
  if (!url || url->empty()) {
    return Fail(ErrorCode::kInvalidArgument, "field 'url' is required");
  }
  PV_ASSIGN_OR_RETURN(service::IngestRequest ir, IngestRequestFrom(body));
  ir.original_source_url = *url;
  const bool named = !ir.filename.empty();

  if (slots.in_use.fetch_add(1) >= std::max(1, api.options.fetch_max_concurrent)) {
    slots.in_use.fetch_sub(1);
    return Fail(ErrorCode::kUnavailable,
                "too many downloads from URLs in progress; retry in a moment");
  }
  SlotGuard slot(slots);
  // The ingest session starts only once the remote answered with a body; destroying it
  // uncommitted (any failure below) removes its temp file, so a failure stores nothing.
  std::unique_ptr<service::IngestSession> session;
  PV_RETURN_IF_ERROR(fetcher.Get(
      *url, FetchOptionsFrom(api.options),
      [&](const fetch::ResponseInfo& info) -> Status {
        if (!named) ir.filename = info.filename;
        PV_ASSIGN_OR_RETURN(session, api.ingestor.Begin());
        return Ok();
      },
      [&session](std::span<const std::byte> chunk) { return session->Append(chunk); }));
  if (!session) return Fail(ErrorCode::kInternal, "download finished without a response");
  PV_ASSIGN_OR_RETURN(service::IngestResult r, session->Commit(*req.user, ir));
  boost::json::object o{{"status", r.duplicate ? "duplicate" : "created"},
                        {"asset", service::AssetToJson(r.asset)}};
  return JsonResponse(r.duplicate ? 200 : 201, o);
}

}  // namespace

void RegisterFetchRoutes(Router& router, ApiContext& api) {
  // Without an injected fetcher the route owns one (system resolver); it is shared by all
  // requests and safe for concurrent use.
  std::shared_ptr<fetch::Fetcher> owned;
  fetch::Fetcher* fetcher = api.fetcher;
  if (fetcher == nullptr) {
    owned = std::make_shared<fetch::Fetcher>();
    fetcher = owned.get();
  }
  auto slots = std::make_shared<FetchSlots>();
  Route route{
      "POST",
      "/api/v1/assets/upload-from-url",
      "uploadAssetFromUrl",
      true,
      api.options.json_body_limit,
      [&api, fetcher, owned, slots](Request& r) { return UploadFromUrl(api, *fetcher, *slots, r); },
      nullptr,
      RouteDoc{"Download a file from an http(s) URL and ingest it. Destinations on private, "
               "loopback and link-local networks are refused unless allowed by configuration; "
               "redirects are followed and checked the same way.",
               "assets",
               {},
               {"application/json"},
               "UploadFromUrl",
               true,
               {{201, "Created", "UploadResult"},
                {200, "Bytes this user already has", "UploadResult"},
                {400, "Bad URL or metadata, or the remote file is too large", "Problem",
                 "application/problem+json"},
                {403, "Destination not allowed", "Problem", "application/problem+json"},
                {404, "The remote server answered 404 or 410, or the host does not exist",
                 "Problem", "application/problem+json"},
                {415, "Not a supported media type", "Problem", "application/problem+json"},
                {503,
                 "The remote server failed, timed out or answered an error, or too many "
                 "downloads are in progress",
                 "Problem", "application/problem+json"}}}};
  // A download holds its thread for as long as the remote server takes.
  route.blocking = true;
  route.remote = true;
  router.Add(std::move(route));
}

}  // namespace pixvault::http
