#include "providers/fake/fake_provider.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <system_error>

namespace pixvault::providers::fake {

namespace json = boost::json;
using http::Request;
using http::Response;

Response JsonError(int status, std::string_view message) {
  json::object o;
  o["error"] = message;
  return Response::Json(status, json::serialize(o));
}

namespace {

Response UnknownRef() { return JsonError(404, "unknown ref"); }

// A single "bytes=a-b", "bytes=a-" or "bytes=-n" range against `size`: {first, last}, nullopt
// when the header is not a single byte range (serve everything), kInvalidArgument when the
// range cannot be satisfied.
Result<std::optional<std::pair<std::int64_t, std::int64_t>>> ParseRange(std::string_view header,
                                                                        std::int64_t size) {
  using Range = std::optional<std::pair<std::int64_t, std::int64_t>>;
  constexpr std::string_view kPrefix = "bytes=";
  if (!header.starts_with(kPrefix)) return Range();
  std::string_view spec = header.substr(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return Range();
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return Fail(ErrorCode::kInvalidArgument, "bad range");
  auto parse = [](std::string_view s, std::int64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  std::int64_t first = 0, last = 0;
  const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) {  // suffix: the last n bytes
    if (!parse(b, last) || last == 0 || size == 0) {
      return Fail(ErrorCode::kInvalidArgument, "unsatisfiable range");
    }
    return Range({std::max<std::int64_t>(0, size - last), size - 1});
  }
  if (!parse(a, first)) return Fail(ErrorCode::kInvalidArgument, "bad range");
  last = size - 1;
  if (!b.empty() && !parse(b, last)) return Fail(ErrorCode::kInvalidArgument, "bad range");
  if (first >= size || last < first) {
    return Fail(ErrorCode::kInvalidArgument, "unsatisfiable range");
  }
  return Range({first, std::min(last, size - 1)});
}

}  // namespace

// Streams an upload into a temporary file; the file is renamed into place, or removed, by
// FinishUpload. Dropped without Finish (aborted upload): the temporary file is removed.
class FakeProvider::UploadSink final : public http::BodySink {
 public:
  UploadSink(FakeProvider& provider, Request req, std::filesystem::path temp)
      : provider_(provider), req_(std::move(req)), temp_(std::move(temp)) {
    out_.open(temp_, std::ios::binary | std::ios::trunc);
  }
  ~UploadSink() override {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
  Status Write(std::span<const std::byte> chunk) override {
    out_.write(reinterpret_cast<const char*>(chunk.data()),
               static_cast<std::streamsize>(chunk.size()));
    if (!out_) return Fail(ErrorCode::kInternal, "cannot write " + temp_.string());
    return Ok();
  }
  Result<Response> Finish() override {
    out_.close();
    if (!out_) return Fail(ErrorCode::kInternal, "cannot write " + temp_.string());
    return provider_.FinishUpload(req_, temp_);
  }

 private:
  FakeProvider& provider_;
  Request req_;
  std::filesystem::path temp_;
  std::ofstream out_;
};

FakeProvider::FakeProvider(FakeProviderOptions options)
    : options_(std::move(options)), clock_(options_.clock ? *options_.clock : system_clock_) {
  for (std::size_t i = 0; i < options_.tokens.size(); ++i) {
    const std::string account = "account_" + std::to_string(i + 1);
    accounts_.emplace(options_.tokens[i], account);
    stats_.accounts[account] = AccountStats{};
  }
  AddRoutes();
}

FakeProvider::~FakeProvider() { Stop(); }

Status FakeProvider::Start() {
  if (options_.tokens.empty()) return Fail(ErrorCode::kInvalidArgument, "no tokens given");
  if (options_.data_dir.empty()) return Fail(ErrorCode::kInvalidArgument, "no data folder given");
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir / "files", ec);
  if (!ec) std::filesystem::create_directories(options_.data_dir / "tmp", ec);
  if (ec) {
    return Fail(ErrorCode::kInternal,
                "cannot create " + options_.data_dir.string() + ": " + ec.message());
  }
  http::ServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  so.threads = 2;
  so.blocking_threads = options_.blocking_threads;
  so.shutdown_grace = 2 * kMicrosPerSecond;
  server_ = std::make_unique<http::Server>(
      router_,
      [](std::string_view) -> Result<User> {
        return Fail(ErrorCode::kPermissionDenied, "authentication is done by the routes");
      },
      metrics_, so);
  PV_RETURN_IF_ERROR(server_->Start());
  for (int i = 0; i < std::max(1, options_.generation_threads); ++i) {
    workers_.emplace_back([this] { GenerationWorker(); });
  }
  started_ = true;
  return Ok();
}

void FakeProvider::Stop() {
  if (!started_.exchange(false)) return;
  faults_.Shutdown();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  server_->Stop();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

std::string FakeProvider::base_url() const {
  return "http://" + options_.host + ":" + std::to_string(port());
}

Stats FakeProvider::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void FakeProvider::ResetStats() {
  std::lock_guard lock(mu_);
  Stats fresh;
  for (const auto& [name, counters] : stats_.accounts) fresh.accounts[name] = AccountStats{};
  stats_ = fresh;
}

void FakeProvider::ExpireAllRefs() {
  std::lock_guard lock(mu_);
  const Timestamp now = clock_.Now();
  for (auto& [id, file] : files_) {
    if (file->expires_at == 0 || file->expires_at > now) file->expires_at = now;
  }
}

std::optional<std::string> FakeProvider::AccountOf(const std::string& token) const {
  auto it = accounts_.find(token);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

void FakeProvider::Count(const std::string& account, std::int64_t AccountStats::*counter,
                         std::int64_t n) {
  std::lock_guard lock(mu_);
  stats_.total.*counter += n;
  stats_.accounts[account].*counter += n;
}

std::optional<Response> FakeProvider::Admit(const Request& req, const std::string& route,
                                            std::string& account) {
  // The account is known before the faults act, so a request that is failed, hung or delayed
  // is still counted for its account.
  constexpr std::string_view kBearer = "Bearer ";
  auto auth = req.headers.Get("Authorization");
  std::optional<std::string> found;
  if (auth && auth->starts_with(kBearer))
    found = AccountOf(std::string(auth->substr(kBearer.size())));
  {
    std::lock_guard lock(mu_);
    ++stats_.requests;
    if (found && route == "upload") {
      ++stats_.total.upload_requests;
      ++stats_.accounts[*found].upload_requests;
    }
    if (found && route == "content") {
      ++stats_.total.download_requests;
      ++stats_.accounts[*found].download_requests;
    }
  }
  if (!faults_.WaitWhileHung()) return JsonError(503, "shutting down");
  const std::int64_t latency = faults_.Get().latency_ms;
  if (latency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  if (auto status = faults_.TakeFailure(route)) {
    std::lock_guard lock(mu_);
    ++stats_.failures_injected;
    return JsonError(*status, "injected failure");
  }
  if (!auth || !auth->starts_with(kBearer)) return JsonError(401, "missing bearer token");
  if (!found) return JsonError(401, "unknown token");
  account = *found;
  return std::nullopt;
}

std::shared_ptr<FakeProvider::File> FakeProvider::FindFile(const std::string& id,
                                                           const std::string& account) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(id);
  if (it == files_.end() || it->second->account != account) return nullptr;
  if (it->second->expires_at != 0 && it->second->expires_at <= clock_.Now()) return nullptr;
  return it->second;
}

std::string FakeProvider::FileUrl(const Request& req, const std::string& id) const {
  // The Host the client used, so URLs work through port forwarding and 0.0.0.0 listeners.
  std::string host = options_.host + ":" + std::to_string(port());
  if (auto h = req.headers.Get("Host"); h && !h->empty()) {
    host = std::string(*h);
    const auto colon = host.rfind(':');
    if (colon == std::string::npos || host.find(']', colon) != std::string::npos) {
      host += ":" + std::to_string(port());  // no port given: ours, not 80
    }
  }
  return "http://" + host + "/v1/files/" + id + "/content";
}

std::string FakeProvider::FileJson(const Request& req, const File& file) const {
  json::object o;
  o["id"] = file.id;
  o["url"] = FileUrl(req, file.id);
  o["content_type"] = file.content_type;
  o["size"] = file.size;
  o["created_at"] = file.created_at / kMicrosPerSecond;
  Timestamp expires_at = 0;
  {
    std::lock_guard lock(mu_);
    expires_at = file.expires_at;
  }
  if (expires_at == 0) {
    o["expires_at"] = nullptr;
  } else {
    o["expires_at"] = expires_at / kMicrosPerSecond;
  }
  return json::serialize(o);
}

std::shared_ptr<FakeProvider::File> FakeProvider::AddFile(const std::string& account,
                                                          const std::filesystem::path& from,
                                                          std::string content_type) {
  auto file = std::make_shared<File>();
  file->account = account;
  file->content_type = std::move(content_type);
  std::error_code ec;
  file->size = static_cast<std::int64_t>(std::filesystem::file_size(from, ec));
  if (ec) return nullptr;
  const std::int64_t ttl = faults_.Get().ref_ttl_s;
  std::lock_guard lock(mu_);
  file->id = "file_" + std::to_string(next_file_++);
  file->path = options_.data_dir / "files" / file->id;
  std::filesystem::rename(from, file->path, ec);
  if (ec) return nullptr;
  file->created_at = clock_.Now();
  file->expires_at = ttl > 0 ? file->created_at + ttl * kMicrosPerSecond : 0;
  files_[file->id] = file;
  return file;
}

Result<std::unique_ptr<http::BodySink>> FakeProvider::BeginUpload(Request& req) {
  std::filesystem::path temp;
  {
    std::lock_guard lock(mu_);
    temp = options_.data_dir / "tmp" / ("upload_" + std::to_string(next_temp_++));
  }
  return std::unique_ptr<http::BodySink>(std::make_unique<UploadSink>(*this, req, temp));
}

Result<Response> FakeProvider::FinishUpload(const Request& req, const std::filesystem::path& temp) {
  std::string account;
  if (auto refused = Admit(req, "upload", account)) return *refused;
  const std::optional<std::string> key = IdempotencyKeyOf(req);
  if (!key) return JsonError(400, "Idempotency-Key must be 1 to 255 visible ASCII characters");
  // A key names one upload per account: while its file lives, the same key answers that file
  // (200) and stores nothing; with a body of another size it is refused.
  std::unique_lock<std::mutex> keyed;
  if (!key->empty()) {
    keyed = std::unique_lock(keyed_upload_mu_);
    std::shared_ptr<File> earlier;
    {
      std::lock_guard lock(mu_);
      if (auto it = keyed_files_.find({account, *key}); it != keyed_files_.end()) {
        earlier = it->second;
      }
    }
    if (earlier) earlier = FindFile(earlier->id, account);  // gone once deleted or expired
    if (earlier) {
      std::error_code ec;
      if (static_cast<std::int64_t>(std::filesystem::file_size(temp, ec)) != earlier->size) {
        return JsonError(422, "Idempotency-Key already used for another file");
      }
      Count(account, &AccountStats::replayed_uploads);
      // A gateway loses the answer to a replay as readily as any other.
      if (faults_.TakeLostUpload()) return JsonError(504, "gateway timeout");
      return Response::Json(200, FileJson(req, *earlier));
    }
  }
  if (faults_.TakeModeration()) return JsonError(422, "moderated");
  std::string content_type = "application/octet-stream";
  if (auto ct = req.headers.Get("Content-Type"); ct && !ct->empty()) content_type = *ct;
  auto file = AddFile(account, temp, content_type);
  if (!file) return JsonError(500, "cannot store the upload");
  if (!key->empty()) {
    std::lock_guard lock(mu_);
    keyed_files_[{account, *key}] = file;
  }
  Count(account, &AccountStats::uploads);
  Count(account, &AccountStats::upload_bytes, file->size);
  if (faults_.TakeLostUpload()) {
    // Stored; the answer claims otherwise, as from a gateway that gave up waiting.
    return JsonError(504, "gateway timeout");
  }
  return Response::Json(201, FileJson(req, *file));
}

std::optional<std::string> IdempotencyKeyOf(const http::Request& req) {
  const auto header = req.headers.Get("Idempotency-Key");
  if (!header) return std::string();
  const std::string key(*header);
  if (key.empty() || key.size() > 255 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return std::nullopt;
  }
  return key;
}

Result<Response> FakeProvider::GetFile(Request& req) {
  std::string account;
  if (auto refused = Admit(req, "file", account)) return *refused;
  auto file = FindFile(std::string(req.PathParam("id")), account);
  if (!file) return UnknownRef();
  return Response::Json(200, FileJson(req, *file));
}

Result<Response> FakeProvider::GetContent(Request& req) {
  std::string account;
  if (auto refused = Admit(req, "content", account)) return *refused;
  auto file = FindFile(std::string(req.PathParam("id")), account);
  if (!file) return UnknownRef();
  // CDN propagation: the file exists (metadata answers) but its content is not served yet.
  const std::int64_t delay_ms = faults_.Get().cdn_delay_ms;
  if (delay_ms > 0 && clock_.Now() < file->created_at + delay_ms * 1000) {
    return JsonError(404, "not yet propagated");
  }
  Response r;
  r.headers.Set("Content-Type", file->content_type);
  r.headers.Set("Accept-Ranges", "bytes");
  http::FileBody body{file->path, 0, file->size, nullptr};
  if (auto range_header = req.headers.Get("Range")) {
    auto range = ParseRange(*range_header, file->size);
    if (!range) {
      Response bad = JsonError(416, range.error().message);
      bad.headers.Set("Content-Range", "bytes */" + std::to_string(file->size));
      return bad;
    }
    if (*range) {
      body.offset = (*range)->first;
      body.length = (*range)->second - (*range)->first + 1;
      r.status = 206;
      r.headers.Set("Content-Range", "bytes " + std::to_string((*range)->first) + "-" +
                                         std::to_string((*range)->second) + "/" +
                                         std::to_string(file->size));
    }
  }
  r.file = body;
  Count(account, &AccountStats::downloads);
  Count(account, &AccountStats::download_bytes, body.length);
  return r;
}

Result<Response> FakeProvider::DeleteFile(Request& req) {
  std::string account;
  if (auto refused = Admit(req, "delete", account)) return *refused;
  auto file = FindFile(std::string(req.PathParam("id")), account);
  if (!file) return UnknownRef();
  {
    std::lock_guard lock(mu_);
    files_.erase(file->id);
  }
  // A download in progress keeps its open descriptor; the name goes now.
  std::error_code ec;
  std::filesystem::remove(file->path, ec);
  Count(account, &AccountStats::deletes);
  return Response{204, {}, {}, {}};
}

}  // namespace pixvault::providers::fake
