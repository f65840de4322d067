// store_bench: the catalogue query targets of docs/benchmarks.md on one database.
//
// Loads a synthetic catalogue (synthetic_catalog.h), then measures each query three ways:
//   1. through the Store, the code path the service uses (p50/p95/mean per call);
//   2. the very statements that Store call sent (recorded by RecordingDatabase), replayed
//      through the sql layer: the database's share of the time;
//   3. the same statements with literal parameters in the database's own shell (sqlite3 or
//      psql): the reference the targets are compared with.
// Writes a JSON summary and a markdown section. Targets are reported, never asserted.
//
// Usage: store_bench --db URL [--assets N] [--edges N] [--iterations N] [--warmup N]
//                    [--budget-s S] [--reuse] [--load-only] [--json FILE] [--markdown FILE]
//                    [--title TEXT]
// --load-only loads the catalogue (user "bench") into the database and prints its shape as
// JSON, for the HTTP benchmark (scripts/bench_http.sh), without measuring.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "bench/bench_util.h"
#include "bench/cli_reference.h"
#include "bench/recording_database.h"
#include "bench/sql_literal.h"
#include "bench/synthetic_catalog.h"
#include "storage/migrations/migrator.h"
#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::bench {
namespace {

using storage::AssetFilter;
using storage::PageRequest;
using storage::SqlStore;
using storage::sql::Connection;
using storage::sql::Dialect;

constexpr int kMinIterations = 30;

struct Options {
  std::string db;
  CatalogShape shape;
  int iterations = 200;
  int warmup = 20;
  double budget_s = 15;
  bool reuse = false;
  bool load_only = false;  // load the catalogue (user "bench") and stop: for the HTTP bench
  std::string json_path, markdown_path, title;
};

// One measured query: `run(i)` makes the i-th call (inputs vary with i) and returns a short
// description of its result for the report.
struct Case {
  std::string name;
  std::string label;
  double target_ms;
  std::function<Result<std::string>(int)> run;
};

struct Measured {
  const Case* c = nullptr;
  std::string result;  // from the first timed call
  std::size_t statements = 0;
  int iterations = 0;
  Stats store, layer, shell;
  bool shell_has_p50 = false;
  std::string shell_tool;
};

Result<Measured> Measure(const Case& c, RecordingDatabase& rec, const Options& o) {
  Measured m;
  m.c = &c;
  // Every call is recorded (warm-up calls too: they warm the shell up later). Copying the
  // statements costs well under a microsecond per call, inside the timed region.
  // A slow query gets fewer timed calls, so that each of the three passes takes about
  // --budget-s, but never fewer than kMinIterations.
  std::vector<std::vector<RecordedStatement>> calls;
  std::vector<double> store_ms;
  double warmup_ms = 0;
  int iterations = o.iterations;
  for (int i = -o.warmup; i < iterations; ++i) {
    rec.Start();
    auto start = Clock::now();
    PV_ASSIGN_OR_RETURN(std::string result, c.run(i < 0 ? i + o.warmup : i));
    const double ms = MsSince(start);
    calls.push_back(rec.Stop());
    if (i < 0) warmup_ms += ms;
    if (i == -1) {
      const double per_call = warmup_ms / o.warmup;
      const double affordable = o.budget_s * 1000 / std::max(per_call, 1e-3);
      iterations = std::clamp(static_cast<int>(affordable), std::min(kMinIterations, o.iterations),
                              o.iterations);
    }
    if (i >= 0) store_ms.push_back(ms);
    if (i == 0) m.result = result;
  }
  m.iterations = iterations;
  m.store = Summarize(store_ms);
  m.statements = calls.back().size();
  std::vector<double> layer_ms;
  for (std::size_t i = static_cast<std::size_t>(o.warmup); i < calls.size(); ++i) {
    auto start = Clock::now();
    Status replayed = rec.Read([&](Connection& conn) -> Status {
      for (const auto& s : calls[i]) PV_RETURN_IF_ERROR(conn.Query(s.sql, s.params));
      return Ok();
    });
    if (!replayed) return Fail(replayed.error());
    layer_ms.push_back(MsSince(start));
  }
  m.layer = Summarize(layer_ms);
  Iterations literal;
  for (const auto& call : calls) {
    std::vector<std::string> stmts;
    for (const auto& s : call) {
      PV_ASSIGN_OR_RETURN(std::string text, InlineParameters(s.sql, s.params, rec.dialect()));
      stmts.push_back(std::move(text));
    }
    literal.push_back(std::move(stmts));
  }
  if (rec.dialect() == Dialect::kSqlite) {
    std::string path = o.db.substr(std::string_view("sqlite://").size());
    Iterations measured(literal.begin() + o.warmup, literal.end());
    PV_ASSIGN_OR_RETURN(ShellTiming t, TimeSqliteShell(path, measured, 3));
    m.shell.mean = t.mean_ms;
    m.shell_tool = t.tool;
  } else {
    PV_ASSIGN_OR_RETURN(ShellTiming t, TimePsql(o.db, literal));
    std::vector<double> kept(t.per_iteration_ms.begin() + o.warmup, t.per_iteration_ms.end());
    m.shell = Summarize(kept);
    m.shell_has_p50 = true;
    m.shell_tool = t.tool;
  }
  return m;
}

void WriteReport(const Options& o, const CatalogInfo& info, double load_s,
                 const std::vector<Measured>& results) {
  const bool pg = !results.empty() && results[0].shell_has_p50;
  const std::string tool = results.empty() ? "" : results[0].shell_tool;
  std::ostringstream md;
  md << "### " << (o.title.empty() ? o.db : o.title) << "\n\n"
     << Thousands(info.assets) << " assets, " << Thousands(info.tags) << " tag rows, "
     << Thousands(info.edges) << " lineage edges"
     << (load_s > 0 ? ", loaded in " + Fixed(load_s, 1) + " s" : std::string(" (reused)"))
     << ". Up to " << o.iterations << " timed calls per query (fewer for slow queries, so a "
     << "pass takes about " << Fixed(o.budget_s, 0) << " s; the count is in each row) after "
     << o.warmup << " warm-up calls; times in ms.\n\n"
     << "| Query | pixvault p50 | pixvault p95 | pixvault mean | same SQL via sql layer, p50 | `"
     << tool << "`, " << (pg ? "p50" : "mean") << " | ratio pixvault / `" << tool << "` ("
     << (pg ? "p50" : "mean") << ") | target (p50) | result |\n"
     << "|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& m : results) {
    const double mine = pg ? m.store.p50 : m.store.mean;
    const double ref = pg ? m.shell.p50 : m.shell.mean;
    md << "| " << m.c->label << " (" << m.result << "; " << m.statements << " statements; "
       << m.iterations << " calls) | " << Fixed(m.store.p50, 3) << " | " << Fixed(m.store.p95, 3)
       << " | " << Fixed(m.store.mean, 3) << " | " << Fixed(m.layer.p50, 3) << " | "
       << Fixed(ref, 3) << " | " << (ref > 0 ? Fixed(mine / ref) + "x" : "n/a")
       << " | <= " << Fixed(m.c->target_ms, 0) << " | "
       << (m.store.p50 <= m.c->target_ms ? "PASS" : "**FAIL**") << " |\n";
  }
  md << "\n";
  if (!pg) {
    md << "The sqlite3 shell reports only milliseconds per statement, so its figure is the mean "
          "over one session running all calls (minus an empty session), and the ratio compares "
          "means (pixvault mean / sqlite3 mean).\n\n";
  }
  std::cout << md.str();
  if (!o.markdown_path.empty()) std::ofstream(o.markdown_path) << md.str();
  if (!o.json_path.empty()) {
    std::ofstream j(o.json_path);
    j << "{\"db\":\"" << (pg ? "postgresql" : "sqlite") << "\",\"assets\":" << info.assets
      << ",\"tags\":" << info.tags << ",\"edges\":" << info.edges << ",\"load_s\":" << load_s
      << ",\"iterations\":" << o.iterations << ",\"queries\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& m = results[i];
      j << (i ? "," : "") << "{\"name\":\"" << m.c->name << "\",\"target_ms\":" << m.c->target_ms
        << ",\"iterations\":" << m.iterations << ",\"store\":{\"p50\":" << m.store.p50
        << ",\"p95\":" << m.store.p95 << ",\"mean\":" << m.store.mean
        << "},\"sql_layer\":{\"p50\":" << m.layer.p50 << ",\"mean\":" << m.layer.mean << "},\""
        << m.shell_tool
        << "\":{\"p50\":" << (m.shell_has_p50 ? std::to_string(m.shell.p50) : "null")
        << ",\"mean\":" << m.shell.mean
        << "},\"pass\":" << (m.store.p50 <= m.c->target_ms ? "true" : "false") << "}";
    }
    j << "]}\n";
  }
}

