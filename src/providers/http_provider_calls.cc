// The http adapter's uploads, downloads (with resume) and generation jobs.
#include <boost/json.hpp>

#include <algorithm>

#include "providers/http_provider.h"
#include "providers/http_provider_internal.h"

namespace pixvault::providers {

namespace json = boost::json;
using http_internal::At;
using http_internal::IdText;
using http_internal::ParseInt64;

Result<ProviderRef> HttpProvider::Impl::Upload(const AccountAccess& account,
                                               const UploadFile& file) const {
  const Capabilities& c = o.capabilities;
  if (!c.uploads) {
    return Fail(ErrorCode::kUnsupported, "provider '" + o.id + "' does not accept uploads");
  }
  if (c.max_bytes > 0 && file.size > c.max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' takes files up to " +
                                                 std::to_string(c.max_bytes) + " bytes, not " +
                                                 std::to_string(file.size));
  }
  if (!c.media_types.empty() && std::find(c.media_types.begin(), c.media_types.end(),
                                          file.media_type) == c.media_types.end()) {
    return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' does not take " +
                                                 std::string(ToString(file.media_type)) + " files");
  }
  PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, upload, "", true));
  r.max_response_bytes = o.max_json_bytes;
  // Sent twice, an upload makes one file at a provider honouring its idempotency key, and at
  // worst an unreferenced copy (as a timed-out one does); so it may reuse a kept-alive
  // connection.
  r.may_resend = true;
  if (!o.upload.idempotency_header.empty() && !file.idempotency_key.empty()) {
    r.headers.emplace_back(o.upload.idempotency_header, file.idempotency_key);
  }
  const std::string content_type =
      file.content_type.empty() ? "application/octet-stream" : file.content_type;
  if (o.upload.multipart) {
    MultipartBody m;
    m.file_field = o.upload.field;
    m.filename = file.filename.empty() ? file.sha256 : file.filename;
    m.content_type = content_type;
    m.path = file.path;
    for (const auto& [name, t] : upload_fields) {
      std::string value;
      for (const auto& s : t.segments) {
        if (!s.placeholder) {
          value += s.text;
        } else if (s.text == "filename") {
          value += m.filename;
        } else if (s.text == "content_type") {
          value += content_type;
        } else if (s.text == "sha256") {
          value += file.sha256;
        } else if (s.text == "size") {
          value += std::to_string(file.size);
        } else if (s.text == "media_type") {
          value += ToString(file.media_type);
        }
      }
      m.fields.emplace_back(name, std::move(value));
    }
    r.multipart = std::move(m);
  } else {
    r.body_file = file.path;
    r.content_type = content_type;
  }
  PV_ASSIGN_OR_RETURN(json::value v, Json(r, "upload"));
  return RefOf(v, o.upload.ref_pointer, o.upload.url_pointer, o.upload.expires_pointer, "upload");
}

Status HttpProvider::Impl::Download(const AccountAccess& account, const ProviderRef& ref,
                                    std::int64_t offset, const DownloadSink& sink) const {
  if (offset < 0) return Fail(ErrorCode::kInvalidArgument, "download: negative offset");
  PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, download, ref.ref, true));
  if (offset > 0) r.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
  for (auto& [name, value] : r.headers) {
    if (name == "Accept") value = "*/*";  // the file, not JSON
  }
  r.headers.emplace_back("Accept-Encoding", "identity");

  std::int64_t skip = 0;  // bytes to drop (a server that ignored Range)
  std::optional<std::int64_t> total;
  bool started = false;
  auto start = [&]() -> Status {
    started = true;
    if (sink.on_start) return sink.on_start(total);
    return Ok();
  };
  ResponseStream stream;
  stream.on_head = [&](const HttpResponse& head) -> Result<bool> {
    const std::string* length = head.Header("Content-Length");
    if (head.status == 200) {
      if (length != nullptr) total = ParseInt64(*length);
      if (total && offset > *total) {
        return Fail(ErrorCode::kInvalidArgument,
                    "provider '" + o.id + "' download: offset " + std::to_string(offset) +
                        " past the end of " + ref.ref + " (" + std::to_string(*total) + " bytes)");
      }
      skip = offset;
      PV_RETURN_IF_ERROR(start());
      return true;
    }
    if (head.status == 206) {
      const std::string* range = head.Header("Content-Range");
      // "bytes first-last/total" (total may be "*").
      std::optional<std::int64_t> first;
      if (range != nullptr && range->rfind("bytes ", 0) == 0) {
        const std::string_view spec = std::string_view(*range).substr(6);
        const auto dash = spec.find('-');
        const auto slash = spec.find('/');
        if (dash != std::string_view::npos && slash != std::string_view::npos && dash < slash) {
          first = ParseInt64(spec.substr(0, dash));
          total = ParseInt64(spec.substr(slash + 1));
        }
      }
      if (!first || *first != offset) {
        return Fail(Malformed("download", "206 with a Content-Range that does not start at " +
                                              std::to_string(offset)));
      }
      PV_RETURN_IF_ERROR(start());
      return true;
    }
    return false;
  };
  stream.on_data = [&](std::span<const std::byte> data) -> Status {
    if (skip > 0) {
      const auto n = static_cast<std::size_t>(
          std::min<std::int64_t>(skip, static_cast<std::int64_t>(data.size())));
      skip -= static_cast<std::int64_t>(n);
      data = data.subspan(n);
    }
    if (data.empty()) return Ok();
    return sink.on_data(data);
  };
  PV_ASSIGN_OR_RETURN(HttpResponse response, Send(r, "download", &stream));
  if (started) {
    if (skip > 0) {
      return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' download: offset " +
                                                   std::to_string(offset) + " past the end of " +
                                                   ref.ref);
    }
    return Ok();
  }
  if (response.status == 416 && offset > 0) {
    // Nothing after `offset`: fine when offset is exactly the size ("bytes */size").
    const std::string* range = response.Header("Content-Range");
    if (range != nullptr && range->rfind("bytes */", 0) == 0) {
      if (auto size = ParseInt64(std::string_view(*range).substr(8)); size && *size == offset) {
        total = size;
        return start();
      }
    }
  }
  if (response.status >= 200 && response.status <= 299) {
    return Fail(Malformed("download",
                          "status " + std::to_string(response.status) + " instead of 200 or 206"));
  }
  return Fail(StatusError(response, "download"));
}

