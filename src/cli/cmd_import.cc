// `pixvault import`: ingest files and folders.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdio>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "core/utf8.h"
#include "service/asset_json.h"
#include "service/ingest.h"

namespace pixvault::cli {
namespace {

struct Entry {
  std::filesystem::path path;
  std::optional<Error> error;  // the path could not be visited
};

// Lists the files to import. Directories need --recursive; symlinked directories are
// followed once each (a symlink loop is reported, not followed).
void Collect(const std::filesystem::path& root, bool recursive, std::vector<Entry>& out,
             std::ostream& warn) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    int err = errno;
    out.push_back({root, Error{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                               SanitizeUtf8(root.string()) + ": " + std::strerror(err)}});
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    out.push_back({root, std::nullopt});
    return;
  }
  if (!recursive) {
    out.push_back({root, Error{ErrorCode::kInvalidArgument,
                               SanitizeUtf8(root.string()) + " is a directory (use --recursive)"}});
    return;
  }
  std::set<std::pair<dev_t, ino_t>> visited;
  std::vector<std::filesystem::path> stack{root};
  visited.insert({st.st_dev, st.st_ino});
  while (!stack.empty()) {
    std::filesystem::path dir = stack.back();
    stack.pop_back();
    std::error_code ec;
    std::vector<std::filesystem::path> children;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      children.push_back(it->path());
    }
    if (ec) {
      out.push_back(
          {dir, Error{ErrorCode::kUnavailable, SanitizeUtf8(dir.string()) + ": " + ec.message()}});
      continue;
    }
    std::sort(children.begin(), children.end());
    // Push subdirectories in reverse so they are visited in name order.
    std::vector<std::filesystem::path> subdirs;
    for (const auto& child : children) {
      struct stat cst {};
      if (::stat(child.c_str(), &cst) != 0) {
        // A dangling symlink or a file removed since the listing: a per-file failure.
        out.push_back({child, std::nullopt});
        continue;
      }
      if (S_ISDIR(cst.st_mode)) {
        if (!visited.insert({cst.st_dev, cst.st_ino}).second) {
          warn << "pixvault: skipping " << SanitizeUtf8(child.string())
               << ": directory already visited (symlink loop)\n";
          continue;
        }
        subdirs.push_back(child);
      } else if (S_ISREG(cst.st_mode)) {
        out.push_back({child, std::nullopt});
      }
    }
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back(*it);
  }
}

std::string Describe(const Asset& a) {
  std::ostringstream s;
  s << "#" << a.id << " " << ToString(a.media_type);
  if (a.width && a.height) s << " " << *a.width << "x" << *a.height;
  if (a.duration_sec) s << " " << std::fixed << std::setprecision(1) << *a.duration_sec << "s";
  return s.str();
}

}  // namespace

int CmdImport(Context& ctx, const ImportOptions& options) {
  service::IngestRequest base;
  base.upload_method = UploadMethod::kCli;
  base.tags = options.tags;
  base.style_tags = options.style_tags;
  base.content_category = options.category;
  base.description = options.description;
  if (auto st = ParseOptional(options.domain, base.content_domain); !st)
    return ctx.ReportError(st.error());
  if (auto st = ParseOptional(options.rating, base.content_rating); !st)
    return ctx.ReportError(st.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());

  std::vector<Entry> entries;
  for (const auto& p : options.paths) Collect(p, options.recursive, entries, ctx.err());

  service::Ingestor ingestor(**store, **blobs, ctx.clock());
  const bool progress = !ctx.options().json && ::isatty(STDERR_FILENO);
  int created = 0, duplicates = 0, failed = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string shown = SanitizeUtf8(e.path.string());
    if (progress) {
      ctx.err() << "\r\033[K[" << (i + 1) << "/" << entries.size() << "] " << shown << std::flush;
    }
    Result<service::IngestResult> r = e.error ? Result<service::IngestResult>(Fail(*e.error))
                                              : ingestor.IngestFile(*user, e.path, base);
    if (r && !e.error) {
      (r->duplicate ? duplicates : created)++;
    } else {
      ++failed;
    }
    if (ctx.options().json) {
      boost::json::object o{{"path", shown}};
      if (r) {
        o["status"] = r->duplicate ? "duplicate" : "created";
        o["asset"] = service::AssetToJson(r->asset);
      } else {
        o["status"] = "error";
        o["error"] = service::ErrorToJson(r.error());
      }
      ctx.out() << service::ToJsonText(o) << "\n";
    } else if (r) {
      if (progress) ctx.err() << "\r\033[K";
      ctx.out() << (r->duplicate ? "duplicate " : "created   ") << Describe(r->asset) << "  "
                << shown << "\n";
    } else {
      if (progress) ctx.err() << "\r\033[K";
      ctx.err() << "pixvault: " << shown << ": " << r.error().message << "\n";
    }
  }
  if (progress) ctx.err() << "\r\033[K";
  if (!ctx.options().json) {
    ctx.err() << "imported " << created << ", duplicates " << duplicates << ", failed " << failed
              << "\n";
  }
  if (entries.empty()) {
    return ctx.ReportError(Error{ErrorCode::kInvalidArgument, "no files to import"});
  }
  return failed ? kExitPartialFailure : 0;
}

}  // namespace pixvault::cli