Status Main(const Options& o) {
  SystemClock clock;
  PV_ASSIGN_OR_RETURN(auto setup_db, storage::sql::OpenDatabase(o.db));
  {
    storage::Migrator migrator(*setup_db, clock);
    PV_RETURN_IF_ERROR(migrator.Upgrade());
  }
  SqlStore setup(std::move(setup_db), clock);
  double load_s = 0;
  auto existing = setup.GetUserByName("bench");
  User user;
  if (existing) {
    if (!o.reuse) {
      return Fail(ErrorCode::kAlreadyExists,
                  "the database already holds a bench catalogue; use a fresh one or --reuse");
    }
    user = *existing;
  } else {
    PV_ASSIGN_OR_RETURN(user, setup.CreateUser(User{0, "bench", false, false, 0}));
    std::cerr << "store_bench: loading " << o.shape.assets << " assets, " << o.shape.edges
              << " edges into " << o.db << "\n";
    auto start = Clock::now();
    PV_RETURN_IF_ERROR(LoadCatalog(setup.database(), user.id, o.shape, [&](const std::string& s) {
      std::cerr << "store_bench:   " << s << " (" << Fixed(MsSince(start) / 1000, 1) << " s)\n";
    }));
    load_s = MsSince(start) / 1000;
  }
  PV_ASSIGN_OR_RETURN(CatalogInfo info, InspectCatalog(setup.database(), user.id));
  if (o.load_only) {
    std::cout << "{\"user_id\":" << user.id << ",\"first_id\":" << info.first_id
              << ",\"assets\":" << info.assets << ",\"edges\":" << info.edges << "}\n";
    return Ok();
  }

  // A fresh store for measuring, so every connection sees the statistics just gathered.
  PV_ASSIGN_OR_RETURN(auto db, storage::sql::OpenDatabase(o.db));
  auto owned = std::make_unique<RecordingDatabase>(std::move(db));
  RecordingDatabase& rec = *owned;
  SqlStore store(std::move(owned), clock);
  // Lists run as the owner without adult content (the stricter, common filter); lineage as
  // the same owner with adult content on, so the whole depth-50 chain is visible.
  const Viewer viewer = Viewer::For(user);
  const Viewer graph_viewer{user.id, false, true};
  const std::int64_t mid_id = info.first_id + info.assets / 2;
  PV_ASSIGN_OR_RETURN(Asset mid, store.GetAsset(viewer, mid_id));
  const std::string deep_cursor = storage::internal::EncodeCursor(mid.created_at, mid.id);

  auto page = [&](AssetFilter f, bool deep) -> Result<std::string> {
    PageRequest req{50, deep ? std::optional(deep_cursor) : std::nullopt};
    PV_ASSIGN_OR_RETURN(auto p, store.ListAssets(viewer, f, req));
    // Every filter here matches many assets: an empty page means the synthetic rows no
    // longer fit the schema (e.g. a new column the store relies on) and the timing would
    // measure nothing.
    if (p.items.empty()) return Fail(ErrorCode::kInternal, "the page came back empty");
    return std::to_string(p.items.size()) + " rows";
  };
  auto by_category = [&](int i) {
    AssetFilter f;
    f.content_category = "cat" + std::to_string(i % o.shape.categories);
    f.content_rating = ContentRating::kMature;
    return f;
  };
  auto by_tag = [&](int i) {
    AssetFilter f;
    f.tags = {"tag" + std::to_string((i * 7) % o.shape.tag_count)};
    return f;
  };
  const std::int64_t full_chains = info.assets / kChainLength;
  const std::int64_t tips = std::clamp<std::int64_t>(full_chains - 1, 1, 200);
  auto walk = [&](int i) -> Result<std::string> {
    const std::int64_t chain = std::max<std::int64_t>(0, full_chains - 1 - i % tips);
    const AssetId tip = info.first_id + chain * kChainLength + kChainLength - 1;
    PV_ASSIGN_OR_RETURN(auto edges,
                        store.WalkLineage(graph_viewer, tip, LineageDirection::kAncestors, 50));
    std::int64_t depth = 0;
    for (const auto& e : edges) depth = std::max(depth, e.depth);
    if (depth != 50) {
      return Fail(ErrorCode::kInternal,
                  "expected ancestors down to depth 50, got " + std::to_string(depth));
    }
    return std::to_string(edges.size()) + " edges, max depth " + std::to_string(depth);
  };
  const std::vector<Case> cases = {
      {"category_rating_first", "page of 50 by category + rating, first page", 2,
       [&](int i) { return page(by_category(i), false); }},
      {"category_rating_deep", "page of 50 by category + rating, cursor mid-catalogue", 2,
       [&](int i) { return page(by_category(i), true); }},
      {"tag_first", "page of 50 by one tag, first page", 5,
       [&](int i) { return page(by_tag(i), false); }},
      {"tag_deep", "page of 50 by one tag, cursor mid-catalogue", 5,
       [&](int i) { return page(by_tag(i), true); }},
      {"lineage_ancestors_50", "lineage ancestors to depth 50", 10, walk},
  };
  std::vector<Measured> results;
  for (const auto& c : cases) {
    std::cerr << "store_bench: measuring " << c.name << "\n";
    PV_ASSIGN_OR_RETURN(Measured m, Measure(c, rec, o));
    results.push_back(std::move(m));
  }
  WriteReport(o, info, load_s, results);
  return Ok();
}

}  // namespace
}  // namespace pixvault::bench

