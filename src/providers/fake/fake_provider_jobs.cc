// Generation jobs of the fake provider: submit, poll, and the worker threads that run ffmpeg.
#include <boost/json.hpp>

#include <chrono>
#include <cmath>

#include "providers/fake/fake_provider.h"

namespace pixvault::providers::fake {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

// An integer member in [min, max], `fallback` when absent; nullopt when of another type or
// out of range.
std::optional<std::int64_t> IntParam(const json::object& params, std::string_view key,
                                     std::int64_t fallback, std::int64_t min, std::int64_t max) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  if (!it->value().is_int64()) return std::nullopt;
  const std::int64_t v = it->value().as_int64();
  if (v < min || v > max) return std::nullopt;
  return v;
}

}  // namespace

Result<Response> FakeProvider::Submit(Request& req) {
  std::string account;
  if (auto refused = Admit(req, "submit", account)) return *refused;
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec || !body.is_object()) return JsonError(400, "body must be a JSON object");
  const json::object& o = body.as_object();
  auto op = o.find("operation");
  if (op == o.end() || !op->value().is_string()) return JsonError(400, "operation is required");
  auto job = std::make_shared<Job>();
  job->account = account;
  job->spec.operation = std::string(op->value().as_string());
  if (!IsKnownOperation(job->spec.operation)) {
    return JsonError(400, "unknown operation '" + job->spec.operation + "'");
  }
  json::object params;
  if (auto p = o.find("params"); p != o.end()) {
    if (!p->value().is_object()) return JsonError(400, "params must be an object");
    params = p->value().as_object();
  }
  // Sizes stay small and even (H.264 4:2:0), durations short: tests must be fast.
  auto width = IntParam(params, "width", 64, 16, 1024);
  auto height = IntParam(params, "height", 64, 16, 1024);
  auto fps = IntParam(params, "fps", 10, 1, 60);
  if (!width || !height || *width % 2 || *height % 2) {
    return JsonError(400, "width and height must be even integers in [16, 1024]");
  }
  if (!fps) return JsonError(400, "fps must be an integer in [1, 60]");
  job->spec.width = static_cast<int>(*width);
  job->spec.height = static_cast<int>(*height);
  job->spec.fps = static_cast<int>(*fps);
  if (auto d = params.find("duration_s"); d != params.end()) {
    if (!d->value().is_number()) return JsonError(400, "duration_s must be a number");
    const double v = d->value().to_number<double>();
    if (!std::isfinite(v) || v < 0.1 || v > 10)
      return JsonError(400, "duration_s must be in [0.1, 10]");
    job->spec.duration_s = v;
  }
  // Every "*_ref" parameter (and every element of a "*_refs" array) must name a live file of
  // this account.
  for (const auto& member : params) {
    const std::string key(member.key());
    if (key.ends_with("_refs")) {
      if (!member.value().is_array()) return JsonError(400, key + " must be an array of refs");
      for (const json::value& ref : member.value().as_array()) {
        if (!ref.is_string()) return JsonError(400, key + " must be an array of refs");
        if (!FindFile(std::string(ref.as_string()), account)) {
          return JsonError(400, "unknown ref in " + key);
        }
      }
      continue;
    }
    if (!key.ends_with("_ref")) continue;
    if (!member.value().is_string()) return JsonError(400, key + " must be a string");
    auto file = FindFile(std::string(member.value().as_string()), account);
    if (!file) return JsonError(400, "unknown ref in " + key);
    if (key == InputRefKey(job->spec.operation)) job->spec.input = file->path;
  }
  const std::string needed = InputRefKey(job->spec.operation);
  if (!needed.empty() && job->spec.input.empty()) return JsonError(400, needed + " is required");
  // An idempotency key names one submission per account: the same key and request again
  // answer the job it made (its current state), the same key with another request is refused.
  const std::optional<std::string> idempotency_key = IdempotencyKeyOf(req);
  if (!idempotency_key) {
    return JsonError(400, "Idempotency-Key must be 1 to 255 visible ASCII characters");
  }
  const std::string& key = *idempotency_key;
  job->request = json::serialize(o);
  std::shared_ptr<Job> earlier;
  {
    std::lock_guard lock(mu_);
    if (!key.empty()) {
      auto [it, added] = keyed_jobs_.try_emplace({account, key}, job);
      if (!added) earlier = it->second;
    }
    if (!earlier) {
      job->id = "gen_" + std::to_string(next_job_++);
      jobs_[job->id] = job;
      queue_.push_back(job);
    }
  }
  if (earlier) {
    if (earlier->request != job->request) {
      return JsonError(422, "Idempotency-Key already used for another request");
    }
    Count(account, &AccountStats::replayed_submits);
    return Response::Json(200, JobJson(req, *earlier));
  }
  queue_cv_.notify_all();  // all: a delayed job also waits on queue_cv_
  Count(account, &AccountStats::generations);
  if (faults_.TakeLostSubmit()) {
    // The job runs; the answer claims otherwise, as from a gateway that gave up waiting.
    return JsonError(504, "gateway timeout");
  }
  json::object out;
  out["id"] = job->id;
  out["status"] = "queued";
  return Response::Json(202, json::serialize(out));
}

