#include "service/generation.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <random>
#include <system_error>
#include <thread>

#include "core/sha256.h"
#include "service/provider_download.h"

namespace pixvault::service {
namespace {

namespace json = boost::json;

constexpr std::string_view kIdSuffix = "_asset_id";
constexpr std::string_view kIdsSuffix = "_asset_ids";
constexpr std::size_t kMaxInputs = 100;
constexpr std::int64_t kDefaultTimeoutS = 30 * 60;

// A new submission's idempotency key (Provider::Submit): 128 random bits in hex. Unique, not
// secret: it travels to the provider beside the credentials and is shown in the job's result.
Result<std::string> RandomSubmitKey() {
  try {
    std::random_device random;
    std::string key = "pv-";
    for (int i = 0; i < 4; ++i) {
      char part[9];
      std::snprintf(part, sizeof part, "%08x", random());
      key += part;
    }
    return key;
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kUnavailable, std::string("no random source: ") + e.what());
  }
}

// One input asset named by the params: `image_asset_id` -> role "image", index 0.
struct Input {
  std::string role;
  AssetId asset_id = 0;
  std::int64_t index = 0;
  bool in_array = false;
};

Result<std::vector<Input>> InputsOf(const json::object& params) {
  std::vector<Input> inputs;
  for (const auto& [key_view, value] : params) {
    const std::string key(key_view);
    auto positive = [&](const json::value& v) -> Result<AssetId> {
      if (!v.is_int64() || v.as_int64() < 1) {
        return Fail(ErrorCode::kInvalidArgument,
                    "params." + key + " must name assets by their positive integer ids");
      }
      return v.as_int64();
    };
    if (key.size() > kIdSuffix.size() && key.ends_with(kIdSuffix)) {
      PV_ASSIGN_OR_RETURN(AssetId id, positive(value));
      inputs.push_back({key.substr(0, key.size() - kIdSuffix.size()), id, 0, false});
    } else if (key.size() > kIdsSuffix.size() && key.ends_with(kIdsSuffix)) {
      if (!value.is_array() || value.as_array().empty()) {
        return Fail(ErrorCode::kInvalidArgument, "params." + key + " must be a non-empty array");
      }
      std::int64_t index = 0;
      for (const json::value& v : value.as_array()) {
        PV_ASSIGN_OR_RETURN(AssetId id, positive(v));
        inputs.push_back({key.substr(0, key.size() - kIdsSuffix.size()), id, index++, true});
      }
    }
    if (inputs.size() > kMaxInputs) {
      return Fail(ErrorCode::kInvalidArgument,
                  "at most " + std::to_string(kMaxInputs) + " input assets per job");
    }
  }
  return inputs;
}

std::optional<double> NumberParam(const json::object& params, const std::string& role,
                                  std::string_view name) {
  for (const std::string& key : {role + "_" + std::string(name), std::string(name)}) {
    const json::value* v = params.if_contains(key);
    if (v != nullptr && v->is_number()) return v->to_number<double>();
  }
  return std::nullopt;
}

std::string PartPrefix(JobId job) { return "generate-" + std::to_string(job) + "-"; }

std::optional<std::string> StringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<std::int64_t> IntMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return v->as_int64();
}

}  // namespace

Result<storage::Store::Enqueued> EnqueueGeneration(storage::Store& store, Resolver& resolver,
                                                   const providers::ProviderRegistry& providers,
                                                   const User& caller, GenerationRequest request) {
  std::shared_ptr<providers::Provider> provider = providers.Find(request.provider_id);
  if (provider == nullptr) {
    return Fail(ErrorCode::kNotFound, "unknown provider '" + request.provider_id + "'");
  }
  PV_RETURN_IF_ERROR(Parse<OperationType>(request.operation_type));
  const auto& ops = provider->capabilities().operations;
  if (std::find(ops.begin(), ops.end(), request.operation_type) == ops.end()) {
    std::string list;
    for (const std::string& op : ops) list += (list.empty() ? "" : ", ") + op;
    return Fail(ErrorCode::kInvalidArgument,
                "provider '" + request.provider_id + "' does not run " + request.operation_type +
                    (list.empty() ? " (it generates nothing)" : " (it runs: " + list + ")"));
  }
  if (request.timeout_s && (*request.timeout_s < 10 || *request.timeout_s > 86400)) {
    return Fail(ErrorCode::kInvalidArgument, "timeout_s must be within 10..86400");
  }
  if (json::serialize(request.params).size() > 64 * 1024) {
    return Fail(ErrorCode::kInvalidArgument, "params are larger than 64 KiB");
  }
  const Viewer viewer = Viewer::For(caller);
  PV_ASSIGN_OR_RETURN(auto account,
                      resolver.OpenAccount(viewer, request.provider_id, request.account_id));
  PV_ASSIGN_OR_RETURN(std::vector<Input> inputs, InputsOf(request.params));
  for (const Input& in : inputs) {
    auto asset = store.GetAsset(viewer, in.asset_id);
    if (!asset) {
      return Fail(ErrorCode::kNotFound,
                  "input asset " + std::to_string(in.asset_id) + " (" + in.role + ") not found");
    }
  }
  json::object payload{
      {"user_id", caller.id},           {"provider_id", request.provider_id},
      {"account_id", account.first.id}, {"operation_type", request.operation_type},
      {"params", request.params},       {"timeout_s", request.timeout_s.value_or(kDefaultTimeoutS)},
  };
  Job job;
  job.kind = std::string(kGenerateJobKind);
  job.user_id = caller.id;
  job.idempotency_key = request.idempotency_key;
  job.payload = json::serialize(payload);
  job.max_attempts = 5;
  return store.EnqueueJob(job);
}