int main(int argc, char** argv) {
  using pixvault::bench::Options;
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "store_bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--db")
      o.db = value();
    else if (a == "--assets")
      o.shape.assets = std::stoll(value());
    else if (a == "--edges")
      o.shape.edges = std::stoll(value());
    else if (a == "--iterations")
      o.iterations = std::stoi(value());
    else if (a == "--warmup")
      o.warmup = std::stoi(value());
    else if (a == "--budget-s")
      o.budget_s = std::stod(value());
    else if (a == "--reuse")
      o.reuse = true;
    else if (a == "--load-only")
      o.load_only = true;
    else if (a == "--json")
      o.json_path = value();
    else if (a == "--markdown")
      o.markdown_path = value();
    else if (a == "--title")
      o.title = value();
    else {
      std::cerr
          << "usage: store_bench --db URL [--assets N] [--edges N] [--iterations N] "
             "[--warmup N] [--budget-s S] [--reuse] [--load-only] [--json FILE] [--markdown FILE] "
             "[--title TEXT]\n";
      return 2;
    }
  }
  if (o.db.empty() || o.iterations < 1 || o.warmup < 0 ||
      o.shape.assets < 2 * pixvault::bench::kChainLength) {
    std::cerr << "store_bench: --db is required; --iterations >= 1; --assets >= 102\n";
    return 2;
  }
  auto st = pixvault::bench::Main(o);
  if (!st) {
    std::cerr << "store_bench: " << st.error().message << "\n";
    return 1;
  }
  return 0;
}
