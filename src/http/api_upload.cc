// POST /api/v1/assets/upload: raw bodies (metadata in query parameters or X-Pixvault-*
// headers) and multipart/form-data (a `file` part plus metadata fields), streamed into an
// ingest session as they arrive.
#include <boost/json.hpp>

#include <strings.h>

#include "core/sha256.h"
#include "core/text.h"
#include "core/utf8.h"
#include "http/api.h"
#include "http/api_util.h"
#include "http/multipart.h"
#include "service/asset_json.h"

namespace pixvault::http {

namespace {

constexpr std::size_t kMaxFieldBytes = 64 * 1024;

// Metadata fields accepted with an upload, by name (query parameter, form field, or
// X-Pixvault-<Name> header with '_' written as '-').
const std::vector<std::string>& UploadFields() {
  static const std::vector<std::string> kFields = {
      "filename",           "description",    "tags",           "style_tags", "content_domain",
      "content_category",   "content_rating", "age_restricted", "sha256",     "upload_method",
      "original_source_url"};
  return kFields;
}

// Applies one metadata field to the ingest request.
Status ApplyField(service::IngestRequest& r, std::string_view name, std::string_view value) {
  // File names are bytes and are repaired at ingest; every other field is stored as text.
  if (name != "filename" && !IsValidUtf8(value)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(name) + " must be UTF-8 text");
  }
  auto parse_into = [&](auto& target, auto parsed) -> Status {
    if (!parsed) return Fail(WithContext(parsed.error(), name));
    target = *parsed;
    return Ok();
  };
  if (name == "filename") {
    r.filename = std::string(value);
  } else if (name == "description") {
    r.description = std::string(value);
  } else if (name == "tags") {
    for (auto& t : SplitCommaList(value)) r.tags.push_back(std::move(t));
  } else if (name == "style_tags") {
    for (auto& t : SplitCommaList(value)) r.style_tags.push_back(std::move(t));
  } else if (name == "content_domain") {
    return parse_into(r.content_domain, Parse<ContentDomain>(value));
  } else if (name == "content_category") {
    r.content_category = std::string(value);
  } else if (name == "content_rating") {
    return parse_into(r.content_rating, Parse<ContentRating>(value));
  } else if (name == "age_restricted") {
    if (value != "true" && value != "false") {
      return Fail(ErrorCode::kInvalidArgument, "age_restricted must be true or false");
    }
    r.age_restricted = value == "true";
  } else if (name == "sha256") {
    if (!IsSha256Hex(value)) {
      return Fail(ErrorCode::kInvalidArgument, "sha256 must be 64 lowercase hex digits");
    }
    r.expected_sha256 = std::string(value);
  } else if (name == "upload_method") {
    auto m = Parse<UploadMethod>(value);
    if (!m) return Fail(WithContext(m.error(), name));
    if (*m == UploadMethod::kProvider || *m == UploadMethod::kCli) {
      return Fail(ErrorCode::kInvalidArgument,
                  "upload_method must be extension, api, web or mobile");
    }
    r.upload_method = *m;
  } else if (name == "original_source_url") {
    r.original_source_url = std::string(value);
  } else {
    return Fail(ErrorCode::kInvalidArgument, "unknown upload field '" + std::string(name) + "'");
  }
  return Ok();
}

Response UploadResponse(const service::IngestResult& r) {
  boost::json::object o{{"status", r.duplicate ? "duplicate" : "created"},
                        {"asset", service::AssetToJson(r.asset)}};
  return JsonResponse(r.duplicate ? 200 : 201, o);
}

class RawUploadSink final : public BodySink {
 public:
  RawUploadSink(std::unique_ptr<service::IngestSession> session, User owner,
                service::IngestRequest request)
      : session_(std::move(session)), owner_(std::move(owner)), request_(std::move(request)) {}
  Status Write(std::span<const std::byte> chunk) override { return session_->Append(chunk); }
  Result<Response> Finish() override {
    PV_ASSIGN_OR_RETURN(auto r, session_->Commit(owner_, request_));
    return UploadResponse(r);
  }

 private:
  std::unique_ptr<service::IngestSession> session_;
  User owner_;
  service::IngestRequest request_;
};

class MultipartUploadSink final : public BodySink {
 public:
  MultipartUploadSink(std::string boundary, std::unique_ptr<service::IngestSession> session,
                      User owner, service::IngestRequest request)
      : session_(std::move(session)),
        owner_(std::move(owner)),
        request_(std::move(request)),
        parser_(
            std::move(boundary), MultipartLimits{},
            MultipartParser::Callbacks{[this](const PartHeaders& h) { return BeginPart(h); },
                                       [this](std::span<const std::byte> d) { return PartData(d); },
                                       [this] { return EndPart(); }}) {}