Result<Response> FakeProvider::GetJob(Request& req) {
  std::string account;
  if (auto refused = Admit(req, "generation", account)) return *refused;
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(std::string(req.PathParam("id")));
    if (it != jobs_.end() && it->second->account == account) job = it->second;
  }
  if (!job) return JsonError(404, "unknown job");
  return Response::Json(200, JobJson(req, *job));
}

Result<Response> FakeProvider::CancelJob(Request& req) {
  std::string account;
  if (auto refused = Admit(req, "cancel", account)) return *refused;
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(std::string(req.PathParam("id")));
    if (it != jobs_.end() && it->second->account == account) job = it->second;
    if (job && (job->status == "queued" || job->status == "running")) {
      std::erase(queue_, job);
      job->status = "canceled";
    } else if (job) {
      return JsonError(409, "job is already " + job->status);
    }
  }
  if (!job) return JsonError(404, "unknown job");
  queue_cv_.notify_all();  // a delayed job stops waiting
  return Response::Json(200, JobJson(req, *job));
}

std::string FakeProvider::JobJson(const Request& req, const Job& job) const {
  json::object o;
  std::lock_guard lock(mu_);
  o["id"] = job.id;
  o["operation"] = job.spec.operation;
  o["status"] = job.status;
  json::array outputs;
  for (const auto& id : job.outputs) {
    json::object f;
    f["id"] = id;
    f["url"] = FileUrl(req, id);
    outputs.push_back(std::move(f));
  }
  o["outputs"] = std::move(outputs);
  if (job.error.empty()) {
    o["error"] = nullptr;
  } else {
    o["error"] = job.error;
  }
  return json::serialize(o);
}

void FakeProvider::GenerationWorker() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      job->status = "running";
    }
    RunJob(job);
  }
}

void FakeProvider::RunJob(const std::shared_ptr<Job>& job) {
  // A job canceled meanwhile stays canceled, without outputs.
  auto finish = [&](std::string status, std::string error, std::vector<std::string> outputs) {
    std::lock_guard lock(mu_);
    if (job->status == "canceled") return;
    job->status = std::move(status);
    job->error = std::move(error);
    job->outputs = std::move(outputs);
  };
  if (const std::int64_t delay = faults_.Get().generation_delay_ms; delay > 0) {
    std::unique_lock lock(mu_);
    queue_cv_.wait_for(lock, std::chrono::milliseconds(delay),
                       [&] { return stopping_ || job->status == "canceled"; });
    if (job->status == "canceled") return;
    if (stopping_) {
      job->status = "failed";
      job->error = "provider stopped";
      return;
    }
  }
  if (faults_.TakeGenerationFailure()) return finish("failed", "injected generation failure", {});
  std::filesystem::path temp;
  {
    std::lock_guard lock(mu_);
    temp = options_.data_dir / "tmp" /
           ("gen_" + std::to_string(next_temp_++) + OutputExtension(job->spec.operation));
  }
  Status ran = RunProgram(options_.ffmpeg, FfmpegArguments(job->spec, temp));
  if (!ran) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    return finish("failed", ran.error().message, {});
  }
  {
    std::lock_guard lock(mu_);
    if (job->status == "canceled") {
      std::error_code ec;
      std::filesystem::remove(temp, ec);
      return;
    }
  }
  auto file = AddFile(job->account, temp, OutputContentType(job->spec.operation));
  if (!file) return finish("failed", "cannot store the output", {});
  finish("succeeded", "", {file->id});
}

}  // namespace pixvault::providers::fake
