// GET /api/v1/assets/{id}/file: the asset's bytes with ETag, conditional and range support.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>
#include <utility>

#include "http/api.h"
#include "http/api_util.h"
#include "http/problem.h"
#include "service/cache.h"

namespace pixvault::http {

namespace {

// How stale an asset's last_accessed_at may get before a read writes it again.
constexpr Timestamp kAccessTouchInterval = 60 * kMicrosPerSecond;

struct ByteRange {
  std::int64_t first = 0;
  std::int64_t last = 0;  // inclusive
};

// Parses a single "bytes=" range against `size`. nullopt: no usable Range (serve all);
// kInvalidArgument: unsatisfiable (416).
Result<std::optional<ByteRange>> ParseRange(std::string_view header, std::int64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (!header.starts_with(kPrefix)) return std::optional<ByteRange>();
  std::string_view spec = header.substr(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();  // multi
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return Fail(ErrorCode::kInvalidArgument, "bad range");
  auto parse = [](std::string_view s, std::int64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && out >= 0;
  };
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  ByteRange r;
  if (a.empty()) {  // suffix: the last N bytes
    std::int64_t n = 0;
    if (!parse(b, n) || n == 0 || size == 0) {
      return Fail(ErrorCode::kInvalidArgument, "unsatisfiable range");
    }
    r.first = std::max<std::int64_t>(0, size - n);
    r.last = size - 1;
    return std::optional<ByteRange>(r);
  }
  if (!parse(a, r.first)) return Fail(ErrorCode::kInvalidArgument, "bad range");
  if (b.empty()) {
    r.last = size - 1;
  } else if (!parse(b, r.last)) {
    return Fail(ErrorCode::kInvalidArgument, "bad range");
  }
  if (r.first > r.last || r.first >= size) {
    return Fail(ErrorCode::kInvalidArgument, "unsatisfiable range");
  }
  r.last = std::min(r.last, size - 1);
  return std::optional<ByteRange>(r);
}

// Content-Disposition with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187).
std::string Disposition(const std::string& name) {
  std::string ascii, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (plain) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0xf];
    }
  }
  return "inline; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

using OpenedFile = std::pair<std::shared_ptr<const int>, std::int64_t>;  // fd, size

// The asset's bytes opened for reading. Bytes evicted from the local cache are fetched back
// first (service::FetchBackBytes) when `may_restore`; without, nullopt says they must be (or
// that the bytes must be marked local again: a database write). The file is opened before
// its assets are marked local again, and an eviction pass leaves `remote` assets alone, so no
// eviction can take the bytes between the fetch-back and the open; once open, an eviction
// cannot take them from this reader either (an open file stays readable).
Result<std::optional<OpenedFile>> OpenAssetFile(ApiContext& api, const Asset& a, bool may_restore) {
  if (!a.sha256 ||
      (a.sync_status != SyncStatus::kDownloaded && a.sync_status != SyncStatus::kRemote)) {
    return Fail(ErrorCode::kUnavailable, "the bytes of asset " + std::to_string(a.id) +
                                             " are not stored locally (" +
                                             std::string(ToString(a.sync_status)) + ")");
  }
  const std::filesystem::path path = api.blobs.PathFor(*a.sha256);
  bool mark_local = a.sync_status == SyncStatus::kRemote;
  if (mark_local && !may_restore) return std::nullopt;
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      auto owned = std::shared_ptr<const int>(new int(fd), [](const int* p) {
        ::close(*p);
        delete p;
      });
      struct stat st {};
      if (::fstat(fd, &st) != 0) return Fail(ErrorCode::kInternal, "cannot stat a blob");
      if (mark_local) PV_RETURN_IF_ERROR(api.store.MarkBlobLocal(*a.sha256));
      return OpenedFile(std::move(owned), static_cast<std::int64_t>(st.st_size));
    }
    // Evicted (by this process or another) since the asset was read: fetch the bytes back.
    if (errno != ENOENT || attempt >= 4) {
      return Fail(ErrorCode::kUnavailable,
                  "the bytes of asset " + std::to_string(a.id) + " cannot be opened");
    }
    if (!may_restore) return std::nullopt;
    PV_RETURN_IF_ERROR(service::FetchBackBytes(api.blobs, api.resolver, a));
    mark_local = true;
  }
}

// Why an answer could not be given at once.
enum class Wait { kDatabase, kProvider };

