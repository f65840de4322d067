// HttpProvider: the generic, configurable adapter for provider APIs that speak JSON over HTTP
// (DESIGN.md section 6; docs/providers.md has the TOML form of its options). Each operation
// is one configured request (method + path template under `base_url`); answers are read with
// JSON pointers. The defaults are the protocol of the fake provider (docs/fake-provider.md),
// so a minimal configuration names only `base_url` and the authentication.
//
// Paths may use {ref} (download, check, delete) or {job} (poll, cancel), percent-encoded into
// the path. The authentication value is a template whose {name}s are members of the account's
// credentials JSON (e.g. "Bearer {api_key}").
//
// Each call makes exactly ONE request (the resolver owns retries and backoff). Status mapping
// (provider.h): 404/410 -> kNotFound; 401/403 -> kPermissionDenied; a refusal status
// (default 422) -> kPermissionDenied with the provider's error text; other 4xx ->
// kInvalidArgument; 408/429/5xx, timeouts, connection and TLS failures, and malformed or
// oversized JSON answers -> kUnavailable. Messages never contain credentials (credential
// values are also scrubbed from any text a provider echoes back).
//
// Thread-safe: all methods may be called concurrently; the options are fixed at creation.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/http_client.h"
#include "providers/provider.h"

namespace pixvault::providers {

// One configured request: method and a path template appended to base_url.
struct HttpEndpoint {
  std::string method;
  std::string path;
};

struct HttpProviderOptions {
  std::string id;        // the provider id
  std::string base_url;  // http:// or https://, may include a path prefix ("https://x/api")
  std::string auth_header = "Authorization";
  std::string auth_value;  // template, e.g. "Bearer {api_key}"; empty: no auth header sent
  Capabilities capabilities;

  Timestamp timeout = 60 * kMicrosPerSecond;  // total per JSON request (not uploads/downloads)
  Timestamp transfer_timeout = 3600 * kMicrosPerSecond;  // total per upload or download
  Timestamp connect_timeout = 10 * kMicrosPerSecond;
  Timestamp idle_timeout = 0;  // no progress for this long fails a request; 0: `timeout`
  std::int64_t max_json_bytes = std::int64_t{1} << 20;
  std::vector<int> refusal_statuses = {422};  // content refused (moderation)
  std::string error_pointer = "/error";       // the error text in an error answer

  struct Upload {
    HttpEndpoint endpoint{"POST", "/v1/files"};
    bool multipart = false;  // false: the raw file is the body
    std::string field = "file";
    // Extra text fields of a multipart body; values may use {filename}, {content_type},
    // {sha256}, {size} and {media_type}.
    std::map<std::string, std::string> fields;
    std::string ref_pointer = "/id";
    std::string url_pointer = "/url";             // empty: no URL
    std::string expires_pointer = "/expires_at";  // unix seconds or null; empty: none
    // The request header carrying the upload's idempotency key; empty: not sent.
    std::string idempotency_header = "Idempotency-Key";
  } upload;
  HttpEndpoint download{"GET", "/v1/files/{ref}/content"};
  HttpEndpoint check{"GET", "/v1/files/{ref}"};
  HttpEndpoint remove{"DELETE", "/v1/files/{ref}"};
  struct Submit {
    HttpEndpoint endpoint{"POST", "/v1/generations"};
    std::string job_id_pointer = "/id";
    // The request header carrying the submission's idempotency key (the same on every
    // retry of one job's submission); empty: not sent.
    std::string idempotency_header = "Idempotency-Key";
  } submit;
  struct Poll {
    HttpEndpoint endpoint{"GET", "/v1/generations/{job}"};
    std::string status_pointer = "/status";
    std::string outputs_pointer = "/outputs";            // an array
    std::string output_ref_pointer = "/id";              // inside each output
    std::string output_url_pointer = "/url";             // inside each output; empty: none
    std::string output_expires_pointer = "/expires_at";  // inside each output; empty: none
    std::string error_pointer = "/error";
    // Provider status strings of each state (a string in no list makes Poll kUnavailable).
    std::vector<std::string> queued = {"queued", "pending"};
    std::vector<std::string> running = {"running", "processing", "in_progress"};
    std::vector<std::string> succeeded = {"succeeded", "completed", "done"};
    std::vector<std::string> failed = {"failed", "error"};
    std::vector<std::string> canceled = {"canceled", "cancelled"};
  } poll;
  HttpEndpoint cancel{"DELETE", "/v1/generations/{job}"};
};

class HttpProvider final : public Provider {
 public:
  // Validates `options`: kInvalidArgument naming the option (as its TOML key, e.g.
  // "upload.ref_pointer") for a bad base_url, method, path, JSON pointer, placeholder or
  // limit. `client` may be shared between providers; nullptr makes one.
  static Result<std::shared_ptr<HttpProvider>> Create(HttpProviderOptions options,
                                                      std::shared_ptr<HttpClient> client = nullptr);
  ~HttpProvider() override;

  const std::string& id() const override;
  const Capabilities& capabilities() const override;
  Result<ProviderRef> Upload(const AccountAccess& account, const UploadFile& file) override;
  Status Download(const AccountAccess& account, const ProviderRef& ref, std::int64_t offset,
                  const DownloadSink& sink) override;
  Status Check(const AccountAccess& account, const ProviderRef& ref) override;
  Status Delete(const AccountAccess& account, const ProviderRef& ref) override;
  Result<std::string> Submit(const AccountAccess& account, std::string_view operation,
                             const boost::json::object& params,
                             std::string_view idempotency_key) override;
  Result<GenerationStatus> Poll(const AccountAccess& account, std::string_view job_id) override;
  Status Cancel(const AccountAccess& account, std::string_view job_id) override;

 private:
  struct Impl;
  explicit HttpProvider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pixvault::providers
