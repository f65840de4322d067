// `pixvault analyze ID...|--all [--force] [--steps a,b]`: runs media analysis in this process
// (the same steps a server's "analyze" jobs run) and reports each asset's outcome.
#include <boost/json.hpp>

#include <ostream>

#include "blob/derived_files.h"
#include "cli/commands.h"
#include "core/text.h"
#include "service/analysis.h"

namespace pixvault::cli {

int CmdAnalyze(Context& ctx, const AnalyzeOptions& o) {
  if (o.ids.empty() == !o.all) {
    return ctx.ReportError(
        Error{ErrorCode::kInvalidArgument, "give asset ids or --all (not both)"});
  }
  std::vector<std::string> steps;
  if (o.steps) steps = SplitCommaList(*o.steps);
  if (auto st = service::Analyzer::ValidateSteps(steps); !st) return ctx.ReportError(st.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  const Viewer viewer = Viewer::For(*user);

  std::vector<AssetId> ids = o.ids;
  if (o.all) {
    storage::AssetFilter f;
    f.include_unsearchable = true;
    storage::PageRequest page{1000, std::nullopt};
    for (;;) {
      auto listed = (*store)->ListAssets(viewer, f, page);
      if (!listed) return ctx.ReportError(listed.error());
      for (const Asset& a : listed->items) ids.push_back(a.id);
      if (!listed->next_cursor) break;
      page.cursor = listed->next_cursor;
    }
  }

  blob::DerivedFiles derived(ctx.options().data_dir);
  service::Analyzer analyzer(**store, **blobs, derived, ctx.clock());
  boost::json::array results;
  bool any_failed = false;
  for (AssetId id : ids) {
    // The caller must be allowed to see the asset; the analysis itself acts for the system.
    auto asset = (*store)->GetAsset(viewer, id);
    Result<service::AnalysisOutcome> outcome =
        asset ? analyzer.Analyze(id, steps, o.force)
              : Result<service::AnalysisOutcome>(tl::unexpected(asset.error()));
    if (!outcome) {
      // An unknown id among several is reported and the others still run.
      if (ids.size() == 1) return ctx.ReportError(outcome.error());
      any_failed = true;
      if (ctx.options().json) {
        results.push_back({{"asset_id", id}, {"error", outcome.error().message}});
      } else {
        ctx.err() << "pixvault: asset " << id << ": " << outcome.error().message << "\n";
      }
      continue;
    }
    any_failed = any_failed || outcome->failed();
    if (ctx.options().json) {
      results.push_back(boost::json::parse(outcome->ToJson()));
      continue;
    }
    ctx.out() << "asset " << id << ":";
    if (outcome->steps.empty()) ctx.out() << " no step applies";
    for (const auto& s : outcome->steps) {
      ctx.out() << " " << s.name << " " << s.state;
      if (s.error) ctx.out() << " (" << *s.error << ")";
      if (&s != &outcome->steps.back()) ctx.out() << ",";
    }
    ctx.out() << "\n";
  }
  if (ctx.options().json) ctx.out() << boost::json::serialize(results) << "\n";
  return any_failed ? kExitPartialFailure : 0;
}

}  // namespace pixvault::cli