Result<std::string> HttpProvider::Impl::Submit(const AccountAccess& account,
                                               std::string_view operation,
                                               const json::object& params,
                                               std::string_view idempotency_key) const {
  PV_RETURN_IF_ERROR(Generates("submit"));
  const auto& ops = o.capabilities.operations;
  if (std::find(ops.begin(), ops.end(), operation) == ops.end()) {
    return Fail(ErrorCode::kUnsupported, "provider '" + o.id + "' does not run '" +
                                             std::string(operation.substr(0, 64)) + "'");
  }
  PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, submit, "", false));
  json::object body;
  body["operation"] = operation;
  body["params"] = params;
  r.body = json::serialize(body);
  r.content_type = "application/json";
  if (!o.submit.idempotency_header.empty() && !idempotency_key.empty()) {
    r.headers.emplace_back(o.submit.idempotency_header, std::string(idempotency_key));
  }
  PV_ASSIGN_OR_RETURN(json::value v, Json(r, "submit"));
  auto id = IdText(At(v, o.submit.job_id_pointer));
  if (!id || id->empty()) {
    return Fail(Malformed("submit", "no job id at '" + o.submit.job_id_pointer + "'"));
  }
  return *id;
}

Result<GenerationStatus> HttpProvider::Impl::Poll(const AccountAccess& account,
                                                  std::string_view job_id) const {
  PV_RETURN_IF_ERROR(Generates("poll"));
  PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, poll, job_id, false));
  PV_ASSIGN_OR_RETURN(json::value v, Json(r, "poll"));
  const auto& p = o.poll;
  GenerationStatus status;
  status.job_id = std::string(job_id);
  const json::value* s = At(v, p.status_pointer);
  if (s == nullptr || !s->is_string()) {
    return Fail(Malformed("poll", "no status string at '" + p.status_pointer + "'"));
  }
  const std::string text(s->get_string());
  auto in = [&](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), text) != names.end();
  };
  if (in(p.queued)) {
    status.state = GenerationState::kQueued;
  } else if (in(p.running)) {
    status.state = GenerationState::kRunning;
  } else if (in(p.succeeded)) {
    status.state = GenerationState::kSucceeded;
  } else if (in(p.failed)) {
    status.state = GenerationState::kFailed;
  } else if (in(p.canceled)) {
    status.state = GenerationState::kCanceled;
  } else {
    return Fail(Malformed("poll", "unknown status '" + text.substr(0, 64) + "'"));
  }
  if (status.state == GenerationState::kSucceeded) {
    const json::value* outputs = At(v, p.outputs_pointer);
    if (outputs == nullptr || !outputs->is_array()) {
      return Fail(Malformed("poll", "no outputs array at '" + p.outputs_pointer + "'"));
    }
    for (const json::value& out : outputs->get_array()) {
      PV_ASSIGN_OR_RETURN(ProviderRef ref, RefOf(out, p.output_ref_pointer, p.output_url_pointer,
                                                 p.output_expires_pointer, "poll"));
      status.outputs.push_back(std::move(ref));
    }
  }
  if (status.state == GenerationState::kFailed) {
    if (const json::value* e = At(v, p.error_pointer); e != nullptr && e->is_string()) {
      status.error = std::string(e->get_string()).substr(0, 1000);
    }
    if (status.error.empty()) status.error = "failed (the provider gave no reason)";
  }
  return status;
}

}  // namespace pixvault::providers