Generator::Generator(storage::Store& store, Ingestor& ingestor, Resolver& resolver,
                     const providers::ProviderRegistry& providers, const Clock& clock,
                     GenerationOptions options)
    : store_(store),
      ingestor_(ingestor),
      resolver_(resolver),
      providers_(providers),
      clock_(clock),
      options_(std::move(options)) {
  if (options_.temp_dir.empty()) options_.temp_dir = std::filesystem::temp_directory_path();
}

void Generator::RemovePartFiles(JobId job) const {
  const std::string prefix = PartPrefix(job);
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(options_.temp_dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) {
      std::error_code ignored;
      std::filesystem::remove(it->path(), ignored);
    }
  }
}

void Generator::Sleep(Timestamp micros) const {
  if (micros <= 0) return;
  if (options_.sleep) {
    options_.sleep(micros);
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
}

Result<std::string> Generator::Run(JobContext& ctx) {
  const Job& job = ctx.job();
  boost::system::error_code ec;
  const json::value payload_value = json::parse(job.payload, ec);
  if (ec || !payload_value.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "generate job payload is not a JSON object");
  }
  const json::object& payload = payload_value.as_object();
  const auto user_id = IntMember(payload, "user_id");
  const auto provider_id = StringMember(payload, "provider_id");
  const auto account_id = IntMember(payload, "account_id");
  const auto operation = StringMember(payload, "operation_type");
  const json::value* params_value = payload.if_contains("params");
  if (!user_id || !provider_id || !account_id || !operation || params_value == nullptr ||
      !params_value->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "generate job payload is incomplete");
  }
  const json::object& params = params_value->as_object();
  const Timestamp timeout =
      IntMember(payload, "timeout_s").value_or(kDefaultTimeoutS) * kMicrosPerSecond;
  PV_ASSIGN_OR_RETURN(OperationType op_type, Parse<OperationType>(*operation));
  PV_ASSIGN_OR_RETURN(User user, store_.GetUser(*user_id));
  const Viewer viewer = Viewer::For(user);
  std::shared_ptr<providers::Provider> provider = providers_.Find(*provider_id);
  if (provider == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                "provider '" + *provider_id + "' is no longer configured on this server");
  }
  PV_ASSIGN_OR_RETURN(auto opened, resolver_.OpenAccount(viewer, *provider_id, *account_id));
  const providers::AccountAccess& access = opened.second;

  // Progress of earlier attempts.
  json::object progress;
  {
    const json::value previous = json::parse(job.result, ec);
    if (!ec && previous.is_object()) progress = previous.as_object();
  }
  auto save = [&]() -> Status {
    return store_.SaveJobProgress(job.id, ctx.owner(), json::serialize(progress));
  };

  PV_ASSIGN_OR_RETURN(std::vector<Input> inputs, InputsOf(params));
  std::optional<std::string> provider_job = StringMember(progress, "provider_job_id");
  if (!provider_job) {
    // Every input as a ref of this provider and account (verified: a ref the provider has
    // forgotten is uploaded again here, not discovered by a failed submission).
    json::object provider_params;
    json::array input_records;
    for (const auto& [key, value] : params) {
      const std::string k(key);
      if (!(k.ends_with(kIdSuffix) || k.ends_with(kIdsSuffix))) provider_params[key] = value;
    }
    for (const Input& in : inputs) {
      ResolveRequest r;
      r.asset_id = in.asset_id;
      r.provider_id = *provider_id;
      r.account_id = *account_id;
      r.verify = true;
      PV_ASSIGN_OR_RETURN(Resolution resolved, resolver_.Resolve(viewer, r));
      const std::string ref = resolved.upload.provider_ref.value_or("");
      if (in.in_array) {
        json::value& refs = provider_params[in.role + "_refs"];
        if (!refs.is_array()) refs = json::array{};
        refs.as_array().emplace_back(ref);
      } else {
        provider_params[in.role + "_ref"] = ref;
      }
      input_records.push_back(
          json::object{{"role", in.role}, {"asset_id", in.asset_id}, {"ref", ref}});
    }
    if (ctx.cancelled()) return Fail(ErrorCode::kUnavailable, "stopped before submitting");
    // The key is saved before the provider hears of the job: a submission whose answer is
    // lost (or whose job id this process died before saving) is retried under the same key,
    // and a provider honouring it answers with the job it already made. A retry whose request
    // differs (an input's ref was replaced meanwhile) is another submission: a provider would
    // refuse the old key with another request.
    const std::string request_digest =
        Sha256Hex(*operation + "\n" + json::serialize(provider_params));
    std::optional<std::string> submit_key = StringMember(progress, "submit_key");
    if (!submit_key || StringMember(progress, "submit_digest") != request_digest) {
      if (options_.new_submit_key) {
        submit_key = options_.new_submit_key();
      } else {
        PV_ASSIGN_OR_RETURN(submit_key, RandomSubmitKey());
      }
      progress["submit_key"] = *submit_key;
      progress["submit_digest"] = request_digest;
      PV_RETURN_IF_ERROR(save());
    }
    PV_ASSIGN_OR_RETURN(std::string submitted,
                        provider->Submit(access, *operation, provider_params, *submit_key));
    provider_job = submitted;
    progress["provider_job_id"] = submitted;
    progress["inputs"] = std::move(input_records);
    progress.erase("outputs");
    PV_RETURN_IF_ERROR(save());
  }

  // Poll until the provider's job ends, the deadline passes, or this job is cancelled.
  const Timestamp deadline = clock_.Now() + timeout;
  Timestamp delay = options_.poll_initial;
  providers::GenerationStatus status;
  std::string last_problem;
  int not_found = 0;  // a job just made may answer 404 for a moment
  for (;;) {
    if (ctx.cancelled()) {
      auto current = store_.GetJob(job.id);
      if (current && current->status == JobStatus::kCancelled) {
        (void)provider->Cancel(access, *provider_job);  // best effort: the job is over here
        return Fail(ErrorCode::kPermissionDenied, "cancelled");
      }
      return Fail(ErrorCode::kUnavailable, "stopped while waiting for the provider");
    }
    Result<providers::GenerationStatus> polled = provider->Poll(access, *provider_job);
    if (polled) {
      not_found = 0;
      status = std::move(*polled);
      progress["provider_status"] =
          std::string(status.state == providers::GenerationState::kQueued      ? "queued"
                      : status.state == providers::GenerationState::kRunning   ? "running"
                      : status.state == providers::GenerationState::kSucceeded ? "succeeded"
                      : status.state == providers::GenerationState::kFailed    ? "failed"
                                                                               : "canceled");
      if (status.state == providers::GenerationState::kSucceeded) break;
      if (status.state == providers::GenerationState::kFailed) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the provider's job " + *provider_job +
                        " failed: " + (status.error.empty() ? "no reason given" : status.error));
      }
      if (status.state == providers::GenerationState::kCanceled) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the provider's job " + *provider_job + " was canceled at the provider");
      }
    } else if (polled.error().code == ErrorCode::kNotFound && ++not_found < 5) {
      last_problem = polled.error().message;
    } else if (polled.error().code == ErrorCode::kNotFound) {
      // The provider forgot the job (e.g. it restarted): submit again on the next attempt,
      // and drop what was downloaded of the old job's outputs.
      progress.erase("provider_job_id");
      progress.erase("submit_key");  // a new submission: its own key
      progress.erase("submit_digest");
      RemovePartFiles(job.id);
      PV_RETURN_IF_ERROR(save());
      return Fail(ErrorCode::kUnavailable, "the provider no longer knows job " + *provider_job +
                                               "; it will be submitted again");
    } else if (polled.error().code != ErrorCode::kUnavailable) {
      return Fail(polled.error());
    } else {
      last_problem = polled.error().message;
    }
    if (clock_.Now() >= deadline) {
      return Fail(ErrorCode::kUnavailable,
                  "the provider's job " + *provider_job + " did not finish within " +
                      std::to_string(timeout / kMicrosPerSecond) + " s" +
                      (last_problem.empty() ? "" : " (last error: " + last_problem + ")") +
                      "; the next attempt resumes waiting for it");
    }
    Sleep(delay);
    delay = std::min(delay * 2, options_.poll_max);
  }
  if (status.outputs.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the provider's job " + *provider_job + " succeeded without outputs");
  }

  // Outputs: download (resumable), ingest, record ref and lineage; one at a time, saved.
  json::array outputs;
  if (const json::value* done = progress.if_contains("outputs"); done && done->is_array()) {
    outputs = done->as_array();
  }
  outputs.resize(status.outputs.size());
  for (std::size_t i = 0; i < status.outputs.size(); ++i) {
    if (outputs[i].is_object() && outputs[i].as_object().contains("asset_id")) continue;
    const providers::ProviderRef& out = status.outputs[i];
    // Named by the provider's job and output too, so a resumed download only ever continues
    // the same file.
    const std::filesystem::path part =
        options_.temp_dir /
        (PartPrefix(job.id) + Sha256Hex(*provider_job + "\n" + out.ref).substr(0, 16) + "-" +
         std::to_string(i) + ".part");
    DownloadOptions download;
    download.max_bytes = options_.max_output_bytes;
    download.not_found_retries = options_.cdn_not_found_retries;
    download.initial_backoff = options_.poll_initial;
    download.max_backoff = options_.poll_max;
    download.sleep = [this](Timestamp t) { Sleep(t); };
    Result<std::int64_t> fetched = DownloadToFile(*provider, access, out, part, download);
    if (!fetched) {
      // A partial file the provider will not continue (a changed file, a refused range):
      // start this output over on the next attempt.
      std::error_code ignored;
      std::filesystem::remove(part, ignored);
      return Fail(fetched.error());
    }
    IngestRequest ingest;
    ingest.filename = *provider_id + "-" + out.ref;
    ingest.upload_method = UploadMethod::kProvider;
    ingest.provider_id = *provider_id;
    ingest.provider_asset_id = out.ref;
    ingest.provider_account_id = *account_id;
    Result<IngestResult> ingested = ingestor_.IngestFile(user, part, ingest);
    if (!ingested) {
      std::error_code ignored;
      std::filesystem::remove(part, ignored);
      return Fail(WithContext(ingested.error(), "output " + out.ref));
    }
    const Asset& asset = ingested->asset;
    // The output is on the provider already: resolving it there needs no upload.
    ProviderUpload row;
    row.asset_id = asset.id;
    row.provider_id = *provider_id;
    row.account_id = *account_id;
    row.provider_ref = out.ref;
    if (!out.url.empty()) row.provider_url = out.url;
    row.status = UploadStatus::kUploaded;
    row.uploaded_at = clock_.Now();
    row.expires_at = out.expires_at;
    if (!row.expires_at && provider->capabilities().ref_ttl > 0) {
      row.expires_at = *row.uploaded_at + provider->capabilities().ref_ttl;
    }
    PV_RETURN_IF_ERROR(store_.PutProviderUpload(row));
    std::vector<LineageEdge> edges;
    for (const Input& in : inputs) {
      if (in.asset_id == asset.id) continue;  // identical bytes: no edge to itself
      LineageEdge e;
      e.child_asset_id = asset.id;
      e.parent_asset_id = in.asset_id;
      e.parent_role = in.role;
      e.operation_type = op_type;
      e.operation_job_id = job.id;
      e.parent_start_time = NumberParam(params, in.role, "start_time");
      e.parent_end_time = NumberParam(params, in.role, "end_time");
      if (auto frame = NumberParam(params, in.role, "frame");
          frame && *frame >= 0 && *frame < 1e12) {
        e.parent_frame = static_cast<std::int64_t>(*frame);
      }
      e.sequence_order = in.index;
      edges.push_back(std::move(e));
    }
    if (ingested->duplicate && !edges.empty()) {
      // Bytes the user already had (or this job ingested before a crash): add only the
      // edges the asset does not have yet.
      PV_ASSIGN_OR_RETURN(std::vector<LineageEdge> existing, store_.ListParents(viewer, asset.id));
      std::erase_if(edges, [&](const LineageEdge& e) {
        return std::any_of(existing.begin(), existing.end(), [&](const LineageEdge& x) {
          return x.parent_asset_id == e.parent_asset_id && x.parent_role == e.parent_role;
        });
      });
    }
    if (!edges.empty()) {
      auto added = store_.AddLineage(viewer, edges);
      // A cycle (an output identical to an ancestor of an input) is no reason to lose the
      // output; the job's result still names its inputs.
      if (!added && added.error().code != ErrorCode::kInvalidArgument) return Fail(added.error());
    }
    outputs[i] = json::object{{"ref", out.ref},
                              {"url", out.url},
                              {"asset_id", asset.id},
                              {"duplicate", ingested->duplicate}};
    progress["outputs"] = outputs;
    PV_RETURN_IF_ERROR(save());
    std::error_code ignored;
    std::filesystem::remove(part, ignored);
  }
  return json::serialize(progress);
}

void RegisterGenerationJob(WorkerPool& pool, Generator& generator) {
  pool.Register(std::string(kGenerateJobKind),
                [&generator](JobContext& ctx) { return generator.Run(ctx); });
}

}  // namespace pixvault::service
