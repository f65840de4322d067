// `pixvault ls`, `show`, `rm`.
#include <boost/json.hpp>

#include <iomanip>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "service/asset_json.h"
#include "service/assets.h"

namespace pixvault::cli {
namespace {

std::string HumanSize(std::optional<std::int64_t> bytes) {
  if (!bytes) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(*bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream s;
  s << std::fixed << std::setprecision(u ? 1 : 0) << v << " " << units[u];
  return s.str();
}

}  // namespace

int CmdList(Context& ctx, const ListOptions& o) {
  storage::AssetFilter f;
  if (auto st = ParseOptional(o.type, f.media_type); !st) return ctx.ReportError(st.error());
  if (auto st = ParseOptional(o.domain, f.content_domain); !st) return ctx.ReportError(st.error());
  if (auto st = ParseOptional(o.rating, f.content_rating); !st) return ctx.ReportError(st.error());
  if (o.limit < 1 || o.limit > 1000) {
    return ctx.ReportError(Error{ErrorCode::kInvalidArgument, "--limit must be 1..1000"});
  }
  f.content_category = o.category;
  f.tags = o.tags;
  f.text = o.query;
  f.include_unsearchable = o.all;
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  auto page = (*store)->ListAssets(Viewer::For(*user), f, storage::PageRequest{o.limit, o.cursor});
  if (!page) return ctx.ReportError(page.error());
  if (ctx.options().json) {
    boost::json::array items;
    for (const Asset& a : page->items) items.push_back(service::AssetToJson(a));
    boost::json::object out{{"items", std::move(items)}};
    out["next_cursor"] =
        page->next_cursor ? boost::json::value(*page->next_cursor) : boost::json::value(nullptr);
    ctx.out() << service::ToJsonText(out) << "\n";
    return 0;
  }
  auto& out = ctx.out();
  out << std::left << std::setw(7) << "ID" << std::setw(9) << "TYPE" << std::setw(11) << "SIZE"
      << std::setw(11) << "DIMENSIONS" << std::setw(9) << "DURATION" << std::setw(14) << "CATEGORY"
      << "NAME\n";
  for (const Asset& a : page->items) {
    std::string dims =
        a.width && a.height ? std::to_string(*a.width) + "x" + std::to_string(*a.height) : "-";
    std::ostringstream dur;
    if (a.duration_sec) {
      dur << std::fixed << std::setprecision(1) << *a.duration_sec << "s";
    } else {
      dur << "-";
    }
    out << std::left << std::setw(7) << a.id << std::setw(9) << ToString(a.media_type)
        << std::setw(11) << HumanSize(a.file_size_bytes) << std::setw(11) << dims << std::setw(9)
        << dur.str() << std::setw(14) << a.content_category.value_or("-")
        << a.original_filename.value_or("-") << "\n";
  }
  if (page->next_cursor) out << "more: --cursor " << *page->next_cursor << "\n";
  return 0;
}

int CmdShow(Context& ctx, std::int64_t id) {
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  auto asset = (*store)->GetAsset(Viewer::For(*user), id);
  if (!asset) return ctx.ReportError(asset.error());
  auto uploads = (*store)->ListProviderUploads(Viewer::For(*user), id);
  if (!uploads) return ctx.ReportError(uploads.error());
  ctx.PrintJson(service::AssetToJson(*asset, *uploads));
  return 0;
}

int CmdRemove(Context& ctx, const std::vector<std::int64_t>& ids) {
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  const blob::DerivedFiles derived(ctx.options().data_dir);
  int code = 0;
  for (std::int64_t id : ids) {
    auto deleted = service::DeleteAsset(**store, **blobs, Viewer::For(*user), id, &derived);
    if (!deleted) {
      code = ctx.ReportError(deleted.error());
      continue;
    }
    if (ctx.options().json) {
      ctx.out() << service::ToJsonText(boost::json::object{{"deleted", id}}) << "\n";
    } else {
      ctx.out() << "deleted #" << id << "\n";
    }
  }
  return code;
}

}  // namespace pixvault::cli