// The answer for asset `a` (read for this request). `at_once` (on an I/O thread): nullopt
// when the answer would wait, on a provider (bytes to fetch back) or on the database (the
// access stamp to write), and `wait` says which.
std::optional<Result<Response>> FileAnswer(ApiContext& api, Request& req, const Asset& a,
                                           bool at_once, Wait* wait = nullptr) {
  // last_accessed_at orders the cache's eviction; a coarse stamp keeps reads free of writes.
  const Timestamp now = api.clock.Now();
  const bool touch = !a.last_accessed_at || now - *a.last_accessed_at >= kAccessTouchInterval;
  // Decided before opening, so a request handed on opens the file once: bytes known to be
  // evicted wait on a provider, a due stamp on the database.
  if (at_once && (a.sync_status == SyncStatus::kRemote || touch)) {
    if (wait != nullptr) {
      *wait = a.sync_status == SyncStatus::kRemote ? Wait::kProvider : Wait::kDatabase;
    }
    return std::nullopt;
  }
  Result<std::optional<OpenedFile>> file = OpenAssetFile(api, a, /*may_restore=*/!at_once);
  if (!file) return Result<Response>(Fail(file.error()));
  if (!*file) {  // evicted since the asset was read
    if (wait != nullptr) *wait = Wait::kProvider;
    return std::nullopt;
  }
  OpenedFile opened = std::move(**file);
  const AssetId id = a.id;
  const std::int64_t size = opened.second;
  if (touch) (void)api.store.TouchAsset(id, now);
  const std::string etag = "\"" + *a.sha256 + "\"";
  Response r;
  r.headers.Set("ETag", etag);
  r.headers.Set("Cache-Control", "private, max-age=31536000, immutable");
  r.headers.Set("Accept-Ranges", "bytes");
  if (auto inm = req.headers.Get("If-None-Match"); inm && EtagMatches(*inm, etag)) {
    r.status = 304;
    return r;
  }
  r.headers.Set("Content-Type", a.mime_type.value_or("application/octet-stream"));
  r.headers.Set("Content-Disposition",
                Disposition(a.original_filename.value_or("asset-" + std::to_string(id))));
  FileBody body{api.blobs.PathFor(*a.sha256), 0, size, std::move(opened.first)};
  auto range_header = req.headers.Get("Range");
  auto if_range = req.headers.Get("If-Range");
  if (range_header && (!if_range || *if_range == etag)) {
    auto range = ParseRange(*range_header, size);
    if (!range) {
      Response bad = Problem(416, "range_not_satisfiable",
                             "range '" + std::string(*range_header) + "' does not fit " +
                                 std::to_string(size) + " bytes");
      bad.headers.Set("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    if (*range) {
      body.offset = (*range)->first;
      body.length = (*range)->last - (*range)->first + 1;
      r.status = 206;
      r.headers.Set("Content-Range", "bytes " + std::to_string((*range)->first) + "-" +
                                         std::to_string((*range)->last) + "/" +
                                         std::to_string(size));
    }
  }
  r.file = body;
  return r;
}

Result<Response> GetFile(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Asset a, api.store.GetAsset(Viewer::For(*req.user), id));
  return *FileAnswer(api, req, a, /*at_once=*/false);
}

// Bytes that are here are answered on the I/O thread (or, when the access stamp is due, on the
// blocking pool); bytes to fetch back from a provider go to the remote pool, so a hung
// provider never holds the threads of local downloads. The asset read here goes along.
std::optional<Result<Response>> GetFileAtOnce(ApiContext& api, Request& req) {
  Result<std::int64_t> id = PathId(req, "id");
  if (!id) return Result<Response>(Fail(id.error()));
  Result<Asset> a = api.store.GetAsset(Viewer::For(*req.user), *id);
  if (!a) return Result<Response>(Fail(a.error()));
  Wait wait = Wait::kDatabase;
  std::optional<Result<Response>> now = FileAnswer(api, req, *a, /*at_once=*/true, &wait);
  if (!now) {
    req.then = [&api, &req, asset = std::move(*a)] {
      return *FileAnswer(api, req, asset, /*at_once=*/false);
    };
    req.then_remote = wait == Wait::kProvider;
  }
  return now;
}

}  // namespace

void RegisterFileRoutes(Router& router, ApiContext& api) {
  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  ParamDoc range{"Range", "header", "string", false, false, "A single byte range: bytes=0-1023",
                 {},      {},       {}};
  ParamDoc inm{"If-None-Match",
               "header",
               "string",
               false,
               false,
               "ETag from a previous response",
               {},
               {},
               {}};
  router.Add(Route{"GET", "/api/v1/assets/{id}/file", "getAssetFile", true, 0,
                   [&api](Request& r) { return GetFile(api, r); }, nullptr,
                   RouteDoc{"Download the asset's bytes (ETag, If-None-Match, single Range); bytes "
                            "evicted from the local cache are fetched back from a provider first",
                            "files",
                            {id, range, inm},
                            {},
                            "",
                            false,
                            {{200, "The bytes", "", "application/octet-stream"},
                             {206, "A byte range", "", "application/octet-stream"},
                             {304, "Not modified", ""},
                             {416, "Range not satisfiable", "Problem", "application/problem+json"},
                             {503, "The bytes are not local and cannot be fetched back now",
                              "Problem", "application/problem+json"}}},
                   /*blocking=*/true, /*remote=*/false,
                   [&api](Request& r) { return GetFileAtOnce(api, r); }});
}

}  // namespace pixvault::http