  Status Write(std::span<const std::byte> chunk) override { return parser_.Feed(chunk); }

  Result<Response> Finish() override {
    PV_RETURN_IF_ERROR(parser_.Finish());
    if (!saw_file_) {
      return Fail(ErrorCode::kInvalidArgument, "multipart upload has no 'file' part");
    }
    PV_ASSIGN_OR_RETURN(auto r, session_->Commit(owner_, request_));
    return UploadResponse(r);
  }

 private:
  Status BeginPart(const PartHeaders& h) {
    current_ = h.name;
    field_.clear();
    if (h.name == "file") {
      if (saw_file_)
        return Fail(ErrorCode::kInvalidArgument, "multipart upload has two 'file' parts");
      saw_file_ = true;
      in_file_ = true;
      if (h.filename && request_.filename.empty()) request_.filename = *h.filename;
      return Ok();
    }
    in_file_ = false;
    const auto& fields = UploadFields();
    if (std::find(fields.begin(), fields.end(), h.name) == fields.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unknown form field '" + h.name + "'");
    }
    return Ok();
  }
  Status PartData(std::span<const std::byte> data) {
    if (in_file_) return session_->Append(data);
    if (field_.size() + data.size() > kMaxFieldBytes) {
      return Fail(ErrorCode::kInvalidArgument, "form field '" + current_ + "' is too large");
    }
    field_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Ok();
  }
  Status EndPart() {
    if (in_file_) {
      in_file_ = false;
      return Ok();
    }
    return ApplyField(request_, current_, field_);
  }

  std::unique_ptr<service::IngestSession> session_;
  User owner_;
  service::IngestRequest request_;
  MultipartParser parser_;
  std::string current_;
  std::string field_;
  bool saw_file_ = false;
  bool in_file_ = false;
};

Result<std::unique_ptr<BodySink>> BeginUpload(ApiContext& api, Request& req) {
  service::IngestRequest ir;
  ir.upload_method = UploadMethod::kApi;
  for (const auto& name : UploadFields()) {
    for (auto v : req.QueryParams(name)) PV_RETURN_IF_ERROR(ApplyField(ir, name, v));
    std::string header = "X-Pixvault-" + name;
    for (char& c : header) c = c == '_' ? '-' : c;
    if (auto v = req.headers.Get(header)) PV_RETURN_IF_ERROR(ApplyField(ir, name, *v));
  }
  for (const auto& [k, v] : req.query) {
    const auto& fields = UploadFields();
    if (std::find(fields.begin(), fields.end(), k) == fields.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unknown upload parameter '" + k + "'");
    }
  }
  if (!req.content_length && !req.headers.Get("Transfer-Encoding")) {
    return Fail(ErrorCode::kInvalidArgument, "upload needs a request body");
  }
  std::string_view content_type = req.headers.Get("Content-Type").value_or("");
  PV_ASSIGN_OR_RETURN(auto session, api.ingestor.Begin());
  if (content_type.size() >= 19 &&
      ::strncasecmp(content_type.data(), "multipart/form-data", 19) == 0) {
    PV_ASSIGN_OR_RETURN(std::string boundary,
                        MultipartParser::BoundaryFromContentType(content_type));
    return std::unique_ptr<BodySink>(std::make_unique<MultipartUploadSink>(
        std::move(boundary), std::move(session), *req.user, std::move(ir)));
  }
  return std::unique_ptr<BodySink>(
      std::make_unique<RawUploadSink>(std::move(session), *req.user, std::move(ir)));
}

}  // namespace

void RegisterUploadRoutes(Router& router, ApiContext& api) {
  std::vector<ParamDoc> params;
  for (const auto& f : UploadFields()) {
    params.push_back(ParamDoc{f,
                              "query",
                              "string",
                              false,
                              f == "tags" || f == "style_tags",
                              "Upload metadata; also accepted as a form field or an "
                              "X-Pixvault-" +
                                  f + " header",
                              {},
                              {},
                              {}});
  }
  router.Add(Route{
      "POST", "/api/v1/assets/upload", "uploadAsset", true, api.options.upload_limit, nullptr,
      [&api](Request& r) { return BeginUpload(api, r); },
      RouteDoc{"Upload bytes: a raw body or multipart/form-data with a 'file' part",
               "assets",
               params,
               {"application/octet-stream", "multipart/form-data"},
               "UploadForm",
               true,
               {{201, "Created", "UploadResult"},
                {200, "Bytes this user already has", "UploadResult"},
                {413, "Too large", "Problem", "application/problem+json"},
                {415, "Not a supported media type", "Problem", "application/problem+json"}}}});
}

}  // namespace pixvault::http
