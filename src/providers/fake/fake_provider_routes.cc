// The fake provider's route table, and its test-only control and statistics routes.
#include <boost/json.hpp>

#include <set>

#include "providers/fake/fake_provider.h"

namespace pixvault::providers::fake {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

json::object SettingsJson(const FaultSettings& s) {
  json::object o;
  o["latency_ms"] = s.latency_ms;
  o["cdn_delay_ms"] = s.cdn_delay_ms;
  o["ref_ttl_s"] = s.ref_ttl_s;
  o["fail_next_n"] = s.fail_next_n;
  o["fail_status"] = s.fail_status;
  o["fail_only"] = s.fail_only;
  o["hang"] = s.hang;
  o["moderate_next_n"] = s.moderate_next_n;
  o["fail_generations"] = s.fail_generations;
  o["generation_delay_ms"] = s.generation_delay_ms;
  o["lose_next_n_submits"] = s.lose_next_n_submits;
  o["lose_next_n_uploads"] = s.lose_next_n_uploads;
  return o;
}

json::object CountersJson(const AccountStats& a) {
  json::object o;
  o["upload_requests"] = a.upload_requests;
  o["uploads"] = a.uploads;
  o["replayed_uploads"] = a.replayed_uploads;
  o["upload_bytes"] = a.upload_bytes;
  o["download_requests"] = a.download_requests;
  o["downloads"] = a.downloads;
  o["download_bytes"] = a.download_bytes;
  o["generations"] = a.generations;
  o["replayed_submits"] = a.replayed_submits;
  o["deletes"] = a.deletes;
  return o;
}

}  // namespace

void FakeProvider::AddRoutes() {
  auto route = [&](std::string method, std::string pattern, std::string name,
                   Result<Response> (FakeProvider::*handler)(Request&)) {
    http::Route r;
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.name = std::move(name);
    r.auth = false;     // bearer tokens are checked by the handlers (JSON errors, counted)
    r.blocking = true;  // handlers sleep (latency) and wait (hang)
    r.handler = [this, handler](Request& req) { return (this->*handler)(req); };
    router_.Add(std::move(r));
  };
  http::Route upload;
  upload.method = "POST";
  upload.pattern = "/v1/files";
  upload.name = "upload";
  upload.auth = false;
  upload.body_limit = options_.max_upload_bytes;
  upload.streaming = [this](Request& req) { return BeginUpload(req); };
  router_.Add(std::move(upload));
  route("GET", "/v1/files/{id}", "file", &FakeProvider::GetFile);
  route("GET", "/v1/files/{id}/content", "content", &FakeProvider::GetContent);
  route("DELETE", "/v1/files/{id}", "delete", &FakeProvider::DeleteFile);
  route("POST", "/v1/generations", "submit", &FakeProvider::Submit);
  route("GET", "/v1/generations/{id}", "generation", &FakeProvider::GetJob);
  route("DELETE", "/v1/generations/{id}", "cancel", &FakeProvider::CancelJob);
  route("GET", "/_control", "control_get", &FakeProvider::Control);
  route("POST", "/_control", "control", &FakeProvider::Control);
  route("GET", "/_stats", "stats", &FakeProvider::StatsRoute);
}

Result<Response> FakeProvider::Control(Request& req) {
  if (req.method == "GET") return Response::Json(200, json::serialize(SettingsJson(faults_.Get())));
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec || !body.is_object()) return JsonError(400, "body must be a JSON object");
  const json::object& o = body.as_object();
  // Actions first, then the knobs given (others keep their values).
  FaultSettings s = faults_.Get();
  if (auto it = o.find("reset"); it != o.end() && it->value() == true) s = FaultSettings{};
  for (const auto& member : o) {
    const std::string_view key = member.key();
    const json::value& v = member.value();
    if (key == "reset" || key == "expire_refs" || key == "reset_stats") {
      if (!v.is_bool()) return JsonError(400, std::string(key) + " must be a boolean");
      continue;
    }
    if (key == "hang") {
      if (!v.is_bool()) return JsonError(400, "hang must be a boolean");
      s.hang = v.as_bool();
      continue;
    }
    std::int64_t* field = key == "latency_ms"            ? &s.latency_ms
                          : key == "cdn_delay_ms"        ? &s.cdn_delay_ms
                          : key == "ref_ttl_s"           ? &s.ref_ttl_s
                          : key == "fail_next_n"         ? &s.fail_next_n
                          : key == "moderate_next_n"     ? &s.moderate_next_n
                          : key == "fail_generations"    ? &s.fail_generations
                          : key == "generation_delay_ms" ? &s.generation_delay_ms
                          : key == "lose_next_n_submits" ? &s.lose_next_n_submits
                          : key == "lose_next_n_uploads" ? &s.lose_next_n_uploads
                                                         : nullptr;
    if (key == "fail_only") {
      static const std::set<std::string, std::less<>> kRoutes = {
          "", "upload", "file", "content", "delete", "submit", "generation", "cancel"};
      if (!v.is_string() || !kRoutes.contains(std::string_view(v.as_string()))) {
        return JsonError(400, "fail_only must be \"\" or a route name");
      }
      s.fail_only = std::string(v.as_string());
      continue;
    }
    if (key == "fail_status") {
      if (!v.is_int64() || v.as_int64() < 400 || v.as_int64() > 599) {
        return JsonError(400, "fail_status must be an HTTP error status");
      }
      s.fail_status = static_cast<int>(v.as_int64());
      continue;
    }
    if (!field) return JsonError(400, "unknown control '" + std::string(key) + "'");
    if (!v.is_int64() || v.as_int64() < 0) {
      return JsonError(400, std::string(key) + " must be a non-negative integer");
    }
    *field = v.as_int64();
  }
  faults_.Set(s);
  if (auto it = o.find("expire_refs"); it != o.end() && it->value() == true) ExpireAllRefs();
  if (auto it = o.find("reset_stats"); it != o.end() && it->value() == true) ResetStats();
  return Response::Json(200, json::serialize(SettingsJson(s)));
}

Result<Response> FakeProvider::StatsRoute(Request&) {
  const Stats s = stats();
  json::object o = CountersJson(s.total);
  json::object accounts;
  for (const auto& [name, counters] : s.accounts) accounts[name] = CountersJson(counters);
  o["accounts"] = std::move(accounts);
  o["requests"] = s.requests;
  o["failures_injected"] = s.failures_injected;
  return Response::Json(200, json::serialize(o));
}

}  // namespace pixvault::providers::fake
