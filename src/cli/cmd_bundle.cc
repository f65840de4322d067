// `pixvault bundle export`: a game bundle on stdout, or in a folder with its media.
#include <unistd.h>

#include <boost/json.hpp>

#include <ostream>

#include "blob/env.h"
#include "cli/commands.h"
#include "core/sha256.h"
#include "service/asset_json.h"
#include "service/bundle.h"

namespace pixvault::cli {
namespace {

namespace fs = std::filesystem;

std::string TempName(const fs::path& final_path) {
  return final_path.string() + ".tmp-" + std::to_string(::getpid());
}

// Writes `data` to `path` through a temp file and a rename: the file is whole or absent.
Status WriteFileAtomically(blob::Env& env, const fs::path& path, std::string_view data) {
  const fs::path tmp = TempName(path);
  (void)env.RemoveFile(tmp);  // left by an interrupted export of this pid; absent normally
  PV_ASSIGN_OR_RETURN(auto file, env.NewWritableFile(tmp));
  Status st = file->Append(std::as_bytes(std::span(data.data(), data.size())));
  if (st) st = file->Sync();
  if (st) st = file->Close();
  if (st) st = env.RenameFile(tmp, path);
  if (!st) (void)env.RemoveFile(tmp);
  return st;
}

// Copies a blob to `path` (temp file, sha256 checked, rename). A file already there with
// the blob's size is kept: its name is the content address and it was renamed into place
// whole by an earlier export.
Status CopyBlob(blob::Env& env, blob::BlobStore& blobs, const service::BundleFile& f,
                const fs::path& path) {
  PV_ASSIGN_OR_RETURN(auto reader, blobs.Open(f.sha256));
  if (auto info = env.Stat(path); info && info->size == reader->size()) return Ok();
  const fs::path tmp = TempName(path);
  (void)env.RemoveFile(tmp);
  PV_ASSIGN_OR_RETURN(auto file, env.NewWritableFile(tmp));
  auto copy = [&]() -> Status {
    Sha256 hash;
    std::vector<std::byte> buffer(1 << 20);
    for (;;) {
      PV_ASSIGN_OR_RETURN(std::size_t n, reader->Read(buffer));
      if (n == 0) break;
      const std::span<const std::byte> chunk(buffer.data(), n);
      hash.Update(chunk);
      PV_RETURN_IF_ERROR(file->Append(chunk));
    }
    if (hash.FinishHex() != f.sha256) {
      return Fail(ErrorCode::kCorrupt, "the stored bytes of asset " + std::to_string(f.asset_id) +
                                           " do not match their sha256 (run `pixvault fsck "
                                           "--verify`)");
    }
    PV_RETURN_IF_ERROR(file->Sync());
    PV_RETURN_IF_ERROR(file->Close());
    return env.RenameFile(tmp, path);
  };
  Status st = copy();
  if (!st) (void)env.RemoveFile(tmp);
  return st;
}

// The media first, the bundle last: a folder with a bundle.json is complete.
Status WriteFolder(Context& ctx, const service::ExportedBundle& bundle, const fs::path& dir,
                   bool with_media) {
  blob::PosixEnv env;
  PV_RETURN_IF_ERROR(env.CreateDirs(dir));
  if (with_media) {
    if (!bundle.without_bytes.empty()) {
      return Fail(ErrorCode::kUnavailable,
                  "asset " + std::to_string(bundle.without_bytes.front()) +
                      " has no local copy of its bytes, so the folder would not be complete (" +
                      std::to_string(bundle.without_bytes.size()) + " such node(s))");
    }
    PV_ASSIGN_OR_RETURN(blob::BlobStore * blobs, ctx.Blobs());
    PV_RETURN_IF_ERROR(env.CreateDirs(dir / "media"));
    for (const service::BundleFile& f : bundle.files) {
      PV_RETURN_IF_ERROR(CopyBlob(env, *blobs, f, dir / f.relative_path));
    }
    PV_RETURN_IF_ERROR(env.SyncDir(dir / "media"));
  }
  PV_RETURN_IF_ERROR(WriteFileAtomically(env, dir / "bundle.json", bundle.json));
  return env.SyncDir(dir);
}

}  // namespace

int CmdBundleExport(Context& ctx, const BundleExportOptions& options) {
  if (options.with_media && !options.out) {
    return ctx.ReportError(
        Error{ErrorCode::kInvalidArgument, "--with-media needs --out DIR to write the files to"});
  }
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  service::BundleOptions bundle_options;
  bundle_options.with_media = options.with_media;
  auto bundle = service::ExportBundle(**store, Viewer::For(*user), options.id, bundle_options,
                                      ctx.clock().Now());
  if (!bundle) return ctx.ReportError(bundle.error());

  if (!options.out) {
    ctx.out() << bundle->json << "\n";
  } else {
    const fs::path dir(*options.out);
    if (Status st = WriteFolder(ctx, *bundle, dir, options.with_media); !st) {
      return ctx.ReportError(st.error());
    }
    const std::string path = (dir / "bundle.json").string();
    if (ctx.options().json) {
      ctx.out() << service::ToJsonText(
                       boost::json::object{{"bundle", path},
                                           {"nodes", bundle->node_count},
                                           {"media_files", bundle->files.size()},
                                           {"validation_issues", bundle->issue_count}})
                << "\n";
    } else {
      ctx.out() << "wrote " << path << ": " << bundle->node_count << " node(s)";
      if (options.with_media) ctx.out() << ", " << bundle->files.size() << " media file(s)";
      ctx.out() << "\n";
    }
  }
  if (bundle->issue_count > 0) {
    ctx.err() << "validation: " << bundle->issue_count
              << " issue(s), listed under \"validation\" in the bundle\n";
  }
  return 0;
}

}  // namespace pixvault::cli
